"""Failed sign-ins in the person's activity: one line per burst, never a flood.

A guesser may fail thousands of times. One event per failure would bury the real accesses in the
person's activity (principle 4: everything seen is shown, readably) and make every failure append to
the account's event chain. So failures close together in time form a *burst*: the first failure creates
a ``FailedSignInBurst`` and records ONE ``signin.failed`` event naming it (``details={"burst": id}``);
later failures within ``BURST_GAP`` of the last one only count on that row (an atomic UPDATE). The
activity listing reads the event and the burst's count and times.

Failures for usernames that do not exist are recorded nowhere: there is no one to tell, and a shared
"anonymous" chain would only be a point of contention for every guess.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from vault.db import lock_row
from vault.events import record_event
from vault.models import Account, FailedSignInBurst

BURST_GAP = timedelta(minutes=30)


def record_failed_sign_in(db: Session, *, account: Account, now: datetime) -> str:
    """Count one failed sign-in (or re-authentication) for ``account``; returns the burst's id."""
    # One burst at a time per account: without the lock, two failures at the same moment could both find
    # no recent burst and open two.
    lock_row(db, Account, Account.id == account.id)
    recent = db.scalar(
        select(FailedSignInBurst.id)
        .where(FailedSignInBurst.account_id == account.id, FailedSignInBurst.last_at >= now - BURST_GAP)
        .order_by(FailedSignInBurst.last_at.desc()).limit(1)
    )
    if recent is not None:
        db.execute(
            update(FailedSignInBurst).where(FailedSignInBurst.id == recent)
            .values(count=FailedSignInBurst.count + 1,
                    last_at=case((FailedSignInBurst.last_at < now, now), else_=FailedSignInBurst.last_at))
            .execution_options(synchronize_session=False)
        )
        return recent
    burst = FailedSignInBurst(account_id=account.id, started_at=now, last_at=now, count=1)
    db.add(burst)
    db.flush()
    record_event(db, action="signin.failed", now=now, actor_id=None, subject_id=account.id,
                 details={"burst": burst.id})
    return burst.id


__all__ = ["BURST_GAP", "record_failed_sign_in"]
