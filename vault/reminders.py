"""Papers about to expire: the flag people and workers see, and what ``consigne reminders`` tells.

A residence permit must be renewed two to four months ahead, an identity card takes weeks: a person who
learns it the day it expires has lost their rights for months. So every paper with an expiry date is
flagged when it enters the 90-day window, flagged harder in the last 30 days, and flagged once expired;
the person sees it on their papers, and a worker holding an active share of that paper sees it too.

Days are counted on the calendar of the people served (``DISPLAY_TIMEZONE``, Europe/Paris, as the rest of
the pages): there is no per-person time zone, and a paper printed « valable jusqu'au 23/11/2026 » expires
at the end of that day where the person lives, not at midnight UTC.

Notifying. Consigne keeps no phone number and no e-mail address (DESIGN.md: never required), so it cannot
reach anybody itself. ``send_reminders`` hands a small ``Reminder`` per person to a notifier the operator
plugs in (``CONSIGNE_REMINDER_NOTIFIER=package.module:callable``: an organisation's SMS gateway keyed by
username, say). The notifier is trusted like the operator: it gets the username, the kinds of papers and
their dates, never a title (titles are sealed to the person and the server cannot read them anyway).

Told once. A notifier is told at most once per paper and window (90 days, 30 days, expired). What was
sent is the person's event ``reminders.sent`` ``{documents, window_days}``, so no new table is needed and
the person reads it in their activity. A paper ``p`` is in one window at a time; it was told for window
``W`` when a ``reminders.sent`` event of window ``W`` exists at or after the moment ``p`` entered ``W``
(local midnight of that day, or ``p``'s upload if later): every sending for ``W`` includes every paper
then in ``W`` not yet told, so by induction such an event covered ``p``. A renewed paper (its date moved
later) enters its windows again and is told again, as it should. Two runs at once cannot both tell: the
person's event chain is locked, the question asked again under the lock, the notifier called, the event
recorded and the transaction committed, one person at a time. The one residual duplicate is a crash
between the notifier's return and the commit (at least once, never silently lost).
"""

from __future__ import annotations

import importlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Callable, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from vault.activity import DISPLAY_TIMEZONE
from vault.db import insert_missing_then_lock
from vault.events import ANONYMOUS_CHAIN, GENESIS, record_event
from vault.models import Account, Document, Event, EventChain
from vault.policies import AccountKind, Actor, require

SOON_DAYS = 90  # renewing a residence permit starts two to four months ahead
VERY_SOON_DAYS = 30
EXPIRED_WINDOW = 0  # the window of papers already expired, as ``window_days`` in events and reminders
WINDOWS = (SOON_DAYS, VERY_SOON_DAYS, EXPIRED_WINDOW)
REMINDERS_SENT = "reminders.sent"
# Owners per query: well under any database's limit of parameters in one IN list.
BATCH = 500


# --- the flag ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Expiry:
    """Where a paper stands on a given day.

    ``state``: "none" (no date), "valid" (more than 90 days left), "soon" (31 to 90 days), "very_soon"
    (0 to 30 days: today included) or "expired" (the day after its date). ``days_left`` is negative once
    expired (-1 the day after).
    """

    state: str
    days_left: int | None = None
    expires_on: date | None = None

    @property
    def flagged(self) -> bool:
        return self.state in ("soon", "very_soon", "expired")

    @property
    def window_days(self) -> int | None:
        return {"soon": SOON_DAYS, "very_soon": VERY_SOON_DAYS, "expired": EXPIRED_WINDOW}.get(self.state)


def local_today(now: datetime, tz: tzinfo = DISPLAY_TIMEZONE) -> date:
    """The calendar day it is at ``now`` where the people served live."""
    return now.astimezone(tz).date()


def expiry_of(expires_on: date | None, *, today: date) -> Expiry:
    if expires_on is None:
        return Expiry("none")
    days_left = (expires_on - today).days
    if days_left < 0:
        state = "expired"
    elif days_left <= VERY_SOON_DAYS:
        state = "very_soon"
    elif days_left <= SOON_DAYS:
        state = "soon"
    else:
        state = "valid"
    return Expiry(state, days_left, expires_on)


def expiry_at(expires_on: date | None, *, now: datetime, tz: tzinfo = DISPLAY_TIMEZONE) -> Expiry:
    """The paper's expiry on the local day of ``now`` (what the pages and the API show)."""
    return expiry_of(expires_on, today=local_today(now, tz))


def window_entered_at(expires_on: date, window_days: int, tz: tzinfo = DISPLAY_TIMEZONE) -> datetime:
    """The moment (aware UTC) a paper expiring on ``expires_on`` enters a window: local midnight that day."""
    if window_days == EXPIRED_WINDOW:
        day = expires_on + timedelta(days=1)
    else:
        day = expires_on - timedelta(days=window_days)
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(timezone.utc)


# --- what is due -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReminderPaper:
    """One paper in a reminder: its kind (a code of vault.kinds) and date, never its title."""

    kind: str
    expires_on: date
    window_days: int  # 90, 30, or 0 for expired
    days_left: int


@dataclass(frozen=True)
class Reminder:
    """What a notifier is given: one per person, the papers they were not yet told about, soonest first."""

    person_id: str
    username: str
    papers: tuple[ReminderPaper, ...]

    @property
    def windows(self) -> dict[int, int]:
        """Window (90, 30, 0) -> number of papers of this reminder in it."""
        counts: dict[int, int] = defaultdict(int)
        for paper in self.papers:
            counts[paper.window_days] += 1
        return dict(counts)


@dataclass(frozen=True)
class VaultDue:
    """One vault with papers in a window today: how many in each, and what was not yet told."""

    person_id: str
    username: str
    papers: dict[int, int]  # window (90, 30, 0) -> papers in it today
    reminder: Reminder | None  # the papers not yet told; None when everything was told already


@dataclass(frozen=True)
class _Candidate:
    document_id: str
    owner_id: str
    kind: str
    expires_on: date
    created_at: datetime
    expiry: Expiry


def list_due(session: Session, *, actor: Actor, now: datetime, tz: tzinfo = DISPLAY_TIMEZONE,
             person_id: str | None = None) -> list[VaultDue]:
    """Every person's vault with papers in the 90-day or 30-day window or expired, on the local day of ``now``.

    The operator's view (``consigne reminders``): counts and kinds, never a title. Ordered by the soonest
    paper first. ``person_id`` limits it to one vault (``send_reminders`` asks again under the lock).
    """
    require(actor.is_operator)
    today = local_today(now, tz)
    query = (select(Document.id, Document.owner_id, Document.kind, Document.expires_on, Document.created_at,
                    Account.username)
             .join(Account, Account.id == Document.owner_id)
             .where(Account.kind == AccountKind.PERSON, Document.expires_on.is_not(None),
                    Document.expires_on <= today + timedelta(days=SOON_DAYS))
             .order_by(Document.expires_on, Document.id))
    if person_id is not None:
        query = query.where(Document.owner_id == person_id)
    candidates: dict[str, list[_Candidate]] = defaultdict(list)
    usernames: dict[str, str] = {}
    for row in session.execute(query):
        # Papers added before now only: one uploaded during this run waits for the next.
        if row.created_at > now:
            continue
        expiry = expiry_of(row.expires_on, today=today)
        candidates[row.owner_id].append(_Candidate(row.id, row.owner_id, row.kind, row.expires_on, row.created_at,
                                                   expiry))
        usernames[row.owner_id] = row.username
    sent = _sendings(session, list(candidates))
    due = []
    for owner_id, papers in candidates.items():
        counts = {window: 0 for window in WINDOWS}
        untold = []
        for paper in papers:
            window = paper.expiry.window_days
            counts[window] += 1
            if not _told(paper, window, sent.get((owner_id, window), ()), tz):
                untold.append(ReminderPaper(paper.kind, paper.expires_on, window, paper.expiry.days_left))
        reminder = Reminder(owner_id, usernames[owner_id], tuple(untold)) if untold else None
        due.append(VaultDue(owner_id, usernames[owner_id], counts, reminder))
    return due


def _told(paper: _Candidate, window: int, sendings: Iterable[datetime], tz: tzinfo) -> bool:
    since = max(window_entered_at(paper.expires_on, window, tz), paper.created_at)
    return any(at >= since for at in sendings)


def _sendings(session: Session, owner_ids: list[str]) -> dict[tuple[str, int], list[datetime]]:
    """(person, window) -> the times a notifier was told, from the ``reminders.sent`` events."""
    sent: dict[tuple[str, int], list[datetime]] = defaultdict(list)
    for start in range(0, len(owner_ids), BATCH):
        batch = owner_ids[start:start + BATCH]
        # Read through the (subject_id, id) index: a few rows per person, whatever the size of the table.
        rows = session.execute(select(Event.subject_id, Event.at, Event.details)
                               .where(Event.subject_id.in_(batch), Event.action == REMINDERS_SENT))
        for subject_id, at, details in rows:
            window = details.get("window_days") if isinstance(details, dict) else None
            if isinstance(window, int) and not isinstance(window, bool):
                sent[(subject_id, window)].append(at)
    return sent


# --- telling -----------------------------------------------------------------------------------------------
Notifier = Callable[[Reminder], object]


class NotifierNotFound(Exception):
    """``CONSIGNE_REMINDER_NOTIFIER`` does not name an importable callable (the message says which part)."""


def load_notifier(spec: str) -> Notifier:
    """The callable named ``package.module:callable`` (the operator's setting)."""
    module_name, colon, attribute = spec.partition(":")
    if not colon or not module_name or not attribute:
        raise NotifierNotFound("write it package.module:callable")
    try:
        target = importlib.import_module(module_name)
    except ImportError as error:
        raise NotifierNotFound(f"cannot import {module_name}: {error}") from None
    for part in attribute.split("."):
        target = getattr(target, part, None)
    if not callable(target):
        raise NotifierNotFound(f"{module_name} has no callable {attribute}")
    return target


@dataclass
class SendReport:
    """What one run did: people told, papers told per window, people whose notifier failed or declined."""

    told: list[str] = field(default_factory=list)  # person ids
    papers: dict[int, int] = field(default_factory=lambda: {window: 0 for window in WINDOWS})
    failed: list[str] = field(default_factory=list)  # the notifier raised: asked again next run
    declined: list[str] = field(default_factory=list)  # the notifier returned False: asked again next run


def send_reminders(session_factory: Callable[[], Session], *, actor: Actor, notifier: Notifier, now: datetime,
                   person_ids: Iterable[str], tz: tzinfo = DISPLAY_TIMEZONE) -> SendReport:
    """Tell ``notifier`` about each listed person's papers not yet told; one transaction per person.

    The notifier returns anything but ``False`` when it sent (``False``: it could not reach the person;
    an exception: it failed); only a real sending is recorded, so the others are asked again next run.
    A notifier that returns nothing counts as sent: an omission must not make people told every day.
    """
    require(actor.is_operator)
    report = SendReport()
    for person_id in person_ids:
        with session_factory() as session:
            reminder = _lock_and_recheck(session, actor=actor, person_id=person_id, now=now, tz=tz)
            if reminder is None:
                session.rollback()
                continue
            try:
                answer = notifier(reminder)
            except Exception:  # noqa: BLE001 — one notifier failure must not stop the others
                session.rollback()
                report.failed.append(person_id)
                continue
            if answer is False:
                session.rollback()
                report.declined.append(person_id)
                continue
            for window, count in sorted(reminder.windows.items(), reverse=True):
                record_event(session, action=REMINDERS_SENT, now=now, actor_id=None, subject_id=person_id,
                             details={"documents": count, "window_days": window})
                report.papers[window] += count
            session.commit()
            report.told.append(person_id)
    return report


def _lock_and_recheck(session: Session, *, actor: Actor, person_id: str, now: datetime,
                      tz: tzinfo) -> Reminder | None:
    """Lock the person's event chain (held until the commit), then ask again what is not yet told.

    A second run at the same moment waits here for the first to commit, then finds its events.
    """
    if person_id == ANONYMOUS_CHAIN:
        return None
    insert_missing_then_lock(session, EventChain, {"chain": person_id, "head_sequence": 0, "head_hash": GENESIS},
                             EventChain.chain == person_id)
    due = list_due(session, actor=actor, now=now, tz=tz, person_id=person_id)
    return due[0].reminder if due else None


__all__ = ["EXPIRED_WINDOW", "Expiry", "Notifier", "NotifierNotFound", "REMINDERS_SENT", "Reminder",
           "ReminderPaper", "SOON_DAYS", "SendReport", "VERY_SOON_DAYS", "VaultDue", "WINDOWS", "expiry_at",
           "expiry_of", "list_due", "load_notifier", "local_today", "send_reminders", "window_entered_at"]
