"""Follows: a person lets an organisation find them (and ask them for papers). A follow never shows a paper.

Only the person starts a follow (alone, or side by side at assisted enrolment where they tick the box
themselves: ``vault.accounts.enrol_person``), and only the person ends it. Ending a follow does not end
the shares already given: those are separate consents, each ended on its own (the pages say so).

Staff see the people who follow their organisation by username only: no paper, no date of birth, nothing
else about them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from vault.assisted_recovery import forget_seal_of_follow
from vault.db import lock_row
from vault.errors import FollowNotFound, NotAllowed, OrganisationNotFound
from vault.events import record_event
from vault.models import Account, Follow, Organisation
from vault.organisations import acting_organisation
from vault.policies import Actor, may_act_for, may_end_follow, may_see_follower, may_start_follow, require


@dataclass(frozen=True)
class OrganisationBrief:
    id: str
    name: str


@dataclass(frozen=True)
class FollowView:
    id: str
    organisation_id: str
    organisation: str  # its name
    since: datetime


@dataclass(frozen=True)
class Follower:
    username: str


def list_organisations(session: Session, *, actor: Actor) -> list[OrganisationBrief]:
    """Every organisation, by name: what a signed-in person picks from to start a follow."""
    if actor.is_operator:
        raise NotAllowed()
    rows = session.execute(select(Organisation.id, Organisation.name).order_by(Organisation.name, Organisation.id))
    return [OrganisationBrief(id=id_, name=name) for id_, name in rows]


def start_follow(session: Session, *, actor: Actor, organisation_id: object, now: datetime) -> FollowView:
    """The person lets ``organisation_id`` follow them. Already followed: the same follow, nothing new."""
    require(may_start_follow(actor, actor.account_id))
    organisation = session.get(Organisation, organisation_id) if isinstance(organisation_id, str) else None
    if organisation is None:
        raise OrganisationNotFound()
    # The person's own row locked: a double click cannot make two follows of the same organisation.
    lock_row(session, Account, Account.id == actor.account_id)
    existing = session.scalars(select(Follow).where(Follow.person_id == actor.account_id,
                                                    Follow.organisation_id == organisation.id,
                                                    Follow.ended_at.is_(None))).first()
    if existing is not None:
        return _view(existing, organisation)
    follow = Follow(organisation_id=organisation.id, person_id=actor.account_id, consented_at=now)
    session.add(follow)
    session.flush()
    record_event(session, action="follow.started", now=now, actor_id=actor.account_id, subject_id=actor.account_id,
                 details={"organisation": organisation.name, "organisation_id": organisation.id})
    return _view(follow, organisation)


def list_follows(session: Session, *, actor: Actor) -> list[FollowView]:
    """The organisations that follow the person now (ended follows are in the activity, not here)."""
    require(actor.is_person)
    rows = session.execute(select(Follow, Organisation).join(Organisation, Organisation.id == Follow.organisation_id)
                           .where(Follow.person_id == actor.account_id, Follow.ended_at.is_(None))
                           .order_by(Organisation.name, Follow.id))
    return [_view(follow, organisation) for follow, organisation in rows]


def end_follow(session: Session, *, actor: Actor, follow_id: object, now: datetime) -> None:
    """The person ends a follow. Someone else's follow, or one already ended: FollowNotFound (the same)."""
    follow = session.get(Follow, follow_id) if isinstance(follow_id, str) else None
    require(follow is not None and may_end_follow(actor, follow), hidden_as=FollowNotFound)
    # Conditional: two clicks on « stop » end it once, and record it once.
    ended = session.execute(update(Follow).where(Follow.id == follow.id, Follow.ended_at.is_(None))
                            .values(ended_at=now).execution_options(synchronize_session=False)).rowcount
    if ended != 1:
        raise FollowNotFound()
    organisation = session.get(Organisation, follow.organisation_id)
    # Ending a follow also opts out of assisted recovery with that organisation: the seal is destroyed.
    forget_seal_of_follow(session, person_id=follow.person_id, organisation_id=organisation.id, now=now)
    record_event(session, action="follow.ended", now=now, actor_id=actor.account_id, subject_id=actor.account_id,
                 details={"organisation": organisation.name, "organisation_id": organisation.id})


def list_followers(session: Session, *, actor: Actor, organisation_id: str | None) -> list[Follower]:
    """The people who follow the staff member's organisation: usernames only, alphabetical."""
    organisation = acting_organisation(session, actor, organisation_id)
    require(may_act_for(actor, organisation.id))
    rows = session.execute(select(Follow, Account.username).join(Account, Account.id == Follow.person_id)
                           .where(Follow.organisation_id == organisation.id, Follow.ended_at.is_(None))
                           .order_by(Account.username))
    followers = []
    for follow, username in rows:
        require(may_see_follower(actor, follow))
        followers.append(Follower(username=username))
    return followers


def follow_of(session: Session, *, organisation_id: str, username: str) -> Follow | None:
    """The active follow of ``username`` for the organisation, or None (for other services' checks)."""
    return session.scalars(select(Follow).join(Account, Account.id == Follow.person_id)
                           .where(Follow.organisation_id == organisation_id, Account.username == username,
                                  Follow.ended_at.is_(None))).first()


def _view(follow: Follow, organisation: Organisation) -> FollowView:
    return FollowView(id=follow.id, organisation_id=organisation.id, organisation=organisation.name,
                      since=follow.consented_at)


__all__ = ["FollowView", "Follower", "OrganisationBrief", "end_follow", "follow_of", "list_followers",
           "list_follows", "list_organisations", "start_follow"]
