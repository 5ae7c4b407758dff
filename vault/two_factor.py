"""Two-step sign-in with an authenticator app (TOTP, RFC 6238): set-up with its QR code, confirm, turn off,
check a code. The pages and the API call these same functions.

Why these rules:
- The secret is sealed with the application key ring (``vault.keys.seal_app_secret``): the server must
  read it back to check codes, and a copy of the database alone must not give it away. After a rotation
  of the application key it is sealed again under the new version the next time a code is accepted.
- A code is accepted once: the last accepted time step is stored and only a newer one passes, in one
  conditional UPDATE, so two requests (or two instances) receiving the same code cannot both accept it.
- Turning it on or off, like every change that could lock the owner out, needs the current password
  (``vault.sign_in.reauthenticate``), never a session alone: a shared computer left signed in must not
  let someone else tie the account to their own phone.
- The set-up stays inactive until a first code from the app confirms it, so a mistyped QR scan never
  turns on a factor the owner cannot produce.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime

import segno
from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from crypto.errors import CryptoError
from crypto.totp import generate_totp_secret, match_totp, provisioning_uri
from vault.errors import InvalidOtpCode, NotAllowed
from vault.events import record_event
from vault.keys import KeyConfig, app_secret_needs_reseal, seal_app_secret, unseal_app_secret
from vault.models import Account
from vault.policies import AccountKind
from vault.reauthentication import reauthenticate
from vault.sessions import CurrentAccount
from vault.throttle import Attempt, reserve, throttle_key

OTP_ISSUER = "Consigne"
SECRET_PURPOSE = "totp"


@dataclass(frozen=True)
class TwoFactorSetup:
    """What the person copies into their app: the secret, its ``otpauth://`` URI and that URI as a QR code.

    Plain data (the QR code as an SVG document), so a page can inline it and the API can return it.
    """

    secret: str = field(repr=False)
    uri: str = field(repr=False)
    qr_svg: str = field(repr=False)


def needs_second_factor(account: Account) -> bool:
    """Staff always need a second factor (they see other people's papers); people once they turned it on."""
    return account.otp_enabled or account.kind == AccountKind.STAFF


def begin_setup(db: Session, *, keys: KeyConfig, attempt: Attempt, current: CurrentAccount, password: str,
                now: datetime) -> TwoFactorSetup:
    """After the current password: a new secret, kept sealed and inactive until ``confirm_setup``."""
    account = current.account
    if account.otp_enabled:
        raise NotAllowed("two-step sign-in is already on")
    reauthenticate(db, keys=keys, attempt=attempt, current=current, password=password, now=now)
    secret = generate_totp_secret()
    account.otp_secret_sealed = seal_app_secret(keys, secret.encode(), SECRET_PURPOSE, account.id)
    account.otp_last_step = None
    db.flush()
    return _setup(secret, account)


def confirm_setup(db: Session, *, keys: KeyConfig, attempt: Attempt, current: CurrentAccount, code: str,
                  now: datetime) -> None:
    """Turn two-step sign-in on with a first code from the app (InvalidOtpCode if it is not right).

    Each code tried counts on this session's budget, like re-authentication: someone left alone with a
    signed-in session cannot try the million codes of a set-up its owner began and did not finish.
    """
    account = current.account
    if account.otp_enabled or account.otp_secret_sealed is None:
        raise NotAllowed()
    reservation = reserve(attempt, [throttle_key(keys, "session", current.session.id)], now=now, request_session=db)
    if not verify_code(db, keys=keys, account=account, code=code, now=now):
        raise InvalidOtpCode()
    reservation.refund(db)
    account.otp_enabled = True
    db.flush()
    record_event(db, action="otp.enabled", now=now, actor_id=account.id, subject_id=account.id)


def disable(db: Session, *, keys: KeyConfig, attempt: Attempt, current: CurrentAccount, password: str,
            now: datetime) -> None:
    """After the current password: turn two-step sign-in off and forget the secret."""
    account = current.account
    if account.kind == AccountKind.STAFF:
        raise NotAllowed("staff accounts keep two-step sign-in")
    reauthenticate(db, keys=keys, attempt=attempt, current=current, password=password, now=now)
    if not account.otp_enabled and account.otp_secret_sealed is None:
        return
    account.otp_enabled = False
    account.otp_secret_sealed = None
    account.otp_last_step = None
    db.flush()
    record_event(db, action="otp.disabled", now=now, actor_id=account.id, subject_id=account.id)


def enable_directly(db: Session, *, keys: KeyConfig, account: Account) -> TwoFactorSetup:
    """For staff accounts made by operators: two-step sign-in is required for staff, so on from the start."""
    secret = generate_totp_secret()
    account.otp_secret_sealed = seal_app_secret(keys, secret.encode(), SECRET_PURPOSE, account.id)
    account.otp_enabled = True
    db.flush()
    return _setup(secret, account)


def match_code(keys: KeyConfig, account: Account, code: str | None, *, now: datetime) -> int | None:
    """The time step ``code`` matches for this account, or None. Checks only: nothing is spent."""
    if not code or account.otp_secret_sealed is None:
        return None
    try:
        secret = unseal_app_secret(keys, account.otp_secret_sealed, SECRET_PURPOSE, account.id).decode()
        return match_totp(secret, code, now=now)
    except CryptoError:
        return None


def spend_step(db: Session, *, keys: KeyConfig, account: Account, step: int) -> bool:
    """Accept ``step`` only if it is newer than the last accepted one, atomically; re-seal the secret
    under the newest application key if it was sealed under an older one."""
    result = db.execute(
        update(Account)
        .where(Account.id == account.id, or_(Account.otp_last_step.is_(None), Account.otp_last_step < step))
        .values(otp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    account.otp_last_step = step
    if account.otp_secret_sealed is not None and app_secret_needs_reseal(keys, account.otp_secret_sealed):
        secret = unseal_app_secret(keys, account.otp_secret_sealed, SECRET_PURPOSE, account.id)
        account.otp_secret_sealed = seal_app_secret(keys, secret, SECRET_PURPOSE, account.id)
    return True


def verify_code(db: Session, *, keys: KeyConfig, account: Account, code: str | None, now: datetime) -> bool:
    """True when ``code`` is right and was not used before (it is then spent)."""
    step = match_code(keys, account, code, now=now)
    return step is not None and spend_step(db, keys=keys, account=account, step=step)


def qr_code_svg(text: str) -> str:
    """``text`` as a QR code, an SVG document without XML declaration (fit to inline in a page)."""
    output = io.BytesIO()
    segno.make(text, error="m").save(output, kind="svg", scale=4, xmldecl=False, svgns=True)
    return output.getvalue().decode()


def _setup(secret: str, account: Account) -> TwoFactorSetup:
    uri = provisioning_uri(secret, account_name=account.username, issuer=OTP_ISSUER)
    return TwoFactorSetup(secret=secret, uri=uri, qr_svg=qr_code_svg(uri))


__all__ = ["OTP_ISSUER", "TwoFactorSetup", "begin_setup", "confirm_setup", "disable", "enable_directly", "match_code",
           "needs_second_factor", "qr_code_svg", "spend_step", "verify_code"]
