"""Assisted recovery, the procedure: two staff of one organisation let a person back in, in person.

For a person who lost both their password and their sheet, and who chose assisted recovery with this
organisation (``vault.assisted_recovery``). Threat model, and the answers here:

- **One staff member alone must not be able to take over an account.** A staff member starts, a second,
  *different* staff member of the same organisation confirms with their own session; one of the two is an
  admin, and only that admin's session opens the organisation's key (their identity opens their seal of
  it), so a worker's session holds nothing that could finish alone. Each of the two types their own
  password again (``vault.reauthentication``) when they act: an account left signed in on a shared staff
  computer cannot be used to witness. The one who started cannot confirm; a deactivated staff member, or
  one of another organisation, acts for nothing here (they get "not found", as for an unknown recovery).
- **Staff must not be able to probe who opted in.** Starting answers the same ``RecoveryPersonNotFound``
  for an unknown username, a person who does not follow the organisation and a person who did not choose
  assisted recovery with it (each start also spends an attempt of the staff session's password budget).
  The organisation already sees who follows it, but not who trusts it with their key, and staff of another
  organisation learn nothing at all, not even whether a username exists.
- **Short and once.** A recovery lasts ``RECOVERY_LIFETIME`` from its start; it completes once: the claim
  is one conditional UPDATE under a lock of its row, so of two "finish" clicks exactly one changes the
  password and the second answers "not found".
- **Afterwards nothing old works.** The identity is sealed under the new password, every unused code is
  burnt and ten new ones made (the new sheet prints on the staff screen), every session of the person
  ends, two-step sign-in is turned off (the phone may be lost too), and ``recovery_notice_at`` makes the
  next sign-in show it prominently. The person's activity names both staff members.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from vault.accounts import RECOVERY_CODE_COUNT, _add_recovery_codes, check_password, normalise_username, public_name
from vault.assisted_recovery import has_opted_in, keep_organisation_key, open_organisation_key, open_person_seal
from vault.db import lock_row
from vault.errors import InvalidUsername, RecoveryNeedsAdmin, RecoveryNeedsAnotherStaff, RecoveryNotFound, \
    RecoveryPersonNotFound
from vault.events import record_event
from vault.keys import KeyConfig, seal_identity_with_password
from vault.models import Account, AssistedRecovery, Follow, Organisation, RecoveryCode
from vault.models import Session as SessionRow
from vault.organisations import acting_organisation
from vault.policies import (
    AccountKind,
    AccountStatus,
    Actor,
    Role,
    actor_for,
    may_complete_recovery,
    may_confirm_recovery,
    may_see_recovery,
    may_start_recovery,
    require,
)
from vault.reauthentication import reauthenticate
from vault.sessions import CurrentAccount
from vault.throttle import Attempt

RECOVERY_LIFETIME = timedelta(minutes=15)


@dataclass(frozen=True)
class RecoveryView:
    """An open recovery as the staff screen shows it (the person by username: staff are in front of them)."""

    id: str
    person: str
    started_by: str
    started_by_id: str | None
    starter_is_admin: bool
    confirmed_by: str | None
    confirmed_by_id: str | None
    expires_at: datetime
    confirmed: bool


@dataclass(frozen=True)
class Completed:
    person: Account
    recovery_codes: list[str]


def start_recovery(session: Session, *, keys: KeyConfig, attempt: Attempt, current: CurrentAccount,
                   organisation_id: str | None, person: object, password: str, now: datetime) -> RecoveryView:
    """A staff member starts a recovery for ``person`` (a username), after their own password."""
    actor = current.actor
    organisation = acting_organisation(session, actor, organisation_id)
    require(may_start_recovery(actor, organisation.id))
    reauthenticate(session, keys=keys, attempt=attempt, current=current, password=password, now=now)
    account = _opted_in_person(session, organisation, person)
    recovery = AssistedRecovery(organisation_id=organisation.id, person_id=account.id, started_by_id=current.id,
                                created_at=now, expires_at=now + RECOVERY_LIFETIME)
    session.add(recovery)
    session.flush()
    record_event(session, action="assisted_recovery.started", now=now, actor_id=current.id, subject_id=account.id,
                 details={"recovery_id": recovery.id, "by_name": public_name(current.account),
                          "organisation": organisation.name})
    return _view(session, recovery)


def open_recoveries(session: Session, *, actor: Actor, organisation_id: str | None, now: datetime) -> list[RecoveryView]:
    """The organisation's recoveries still open (for its staff's screen), newest first."""
    organisation = acting_organisation(session, actor, organisation_id)
    require(may_start_recovery(actor, organisation.id))
    rows = session.scalars(select(AssistedRecovery).where(
        AssistedRecovery.organisation_id == organisation.id, AssistedRecovery.completed_at.is_(None),
        AssistedRecovery.expires_at > now).order_by(AssistedRecovery.created_at.desc(), AssistedRecovery.id))
    return [_view(session, row) for row in rows if may_see_recovery(actor, row, now)]


def confirm_recovery(session: Session, *, keys: KeyConfig, attempt: Attempt, current: CurrentAccount,
                     recovery_id: object, password: str, now: datetime) -> RecoveryView:
    """The second staff member says, with their own sign-in and password, that they checked the person's
    identity in person."""
    actor = current.actor
    recovery = _locked(session, recovery_id)
    require(recovery is not None and may_see_recovery(actor, recovery, now), hidden_as=RecoveryNotFound)
    require(recovery.confirmed_at is None, hidden_as=RecoveryNotFound)
    require(current.id != recovery.started_by_id, hidden_as=RecoveryNeedsAnotherStaff)
    starter = _actor_of(session, recovery.started_by_id)
    require(may_act_for_org(starter, recovery), hidden_as=RecoveryNotFound)  # the starter left meanwhile
    require(may_confirm_recovery(actor, recovery, starter, now), hidden_as=RecoveryNeedsAdmin)
    require(has_opted_in(session, person_id=recovery.person_id, organisation_id=recovery.organisation_id),
            hidden_as=RecoveryNotFound)  # the person opted out (or stopped the follow) meanwhile
    reauthenticate(session, keys=keys, attempt=attempt, current=current, password=password, now=now)
    claimed = session.execute(update(AssistedRecovery).where(
        AssistedRecovery.id == recovery.id, AssistedRecovery.confirmed_at.is_(None),
        AssistedRecovery.completed_at.is_(None), AssistedRecovery.expires_at > now)
        .values(confirmed_by_id=current.id, confirmed_at=now).execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        raise RecoveryNotFound()
    session.refresh(recovery)
    organisation = session.get(Organisation, recovery.organisation_id)
    record_event(session, action="assisted_recovery.confirmed", now=now, actor_id=current.id,
                 subject_id=recovery.person_id, details={"recovery_id": recovery.id,
                                                         "by_name": public_name(current.account),
                                                         "organisation": organisation.name})
    if actor.role_in(organisation.id) is Role.ADMIN:  # a moment when the key reaches admins lacking it
        keep_organisation_key(session, current=current, organisation_id=organisation.id, now=now)
    return _view(session, recovery)


def complete_recovery(session: Session, *, keys: KeyConfig, current: CurrentAccount, recovery_id: object,
                      new_password: object, now: datetime) -> Completed:
    """The admin among the two, on their screen: the person's new password, new codes, everything old ends.

    The person types the new password; the admin's identity (from this session) opens the organisation's
    key, which opens the person's seal. Returns the ten new codes (shown once, printed on this screen).
    """
    actor = current.actor
    recovery = _locked(session, recovery_id)
    require(recovery is not None and may_see_recovery(actor, recovery, now) and recovery.confirmed_at is not None,
            hidden_as=RecoveryNotFound)
    starter = _actor_of(session, recovery.started_by_id)
    confirmer = _actor_of(session, recovery.confirmed_by_id)
    require(may_act_for_org(starter, recovery) and may_act_for_org(confirmer, recovery), hidden_as=RecoveryNotFound)
    require(current.id in (recovery.started_by_id, recovery.confirmed_by_id), hidden_as=RecoveryNotFound)
    require(may_complete_recovery(actor, recovery, starter, confirmer, now), hidden_as=RecoveryNeedsAdmin)
    person = session.get(Account, recovery.person_id)
    organisation = session.get(Organisation, recovery.organisation_id)
    if not isinstance(new_password, str):
        check_password("", username=person.username)  # raises the plain "too short" answer
    check_password(new_password, username=person.username)
    require(person.status == AccountStatus.ACTIVE and _follows(session, person.id, organisation.id)
            and has_opted_in(session, person_id=person.id, organisation_id=organisation.id),
            hidden_as=RecoveryNotFound)
    identity = open_person_seal(session, organisation_identity=open_organisation_key(
        session, current=current, organisation=organisation), organisation=organisation, person=person)
    sealed = seal_identity_with_password(keys, person.id, identity, new_password)
    # The claim: of two "finish" clicks, the second finds the row completed and changes nothing.
    claimed = session.execute(update(AssistedRecovery).where(
        AssistedRecovery.id == recovery.id, AssistedRecovery.completed_at.is_(None),
        AssistedRecovery.confirmed_at.is_not(None), AssistedRecovery.expires_at > now)
        .values(completed_at=now).execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        raise RecoveryNotFound()
    person.password_sealed_identity = sealed
    person.password_changed_at = now
    person.recovery_notice_at = now
    session.execute(update(RecoveryCode).where(RecoveryCode.account_id == person.id, RecoveryCode.used_at.is_(None))
                    .values(used_at=now).execution_options(synchronize_session=False))
    codes = _add_recovery_codes(session, keys=keys, account=person, identity=identity, now=now)
    session.execute(delete(SessionRow).where(SessionRow.account_id == person.id)
                    .execution_options(synchronize_session=False))
    had_two_step = person.otp_enabled or person.otp_secret_sealed is not None
    person.otp_enabled, person.otp_secret_sealed, person.otp_last_step = False, None, None
    session.flush()
    confirmed_by = session.get(Account, recovery.confirmed_by_id)
    started_by = session.get(Account, recovery.started_by_id)
    other = confirmed_by if current.id == started_by.id else started_by
    record_event(session, action="assisted_recovery.completed", now=now, actor_id=current.id, subject_id=person.id,
                 details={"recovery_id": recovery.id, "by_name": public_name(current.account),
                          "confirmed_by_name": public_name(other), "organisation": organisation.name})
    record_event(session, action="password.reset", now=now, actor_id=person.id, subject_id=person.id,
                 details={"method": "assisted", "codes_left": RECOVERY_CODE_COUNT})
    if had_two_step:
        record_event(session, action="otp.disabled", now=now, actor_id=person.id, subject_id=person.id,
                     details={"reason": "reset"})
    return Completed(person=person, recovery_codes=codes)


def may_act_for_org(actor: Actor, recovery: AssistedRecovery) -> bool:
    return actor.is_staff and actor.role_in(recovery.organisation_id) is not None


# --- inside ---------------------------------------------------------------------------------------------------
def _opted_in_person(session: Session, organisation: Organisation, person: object) -> Account:
    """The person behind ``person`` if they follow the organisation and opted in; one answer otherwise."""
    try:
        username = normalise_username(person) if isinstance(person, str) else None
    except InvalidUsername:
        username = None
    account = session.scalars(select(Account).where(Account.username == username)).first() if username else None
    if (account is None or account.kind != AccountKind.PERSON or account.status != AccountStatus.ACTIVE
            or not _follows(session, account.id, organisation.id)
            or not has_opted_in(session, person_id=account.id, organisation_id=organisation.id)):
        raise RecoveryPersonNotFound(field="person")
    return account


def _follows(session: Session, person_id: str, organisation_id: str) -> bool:
    return session.scalar(select(Follow.id).where(Follow.person_id == person_id,
                                                  Follow.organisation_id == organisation_id,
                                                  Follow.ended_at.is_(None)).limit(1)) is not None


def _locked(session: Session, recovery_id: object) -> AssistedRecovery | None:
    if not isinstance(recovery_id, str) or len(recovery_id) > 36:
        return None
    # Locked (FOR UPDATE on PostgreSQL, a write on SQLite) then read fresh: a parallel confirm or finish waits
    # here and then sees the other's outcome.
    lock_row(session, AssistedRecovery, AssistedRecovery.id == recovery_id)
    return session.scalars(select(AssistedRecovery).where(AssistedRecovery.id == recovery_id)
                           .execution_options(populate_existing=True)).first()


def _actor_of(session: Session, account_id: str | None) -> Actor:
    account = session.get(Account, account_id) if account_id else None
    if account is None or account.status != AccountStatus.ACTIVE or account.kind != AccountKind.STAFF:
        return Actor.staff(account_id or "", {})  # acts for nothing
    return actor_for(session, account)


def _view(session: Session, recovery: AssistedRecovery) -> RecoveryView:
    person = session.get(Account, recovery.person_id)
    starter = session.get(Account, recovery.started_by_id) if recovery.started_by_id else None
    confirmer = session.get(Account, recovery.confirmed_by_id) if recovery.confirmed_by_id else None
    starter_actor = _actor_of(session, recovery.started_by_id)
    return RecoveryView(id=recovery.id, person=person.username,
                        started_by=public_name(starter) if starter else "",
                        started_by_id=recovery.started_by_id,
                        starter_is_admin=starter_actor.role_in(recovery.organisation_id) is Role.ADMIN,
                        confirmed_by=public_name(confirmer) if confirmer else None,
                        confirmed_by_id=recovery.confirmed_by_id, expires_at=recovery.expires_at,
                        confirmed=recovery.confirmed_at is not None)


__all__ = ["Completed", "RECOVERY_LIFETIME", "RecoveryView", "complete_recovery", "confirm_recovery",
           "open_recoveries", "start_recovery"]
