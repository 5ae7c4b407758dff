"""Whom a person may pick to share with, and the organisations a staff member acts for (for the pickers).

Lists only: what a person may then share, and with whom, is decided by ``vault.shares`` and its policies.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from vault.accounts import public_name
from vault.models import Account, Follow, Membership, Organisation
from vault.policies import AccountKind, AccountStatus, Actor, require


@dataclass(frozen=True)
class WorkerChoice:
    account_id: str
    name: str
    organisation_id: str
    organisation_name: str


def workers_following(session: Session, *, actor: Actor) -> list[WorkerChoice]:
    """The active staff of the organisations that follow the person (to pick one to share with)."""
    require(actor.is_person)
    rows = session.execute(
        select(Account, Organisation)
        .join(Membership, Membership.account_id == Account.id)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .join(Follow, Follow.organisation_id == Organisation.id)
        .where(Follow.person_id == actor.account_id, Follow.ended_at.is_(None), Membership.ended_at.is_(None),
               Account.status == AccountStatus.ACTIVE, Account.kind == AccountKind.STAFF)
        .order_by(Organisation.name, Account.username))
    return [WorkerChoice(account.id, public_name(account), organisation.id, organisation.name)
            for account, organisation in rows]


def staff_organisations(session: Session, staff_id: str) -> list[Organisation]:
    """The organisations a staff member acts for now (to name them in a picker)."""
    return list(session.scalars(select(Organisation).join(Membership, Membership.organisation_id == Organisation.id)
                                .where(Membership.account_id == staff_id, Membership.ended_at.is_(None))
                                .order_by(Organisation.name)))


__all__ = ["WorkerChoice", "staff_organisations", "workers_following"]
