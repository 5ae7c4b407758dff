"""Sign-in, sessions and the second factor.

Token = "cs1." + base64url(session id ‖ session key). The server keeps the session id and the account's
identity sealed under the session key; the key itself exists only in the client's token, so a copy of
the sessions table opens nothing. The identity is unsealed on every request, which also authenticates
the token (AES-GCM): a forged or altered token fails like an expired one.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session as DbSession

from crypto import age
from crypto.codes import normalise_recovery_code
from crypto.errors import CryptoError
from crypto.sealing import needs_reseal, seal_with_secret, unseal_with_secret
from crypto.totp import generate_totp_secret, match_totp, provisioning_uri
from vault.accounts import normalise_username, recovery_codes_left
from vault.errors import (
    AuthenticationFailed,
    InvalidOtpCode,
    InvalidUsername,
    NotAllowed,
    SecondFactorFailed,
    SecondFactorRequired,
    SessionExpired,
)
from vault.events import record_event
from vault.keys import (
    KeyConfig,
    app_secret_needs_reseal,
    lookup_hashes_for_code,
    seal_app_secret,
    seal_identity_for_session,
    seal_identity_with_password,
    unseal_app_secret,
    unseal_identity_for_session,
    unseal_identity_with_password,
)
from vault.models import Account, RecoveryCode, Session
from vault.settings import Timeouts
from vault.throttle import check_throttle, record_failure, record_success, throttle_keys

TOKEN_PREFIX = "cs1."
SESSION_ID_BYTES = 16
SESSION_KEY_BYTES = 32
LAST_SEEN_GRANULARITY = timedelta(seconds=60)
OTP_ISSUER = "Consigne"


@dataclass
class CurrentAccount:
    """The signed-in account for one request, with its unlocked identity (in memory only)."""

    account: Account
    identity: age.X25519Identity = field(repr=False)
    session: Session

    @property
    def id(self) -> str:
        return self.account.id


@dataclass
class SignIn:
    token: str = field(repr=False)
    current: CurrentAccount
    recovery_code_used: bool = False
    recovery_codes_left: int | None = None


def sign_in(db: DbSession, *, keys: KeyConfig, timeouts: Timeouts, username: str, password: str, now: datetime,
            otp: str | None = None, recovery_code: str | None = None, address: str | None = None) -> SignIn:
    """Check the credentials and open a fresh session.

    Unknown username and wrong password give the same error after the same work (one Argon2id), so
    neither the answer nor its timing tells whether a username exists.
    """
    throttle = throttle_keys(keys, username=username or "", address=address)
    check_throttle(db, throttle, now=now)
    account = _find_account(db, username)
    identity = _unlock_with_password(keys, account, password)
    if identity is None:
        record_failure(db, throttle, now=now)
        record_event(db, action="signin.failed", now=now, actor_id=None,
                     subject_id=account.id if account else None, details={"reason": "password"})
        raise AuthenticationFailed()
    code_used = False
    if account.otp_enabled or account.kind == "staff":
        code_used = _check_second_factor(db, keys, account, otp=otp, recovery_code=recovery_code, now=now,
                                         throttle=throttle)
    record_success(db, throttle)
    _upgrade_password_seal(keys, account, identity, password)
    token, current = _open_session(db, account, identity, timeouts=timeouts, now=now)
    record_event(db, action="signin.succeeded", now=now, actor_id=account.id, subject_id=account.id,
                 details={"second_factor": "recovery_code" if code_used else ("otp" if account.otp_enabled else None)})
    return SignIn(token=token, current=current, recovery_code_used=code_used,
                  recovery_codes_left=recovery_codes_left(db, account) if code_used else None)


def authenticate(db: DbSession, *, token: str, timeouts: Timeouts, now: datetime) -> CurrentAccount:
    """The account behind a token, or SessionExpired (unknown, forged, idle or too old)."""
    session_id, session_key = _parse_token(token)
    row = db.get(Session, session_id)
    if row is None:
        raise SessionExpired()
    if now >= row.expires_at or now >= row.idle_until:
        db.delete(row)
        db.flush()
        raise SessionExpired()
    if row.pending_second_factor:
        raise SessionExpired()
    try:
        identity = unseal_identity_for_session(row.id, row.sealed_identity, session_key)
    except CryptoError:
        raise SessionExpired() from None
    account = db.get(Account, row.account_id)
    if account is None or account.status != "active":
        raise SessionExpired()
    if now + timedelta(seconds=row.idle_seconds) - row.idle_until >= LAST_SEEN_GRANULARITY:
        row.idle_until = now + timedelta(seconds=row.idle_seconds)
    return CurrentAccount(account=account, identity=identity, session=row)


def sign_out(db: DbSession, *, current: CurrentAccount, now: datetime) -> None:
    db.delete(current.session)
    record_event(db, action="session.ended", now=now, actor_id=current.id, subject_id=current.id)


def sign_out_everywhere(db: DbSession, *, current: CurrentAccount, now: datetime) -> int:
    result = db.execute(delete(Session).where(Session.account_id == current.id))
    record_event(db, action="sessions.ended_all", now=now, actor_id=current.id, subject_id=current.id)
    return result.rowcount


def purge_expired_sessions(db: DbSession, *, now: datetime) -> int:
    """Delete every session past its absolute or idle time-out (run by ``consigne sweep-sessions``).

    One DELETE on two indexed deadlines: nothing is loaded into Python, whatever the number of sessions.
    """
    return db.execute(delete(Session).where(or_(Session.expires_at <= now, Session.idle_until <= now))).rowcount


@dataclass
class OtpSetup:
    secret: str = field(repr=False)
    uri: str = field(repr=False)


def begin_otp_setup(db: DbSession, *, keys: KeyConfig, current: CurrentAccount) -> OtpSetup:
    """Make a new TOTP secret, kept sealed and inactive until a code from the app confirms it."""
    account = current.account
    if account.otp_enabled:
        raise NotAllowed("two-step sign-in is already on")
    secret = generate_totp_secret()
    account.otp_secret_sealed = seal_app_secret(keys, secret.encode(), "totp", account.id)
    account.otp_last_step = None
    db.flush()
    return OtpSetup(secret=secret, uri=provisioning_uri(secret, account_name=account.username, issuer=OTP_ISSUER))


def confirm_otp_setup(db: DbSession, *, keys: KeyConfig, current: CurrentAccount, code: str, now: datetime) -> None:
    account = current.account
    if account.otp_enabled or account.otp_secret_sealed is None:
        raise NotAllowed()
    secret = unseal_app_secret(keys, account.otp_secret_sealed, "totp", account.id).decode()
    step = match_totp(secret, code or "", now=now)
    if step is None or not _burn_otp_step(db, account, step):
        raise InvalidOtpCode()
    account.otp_enabled = True
    record_event(db, action="otp.enabled", now=now, actor_id=account.id, subject_id=account.id)


def enable_otp_directly(db: DbSession, *, keys: KeyConfig, account: Account) -> OtpSetup:
    """For staff accounts made by operators: TOTP is required for staff, so it is on from the start."""
    secret = generate_totp_secret()
    account.otp_secret_sealed = seal_app_secret(keys, secret.encode(), "totp", account.id)
    account.otp_enabled = True
    db.flush()
    return OtpSetup(secret=secret, uri=provisioning_uri(secret, account_name=account.username, issuer=OTP_ISSUER))


# --- internals -------------------------------------------------------------------------------------
_DUMMY_SEALS: dict[tuple, bytes] = {}


def _find_account(db: DbSession, username: str) -> Account | None:
    try:
        normalised = normalise_username(username)
    except InvalidUsername:
        return None
    return db.scalar(select(Account).where(Account.username == normalised, Account.status == "active"))


def _unlock_with_password(keys: KeyConfig, account: Account | None, password: str) -> age.X25519Identity | None:
    if not isinstance(password, str) or not password:
        password = "\x00"
    if account is None:
        # Same Argon2id work as a real account, so timing does not reveal unknown usernames.
        try:
            unseal_with_secret(_dummy_seal(keys), secret=password, peppers=keys.peppers, context=b"consigne:dummy")
        except CryptoError:
            pass
        return None
    try:
        return unseal_identity_with_password(keys, account.id, account.password_sealed_identity, password)
    except CryptoError:  # wrong password, or a string no keyboard can type
        return None


def _dummy_seal(keys: KeyConfig) -> bytes:
    cache_key = (keys.peppers.current.version, keys.password_kdf)
    if cache_key not in _DUMMY_SEALS:
        _DUMMY_SEALS[cache_key] = seal_with_secret(b"dummy", secret=secrets.token_urlsafe(16),
                                                   pepper=keys.peppers.current, context=b"consigne:dummy",
                                                   params=keys.password_kdf)
    return _DUMMY_SEALS[cache_key]


def _check_second_factor(db: DbSession, keys: KeyConfig, account: Account, *, otp: str | None,
                         recovery_code: str | None, now: datetime, throttle: list[str]) -> bool:
    """True when a recovery code was burnt, False for a TOTP code; raises when neither holds."""
    if otp:
        step = None
        if account.otp_secret_sealed is not None:
            secret = unseal_app_secret(keys, account.otp_secret_sealed, "totp", account.id).decode()
            step = match_totp(secret, otp, now=now)
        if step is not None and _burn_otp_step(db, account, step):
            if app_secret_needs_reseal(keys, account.otp_secret_sealed):  # the application key was rotated
                account.otp_secret_sealed = seal_app_secret(keys, secret.encode(), "totp", account.id)
            return False
    elif recovery_code:
        if _burn_recovery_code(db, keys, account, recovery_code, now=now):
            record_event(db, action="recovery_code.used", now=now, actor_id=account.id, subject_id=account.id,
                         details={"left": recovery_codes_left(db, account)})
            return True
    else:
        raise SecondFactorRequired()
    record_failure(db, throttle, now=now)
    record_event(db, action="signin.failed", now=now, actor_id=None, subject_id=account.id,
                 details={"reason": "second_factor"})
    raise SecondFactorFailed()


def _burn_otp_step(db: DbSession, account: Account, step: int) -> bool:
    """Accept a time step only if it is newer than the last accepted one, atomically.

    A conditional UPDATE instead of read-then-write: two instances receiving the same code at the same
    moment cannot both accept it.
    """
    result = db.execute(
        update(Account)
        .where(Account.id == account.id, or_(Account.otp_last_step.is_(None), Account.otp_last_step < step))
        .values(otp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:
        account.otp_last_step = step
        return True
    return False


def _burn_recovery_code(db: DbSession, keys: KeyConfig, account: Account, code: str, *, now: datetime) -> bool:
    try:
        normalised = normalise_recovery_code(code)
    except CryptoError:
        return False
    result = db.execute(
        update(RecoveryCode)
        .where(RecoveryCode.account_id == account.id, RecoveryCode.used_at.is_(None),
               RecoveryCode.lookup_hash.in_(lookup_hashes_for_code(keys, normalised)))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _upgrade_password_seal(keys: KeyConfig, account: Account, identity: age.X25519Identity, password: str) -> None:
    """Re-seal under the current pepper and KDF cost after a successful sign-in (raising costs later)."""
    if needs_reseal(account.password_sealed_identity, keys.peppers.current, keys.password_kdf):
        account.password_sealed_identity = seal_identity_with_password(keys, account.id, identity, password)


def _open_session(db: DbSession, account: Account, identity: age.X25519Identity, *, timeouts: Timeouts,
                  now: datetime) -> tuple[str, CurrentAccount]:
    session_id_bytes = secrets.token_bytes(SESSION_ID_BYTES)
    session_key = secrets.token_bytes(SESSION_KEY_BYTES)
    session_id = session_id_bytes.hex()
    idle = timeouts.staff_idle_seconds if account.kind == "staff" else timeouts.person_idle_seconds
    row = Session(id=session_id, account_id=account.id,
                  sealed_identity=seal_identity_for_session(session_id, identity, session_key),
                  created_at=now, idle_seconds=idle, idle_until=now + timedelta(seconds=idle),
                  expires_at=now + timedelta(seconds=timeouts.absolute_seconds))
    db.add(row)
    db.flush()
    token = TOKEN_PREFIX + base64.urlsafe_b64encode(session_id_bytes + session_key).decode().rstrip("=")
    return token, CurrentAccount(account=account, identity=identity, session=row)


def _parse_token(token: str) -> tuple[str, bytes]:
    if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        raise SessionExpired()
    encoded = token[len(TOKEN_PREFIX):]
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError):
        raise SessionExpired() from None
    if len(raw) != SESSION_ID_BYTES + SESSION_KEY_BYTES:
        raise SessionExpired()
    return raw[:SESSION_ID_BYTES].hex(), raw[SESSION_ID_BYTES:]
