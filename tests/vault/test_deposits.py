"""Deposits: a worker adds a paper to a following person's vault, and cannot read it back.

Through the real services on SQLite and PostgreSQL, with the real blob store; the stock ``age`` tool
decrypts the stored blob with the person's identity.
"""

from __future__ import annotations

import subprocess
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import func, select

from crypto import age
from crypto.errors import CryptoError
from tests.factories import (
    current_otp,
    make_document,
    make_follow,
    make_person,
    make_staff,
    pdf_file,
    photo_file,
    read_all,
    sign_in,
)
from tests.lanes import require_program
from vault import documents
from vault.deposits import deposit_document
from vault.errors import NotAllowed, PersonNotFound, QuotaExceeded, SessionExpired, UnknownDocumentKind
from vault.keys import unseal_identity_with_password
from vault.models import Account, Document, Event, Follow, Membership


def deposit(services, staff, username, *, files=None, kind="attestation_domiciliation", title=None,
            expires_on=None):
    with services.transaction() as uow:
        current = services.current(uow.session, staff.token)
        return deposit_document(uow, current=current, username=username, files=files or [pdf_file("Attestation")],
                                kind=kind, title=title, expires_on=expires_on, limits=services.settings.limits,
                                now=services.now, gate=services.gates.media)


def named_worker(services, username="marie", organisation="Accueil de jour Les Lilas", **options):
    staff = make_staff(services, username, organisation=organisation, **options)
    with services.transaction() as uow:
        uow.session.get(Account, staff.id).display_name = "Marie L."
    return staff


def identity_of(services, person):
    with services.session_factory() as session:
        account = session.get(Account, person.id)
        return unseal_identity_with_password(services.keys, account.id, account.password_sealed_identity,
                                             person.password)


def counts(services):
    with services.session_factory() as session:
        return (session.scalar(select(func.count()).select_from(Document)),
                session.scalar(select(func.count()).select_from(Event).where(Event.action == "document.deposited")),
                sorted(services.store.list("")))


def test_a_deposited_paper_is_the_persons_and_says_who_added_it(services):
    marie = named_worker(services)
    amina = make_person(services, "amina")
    make_follow(services, amina, marie.organisation_id)

    receipt = deposit(services, marie, "Amina", kind="attestation_domiciliation", title="Attestation de mai",
                      expires_on=date(2027, 5, 1))

    # The worker is told what they brought and what the server counted, never the title back
    assert receipt.kind == "attestation_domiciliation" and receipt.pages == 1
    assert not hasattr(receipt, "title")
    with services.session_factory() as session:
        row = session.get(Document, receipt.id)
        assert row.owner_id == amina.id and row.deposited_by_id == marie.id
        event = session.scalars(select(Event).where(Event.document_id == receipt.id)).one()
        assert (event.action, event.actor_id, event.subject_id) == ("document.deposited", marie.id, amina.id)
        assert event.details == {"by_name": "Marie L.", "organisation": "Accueil de jour Les Lilas",
                                 "kind": "attestation_domiciliation"}
    # The person sees it among their papers, with its title and who added it
    with services.transaction() as uow:
        current = services.current(uow.session, amina.token)
        [view] = documents.list_documents(uow.session, current=current, keys=services.keys).items
        assert view.id == receipt.id and view.title == "Attestation de mai"
        assert view.expires_on == date(2027, 5, 1)
        assert view.added_by == documents.AddedBy("Marie L.", "Accueil de jour Les Lilas")
        assert documents.get_document(uow.session, current=current, document_id=receipt.id).added_by == view.added_by


def test_the_added_by_stays_as_it_was_after_a_rename(services):
    marie = named_worker(services)
    amina = make_person(services, "amina")
    make_follow(services, amina, marie.organisation_id)
    own = make_document(services, amina)
    receipt = deposit(services, marie, "amina")
    with services.transaction() as uow:
        uow.session.get(Account, marie.id).display_name = "Marie Laurent"
    with services.transaction() as uow:
        current = services.current(uow.session, amina.token)
        views = {view.id: view for view in documents.list_documents(uow.session, current=current,
                                                                     keys=services.keys).items}
    assert views[receipt.id].added_by.name == "Marie L."
    assert views[own.id].added_by is None


def test_the_worker_cannot_decrypt_what_they_deposited_and_the_person_can(services, tmp_path):
    age_tool = require_program("age", "age")
    marie = named_worker(services)
    amina = make_person(services, "amina")
    make_follow(services, amina, marie.organisation_id)
    receipt = deposit(services, marie, "amina", files=[photo_file((10, 150, 90))], kind="carte_identite",
                      title="Ma carte")
    with services.session_factory() as session:
        row = session.get(Document, receipt.id)
        blob_name, thumbnail_name, title_sealed = row.blob_name, row.thumbnail_blob_name, row.title_sealed
    with services.transaction() as uow:
        worker_identity = services.current(uow.session, marie.token).identity
    ciphertext = read_all(services.store.open(blob_name))
    assert ciphertext.startswith(b"age-encryption.org/v1\n")

    # The worker's own key opens none of it: not the paper, not its picture, not its title
    for sealed in (ciphertext, read_all(services.store.open(thumbnail_name)), title_sealed):
        with pytest.raises(CryptoError):
            age.decrypt_bytes(sealed, identities=[worker_identity])
    # The person's opens all of it, with our code and with the stock age tool
    person_identity = identity_of(services, amina)
    plaintext = age.decrypt_bytes(ciphertext, identities=[person_identity])
    assert age.decrypt_bytes(title_sealed, identities=[person_identity]) == b"Ma carte"
    identity_file = tmp_path / "identity.txt"
    identity_file.write_text(person_identity.to_string() + "\n")
    identity_file.chmod(0o600)
    result = subprocess.run([age_tool, "-d", "-i", str(identity_file)], input=ciphertext, capture_output=True,
                            check=True, timeout=30)
    assert result.stdout == plaintext
    # … and the stock tool with the worker's identity refuses
    identity_file.write_text(worker_identity.to_string() + "\n")
    refused = subprocess.run([age_tool, "-d", "-i", str(identity_file)], input=ciphertext, capture_output=True,
                             timeout=30)
    assert refused.returncode != 0 and refused.stdout == b""


def test_every_refusal_about_the_person_is_the_same_not_found_and_changes_nothing(services):
    marie = named_worker(services)
    other_place = make_staff(services, "paul", organisation="Autre accueil")
    amina = make_person(services, "amina")
    make_person(services, "karim")  # exists, follows nobody
    leila = make_person(services, "leila")
    make_follow(services, amina, marie.organisation_id)
    ended = make_follow(services, leila, marie.organisation_id)
    with services.transaction() as uow:
        uow.session.get(Follow, ended).ended_at = services.now
    before = counts(services)

    messages = set()
    for staff, username in [(other_place, "amina"), (marie, "karim"), (marie, "leila"), (marie, "nobody-here"),
                            (marie, "../../etc"), (marie, ""), (marie, "marie"), (marie, "paul")]:
        with pytest.raises(PersonNotFound) as refused:
            deposit(services, staff, username)
        messages.add((type(refused.value), str(refused.value), tuple(refused.value.details.items())))
    assert len(messages) == 1
    assert counts(services) == before


def test_who_is_not_acting_staff_is_refused_before_any_look_up(services):
    marie = named_worker(services)
    amina = make_person(services, "amina")
    make_follow(services, amina, marie.organisation_id)
    karim = make_person(services, "karim")
    make_follow(services, karim, marie.organisation_id)
    before = counts(services)

    # A person, even one who follows the organisation, deposits into nobody's vault
    with pytest.raises(NotAllowed):
        deposit(services, karim, "amina")
    # A worker whose membership ended: the same refusal for a username that exists and one that does not
    with services.transaction() as uow:
        uow.session.scalars(select(Membership).where(Membership.account_id == marie.id)).one().ended_at = \
            services.now
    for username in ("amina", "nobody-here"):
        with pytest.raises(NotAllowed):
            deposit(services, marie, username)
    # A deactivated account is signed out altogether
    with services.transaction() as uow:
        uow.session.get(Account, marie.id).status = "deactivated"
    with pytest.raises(SessionExpired):
        deposit(services, marie, "amina")
    assert counts(services) == before


def test_a_worker_of_two_organisations_deposits_for_the_one_the_person_follows(services):
    marie = named_worker(services)
    second = make_staff(services, "admin-b", organisation="Halte de nuit")
    with services.transaction() as uow:
        uow.session.add(Membership(organisation_id=second.organisation_id, account_id=marie.id, role="worker",
                                   created_at=services.now))
    amina = make_person(services, "amina")
    make_follow(services, amina, second.organisation_id)
    # Signed in again: the actor's memberships are read when a session opens
    marie.token = sign_in(services, "marie", marie.password,
                          otp=current_otp(marie, services.clock.advance(seconds=31)))
    receipt = deposit(services, marie, "amina")
    with services.session_factory() as session:
        event = session.scalars(select(Event).where(Event.document_id == receipt.id)).one()
    assert event.details["organisation"] == "Halte de nuit"


def test_the_persons_quota_and_the_checks_of_an_upload_apply(services):
    marie = named_worker(services)
    amina = make_person(services, "amina")
    make_follow(services, amina, marie.organisation_id)
    own = make_document(services, amina)
    with services.session_factory() as session:
        used = session.get(Document, own.id).stored_size
    before = counts(services)

    with pytest.raises(UnknownDocumentKind):
        deposit(services, marie, "amina", kind="secret")
    # The person's quota, not the worker's: a vault already full takes no deposit, and leaves no blob
    services.settings = replace(services.settings, limits=replace(services.settings.limits, quota_bytes=used + 10))
    with pytest.raises(QuotaExceeded):
        deposit(services, marie, "amina")
    assert counts(services) == before


def test_the_person_deletes_a_deposited_paper_like_any_other(services):
    marie = named_worker(services)
    amina = make_person(services, "amina")
    make_follow(services, amina, marie.organisation_id)
    receipt = deposit(services, marie, "amina")
    with services.transaction() as uow:
        current = services.current(uow.session, amina.token)
        documents.delete_document(uow, current=current, document_id=receipt.id, now=services.now)
    assert counts(services)[0] == 0 and counts(services)[2] == []


class EndsTheFollowFirst:
    """The media gate, with the person ending the follow (in their own transaction) while the paper is
    being cleaned: the slow part of a deposit, when a check made before it could have gone stale."""

    def __init__(self, gate, services, follow_id):
        self.gate, self.services, self.follow_id = gate, services, follow_id

    def run(self, function, *args, **kwargs):
        with self.services.transaction() as uow:
            uow.session.get(Follow, self.follow_id).ended_at = self.services.now
        return self.gate.run(function, *args, **kwargs)


def test_a_follow_ended_during_the_upload_stops_the_deposit(services):
    marie = named_worker(services)
    amina = make_person(services, "amina")
    follow_id = make_follow(services, amina, marie.organisation_id)
    before = counts(services)
    with pytest.raises(PersonNotFound):
        with services.transaction() as uow:
            current = services.current(uow.session, marie.token)
            deposit_document(uow, current=current, username="amina", files=[pdf_file()], kind="autre", title=None,
                             expires_on=None, limits=services.settings.limits, now=services.now,
                             gate=EndsTheFollowFirst(services.gates.media, services, follow_id))
    assert counts(services) == before
