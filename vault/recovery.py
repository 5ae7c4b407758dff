"""A forgotten password, reset with the username and one code of the printed recovery sheet.

Threat model: a stranger who knows only the username; a thief holding a stolen sheet; a code replayed by
several requests at once; a script guessing codes. What holds:

- **Throttled like the sign-in, with the same helpers** (``vault.sign_in``): each try is reserved
  before anything is checked, on the account and the address, or on the device's own budget when the
  client shows a device token of this account. Under an account-wide lock that a stranger caused, an
  unused code of the account (checked by its look-up hash, no Argon2id) still gets through, counted on
  the address only: the code is the owner's proof, 95 random bits no one guesses.
- **Nothing is spent on a refused new password**: it is checked first (``check_password``), before
  the reservation and before the code is looked up.
- **Same answer, same work** for an unknown username, a staff account, a wrong code and a used one:
  one ``RecoveryFailed`` after one code unseal and one full Argon2id seal (of a throw-away identity when
  nothing matched), so neither the answer nor its time says which it was.
- **A code opens the identity itself** (its own seal, ``unseal_identity_with_code``): the vault's key
  is never made again, only sealed again under the new password, so the person's papers stay readable.
- **One use per code, even in parallel**: the code is burnt by ``UPDATE … WHERE used_at IS NULL`` as the
  request's first write; the loser of a race sees rowcount 0 and changes nothing.
- **Everything that could be the thief's ends**: every session of the account, and two-step sign-in
  (a thief with the sheet may have tied the account to their phone; a person who lost the password
  often lost the phone too). ``recovery_notice_at`` makes the next sign-ins say prominently what
  happened, so an owner whose sheet was stolen learns it.
- **Staff accounts are not reset here**: their two-step sign-in is required and their access reaches
  other people's papers, so one printed code must not replace both factors; their organisation's
  administrator helps them. They get the same answer as an unknown username.

The Argon2id of the new seal runs before the request's own transaction touches the database (as in the
sign-in), so no lock or second connection is held meanwhile.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session as DbSession

from crypto import age
from crypto.errors import CryptoError
from crypto.sealing import seal_with_secret, unseal_with_secret
from vault.accounts import recovery_codes_left
from vault.errors import RecoveryFailed, SignInBusy
from vault.events import record_event
from vault.failed_sign_ins import record_failed_sign_in
from vault.keys import (
    KeyConfig,
    lookup_hashes_for_code,
    new_identity,
    seal_identity_with_password,
    unseal_identity_with_code,
)
from vault.models import Account, RecoveryCode, Session
from vault.passwords import check_password
from vault.policies import AccountKind, AccountStatus
from vault.sessions import CurrentAccount
from vault.settings import Timeouts
from vault.sign_in import (
    SignIn,
    find_account,
    known_device,
    normalised_code,
    reading_session,
    reserve_guess,
    signed_in,
)
from vault.throttle import Attempt


def reset_password_with_code(db: DbSession, *, keys: KeyConfig, timeouts: Timeouts, attempt: Attempt, username: str,
                             recovery_code: str, new_password: str, now: datetime) -> SignIn:
    """Seal the identity under ``new_password`` with one recovery code, and open a fresh session.

    Raises the WeakPassword that says why (nothing spent), TooManyAttempts / AccountLocked with the real
    wait, SignInBusy (the try given back), or RecoveryFailed for every other refusal.
    ``SignIn.recovery_codes_left`` says how many codes the sheet still holds.
    """
    check_password(new_password, username=_typed_username(username))
    found = find_account(db, attempt, username)
    if found is not None and found.kind != AccountKind.PERSON:
        found = None  # see the module's docstring: answered as an unknown username
    device = known_device(keys, found, attempt, now=now)
    reservation, _ = reserve_guess(db, keys, attempt, found, username, device, otp=None, recovery_code=recovery_code,
                              now=now)
    code_id, identity = _open_with_code(db, keys, attempt, found, recovery_code)
    try:
        # The full Argon2id whatever happened above: a wrong code costs the same time as a right one.
        sealed = seal_identity_with_password(keys, found.id if identity else "-", identity or new_identity(),
                                             new_password)
    except SignInBusy:
        reservation.cancel()  # nothing was checked that counts: the try is given back
        raise
    account = db.get(Account, found.id) if found is not None else None
    if identity is None or account is None or account.status != AccountStatus.ACTIVE:
        if account is not None:
            record_failed_sign_in(db, account=account, now=now)
        raise RecoveryFailed()
    if not _burn(db, code_id, now=now):
        raise RecoveryFailed()  # another request used this code a moment ago: this one changes nothing
    _replace_password(db, account, sealed, now=now)
    left = recovery_codes_left(db, account)
    record_event(db, action="password.reset", now=now, actor_id=account.id, subject_id=account.id,
                 details={"method": "recovery_code", "codes_left": left})
    reservation.refund(db)
    result = signed_in(db, keys, timeouts, account, identity, factor=None, device=device, now=now)
    result.recovery_codes_left = left
    return result


def recovery_notice(current: CurrentAccount) -> datetime | None:
    """When the way in was last changed without the password, if this session should say so.

    Said in every session opened after the one the reset (or the assisted recovery) itself opened,
    until the person answers "That was me": the reset's own session already told them.
    """
    noticed = current.account.recovery_notice_at
    if noticed is None or current.session.created_at <= noticed:
        return None
    return noticed


def acknowledge_recovery_notice(db: DbSession, *, current: CurrentAccount) -> None:
    """The person confirms the change was theirs: the notice is no longer shown."""
    current.account.recovery_notice_at = None
    db.flush()


# --- internals -------------------------------------------------------------------------------------
def _typed_username(username: object) -> str:
    return username.strip().lower() if isinstance(username, str) else ""


def _open_with_code(db: DbSession, keys: KeyConfig, attempt: Attempt, account: Account | None,
                    recovery_code: object) -> tuple[str | None, age.X25519Identity | None]:
    """(the code's row id, the identity it opens), or (None, None) after the same work."""
    normalised = normalised_code(recovery_code if isinstance(recovery_code, str) else None)
    row = None
    if account is not None and normalised is not None:
        with reading_session(db, attempt) as reader:
            row = reader.execute(
                select(RecoveryCode.id, RecoveryCode.sealed_identity)
                .where(RecoveryCode.account_id == account.id, RecoveryCode.used_at.is_(None),
                       RecoveryCode.lookup_hash.in_(lookup_hashes_for_code(keys, normalised)))
            ).first()
    try:
        if row is None:
            unseal_with_secret(_dummy_code_seal(keys), secret=normalised or "\x00", peppers=keys.peppers,
                               context=b"consigne:dummy-code")
            return None, None
        return row.id, unseal_identity_with_code(keys, account.id, row.sealed_identity, normalised)
    except CryptoError:
        return None, None


_DUMMY_CODE_SEALS: dict[tuple[int, bytes], bytes] = {}


def _dummy_code_seal(keys: KeyConfig) -> bytes:
    """A code seal nothing opens, to spend the same work on a code that matched no row."""
    pepper = keys.peppers.current
    if (pepper.version, pepper.secret) not in _DUMMY_CODE_SEALS:
        _DUMMY_CODE_SEALS[(pepper.version, pepper.secret)] = seal_with_secret(
            b"dummy", secret=secrets.token_urlsafe(16), pepper=pepper, context=b"consigne:dummy-code",
            params=keys.code_kdf)
    return _DUMMY_CODE_SEALS[(pepper.version, pepper.secret)]


def _burn(db: DbSession, code_id: str, *, now: datetime) -> bool:
    """Mark the code used, atomically: exactly one of several parallel requests gets rowcount 1."""
    result = db.execute(update(RecoveryCode).where(RecoveryCode.id == code_id, RecoveryCode.used_at.is_(None))
                        # The code's seal is wiped with it: a burnt code written down somewhere, with a
                        # copy of the database, must not open the vault any more.
                        .values(used_at=now, sealed_identity=b"").execution_options(synchronize_session=False))
    return result.rowcount == 1


def _replace_password(db: DbSession, account: Account, sealed: bytes, *, now: datetime) -> None:
    """The new seal, every session ended, two-step sign-in off, and the notice for the next sign-ins."""
    account.password_sealed_identity = sealed
    account.password_changed_at = now
    account.recovery_notice_at = now
    db.execute(delete(Session).where(Session.account_id == account.id).execution_options(synchronize_session=False))
    if account.otp_enabled or account.otp_secret_sealed is not None:
        was_on = account.otp_enabled
        account.otp_enabled = False
        account.otp_secret_sealed = None  # forgotten: a phone the thief tied to the account opens nothing
        account.otp_last_step = None
        if was_on:
            record_event(db, action="otp.disabled", now=now, actor_id=account.id, subject_id=account.id,
                         details={"reason": "reset"})
    db.flush()


__all__ = ["acknowledge_recovery_notice", "recovery_notice", "reset_password_with_code"]
