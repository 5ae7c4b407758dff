"""POST /api/v1/me/export and DELETE /api/v1/me through HTTP, on both databases: the contract, the
password, the answers a worker gets once the locker is closed."""

from __future__ import annotations

import io
import json
import zipfile

from sqlalchemy import select

from crypto import age
from tests.web.test_shares_api import share_body, world  # noqa: F401 - the fixture
from vault.models import Account, Document


def export(client, world, **body):
    body = {"password": world.people["owner"].password, "format": "zip"} | body
    return client.post("/api/v1/me/export", json=body, headers=world.headers("owner"))


def test_export_zip_is_a_download_of_every_paper(client, world):
    response = export(client, world)
    assert response.status_code == 200, response.data[:300]
    assert response.mimetype == "application/zip"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="consigne-') and "amina" not in disposition
    assert response.headers["Cache-Control"] == "no-store"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    metadata = json.loads(archive.read("consigne.json"))
    [paper] = metadata["papers"]
    served = client.get(f"/api/v1/documents/{world.card.id}/content", headers=world.headers("owner")).data
    assert archive.read(paper["file"]) == served and paper["title"] == "Ma carte"


def test_export_age_keeps_the_papers_encrypted(client, world):
    response = export(client, world, format="age", passphrase="riviere-bleue-soleil-42")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    identity_text = age.decrypt_bytes(archive.read("identity.age"), passphrase="riviere-bleue-soleil-42").decode()
    identity = age.X25519Identity.from_string(identity_text.strip().splitlines()[-1])
    [paper] = [name for name in archive.namelist() if name.startswith("papers/")]
    served = client.get(f"/api/v1/documents/{world.card.id}/content", headers=world.headers("owner")).data
    assert age.decrypt_bytes(archive.read(paper), identities=[identity]) == served


def test_export_refusals(client, world):
    wrong = export(client, world, password="pas-le-bon-mot-de-passe")
    assert wrong.status_code == 403 and wrong.get_json()["code"] == "wrong_password"
    no_passphrase = export(client, world, format="age")
    assert no_passphrase.status_code == 422 and no_passphrase.get_json()["field"] == "passphrase"
    weak = export(client, world, format="age", passphrase="1234")
    assert weak.status_code == 422 and weak.get_json()["code"] == "weak_password"
    assert export(client, world, format="tar").status_code == 422
    assert export(client, world, format="zip", extra=1).status_code == 422
    assert client.post("/api/v1/me/export", json={"password": "x", "format": "zip"}).status_code == 401
    staff = client.post("/api/v1/me/export", json={"password": world.people["grantee"].password, "format": "zip"},
                        headers=world.headers("grantee"))
    assert staff.status_code == 403


def test_closing_the_locker(client, world):
    share = client.post("/api/v1/shares", json=share_body(world), headers=world.headers("owner")).get_json()
    owner = world.people["owner"]
    wrong = client.delete("/api/v1/me", json={"password": "pas-le-bon-mot-de-passe"}, headers=world.headers("owner"))
    assert wrong.status_code == 403
    assert client.get("/api/v1/me", headers=world.headers("owner")).status_code == 200

    closed = client.delete("/api/v1/me", json={"password": owner.password}, headers=world.headers("owner"))
    assert closed.status_code == 204 and closed.data == b""
    assert client.get("/api/v1/me", headers=world.headers("owner")).status_code == 401
    again = client.delete("/api/v1/me", json={"password": owner.password}, headers=world.headers("owner"))
    assert again.status_code == 401
    signing_in = client.post("/api/v1/sessions", json={"username": "amina", "password": owner.password})
    assert signing_in.status_code == 401
    with world.services.session_factory() as session:
        assert session.get(Account, owner.id) is None
        assert session.scalars(select(Document).where(Document.owner_id == owner.id)).all() == []

    # The worker is told, in their language; nobody else learns the share existed.
    told = client.get(f"/api/v1/shares/{share['id']}", headers=world.headers("grantee") | {"Accept-Language": "fr"})
    assert told.status_code == 410 and told.get_json()["code"] == "vault_closed"
    assert told.headers["Content-Language"] == "fr"
    paper = client.get(f"/api/v1/shares/{share['id']}/documents/{world.card.id}/content",
                       headers=world.headers("grantee"))
    assert paper.status_code == 410
    assert client.get(f"/api/v1/shares/{share['id']}", headers=world.headers("colleague")).status_code == 404


def test_closing_needs_the_body_and_a_person(client, world):
    assert client.delete("/api/v1/me", headers=world.headers("owner")).status_code == 415
    assert client.delete("/api/v1/me", json={}, headers=world.headers("owner")).status_code == 422
    staff = client.delete("/api/v1/me", json={"password": world.people["grantee"].password},
                          headers=world.headers("grantee"))
    assert staff.status_code == 403


def test_export_writes_nothing_to_disk(client, world, tmp_path, monkeypatch):
    """No temporary file (Python's tempfile folder stays empty) and no slice of the paper in the data folder."""
    import tempfile
    from pathlib import Path

    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    served = client.get(f"/api/v1/documents/{world.card.id}/content", headers=world.headers("owner")).data
    response = export(client, world)
    assert response.status_code == 200 and served in response.data
    assert list(spool.iterdir()) == []
    data_dir = Path(world.services.settings.data_dir)
    slices = [served[start:start + 24] for start in range(0, len(served) - 24, max(1, len(served) // 8))]
    for path in data_dir.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert not any(piece in content for piece in slices), path
