"""Vaults nobody has opened for years, listed for the operator's review (``consigne retention``).

Keeping papers of people who left for good is a risk for them (a leak years later) and a cost; but a
person who comes back after three years in another town must still find their birth certificate. So
this only lists; nothing is deleted here. The operator reviews the list (with the organisations that
know the person, when there is one) and closes a vault only by an explicit command for that vault.

"Unused" is measured from the last full sign-in (``accounts.last_signed_in_at``, written once per
sign-in), or from the enrolment for a vault never signed in to since. A worker's reads of a share do not
count: the vault is the person's, and it is their absence that is reviewed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from vault.models import Account, Document
from vault.policies import AccountKind, Actor, require

DEFAULT_UNUSED_FOR = "3y"
PERIOD = re.compile(r"([1-9][0-9]{0,3})([ymd])")


@dataclass(frozen=True)
class Period:
    """A length of time written ``3y``, ``18m`` or ``400d`` (years and months on the calendar)."""

    amount: int
    unit: str  # "y", "m" or "d"

    @classmethod
    def parse(cls, text: str) -> Period:
        match = PERIOD.fullmatch(text.strip().lower()) if isinstance(text, str) else None
        if match is None:
            raise ValueError("write a period as a number and y, m or d: 3y, 18m, 400d")
        return cls(int(match.group(1)), match.group(2))

    def before(self, moment: datetime) -> datetime:
        """``moment`` minus this period (the 29th of February one year back is the 28th)."""
        if self.unit == "d":
            return moment - timedelta(days=self.amount)
        months = self.amount * (12 if self.unit == "y" else 1)
        year, month = divmod(moment.year * 12 + moment.month - 1 - months, 12)
        month += 1
        day = moment.day
        while True:
            try:
                return moment.replace(year=year, month=month, day=day)
            except ValueError:
                day -= 1

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


@dataclass(frozen=True)
class UnusedVault:
    person_id: str
    username: str
    status: str
    created_at: datetime
    last_signed_in_at: datetime | None  # None: never signed in since enrolment
    papers: int

    @property
    def last_used_at(self) -> datetime:
        return self.last_signed_in_at or self.created_at


def list_unused_vaults(session: Session, *, actor: Actor, now: datetime, unused_for: Period) -> list[UnusedVault]:
    """People's vaults not signed in to since ``unused_for`` before ``now``, least recently used first."""
    require(actor.is_operator)
    cutoff = unused_for.before(now)
    papers = (select(Document.owner_id, func.count(Document.id).label("papers"))
              .group_by(Document.owner_id).subquery())
    # Two plain comparisons rather than COALESCE: each keeps the column's type (aware UTC on both databases).
    unused = or_(and_(Account.last_signed_in_at.is_not(None), Account.last_signed_in_at < cutoff),
                 and_(Account.last_signed_in_at.is_(None), Account.created_at < cutoff))
    rows = session.execute(
        select(Account.id, Account.username, Account.status, Account.created_at, Account.last_signed_in_at,
               func.coalesce(papers.c.papers, 0))
        .outerjoin(papers, papers.c.owner_id == Account.id)
        .where(Account.kind == AccountKind.PERSON, unused))
    vaults = [UnusedVault(*row) for row in rows]
    return sorted(vaults, key=lambda vault: (vault.last_used_at, vault.person_id))
