"""Export through the service, on SQLite and PostgreSQL, with the real blob store, age and the age tool.

The ZIP's papers are the stored plaintext byte for byte under safe, unique real names; the ``age``
export holds the stored ciphertext unchanged and the identity under the person's passphrase, and the
stock ``age`` tool opens both; both need the password, and a refusal changes nothing.
"""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile

import pytest
from sqlalchemy import func, select

from crypto import age
from tests.crypto.test_age_interop import run_with_terminal
from tests.factories import attempt_for, make_document, make_person, make_staff, pdf_file, photo_file, read_all
from tests.lanes import require_program
from tests.vault.test_shares_service import CAF, grant, register
from vault import documents
from vault.errors import InvalidInput, NotAllowed, WeakPassword, WrongPassword
from vault.export import prepare_export, safe_name
from vault.export_words import readme_text
from vault.i18n import Translator
from vault.models import Document, Event

PASSPHRASE = "riviere-bleue-soleil-42"


@pytest.fixture(scope="module")
def translator():
    return Translator.load()


@pytest.fixture
def vault(services):
    person = make_person(services, "amina")
    worker = make_staff(services, "marie", organisation="Les Lilas")
    register(services, worker.organisation_id, CAF)
    odd = dataclasses.replace(photo_file(), filename="../../etc/passwd")
    papers = []
    for kind, title, files in [
        ("carte_identite", "Ma carte", [pdf_file("Carte", pages=2)]),
        ("bulletin_salaire", None, [odd]),
        ("bulletin_salaire", None, [photo_file((10, 90, 200)), photo_file()]),
        ("carte_identite", None, [pdf_file("Autre")]),  # the same name as the first: made unique
    ]:
        services.clock.advance(seconds=1)  # the export lists papers oldest first
        papers.append(make_document(services, person, kind=kind, title=title, files=files))
    grant(services, person, "marie", [papers[0].id])
    return dict(person=person, worker=worker, papers=papers)


def export(services, translator, who, *, password=None, export_format="zip", passphrase=None, language="fr"):
    with services.transaction() as uow:
        current = services.current(uow.session, who.token)
        made = prepare_export(uow, current=current, keys=services.keys, attempt=attempt_for(services),
                              password=who.password if password is None else password, export_format=export_format,
                              passphrase=passphrase, words=translator.for_language(language), now=services.now)
    return made, b"".join(made.chunks(services.store))


def plaintext(services, who, document_id) -> bytes:
    with services.transaction() as uow:
        current = services.current(uow.session, who.token)
        _view, reader = documents.open_document_content(uow, current=current, document_id=document_id,
                                                       now=services.now)
        return read_all(reader)


def exports_recorded(services) -> list[dict]:
    with services.session_factory() as session:
        return list(session.scalars(select(Event.details).where(Event.action == "export.made")))


def test_zip_holds_each_paper_byte_for_byte_under_its_real_name(services, translator, vault):
    person, papers = vault["person"], vault["papers"]
    made, data = export(services, translator, person)
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    names = archive.namelist()
    assert names[0] == "README.txt" and names[-1] == "consigne.json"
    assert names[1:-1] == ["papers/attestation.pdf", "papers/passwd.jpg", "papers/bulletin_salaire.pdf",
                           "papers/attestation (2).pdf"]
    metadata = json.loads(archive.read("consigne.json"))
    by_id = {paper["id"]: paper for paper in metadata["papers"]}
    for paper in papers:
        entry = by_id[paper.id]
        # A paper of several photos is stored as one PDF (vault.media): that one file is what is exported.
        assert archive.read(entry["file"]) == plaintext(services, person, paper.id)
    assert by_id[papers[0].id]["title"] == "Ma carte" and by_id[papers[0].id]["pages"] == 2
    assert by_id[papers[1].id]["original_file_names"] == ["../../etc/passwd"]
    assert by_id[papers[2].id]["pages"] == 2 and by_id[papers[2].id]["content_type"] == "application/pdf"
    [share] = metadata["shares"]
    assert share["with"] == "marie" and share["organisation"] == "Les Lilas" and share["status"] == "active"
    assert share["papers"] == [papers[0].id]
    assert any(line["action"] == "share.granted" for line in metadata["activity"])
    assert all(line["sentence"] for line in metadata["activity"])
    # In the person's language (the French catalogue gets these messages when the branch is merged).
    assert archive.read("README.txt").decode() == readme_text(translator.for_language("fr"), "zip")
    assert made.file_name.startswith("consigne-") and "amina" not in made.file_name
    assert exports_recorded(services) == [{"format": "zip", "documents": 4}]


def test_zip_streams_without_seeking(services, translator, vault):
    """Each chunk is drained as it is written: no chunk holds a whole paper twice over."""
    made, _data = export(services, translator, vault["person"])
    chunks = list(made.chunks(services.store))
    largest_paper = max(paper.size for paper in vault["papers"])
    assert len(chunks) > len(vault["papers"])
    assert max(len(chunk) for chunk in chunks) <= max(64 * 1024, largest_paper) + 4096


@pytest.mark.parametrize(("original", "expected"), [
    ("../../etc/passwd", "passwd.pdf"),
    ("..\\..\\windows\\win.ini", "win.pdf"),
    ("..", "carte_identite.pdf"),
    ("", "carte_identite.pdf"),
    (".hidden.jpg", "hidden.pdf"),
    ("CON.jpg", "carte_identite.pdf"),
    ("a\x00b:c*?.jpeg", "a_b_c__.pdf"),
    ("photo.heic", "photo.pdf"),
    ("x" * 300 + ".jpg", "x" * 80 + ".pdf"),
])
def test_safe_names(original, expected):
    assert safe_name(original, fallback="carte_identite", extension="pdf", taken=set()) == expected


def test_safe_names_are_unique_whatever_the_case():
    taken: set[str] = set()
    made = [safe_name(name, fallback="k", extension="pdf", taken=taken) for name in ("Carte", "carte", "CARTE")]
    assert made == ["Carte.pdf", "carte (2).pdf", "CARTE (3).pdf"]


def test_age_export_holds_the_stored_ciphertext_and_a_passphrase_identity(services, translator, vault):
    person, papers = vault["person"], vault["papers"]
    made, data = export(services, translator, person, export_format="age", passphrase=PASSPHRASE)
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = archive.namelist()
    assert names[:2] == ["README.txt", "identity.age"] and names[-1] == "consigne.json.age"
    identity_text = age.decrypt_bytes(archive.read("identity.age"), passphrase=PASSPHRASE).decode()
    identity = age.X25519Identity.from_string(identity_text.strip().splitlines()[-1])
    metadata = json.loads(age.decrypt_bytes(archive.read("consigne.json.age"), identities=[identity]))
    with services.session_factory() as session:
        stored = {document.id: document.blob_name for document in session.scalars(select(Document))}
    for entry in metadata["papers"]:
        with services.store.open(stored[entry["id"]]) as reader:
            assert archive.read(entry["file"]) == reader.read()  # as stored: nothing decrypted
        assert entry["file"].endswith(".age") and "passwd" not in entry["file"]
    assert {entry["id"] for entry in metadata["papers"]} == {paper.id for paper in papers}
    assert exports_recorded(services) == [{"format": "age", "documents": 4}]
    assert b"AGE-SECRET-KEY" not in data and "Ma carte".encode() not in data


def test_the_age_tool_opens_the_export_with_the_passphrase(services, translator, vault, tmp_path):
    age_tool = require_program("age", "age")
    person, paper = vault["person"], vault["papers"][0]
    _made, data = export(services, translator, person, export_format="age", passphrase=PASSPHRASE)
    zipfile.ZipFile(io.BytesIO(data)).extractall(tmp_path)
    [entry] = [name for name in zipfile.ZipFile(io.BytesIO(data)).namelist() if name.startswith("papers/001-")]
    # As the README says: the passphrase-protected identity directly…
    status, transcript = run_with_terminal([age_tool, "-d", "-i", str(tmp_path / "identity.age"), "-o",
                                            str(tmp_path / "direct.pdf"), str(tmp_path / entry)], [PASSPHRASE])
    assert status == 0, transcript
    assert (tmp_path / "direct.pdf").read_bytes() == plaintext(services, person, paper.id)
    # …or written out once, then used without the passphrase.
    status, transcript = run_with_terminal([age_tool, "-d", "-o", str(tmp_path / "identity.txt"),
                                            str(tmp_path / "identity.age")], [PASSPHRASE])
    assert status == 0, transcript
    import subprocess

    subprocess.run([age_tool, "-d", "-i", str(tmp_path / "identity.txt"), "-o", str(tmp_path / "out.pdf"),
                    str(tmp_path / entry)], check=True, timeout=30)
    assert (tmp_path / "out.pdf").read_bytes() == plaintext(services, person, paper.id)
    status, _ = run_with_terminal([age_tool, "-d", "-o", str(tmp_path / "wrong.txt"), str(tmp_path / "identity.age")],
                                  ["not-the-passphrase"])
    assert status != 0


@pytest.mark.parametrize(("changes", "error"), [
    (dict(password="not-my-password-at-all"), WrongPassword),
    (dict(export_format="tar"), InvalidInput),
    (dict(export_format="age"), InvalidInput),  # no passphrase
    (dict(export_format="age", passphrase="short"), WeakPassword),
    (dict(export_format="age", passphrase="amina-amina-amina"), WeakPassword),  # holds the username
    (dict(export_format="age", passphrase="x" * 257), WeakPassword),
    (dict(export_format="zip", passphrase=PASSPHRASE), InvalidInput),
])
def test_refusals_change_nothing(services, translator, vault, changes, error):
    with pytest.raises(error):
        export(services, translator, vault["person"], **changes)
    assert exports_recorded(services) == []


def test_staff_have_nothing_to_export(services, translator, vault):
    with pytest.raises(NotAllowed):
        export(services, translator, vault["worker"])
    with services.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Event).where(Event.action == "export.made")) == 0
