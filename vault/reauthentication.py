"""Asking the current password again before a change that could lock the owner out or take their papers.

Turning two-step sign-in on or off, new recovery codes, a new password (and later export and deletion)
need the password, never a session alone: a shared computer left signed in must not let the next person
tie the account to their phone or replace the printed sheet.

Throttled per *session* (its own budget, like an account's), not on the account-wide counter: that
counter is open to anyone who knows the username, and a stranger failing on purpose must not be able to
stop the owner from changing their password. Only whoever holds this session can spend its budget, and
that session cannot be renewed without the password.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from crypto.errors import CryptoError
from vault.errors import SignInBusy, WrongPassword
from vault.failed_sign_ins import record_failed_sign_in
from vault.keys import KeyConfig, unseal_identity_with_password
from vault.sessions import CurrentAccount
from vault.throttle import Attempt, reserve, throttle_key


def reauthenticate(db: Session, *, keys: KeyConfig, attempt: Attempt, current: CurrentAccount, password: str,
                   now: datetime) -> None:
    """Return when ``password`` is the account's current one; WrongPassword (counted) otherwise.

    Reserves one attempt before the Argon2id (TooManyAttempts when this session's budget is spent), and
    SignInBusy gives it back.
    """
    account = current.account
    reservation = reserve(attempt, [throttle_key(keys, "session", current.session.id)], now=now, request_session=db)
    try:
        unseal_identity_with_password(keys, account.id, account.password_sealed_identity, _typed(password))
    except SignInBusy:
        reservation.cancel()
        raise
    except CryptoError:
        record_failed_sign_in(db, account=account, now=now)
        raise WrongPassword() from None
    reservation.refund(db)


def _typed(password: object) -> str:
    return password if isinstance(password, str) and password else "\x00"


__all__ = ["reauthenticate"]
