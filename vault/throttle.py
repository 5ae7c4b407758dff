"""Budgets for guesses and enrolments, kept in the database, with each attempt reserved before it is checked.

Threat model. A guesser sends many passwords for one username, often in parallel, from one or many
addresses; a sprayer tries one password on many usernames from one address; a prankster fails on purpose
to lock a person out of their papers; a script enrols thousands of accounts. Meanwhile a shelter puts
dozens of honest people behind one address, and the owner of a vault must never be kept out by someone
who only knows their username.

How:
- **Reservation before the check.** An attempt first takes one unit from each budget it is counted on,
  in a short transaction of its own that commits at once (``reserve``), and only then may the caller run
  Argon2id. The reservation counts as a failure; a success gives it back (``Reservation.refund``). The
  check and the increment happen under a row lock (``insert_missing_then_lock``, which holds on SQLite
  too), so however many guesses arrive at once, no more than the budget are ever checked. Reading the
  limit first and writing the failure after the Argon2id, as before, let 20 of 30 parallel guesses
  through.
- **Why its own transaction.** Holding the row lock through a quarter of a second of Argon2id would
  make every sign-in of that account (and on SQLite, every write) wait; and a failure must stay counted
  whatever happens to the request afterwards.
- **A capped back-off, never a lock.** Past the free attempts each one opens a wait that doubles from
  ``first_delay`` up to ``max_delay``; an idle day forgets everything. Together with the known devices
  and the recovery-code path of the sign-in (``vault/sign_in.py``), this never keeps an owner out.
- **Several budgets, chosen by the caller**: per account (username), per known device, per address (far
  larger, for shelters), for second factors, for re-authentication within a session, for enrolment per
  address and per staff member. Address budgets drain with time (``drain_every``) so a shared address
  with a few honest mistakes a day never fills up.

Keys are HMACs (application key) of the scope and the value, so the table reveals neither usernames nor
addresses, and an unknown username is throttled exactly like a known one (no existence oracle).

Connections. A request must never hold two pooled connections at once: with more requests in flight than
half the pool, every request would hold one and wait for a second, and the pool would stall (found with 30
parallel sign-ins). So ``reserve`` uses a session of its own only while the request's transaction has not
touched the database yet (the sign-in and anonymous enrolment, which do their reading in short sessions of
their own too); a request that already holds its connection (re-authentication, assisted enrolment, the
second step) reserves inside its own transaction. That is just as atomic (the row lock, or SQLite's single
writer, holds until the commit); the failure is then kept by the error's ``keeps_changes`` and a busy
server's rollback gives the unit back by itself. On SQLite this also avoids waiting for the request's own
write lock.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import case, delete, select, update
from sqlalchemy.orm import Session

from vault.db import insert_missing_then_lock
from vault.errors import TooManyAttempts
from vault.keys import KeyConfig, keyed_digest
from vault.models import Throttle


@dataclass(frozen=True)
class Budget:
    """``free`` attempts, then a wait doubling from ``first_delay`` to ``max_delay`` after each one.

    ``on_success``: what a successful attempt does to the counter: ``"clear"`` it (the owner proved who
    they are), ``"give_back"`` its own unit only (an address: one person's success says nothing about the
    others behind it), or ``"keep"`` (an enrolment is the thing counted).
    """

    free: int
    first_delay: timedelta
    max_delay: timedelta
    on_success: str = "clear"
    forget_after: timedelta = timedelta(hours=24)
    drain_every: timedelta | None = None

    def delay_after(self, count: int) -> timedelta | None:
        excess = count - self.free
        if excess < 0:
            return None
        return min(self.first_delay * (2 ** min(excess, 20)), self.max_delay)


SECONDS = timedelta(seconds=1)
BUDGETS: dict[str, Budget] = {
    # Per username, known or not: 5 free guesses, then 15 s, 30 s, … up to 15 min between guesses
    # (about 100 a day: hopeless against a password that passed the strength check).
    "account": Budget(free=5, first_delay=15 * SECONDS, max_delay=timedelta(minutes=15)),
    # Per known device of an account: the same, but only that device waits.
    "device": Budget(free=5, first_delay=15 * SECONDS, max_delay=timedelta(minutes=15)),
    # Per account, the codes of two-step sign-in (six digits: they need their own small budget).
    "second-factor": Budget(free=5, first_delay=15 * SECONDS, max_delay=timedelta(minutes=15)),
    # Per session, asking the current password again before a sensitive change.
    "session": Budget(free=5, first_delay=15 * SECONDS, max_delay=timedelta(minutes=15)),
    # Per address: a shelter's honest mistakes never fill it (it drains by one every 5 minutes), a
    # sprayer across usernames soon waits. Never applied to a known device.
    "address": Budget(free=100, first_delay=15 * SECONDS, max_delay=timedelta(minutes=15), on_success="give_back",
                      drain_every=timedelta(minutes=5)),
    # Enrolment per address: a shelter enrolling 30 people in a morning passes (40 at once, then one
    # more every 6 minutes); a script enrolling 1,000 gets about 40 + 250 a day.
    "enrolment-address": Budget(free=40, first_delay=timedelta(minutes=5), max_delay=timedelta(minutes=30),
                                on_success="keep", drain_every=timedelta(minutes=6)),
    # Assisted enrolment per staff member (whatever the address): a busy enrolment day passes.
    # Public look-ups of duplicate references, per address: a landlord checking a few copies passes; a
    # script guessing references (80 bits: hopeless anyway) gets 40, then one every 30 seconds.
    "duplicate-lookup": Budget(free=40, first_delay=timedelta(seconds=30), max_delay=timedelta(minutes=15),
                               on_success="keep", drain_every=timedelta(seconds=30)),
    "enrolment-staff": Budget(free=60, first_delay=timedelta(minutes=5), max_delay=timedelta(minutes=30),
                              on_success="keep", drain_every=timedelta(minutes=3)),
    # Redeeming staff invitations, per address: a code has 95 random bits, so this only keeps a script
    # from hammering the table; an office whose new staff mistype a few codes never waits.
    "invitation-address": Budget(free=20, first_delay=timedelta(minutes=1), max_delay=timedelta(minutes=30),
                                 on_success="give_back", drain_every=timedelta(minutes=10)),
}


@dataclass(frozen=True)
class Attempt:
    """Where one attempt comes from, and where attempts are reserved.

    ``throttle_sessions`` makes sessions of their own (the application's ``session_factory``): a
    reservation commits at once, apart from the request's transaction. ``address`` is the client's
    address as the server sees it (None from the command line); ``device_tokens`` are the known-device
    tokens the client presented (the API's ``device_token``, the pages' device cookie).
    """

    throttle_sessions: Callable[[], Session]
    address: str | None = None
    device_tokens: tuple[str, ...] = ()


def throttle_key(keys: KeyConfig, scope: str, value: str) -> str:
    """The table's key for ``value`` in ``scope``: an HMAC, so the table reveals neither."""
    if scope not in BUDGETS:
        raise ValueError(f"unknown throttle scope {scope!r}")
    return f"{scope}:{keyed_digest(keys, 'throttle', f'{scope}:{value}')[:40]}"


def account_key(keys: KeyConfig, username: str) -> str:
    """Every spelling of a username that sign-in would accept meets the same counter."""
    return throttle_key(keys, "account", (username or "").strip().lower())


def address_key(keys: KeyConfig, address: str | None, scope: str = "address") -> str | None:
    """One counter per IPv4 address, per IPv6 /64 (what one household or one attacker holds)."""
    if not address:
        return None
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return throttle_key(keys, scope, address)
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            parsed = parsed.ipv4_mapped
        else:
            return throttle_key(keys, scope, str(ipaddress.ip_network(f"{parsed}/64", strict=False)))
    return throttle_key(keys, scope, str(parsed))


@dataclass
class Reservation:
    """Attempts taken on some keys; counted as failures unless refunded or cancelled."""

    keys: tuple[str, ...]
    throttle_sessions: Callable[[], Session] = field(repr=False)
    # True when the reservation was made inside the request's own transaction (see the module's docstring).
    in_request: bool = False

    def refund(self, db: Session) -> None:
        """The attempt succeeded: apply each budget's ``on_success``, in the request's transaction."""
        for key in self.keys:  # sorted, like the reservation: never two transactions locking in opposite orders
            budget = budget_of(key)
            if budget.on_success == "clear":
                # Zeroed, not deleted: a row deleted between another request's "insert if missing" and its
                # lock would vanish under it (``purge_stale_throttles`` removes idle rows later).
                db.execute(update(Throttle).where(Throttle.key == key).values(count=0, blocked_until=None)
                           .execution_options(synchronize_session=False))
            elif budget.on_success == "give_back":
                _give_back(db, key, budget)

    def cancel(self) -> None:
        """The attempt was never checked (the server was busy): give every unit back.

        A reservation made inside the request's transaction goes away with its rollback; one made apart is
        given back in a session of its own, committed at once (the request holds no connection then).
        """
        if not self.keys or self.in_request:
            return
        with self.throttle_sessions() as own:
            for key in self.keys:
                _give_back(own, key, budget_of(key))
            own.commit()


def budget_of(key: str) -> Budget:
    return BUDGETS[key.split(":", 1)[0]]


def reserve(attempt: Attempt, keys: Sequence[str | None], *, now: datetime,
            request_session: Session | None = None) -> Reservation:
    """Take one attempt on each key, atomically, or raise TooManyAttempts without counting anything.

    In a session of its own, committed at once, unless ``request_session`` (the request's own) has
    already begun: then inside it (see the module's docstring).

    The error's ``retry_after_seconds`` is the real wait (the longest among the blocked keys) and
    ``blocked`` maps each blocked scope to its own wait, so the sign-in can tell an account lock (which a
    recovery code gets past) from an address or device one.
    """
    ordered = tuple(sorted({key for key in keys if key}))
    if not ordered:
        return Reservation((), attempt.throttle_sessions)
    if request_session is not None and request_session.in_transaction():
        _take(request_session, ordered, now)
        return Reservation(ordered, attempt.throttle_sessions, in_request=True)
    with attempt.throttle_sessions() as own:
        try:
            _take(own, ordered, now)
        except TooManyAttempts:
            own.rollback()
            raise
        own.commit()
    return Reservation(ordered, attempt.throttle_sessions)


def _take(db: Session, ordered: tuple[str, ...], now: datetime) -> None:
    rows = []
    blocked: dict[str, int] = {}
    for key in ordered:
        # Locked in key order: two requests sharing keys never wait for each other in a cycle.
        row = _insert_missing_then_lock(db, key, now)
        budget = budget_of(key)
        _settle(row, budget, now)
        if row.blocked_until is not None and row.blocked_until > now:
            scope = key.split(":", 1)[0]
            blocked[scope] = max(blocked.get(scope, 0), math.ceil((row.blocked_until - now).total_seconds()))
        rows.append((row, budget))
    if blocked:
        raise TooManyAttempts(max(blocked.values()), reason=_main_reason(blocked), blocked=blocked)
    for row, budget in rows:
        if row.count == 0 or budget.drain_every is None:
            row.last_attempt_at = now
        row.count += 1
        delay = budget.delay_after(row.count)
        row.blocked_until = now + delay if delay is not None else None
    db.flush()


def _insert_missing_then_lock(db: Session, key: str, now: datetime) -> Throttle:
    for _ in range(3):
        insert_missing_then_lock(db, Throttle, {"key": key, "count": 0, "last_attempt_at": now}, Throttle.key == key)
        row = db.execute(select(Throttle).where(Throttle.key == key)
                         .execution_options(populate_existing=True)).scalar_one_or_none()
        if row is not None:
            return row
        # Purged by ``purge_stale_throttles`` between the insert and the lock: create it again.
    raise RuntimeError(f"the throttle row {key.split(':', 1)[0]} could not be created")


def purge_stale_throttles(db: Session, *, now: datetime) -> int:
    """Delete counters nobody has touched for a day and that hold no wait (one DELETE; for a periodic job).

    Every username a guesser tries leaves a row: without this the table grows with every guess.
    """
    longest = max(budget.forget_after for budget in BUDGETS.values())
    return db.execute(
        delete(Throttle).where(Throttle.last_attempt_at < now - longest,
                               (Throttle.blocked_until.is_(None)) | (Throttle.blocked_until < now))
        .execution_options(synchronize_session=False)
    ).rowcount


def _settle(row: Throttle, budget: Budget, now: datetime) -> None:
    """Forget a counter idle for ``forget_after``; drain one unit per ``drain_every`` elapsed.

    For draining budgets ``last_attempt_at`` is the time up to which the counter was drained (the
    remainder of an interval is kept, so steady traffic drains at the stated rate).
    """
    idle = now - row.last_attempt_at
    if idle >= budget.forget_after:
        row.count, row.blocked_until, row.last_attempt_at = 0, None, now
        return
    if budget.drain_every is not None and idle >= budget.drain_every:
        steps = idle // budget.drain_every
        row.count = max(0, row.count - steps)
        row.last_attempt_at = now if row.count == 0 else row.last_attempt_at + steps * budget.drain_every


def _give_back(db: Session, key: str, budget: Budget) -> None:
    # One statement, evaluated on the row as it is when the lock is granted: no read-then-write, no ORM
    # object that another request may have deleted (which answered 500 with StaleDataError before).
    db.execute(
        update(Throttle).where(Throttle.key == key, Throttle.count > 0)
        .values(count=Throttle.count - 1,
                blocked_until=case((Throttle.count - 1 < budget.free, None), else_=Throttle.blocked_until))
        .execution_options(synchronize_session=False)
    )


def _main_reason(blocked: dict[str, int]) -> str:
    """The scope to name: any other than the account first (a recovery code does not get past those)."""
    others = [scope for scope in blocked if scope != "account"]
    return max(others, key=blocked.get) if others else "account"


__all__ = ["Attempt", "BUDGETS", "Budget", "Reservation", "account_key", "address_key", "budget_of",
           "purge_stale_throttles", "reserve", "throttle_key"]
