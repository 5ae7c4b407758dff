"""Signing in: the password, the second step, and the ways past a lock that only the owner has.

Threat model (issue 6): guessers in parallel, a stranger failing on purpose to keep the owner out, a
shelter where everyone shares one address, a shared computer, a stolen phone. What holds:

- **Every guess is reserved before it is checked** (``vault.throttle.reserve``), so parallel guesses
  never exceed the budget; a success gives the reservation back.
- **Which budget counts a guess**:
  - a client presenting a valid *device token* for this account (it signed in here before) counts on
    that device's own budget only: never on the account-wide counter, never on the address;
  - otherwise the account (username) and the address;
  - under the account-wide lock, the right password still gets in together with a recovery code
    (checked first, cheaply, by its look-up hash: no Argon2id unless it is one of the account's unused
    codes; only the address counts) or with a code from the authenticator app (checked before the
    password, on its own per-account budget). A stranger who only knows the username has neither.
- **Same answers, same work** for unknown usernames and wrong passwords: one Argon2id (a dummy seal for
  unknown names), one error. A lock is announced the same way for both.
- **The wait announced is the real one** (``TooManyAttempts.retry_after_seconds``).
- **Failed sign-ins reach the owner's activity** as one line per burst (``vault.failed_sign_ins``).
- **Argon2id runs through the KDF gate** (``KeyConfig.run_kdf``); when no slot frees up in time the
  reservation is given back (the guess was never checked) and SignInBusy says when to come back.

The sign-in reads the account, reserves and runs the Argon2id before its own transaction touches the
database, so it never holds two pooled connections at once, nor a lock during the Argon2id (see
``vault.throttle``).
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session as DbSession

from crypto import age
from crypto.codes import normalise_recovery_code
from crypto.errors import CryptoError
from crypto.sealing import needs_reseal, seal_with_secret, unseal_with_secret
from vault import two_factor
from vault.accounts import Enrolment, normalise_username, recovery_codes_left
from vault.errors import (
    AccountLocked,
    AuthenticationFailed,
    InvalidUsername,
    SecondFactorFailed,
    SecondFactorRequired,
    SessionExpired,
    SignInBusy,
    TooManyAttempts,
)
from vault.events import record_event
from vault.failed_sign_ins import record_failed_sign_in
from vault.keys import (
    KeyConfig,
    issue_device_token,
    lookup_hashes_for_code,
    seal_identity_with_password,
    unseal_identity_with_password,
    verify_device_token,
)
from vault.models import Account, RecoveryCode
from vault.sessions import CurrentAccount, end_session, open_pending, open_pending_session, open_session
from vault.settings import Timeouts
from vault.throttle import Attempt, Reservation, account_key, address_key, reserve, throttle_key

# A client keeps a few device tokens (one per account signed in from it); more are ignored.
MAX_DEVICE_TOKENS = 5


@dataclass
class SignIn:
    """A full session, opened."""

    token: str = field(repr=False)
    current: CurrentAccount
    # A fresh device token for this account (OWASP device cookie); ``replaces`` is the one the client
    # presented for this account, if any, which it should drop.
    device_token: str = field(repr=False)
    replaces: str | None = field(default=None, repr=False)
    second_factor: str | None = None  # "otp" | "recovery_code" | None
    recovery_codes_left: int | None = None  # set when a recovery code was spent


@dataclass
class SecondStepNeeded:
    """The password was right; a code from the app or a recovery code is still needed (pages only).

    ``token`` opens a pending session that only ``complete_second_factor`` accepts, until ``expires_at``.
    """

    token: str = field(repr=False)
    expires_at: datetime


@dataclass(frozen=True)
class KnownDevice:
    name: str
    token: str = field(repr=False)


@dataclass(frozen=True)
class _EarlyFactor:
    """A second factor checked before the password, to get past an account-wide lock."""

    kind: str  # "otp" | "recovery_code"
    step: int | None = None
    code: str | None = field(default=None, repr=False)


def sign_in(db: DbSession, *, keys: KeyConfig, timeouts: Timeouts, attempt: Attempt, username: str, password: str,
            now: datetime, otp: str | None = None, recovery_code: str | None = None,
            allow_pending: bool = False) -> SignIn | SecondStepNeeded:
    """Check the credentials and open a session.

    When a second factor is needed and none was given: SecondStepNeeded if ``allow_pending`` (the pages'
    two-page sign-in), else SecondFactorRequired (the API's one-call contract).
    """
    # Read, reserve and run the Argon2id before this request's own transaction holds a connection: a
    # request never holds two pooled connections at once (see vault/throttle.py).
    found = find_account(db, attempt, username)
    device = known_device(keys, found, attempt, now=now)
    reservation, early = reserve_guess(db, keys, attempt, found, username, device, otp=otp,
                                  recovery_code=recovery_code, now=now)
    identity = _check_password(keys, reservation, found, password)
    account = db.get(Account, found.id) if found is not None else None
    if identity is None or account is None or account.status != "active":
        if account is not None:
            record_failed_sign_in(db, account=account, now=now)
        raise AuthenticationFailed()
    _upgrade_password_seal(keys, account, identity, password)  # before any write: no lock held meanwhile
    factor = None
    if early is not None:
        factor = _spend_early_factor(db, keys, account, early, now=now)
    elif two_factor.needs_second_factor(account):
        if otp or recovery_code:
            factor = _check_second_factor(db, keys, account, otp=otp, recovery_code=recovery_code, now=now)
        else:
            # The password was right: its reservation is given back either way.
            reservation.refund(db)
            if not allow_pending:
                raise SecondFactorRequired()
            token, row = open_pending_session(db, account, identity, now=now)
            return SecondStepNeeded(token=token, expires_at=row.expires_at)
    reservation.refund(db)
    return signed_in(db, keys, timeouts, account, identity, factor=factor, device=device, now=now)


def sign_in_enrolled(db: DbSession, *, keys: KeyConfig, timeouts: Timeouts, enrolment: Enrolment,
                     now: datetime) -> SignIn:
    """The session that follows a person's own enrolment: the identity was made a moment ago and is in
    hand, so there is no password to check again (and no second Argon2id)."""
    return signed_in(db, keys, timeouts, enrolment.account, enrolment.identity, factor=None, device=None, now=now)


def complete_second_factor(db: DbSession, *, keys: KeyConfig, timeouts: Timeouts, attempt: Attempt, token: str,
                           now: datetime, otp: str | None = None, recovery_code: str | None = None) -> SignIn:
    """Turn a pending session (right password) into a full one with a code from the app or a recovery code.

    A code from the app counts on the account's second-factor budget; a recovery code on the device's
    budget, or the address's. Failures are counted and shown in the activity; SessionExpired when the
    pending session is unknown, over (five minutes) or already completed.
    """
    row, account, identity = open_pending(db, token=token, now=now)
    device = known_device(keys, account, attempt, now=now)
    if otp:
        keys_to_reserve = [throttle_key(keys, "second-factor", account.id)]
    elif recovery_code:
        keys_to_reserve = [_device_key(keys, account, device)] if device else [address_key(keys, attempt.address)]
    else:
        raise SecondFactorRequired()
    reservation = reserve(attempt, keys_to_reserve, now=now, request_session=db)
    if otp:
        factor = "otp" if two_factor.verify_code(db, keys=keys, account=account, code=otp, now=now) else None
    else:
        factor = "recovery_code" if spend_recovery_code(db, keys=keys, account=account, code=recovery_code,
                                                        now=now) else None
    if factor is None:
        record_failed_sign_in(db, account=account, now=now)
        raise SecondFactorFailed()
    if not end_session(db, row.id):
        raise SessionExpired()  # another request completed this step a moment ago
    reservation.refund(db)
    return signed_in(db, keys, timeouts, account, identity, factor=factor, device=device, now=now)


def spend_recovery_code(db: DbSession, *, keys: KeyConfig, account: Account, code: str | None, now: datetime) -> bool:
    """Burn one unused recovery code of ``account`` matching ``code`` (typed loosely), atomically."""
    normalised = normalised_code(code)
    if normalised is None:
        return False
    result = db.execute(
        update(RecoveryCode)
        .where(RecoveryCode.account_id == account.id, RecoveryCode.used_at.is_(None),
               RecoveryCode.lookup_hash.in_(lookup_hashes_for_code(keys, normalised)))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def is_unused_recovery_code(db: DbSession, *, keys: KeyConfig, account: Account, code: str | None) -> bool:
    """True when ``code`` is one of the account's unused codes: one indexed look-up, no Argon2id."""
    normalised = normalised_code(code)
    if normalised is None:
        return False
    return db.scalar(
        select(func.count()).select_from(RecoveryCode)
        .where(RecoveryCode.account_id == account.id, RecoveryCode.used_at.is_(None),
               RecoveryCode.lookup_hash.in_(lookup_hashes_for_code(keys, normalised)))
    ) == 1


# --- the steps of a sign-in, shared with the password reset of vault/recovery.py ----------------------
_DUMMY_SEALS: dict[tuple, bytes] = {}


@contextlib.contextmanager
def reading_session(db: DbSession, attempt: Attempt) -> Iterator[DbSession]:
    """The request's session if it already holds its connection, else a short one of its own."""
    if db.in_transaction():
        yield db
        return
    with attempt.throttle_sessions() as own:
        yield own


def find_account(db: DbSession, attempt: Attempt, username: str) -> Account | None:
    """The active account of that username, read in a short session (detached: only its columns are used)."""
    try:
        normalised = normalise_username(username)
    except InvalidUsername:
        return None
    with reading_session(db, attempt) as reader:
        return reader.scalar(select(Account).where(Account.username == normalised, Account.status == "active"))


def known_device(keys: KeyConfig, account: Account | None, attempt: Attempt, *, now: datetime) -> KnownDevice | None:
    if account is None:
        return None
    for token in attempt.device_tokens[:MAX_DEVICE_TOKENS]:
        name = verify_device_token(keys, token, account.id, now=now)
        if name is not None:
            return KnownDevice(name=name, token=token)
    return None


def _device_key(keys: KeyConfig, account: Account, device: KnownDevice) -> str:
    return throttle_key(keys, "device", f"{account.id}:{device.name}")


def reserve_guess(db: DbSession, keys: KeyConfig, attempt: Attempt, account: Account | None, username: str,
             device: KnownDevice | None, *, otp: str | None, recovery_code: str | None,
             now: datetime) -> tuple[Reservation, _EarlyFactor | None]:
    if device is not None:
        return reserve(attempt, [_device_key(keys, account, device)], now=now, request_session=db), None
    try:
        return reserve(attempt, [account_key(keys, username), address_key(keys, attempt.address)], now=now,
                       request_session=db), None
    except TooManyAttempts as error:
        if set(error.blocked) != {"account"}:
            raise  # the address is spent too: nothing gets past that but time (or a known device)
        return _reserve_past_account_lock(db, keys, attempt, account, username, otp=otp,
                                          recovery_code=recovery_code, lock=AccountLocked(error.retry_after_seconds),
                                          now=now)


def _reserve_past_account_lock(db: DbSession, keys: KeyConfig, attempt: Attempt, account: Account | None,
                               username: str, *, otp: str | None, recovery_code: str | None, lock: AccountLocked,
                               now: datetime) -> tuple[Reservation, _EarlyFactor]:
    """Under the account-wide lock, only a second factor of the owner's opens the way to the password.

    Every wrong or absent factor gets the same AccountLocked answer (with the real wait), for known and
    unknown usernames alike, so nothing here tells whether an account exists or uses an app.
    """
    address = address_key(keys, attempt.address)
    if recovery_code:
        reservation = reserve(attempt, [address], now=now, request_session=db)
        if account is not None:
            with reading_session(db, attempt) as reader:
                unused = is_unused_recovery_code(reader, keys=keys, account=account, code=recovery_code)
            if unused:
                return reservation, _EarlyFactor("recovery_code", code=recovery_code)
        raise lock  # the wrong code stays counted on the address
    if otp:
        owner = account.id if account is not None else f"unknown:{(username or '').strip().lower()}"
        reservation = reserve(attempt, [throttle_key(keys, "second-factor", owner), address], now=now,
                              request_session=db)
        if account is not None and account.otp_enabled:
            step = two_factor.match_code(keys, account, otp, now=now)
            if step is not None:
                return reservation, _EarlyFactor("otp", step=step)
        raise lock
    raise lock


def _check_password(keys: KeyConfig, reservation: Reservation, account: Account | None,
                    password: object) -> age.X25519Identity | None:
    """The identity the password opens, or None; exactly one Argon2id either way."""
    typed = password if isinstance(password, str) and password else "\x00"
    try:
        if account is None:
            # Same Argon2id work as a real account, so timing does not reveal unknown usernames.
            try:
                keys.run_kdf(unseal_with_secret, _dummy_seal(keys), secret=typed, peppers=keys.peppers,
                             context=b"consigne:dummy")
            except CryptoError:
                pass
            return None
        return unseal_identity_with_password(keys, account.id, account.password_sealed_identity, typed)
    except SignInBusy:
        reservation.cancel()  # never checked: the guess is given back
        raise
    except CryptoError:  # wrong password, or a string no keyboard can type
        return None


def _dummy_seal(keys: KeyConfig) -> bytes:
    cache_key = (keys.peppers.current.version, keys.password_kdf)
    if cache_key not in _DUMMY_SEALS:
        _DUMMY_SEALS[cache_key] = keys.run_kdf(seal_with_secret, b"dummy", secret=secrets.token_urlsafe(16),
                                               pepper=keys.peppers.current, context=b"consigne:dummy",
                                               params=keys.password_kdf)
    return _DUMMY_SEALS[cache_key]


def _spend_early_factor(db: DbSession, keys: KeyConfig, account: Account, early: _EarlyFactor, *,
                        now: datetime) -> str:
    if early.kind == "otp":
        spent = two_factor.spend_step(db, keys=keys, account=account, step=early.step)
    else:
        spent = spend_recovery_code(db, keys=keys, account=account, code=early.code, now=now)
    if not spent:  # used by another request between the check and now
        record_failed_sign_in(db, account=account, now=now)
        raise SecondFactorFailed()
    return early.kind


def _check_second_factor(db: DbSession, keys: KeyConfig, account: Account, *, otp: str | None,
                         recovery_code: str | None, now: datetime) -> str:
    """The factor spent ("otp" or "recovery_code"); SecondFactorFailed (counted) otherwise."""
    if otp:
        if two_factor.verify_code(db, keys=keys, account=account, code=otp, now=now):
            return "otp"
    elif spend_recovery_code(db, keys=keys, account=account, code=recovery_code, now=now):
        return "recovery_code"
    record_failed_sign_in(db, account=account, now=now)
    raise SecondFactorFailed()


def _upgrade_password_seal(keys: KeyConfig, account: Account, identity: age.X25519Identity, password: str) -> None:
    """Re-seal under the current pepper and KDF cost after a right password (raising costs later)."""
    if needs_reseal(account.password_sealed_identity, keys.peppers.current, keys.password_kdf):
        try:
            account.password_sealed_identity = seal_identity_with_password(keys, account.id, identity, password)
        except SignInBusy:
            pass  # the old seal still opens; the next sign-in upgrades it


def signed_in(db: DbSession, keys: KeyConfig, timeouts: Timeouts, account: Account, identity: age.X25519Identity,
               *, factor: str | None, device: KnownDevice | None, now: datetime) -> SignIn:
    token, current = open_session(db, account, identity, timeouts=timeouts, now=now)
    account.last_signed_in_at = now  # once per sign-in, never per request: what `consigne retention` reads
    left = None
    if factor == "recovery_code":
        left = recovery_codes_left(db, account)
        record_event(db, action="recovery_code.used", now=now, actor_id=account.id, subject_id=account.id,
                     details={"left": left})
    record_event(db, action="signin.succeeded", now=now, actor_id=account.id, subject_id=account.id,
                 details={"second_factor": factor})
    return SignIn(token=token, current=current, device_token=issue_device_token(keys, account.id, now=now),
                  replaces=device.token if device else None, second_factor=factor, recovery_codes_left=left)


def normalised_code(code: str | None) -> str | None:
    try:
        return normalise_recovery_code(code) if code else None
    except CryptoError:
        return None


__all__ = ["MAX_DEVICE_TOKENS", "SecondStepNeeded", "SignIn", "complete_second_factor", "find_account",
           "is_unused_recovery_code", "known_device", "normalised_code", "reading_session", "reserve_guess", "sign_in",
           "signed_in", "spend_recovery_code"]
