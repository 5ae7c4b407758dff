"""Assisted recovery, the keys: the organisation's recovery key, its seals to admins, and the person's opt-in.

The recovery in person itself (two staff, a new password) is in ``vault.recovery_in_person``.

Keys (DESIGN.md, "Keys"):
- The organisation's recovery identity is an X25519 identity that exists only as age files, one per admin,
  encrypted to that admin's own public key (``OrganisationKeySeal``). Opening it needs an admin's identity,
  which only that admin's session (or password) unlocks: the server alone opens nothing.
- A person who opts in for an organisation they follow has their own identity sealed to the organisation's
  public key (``AssistedRecoverySeal``, an age file). Opting out deletes that row: the seal is destroyed.
  Ending the follow opts out too (``forget_seal_of_follow``, called by ``vault.follows.end_follow``).

When things happen (the moments, said once here and in the pages' help):
- **Making the key.** The first time an admin acts with their session where the key is needed
  (``keep_organisation_key``: the organisation page, the recoveries page, confirming or finishing a
  recovery) and the organisation has none, a new identity is made and sealed to that admin.
- **Handing it to admins who lack it.** An admin who joins later by invitation has no seal: nobody's
  identity is in hand when they redeem the code. The next time *any* admin who holds a seal acts at one of
  those same moments, the key is opened with that admin's identity and sealed to every active admin of the
  organisation who lacks one (their public keys suffice).
- **An admin leaving.** ``rotate_after_admin_left`` (called by ``vault.organisations.deactivate_staff``):
  when the departing admin held a seal of the current key, the key is *rotated*: a new identity, every
  opted-in person's seal re-encrypted from the old key to the new one, the new secret sealed to each
  remaining active admin, every old seal deleted. The departing admin's identity then opens nothing of the
  new seals. When the admin doing the deactivation holds no seal, the key cannot be opened now: the
  departure still happens (it must never be blocked), the departing admin's seal is *kept* as the marker
  that a rotation is due, and the next admin with a seal who acts at one of the moments above rotates it
  (a seal held by someone who is no longer an active admin always triggers a rotation). Keeping that seal
  exposes nothing new: its owner knew the secret already, and their account can no longer sign in.

Each seal opened is checked against the public key it claims (an organisation seal must open to the
organisation's current public key, a person's seal to the person's own public key), so a row moved to
another organisation or person opens to nothing usable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from crypto import age
from crypto.errors import CryptoError
from vault.db import lock_row
from vault.errors import FollowNotFound, InvalidInput, OrganisationNotFound, RecoveryKeyMissing, RecoveryKeyNotHeld
from vault.events import record_event
from vault.keys import KeyConfig, new_identity
from vault.models import Account, AssistedRecoverySeal, Follow, Membership, Organisation, OrganisationKeySeal
from vault.policies import AccountStatus, Actor, Role, may_choose_assisted_recovery, may_manage_organisation, require
from vault.reauthentication import reauthenticate
from vault.sessions import CurrentAccount
from vault.throttle import Attempt


@dataclass(frozen=True)
class OrganisationKeyState:
    """What ``keep_organisation_key`` did: whether a key exists, whether this admin holds it, and what changed."""

    exists: bool
    held: bool
    created: bool = False
    sealed_to: int = 0  # admins who received their seal just now
    rotated: bool = False


@dataclass(frozen=True)
class AssistedChoice:
    """One organisation the person follows, and whether they chose to be helped back in by it."""

    organisation_id: str
    organisation: str
    enabled: bool
    possible: bool  # the organisation has a recovery key (else opting in is impossible for now)


# --- the organisation's key ------------------------------------------------------------------------------
def keep_organisation_key(session: Session, *, current: CurrentAccount, organisation_id: str,
                          now: datetime) -> OrganisationKeyState:
    """Called with an admin's session: make the key if there is none, hand it to admins who lack it, and
    rotate it when a former admin still holds a seal. Nothing for a non-admin (returns what it sees)."""
    actor = current.actor
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise OrganisationNotFound()
    if not may_manage_organisation(actor, organisation.id):
        held = organisation.recovery_public_key is not None and _seal_of(session, organisation, actor.account_id)
        return OrganisationKeyState(exists=organisation.recovery_public_key is not None, held=bool(held))
    if not _work_to_do(session, organisation, current.id):
        held = organisation.recovery_public_key is not None and _seal_of(session, organisation, current.id)
        return OrganisationKeyState(exists=True, held=bool(held))
    # Locked, then read again: two admins opening the page at once make one key, not two.
    lock_row(session, Organisation, Organisation.id == organisation.id)
    session.refresh(organisation)
    if organisation.recovery_public_key is None:
        identity = new_identity()
        organisation.recovery_public_key = identity.recipient.to_string()
        _seal_to_admin(session, organisation, identity, current.account, now)
        session.flush()
        return OrganisationKeyState(exists=True, held=True, created=True)
    seal = _seal_of(session, organisation, current.id)
    if seal is None:
        return OrganisationKeyState(exists=True, held=False)
    identity = _open_organisation_seal(organisation, seal, current.identity)
    if _former_admin_holds_a_seal(session, organisation):
        _rotate(session, organisation, identity, actor_id=current.id, reason="admin_left", now=now)
        return OrganisationKeyState(exists=True, held=True, rotated=True)
    sealed = _seal_to_admins_lacking(session, organisation, identity, now)
    return OrganisationKeyState(exists=True, held=True, sealed_to=sealed)


def open_organisation_key(session: Session, *, current: CurrentAccount, organisation: Organisation) -> age.X25519Identity:
    """The organisation's recovery identity, opened with this admin's identity (RecoveryKeyNotHeld without a seal)."""
    seal = _seal_of(session, organisation, current.id) if organisation.recovery_public_key else None
    if seal is None:
        raise RecoveryKeyNotHeld()
    return _open_organisation_seal(organisation, seal, current.identity)


def rotate_after_admin_left(session: Session, *, actor: Actor, identity: age.X25519Identity | None,
                            organisation: Organisation, departed_id: str, now: datetime) -> bool:
    """After ``departed_id``'s admin membership ended (``deactivate_staff``, organisation row already locked).

    True when the key was rotated now. False when there was nothing to rotate (no key, or the departed
    admin never held a seal: they never had the secret, their stale row is simply removed) or when the
    acting admin holds no seal: then the departed admin's seal stays as the marker of a rotation due (see
    the module's docstring).
    """
    if organisation.recovery_public_key is None:
        return False
    departed_seal = _seal_of(session, organisation, departed_id)
    if departed_seal is None:
        return False
    acting_seal = _seal_of(session, organisation, actor.account_id) if actor.account_id else None
    # An admin leaving on their own may rotate too: the new secret is made and sealed here, on the server,
    # and never reaches them (their session opened only the old one, which is what must stop working).
    if acting_seal is None or identity is None:
        if not _held_by_an_active_admin(session, organisation):
            _drop_key(session, organisation, actor_id=actor.account_id, now=now)
        return False
    old = _open_organisation_seal(organisation, acting_seal, identity)
    _rotate(session, organisation, old, actor_id=actor.account_id, reason="admin_left", now=now)
    return True


# --- the person's choice ---------------------------------------------------------------------------------------
def assisted_choices(session: Session, *, actor: Actor) -> list[AssistedChoice]:
    """For each organisation the person follows now: chosen or not, and possible or not."""
    require(actor.is_person)
    rows = session.execute(select(Organisation).join(Follow, Follow.organisation_id == Organisation.id)
                           .where(Follow.person_id == actor.account_id, Follow.ended_at.is_(None))
                           .order_by(Organisation.name, Organisation.id)).scalars()
    chosen = set(session.scalars(select(AssistedRecoverySeal.organisation_id)
                                 .where(AssistedRecoverySeal.person_id == actor.account_id)))
    return [AssistedChoice(organisation_id=org.id, organisation=org.name, enabled=org.id in chosen,
                           possible=org.recovery_public_key is not None) for org in rows]


def set_assisted_recovery(session: Session, *, keys: KeyConfig, attempt: Attempt, current: CurrentAccount,
                          organisation_id: object, enabled: object, password: str, now: datetime) -> bool:
    """The person opts in (``enabled``) or out for one organisation they follow, after their password.

    Returns whether anything changed (choosing what is already chosen changes nothing and records nothing).
    """
    follow = _active_follow(session, current.id, organisation_id)
    require(may_choose_assisted_recovery(current.actor, follow), hidden_as=FollowNotFound)
    if not isinstance(enabled, bool):
        raise InvalidInput(field="enabled")
    organisation = session.get(Organisation, follow.organisation_id)
    if enabled and organisation.recovery_public_key is None:
        raise RecoveryKeyMissing()  # said before the password is asked: nothing to spend on it
    reauthenticate(session, keys=keys, attempt=attempt, current=current, password=password, now=now)
    if enabled:
        return _opt_in(session, person=current.account, identity=current.identity, organisation=organisation, now=now)
    return _opt_out(session, person_id=current.id, organisation=organisation, now=now)


def opt_in_at_enrolment(session: Session, *, person: Account, identity: age.X25519Identity, organisation_id: str,
                        now: datetime) -> None:
    """The box ticked by the person at side-by-side enrolment (they just chose their password: no second
    ask). Needs the follow, made in the same enrolment; RecoveryKeyMissing when the organisation has no key."""
    follow = _active_follow(session, person.id, organisation_id)
    require(may_choose_assisted_recovery(Actor.person(person.id), follow), hidden_as=FollowNotFound)
    organisation = session.get(Organisation, organisation_id)
    if organisation.recovery_public_key is None:
        raise RecoveryKeyMissing()
    _opt_in(session, person=person, identity=identity, organisation=organisation, now=now)


def forget_seal_of_follow(session: Session, *, person_id: str, organisation_id: str, now: datetime) -> None:
    """A follow just ended: the seal to that organisation goes with it (an opt-out, recorded as one)."""
    organisation = session.get(Organisation, organisation_id)
    if organisation is not None:
        _opt_out(session, person_id=person_id, organisation=organisation, now=now)


def has_opted_in(session: Session, *, person_id: str, organisation_id: str) -> bool:
    return session.scalar(select(AssistedRecoverySeal.id).where(
        AssistedRecoverySeal.person_id == person_id, AssistedRecoverySeal.organisation_id == organisation_id)
        .limit(1)) is not None


def open_person_seal(session: Session, *, organisation_identity: age.X25519Identity, organisation: Organisation,
                     person: Account) -> age.X25519Identity:
    """The person's identity from their seal to the organisation (RecoveryKeyNotHeld if it does not open)."""
    seal = session.scalars(select(AssistedRecoverySeal).where(
        AssistedRecoverySeal.person_id == person.id,
        AssistedRecoverySeal.organisation_id == organisation.id)).first()
    if seal is None:
        raise RecoveryKeyNotHeld()
    try:
        identity = age.X25519Identity.from_string(
            age.decrypt_bytes(seal.sealed_identity, identities=[organisation_identity]).decode())
    except (CryptoError, ValueError, UnicodeDecodeError):
        raise RecoveryKeyNotHeld() from None
    if identity.recipient.to_string() != person.public_key:
        raise RecoveryKeyNotHeld()  # a seal that is not this person's: refuse rather than hand over a stranger's key
    return identity


# --- inside ---------------------------------------------------------------------------------------------------
def _opt_in(session: Session, *, person: Account, identity: age.X25519Identity, organisation: Organisation,
            now: datetime) -> bool:
    lock_row(session, Account, Account.id == person.id)  # a double click makes one seal
    existing = session.scalars(select(AssistedRecoverySeal).where(
        AssistedRecoverySeal.person_id == person.id, AssistedRecoverySeal.organisation_id == organisation.id)
        .execution_options(populate_existing=True)).first()
    sealed = age.encrypt_bytes(identity.to_string().encode(), [organisation.recovery_public_key])
    if existing is not None:
        existing.public_key, existing.sealed_identity = organisation.recovery_public_key, sealed
        session.flush()
        return False
    session.add(AssistedRecoverySeal(person_id=person.id, organisation_id=organisation.id,
                                     public_key=organisation.recovery_public_key, sealed_identity=sealed,
                                     created_at=now))
    session.flush()
    record_event(session, action="assisted_recovery.enabled", now=now, actor_id=person.id, subject_id=person.id,
                 details={"organisation": organisation.name, "organisation_id": organisation.id})
    return True


def _opt_out(session: Session, *, person_id: str, organisation: Organisation, now: datetime) -> bool:
    # A statement, not an ORM delete: two opt-outs at once delete once and record once.
    removed = session.execute(delete(AssistedRecoverySeal).where(
        AssistedRecoverySeal.person_id == person_id, AssistedRecoverySeal.organisation_id == organisation.id)
        .execution_options(synchronize_session=False)).rowcount
    if removed:
        record_event(session, action="assisted_recovery.disabled", now=now, actor_id=person_id,
                     subject_id=person_id, details={"organisation": organisation.name,
                                                    "organisation_id": organisation.id})
    return bool(removed)


def _active_follow(session: Session, person_id: str, organisation_id: object) -> Follow | None:
    if not isinstance(organisation_id, str):
        return None
    return session.scalars(select(Follow).where(Follow.person_id == person_id, Follow.organisation_id == organisation_id,
                                                Follow.ended_at.is_(None))).first()


def _seal_of(session: Session, organisation: Organisation, admin_id: str | None) -> OrganisationKeySeal | None:
    if admin_id is None or organisation.recovery_public_key is None:
        return None
    return session.scalars(select(OrganisationKeySeal).where(
        OrganisationKeySeal.organisation_id == organisation.id, OrganisationKeySeal.admin_id == admin_id,
        OrganisationKeySeal.public_key == organisation.recovery_public_key)).first()


def _open_organisation_seal(organisation: Organisation, seal: OrganisationKeySeal,
                            admin_identity: age.X25519Identity) -> age.X25519Identity:
    try:
        identity = age.X25519Identity.from_string(
            age.decrypt_bytes(seal.sealed_identity, identities=[admin_identity]).decode())
    except (CryptoError, ValueError, UnicodeDecodeError):
        raise RecoveryKeyNotHeld() from None
    if identity.recipient.to_string() != organisation.recovery_public_key:
        raise RecoveryKeyNotHeld()
    return identity


def _active_admins(session: Session, organisation: Organisation) -> list[Account]:
    return list(session.scalars(select(Account).join(Membership, Membership.account_id == Account.id).where(
        Membership.organisation_id == organisation.id, Membership.role == Role.ADMIN.value,
        Membership.ended_at.is_(None), Account.status == AccountStatus.ACTIVE.value).order_by(Account.id)))


def _seal_to_admin(session: Session, organisation: Organisation, identity: age.X25519Identity, admin: Account,
                   now: datetime) -> None:
    session.add(OrganisationKeySeal(organisation_id=organisation.id, admin_id=admin.id,
                                    public_key=identity.recipient.to_string(),
                                    sealed_identity=age.encrypt_bytes(identity.to_string().encode(),
                                                                      [admin.public_key]),
                                    created_at=now))


def _seal_to_admins_lacking(session: Session, organisation: Organisation, identity: age.X25519Identity,
                            now: datetime) -> int:
    holders = set(session.scalars(select(OrganisationKeySeal.admin_id).where(
        OrganisationKeySeal.organisation_id == organisation.id,
        OrganisationKeySeal.public_key == organisation.recovery_public_key)))
    lacking = [admin for admin in _active_admins(session, organisation) if admin.id not in holders]
    for admin in lacking:
        _seal_to_admin(session, organisation, identity, admin, now)
    session.flush()
    return len(lacking)


def _work_to_do(session: Session, organisation: Organisation, admin_id: str) -> bool:
    """Cheap look first (the organisation page calls this on every visit): is anything to make or hand over?"""
    if organisation.recovery_public_key is None:
        return True
    holders = set(session.scalars(select(OrganisationKeySeal.admin_id).where(
        OrganisationKeySeal.organisation_id == organisation.id,
        OrganisationKeySeal.public_key == organisation.recovery_public_key)))
    admins = {admin.id for admin in _active_admins(session, organisation)}
    return admin_id in holders and holders != admins


def _former_admin_holds_a_seal(session: Session, organisation: Organisation) -> bool:
    holders = set(session.scalars(select(OrganisationKeySeal.admin_id).where(
        OrganisationKeySeal.organisation_id == organisation.id)))
    return bool(holders - {admin.id for admin in _active_admins(session, organisation)})


def _held_by_an_active_admin(session: Session, organisation: Organisation) -> bool:
    holders = set(session.scalars(select(OrganisationKeySeal.admin_id).where(
        OrganisationKeySeal.organisation_id == organisation.id,
        OrganisationKeySeal.public_key == organisation.recovery_public_key)))
    return bool(holders & {admin.id for admin in _active_admins(session, organisation)})


def _drop_key(session: Session, organisation: Organisation, *, actor_id: str | None, now: datetime) -> None:
    """No active admin can open the key any more: every seal goes, and each person is told in their activity."""
    people = list(session.scalars(select(AssistedRecoverySeal.person_id).where(
        AssistedRecoverySeal.organisation_id == organisation.id)))
    session.execute(delete(AssistedRecoverySeal).where(AssistedRecoverySeal.organisation_id == organisation.id)
                    .execution_options(synchronize_session=False))
    session.execute(delete(OrganisationKeySeal).where(OrganisationKeySeal.organisation_id == organisation.id)
                    .execution_options(synchronize_session=False))
    organisation.recovery_public_key = None
    session.flush()
    for person_id in people:
        record_event(session, action="assisted_recovery.disabled", now=now, actor_id=None, subject_id=person_id,
                     details={"organisation": organisation.name, "organisation_id": organisation.id,
                              "reason": "key_lost"})
    record_event(session, action="organisation.recovery_key_rotated", now=now, actor_id=actor_id, subject_id=None,
                 details={"organisation": organisation.name, "reason": "key_lost"})


def _rotate(session: Session, organisation: Organisation, old: age.X25519Identity, *, actor_id: str | None,
            reason: str, now: datetime) -> None:
    """A new organisation identity: every person's seal re-encrypted to it, sealed to each active admin,
    every seal of the old key deleted. All in the caller's transaction: it happens whole or not at all."""
    new = new_identity()
    new_public = new.recipient.to_string()
    for seal in session.scalars(select(AssistedRecoverySeal).where(
            AssistedRecoverySeal.organisation_id == organisation.id)):
        try:
            plaintext = age.decrypt_bytes(seal.sealed_identity, identities=[old])
        except CryptoError:
            # Not openable with the current key (it cannot happen through this module): such a seal helps
            # nobody and must not survive a rotation as a relic of the old key.
            session.delete(seal)
            continue
        seal.sealed_identity = age.encrypt_bytes(plaintext, [new_public])
        seal.public_key = new_public
    session.execute(delete(OrganisationKeySeal).where(OrganisationKeySeal.organisation_id == organisation.id)
                    .execution_options(synchronize_session=False))
    organisation.recovery_public_key = new_public
    session.flush()
    for admin in _active_admins(session, organisation):
        _seal_to_admin(session, organisation, new, admin, now)
    session.flush()
    record_event(session, action="organisation.recovery_key_rotated", now=now, actor_id=actor_id, subject_id=None,
                 details={"organisation": organisation.name, "reason": reason})


__all__ = ["AssistedChoice", "OrganisationKeyState", "assisted_choices", "forget_seal_of_follow", "has_opted_in",
           "keep_organisation_key", "open_organisation_key", "open_person_seal", "opt_in_at_enrolment",
           "rotate_after_admin_left", "set_assisted_recovery"]
