"""Access requests through the services: asking, answering at home or side by side, once only."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import attempt_for, current_otp, make_document, make_follow, make_person, make_staff
from tests.vault.test_shares_service import CAF, events, open_as, register
from vault import access_requests, two_factor
from vault.errors import (
    DocumentNotFound,
    DocumentsNotRequested,
    InvalidInput,
    NotAllowed,
    PersonNotFound,
    PurposeNotRegistered,
    RequestAlreadyAnswered,
    RequestNotFound,
    SecondFactorFailed,
    SecondFactorRequired,
    ShareEndNotValid,
    TooManyAttempts,
    UnknownDocumentKind,
    WrongPassword,
)
from vault.db import UnitOfWork
from vault.errors import VaultError
from vault.models import AccessRequest, FailedSignInBurst, Share


@pytest.fixture
def world(services):
    person = make_person(services, "amina")
    stranger = make_person(services, "bilal")
    worker = make_staff(services, "marie", organisation="Les Lilas")
    colleague = make_staff(services, "paul", organisation_id=worker.organisation_id)
    foreign = make_staff(services, "ines", organisation="Autre accueil")
    register(services, worker.organisation_id, CAF)
    make_follow(services, person, worker.organisation_id)
    card = make_document(services, person, title="Ma carte")
    payslip = make_document(services, person, kind="bulletin_salaire")
    return dict(person=person, stranger=stranger, worker=worker, colleague=colleague, foreign=foreign, card=card,
                payslip=payslip)


def ask(services, who, person="amina", kinds=("carte_identite",), purpose=CAF, duration_days=7):
    with services.transaction() as uow:
        current = services.current(uow.session, who.token)
        return access_requests.create_request(uow.session, actor=current.actor, person=person, kinds=list(kinds),
                                              purpose=purpose, duration_days=duration_days, now=services.now)


def approve(services, who, request_id, document_ids, **extra):
    with services.transaction() as uow:
        current = services.current(uow.session, who.token)
        return access_requests.approve_request(uow, actor=current.actor, identity=current.identity,
                                               request_id=request_id, document_ids=document_ids, now=services.now,
                                               **extra)


def side_by_side(services, worker, request_id, document_ids, password, otp=None):
    """As the request pipeline runs it: what an error must keep (a failed try) is committed."""
    uow = UnitOfWork(services.session_factory(), services.store)
    try:
        current = services.current(uow.session, worker.token)
        share = access_requests.approve_side_by_side(
            uow, actor=current.actor, keys=services.keys, attempt=attempt_for(services), request_id=request_id,
            password=password, otp=otp, document_ids=document_ids, now=services.now)
        uow.commit()
        return share
    except VaultError as error:
        uow.commit() if error.keeps_changes else uow.rollback()
        raise
    finally:
        uow.close()


def test_asked_then_approved_at_home(services, world):
    request = ask(services, world["worker"])
    assert request.status == "waiting" and request.person_name == "amina" and request.requester_name == "marie"
    (created,) = events(services, "request.created")
    assert created.subject_id == world["person"].id and created.actor_id == world["worker"].id
    assert created.details == {"request_id": request.id, "by_name": "marie", "organisation": "Les Lilas",
                               "kinds": ["carte_identite"], "purpose": "caf_rsa", "purpose_text": None,
                               "duration_days": 7}
    share = approve(services, world["person"], request.id, [world["card"].id])
    assert share.grantee_id == world["worker"].id and share.expires_at == services.now + timedelta(days=7)
    assert share.access_request_id == request.id
    _document, _share, plaintext = open_as(services, world["worker"], share.id, world["card"].id)
    assert plaintext
    (approved,) = events(services, "request.approved")
    assert approved.details == {"request_id": request.id, "by_name": "marie", "organisation": "Les Lilas",
                                "side_by_side": False, "share_id": share.id}
    assert events(services, "share.granted")[0].details["request_id"] == request.id
    with services.transaction() as uow:
        current = services.current(uow.session, world["colleague"].token)
        (seen,) = access_requests.list_requests(uow.session, actor=current.actor)
    assert seen.status == "approved" and seen.share_id == share.id  # the organisation sees the answer
    with pytest.raises(RequestAlreadyAnswered):
        approve(services, world["person"], request.id, [world["card"].id])


def test_declined(services, world):
    request = ask(services, world["worker"])
    with services.transaction() as uow:
        current = services.current(uow.session, world["person"].token)
        access_requests.decline_request(uow.session, actor=current.actor, request_id=request.id, now=services.now)
    (declined,) = events(services, "request.declined")
    assert declined.details["side_by_side"] is False and "share_id" not in declined.details
    with pytest.raises(RequestAlreadyAnswered):
        approve(services, world["person"], request.id, [world["card"].id])


def test_only_the_person_answers(services, world):
    request = ask(services, world["worker"])
    for who in (world["worker"], world["colleague"], world["foreign"], world["stranger"]):
        with pytest.raises(RequestNotFound):
            approve(services, who, request.id, [world["card"].id])
    with services.session_factory() as session:
        assert session.get(AccessRequest, request.id).status == "waiting"


def test_bad_requests_are_refused(services, world):
    cases = [
        (dict(person="bilal"), PersonNotFound),  # does not follow
        (dict(person="nobody"), PersonNotFound),
        (dict(person="paul"), PersonNotFound),  # staff, not a person
        (dict(purpose=__import__("vault.purposes", fromlist=["x"]).PurposeChoice("housing")), PurposeNotRegistered),
        (dict(kinds=("licorne",)), UnknownDocumentKind),
        (dict(kinds=()), InvalidInput),
        (dict(duration_days=0), InvalidInput),
        (dict(duration_days=91), InvalidInput),
    ]
    for case, error in cases:
        with pytest.raises(error):
            ask(services, world["worker"], **case)
    with pytest.raises(PersonNotFound):  # follows Les Lilas, not Autre accueil
        ask(services, world["foreign"])
    with pytest.raises(NotAllowed):
        ask(services, world["person"], person="bilal")
    with services.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(AccessRequest)) == 0


def test_approval_takes_only_requested_kinds(services, world):
    request = ask(services, world["worker"], duration_days=3)
    with pytest.raises(DocumentsNotRequested):
        approve(services, world["person"], request.id, [world["card"].id, world["payslip"].id])
    with pytest.raises(InvalidInput):
        approve(services, world["person"], request.id, [])
    with pytest.raises(ShareEndNotValid):  # longer than asked
        approve(services, world["person"], request.id, [world["card"].id],
                expires_at=services.now + timedelta(days=4))
    share = approve(services, world["person"], request.id, [world["card"].id],
                    expires_at=services.now + timedelta(days=1))
    assert [paper.id for paper in share.documents] == [world["card"].id]


def test_side_by_side_with_the_persons_password(services, world):
    request = ask(services, world["worker"])
    with pytest.raises(WrongPassword):
        side_by_side(services, world["worker"], request.id, [world["card"].id], "pas le bon")
    with services.session_factory() as session:  # shown to the person as a failed sign-in
        assert session.scalar(select(func.count()).select_from(FailedSignInBurst)) == 1
    with pytest.raises(RequestNotFound):  # another organisation's worker
        side_by_side(services, world["foreign"], request.id, [world["card"].id], world["person"].password)
    share = side_by_side(services, world["worker"], request.id, [world["card"].id], world["person"].password)
    assert share.owner_id == world["person"].id and share.grantee_id == world["worker"].id
    (approved,) = events(services, "request.approved")
    assert approved.actor_id == world["person"].id and approved.details["side_by_side"] is True


def test_side_by_side_needs_the_persons_code_when_they_use_one(services, world):
    with services.transaction() as uow:
        from vault.models import Account

        setup = two_factor.enable_directly(uow.session, keys=services.keys,
                                           account=uow.session.get(Account, world["person"].id))
    world["person"].otp_secret = setup.secret
    request = ask(services, world["worker"])
    with pytest.raises(SecondFactorRequired):
        side_by_side(services, world["worker"], request.id, [world["card"].id], world["person"].password)
    with pytest.raises(SecondFactorFailed):
        side_by_side(services, world["worker"], request.id, [world["card"].id], world["person"].password,
                     otp="000000" if current_otp(world["person"], services.now) != "000000" else "111111")
    share = side_by_side(services, world["worker"], request.id, [world["card"].id], world["person"].password,
                         otp=current_otp(world["person"], services.now))
    assert share.active


def test_side_by_side_guesses_are_throttled_on_the_persons_account(services, world):
    request = ask(services, world["worker"])
    with pytest.raises(TooManyAttempts):
        for _ in range(20):
            with pytest.raises(WrongPassword):
                side_by_side(services, world["worker"], request.id, [world["card"].id], "devine")
    with pytest.raises(TooManyAttempts):  # even the right password waits: the budget is the account's
        side_by_side(services, world["worker"], request.id, [world["card"].id], world["person"].password)


def test_parallel_approvals_make_one_share(services, world):
    request = ask(services, world["worker"])
    barrier = threading.Barrier(2)
    outcomes = []

    def run(kind):
        try:
            barrier.wait(timeout=10)
            if kind == "home":
                approve(services, world["person"], request.id, [world["card"].id])
            else:
                side_by_side(services, world["worker"], request.id, [world["card"].id], world["person"].password)
            outcomes.append("share")
        except RequestAlreadyAnswered:
            outcomes.append("already")

    threads = [threading.Thread(target=run, args=(kind,)) for kind in ("home", "side")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["already", "share"]
    with services.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Share)) == 1
    assert len(events(services, "request.approved")) == 1


def test_a_foreign_paper_is_not_found(services, world):
    request = ask(services, world["worker"])
    other = make_document(services, world["stranger"])
    with pytest.raises(DocumentNotFound):
        approve(services, world["person"], request.id, [other.id])
