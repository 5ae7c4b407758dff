"""Organisations and staff: invitations (single use, expiry, parallel redemption, throttle), joining with
TOTP, the staff list, deactivation ending shares at once, the last admin, purposes and counts."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import (
    KNOWN_PASSWORD,
    attempt_for,
    current_otp,
    join_staff,
    make_document,
    make_follow,
    make_organisation,
    make_person,
    sign_in,
)
from crypto.codes import generate_recovery_code
from vault import organisations
from vault.errors import (
    InvalidDisplayName,
    InvalidInput,
    InvalidInvitation,
    LastAdmin,
    NotAllowed,
    OrganisationRequired,
    SessionExpired,
    StaffNotFound,
    TooManyAttempts,
    UsernameTaken,
    WeakPassword,
)
from vault.models import Account, Event, Invitation, Membership, Organisation, Share, SharedDocument
from vault.models import Session as SessionRow
from vault.policies import Actor, Role, actor_for
from vault.purposes import PurposeChoice


def actor_of(services, staff) -> Actor:
    with services.transaction() as uow:
        return actor_for(uow.session, uow.session.get(Account, staff.id))


def invite(services, admin, role="worker", organisation_id=None):
    with services.transaction() as uow:
        return organisations.invite(uow.session, actor=actor_of(services, admin), keys=services.keys,
                                    organisation_id=organisation_id, role=role, now=services.now)


def redeem(services, code, username, password=KNOWN_PASSWORD, **extra):
    with services.transaction() as uow:
        return organisations.redeem_invitation(uow.session, keys=services.keys, attempt=attempt_for(services),
                                               code=code, username=username, password=password,
                                               now=services.now, **extra)


def actions(services, subject_id=None):
    with services.transaction() as uow:
        rows = uow.session.scalars(select(Event).where(Event.subject_id == subject_id).order_by(Event.id))
        return [(event.action, event.details) for event in rows]


@pytest.fixture
def place(services, clock):
    """An organisation with its first admin (joined from the operator's invitation) and a worker."""
    organisation_id, code = make_organisation(services, "Accueil de jour Les Lilas")
    admin = join_staff(services, code, "admin.lilas", display_name="Nadia B.")
    clock.advance(seconds=30)
    worker = join_staff(services, invite(services, admin).code, "marie.l", display_name="Marie L.")
    clock.advance(seconds=30)
    return organisation_id, admin, worker


# --- creating and inviting -----------------------------------------------------------------------------
def test_the_operator_creates_an_organisation_with_a_one_time_admin_code(services):
    organisation_id, code = make_organisation(services, "  Les   Lilas ")
    with services.transaction() as uow:
        organisation = uow.session.get(Organisation, organisation_id)
        row = uow.session.scalars(select(Invitation)).one()
        assert organisation.name == "Les Lilas"
        assert row.role == "admin" and row.expires_at == services.now + timedelta(days=7)
        # Only an HMAC is kept: the code's text appears nowhere in the row.
        assert code.replace("-", "").encode() not in row.code_hash and len(row.code_hash) == 32
    assert [action for action, _ in actions(services)] == ["organisation.created", "staff.invited"]
    assert actions(services)[1][1] == {"organisation": "Les Lilas", "role": "admin"}


@pytest.mark.parametrize("actor", [Actor.person("p"), Actor.staff("s", {"o": Role.ADMIN})])
def test_only_the_operator_creates_organisations(services, actor):
    with pytest.raises(NotAllowed), services.transaction() as uow:
        organisations.create_organisation(uow.session, actor=actor, keys=services.keys, name="X", now=services.now)


@pytest.mark.parametrize("name", ["", "   ", "x" * 201, None])
def test_an_organisation_needs_a_name(services, name):
    with pytest.raises(InvalidInput), services.transaction() as uow:
        organisations.create_organisation(uow.session, actor=Actor.operator(), keys=services.keys, name=name,
                                          now=services.now)


def test_joining_makes_a_staff_member_with_two_step_sign_in_on(services, place):
    organisation_id, admin, worker = place
    with services.transaction() as uow:
        account = uow.session.get(Account, worker.id)
        assert account.kind == "staff" and account.otp_enabled and account.display_name == "Marie L."
        membership = uow.session.scalars(select(Membership).where(Membership.account_id == worker.id)).one()
        assert (membership.organisation_id, membership.role) == (organisation_id, "worker")
    assert ("staff.joined", {"organisation": "Accueil de jour Les Lilas", "role": "worker"}) in actions(services,
                                                                                                        worker.id)
    # Without the code from the app, a staff member does not get in.
    with pytest.raises(Exception) as refused:
        sign_in(services, worker.username, worker.password)
    assert refused.value.code == "second_factor_required"


def test_an_invitation_works_once(services, place, clock):
    _, admin, _ = place
    code = invite(services, admin).code
    redeem(services, code, "first.one")
    with pytest.raises(InvalidInvitation):
        redeem(services, code, "second.one")
    with services.transaction() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Account).where(Account.username == "second.one")) == 0


def test_an_invitation_expires(services, place, clock):
    _, admin, _ = place
    code = invite(services, admin).code
    clock.advance(days=7)
    with pytest.raises(InvalidInvitation):
        redeem(services, code, "too.late")


@pytest.mark.parametrize("code", ["", "nonsense", "K7QM-3XRT-9HPD-WB2N-F6CB", 12, None, generate_recovery_code()])
def test_a_wrong_code_changes_nothing(services, place, code):
    with pytest.raises(InvalidInvitation):
        redeem(services, code, "nobody.here")
    with services.transaction() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Account)) == 2


def test_a_code_typed_loosely_still_works(services, place):
    _, admin, _ = place
    code = invite(services, admin).code
    joined = redeem(services, " " + code.lower().replace("-", " ") + " ", "loose.typist")
    assert joined.role == Role.WORKER


def test_bad_fields_spend_nothing_and_keep_the_code(services, place):
    _, admin, _ = place
    code = invite(services, admin).code
    for bad, error in [({"username": "A B"}, InvalidInput), ({"password": "short"}, WeakPassword),
                       ({"username": "admin.lilas"}, UsernameTaken), ({"display_name": "x" * 81}, InvalidDisplayName),
                       ({"display_name": 5}, InvalidDisplayName), ({"password": None}, InvalidInput)]:
        arguments = {"username": "new.worker", "password": KNOWN_PASSWORD, **bad}
        with pytest.raises(error):
            redeem(services, code, **arguments)
    assert redeem(services, code, "new.worker").account.username == "new.worker"


def test_two_redemptions_of_one_code_at_once_make_one_account(services, place):
    _, admin, _ = place
    code = invite(services, admin).code
    barrier = threading.Barrier(4)
    outcomes = []

    def attempt(index):
        barrier.wait()
        try:
            redeem(services, code, f"racer.{index}")
            outcomes.append("joined")
        except InvalidInvitation:
            outcomes.append("refused")
        except Exception as error:  # SQLite's single writer may answer busy: that is a refusal too
            outcomes.append(type(error).__name__)

    threads = [threading.Thread(target=attempt, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("joined") == 1, outcomes
    with services.transaction() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Account)
                                  .where(Account.username.like("racer.%"))) == 1


def test_guessing_codes_from_one_address_is_throttled(services, place):
    _, admin, _ = place
    code = invite(services, admin).code
    with pytest.raises(TooManyAttempts):
        for _ in range(40):
            with pytest.raises(InvalidInvitation):
                redeem(services, generate_recovery_code(), "guesser")  # well formed, so it is looked up
    with pytest.raises(TooManyAttempts):  # even the right code waits: the budget is the address's
        redeem(services, code, "guesser")


def test_admins_invite_workers_and_admins_and_nobody_else_invites(services, place):
    organisation_id, admin, worker = place
    assert invite(services, admin, role="admin").role == Role.ADMIN
    with pytest.raises(InvalidInput):
        invite(services, admin, role="owner")
    with pytest.raises(NotAllowed):
        invite(services, worker)
    other_id, other_code = make_organisation(services, "Autre")
    other_admin = join_staff(services, other_code, "admin.autre")
    with pytest.raises(NotAllowed):
        invite(services, other_admin, organisation_id=organisation_id)
    with pytest.raises(NotAllowed), services.transaction() as uow:
        organisations.invite(uow.session, actor=Actor.person(worker.id), keys=services.keys, organisation_id=None,
                             role="worker", now=services.now)


def test_an_admin_of_two_organisations_names_the_one(services, place, clock):
    organisation_id, admin, _ = place
    other_id, other_code = make_organisation(services, "Autre")
    other_admin = join_staff(services, other_code, "admin.autre")
    clock.advance(seconds=30)
    # No service joins an existing account to a second organisation yet (invitations make new accounts):
    # the membership is written here to reach that state.
    with services.transaction() as uow:
        uow.session.add(Membership(organisation_id=other_id, account_id=admin.id, role="admin", created_at=services.now))
    with pytest.raises(OrganisationRequired):
        invite(services, admin)
    assert invite(services, admin, organisation_id=other_id).organisation_id == other_id
    assert other_admin  # the other admin is untouched


# --- the staff list and deactivation ---------------------------------------------------------------------
def test_the_staff_list(services, place):
    organisation_id, admin, worker = place
    with services.transaction() as uow:
        members = organisations.list_staff(uow.session, actor=actor_of(services, admin), organisation_id=None)
    assert [(m.name, m.username, m.role, m.active) for m in members] == [
        ("Marie L.", "marie.l", Role.WORKER, True), ("Nadia B.", "admin.lilas", Role.ADMIN, True)]
    with pytest.raises(NotAllowed), services.transaction() as uow:
        organisations.list_staff(uow.session, actor=actor_of(services, worker), organisation_id=None)


def share_with(services, person, worker, organisation_id, document_id, *, days=7):
    """A share written as the shares service will write it (that package is built alongside this one)."""
    with services.transaction() as uow:
        share = Share(owner_id=person.id, grantee_id=worker.id, organisation_id=organisation_id,
                      purpose_code="caf_rsa", created_at=services.now, expires_at=services.now + timedelta(days=days))
        uow.session.add(share)
        uow.session.flush()
        uow.session.add(SharedDocument(share_id=share.id, document_id=document_id, wrapped_file_key=b"stanza"))
        return share.id


def test_deactivation_ends_the_membership_sessions_and_shares_at_once(services, place, clock):
    organisation_id, admin, worker = place
    person = make_person(services, "amina")
    document = make_document(services, person)
    share_id = share_with(services, person, worker, organisation_id, document.id)
    other_id, other_code = make_organisation(services, "Autre")
    clock.advance(seconds=30)
    with services.transaction() as uow:
        ended = organisations.deactivate_staff(uow.session, actor=actor_of(services, admin), organisation_id=None,
                                               staff_id=worker.id, now=services.now)
    assert ended == 1
    with services.transaction() as uow:
        account = uow.session.get(Account, worker.id)
        assert account.status == "deactivated"
        assert uow.session.scalar(select(func.count()).select_from(SessionRow)
                                  .where(SessionRow.account_id == worker.id)) == 0
        share = uow.session.get(Share, share_id)
        assert (share.ended_at, share.end_reason, share.ended_by_id) == (services.now, "deactivated", admin.id)
        assert uow.session.get(SharedDocument, (share_id, document.id)).wrapped_file_key is None
    with pytest.raises(SessionExpired), services.transaction() as uow:
        services.current(uow.session, worker.token)
    assert ("share.ended", {"share_id": share_id, "reason": "deactivated", "grantee_name": "Marie L.",
                            "organisation": "Accueil de jour Les Lilas"}) in actions(services, person.id)
    assert ("staff.deactivated", {"organisation": "Accueil de jour Les Lilas", "role": "worker"}) in \
        actions(services, worker.id)
    # Twice: the second time there is nobody active to deactivate.
    with pytest.raises(StaffNotFound), services.transaction() as uow:
        organisations.deactivate_staff(uow.session, actor=actor_of(services, admin), organisation_id=None,
                                       staff_id=worker.id, now=services.now)


def test_deactivation_leaves_shares_for_another_organisation(services, place, clock):
    organisation_id, admin, worker = place
    other_id, other_code = make_organisation(services, "Autre")
    with services.transaction() as uow:
        uow.session.add(Membership(organisation_id=other_id, account_id=worker.id, role="worker",
                                   created_at=services.now))
    person = make_person(services, "amina")
    document = make_document(services, person)
    here = share_with(services, person, worker, organisation_id, document.id)
    there = share_with(services, person, worker, other_id, document.id)
    with services.transaction() as uow:
        organisations.deactivate_staff(uow.session, actor=actor_of(services, admin), organisation_id=None,
                                       staff_id=worker.id, now=services.now)
    with services.transaction() as uow:
        assert uow.session.get(Share, here).ended_at is not None
        assert uow.session.get(Share, there).ended_at is None
        # Still a member elsewhere: the account stays active.
        assert uow.session.get(Account, worker.id).status == "active"


def test_the_last_admin_stays(services, place, clock):
    organisation_id, admin, worker = place
    with pytest.raises(LastAdmin), services.transaction() as uow:
        organisations.deactivate_staff(uow.session, actor=actor_of(services, admin), organisation_id=None,
                                       staff_id=admin.id, now=services.now)
    second = join_staff(services, invite(services, admin, role="admin").code, "second.admin")
    clock.advance(seconds=30)
    with services.transaction() as uow:
        organisations.deactivate_staff(uow.session, actor=actor_of(services, second), organisation_id=None,
                                       staff_id=admin.id, now=services.now)
    with pytest.raises(LastAdmin), services.transaction() as uow:
        organisations.deactivate_staff(uow.session, actor=actor_of(services, second), organisation_id=None,
                                       staff_id=second.id, now=services.now)


def test_two_admins_deactivating_each_other_at_once_leave_one(services, place, clock):
    organisation_id, admin, worker = place
    second = join_staff(services, invite(services, admin, role="admin").code, "second.admin")
    actors = {admin.id: actor_of(services, admin), second.id: actor_of(services, second)}
    barrier = threading.Barrier(2)
    outcomes = []

    def deactivate(by, target):
        barrier.wait()
        try:
            with services.transaction() as uow:
                organisations.deactivate_staff(uow.session, actor=actors[by], organisation_id=organisation_id,
                                               staff_id=target, now=services.now)
            outcomes.append("done")
        except Exception as error:
            outcomes.append(type(error).__name__)

    threads = [threading.Thread(target=deactivate, args=(admin.id, second.id)),
               threading.Thread(target=deactivate, args=(second.id, admin.id))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("done") == 1, outcomes
    with services.transaction() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Membership).where(
            Membership.organisation_id == organisation_id, Membership.role == "admin",
            Membership.ended_at.is_(None))) == 1


def test_workers_and_strangers_cannot_deactivate(services, place):
    organisation_id, admin, worker = place
    other_id, other_code = make_organisation(services, "Autre")
    other_admin = join_staff(services, other_code, "admin.autre")
    # (The operator may, from the command line: tests/ops/test_organisation_cli.py.)
    for actor, organisation in [(actor_of(services, worker), None), (actor_of(services, other_admin), organisation_id),
                                (Actor.person(worker.id), None), (Actor.operator(), "no-such-organisation")]:
        with pytest.raises(NotAllowed), services.transaction() as uow:
            organisations.deactivate_staff(uow.session, actor=actor, organisation_id=organisation,
                                           staff_id=worker.id, now=services.now)
    # Another organisation's staff member cannot be reached through mine.
    with pytest.raises(StaffNotFound), services.transaction() as uow:
        organisations.deactivate_staff(uow.session, actor=actor_of(services, admin), organisation_id=None,
                                       staff_id=other_admin.id, now=services.now)


# --- purposes and counts ---------------------------------------------------------------------------------
def test_purposes_admins_set_and_staff_read(services, place):
    organisation_id, admin, worker = place
    choices = [PurposeChoice("housing"), PurposeChoice("other", "Aide alimentaire"), PurposeChoice("caf_rsa")]
    with services.transaction() as uow:
        organisations.set_purposes(uow.session, actor=actor_of(services, admin), organisation_id=None,
                                   choices=choices, now=services.now)
    with services.transaction() as uow:
        read = organisations.organisation_purposes(uow.session, actor=actor_of(services, worker), organisation_id=None)
    assert [choice.code for choice in read] == ["caf_rsa", "housing", "other"]
    with pytest.raises(NotAllowed), services.transaction() as uow:
        organisations.set_purposes(uow.session, actor=actor_of(services, worker), organisation_id=None, choices=[],
                                   now=services.now)


def test_counts_are_numbers_only(services, place):
    organisation_id, admin, worker = place
    for name in ("amina", "yusuf"):
        make_follow(services, make_person(services, name), organisation_id)
    with services.transaction() as uow:
        counts = organisations.organisation_counts(uow.session, actor=actor_of(services, admin), organisation_id=None,
                                                   now=services.now)
    assert counts == organisations.Counts(people_following=2, active_shares=0, requests_waiting=0,
                                          requests_answered=0, duplicates_this_month=0)
    with pytest.raises(NotAllowed), services.transaction() as uow:
        organisations.organisation_counts(uow.session, actor=actor_of(services, worker), organisation_id=None,
                                          now=services.now)


def test_a_staff_member_signs_in_with_the_otp_from_joining(services, place, clock):
    _, admin, worker = place
    clock.advance(seconds=60)
    assert sign_in(services, worker.username, worker.password, otp=current_otp(worker, services.now))


def test_a_deactivated_admin_can_do_nothing_any_more(services, place, clock):
    organisation_id, admin, worker = place
    second = join_staff(services, invite(services, admin, role="admin").code, "second.admin")
    clock.advance(seconds=30)
    stale = actor_of(services, second)  # as a request that began before the deactivation saw it
    with services.transaction() as uow:
        organisations.deactivate_staff(uow.session, actor=actor_of(services, admin), organisation_id=None,
                                       staff_id=second.id, now=services.now)
    now_actor = actor_of(services, second)
    assert not now_actor.memberships and stale.memberships
    calls = [
        lambda session: organisations.invite(session, actor=now_actor, keys=services.keys,
                                             organisation_id=organisation_id, role="worker", now=services.now),
        lambda session: organisations.list_staff(session, actor=now_actor, organisation_id=organisation_id),
        lambda session: organisations.organisation_purposes(session, actor=now_actor, organisation_id=organisation_id),
        lambda session: organisations.organisation_counts(session, actor=now_actor, organisation_id=organisation_id,
                                                          now=services.now),
        lambda session: organisations.deactivate_staff(session, actor=now_actor, organisation_id=organisation_id,
                                                       staff_id=worker.id, now=services.now),
    ]
    for call in calls:
        with pytest.raises(NotAllowed), services.transaction() as uow:
            call(uow.session)
