"""Organisations and their staff: creation, invitations, joining, the staff list, deactivation, the
registered purposes and the admins' aggregate counts.

Threat model, and the answers here:
- **Invitation codes are keys to an organisation.** A code is a recovery-style code (95 random bits,
  Crockford base32 with a check symbol: easy to read aloud and type, ``crypto.codes``), stored only as
  an HMAC under an application subkey of its own (``invitation-lookup``): a stolen database cannot even
  confirm a guessed code. It is shown once, expires after ``INVITATION_LIFETIME`` and works once: the
  claim is one conditional UPDATE (``used_at IS NULL AND expires_at > now``), so two people redeeming the
  same code at once get one account between them. Attempts are throttled per address before the
  look-up, and a mistyped, unknown, used and expired code all get the same answer.
- **Staff see other people's papers**, so two-step sign-in is on from the first moment (the joining
  answer carries the TOTP secret, never stored in clear) and the password passes the same checks as a
  person's.
- **Deactivation must cut access at once**: the membership ends, the account is marked deactivated when
  no membership remains and its sessions are deleted, and every active share granted to that staff member
  for that organisation ends now, its wrapped file keys deleted (the server then holds nothing that opens
  those papers for them). Each person reads « share ended » in their own activity.
- **An organisation never loses its last admin**: the check and the end happen under a lock on the
  organisation's row, so two admins deactivating each other at the same moment cannot both succeed.
- **Admins see aggregate counts only**, never a list of people or papers.

Every function asks ``vault.policies`` first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy import delete as sql_delete
from sqlalchemy.orm import Session

from crypto.codes import code_lookup_hash, generate_recovery_code, normalise_recovery_code
from crypto.errors import CryptoError
from vault import accounts, assisted_recovery, two_factor
from vault.db import lock_row
from vault.errors import (
    InvalidDisplayName,
    InvalidInput,
    InvalidInvitation,
    LastAdmin,
    NotAllowed,
    OrganisationNotFound,
    OrganisationRequired,
    SignInBusy,
    StaffNotFound,
    UsernameTaken,
)
from vault.events import record_event
from vault.keys import KeyConfig
from vault.models import (
    AccessRequest,
    Account,
    Duplicate,
    Follow,
    Invitation,
    Membership,
    Organisation,
    Share,
)
from vault.models import Session as SessionRow
from vault.policies import (
    AccountStatus,
    Actor,
    Role,
    may_act_for,
    may_administer_staff,
    may_create_organisation,
    may_manage_organisation,
    require,
)
from vault.access_requests import withdraw_requests_of_staff
from vault.purposes import PurposeChoice, registered_purposes, replace_purposes
from vault.shares import end_shares_of_staff
from vault.throttle import Attempt, address_key, reserve

INVITATION_LIFETIME = timedelta(days=7)
MAX_ORGANISATION_NAME = 200
MAX_DISPLAY_NAME = 80
# "This month" for the admins' counts is the French calendar month: organisations and people are in France.
COUNTING_TIMEZONE = ZoneInfo("Europe/Paris")
_LOOKUP_USE = "invitation-lookup"


@dataclass(frozen=True)
class IssuedInvitation:
    """An invitation as its maker sees it, once: the code in clear is never shown again."""

    id: str
    organisation_id: str
    role: Role
    expires_at: datetime
    code: str = field(repr=False)


@dataclass(frozen=True)
class StaffJoined:
    """What joining hands back once: the account, its organisation and role, and the TOTP set-up."""

    account: Account
    organisation: Organisation
    role: Role
    otp: two_factor.TwoFactorSetup = field(repr=False)
    # Unlocked a moment ago from the new password: the pages open the sign-in's second step with it, so the
    # first code from the app both checks the set-up and signs in (no second Argon2id).
    identity: object = field(repr=False, default=None)


@dataclass(frozen=True)
class StaffMember:
    id: str
    username: str
    name: str  # the display name, else the username (vault.accounts.public_name)
    role: Role
    active: bool
    joined_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True)
class Counts:
    """An organisation's figures for its admins: numbers only."""

    people_following: int
    active_shares: int
    requests_waiting: int
    requests_answered: int
    duplicates_this_month: int


# --- which organisation ------------------------------------------------------------------------------
def acting_organisation(session: Session, actor: Actor, organisation_id: str | None) -> Organisation:
    """The organisation a staff member acts for in this call.

    Named explicitly, or the only one they belong to; a staff member of several organisations who names
    none is asked to choose (OrganisationRequired) rather than acting for one picked by chance. Whether
    they may act for it is for the caller's policy check; here only people and the operator are refused.
    """
    if not actor.is_staff:
        raise NotAllowed()
    if organisation_id is None:
        if len(actor.memberships) != 1:
            raise OrganisationRequired() if actor.memberships else NotAllowed()
        (organisation_id,) = actor.memberships
    if not isinstance(organisation_id, str) or actor.role_in(organisation_id) is None:
        raise NotAllowed()
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotAllowed()
    return organisation


def administered_organisation(session: Session, actor: Actor, organisation_id: str | None) -> Organisation:
    """The organisation whose staff ``actor`` manages: an admin's (as ``acting_organisation``), or the one
    the operator names on the command line."""
    if actor.is_operator:
        organisation = session.get(Organisation, organisation_id) if isinstance(organisation_id, str) else None
        if organisation is None:
            raise NotAllowed()
    else:
        organisation = acting_organisation(session, actor, organisation_id)
    require(may_administer_staff(actor, organisation.id))
    return organisation


# --- creating an organisation and inviting -------------------------------------------------------------
def create_organisation(session: Session, *, actor: Actor, keys: KeyConfig, name: str,
                        now: datetime) -> tuple[Organisation, IssuedInvitation]:
    """The operator creates an organisation; its first admin joins with the invitation returned."""
    require(may_create_organisation(actor))
    cleaned = " ".join((name or "").split()) if isinstance(name, str) else ""
    if not cleaned or len(cleaned) > MAX_ORGANISATION_NAME:
        raise InvalidInput(field="name", maximum=MAX_ORGANISATION_NAME)
    organisation = accounts.create_organisation(session, name=cleaned, now=now)
    record_event(session, action="organisation.created", now=now, actor_id=None, subject_id=None,
                 details={"organisation": organisation.name})
    invitation = _issue(session, keys=keys, organisation=organisation, role=Role.ADMIN, created_by=None, now=now)
    return organisation, invitation


def invite(session: Session, *, actor: Actor, keys: KeyConfig, organisation_id: str | None, role: object,
           now: datetime) -> IssuedInvitation:
    """An admin invites a worker or another admin: a one-time code, shown once."""
    organisation = administered_organisation(session, actor, organisation_id)
    try:
        chosen = Role(role)
    except ValueError:
        raise InvalidInput(field="role", choices=[item.value for item in Role]) from None
    return _issue(session, keys=keys, organisation=organisation, role=chosen, created_by=actor.account_id, now=now)


def _issue(session: Session, *, keys: KeyConfig, organisation: Organisation, role: Role, created_by: str | None,
           now: datetime) -> IssuedInvitation:
    code = generate_recovery_code()
    version, digest = _code_hash(keys, normalise_recovery_code(code))
    invitation = Invitation(organisation_id=organisation.id, role=role.value, code_hash=digest, key_version=version,
                            created_by_id=created_by, created_at=now, expires_at=now + INVITATION_LIFETIME)
    session.add(invitation)
    session.flush()
    record_event(session, action="staff.invited", now=now, actor_id=created_by, subject_id=None,
                 details={"organisation": organisation.name, "role": role.value})
    return IssuedInvitation(id=invitation.id, organisation_id=organisation.id, role=role,
                            expires_at=invitation.expires_at, code=code)


def _code_hash(keys: KeyConfig, normalised: str) -> tuple[int, bytes]:
    current = keys.ring(_LOOKUP_USE).current
    return current.version, code_lookup_hash(normalised, current.secret)


def _code_hashes(keys: KeyConfig, normalised: str) -> list[bytes]:
    """Under every key of the ring: invitations made before a rotation still work until they expire."""
    return [code_lookup_hash(normalised, key.secret) for key in keys.ring(_LOOKUP_USE).keys]


# --- joining -------------------------------------------------------------------------------------------
def check_display_name(raw: object) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise InvalidDisplayName(field="display_name")
    name = " ".join(raw.split())
    if not name:
        return None
    if len(name) > MAX_DISPLAY_NAME or not name.isprintable():
        raise InvalidDisplayName(field="display_name")
    return name


def redeem_invitation(session: Session, *, keys: KeyConfig, attempt: Attempt | None, code: object, username: object,
                      password: object, display_name: object = None, now: datetime) -> StaffJoined:
    """Create a staff account from an invitation: password, TOTP on at once, membership with the role.

    Cheap checks first (username, password, display name, the code's shape: none of these tells anything
    about invitations, so none is counted), then one attempt on the address's budget, then the look-up
    and the atomic claim, then the account. Any failure after the claim rolls the claim back with the
    transaction: the code is spent only by an account that really exists.
    """
    if not isinstance(username, str) or not isinstance(password, str):
        raise InvalidInput(field="username" if not isinstance(username, str) else "password")
    chosen = accounts.normalise_username(username)
    accounts.check_password(password, username=chosen)
    name = check_display_name(display_name)
    try:
        normalised = normalise_recovery_code(code)
    except CryptoError:
        raise InvalidInvitation(field="invitation") from None
    # Reserved before any query of this transaction, so the attempt is committed at once in a session of
    # its own and stays counted whatever happens to this one (vault/throttle.py). A request that already
    # holds its transaction reserves inside it; InvalidInvitation then keeps it (``keeps_changes``).
    reservation = None
    if attempt is not None:
        reservation = reserve(attempt, [address_key(keys, attempt.address, scope="invitation-address")], now=now,
                              request_session=session)
    if accounts.username_exists(session, chosen):
        if reservation is not None:
            reservation.cancel()  # a taken username says nothing about invitations: not counted
        raise UsernameTaken()
    invitation = session.scalars(select(Invitation).where(Invitation.code_hash.in_(_code_hashes(keys, normalised)),
                                                          Invitation.used_at.is_(None),
                                                          Invitation.expires_at > now)).first()
    if invitation is None:
        raise InvalidInvitation(field="invitation")
    # The claim: one conditional UPDATE. Of two redemptions racing for one code, the second finds the row
    # already used (PostgreSQL re-checks the condition once the first commits; SQLite has one writer).
    claimed = session.execute(
        update(Invitation).where(Invitation.id == invitation.id, Invitation.used_at.is_(None),
                                 Invitation.expires_at > now)
        .values(used_at=now).execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise InvalidInvitation(field="invitation")
    organisation = session.get(Organisation, invitation.organisation_id)
    role = Role(invitation.role)
    try:
        enrolment = accounts.create_staff(session, keys=keys, organisation=organisation, username=chosen,
                                          password=password, role=role.value, now=now)
    except SignInBusy:
        # The server was too busy to seal the password: the code was never really tried, give it back
        # (the rollback that follows also undoes the claim).
        if reservation is not None:
            reservation.cancel()
        raise
    account = enrolment.account
    account.display_name = name
    session.execute(update(Invitation).where(Invitation.id == invitation.id).values(used_by_id=account.id)
                    .execution_options(synchronize_session=False))
    otp = two_factor.enable_directly(session, keys=keys, account=account)
    record_event(session, action="staff.joined", now=now, actor_id=account.id, subject_id=account.id,
                 details={"organisation": organisation.name, "role": role.value})
    if reservation is not None:
        reservation.refund(session)
    session.flush()
    return StaffJoined(account=account, organisation=organisation, role=role, otp=otp, identity=enrolment.identity)


# --- the staff list and deactivation ---------------------------------------------------------------------
def list_staff(session: Session, *, actor: Actor, organisation_id: str | None) -> list[StaffMember]:
    """Every staff member the organisation has had (active first, then by name): for its admins."""
    organisation = administered_organisation(session, actor, organisation_id)
    rows = session.execute(select(Account, Membership).join(Membership, Membership.account_id == Account.id)
                           .where(Membership.organisation_id == organisation.id))
    members = [StaffMember(id=account.id, username=account.username, name=accounts.public_name(account),
                           role=Role(membership.role), active=membership.ended_at is None,
                           joined_at=membership.created_at, ended_at=membership.ended_at)
               for account, membership in rows]
    return sorted(members, key=lambda member: (not member.active, member.name.casefold(), member.username))


def deactivate_staff(session: Session, *, actor: Actor, organisation_id: str | None, staff_id: object,
                     now: datetime, identity: object = None) -> int:
    """End a staff member's membership, and at once every active share they hold for this organisation.

    An admin leaving rotates the organisation's recovery key, opened with ``identity`` (the acting
    admin's, from their session): ``vault.assisted_recovery.rotate_after_admin_left`` says what happens
    when it cannot be opened.

    Returns how many shares ended. StaffNotFound for anyone who is not an active member (existence of
    accounts elsewhere is not revealed); LastAdmin when this would leave the organisation without one.
    """
    organisation = administered_organisation(session, actor, organisation_id)
    if not isinstance(staff_id, str):
        raise StaffNotFound()
    # The organisation's row locked first: two admins deactivating each other at the same moment are
    # serialised here, so the "last admin" count below is never read by both before either writes.
    lock_row(session, Organisation, Organisation.id == organisation.id)
    membership = session.scalars(select(Membership).where(Membership.organisation_id == organisation.id,
                                                          Membership.account_id == staff_id,
                                                          Membership.ended_at.is_(None))
                                 .execution_options(populate_existing=True)).first()
    if membership is None:
        raise StaffNotFound()
    if membership.role == Role.ADMIN:
        admins = session.scalar(select(func.count()).select_from(Membership).where(
            Membership.organisation_id == organisation.id, Membership.role == Role.ADMIN.value,
            Membership.ended_at.is_(None)))
        if admins <= 1:
            raise LastAdmin()
    membership.ended_at = now
    staff = session.get(Account, staff_id)
    session.flush()
    remaining = session.scalar(select(func.count()).select_from(Membership).where(
        Membership.account_id == staff_id, Membership.ended_at.is_(None)))
    if remaining == 0:
        staff.status = AccountStatus.DEACTIVATED.value
        # Signed out everywhere at once: a deactivated worker's open tab stops working on its next request.
        session.execute(sql_delete(SessionRow).where(SessionRow.account_id == staff_id)
                        .execution_options(synchronize_session=False))
    ended = end_shares_of_staff(session, staff_id=staff_id, organisation_id=organisation.id, now=now,
                                actor_id=actor.account_id)
    withdraw_requests_of_staff(session, staff_id=staff_id, organisation_id=organisation.id, now=now)
    if membership.role == Role.ADMIN:
        assisted_recovery.rotate_after_admin_left(session, actor=actor, identity=identity, organisation=organisation,
                                                  departed_id=staff_id, now=now)
    record_event(session, action="staff.deactivated", now=now, actor_id=actor.account_id, subject_id=staff_id,
                 details={"organisation": organisation.name, "role": membership.role})
    session.flush()
    return ended


# --- purposes and counts -------------------------------------------------------------------------------------
def organisation_purposes(session: Session, *, actor: Actor, organisation_id: str | None) -> list[PurposeChoice]:
    """Every staff member reads them (a worker picks one when asking for papers)."""
    organisation = acting_organisation(session, actor, organisation_id)
    require(may_act_for(actor, organisation.id))
    return registered_purposes(session, organisation.id)


def set_purposes(session: Session, *, actor: Actor, organisation_id: str | None, choices: list[PurposeChoice],
                 now: datetime) -> list[PurposeChoice]:
    """Admins register exactly ``choices`` (already checked with ``vault.purposes.check_purpose_choice``)."""
    organisation = acting_organisation(session, actor, organisation_id)
    require(may_manage_organisation(actor, organisation.id))
    return replace_purposes(session, organisation_id=organisation.id, choices=choices, now=now)


def organisation_counts(session: Session, *, actor: Actor, organisation_id: str | None, now: datetime) -> Counts:
    organisation = acting_organisation(session, actor, organisation_id)
    require(may_manage_organisation(actor, organisation.id))
    org = organisation.id

    def count(model, *conditions) -> int:
        return session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0

    local = now.astimezone(COUNTING_TIMEZONE)
    month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return Counts(
        people_following=count(Follow, Follow.organisation_id == org, Follow.ended_at.is_(None)),
        active_shares=count(Share, Share.organisation_id == org, Share.ended_at.is_(None), Share.expires_at > now),
        requests_waiting=count(AccessRequest, AccessRequest.organisation_id == org, AccessRequest.status == "waiting"),
        requests_answered=count(AccessRequest, AccessRequest.organisation_id == org,
                                AccessRequest.status != "waiting"),
        duplicates_this_month=count(Duplicate, Duplicate.organisation_id == org,
                                    Duplicate.issued_at >= month_start),
    )


def organisation_name(session: Session, organisation_id: str) -> str:
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise OrganisationNotFound()
    return organisation.name


__all__ = ["COUNTING_TIMEZONE", "Counts", "INVITATION_LIFETIME", "IssuedInvitation", "StaffJoined", "StaffMember",
           "acting_organisation", "check_display_name", "create_organisation", "deactivate_staff",
           "invite", "list_staff", "organisation_counts", "organisation_name",
           "organisation_purposes", "redeem_invitation", "set_purposes"]
