"""Checking the audit record: every hash chain of events, end to end (``consigne audit verify``).

Each person's events form one chain (vault/events.py): every event's hash covers the previous hash and
the event itself, and the chain's head row holds the last sequence and hash. An edited row, a deleted
one (in the middle or at the end) or a row moved to another place breaks the chain; this says which
chain, at which sequence, and why, so an operator knows where to look. It reads one chain at a time, in
sequence order, a batch of rows at a time: memory does not grow with the number of events.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import select, union
from sqlalchemy.orm import Session

from vault.events import GENESIS, hash_event
from vault.models import Event, EventChain

BATCH = 1000


@dataclass(frozen=True)
class ChainCheck:
    chain: str
    events: int
    intact: bool
    broken_at: int | None = None  # the sequence where the chain stops holding (None when intact)
    reason: str | None = None  # "sequence" (a row missing or moved), "link", "hash" (a row edited), "head"

    def as_dict(self) -> dict:
        return asdict(self)


def check_chain(session: Session, chain: str) -> ChainCheck:
    """The verdict on one chain, the same as ``vault.events.verify_chain``'s, with where and why."""
    previous, expected, count = GENESIS, 1, 0
    rows = session.scalars(select(Event).where(Event.chain == chain).order_by(Event.sequence)
                           .execution_options(yield_per=BATCH))
    for event in rows:
        count += 1
        reason = ("sequence" if event.sequence != expected else "link" if event.previous_hash != previous
                  else "hash" if hash_event(event) != event.hash else None)
        if reason is not None:
            rows.close()
            return ChainCheck(chain, count, False, event.sequence, reason)
        previous, expected = event.hash, expected + 1
    head = session.get(EventChain, chain)
    if head is not None and (head.head_hash != previous or head.head_sequence != expected - 1):
        # The last events were removed (or the head rewritten): the head no longer matches the rows.
        return ChainCheck(chain, count, False, head.head_sequence, "head")
    return ChainCheck(chain, count, True)


def check_all_chains(session: Session) -> list[ChainCheck]:
    """Every chain: those with a head row and any whose head row is gone but whose events remain."""
    names = session.scalars(union(select(EventChain.chain), select(Event.chain).distinct())
                            .order_by("chain")).all()
    return [check_chain(session, name) for name in names]


__all__ = ["ChainCheck", "check_all_chains", "check_chain"]
