"""vault.documents called directly (no HTTP), on SQLite and PostgreSQL with the local store.

Threat model: a signed-in person guesses or learns the id of another person's paper. Every service
that takes a document id must refuse it exactly as it refuses an id that does not exist (same error,
same words, same details), before doing anything, and leave no trace in either person's vault.
"""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.factories import build_services, make_document, make_person, make_staff, pdf_file, photo_file, read_all
from vault import documents
from vault.errors import DocumentNotFound, NotAllowed, QuotaExceeded, UnknownDocumentKind, UnsupportedFile
from vault.events import list_events_for, verify_chain
from vault.media import UploadedFile
from vault.models import Document, Event
from vault.settings import Limits


@pytest.fixture
def services(settings, clock):
    built = build_services(settings, clock)
    yield built
    built.close()


def counts(services) -> tuple[int, int, int]:
    """(document rows, event rows, blobs in the store)."""
    with services.session_factory() as session:
        rows = session.scalar(select(func.count()).select_from(Document))
        events = session.scalar(select(func.count()).select_from(Event))
    return rows, events, len(list(services.store.list("")))


def test_a_paper_goes_in_and_comes_back_out(services):
    amina = make_person(services, "amina")
    added = make_document(services, amina, kind="passeport", title="  Mon   passeport ",
                          files=[photo_file((10, 150, 90), image_format="PNG")], expires_on=date(2031, 5, 1))
    assert (added.kind, added.title, added.pages, added.expires_on) == ("passeport", "Mon passeport", 1,
                                                                         date(2031, 5, 1))

    with services.transaction() as uow:
        current = services.current(uow.session, amina.token)
        listed = documents.list_documents(uow.session, current=current, keys=services.keys)
        assert [view.id for view in listed.items] == [added.id] and listed.next_cursor is None
        view, reader = documents.open_document_content(uow, current=current, document_id=added.id, now=services.now)
        content = read_all(reader)
        thumbnail = read_all(documents.open_document_thumbnail(uow, current=current, document_id=added.id))
    assert view == added and len(content) == added.size
    with Image.open(io.BytesIO(content)) as image:
        assert image.size == (160, 100) and image.getpixel((80, 80))[:3] == (10, 150, 90)
    with Image.open(io.BytesIO(thumbnail)) as image:
        assert image.format == "JPEG"
    with services.session_factory() as session:
        assert [event.action for event in list_events_for(session, subject_id=amina.id)] == [
            "document.downloaded", "document.uploaded", "signin.succeeded", "account.created"]
        assert verify_chain(session, amina.id)


def test_the_uploaded_bytes_are_let_go_once_cleaned_before_the_encrypted_copy_is_stored(services):
    """The original plaintext is not kept alive while its encrypted copy is stored: ``add_document``
    empties the list it was given and calls each file's ``release`` before the first blob is written."""
    amina = make_person(services, "amina")
    order: list[str] = []
    put = services.store.put

    def observed_put(name, stream):
        order.append("stored")
        return put(name, stream)

    services.store.put = observed_put
    original = photo_file()
    files = [UploadedFile(data=original.data, filename="recto.jpg", release=lambda: order.append("released"))]
    make_document(services, amina, files=files)
    assert files == []
    assert order[0] == "released" and order.count("released") == 1 and "stored" in order


def test_a_pdf_of_several_pages_keeps_its_pages(services):
    amina = make_person(services, "amina")
    added = make_document(services, amina, kind="attestation_caf", files=[pdf_file("CAF", pages=3)])
    assert (added.content_type, added.pages) == ("application/pdf", 3)


def test_changes_and_deletion_are_recorded_and_the_blobs_go(services):
    amina = make_person(services, "amina")
    added = make_document(services, amina)
    services.clock.advance(minutes=5)
    with services.transaction() as uow:
        current = services.current(uow.session, amina.token)
        changed = documents.update_document(uow.session, current=current, document_id=added.id,
                                            changes={"kind": "titre_sejour", "title": "Récépissé"}, now=services.now)
    assert (changed.kind, changed.title, changed.updated_at) == ("titre_sejour", "Récépissé", services.now)
    assert counts(services)[2] == 2  # the paper and its thumbnail, both encrypted

    with services.transaction() as uow:
        current = services.current(uow.session, amina.token)
        documents.delete_document(uow, current=current, document_id=added.id, now=services.now)
        assert len(list(services.store.list(""))) == 2  # blobs stay until the commit succeeds
    assert counts(services)[0] == 0 and counts(services)[2] == 0
    with services.session_factory() as session:
        actions = [event.action for event in list_events_for(session, subject_id=amina.id)]
        assert actions[:2] == ["document.deleted", "document.updated"]


def refusals(services, token: str, document_id: str) -> list[tuple[type, str, dict]]:
    """What each id-taking service answers for ``document_id``, each in its own rolled-back transaction."""
    calls = [
        lambda uow, current: documents.get_document(uow.session, current=current, document_id=document_id),
        lambda uow, current: documents.open_document_content(uow, current=current, document_id=document_id,
                                                             now=services.now),
        lambda uow, current: documents.open_document_thumbnail(uow, current=current, document_id=document_id),
        lambda uow, current: documents.update_document(uow.session, current=current, document_id=document_id,
                                                       changes={"title": "volé"}, now=services.now),
        # Authorisation comes before checking the change itself: a bad kind says nothing either.
        lambda uow, current: documents.update_document(uow.session, current=current, document_id=document_id,
                                                       changes={"kind": "grimoire"}, now=services.now),
        lambda uow, current: documents.delete_document(uow, current=current, document_id=document_id,
                                                       now=services.now),
    ]
    answers = []
    for call in calls:
        with pytest.raises(DocumentNotFound) as refused, services.transaction() as uow:
            call(uow, services.current(uow.session, token))
        answers.append((type(refused.value), str(refused.value), refused.value.details))
    return answers


def test_another_persons_paper_is_refused_exactly_like_a_missing_one(services):
    amina = make_person(services, "amina")
    karim = make_person(services, "karim")
    hers = make_document(services, amina, title="Passeport d'Amina")
    before = counts(services)

    for_hers = refusals(services, karim.token, hers.id)
    for_missing = refusals(services, karim.token, "8d3f5c1e-0000-4000-8000-000000000000")
    for_garbage = refusals(services, karim.token, "../../etc/passwd")
    assert for_hers == for_missing == for_garbage
    assert counts(services) == before  # nothing recorded, nothing changed, nothing deleted
    with services.transaction() as uow:
        current = services.current(uow.session, amina.token)
        assert documents.get_document(uow.session, current=current, document_id=hers.id).title == "Passeport d'Amina"


def test_staff_have_no_vault_of_their_own(services):
    worker = make_staff(services, "travailleur")
    amina = make_person(services, "amina")
    hers = make_document(services, amina)
    with services.transaction() as uow:
        current = services.current(uow.session, worker.token)
        with pytest.raises(NotAllowed):
            documents.list_documents(uow.session, current=current, keys=services.keys)
        for kind in ("autre", "grimoire"):  # refused as staff first, whatever the kind
            with pytest.raises(NotAllowed):
                documents.add_document(uow, current=current, files=[photo_file()], kind=kind, title=None,
                                       expires_on=None, limits=services.settings.limits, now=services.now,
                                       gate=services.gates.media)
        with pytest.raises(NotAllowed):
            documents.get_document(uow.session, current=current, document_id=hers.id)
    assert counts(services)[0] == 1


@pytest.mark.parametrize("kind, files, error", [
    ("grimoire", [photo_file()], UnknownDocumentKind),
    ("autre", [UploadedFile(data=b"MZ\x90\x00" + b"\x00" * 100, filename="virus.jpg")], UnsupportedFile),
    ("autre", [photo_file(), UploadedFile(data=b"%PDF-1.7 broken", filename="b.pdf")], UnsupportedFile),
])
def test_refused_uploads_leave_nothing_behind(services, kind, files, error):
    amina = make_person(services, "amina")
    before = counts(services)
    with pytest.raises(error):
        make_document(services, amina, kind=kind, files=files)
    assert counts(services) == before


def test_over_quota_the_blobs_just_written_are_deleted(services):
    amina = make_person(services, "amina")
    first = make_document(services, amina)
    with services.session_factory() as session:
        used = documents.stored_bytes(session, amina.id)
    before = counts(services)
    tight = Limits(quota_bytes=used + 10)  # room for nothing more
    with pytest.raises(QuotaExceeded), services.transaction() as uow:
        current = services.current(uow.session, amina.token)
        documents.add_document(uow, current=current, files=[photo_file((0, 0, 255))], kind="autre", title=None,
                               expires_on=None, limits=tight, now=services.now + timedelta(seconds=1),
                               gate=services.gates.media)
    assert counts(services) == before
    assert first.id


def test_titles_are_sealed_to_the_owner(services):
    amina = make_person(services, "amina")
    added = make_document(services, amina, title="Carte Vitale de Amina")
    with services.session_factory() as session:
        row = session.get(Document, added.id)
        assert b"Amina" not in row.title_sealed and b"Amina" not in row.file_names_sealed
        assert row.title_sealed.startswith(b"age-encryption.org/v1")
