"""Sessions: the server half of a signed-in client, and the token that opens it.

Token = "cs1." + base64url(session id ‖ session key). The server keeps the session id and the account's
identity sealed under the session key; the key itself exists only in the client's token, so a copy of
the sessions table opens nothing. The identity is unsealed on every request, which also authenticates
the token (AES-GCM): a forged or altered token fails like an expired one. Tokens are decoded strictly
(``vault.keys.decode_token_body``): one token has exactly one spelling.

A session whose password was right but whose second step is still to come is *pending*: it opens nothing
but that second step (``vault.sign_in.complete_second_factor``) and lives five minutes.

Rows are deleted with SQL statements, never by deleting a loaded object: two requests may end the same
session at once (a double click on "sign out", a time-out seen by two tabs), and deleting an object the
other request already deleted answered 500 (StaleDataError).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, or_
from sqlalchemy.orm import Session as DbSession

from crypto import age
from crypto.errors import CryptoError
from vault.errors import SessionExpired
from vault.events import record_event
from vault.keys import decode_token_body, encode_token_body, seal_identity_for_session, unseal_identity_for_session
from vault.models import Account, Session
from vault.policies import AccountKind, AccountStatus, Actor, actor_for
from vault.settings import Timeouts

TOKEN_PREFIX = "cs1."
SESSION_ID_BYTES = 16
SESSION_KEY_BYTES = 32
TOKEN_BYTES = SESSION_ID_BYTES + SESSION_KEY_BYTES  # 48: a multiple of 3, so no base64 padding
LAST_SEEN_GRANULARITY = timedelta(seconds=60)
PENDING_SECOND_FACTOR_SECONDS = 5 * 60


@dataclass
class CurrentAccount:
    """The signed-in account for one request: who acts (``actor``, for vault.policies), the key in hand
    (``identity``, unlocked, in memory only) and the session row.

    ``actor`` is loaded with the staff member's memberships when the session is opened; for a person it
    follows from the account alone.
    """

    account: Account
    identity: age.X25519Identity = field(repr=False)
    session: Session
    loaded_actor: Actor | None = None

    @property
    def id(self) -> str:
        return self.account.id

    @property
    def actor(self) -> Actor:
        if self.loaded_actor is not None:
            return self.loaded_actor
        if self.account.kind != AccountKind.PERSON:
            raise RuntimeError("a staff member's actor needs their memberships: build it with actor_for")
        return Actor.person(self.account.id)


def open_session(db: DbSession, account: Account, identity: age.X25519Identity, *, timeouts: Timeouts,
                 now: datetime) -> tuple[str, CurrentAccount]:
    """A fresh full session: (its token, the signed-in account)."""
    idle = timeouts.staff_idle_seconds if account.kind == AccountKind.STAFF else timeouts.person_idle_seconds
    token, row = _new_session(db, account, identity, now=now, idle_seconds=idle,
                              lifetime_seconds=timeouts.absolute_seconds, pending=False)
    return token, CurrentAccount(account=account, identity=identity, session=row,
                                 loaded_actor=actor_for(db, account))


def open_pending_session(db: DbSession, account: Account, identity: age.X25519Identity, *,
                         now: datetime) -> tuple[str, Session]:
    """A session that opens only the second step of the sign-in, for five minutes.

    The identity, unlocked by the right password, waits sealed under the pending token's key, so the
    second step needs no second Argon2id and the server alone still cannot open it.
    """
    return _new_session(db, account, identity, now=now, idle_seconds=PENDING_SECOND_FACTOR_SECONDS,
                        lifetime_seconds=PENDING_SECOND_FACTOR_SECONDS, pending=True)


def authenticate(db: DbSession, *, token: str, timeouts: Timeouts, now: datetime) -> CurrentAccount:
    """The account behind a token, or SessionExpired (unknown, forged, idle, too old, or pending)."""
    row, identity = _open(db, token, now=now)
    if row.pending_second_factor:
        raise SessionExpired()
    account = db.get(Account, row.account_id)
    if account is None or account.status != AccountStatus.ACTIVE:
        raise SessionExpired()
    if now + timedelta(seconds=row.idle_seconds) - row.idle_until >= LAST_SEEN_GRANULARITY:
        row.idle_until = now + timedelta(seconds=row.idle_seconds)
    return CurrentAccount(account=account, identity=identity, session=row, loaded_actor=actor_for(db, account))


def open_pending(db: DbSession, *, token: str, now: datetime) -> tuple[Session, Account, age.X25519Identity]:
    """The pending session behind ``token`` with its account and identity, or SessionExpired."""
    row, identity = _open(db, token, now=now)
    account = db.get(Account, row.account_id)
    if not row.pending_second_factor or account is None or account.status != AccountStatus.ACTIVE:
        raise SessionExpired()
    return row, account, identity


def end_session(db: DbSession, session_id: str) -> bool:
    """Delete one session's server half; False when another request already did."""
    result = db.execute(delete(Session).where(Session.id == session_id).execution_options(synchronize_session=False))
    return result.rowcount == 1


def sign_out(db: DbSession, *, current: CurrentAccount, now: datetime) -> None:
    end_session(db, current.session.id)
    record_event(db, action="session.ended", now=now, actor_id=current.id, subject_id=current.id)


def sign_out_everywhere(db: DbSession, *, current: CurrentAccount, now: datetime) -> int:
    result = db.execute(delete(Session).where(Session.account_id == current.id)
                        .execution_options(synchronize_session=False))
    record_event(db, action="sessions.ended_all", now=now, actor_id=current.id, subject_id=current.id)
    return result.rowcount


def end_other_sessions(db: DbSession, *, current: CurrentAccount) -> int:
    """Every session of the account but this one (after a password change)."""
    result = db.execute(delete(Session).where(Session.account_id == current.id, Session.id != current.session.id)
                        .execution_options(synchronize_session=False))
    return result.rowcount


def purge_expired_sessions(db: DbSession, *, now: datetime) -> int:
    """Delete every session past its absolute or idle time-out (run by ``consigne sweep-sessions``).

    One DELETE on two indexed deadlines: nothing is loaded into Python, whatever the number of sessions.
    """
    return db.execute(delete(Session).where(or_(Session.expires_at <= now, Session.idle_until <= now))
                      .execution_options(synchronize_session=False)).rowcount


def parse_token(token: object) -> tuple[str, bytes]:
    """(session id, session key) of a well-formed token; SessionExpired for anything else."""
    raw = decode_token_body(token, prefix=TOKEN_PREFIX, size=TOKEN_BYTES)
    if raw is None:
        raise SessionExpired()
    return raw[:SESSION_ID_BYTES].hex(), raw[SESSION_ID_BYTES:]


def _open(db: DbSession, token: str, *, now: datetime) -> tuple[Session, age.X25519Identity]:
    session_id, session_key = parse_token(token)
    row = db.get(Session, session_id)
    if row is None:
        raise SessionExpired()
    if now >= row.expires_at or now >= row.idle_until:
        end_session(db, session_id)  # SessionExpired keeps this change
        raise SessionExpired()
    try:
        identity = unseal_identity_for_session(row.id, row.sealed_identity, session_key)
    except CryptoError:
        raise SessionExpired() from None
    return row, identity


def _new_session(db: DbSession, account: Account, identity: age.X25519Identity, *, now: datetime,
                 idle_seconds: int, lifetime_seconds: int, pending: bool) -> tuple[str, Session]:
    session_id_bytes = secrets.token_bytes(SESSION_ID_BYTES)
    session_key = secrets.token_bytes(SESSION_KEY_BYTES)
    session_id = session_id_bytes.hex()
    row = Session(id=session_id, account_id=account.id,
                  sealed_identity=seal_identity_for_session(session_id, identity, session_key),
                  created_at=now, idle_seconds=idle_seconds, idle_until=now + timedelta(seconds=idle_seconds),
                  expires_at=now + timedelta(seconds=lifetime_seconds), pending_second_factor=pending)
    db.add(row)
    db.flush()
    return encode_token_body(TOKEN_PREFIX, session_id_bytes + session_key), row


__all__ = ["CurrentAccount", "PENDING_SECOND_FACTOR_SECONDS", "TOKEN_PREFIX", "authenticate", "end_other_sessions",
           "end_session", "open_pending", "open_pending_session", "open_session", "parse_token",
           "purge_expired_sessions", "sign_out", "sign_out_everywhere"]
