"""The sign-in service (no HTTP): budgets per path, the ways past a lock that only the owner has, bursts in
the activity, the pages' second step, the KDF gate, and rotation of the application key."""

from __future__ import annotations

import base64
import threading
from dataclasses import replace
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import func, select

from crypto.sealing import KeyRing, key_ring_version
from tests.conftest import START
from tests.vault.sign_in_fixtures import (  # noqa: F401 - fixtures
    PASSWORD,
    TIMEOUTS,
    attempt_from,
    enrol,
    keys,
    random_key_text,
    session_factory,
)
from vault import sessions, two_factor
from vault import sign_in as service
from vault.capacity import WorkGate
from vault.errors import (
    AccountLocked,
    AuthenticationFailed,
    SecondFactorFailed,
    SecondFactorRequired,
    SessionExpired,
    SignInBusy,
    TooManyAttempts,
    VaultError,
)
from vault.events import verify_chain
from vault.models import Account, Event, FailedSignInBurst, RecoveryCode, Throttle
from vault.throttle import account_key

pytestmark = pytest.mark.usefixtures("database_url")
SHELTER = "192.0.2.10"


def run(session_factory, function, **arguments):
    """One request: the service in its own transaction, committed or rolled back as the pipeline does."""
    with session_factory() as db:
        try:
            result = function(db, **arguments)
        except VaultError as error:
            db.commit() if error.keeps_changes else db.rollback()
            raise
        db.commit()
        return result


def sign_in(session_factory, keys, username, password=PASSWORD, *, now=START, address=SHELTER, devices=(), **extra):
    return run(session_factory, service.sign_in, keys=keys, timeouts=TIMEOUTS,
               attempt=attempt_from(session_factory, address, *devices), username=username, password=password,
               now=now, **extra)


def fail(session_factory, keys, username, times, *, now=START, address=SHELTER, password="not-the-password"):
    for _ in range(times):
        with pytest.raises((AuthenticationFailed, TooManyAttempts)):
            sign_in(session_factory, keys, username, password, now=now, address=address)


def turn_on_two_factor(session_factory, keys, person, now=START) -> str:
    result = sign_in(session_factory, keys, person.username, now=now)
    with session_factory() as db:
        current = sessions.authenticate(db, token=result.token, timeouts=TIMEOUTS, now=now)
        setup = two_factor.begin_setup(db, keys=keys, attempt=attempt_from(session_factory), current=current,
                                       password=person.password, now=now)
        two_factor.confirm_setup(db, keys=keys, attempt=attempt_from(session_factory), current=current,
                                 code=pyotp.TOTP(setup.secret).at(now), now=now)
        db.commit()
    return setup.secret


def test_unknown_username_and_wrong_password_get_the_same_error_and_budget(session_factory, keys):
    enrol(session_factory, keys, "amina", now=START)
    for username in ["amina", "nobody"]:
        fail(session_factory, keys, username, 5)
        with pytest.raises(AccountLocked) as locked:
            sign_in(session_factory, keys, username, "not-the-password")
        assert locked.value.retry_after_seconds == 15


# Under the account-wide lock made by a stranger (5 wrong guesses from another address), what the owner
# brings and what happens. "device" is a device token from an earlier sign-in to this account.
LOCKED_PATHS = [
    ("password alone", {}, AccountLocked),
    ("password and a recovery code", {"recovery_code": 0}, None),
    ("password and a recovery code typed loosely", {"recovery_code": "loose"}, None),
    ("password and a wrong recovery code", {"recovery_code": "wrong"}, AccountLocked),
    ("password and a known device", {"device": True}, None),
    ("password and another account's device", {"device": "other"}, AccountLocked),
    ("wrong password and a recovery code", {"recovery_code": 0, "password": "not-it"}, AuthenticationFailed),
    ("wrong password and a known device", {"device": True, "password": "not-it"}, AuthenticationFailed),
]


@pytest.mark.parametrize("label, brings, outcome", LOCKED_PATHS, ids=[path[0] for path in LOCKED_PATHS])
def test_under_the_account_lock_only_the_owner_gets_in(session_factory, keys, label, brings, outcome):
    owner = enrol(session_factory, keys, "karim", now=START)
    other = enrol(session_factory, keys, "other", now=START)
    device = sign_in(session_factory, keys, "karim").device_token
    other_device = sign_in(session_factory, keys, "other").device_token
    fail(session_factory, keys, "karim", 5, address="198.51.100.7")  # the stranger
    extra, devices = {}, ()
    if "recovery_code" in brings:
        code = brings["recovery_code"]
        extra["recovery_code"] = {0: owner.recovery_codes[0], "loose": owner.recovery_codes[0].lower().replace("-", " "),
                                  "wrong": other.recovery_codes[0]}[code]
    if brings.get("device") is True:
        devices = (device,)
    elif brings.get("device") == "other":
        devices = (other_device,)
    password = brings.get("password", PASSWORD)
    if outcome is None:
        result = sign_in(session_factory, keys, "karim", password, devices=devices, **extra)
        assert result.current.account.id == owner.id
        if "recovery_code" in extra:
            assert result.second_factor == "recovery_code" and result.recovery_codes_left == 9
    else:
        with pytest.raises(outcome) as refused:
            sign_in(session_factory, keys, "karim", password, devices=devices, **extra)
        if outcome is AccountLocked:
            assert refused.value.retry_after_seconds == 15
    with session_factory() as db:  # a code is spent only when the whole sign-in succeeded
        used = db.scalar(select(func.count()).select_from(RecoveryCode)
                         .where(RecoveryCode.account_id == owner.id, RecoveryCode.used_at.is_not(None)))
        assert used == (1 if outcome is None and "recovery_code" in extra else 0)


def lock_for_minutes(session_factory, keys, username, start):
    """A stranger's 5 guesses, then one per wait: the account stays locked for 4 more minutes after it."""
    fail(session_factory, keys, username, 5, now=start, address="198.51.100.7")
    now = start
    for wait in (15, 30, 60, 120):
        now += timedelta(seconds=wait)
        fail(session_factory, keys, username, 1, now=now, address="198.51.100.7")
    return now + timedelta(seconds=1)  # locked for 239 more seconds


def test_under_the_lock_a_totp_code_gets_in_on_its_own_budget(session_factory, keys):
    owner = enrol(session_factory, keys, "nadia", now=START)
    secret = turn_on_two_factor(session_factory, keys, owner)
    now = lock_for_minutes(session_factory, keys, "nadia", START + timedelta(seconds=30))
    for _ in range(5):  # wrong app codes: the same lock answer, counted on the second-factor budget
        with pytest.raises(AccountLocked) as locked:
            sign_in(session_factory, keys, "nadia", now=now, otp="000000")
        assert locked.value.retry_after_seconds == 239
    with pytest.raises(TooManyAttempts) as spent:
        sign_in(session_factory, keys, "nadia", now=now, otp=pyotp.TOTP(secret).at(now))
    assert spent.value.reason == "second-factor" and spent.value.retry_after_seconds == 15
    later = now + timedelta(seconds=16)
    result = sign_in(session_factory, keys, "nadia", now=later, otp=pyotp.TOTP(secret).at(later))
    assert result.second_factor == "otp"
    with pytest.raises(AccountLocked):  # the owner got in; the stranger still waits
        sign_in(session_factory, keys, "nadia", "not-the-password", now=later, address="198.51.100.7")


def test_under_the_lock_a_second_factor_answers_the_same_for_everyone(session_factory, keys):
    owner = enrol(session_factory, keys, "with2fa", now=START)
    turn_on_two_factor(session_factory, keys, owner)
    enrol(session_factory, keys, "without2fa", now=START)
    now = START + timedelta(seconds=30)
    answers = []
    for username in ["with2fa", "without2fa", "nobody"]:
        now = lock_for_minutes(session_factory, keys, username, now)
        for extra in [{"otp": "123456"}, {"recovery_code": "K7QM-3XRT-9HPD-WB2N-F6CA"}, {"recovery_code": "x"}]:
            with pytest.raises(VaultError) as answer:
                sign_in(session_factory, keys, username, now=now, **extra)
            answers.append((username, type(answer.value).__name__, answer.value.retry_after_seconds))
    assert {(kind, wait) for _, kind, wait in answers} == {("AccountLocked", 239)}


def test_a_known_device_is_never_stopped_by_the_address_either(session_factory, keys):
    enrol(session_factory, keys, "moussa", now=START)
    device = sign_in(session_factory, keys, "moussa").device_token
    for index in range(101):  # a sprayer behind the shelter's address, on many usernames
        with pytest.raises((AuthenticationFailed, TooManyAttempts)):
            sign_in(session_factory, keys, f"guess{index}", "not-the-password")
    with pytest.raises(TooManyAttempts) as blocked:
        sign_in(session_factory, keys, "moussa")
    assert blocked.value.reason == "address"
    assert sign_in(session_factory, keys, "moussa", devices=("cd1.garbage", device)).current.account.username == "moussa"


def test_a_known_device_has_its_own_budget(session_factory, keys):
    enrol(session_factory, keys, "lea", now=START)
    device = sign_in(session_factory, keys, "lea").device_token
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            sign_in(session_factory, keys, "lea", "not-it", devices=(device,))
    with pytest.raises(TooManyAttempts) as blocked:
        sign_in(session_factory, keys, "lea", devices=(device,))
    assert blocked.value.reason == "device" and blocked.value.retry_after_seconds == 15
    assert sign_in(session_factory, keys, "lea").current.account.username == "lea"  # the account was not touched


def test_a_success_clears_the_account_and_gives_the_address_its_attempt_back(session_factory, keys):
    enrol(session_factory, keys, "zoe", now=START)
    fail(session_factory, keys, "zoe", 3)
    sign_in(session_factory, keys, "zoe")
    with session_factory() as db:
        assert db.get(Throttle, account_key(keys, "zoe")).count == 0
        assert db.scalar(select(Throttle.count).where(Throttle.key.like("address:%"))) == 3


def test_failures_are_one_line_per_burst_in_the_activity(session_factory, keys):
    owner = enrol(session_factory, keys, "ines", now=START)
    fail(session_factory, keys, "ines", 3)
    fail(session_factory, keys, "ines", 1, now=START + timedelta(minutes=29))
    fail(session_factory, keys, "ines", 1, now=START + timedelta(minutes=29 + 31))  # a gap of 31 minutes
    fail(session_factory, keys, "ines", 1, now=START + timedelta(minutes=80))
    with session_factory() as db:
        bursts = list(db.scalars(select(FailedSignInBurst).order_by(FailedSignInBurst.started_at)))
        assert [(burst.count, burst.started_at, burst.last_at) for burst in bursts] == [
            (4, START, START + timedelta(minutes=29)),
            (2, START + timedelta(minutes=60), START + timedelta(minutes=80))]
        events = list(db.scalars(select(Event).where(Event.subject_id == owner.id, Event.action == "signin.failed")
                                 .order_by(Event.id)))
        assert [event.details for event in events] == [{"burst": burst.id} for burst in bursts]
        assert verify_chain(db, owner.id)
        assert db.scalar(select(func.count()).select_from(Event).where(Event.subject_id.is_(None))) == 0


def test_parallel_failures_on_one_account_make_one_burst(session_factory, keys):
    enrol(session_factory, keys, "sami", now=START)
    barrier = threading.Barrier(8)
    errors = []

    def guess(index):
        barrier.wait(30)
        try:
            sign_in(session_factory, keys, "sami", "not-the-password", address=f"192.0.2.{100 + index}")
        except (AuthenticationFailed, AccountLocked):
            pass
        except Exception as error:  # noqa: BLE001 - anything else is the failure under test
            errors.append(error)

    threads = [threading.Thread(target=guess, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    with session_factory() as db:
        assert [burst.count for burst in db.scalars(select(FailedSignInBurst))] == [5]  # 5 checked, 3 refused


def test_second_step_as_a_pending_session(session_factory, keys):
    owner = enrol(session_factory, keys, "camille", now=START)
    secret = turn_on_two_factor(session_factory, keys, owner)
    with pytest.raises(SecondFactorRequired):  # the API's one-call contract
        sign_in(session_factory, keys, "camille")
    now = START + timedelta(seconds=60)
    pending = sign_in(session_factory, keys, "camille", now=now, allow_pending=True)
    assert isinstance(pending, service.SecondStepNeeded) and pending.expires_at == now + timedelta(minutes=5)
    with session_factory() as db, pytest.raises(SessionExpired):  # it opens nothing else
        sessions.authenticate(db, token=pending.token, timeouts=TIMEOUTS, now=now)

    def complete(**codes):
        return run(session_factory, service.complete_second_factor, keys=keys, timeouts=TIMEOUTS,
                   attempt=attempt_from(session_factory), token=pending.token, now=now, **codes)

    with pytest.raises(SecondFactorFailed):
        complete(otp="000000")
    result = complete(otp=pyotp.TOTP(secret).at(now))
    assert result.second_factor == "otp" and result.device_token
    with pytest.raises(SessionExpired):  # completed: the pending token is spent
        complete(otp=pyotp.TOTP(secret).at(now + timedelta(seconds=30)))
    with session_factory() as db:
        assert sessions.authenticate(db, token=result.token, timeouts=TIMEOUTS, now=now).account.id == owner.id
        assert db.scalar(select(FailedSignInBurst.count)) == 1


def test_a_pending_session_ends_after_five_minutes_and_its_codes_are_throttled(session_factory, keys):
    owner = enrol(session_factory, keys, "yasmine", now=START)
    turn_on_two_factor(session_factory, keys, owner)
    pending = sign_in(session_factory, keys, "yasmine", now=START + timedelta(seconds=60), allow_pending=True)
    arguments = dict(keys=keys, timeouts=TIMEOUTS, attempt=attempt_from(session_factory), token=pending.token)
    for _ in range(5):
        with pytest.raises(SecondFactorFailed):
            run(session_factory, service.complete_second_factor, now=START + timedelta(seconds=61), otp="123456",
                **arguments)
    with pytest.raises(TooManyAttempts):
        run(session_factory, service.complete_second_factor, now=START + timedelta(seconds=61), otp="123456",
            **arguments)
    with pytest.raises(SessionExpired):
        run(session_factory, service.complete_second_factor, now=START + timedelta(seconds=361),
            recovery_code=owner.recovery_codes[0], **arguments)


def test_a_busy_gate_gives_the_guess_back(session_factory, keys):
    enrol(session_factory, keys, "hakim", now=START)
    gate = WorkGate("kdf", slots=1, wait_seconds=0, busy_error=SignInBusy)
    gated = replace(keys, kdf_gate=gate)
    started, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=gate.run, args=(lambda: (started.set(), release.wait(30)),))
    holder.start()
    try:
        assert started.wait(10)
        for _ in range(10):
            with pytest.raises(SignInBusy):
                sign_in(session_factory, gated, "hakim", "not-the-password")
    finally:
        release.set()
        holder.join(30)
    with session_factory() as db:
        assert db.scalars(select(Throttle.count)).all() == [0, 0]  # account and address: nothing counted
    assert sign_in(session_factory, gated, "hakim").current.account.username == "hakim"
    gate.close()


def test_rotating_the_application_key_keeps_codes_totp_and_devices(session_factory, keys):
    owner = enrol(session_factory, keys, "rotation", now=START)
    secret = turn_on_two_factor(session_factory, keys, owner)
    device = sign_in(session_factory, keys, "rotation", now=START + timedelta(seconds=30),
                     otp=pyotp.TOTP(secret).at(START + timedelta(seconds=30))).device_token
    old = keys.app_keys.current
    rotated = replace(keys, app_keys=KeyRing.parse(
        f"{random_key_text(old.version + 1)},{old.version}:{base64.b64encode(old.secret).decode()}"))

    now = START + timedelta(minutes=2)
    result = sign_in(session_factory, rotated, "rotation", now=now, otp=pyotp.TOTP(secret).at(now), devices=(device,))
    assert result.second_factor == "otp" and result.replaces == device  # the old device token is still known
    with session_factory() as db:
        assert key_ring_version(db.get(Account, owner.id).otp_secret_sealed) == old.version + 1  # re-sealed on use
    result = sign_in(session_factory, rotated, "rotation", now=now, recovery_code=owner.recovery_codes[4])
    assert result.second_factor == "recovery_code" and result.recovery_codes_left == 9
    later = now + timedelta(seconds=60)
    assert sign_in(session_factory, rotated, "rotation", now=later, otp=pyotp.TOTP(secret).at(later)).current

    # And once the old key leaves the ring, what it made stops working (the ring is what keeps them).
    only_new = replace(rotated, app_keys=KeyRing(current=rotated.app_keys.current))
    with pytest.raises(SecondFactorFailed):
        sign_in(session_factory, only_new, "rotation", now=later, recovery_code=owner.recovery_codes[5])


# Tokens decode strictly: anything but the exact canonical form is "signed out".
def tampered_tokens(token: str) -> list[str]:
    body = token[4:]
    return [
        token[:10] + "!!" + token[10:],  # inserted characters a lenient decoder skips
        token + "=",  # padding
        token + "==",
        token[:-1],  # one character short
        token + "A",  # one too long
        token[:4] + body.replace("-", "+").replace("_", "/"),  # standard base64 alphabet
        " " + token, token + "\n",
        token[:4] + body[:30] + "\u0410" + body[31:],  # a Cyrillic A
        "CS1." + body, "cs2." + body,
    ]


def test_tokens_decode_strictly(session_factory, keys):
    enrol(session_factory, keys, "strict", now=START)
    token = sign_in(session_factory, keys, "strict").token
    with session_factory() as db:
        assert sessions.authenticate(db, token=token, timeouts=TIMEOUTS, now=START).account.username == "strict"
        for forged in tampered_tokens(token):
            if forged == token:
                continue
            with pytest.raises(SessionExpired):
                sessions.authenticate(db, token=forged, timeouts=TIMEOUTS, now=START)
