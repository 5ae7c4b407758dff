"""Assisted recovery, on SQLite and PostgreSQL: the opt-in, the organisation key, a recovery in person, and the
misuse that must fail (one staff member, another organisation, no opt-in, an opt-out, a departed admin)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from crypto import age
from crypto.errors import CryptoError
from tests.factories import (
    KNOWN_PASSWORD,
    PersonMade,
    attempt_for,
    join_staff,
    make_follow,
    make_organisation,
    make_person,
    make_staff,
    sign_in,
)
from vault import assisted_recovery, follows, organisations, recovery_in_person
from vault.errors import (
    AuthenticationFailed,
    FollowNotFound,
    RecoveryKeyMissing,
    RecoveryNeedsAdmin,
    RecoveryNeedsAnotherStaff,
    RecoveryNotFound,
    RecoveryPersonNotFound,
    SessionExpired,
    WrongPassword,
)
from vault.keys import unseal_identity_with_code, unseal_identity_with_password
from vault.models import Account, AssistedRecoverySeal, Event, Organisation, OrganisationKeySeal, RecoveryCode
from vault.models import Session as SessionRow
from vault.policies import Actor

NEW_PASSWORD = "marteau-nuage-violon-7"


@dataclass
class World:
    lilas: str
    admin: PersonMade
    worker: PersonMade
    foreign: PersonMade
    person: PersonMade


def keep_key(services, staff: PersonMade, organisation_id: str):
    with services.transaction() as uow:
        return assisted_recovery.keep_organisation_key(uow.session, current=services.current(uow.session, staff.token),
                                                       organisation_id=organisation_id, now=services.now)


def choose(services, person: PersonMade, organisation_id: str, enabled: bool, password: str = KNOWN_PASSWORD):
    with services.transaction() as uow:
        return assisted_recovery.set_assisted_recovery(
            uow.session, keys=services.keys, attempt=attempt_for(services),
            current=services.current(uow.session, person.token), organisation_id=organisation_id, enabled=enabled,
            password=password, now=services.now)


def start(services, staff: PersonMade, username: str) -> str:
    with services.transaction() as uow:
        return recovery_in_person.start_recovery(
            uow.session, keys=services.keys, attempt=attempt_for(services),
            current=services.current(uow.session, staff.token), organisation_id=None, person=username,
            password=staff.password, now=services.now).id


def confirm(services, staff: PersonMade, recovery_id: str):
    with services.transaction() as uow:
        return recovery_in_person.confirm_recovery(
            uow.session, keys=services.keys, attempt=attempt_for(services),
            current=services.current(uow.session, staff.token), recovery_id=recovery_id, password=staff.password,
            now=services.now)


def complete(services, staff: PersonMade, recovery_id: str, new_password: str = NEW_PASSWORD) -> list[str]:
    with services.transaction() as uow:
        return recovery_in_person.complete_recovery(
            uow.session, keys=services.keys, current=services.current(uow.session, staff.token),
            recovery_id=recovery_id, new_password=new_password, now=services.now).recovery_codes


@pytest.fixture
def world(services) -> World:
    lilas, _ = make_organisation(services, "Les Lilas")
    admin = make_staff(services, "admin.lilas", organisation_id=lilas, role="admin")
    worker = make_staff(services, "worker.lilas", organisation_id=lilas)
    foreign = make_staff(services, "worker.autre", organisation="Autre", role="admin")
    person = make_person(services, "ahmed")
    make_follow(services, person, lilas)
    keep_key(services, admin, lilas)
    choose(services, person, lilas, True)
    return World(lilas=lilas, admin=admin, worker=worker, foreign=foreign, person=person)


def count(services, model, *conditions) -> int:
    with services.transaction() as uow:
        return uow.session.scalar(select(func.count()).select_from(model).where(*conditions))


# --- the organisation key and the opt-in ---------------------------------------------------------------------
def test_the_key_is_made_by_an_admin_and_sealed_to_them_only(services):
    lilas, _ = make_organisation(services, "Les Lilas")
    admin = make_staff(services, "admin.lilas", organisation_id=lilas, role="admin")
    worker = make_staff(services, "worker.lilas", organisation_id=lilas)
    assert keep_key(services, worker, lilas).exists is False  # a worker makes nothing
    state = keep_key(services, admin, lilas)
    assert state.created and state.held
    assert keep_key(services, admin, lilas) == assisted_recovery.OrganisationKeyState(exists=True, held=True)
    with services.transaction() as uow:
        organisation = uow.session.get(Organisation, lilas)
        seals = list(uow.session.scalars(select(OrganisationKeySeal)))
        assert [seal.admin_id for seal in seals] == [admin.id]
        assert seals[0].public_key == organisation.recovery_public_key
        admin_identity = services.current(uow.session, admin.token).identity
        opened = age.X25519Identity.from_string(age.decrypt_bytes(seals[0].sealed_identity,
                                                                  identities=[admin_identity]).decode())
        assert opened.recipient.to_string() == organisation.recovery_public_key
        with pytest.raises(CryptoError):  # the worker's identity opens nothing
            age.decrypt_bytes(seals[0].sealed_identity, identities=[services.current(uow.session, worker.token).identity])


def test_an_admin_who_joins_later_gets_the_key_when_a_holder_acts(services, world):
    with services.transaction() as uow:
        code = organisations.invite(uow.session, actor=services.current(uow.session, world.admin.token).actor,
                                    keys=services.keys, organisation_id=world.lilas, role="admin",
                                    now=services.now).code
    newcomer = join_staff(services, code, "second.admin")
    assert keep_key(services, newcomer, world.lilas).held is False  # nobody's identity was in hand at joining
    state = keep_key(services, world.admin, world.lilas)
    assert state.sealed_to == 1
    assert keep_key(services, newcomer, world.lilas).held is True


def test_opting_in_needs_a_key_a_follow_and_the_password(services):
    lilas, _ = make_organisation(services, "Les Lilas")
    admin = make_staff(services, "admin.lilas", organisation_id=lilas, role="admin")
    person = make_person(services, "ahmed")
    with pytest.raises(FollowNotFound):
        choose(services, person, lilas, True)
    make_follow(services, person, lilas)
    with pytest.raises(RecoveryKeyMissing):
        choose(services, person, lilas, True)
    keep_key(services, admin, lilas)
    with pytest.raises(WrongPassword):
        choose(services, person, lilas, True, password="pas-le-bon-mot")
    assert count(services, AssistedRecoverySeal) == 0
    assert choose(services, person, lilas, True) is True
    assert choose(services, person, lilas, True) is False  # once is enough
    assert count(services, Event, Event.action == "assisted_recovery.enabled") == 1
    with services.transaction() as uow:
        seal = uow.session.scalars(select(AssistedRecoverySeal)).one()
        assert seal.public_key == uow.session.get(Organisation, lilas).recovery_public_key


def test_opting_out_destroys_the_seal_and_recovery_is_refused(services, world):
    assert choose(services, world.person, world.lilas, False) is True
    assert count(services, AssistedRecoverySeal) == 0
    assert count(services, Event, Event.action == "assisted_recovery.disabled") == 1
    with pytest.raises(RecoveryPersonNotFound):
        start(services, world.worker, "ahmed")


def test_ending_the_follow_opts_out(services, world):
    with services.transaction() as uow:
        follow_id = follows.list_follows(uow.session, actor=Actor.person(world.person.id))[0].id
        follows.end_follow(uow.session, actor=Actor.person(world.person.id), follow_id=follow_id, now=services.now)
    assert count(services, AssistedRecoverySeal) == 0
    with pytest.raises(RecoveryPersonNotFound):
        start(services, world.worker, "ahmed")


# --- a recovery in person -----------------------------------------------------------------------------------
def test_a_full_recovery_lets_the_person_back_in_and_nothing_old_works(services, world):
    old_token = world.person.token
    with services.transaction() as uow:
        account = uow.session.get(Account, world.person.id)
        old_public_key = account.public_key
    recovery_id = start(services, world.worker, "Ahmed ")
    view = confirm(services, world.admin, recovery_id)
    assert view.confirmed and view.started_by == "worker.lilas" and view.confirmed_by == "admin.lilas"
    codes = complete(services, world.admin, recovery_id)
    assert len(codes) == 10 and not set(codes) & set(world.person.recovery_codes)
    with services.transaction() as uow:
        account = uow.session.get(Account, world.person.id)
        identity = unseal_identity_with_password(services.keys, account.id, account.password_sealed_identity,
                                                 NEW_PASSWORD)
        assert identity.recipient.to_string() == old_public_key == account.public_key  # the same vault
        with pytest.raises(CryptoError):
            unseal_identity_with_password(services.keys, account.id, account.password_sealed_identity, KNOWN_PASSWORD)
        assert account.recovery_notice_at == services.now and not account.otp_enabled
        old_rows = uow.session.scalars(select(RecoveryCode).where(RecoveryCode.account_id == account.id,
                                                                 RecoveryCode.created_at < services.now)).all()
        assert all(row.used_at is not None for row in old_rows)
        assert uow.session.scalar(select(func.count()).select_from(SessionRow)
                                  .where(SessionRow.account_id == account.id)) == 0
        with pytest.raises(SessionExpired):
            services.current(uow.session, old_token)
        actions = [event.action for event in uow.session.scalars(
            select(Event).where(Event.subject_id == account.id).order_by(Event.at, Event.sequence))]
        reset = uow.session.scalars(select(Event).where(Event.action == "password.reset")).one()
        assert reset.details == {"method": "assisted", "codes_left": 10} and reset.actor_id == account.id
        completed = uow.session.scalars(select(Event).where(Event.action == "assisted_recovery.completed")).one()
        assert completed.details["confirmed_by_name"] == "worker.lilas" and completed.actor_id == world.admin.id
    assert actions[-4:] == ["assisted_recovery.started", "assisted_recovery.confirmed",
                            "assisted_recovery.completed", "password.reset"]
    with pytest.raises(AuthenticationFailed):
        sign_in(services, "ahmed", KNOWN_PASSWORD)
    assert sign_in(services, "ahmed", NEW_PASSWORD)
    # The old codes are burnt: none can be spent any more.
    from vault.sign_in import spend_recovery_code

    with services.transaction() as uow:
        account = uow.session.get(Account, world.person.id)
        assert not any(spend_recovery_code(uow.session, keys=services.keys, account=account, code=code,
                                           now=services.now) for code in world.person.recovery_codes)
        assert spend_recovery_code(uow.session, keys=services.keys, account=account, code=codes[0], now=services.now)


def test_old_code_rows_no_longer_serve(services, world):
    recovery_id = start(services, world.admin, "ahmed")
    confirm(services, world.worker, recovery_id)
    complete(services, world.admin, recovery_id)  # the admin started: they finish
    with services.transaction() as uow:
        unused = uow.session.scalars(select(RecoveryCode).where(RecoveryCode.account_id == world.person.id,
                                                               RecoveryCode.used_at.is_(None))).all()
        assert len(unused) == 10
        # Each unused row opens only with a new code, never an old one.
        with pytest.raises(CryptoError):
            from crypto.codes import normalise_recovery_code
            unseal_identity_with_code(services.keys, world.person.id, unused[0].sealed_identity,
                                      normalise_recovery_code(world.person.recovery_codes[0]))


def test_one_staff_member_alone_cannot(services, world):
    recovery_id = start(services, world.admin, "ahmed")
    with pytest.raises(RecoveryNeedsAnotherStaff):
        confirm(services, world.admin, recovery_id)
    with pytest.raises(RecoveryNotFound):  # not confirmed: nothing to finish
        complete(services, world.admin, recovery_id)
    assert count(services, Event, Event.action == "password.reset") == 0


def test_two_workers_without_an_admin_cannot(services, world):
    colleague = make_staff(services, "colleague.lilas", organisation_id=world.lilas)
    recovery_id = start(services, world.worker, "ahmed")
    with pytest.raises(RecoveryNeedsAdmin):
        confirm(services, colleague, recovery_id)


def test_the_worker_of_the_pair_cannot_finish(services, world):
    recovery_id = start(services, world.worker, "ahmed")
    confirm(services, world.admin, recovery_id)
    with pytest.raises(RecoveryNeedsAdmin):
        complete(services, world.worker, recovery_id)


def test_staff_of_another_organisation_cannot(services, world):
    with pytest.raises(RecoveryPersonNotFound):
        start(services, world.foreign, "ahmed")
    recovery_id = start(services, world.worker, "ahmed")
    with pytest.raises(RecoveryNotFound):
        confirm(services, world.foreign, recovery_id)
    confirm(services, world.admin, recovery_id)
    with pytest.raises(RecoveryNotFound):
        complete(services, world.foreign, recovery_id)


def test_an_admin_outside_the_pair_cannot_finish(services, world):
    other_admin = make_staff(services, "other.admin", organisation_id=world.lilas, role="admin")
    keep_key(services, world.admin, world.lilas)
    recovery_id = start(services, world.worker, "ahmed")
    confirm(services, world.admin, recovery_id)
    with pytest.raises(RecoveryNotFound):
        complete(services, other_admin, recovery_id)


def test_a_deactivated_staff_member_counts_for_nothing(services, world):
    recovery_id = start(services, world.worker, "ahmed")
    with services.transaction() as uow:
        organisations.deactivate_staff(uow.session, actor=services.current(uow.session, world.admin.token).actor,
                                       organisation_id=world.lilas, staff_id=world.worker.id, now=services.now)
    with pytest.raises(RecoveryNotFound):  # the one who started has left
        confirm(services, world.admin, recovery_id)
    with pytest.raises(SessionExpired):
        confirm(services, world.worker, recovery_id)


def test_a_witness_leaving_before_the_end_stops_it(services, world):
    recovery_id = start(services, world.worker, "ahmed")
    confirm(services, world.admin, recovery_id)
    with services.transaction() as uow:
        organisations.deactivate_staff(uow.session, actor=services.current(uow.session, world.admin.token).actor,
                                       organisation_id=world.lilas, staff_id=world.worker.id, now=services.now)
    with pytest.raises(RecoveryNotFound):
        complete(services, world.admin, recovery_id)


def test_without_opt_in_the_answer_is_the_same_as_for_nobody(services, world):
    stranger = make_person(services, "bintou")  # exists, does not follow
    follower = make_person(services, "carla")
    make_follow(services, follower, world.lilas)  # follows, did not opt in
    answers = []
    for username in ("bintou", "carla", "personne", "NOT A NAME!"):
        with pytest.raises(RecoveryPersonNotFound) as raised:
            start(services, world.worker, username)
        answers.append((type(raised.value), str(raised.value), raised.value.details))
    assert len(set(map(repr, answers))) == 1
    assert stranger and count(services, Event, Event.action == "assisted_recovery.started") == 0


def test_opting_out_during_a_recovery_stops_it(services, world):
    recovery_id = start(services, world.worker, "ahmed")
    choose(services, world.person, world.lilas, False)
    with pytest.raises(RecoveryNotFound):
        confirm(services, world.admin, recovery_id)


def test_a_recovery_expires(services, world, clock):
    recovery_id = start(services, world.worker, "ahmed")
    clock.advance(minutes=16)
    admin_token = sign_in(services, world.admin.username, world.admin.password,
                          otp=__import__("tests.factories", fromlist=["current_otp"]).current_otp(world.admin,
                                                                                                 services.now))
    world.admin.token = admin_token
    with pytest.raises(RecoveryNotFound):
        confirm(services, world.admin, recovery_id)


def test_a_weak_new_password_changes_nothing(services, world):
    recovery_id = start(services, world.worker, "ahmed")
    confirm(services, world.admin, recovery_id)
    from vault.errors import WeakPassword

    with pytest.raises(WeakPassword):
        complete(services, world.admin, recovery_id, new_password="ahmed")
    assert count(services, Event, Event.action == "password.reset") == 0
    assert complete(services, world.admin, recovery_id)  # still open: the person tries again


def test_parallel_completes_one_wins(services, world):
    recovery_id = start(services, world.worker, "ahmed")
    confirm(services, world.admin, recovery_id)
    barrier = threading.Barrier(2)
    outcomes = []

    def finish(password):
        barrier.wait()
        try:
            outcomes.append(("ok", complete(services, world.admin, recovery_id, new_password=password)))
        except RecoveryNotFound:
            outcomes.append(("refused", None))
        except OperationalError:  # SQLite busy under contention: the other one holds the write
            outcomes.append(("refused", None))

    passwords = [NEW_PASSWORD, "tortue-soleil-piano-4"]
    threads = [threading.Thread(target=finish, args=(password,)) for password in passwords]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(kind for kind, _ in outcomes) == ["ok", "refused"]
    assert count(services, Event, Event.action == "password.reset") == 1
    assert count(services, Event, Event.action == "assisted_recovery.completed") == 1
    winner = next(codes for kind, codes in outcomes if kind == "ok")
    assert count(services, RecoveryCode, RecoveryCode.account_id == world.person.id,
                 RecoveryCode.used_at.is_(None)) == len(winner) == 10


# --- an admin leaving -------------------------------------------------------------------------------------------
def test_an_admin_leaving_rotates_the_key(services, world):
    second = make_staff(services, "second.admin", organisation_id=world.lilas, role="admin")
    keep_key(services, world.admin, world.lilas)  # the second admin receives their seal
    with services.transaction() as uow:
        old_public = uow.session.get(Organisation, world.lilas).recovery_public_key
        second_identity = services.current(uow.session, second.token).identity
        second_seal = uow.session.scalars(select(OrganisationKeySeal).where(
            OrganisationKeySeal.admin_id == second.id)).one().sealed_identity
    # What the departing admin could have kept: the old organisation identity.
    old_identity = age.X25519Identity.from_string(age.decrypt_bytes(second_seal, identities=[second_identity]).decode())
    assert old_identity.recipient.to_string() == old_public
    with services.transaction() as uow:
        organisations.deactivate_staff(uow.session, actor=services.current(uow.session, world.admin.token).actor,
                                       organisation_id=world.lilas, staff_id=second.id, now=services.now,
                                       identity=services.current(uow.session, world.admin.token).identity)
    with services.transaction() as uow:
        organisation = uow.session.get(Organisation, world.lilas)
        assert organisation.recovery_public_key != old_public
        seals = uow.session.scalars(select(OrganisationKeySeal)).all()
        assert [(seal.admin_id, seal.public_key) for seal in seals] == [(world.admin.id,
                                                                          organisation.recovery_public_key)]
        person_seal = uow.session.scalars(select(AssistedRecoverySeal)).one()
        assert person_seal.public_key == organisation.recovery_public_key
        with pytest.raises(CryptoError):  # the departed admin's old key opens nothing now
            age.decrypt_bytes(person_seal.sealed_identity, identities=[old_identity])
        rotated = uow.session.scalars(select(Event).where(Event.action == "organisation.recovery_key_rotated")).one()
        assert rotated.details == {"organisation": "Les Lilas", "reason": "admin_left"}
    recovery_id = start(services, world.worker, "ahmed")  # and the remaining admin still can
    confirm(services, world.admin, recovery_id)
    assert complete(services, world.admin, recovery_id)


def test_an_admin_without_a_seal_deactivating_leaves_the_rotation_due(services, world):
    second = make_staff(services, "second.admin", organisation_id=world.lilas, role="admin")
    third = make_staff(services, "third.admin", organisation_id=world.lilas, role="admin")
    keep_key(services, world.admin, world.lilas)  # second and third get seals
    newcomer = make_staff(services, "newcomer.admin", organisation_id=world.lilas, role="admin")  # none
    with services.transaction() as uow:
        old_public = uow.session.get(Organisation, world.lilas).recovery_public_key
        current = services.current(uow.session, newcomer.token)
        organisations.deactivate_staff(uow.session, actor=current.actor, organisation_id=world.lilas,
                                       staff_id=second.id, now=services.now, identity=current.identity)
    assert count(services, OrganisationKeySeal, OrganisationKeySeal.admin_id == second.id) == 1  # the marker
    state = keep_key(services, third, world.lilas)  # the next holder who acts rotates
    assert state.rotated
    with services.transaction() as uow:
        organisation = uow.session.get(Organisation, world.lilas)
        assert organisation.recovery_public_key != old_public
        holders = set(uow.session.scalars(select(OrganisationKeySeal.admin_id)))
    assert holders == {world.admin.id, third.id, newcomer.id}


def test_the_last_holder_leaving_drops_the_key(services, world):
    newcomer = make_staff(services, "newcomer.admin", organisation_id=world.lilas, role="admin")  # no seal
    with services.transaction() as uow:
        current = services.current(uow.session, newcomer.token)
        organisations.deactivate_staff(uow.session, actor=current.actor, organisation_id=world.lilas,
                                       staff_id=world.admin.id, now=services.now, identity=current.identity)
    assert count(services, AssistedRecoverySeal) == 0 and count(services, OrganisationKeySeal) == 0
    with services.transaction() as uow:
        assert uow.session.get(Organisation, world.lilas).recovery_public_key is None
        event = uow.session.scalars(select(Event).where(Event.action == "assisted_recovery.disabled")).one()
        assert event.subject_id == world.person.id and event.details["reason"] == "key_lost"
    with pytest.raises(RecoveryPersonNotFound):
        start(services, world.worker, "ahmed")


def test_an_admin_without_the_key_cannot_finish_and_nothing_changes(services, world):
    newcomer = make_staff(services, "newcomer.admin", organisation_id=world.lilas, role="admin")  # no seal yet
    recovery_id = start(services, world.worker, "ahmed")
    confirm(services, newcomer, recovery_id)  # confirming hands nothing to them: they hold no seal to open
    from vault.errors import RecoveryKeyNotHeld

    with pytest.raises(RecoveryKeyNotHeld):
        complete(services, newcomer, recovery_id)
    assert count(services, Event, Event.action == "password.reset") == 0
    keep_key(services, world.admin, world.lilas)  # a holder acts: the newcomer gets their seal
    assert complete(services, newcomer, recovery_id)


def test_the_seal_is_bound_to_its_person(services, world):
    """A person's seal copied onto another person's row opens to nothing usable for that other person."""
    other = make_person(services, "bintou")
    make_follow(services, other, world.lilas)
    choose(services, other, world.lilas, True)
    with services.transaction() as uow:
        seals = {seal.person_id: seal for seal in uow.session.scalars(select(AssistedRecoverySeal))}
        seals[other.id].sealed_identity = seals[world.person.id].sealed_identity  # a swapped row
    recovery_id = start(services, world.worker, "bintou")
    confirm(services, world.admin, recovery_id)
    from vault.errors import RecoveryKeyNotHeld

    with pytest.raises(RecoveryKeyNotHeld):
        complete(services, world.admin, recovery_id)


def test_the_person_reads_who_let_them_back_in(services, world):
    from vault.activity import list_activity
    from vault.i18n import Translator

    recovery_id = start(services, world.worker, "ahmed")
    confirm(services, world.admin, recovery_id)
    complete(services, world.admin, recovery_id)
    with services.transaction() as uow:
        owner = uow.session.get(Account, world.person.id)
        page = list_activity(uow.session, owner=owner, words=Translator.load().for_language("en"), keys=services.keys)
        lines = {item.action: item for item in page.items}
    completed = lines["assisted_recovery.completed"]
    assert completed.sentence.startswith("admin.lilas and worker.lilas of Les Lilas let you back in")
    assert completed.actor == "admin.lilas" and completed.pictogram == "life-buoy"
    assert "worker.lilas of Les Lilas started" in lines["assisted_recovery.started"].sentence
    assert lines["password.reset"].sentence == "You chose a new password, with the help of two staff members."
    assert "You chose to be helped back in by Les Lilas" in lines["assisted_recovery.enabled"].sentence


def test_an_admin_leaving_on_their_own_still_rotates(services, world):
    second = make_staff(services, "second.admin", organisation_id=world.lilas, role="admin")
    keep_key(services, world.admin, world.lilas)
    with services.transaction() as uow:
        old_public = uow.session.get(Organisation, world.lilas).recovery_public_key
        current = services.current(uow.session, second.token)
        organisations.deactivate_staff(uow.session, actor=current.actor, organisation_id=world.lilas,
                                       staff_id=second.id, now=services.now, identity=current.identity)
    with services.transaction() as uow:
        organisation = uow.session.get(Organisation, world.lilas)
        assert organisation.recovery_public_key != old_public
        assert set(uow.session.scalars(select(OrganisationKeySeal.admin_id))) == {world.admin.id}
