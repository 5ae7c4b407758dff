"""Shares through the services, on SQLite and PostgreSQL, with the real blob store and age.

Who may open a shared paper, when; that ending and expiry delete the wrapped keys (read in the table);
that a refusal never tells whether a paper exists.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from crypto import age
from tests.factories import current_otp, make_document, make_follow, make_person, make_staff, pdf_file, read_all
from tests.factories import sign_in
from vault import documents, shares
from vault.errors import (
    DocumentNotFound,
    GranteeNotFound,
    InvalidInput,
    NotAllowed,
    PurposeNotRegistered,
    ShareEndNotValid,
    ShareNotFound,
)
from vault.models import Event, Membership, Share, SharedDocument
from vault.purposes import PurposeChoice, replace_purposes

CAF = PurposeChoice("caf_rsa")


def register(services, organisation_id, *choices):
    with services.transaction() as uow:
        replace_purposes(uow.session, organisation_id=organisation_id, choices=list(choices), now=services.now)


@pytest.fixture
def world(services):
    person = make_person(services, "amina")
    other = make_person(services, "bilal")
    worker = make_staff(services, "marie", organisation="Les Lilas")
    colleague = make_staff(services, "paul", organisation_id=worker.organisation_id)
    foreign = make_staff(services, "ines", organisation="Autre accueil")
    register(services, worker.organisation_id, CAF, PurposeChoice("other", "Dossier logement"))
    register(services, foreign.organisation_id, CAF)
    card = make_document(services, person, title="Ma carte", files=[pdf_file("Carte")])
    payslip = make_document(services, person, kind="bulletin_salaire", title="Mars")
    foreign_paper = make_document(services, other, title="Pas à toi")
    return dict(person=person, other=other, worker=worker, colleague=colleague, foreign=foreign, card=card,
                payslip=payslip, foreign_paper=foreign_paper)


def grant(services, who, grantee, document_ids, *, purpose=CAF, days=7, **extra):
    with services.transaction() as uow:
        current = services.current(uow.session, who.token)
        return shares.grant_share(uow, actor=current.actor, identity=current.identity,
                                  grantee_username_or_id=grantee, document_ids=document_ids, purpose=purpose,
                                  expires_at=services.now + timedelta(days=days), now=services.now, **extra)


def open_as(services, who, share_id, document_id):
    with services.transaction() as uow:
        current = services.current(uow.session, who.token)
        return shares.open_shared_document(uow, actor=current.actor, identity=current.identity, share_id=share_id,
                                           document_id=document_id, now=services.now)


def refresh(services, *people):
    """New sessions after the clock moved past their idle time-out (staff with a fresh code)."""
    for made in people:
        extra = {"otp": current_otp(made, services.now)} if made.otp_secret else {}
        made.token = sign_in(services, made.username, made.password, **extra)


def wrapped_keys(services, share_id):
    with services.session_factory() as session:
        return list(session.scalars(select(SharedDocument.wrapped_file_key).where(SharedDocument.share_id == share_id)))


def events(services, action):
    with services.session_factory() as session:
        return list(session.scalars(select(Event).where(Event.action == action).order_by(Event.sequence)))


def test_grantee_reads_the_exact_paper_while_active(services, world):
    view = grant(services, world["person"], "marie", [world["card"].id, world["payslip"].id])
    assert view.grantee_name == "marie" and view.organisation_name == "Les Lilas" and view.active
    assert {paper.title for paper in view.documents} == {"Ma carte", "Mars"}  # the owner reads titles
    keys = wrapped_keys(services, view.id)
    assert len(keys) == 2 and all(age.parse_stanza(key).type == "X25519" for key in keys)
    document, share, plaintext = open_as(services, world["worker"], view.id, world["card"].id)
    with services.transaction() as uow:
        current = services.current(uow.session, world["person"].token)
        _view, reader = documents.open_document_content(uow, current=current, document_id=world["card"].id,
                                                        now=services.now)
        assert plaintext == read_all(reader)
    assert document.id == world["card"].id and share.id == view.id and plaintext.startswith(b"%PDF")
    (granted,) = events(services, "share.granted")
    assert granted.subject_id == granted.actor_id == world["person"].id and granted.document_id is None
    assert granted.details == {"share_id": view.id, "grantee_name": "marie", "organisation": "Les Lilas",
                               "purpose": "caf_rsa", "purpose_text": None,
                               "kinds": ["carte_identite", "bulletin_salaire"], "documents": 2,
                               "expires_at": view.expires_at.isoformat()}


def test_the_grantee_sees_the_share_without_titles(services, world):
    grant(services, world["person"], "marie", [world["card"].id])
    with services.transaction() as uow:
        current = services.current(uow.session, world["worker"].token)
        (received,) = shares.list_shares(uow.session, actor=current.actor, identity=current.identity,
                                         now=services.now)
    assert received.documents[0].title is None and received.documents[0].kind == "carte_identite"
    assert received.owner_name == "amina" and received.seconds_left == 7 * 24 * 3600


def test_refusals_are_one_not_found(services, world):
    view = grant(services, world["person"], "marie", [world["card"].id])
    # A colleague, another organisation's worker, the owner through this path: the same "not found".
    for who in (world["colleague"], world["foreign"], world["person"], world["other"]):
        with pytest.raises(DocumentNotFound):
            open_as(services, who, view.id, world["card"].id)
    # A paper of the owner not in the share, a paper of someone else, a paper that does not exist.
    for document_id in (world["payslip"].id, world["foreign_paper"].id, "0" * 8 + "-0000-0000-0000-" + "0" * 12,
                        "not-an-id"):
        with pytest.raises(DocumentNotFound):
            open_as(services, world["worker"], view.id, document_id)
    with pytest.raises(DocumentNotFound):
        open_as(services, world["worker"], "0" * 8 + "-0000-0000-0000-" + "0" * 12, world["card"].id)


def test_refused_after_the_end_and_keys_deleted(services, world):
    view = grant(services, world["person"], "marie", [world["card"].id])
    with services.transaction() as uow:
        current = services.current(uow.session, world["person"].token)
        assert shares.end_share(uow.session, actor=current.actor, share_id=view.id, now=services.now)
        assert not shares.end_share(uow.session, actor=current.actor, share_id=view.id, now=services.now)
    assert wrapped_keys(services, view.id) == [None]
    with pytest.raises(DocumentNotFound):
        open_as(services, world["worker"], view.id, world["card"].id)
    (ended,) = events(services, "share.ended")
    assert ended.details == {"share_id": view.id, "reason": "owner", "grantee_name": "marie",
                             "organisation": "Les Lilas"}


def test_the_grantee_gives_it_back(services, world):
    view = grant(services, world["person"], "marie", [world["card"].id])
    with services.transaction() as uow:
        current = services.current(uow.session, world["worker"].token)
        assert shares.end_share(uow.session, actor=current.actor, share_id=view.id, now=services.now)
    assert [event.details["reason"] for event in events(services, "share.ended")] == ["grantee"]
    assert wrapped_keys(services, view.id) == [None]


def test_others_cannot_end_or_see_a_share(services, world):
    view = grant(services, world["person"], "marie", [world["card"].id])
    for who in (world["colleague"], world["foreign"], world["other"]):
        with services.transaction() as uow:
            current = services.current(uow.session, who.token)
            with pytest.raises(ShareNotFound):
                shares.end_share(uow.session, actor=current.actor, share_id=view.id, now=services.now)
            with pytest.raises(ShareNotFound):
                shares.get_share(uow.session, actor=current.actor, identity=current.identity, share_id=view.id,
                                 now=services.now)
    assert wrapped_keys(services, view.id) != [None]


def test_refused_after_expiry_and_purged(services, world):
    view = grant(services, world["person"], "marie", [world["card"].id], days=1)
    services.clock.advance(days=1)
    refresh(services, world["worker"])
    with pytest.raises(DocumentNotFound):
        open_as(services, world["worker"], view.id, world["card"].id)
    assert wrapped_keys(services, view.id) != [None]  # until the purge runs
    with services.transaction() as uow:
        assert shares.purge_expired_shares(uow.session, now=services.now) == 1
    with services.transaction() as uow:
        assert shares.purge_expired_shares(uow.session, now=services.now) == 0  # idempotent
    assert wrapped_keys(services, view.id) == [None]
    (ended,) = events(services, "share.ended")
    assert ended.details["reason"] == "expired" and ended.actor_id is None


def test_refused_after_deactivation(services, world):
    view = grant(services, world["person"], "marie", [world["card"].id])
    with services.transaction() as uow:
        uow.session.execute(update(Membership).where(Membership.account_id == world["worker"].id)
                            .values(ended_at=services.now))
    with pytest.raises(DocumentNotFound):
        open_as(services, world["worker"], view.id, world["card"].id)
    with services.transaction() as uow:
        assert shares.end_shares_of_staff(uow.session, staff_id=world["worker"].id, organisation_id=None,
                                          now=services.now, actor_id=None) == 1
    assert wrapped_keys(services, view.id) == [None]
    assert [event.details["reason"] for event in events(services, "share.ended")] == ["deactivated"]


def test_bad_grants_change_nothing(services, world):
    person, card = world["person"], world["card"].id
    cases = [
        (dict(grantee="nobody"), GranteeNotFound),
        (dict(grantee="bilal"), GranteeNotFound),  # a person is no grantee
        (dict(grantee="ines", purpose=PurposeChoice("housing")), PurposeNotRegistered),
        (dict(grantee="marie", purpose=PurposeChoice("housing")), PurposeNotRegistered),
        (dict(grantee="marie", documents=[world["foreign_paper"].id]), DocumentNotFound),
        (dict(grantee="marie", documents=[card, "0" * 8 + "-0000-0000-0000-" + "0" * 12]), DocumentNotFound),
        (dict(grantee="marie", documents=[]), InvalidInput),
        (dict(grantee="marie", days=91), ShareEndNotValid),
        (dict(grantee="marie", days=0), ShareEndNotValid),
        (dict(grantee="marie", days=-1), ShareEndNotValid),
    ]
    for case, error in cases:
        with pytest.raises(error):
            grant(services, person, case["grantee"], case.get("documents", [card]),
                  purpose=case.get("purpose", CAF), days=case.get("days", 7))
    with pytest.raises(NotAllowed):  # staff hold no papers to share
        grant(services, world["worker"], "paul", [card])
    with services.session_factory() as session:
        assert session.scalar(select(Share.id)) is None and session.scalar(select(SharedDocument.share_id)) is None
    assert events(services, "share.granted") == []


def test_a_grantee_in_two_organisations_must_be_named(services, world):
    with services.transaction() as uow:
        uow.session.add(Membership(organisation_id=world["foreign"].organisation_id, account_id=world["worker"].id,
                                   role="worker", created_at=services.now))
    with pytest.raises(InvalidInput):
        grant(services, world["person"], "marie", [world["card"].id])
    view = grant(services, world["person"], "marie", [world["card"].id],
                 organisation_id=world["foreign"].organisation_id)
    assert view.organisation_name == "Autre accueil"


def test_parallel_endings_record_one_event(services, world):
    view = grant(services, world["person"], "marie", [world["card"].id])
    barrier = threading.Barrier(2)
    results, failures = [], []

    def end(who):
        try:
            with services.transaction() as uow:
                current = services.current(uow.session, who.token)
                barrier.wait(timeout=10)
                results.append(shares.end_share(uow.session, actor=current.actor, share_id=view.id,
                                                now=services.now))
        except Exception as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=end, args=(who,)) for who in (world["person"], world["worker"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == [] and sorted(results) == [False, True]
    assert len(events(services, "share.ended")) == 1


def test_a_follow_lets_nobody_read(services, world):
    make_follow(services, world["person"], world["worker"].organisation_id)
    for document_id in (world["card"].id,):
        with pytest.raises(DocumentNotFound):
            open_as(services, world["worker"], "0" * 8 + "-0000-0000-0000-" + "0" * 12, document_id)


def test_a_stored_key_moved_or_altered_opens_nothing(services, world):
    view = grant(services, world["person"], "marie", [world["card"].id, world["payslip"].id])
    with services.transaction() as uow:
        rows = {row.document_id: row for row in uow.session.scalars(
            select(SharedDocument).where(SharedDocument.share_id == view.id))}
        card, payslip = rows[world["card"].id], rows[world["payslip"].id]
        # The payslip's key on the card's row: it unwraps for the grantee, but the card's header MAC refuses it.
        card.wrapped_file_key, payslip.wrapped_file_key = payslip.wrapped_file_key, payslip.wrapped_file_key[:-2] + b"A\n"
    for document_id in (world["card"].id, world["payslip"].id):
        with pytest.raises(DocumentNotFound):
            open_as(services, world["worker"], view.id, document_id)
