"""A forgotten password reset with a recovery code (no HTTP), on SQLite and PostgreSQL: what it opens, what
it ends, what it refuses and how it is throttled, parallel replays of one code included."""

from __future__ import annotations

import threading
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import func, select

from crypto.codes import normalise_recovery_code
from crypto.errors import CryptoError
from tests.conftest import START
from tests.vault.sign_in_fixtures import (  # noqa: F401 - fixtures
    PASSWORD,
    TIMEOUTS,
    attempt_from,
    enrol,
    keys,
    session_factory,
)
from vault import accounts, recovery, sessions, two_factor
from vault import sign_in as sign_in_service
from vault.errors import (
    AccountLocked,
    AuthenticationFailed,
    PasswordTooShort,
    RecoveryFailed,
    SessionExpired,
    TooManyAttempts,
    VaultError,
    WeakPassword,
)
from vault.events import verify_chain
from vault.keys import unseal_identity_with_code, unseal_identity_with_password
from vault.models import Account, Event, RecoveryCode, Session, Throttle

pytestmark = pytest.mark.usefixtures("database_url")
SHELTER = "192.0.2.10"
NEW_PASSWORD = "voilier-cerise-brouillard-4"


def run(session_factory, function, **arguments):
    """One request: its own transaction, committed or rolled back as the request pipeline does."""
    with session_factory() as db:
        try:
            result = function(db, **arguments)
        except VaultError as error:
            db.commit() if error.keeps_changes else db.rollback()
            raise
        db.commit()
        return result


def reset(session_factory, keys, username, code, new_password=NEW_PASSWORD, *, now=START, address=SHELTER,
          devices=()):
    return run(session_factory, recovery.reset_password_with_code, keys=keys, timeouts=TIMEOUTS,
               attempt=attempt_from(session_factory, address, *devices), username=username, recovery_code=code,
               new_password=new_password, now=now)


def sign_in(session_factory, keys, username, password=PASSWORD, *, now=START, address=SHELTER, **extra):
    return run(session_factory, sign_in_service.sign_in, keys=keys, timeouts=TIMEOUTS,
               attempt=attempt_from(session_factory, address), username=username, password=password, now=now,
               **extra)


def snapshot(session_factory, account_id):
    """Everything a refused reset must leave as it was."""
    with session_factory() as db:
        account = db.get(Account, account_id)
        return (account.password_sealed_identity, account.otp_enabled, account.recovery_notice_at,
                sorted((code.id, code.used_at) for code in db.scalars(select(RecoveryCode)
                                                                       .where(RecoveryCode.account_id == account_id))),
                sorted(db.scalars(select(Session.id).where(Session.account_id == account_id))))


def alive(session_factory, token, now=START) -> bool:
    with session_factory() as db:
        try:
            sessions.authenticate(db, token=token, timeouts=TIMEOUTS, now=now)
        except SessionExpired:
            return False
        return True


def turn_on_two_factor(session_factory, keys, person, token, now=START) -> str:
    with session_factory() as db:
        current = sessions.authenticate(db, token=token, timeouts=TIMEOUTS, now=now)
        setup = two_factor.begin_setup(db, keys=keys, attempt=attempt_from(session_factory), current=current,
                                       password=person.password, now=now)
        two_factor.confirm_setup(db, keys=keys, attempt=attempt_from(session_factory), current=current,
                                 code=pyotp.TOTP(setup.secret).at(now), now=now)
        db.commit()
    return setup.secret


def test_a_code_resets_the_password_and_what_could_be_a_thiefs_ends(session_factory, keys):
    person = enrol(session_factory, keys, "amina", now=START)
    first = sign_in(session_factory, keys, "amina").token
    turn_on_two_factor(session_factory, keys, person, first)
    second = sign_in(session_factory, keys, "amina", otp=None, recovery_code=person.recovery_codes[5]).token
    with session_factory() as db:
        public_key = db.get(Account, person.id).public_key
    later = START + timedelta(hours=1)

    result = reset(session_factory, keys, " Amina ", person.recovery_codes[0].lower(), now=later)

    assert result.recovery_codes_left == 8 and result.second_factor is None
    assert not alive(session_factory, first, later) and not alive(session_factory, second, later)
    assert alive(session_factory, result.token, later)
    with session_factory() as db:
        account = db.get(Account, person.id)
        assert account.public_key == public_key  # the same vault key: the papers stay readable
        assert unseal_identity_with_password(keys, person.id, account.password_sealed_identity,
                                             NEW_PASSWORD).recipient.to_string() == public_key
        with pytest.raises(CryptoError):  # the old password opens nothing any more
            unseal_identity_with_password(keys, person.id, account.password_sealed_identity, PASSWORD)
        burnt = db.scalars(select(RecoveryCode).where(RecoveryCode.used_at == later)).one()
        with pytest.raises(CryptoError):  # nor the burnt code, whatever is copied from the database
            unseal_identity_with_code(keys, person.id, burnt.sealed_identity,
                                      normalise_recovery_code(person.recovery_codes[0]))
        assert account.otp_enabled is False and account.otp_secret_sealed is None
        assert account.recovery_notice_at == later and account.password_changed_at == later
        events = {event.action: event.details for event in db.scalars(select(Event).where(Event.at == later))}
        assert events["password.reset"] == {"method": "recovery_code", "codes_left": 8}
        assert events["otp.disabled"] == {"reason": "reset"}
        assert "signin.succeeded" in events
        assert verify_chain(db, person.id)
    with pytest.raises(AuthenticationFailed):
        sign_in(session_factory, keys, "amina", now=later)
    # The new password alone signs in (two-step sign-in is off); the burnt code resets nothing again.
    assert sign_in(session_factory, keys, "amina", NEW_PASSWORD, now=later).current.account.id == person.id
    before = snapshot(session_factory, person.id)
    with pytest.raises(RecoveryFailed):
        reset(session_factory, keys, "amina", person.recovery_codes[0], "autre-phrase-longue-77", now=later)
    assert snapshot(session_factory, person.id) == before


def test_the_notice_is_said_in_the_sessions_after_the_reset_until_acknowledged(session_factory, keys):
    person = enrol(session_factory, keys, "nadia", now=START)
    result = reset(session_factory, keys, "nadia", person.recovery_codes[0])
    assert recovery.recovery_notice(result.current) is None  # the reset's own page tells them
    later = START + timedelta(days=2)
    token = sign_in(session_factory, keys, "nadia", NEW_PASSWORD, now=later).token
    with session_factory() as db:
        current = sessions.authenticate(db, token=token, timeouts=TIMEOUTS, now=later)
        assert recovery.recovery_notice(current) == START
        recovery.acknowledge_recovery_notice(db, current=current)
        db.commit()
    with session_factory() as db:
        assert recovery.recovery_notice(sessions.authenticate(db, token=token, timeouts=TIMEOUTS, now=later)) is None


@pytest.mark.parametrize("who, code", [
    ("unknown username", "nobody"),
    ("wrong code", "wrong"),
    ("another account's code", "other"),
    ("no code", ""),
    ("staff account", "staff"),
])
def test_refusals_get_one_answer_and_change_nothing(session_factory, keys, who, code):
    person = enrol(session_factory, keys, "karim", now=START)
    other = enrol(session_factory, keys, "other", now=START)
    token = sign_in(session_factory, keys, "karim").token
    username, typed = "karim", person.recovery_codes[0]
    if code == "nobody":
        username = "nobody"
    elif code == "wrong":
        typed = "ABCDE-FGHJK-MNPQR-STUVW"
    elif code == "other":
        typed = other.recovery_codes[0]
    elif code == "":
        typed = ""
    elif code == "staff":
        with session_factory() as db:
            place = accounts.create_organisation(db, name="Accueil", now=START)
            staff = accounts.create_staff(db, keys=keys, organisation=place, username="worker", password=PASSWORD,
                                          role="admin", now=START)
            db.commit()
        username, typed = "worker", staff.recovery_codes[0]
    before = snapshot(session_factory, person.id), snapshot(session_factory, other.id)
    with pytest.raises(RecoveryFailed) as refused:
        reset(session_factory, keys, username, typed)
    assert refused.value.code == "recovery_failed"
    assert (snapshot(session_factory, person.id), snapshot(session_factory, other.id)) == before
    assert alive(session_factory, token)


def test_a_weak_new_password_is_refused_before_anything_is_spent(session_factory, keys):
    person = enrol(session_factory, keys, "yasmine", now=START)
    before = snapshot(session_factory, person.id)
    for weak in ["court", "motdepasse", "yasmine-2026!", "azertyuiop"]:
        with pytest.raises(WeakPassword):
            reset(session_factory, keys, "yasmine", person.recovery_codes[0], weak)
    with pytest.raises(PasswordTooShort) as short:
        reset(session_factory, keys, "yasmine", person.recovery_codes[0], "court")
    assert short.value.details["suggested_passphrase"]
    assert snapshot(session_factory, person.id) == before
    with session_factory() as db:
        assert db.scalar(select(func.count()).select_from(Throttle)) == 0  # no try reserved
    assert reset(session_factory, keys, "yasmine", person.recovery_codes[0]).recovery_codes_left == 9


def test_parallel_replays_of_one_code_make_exactly_one_reset(session_factory, keys):
    person = enrol(session_factory, keys, "sami", now=START)
    replays = 4
    barrier = threading.Barrier(replays)
    outcomes: dict[int, object] = {}

    def replay(index):
        barrier.wait(30)
        try:
            outcomes[index] = reset(session_factory, keys, "sami", person.recovery_codes[0], f"{NEW_PASSWORD}-{index}",
                                    address=f"192.0.2.{50 + index}")
        except Exception as error:  # noqa: BLE001 - the refusal is the outcome under test
            outcomes[index] = error

    threads = [threading.Thread(target=replay, args=(index,)) for index in range(replays)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    winners = [index for index, outcome in outcomes.items() if isinstance(outcome, sign_in_service.SignIn)]
    losers = [outcome for outcome in outcomes.values() if not isinstance(outcome, sign_in_service.SignIn)]
    assert len(outcomes) == replays and len(winners) == 1
    assert all(isinstance(error, RecoveryFailed) for error in losers), losers
    with session_factory() as db:
        account = db.get(Account, person.id)
        unseal_identity_with_password(keys, person.id, account.password_sealed_identity,
                                      f"{NEW_PASSWORD}-{winners[0]}")
        assert accounts.recovery_codes_left(db, account) == 9
        assert db.scalar(select(func.count()).select_from(Session).where(Session.account_id == person.id)) == 1
        assert db.scalar(select(func.count()).select_from(Event).where(Event.action == "password.reset")) == 1


def test_guessing_codes_is_throttled_with_the_real_wait_and_the_owner_still_gets_in(session_factory, keys):
    person = enrol(session_factory, keys, "hakim", now=START)
    for _ in range(5):
        with pytest.raises(RecoveryFailed):
            reset(session_factory, keys, "hakim", "ABCDE-FGHJK-MNPQR-STUVW", address="198.51.100.7")
    with pytest.raises(TooManyAttempts) as locked:
        reset(session_factory, keys, "hakim", "ABCDE-FGHJK-MNPQR-STUVW", address="198.51.100.7")
    assert locked.value.retry_after_seconds == 15
    assert isinstance(locked.value, AccountLocked)
    for _ in range(5):  # an unknown name is answered the same way, failures and lock alike
        with pytest.raises(RecoveryFailed):
            reset(session_factory, keys, "nobody", "ABCDE-FGHJK-MNPQR-STUVW", address="198.51.100.8")
    with pytest.raises(AccountLocked) as again:
        reset(session_factory, keys, "nobody", "ABCDE-FGHJK-MNPQR-STUVW", address="198.51.100.8")
    assert again.value.retry_after_seconds == 15
    # The stranger's lock does not keep the owner out: an unused code of theirs gets past it.
    result = reset(session_factory, keys, "hakim", person.recovery_codes[3], address=SHELTER)
    assert result.recovery_codes_left == 9
