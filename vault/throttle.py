"""Sign-in rate limits per account and per address, kept in the database.

Why in the database and not in process memory: several instances run side by side, and a guesser
must meet the same counter whichever instance answers. Why a capped back-off and never a lock: an
attacker who knows a username must not be able to lock a homeless person out of their papers for good
by failing on purpose; the worst they get is a wait of ``MAX_DELAY`` between tries, which still makes
guessing a password hopeless.

Keys are HMACs (application key) of the normalised username and of the address, so the table reveals
neither, and an unknown username is throttled exactly like a known one (no existence oracle).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vault.errors import TooManyAttempts
from vault.keys import KeyConfig, keyed_digest
from vault.models import Throttle

FREE_FAILURES = {"user": 5, "address": 30}
BASE_DELAY = timedelta(seconds=15)
MAX_DELAY = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=24)


def throttle_keys(config: KeyConfig, *, username: str, address: str | None) -> list[str]:
    keys = [_key(config, "user", username.strip().lower())]
    if address:
        keys.append(_key(config, "address", address))
    return keys


def check_throttle(session: Session, keys: list[str], *, now: datetime) -> None:
    """Raise TooManyAttempts if any key is in its back-off period."""
    waits = []
    for row in session.scalars(select(Throttle).where(Throttle.key.in_(keys))):
        if row.blocked_until is not None and row.blocked_until > now:
            waits.append(int((row.blocked_until - now).total_seconds()) + 1)
    if waits:
        raise TooManyAttempts(retry_after_seconds=max(waits))


def record_failure(session: Session, keys: list[str], *, now: datetime) -> None:
    for key in keys:
        row = _row_for_update(session, key, now)
        if now - row.last_attempt_at > FORGET_AFTER:
            row.count = 0
        row.count += 1
        row.last_attempt_at = now
        excess = row.count - FREE_FAILURES[key.split(":", 1)[0]]
        if excess >= 0:  # the n-th failure already starts the wait
            delay = min(BASE_DELAY * (2 ** min(excess, 16)), MAX_DELAY)
            row.blocked_until = now + delay
    session.flush()


def record_success(session: Session, keys: list[str]) -> None:
    """A right password clears the username's counter (not the address's: one shared shelter
    computer may hold several people, and one person's success says nothing about the others)."""
    for row in session.scalars(select(Throttle).where(Throttle.key.in_(keys[:1]))):
        session.delete(row)
    session.flush()


def _row_for_update(session: Session, key: str, now: datetime) -> Throttle:
    query = select(Throttle).where(Throttle.key == key).with_for_update()
    row = session.execute(query).scalar_one_or_none()
    if row is not None:
        return row
    try:
        with session.begin_nested():
            session.add(Throttle(key=key, count=0, last_attempt_at=now))
    except IntegrityError:
        pass  # another instance created it at the same moment; lock theirs below
    return session.execute(query).scalar_one()


def _key(config: KeyConfig, scope: str, value: str) -> str:
    return f"{scope}:{keyed_digest(config, 'throttle', f'{scope}:{value}')[:40]}"
