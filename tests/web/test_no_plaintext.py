"""A copy of the database and of the storage taken after uploads holds no plaintext.

Searched for: slices of every paper's exact plaintext (as served back to its owner), of its thumbnail,
its title and its original file name. Run on SQLite and PostgreSQL, on the local store and on S3.
"""

from __future__ import annotations

import pytest
from sqlalchemy import MetaData, create_engine, select

from tests.vault import media_samples as samples
from web.app import create_app

TITLE = "Titre de séjour de Zaïnab — rendez-vous préfecture"
FILE_NAME = "zainab-titre-sejour-recto.jpg"
SLICE = 24


def database_copy(url: str) -> bytes:
    """Every value of every table, as bytes (what a stolen dump would hold)."""
    engine = create_engine(url)
    metadata = MetaData()
    metadata.reflect(engine)
    parts = []
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)):
                for value in row:
                    parts.append(value if isinstance(value, bytes) else str(value).encode())
    engine.dispose()
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        for suffix in ("", "-wal"):
            try:
                with open(path + suffix, "rb") as handle:
                    parts.append(handle.read())
            except FileNotFoundError:
                pass
    return b"\n".join(parts)


def storage_copy(store) -> bytes:
    parts = []
    for name in store.list(""):
        parts.append(name.encode())
        with store.open(name) as reader:
            parts.append(reader.read())
    return b"\n".join(parts)


def slices(data: bytes) -> list[bytes]:
    """Distinctive pieces of a plaintext (runs of zeros or padding would match any file by chance)."""
    step = max(len(data) // 200, 1)
    pieces = [data[offset:offset + SLICE] for offset in range(0, max(len(data) - SLICE, 1), step)]
    distinctive = [piece for piece in pieces if len(set(piece)) >= 12]
    assert len(distinctive) >= 10
    return distinctive


@pytest.fixture(params=["local", "s3-moto"])
def store_app(request, settings, clock):
    if request.param == "local":
        return create_app(settings, clock=clock)
    from storage.s3 import S3BlobStore

    endpoint = request.getfixturevalue("moto_s3")
    store = S3BlobStore(endpoint.endpoint, endpoint.access_key, endpoint.secret_key, "consigne-plaintext-test",
                        region=endpoint.region)
    return create_app(settings, clock=clock, store=store)


def test_no_plaintext_in_database_or_storage(store_app, settings):
    from tests.web.conftest import Api

    client = store_app.test_client()
    api = Api(client, store_app)
    person = api.person("zainab")
    uploads = [
        ([(samples.jpeg_with_gps(), FILE_NAME)], "titre_sejour"),
        ([(samples.pdf_bytes(pages=3), "avis-impot-2026.pdf")], "avis_imposition"),
        ([(samples.png_bytes(), "rib-zainab.png"), (samples.jpeg_with_gps(), "rib-page2.jpg")], "rib"),
    ]
    plaintexts = []
    for files, kind in uploads:
        created = api.upload(person, files, kind=kind, title=TITLE)
        assert created.status_code == 201, created.get_json()
        document_id = created.get_json()["id"]
        for path in ("content", "thumbnail"):
            plaintexts.append(client.get(f"/api/v1/documents/{document_id}/{path}", headers=person.auth).data)

    copies = database_copy(settings.database_url) + storage_copy(store_app.extensions["consigne"].store)
    needles = [TITLE.encode(), FILE_NAME.encode(), b"avis-impot-2026", b"rib-zainab", person.password.encode()]
    needles += [code.encode() for code in person.recovery_codes]
    needles += [person.token.encode()[-20:]]
    for plaintext in plaintexts:
        assert len(plaintext) > 1000
        needles += slices(plaintext)
    found = [needle for needle in needles if needle in copies]
    assert found == []
