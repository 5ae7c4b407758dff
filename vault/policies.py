"""Who may do what: every authorisation rule of Consigne, by name, in one place.

Services ask here first, before reading or changing anything: ``require(may_read_shared_document(...))``.
Each check is a pure function of the actor and the rows concerned (no query, no clock of its own), so
``tests/vault/test_policies.py`` checks them as one table: every rule × every kind of actor.

The actor is *who acts* — a person, a staff member with their memberships, or the operator at the
command line — kept apart from *whose vault it is* (a row's ``owner_id``) and from *the key in hand*
(an unlocked identity, passed to services separately). A staff member reading a person's paper acts on
the person's vault with their own key; a person reads their own with theirs.

Refusals on papers never tell whether the paper exists: services raise the same "not found" for a
paper that is missing, someone else's, or shared with someone else (see ``require``'s ``hidden_as``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from sqlalchemy import select
from sqlalchemy.orm import Session

from vault.errors import NotAllowed, VaultError
from vault.models import AccessRequest, Account, AssistedRecovery, Document, Duplicate, Follow, Membership, Share


class AccountKind(StrEnum):
    PERSON = "person"
    STAFF = "staff"


class AccountStatus(StrEnum):
    ACTIVE = "active"
    DEACTIVATED = "deactivated"


class Role(StrEnum):
    """A staff member's role in one organisation."""

    WORKER = "worker"  # asks for papers, receives shares, deposits, enrols side by side
    ADMIN = "admin"  # a worker who also invites and deactivates staff and registers purposes


class ActorKind(StrEnum):
    PERSON = "person"
    STAFF = "staff"
    OPERATOR = "operator"  # the command line on the server: runs the instance, reads no paper


@dataclass(frozen=True)
class Actor:
    """Who acts in one service call. Immutable: built once per request (``actor_for``)."""

    kind: ActorKind
    account_id: str | None  # None for the operator
    # Active memberships only: organisation id → role. Ended ones (a deactivated worker) count for nothing.
    memberships: Mapping[str, Role] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def operator(cls) -> Actor:
        return cls(kind=ActorKind.OPERATOR, account_id=None)

    @classmethod
    def person(cls, account_id: str) -> Actor:
        return cls(kind=ActorKind.PERSON, account_id=account_id)

    @classmethod
    def staff(cls, account_id: str, memberships: Mapping[str, Role]) -> Actor:
        return cls(kind=ActorKind.STAFF, account_id=account_id, memberships=MappingProxyType(dict(memberships)))

    @property
    def is_person(self) -> bool:
        return self.kind is ActorKind.PERSON

    @property
    def is_staff(self) -> bool:
        return self.kind is ActorKind.STAFF

    @property
    def is_operator(self) -> bool:
        return self.kind is ActorKind.OPERATOR

    def role_in(self, organisation_id: str | None) -> Role | None:
        return self.memberships.get(organisation_id) if organisation_id is not None else None


def actor_for(session: Session, account: Account) -> Actor:
    """The actor of a signed-in account: a person, or staff with their active memberships."""
    if account.kind == AccountKind.PERSON:
        return Actor.person(account.id)
    rows = session.execute(select(Membership.organisation_id, Membership.role)
                           .where(Membership.account_id == account.id, Membership.ended_at.is_(None)))
    return Actor.staff(account.id, {organisation_id: Role(role) for organisation_id, role in rows})


def require(allowed: bool, *, hidden_as: type[VaultError] = NotAllowed) -> None:
    """Raise ``hidden_as`` unless ``allowed``; pass a NotFound class where existence must stay hidden."""
    if not allowed:
        raise hidden_as()


# --- a person's own vault ----------------------------------------------------------------------------
def may_keep_papers(actor: Actor) -> bool:
    """Only people have a vault: staff and the operator hold no papers of their own."""
    return actor.is_person


def may_close_vault(actor: Actor) -> bool:
    """Only a person closes their own vault (vault.closing); staff accounts are deactivated by an admin."""
    return actor.is_person


def owns(actor: Actor, owner_id: str | None) -> bool:
    return actor.is_person and owner_id is not None and actor.account_id == owner_id


def may_manage_own_document(actor: Actor, document: Document) -> bool:
    """Read, change, delete, copy: the owner, and only the owner, does all of these with their own key."""
    return owns(actor, document.owner_id)


# --- organisations -------------------------------------------------------------------------------------
def may_act_for(actor: Actor, organisation_id: str | None) -> bool:
    """A staff member with an active membership (worker or admin) acts for the organisation."""
    return actor.is_staff and actor.role_in(organisation_id) is not None


def may_manage_organisation(actor: Actor, organisation_id: str | None) -> bool:
    """Invite and deactivate staff, register purposes, read aggregate counts: admins only."""
    return actor.is_staff and actor.role_in(organisation_id) is Role.ADMIN


def may_create_organisation(actor: Actor) -> bool:
    return actor.is_operator


def may_administer_staff(actor: Actor, organisation_id: str | None) -> bool:
    """Invite, list and deactivate staff: the organisation's admins, and the operator from the command line
    (an organisation whose admins all left is not stuck). Neither reads a paper by it."""
    return actor.is_operator or may_manage_organisation(actor, organisation_id)


def may_enrol_for(actor: Actor, organisation_id: str | None) -> bool:
    """Assisted enrolment, side by side: any active staff member of the organisation."""
    return may_act_for(actor, organisation_id)


# --- follows -------------------------------------------------------------------------------------------
def follow_is_active(follow: Follow | None) -> bool:
    return follow is not None and follow.ended_at is None


def may_start_follow(actor: Actor, person_id: str) -> bool:
    """Only the person starts being followed (at assisted enrolment they tick it themselves)."""
    return owns(actor, person_id)


def may_end_follow(actor: Actor, follow: Follow) -> bool:
    """The person ends a follow; nobody else ends it for them."""
    return owns(actor, follow.person_id) and follow_is_active(follow)


def may_see_follower(actor: Actor, follow: Follow | None) -> bool:
    """Staff find a person only through an active follow of their organisation; it shows no paper."""
    return follow_is_active(follow) and may_act_for(actor, follow.organisation_id)


def may_request_access(actor: Actor, follow: Follow | None) -> bool:
    return may_see_follower(actor, follow)


def may_deposit(actor: Actor, follow: Follow | None) -> bool:
    """A worker adds a paper to a following person's vault (encrypted to the person: they cannot read it)."""
    return may_see_follower(actor, follow)


# --- shares --------------------------------------------------------------------------------------------
def share_is_active(share: Share, now: datetime) -> bool:
    return share.ended_at is None and now < share.expires_at


def may_share_with(actor: Actor, grantee: Account, grantee_actor: Actor) -> bool:
    """A person shares with one active staff member who acts for at least one organisation."""
    return (actor.is_person and grantee.kind == AccountKind.STAFF and grantee.status == AccountStatus.ACTIVE
            and grantee_actor.is_staff and bool(grantee_actor.memberships))


def may_read_shared_document(actor: Actor, share: Share, now: datetime) -> bool:
    """The grantee, while the share is active and they still act for the share's organisation."""
    return (actor.is_staff and actor.account_id == share.grantee_id and share_is_active(share, now)
            and may_act_for(actor, share.organisation_id))


def may_see_share(actor: Actor, share: Share) -> bool:
    """The person who gave it and the worker who received it (ended or not: the record stays theirs)."""
    return owns(actor, share.owner_id) or (actor.is_staff and actor.account_id == share.grantee_id)


def may_end_share(actor: Actor, share: Share) -> bool:
    """The person takes it back, or the worker gives it back; either, at any time."""
    return share.ended_at is None and may_see_share(actor, share)


# --- access requests ---------------------------------------------------------------------------------
def may_see_request(actor: Actor, request: AccessRequest) -> bool:
    return owns(actor, request.person_id) or may_act_for(actor, request.organisation_id)


def may_answer_request(actor: Actor, request: AccessRequest) -> bool:
    """Only the person answers, with their own session or their own password typed side by side."""
    return owns(actor, request.person_id) and request.status == "waiting"


# --- duplicates ------------------------------------------------------------------------------------------
def may_copy_document(actor: Actor, document: Document, share: Share | None, now: datetime) -> bool:
    """A marked copy: the owner of their own paper, or the grantee through an active share of that paper's
    owner (the caller has checked that the paper is in the share)."""
    if share is None:
        return may_manage_own_document(actor, document)
    return share.owner_id == document.owner_id and may_read_shared_document(actor, share, now)


def may_see_duplicate(actor: Actor, duplicate: Duplicate) -> bool:
    """The person whose paper it is, and whoever received the copy (the public sees only the verification)."""
    return owns(actor, duplicate.owner_id) or (
        actor.is_staff and actor.account_id is not None and actor.account_id == duplicate.issued_to_id)


def may_ask_deletion(actor: Actor, duplicate: Duplicate) -> bool:
    """The person asks the holder of a copy of their paper to delete it, once; not their own copy."""
    return (owns(actor, duplicate.owner_id) and duplicate.issued_to_id != duplicate.owner_id
            and duplicate.deletion_requested_at is None)


def may_answer_deletion(actor: Actor, duplicate: Duplicate) -> bool:
    """The worker who received the copy answers the person's request, once."""
    return (actor.is_staff and actor.account_id is not None and actor.account_id == duplicate.issued_to_id
            and duplicate.deletion_requested_at is not None and duplicate.deletion_answer is None)


# --- assisted recovery -----------------------------------------------------------------------------------
def may_choose_assisted_recovery(actor: Actor, follow: Follow | None) -> bool:
    """Opting in or out: the person alone, and only for an organisation that follows them now."""
    return follow is not None and owns(actor, follow.person_id) and follow_is_active(follow)


def may_start_recovery(actor: Actor, organisation_id: str | None) -> bool:
    """Any active staff member starts one (a second one confirms; one of the two is an admin)."""
    return may_act_for(actor, organisation_id)


def recovery_is_open(recovery: AssistedRecovery, now: datetime) -> bool:
    return recovery.completed_at is None and now < recovery.expires_at


def may_see_recovery(actor: Actor, recovery: AssistedRecovery, now: datetime) -> bool:
    """Staff of the recovery's organisation, while it is open (another organisation's staff: not found)."""
    return recovery_is_open(recovery, now) and may_act_for(actor, recovery.organisation_id)


def may_confirm_recovery(actor: Actor, recovery: AssistedRecovery, starter: Actor, now: datetime) -> bool:
    """A second, different staff member of the organisation, while the one who started still acts for it,
    and one of the two is an admin (the admin's identity is what opens the organisation's key)."""
    organisation_id = recovery.organisation_id
    return (may_see_recovery(actor, recovery, now) and recovery.confirmed_at is None
            and actor.account_id is not None and actor.account_id != starter.account_id
            and starter.account_id == recovery.started_by_id and may_act_for(starter, organisation_id)
            and Role.ADMIN in (actor.role_in(organisation_id), starter.role_in(organisation_id)))


def may_complete_recovery(actor: Actor, recovery: AssistedRecovery, starter: Actor, confirmer: Actor,
                          now: datetime) -> bool:
    """The admin among the two, with their own session, once both confirmed and while both still act for
    the organisation."""
    organisation_id = recovery.organisation_id
    pair = {starter.account_id, confirmer.account_id}
    return (may_see_recovery(actor, recovery, now) and recovery.confirmed_at is not None
            and starter.account_id == recovery.started_by_id and confirmer.account_id == recovery.confirmed_by_id
            and None not in pair and len(pair) == 2 and actor.account_id in pair
            and may_act_for(starter, organisation_id) and may_act_for(confirmer, organisation_id)
            and actor.role_in(organisation_id) is Role.ADMIN)


__all__ = ["AccountKind", "AccountStatus", "Actor", "ActorKind", "Role", "actor_for", "follow_is_active",
           "may_act_for", "may_choose_assisted_recovery", "may_complete_recovery", "may_confirm_recovery",
           "may_see_recovery", "may_start_recovery", "recovery_is_open", "may_answer_deletion", "may_answer_request", "may_ask_deletion", "may_copy_document", "may_create_organisation", "may_deposit", "may_end_follow",
           "may_end_share", "may_enrol_for", "may_keep_papers", "may_manage_organisation", "may_administer_staff",
           "may_manage_own_document", "may_read_shared_document", "may_request_access", "may_see_follower",
           "may_see_duplicate", "may_see_request", "may_see_share", "may_share_with", "may_start_follow", "owns", "require",
           "share_is_active"]
