"""Issuing copies, the register, deletion requests and the public look-up, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from crypto.signing import SigningKey
from tests.factories import make_document, make_person, make_staff, pdf_file
from tests.vault.duplicate_papers import render_pages
from vault.duplicates import service
from vault.duplicates.statement import verify_statement
from vault.errors import (
    DeletionAlreadyAsked,
    DeletionNotAsked,
    DocumentNotFound,
    DuplicateNotFound,
    InvalidInput,
    NotAllowed,
    TooManyLookups,
)
from vault.i18n import Translator
from vault.models import Document, Duplicate, Event, Share
from vault.policies import actor_for
from vault.purposes import PurposeChoice
from vault.throttle import Attempt

WORDS = Translator.load().for_language("fr")
BASE_URL = "https://consigne.example"
CAF = PurposeChoice("caf_rsa")


def own_copy(services, person, document_id, purpose=CAF):
    with services.transaction() as uow:
        current = services.current(uow.session, person.token)
        return service.issue_own_duplicate(uow, current=current, document_id=document_id, purpose=purpose,
                                           now=services.now, signing=services.settings.signing_keys,
                                           base_url=BASE_URL, words=WORDS, gate=services.gates.media)


def make_share(services, person, worker, **changes) -> str:
    """A share row written directly (the shares package builds the service): only what duplicates read."""
    with services.transaction() as uow:
        share = Share(owner_id=person.id, grantee_id=worker.id, organisation_id=worker.organisation_id,
                      purpose_code="caf_rsa", created_at=services.now,
                      expires_at=services.now + timedelta(days=7), **changes)
        uow.session.add(share)
        uow.session.flush()
        return share.id


def worker_copy(services, worker, document_id, share_id, plaintext=None):
    with services.transaction() as uow:
        current = services.current(uow.session, worker.token)
        actor = actor_for(uow.session, current.account)
        document = uow.session.get(Document, document_id)
        share = uow.session.get(Share, share_id)
        return service.issue_duplicate(uow, actor=actor, plaintext=plaintext or pdf_file(pages=2).data,
                                       document=document, share=share, purpose=CAF,
                                       organisation_name="Accueil de jour Les Lilas", disposition="download",
                                       now=services.now, signing=services.settings.signing_keys, base_url=BASE_URL,
                                       words=WORDS, gate=services.gates.media)


def attempt(services, address="203.0.113.7"):
    return Attempt(throttle_sessions=services.session_factory, address=address)


def look_up(services, ref, address="203.0.113.7"):
    with services.transaction() as uow:
        return service.look_up(uow.session, keys=services.keys, attempt=attempt(services, address), ref=ref,
                               now=services.now)


def check(services, ref, data):
    with services.transaction() as uow:
        return service.check_copy(uow.session, keys=services.keys, attempt=attempt(services), ref=ref, data=data,
                                  now=services.now)


def events(services, action):
    with services.transaction() as uow:
        return list(uow.session.scalars(select(Event).where(Event.action == action).order_by(Event.sequence)))


def actor_of(services, uow, someone):
    return actor_for(uow.session, services.current(uow.session, someone.token).account)


def test_the_person_makes_their_own_copy_and_anyone_can_check_it(services):
    person = make_person(services, "amina")
    paper = make_document(services, person, files=[pdf_file(pages=2)], kind="avis_imposition")
    issued = own_copy(services, person, paper.id, PurposeChoice("other", "Pour mon propriétaire"))
    assert issued.pdf.startswith(b"%PDF") and issued.pages == 2
    assert len(issued.ref) == 19 and issued.ref.count("-") == 3
    public = look_up(services, issued.ref.lower().replace("-", " "))  # typed loosely, found all the same
    assert (public.ref, public.kind, public.status, public.organisation) == (
        issued.ref, "avis_imposition", "own_copy", None)
    assert public.purpose == PurposeChoice("other", "Pour mon propriétaire")
    assert check(services, issued.ref, issued.pdf) is True
    altered = bytearray(issued.pdf)
    altered[len(altered) // 2] ^= 1
    assert check(services, issued.ref, bytes(altered)) is False
    (event,) = events(services, "duplicate.issued")
    assert event.actor_id == event.subject_id == person.id and event.document_id == paper.id
    assert event.details == {"ref": issued.ref, "by_name": None, "organisation": None, "purpose": "other",
                             "purpose_text": "Pour mon propriétaire", "kind": "avis_imposition",
                             "disposition": "download"}
    # The QR code on each page verifies with the instance's published key, and not with another.
    for page in render_pages(issued.pdf):
        import zxingcpp

        (code,) = [c.text for c in zxingcpp.read_barcodes(page) if c.text.startswith(BASE_URL)]
        url, statement = code.split("#", 1)
        assert url == f"{BASE_URL}/verify/{issued.ref}"
        published = [key for key, _ in services.settings.signing_keys.public_keys()]
        assert verify_statement(statement, published).ref == issued.ref
        with pytest.raises(Exception):
            verify_statement(statement, [SigningKey.generate().verify_key])


def test_only_the_owner_copies_their_paper_and_a_refusal_says_not_found(services):
    person, stranger = make_person(services, "amina"), make_person(services, "bruno")
    worker = make_staff(services, "marie")
    paper = make_document(services, person)
    for someone in (stranger, worker):
        with pytest.raises(DocumentNotFound):
            own_copy(services, someone, paper.id)
    with pytest.raises(DocumentNotFound):
        own_copy(services, person, "00000000-0000-0000-0000-000000000000")
    assert events(services, "duplicate.issued") == []


def test_a_worker_copies_through_an_active_share_only(services, clock):
    person, other = make_person(services, "amina"), make_person(services, "bruno")
    worker = make_staff(services, "marie", organisation="Accueil de jour Les Lilas")
    colleague = make_staff(services, "paul", organisation_id=worker.organisation_id)
    paper = make_document(services, person)
    others_paper = make_document(services, other)
    share_id = make_share(services, person, worker)
    issued = worker_copy(services, worker, paper.id, share_id)
    assert look_up(services, issued.ref).status == "share_active"
    (event,) = events(services, "duplicate.issued")
    assert (event.actor_id, event.subject_id) == (worker.id, person.id)
    assert event.details["by_name"] == "marie" and event.details["organisation"] == "Accueil de jour Les Lilas"
    assert event.details["share_id"] == share_id and event.details["disposition"] == "download"
    with pytest.raises(DocumentNotFound):  # someone else's paper through this share
        worker_copy(services, worker, others_paper.id, share_id)
    with pytest.raises(DocumentNotFound):  # a colleague is not the grantee
        worker_copy(services, colleague, paper.id, share_id)
    with services.transaction() as uow:  # the share runs out (moving the clock would end the sessions)
        uow.session.get(Share, share_id).expires_at = services.now - timedelta(seconds=1)
    assert look_up(services, issued.ref).status == "share_expired"
    with pytest.raises(DocumentNotFound):
        worker_copy(services, worker, paper.id, share_id)
    with services.transaction() as uow:
        uow.session.get(Share, share_id).ended_at = services.now
    assert look_up(services, issued.ref).status == "share_ended"
    assert len(events(services, "duplicate.issued")) == 1


def test_the_register_and_a_deletion_request_with_its_answer(services):
    person, stranger = make_person(services, "amina"), make_person(services, "bruno")
    worker = make_staff(services, "marie", organisation="Accueil de jour Les Lilas")
    colleague = make_staff(services, "paul", organisation_id=worker.organisation_id)
    paper = make_document(services, person)
    share_id = make_share(services, person, worker)
    theirs = worker_copy(services, worker, paper.id, share_id)
    mine = own_copy(services, person, paper.id)
    with services.transaction() as uow:
        register = service.list_duplicates(uow.session, actor=actor_of(services, uow, person), now=services.now)
        assert [(e.ref, e.holder_name, e.organisation, e.status) for e in register] in (
            [(theirs.ref, "marie", "Accueil de jour Les Lilas", "share_active"), (mine.ref, None, None, "own_copy")],
            [(mine.ref, None, None, "own_copy"), (theirs.ref, "marie", "Accueil de jour Les Lilas", "share_active")])
        received = service.list_duplicates(uow.session, actor=actor_of(services, uow, worker), now=services.now)
        assert [entry.ref for entry in received] == [theirs.ref]
        for nobody in (stranger, colleague):
            assert service.list_duplicates(uow.session, actor=actor_of(services, uow, nobody), now=services.now) == []
    with services.transaction() as uow:
        with pytest.raises(NotAllowed):
            service.ask_deletion(uow.session, actor=actor_of(services, uow, person), ref=mine.ref, now=services.now)
        for nobody in (stranger, worker, colleague):
            with pytest.raises(DuplicateNotFound if nobody is not worker else NotAllowed):
                service.ask_deletion(uow.session, actor=actor_of(services, uow, nobody), ref=theirs.ref,
                                     now=services.now)
        with pytest.raises(DeletionNotAsked):  # nothing asked yet
            service.answer_deletion(uow.session, actor=actor_of(services, uow, worker), ref=theirs.ref,
                                    answer="deleted", now=services.now)
    with services.transaction() as uow:
        service.ask_deletion(uow.session, actor=actor_of(services, uow, person), ref=theirs.ref, now=services.now)
    with services.transaction() as uow:
        with pytest.raises(DeletionAlreadyAsked):
            service.ask_deletion(uow.session, actor=actor_of(services, uow, person), ref=theirs.ref, now=services.now)
        with pytest.raises(InvalidInput):
            service.answer_deletion(uow.session, actor=actor_of(services, uow, worker), ref=theirs.ref,
                                    answer="maybe", now=services.now)
        with pytest.raises(DuplicateNotFound):
            service.answer_deletion(uow.session, actor=actor_of(services, uow, colleague), ref=theirs.ref,
                                    answer="deleted", now=services.now)
    with services.transaction() as uow:
        service.answer_deletion(uow.session, actor=actor_of(services, uow, worker), ref=theirs.ref, answer="deleted",
                                now=services.now)
    with services.transaction() as uow:
        with pytest.raises(DeletionNotAsked):
            service.answer_deletion(uow.session, actor=actor_of(services, uow, worker), ref=theirs.ref,
                                    answer="kept", now=services.now)
        entry = next(e for e in service.list_duplicates(uow.session, actor=actor_of(services, uow, person),
                                                        now=services.now) if e.ref == theirs.ref)
        assert entry.deletion_answer == "deleted" and entry.deletion_requested_at is not None
    (asked,) = events(services, "duplicate.deletion_requested")
    assert (asked.actor_id, asked.subject_id) == (person.id, person.id)
    assert asked.details == {"ref": theirs.ref, "by_name": "marie", "organisation": "Accueil de jour Les Lilas"}
    (answered,) = events(services, "duplicate.deletion_answered")
    assert (answered.actor_id, answered.subject_id) == (worker.id, person.id)
    assert answered.details == {"ref": theirs.ref, "answer": "deleted", "by_name": "marie",
                                "organisation": "Accueil de jour Les Lilas"}


def test_two_answers_at_once_record_one(services):
    person = make_person(services, "amina")
    worker = make_staff(services, "marie")
    paper = make_document(services, person)
    issued = worker_copy(services, worker, paper.id, make_share(services, person, worker))
    with services.transaction() as uow:
        service.ask_deletion(uow.session, actor=actor_of(services, uow, person), ref=issued.ref, now=services.now)
    outcomes, start = [], threading.Barrier(2)

    def answer(word):
        start.wait()
        try:
            with services.transaction() as uow:
                service.answer_deletion(uow.session, actor=actor_of(services, uow, worker), ref=issued.ref,
                                        answer=word, now=services.now)
            outcomes.append(word)
        except DeletionNotAsked:
            outcomes.append("refused")
        except Exception as error:  # SQLite's single writer may say busy: a refusal all the same
            outcomes.append(f"error {type(error).__name__}")

    threads = [threading.Thread(target=answer, args=(word,)) for word in ("deleted", "kept")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcome in ("deleted", "kept") for outcome in outcomes) == [False, True], outcomes
    assert len(events(services, "duplicate.deletion_answered")) == 1
    with services.transaction() as uow:
        assert uow.session.get(Duplicate, issued.ref).deletion_answer in ("deleted", "kept")


def test_look_ups_are_limited_per_address_and_say_nothing_of_unknown_references(services, clock):
    person = make_person(services, "amina")
    issued = own_copy(services, person, make_document(services, person).id)
    for text in ("0000-0000-0000-0000", "not a reference", "", "ILOU-ILOU-ILOU-ILOU", issued.ref + "X"):
        with pytest.raises(DuplicateNotFound):
            look_up(services, text)
    for _ in range(40 - 5):
        look_up(services, issued.ref)
    with pytest.raises(TooManyLookups):
        look_up(services, issued.ref)
    with pytest.raises(TooManyLookups):
        check(services, issued.ref, issued.pdf)
    assert look_up(services, issued.ref, address="198.51.100.1").ref == issued.ref  # another address
    clock.advance(minutes=30)
    assert look_up(services, issued.ref).ref == issued.ref


class EndingGate:
    """The media gate, with the person ending the share (another transaction, committed) while it renders."""

    def __init__(self, services, share_id):
        self.services, self.share_id = services, share_id

    def run(self, function, *args, **kwargs):
        with self.services.transaction() as uow:
            uow.session.get(Share, self.share_id).ended_at = self.services.now
        return self.services.gates.media.run(function, *args, **kwargs)


def test_a_share_ended_while_the_copy_renders_gives_no_copy(services):
    person = make_person(services, "amina")
    worker = make_staff(services, "marie")
    paper = make_document(services, person)
    share_id = make_share(services, person, worker)
    with pytest.raises(DocumentNotFound):
        with services.transaction() as uow:
            current = services.current(uow.session, worker.token)
            service.issue_duplicate(uow, actor=actor_for(uow.session, current.account), plaintext=pdf_file().data,
                                    document=uow.session.get(Document, paper.id),
                                    share=uow.session.get(Share, share_id), purpose=CAF, organisation_name="Accueil",
                                    disposition="view", now=services.now, signing=services.settings.signing_keys,
                                    base_url=BASE_URL, words=WORDS, gate=EndingGate(services, share_id))
    assert events(services, "duplicate.issued") == []
    with services.transaction() as uow:
        assert uow.session.scalars(select(Duplicate)).all() == []


@pytest.mark.parametrize("plaintext", [b"", b"%PDF-1.7 garbage", b"GIF89a" + b"\0" * 64])
def test_a_paper_that_cannot_be_rendered_leaves_nothing_behind(services, plaintext):
    from vault.errors import UnsupportedFile

    person = make_person(services, "amina")
    worker = make_staff(services, "marie")
    paper = make_document(services, person)
    share_id = make_share(services, person, worker)
    with pytest.raises(UnsupportedFile):
        worker_copy(services, worker, paper.id, share_id, plaintext=plaintext or b"\0")
    assert events(services, "duplicate.issued") == []
