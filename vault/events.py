"""Audit events, hash-chained per vault.

Every access to a person's papers is recorded here and shown to the person (principle 4). Each event's
hash covers the previous hash and the event's canonical JSON, so a deleted or edited row breaks the
chain (``verify_chain``). One chain per subject (the person whose vault it is) keeps writers of
different vaults from contending; the chain head row is locked while appending so a chain never forks
even with several instances writing at once.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vault.db import insert_missing_then_lock
from vault.i18n import N_
from vault.models import Event, EventChain

GENESIS = b"\x00" * 32
ANONYMOUS_CHAIN = "anonymous"

# The actions a person can read in their activity log, with the plain summary shown by default.
ACTIONS = {
    "account.created": N_("Account created"),
    "signin.succeeded": N_("Signed in"),
    "signin.failed": N_("Failed sign-in"),
    "recovery_code.used": N_("A recovery code was used"),
    "recovery_codes.renewed": N_("New recovery codes were made"),
    "otp.enabled": N_("Two-step sign-in turned on"),
    "otp.disabled": N_("Two-step sign-in turned off"),
    "password.changed": N_("Password changed"),
    "password.reset": N_("Password reset without the old one"),
    "session.ended": N_("Signed out"),
    "sessions.ended_all": N_("Signed out everywhere"),
    "document.uploaded": N_("Paper added"),
    "document.viewed": N_("Paper viewed"),
    "document.downloaded": N_("Paper downloaded"),
    "document.updated": N_("Paper details changed"),
    "document.deleted": N_("Paper deleted"),
    "follow.started": N_("An organisation now follows you"),
    "follow.ended": N_("An organisation no longer follows you"),
    "share.ended": N_("A share ended"),
    "organisation.created": N_("Organisation created"),
    "staff.invited": N_("Staff member invited"),
    "staff.joined": N_("Staff member joined"),
    "staff.deactivated": N_("Staff member deactivated"),
    "share.granted": N_("Papers shared"),
    "request.created": N_("Papers asked for"),
    "request.approved": N_("Request approved"),
    "request.declined": N_("Request declined"),
    "duplicate.issued": N_("A marked copy was made"),
    "duplicate.deletion_requested": N_("You asked for a copy to be deleted"),
    "duplicate.deletion_answered": N_("An answer about deleting a copy"),
    "document.deposited": N_("Paper added by a worker"),
    "export.made": N_("Everything taken out"),
    "account.deleted": N_("Locker closed"),
    "reminders.sent": N_("Reminder sent about papers expiring"),
    # assisted recovery (password.reset above is shared with the recovery with a code)
    "assisted_recovery.enabled": N_("Help to get back in chosen"),
    "assisted_recovery.disabled": N_("Help to get back in stopped"),
    "assisted_recovery.started": N_("Recovery in person started"),
    "assisted_recovery.confirmed": N_("Recovery in person confirmed"),
    "assisted_recovery.completed": N_("Recovery in person finished"),
    "organisation.recovery_key_rotated": N_("Organisation recovery key renewed"),
}


@dataclass(frozen=True)
class Actor:
    """Who acts: an account (with its kind) or nobody yet (a failed sign-in)."""

    account_id: str | None
    kind: str = "anonymous"


def record_event(session: Session, *, action: str, now: datetime, actor_id: str | None,
                 subject_id: str | None, document_id: str | None = None,
                 details: dict[str, Any] | None = None) -> Event:
    """Append an event to the subject's chain (flushes; the caller commits)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown event action {action!r}")
    chain_name = subject_id or ANONYMOUS_CHAIN
    # Locked from reading the head to the commit, so two requests never append the same sequence.
    insert_missing_then_lock(session, EventChain, {"chain": chain_name, "head_sequence": 0, "head_hash": GENESIS},
                             EventChain.chain == chain_name)
    head = session.execute(select(EventChain).where(EventChain.chain == chain_name)
                           .execution_options(populate_existing=True)).scalar_one()
    event = Event(
        chain=chain_name,
        sequence=head.head_sequence + 1,
        at=now,
        action=action,
        actor_id=actor_id,
        subject_id=subject_id,
        document_id=document_id,
        details=details or {},
        previous_hash=head.head_hash,
    )
    event.hash = hash_event(event)
    head.head_sequence = event.sequence
    head.head_hash = event.hash
    session.add(event)
    session.flush()
    return event


def hash_event(event: Event) -> bytes:
    canonical = json.dumps(
        {
            "chain": event.chain,
            "sequence": event.sequence,
            "at": event.at.isoformat(),
            "action": event.action,
            "actor": event.actor_id,
            "subject": event.subject_id,
            "document": event.document_id,
            "details": event.details,
        },
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    return hashlib.sha256(event.previous_hash + canonical).digest()


def verify_chain(session: Session, chain: str) -> bool:
    """True when every event of ``chain`` links to the previous one and matches its hash."""
    previous = GENESIS
    expected_sequence = 1
    for event in session.scalars(select(Event).where(Event.chain == chain).order_by(Event.sequence)):
        if event.sequence != expected_sequence or event.previous_hash != previous or hash_event(event) != event.hash:
            return False
        previous = event.hash
        expected_sequence += 1
    head = session.get(EventChain, chain)
    return head is None or (head.head_hash == previous and head.head_sequence == expected_sequence - 1)


def list_events_for(session: Session, *, subject_id: str, limit: int = 200, before_id: int | None = None,
                    after_id: int | None = None) -> list[Event]:
    """The person's own events, newest first: the ``limit`` events before ``before_id`` (a page).

    With ``after_id`` instead: the ``limit`` events just after it, oldest first (the way back to newer
    pages; the caller puts them newest first again).

    One range of the (subject_id, id) index, as cheap for an old page as for the first one; the
    activity in words (``vault.activity``) is built on this.
    """
    # Written as a range of the whole (subject_id, id) key and ordered by that key, so that PostgreSQL
    # can only read it from that index. Written "subject_id = :s ORDER BY id DESC", the planner may walk
    # the primary key backward and filter, betting that a person's events are spread evenly over time:
    # for someone busy long ago and quiet since, that reads every newer event of everyone (215 ms at
    # 300k events against 0.04 ms, and seconds at 5M). The two bounds select exactly subject_id = :s.
    query = select(Event).where(Event.subject_id >= subject_id, Event.subject_id <= subject_id)
    if after_id is not None:
        # The same index read forward from ``after_id``: as cheap as the backward read.
        query = query.where(Event.id > after_id)
        return list(session.scalars(query.order_by(Event.subject_id.asc(), Event.id.asc()).limit(limit)))
    if before_id is not None:
        query = query.where(Event.id < before_id)
    return list(session.scalars(query.order_by(Event.subject_id.desc(), Event.id.desc()).limit(limit)))
