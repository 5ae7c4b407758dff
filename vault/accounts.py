"""Accounts: enrolment without email, passwords, recovery codes, staff and organisations.

Enrolment is rate limited (``vault.throttle``): per address for people enrolling alone, per staff member
for assisted enrolment, so a shelter enrolling a morning's worth of people passes and a script enrolling
thousands does not. Changing a password or the recovery codes needs the current password
(``vault.reauthentication``), never a session alone.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crypto import age
from crypto.codes import generate_recovery_code, normalise_recovery_code
from crypto.errors import CryptoError
from crypto.passphrases import load_wordlist
from vault.errors import InvalidUsername, NotAllowed, SignInBusy, TooManyAttempts, TooManyEnrolments, UsernameTaken
from vault.events import record_event
from vault.keys import (
    KeyConfig,
    lookup_hash_for_code,
    lookup_hashes_for_code,
    new_identity,
    seal_identity_with_code,
    seal_identity_with_password,
)
from vault.models import Account, Follow, Membership, Organisation, RecoveryCode, new_id
from vault.passwords import (  # noqa: F401 - kept importable from here
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    check_password,
    common_passwords,
    suggest_passphrase,
)
from vault.policies import AccountKind, Role
from vault.reauthentication import reauthenticate
from vault.sessions import CurrentAccount, end_other_sessions
from vault.throttle import Attempt, Reservation, address_key, reserve, throttle_key

USERNAME_PATTERN = re.compile(r"^[a-z0-9._-]{3,32}$")
RECOVERY_CODE_COUNT = 10


@dataclass
class Enrolment:
    """What enrolment hands back once: the account, its ten recovery codes in clear, and its identity
    (in memory only: the session that follows an enrolment opens with it, without a second Argon2id)."""

    account: Account
    recovery_codes: list[str] = field(repr=False)
    identity: age.X25519Identity = field(repr=False)


def public_name(account: Account) -> str:
    """How an account is named to others: a staff member's display name ("Marie L."), else the username."""
    return account.display_name or account.username


def normalise_username(raw: str) -> str:
    """Usernames are case-insensitive: stored and compared lowercase, surrounding spaces dropped."""
    username = (raw or "").strip().lower()
    if not USERNAME_PATTERN.match(username):
        raise InvalidUsername()
    return username


def suggest_username(session: Session) -> str:
    """A free, easy username: a simple word and two digits (e.g. ``soleil42``)."""
    words = load_wordlist()
    for _ in range(50):
        candidate = f"{secrets.choice(words)}{secrets.randbelow(90) + 10}"
        if USERNAME_PATTERN.match(candidate) and not username_exists(session, candidate):
            return candidate
    return f"{secrets.choice(words)}{secrets.randbelow(900000) + 100000}"


def username_exists(session: Session, username: str) -> bool:
    return session.scalar(select(func.count()).select_from(Account).where(Account.username == username)) > 0


def enrol_person(session: Session, *, keys: KeyConfig, username: str | None, password: str, now: datetime,
                 assisted_by: Account | None = None, organisation_id: str | None = None,
                 follow_organisation: bool = False, attempt: Attempt | None = None) -> Enrolment:
    """Create a person's account and vault keys; returns the recovery codes (shown once, never stored).

    Alone, or side by side with a staff member (``assisted_by``). The person follows the staff member's
    organisation only when ``follow_organisation`` is true: that box is ticked by the person, who
    chooses their own password at the same moment.

    ``attempt`` (from the web) rate limits enrolment: per staff member when assisted, per address
    otherwise (TooManyEnrolments with the real wait). The command line passes none.
    """
    if assisted_by is not None and assisted_by.kind != AccountKind.STAFF:
        raise NotAllowed()
    if assisted_by is None and (follow_organisation or organisation_id):
        raise NotAllowed()
    chosen = normalise_username(username) if username else None
    check_password(password, username=chosen or "")
    # Reserved before any query of this transaction, and the Argon2id right after: see vault/throttle.py.
    reservation = _reserve_enrolment(session, keys, attempt, assisted_by, now)
    account_id, identity = new_id(), new_identity()
    try:
        sealed = seal_identity_with_password(keys, account_id, identity, password)
    except SignInBusy:
        reservation.cancel()
        raise
    organisation = organisation_of(session, assisted_by, organisation_id) if assisted_by is not None else None
    if chosen is None:
        username = suggest_username(session)
        check_password(password, username=username)
    else:
        username = chosen
    enrolment = _create_account(session, keys=keys, kind=AccountKind.PERSON, username=username, account_id=account_id,
                                identity=identity, sealed_identity=sealed, now=now)
    account = enrolment.account
    record_event(session, action="account.created", now=now, actor_id=assisted_by.id if assisted_by else account.id,
                 subject_id=account.id, details={"assisted": assisted_by is not None})
    if organisation is not None and follow_organisation:
        session.add(Follow(organisation_id=organisation.id, person_id=account.id, consented_at=now))
        record_event(session, action="follow.started", now=now, actor_id=account.id, subject_id=account.id,
                     details={"organisation": organisation.name, "organisation_id": organisation.id})
    session.flush()
    return enrolment


def _reserve_enrolment(session: Session, keys: KeyConfig, attempt: Attempt | None, assisted_by: Account | None,
                       now: datetime) -> Reservation:
    if attempt is None:
        return Reservation((), lambda: session)
    if assisted_by is not None:
        key = throttle_key(keys, "enrolment-staff", assisted_by.id)
    else:
        key = address_key(keys, attempt.address, scope="enrolment-address")
    try:
        return reserve(attempt, [key], now=now, request_session=session)
    except TooManyAttempts as error:
        raise TooManyEnrolments(error.retry_after_seconds, reason=error.reason) from None


def create_organisation(session: Session, *, name: str, now: datetime) -> Organisation:
    organisation = Organisation(name=name.strip(), created_at=now)
    session.add(organisation)
    session.flush()
    return organisation


def create_staff(session: Session, *, keys: KeyConfig, organisation: Organisation, username: str, password: str,
                 role: str, now: datetime) -> Enrolment:
    """A staff account in an organisation (operators and admins create these, not the public API)."""
    role = Role(role)
    username = normalise_username(username)
    check_password(password, username=username)
    account_id, identity = new_id(), new_identity()
    sealed = seal_identity_with_password(keys, account_id, identity, password)
    enrolment = _create_account(session, keys=keys, kind=AccountKind.STAFF, username=username, account_id=account_id,
                                identity=identity, sealed_identity=sealed, now=now)
    session.add(Membership(organisation_id=organisation.id, account_id=enrolment.account.id, role=role, created_at=now))
    record_event(session, action="account.created", now=now, actor_id=None, subject_id=enrolment.account.id,
                 details={"staff": True})
    session.flush()
    return enrolment


def organisation_of(session: Session, staff: Account, organisation_id: str | None) -> Organisation:
    """The organisation a staff member acts for; with several memberships it must be named."""
    if staff.kind != AccountKind.STAFF:
        raise NotAllowed()
    memberships = list(session.scalars(select(Membership).where(Membership.account_id == staff.id,
                                                                Membership.ended_at.is_(None))))
    chosen = [m for m in memberships if organisation_id in (None, m.organisation_id)]
    if len(chosen) != 1:
        raise NotAllowed()
    return session.get(Organisation, chosen[0].organisation_id)


def renew_recovery_codes(session: Session, *, keys: KeyConfig, attempt: Attempt, current: CurrentAccount,
                         password: str, now: datetime) -> list[str]:
    """After the current password: burn every unused code and make ten new ones (a new sheet to print)."""
    reauthenticate(session, keys=keys, attempt=attempt, current=current, password=password, now=now)
    account = current.account
    session.execute(
        update(RecoveryCode).where(RecoveryCode.account_id == account.id, RecoveryCode.used_at.is_(None))
        .values(used_at=now)
    )
    codes = _add_recovery_codes(session, keys=keys, account=account, identity=current.identity, now=now)
    record_event(session, action="recovery_codes.renewed", now=now, actor_id=account.id, subject_id=account.id)
    return codes


def change_password(session: Session, *, keys: KeyConfig, attempt: Attempt, current: CurrentAccount, password: str,
                    new_password: str, now: datetime) -> None:
    """After the current password: seal the identity under ``new_password`` and end every other session.

    The recovery codes keep working (each seals the identity on its own). The new password is checked
    and sealed before the current one is asked, so a refused or busy attempt spends nothing.
    """
    account = current.account
    check_password(new_password, username=account.username)
    sealed = seal_identity_with_password(keys, account.id, current.identity, new_password)
    reauthenticate(session, keys=keys, attempt=attempt, current=current, password=password, now=now)
    account.password_sealed_identity = sealed
    account.password_changed_at = now
    session.flush()
    ended = end_other_sessions(session, current=current)
    record_event(session, action="password.changed", now=now, actor_id=account.id, subject_id=account.id,
                 details={"sessions_ended": ended})


def recovery_codes_left(session: Session, account: Account) -> int:
    return session.scalar(
        select(func.count()).select_from(RecoveryCode)
        .where(RecoveryCode.account_id == account.id, RecoveryCode.used_at.is_(None))
    )


def current_codes_match(session: Session, *, keys: KeyConfig, account: Account, codes: list[str]) -> bool:
    """True when ``codes`` are exactly unused codes of this account (to print a sheet from them)."""
    try:
        normalised = {normalise_recovery_code(code) for code in codes}
    except CryptoError:  # a malformed code means "no match"
        return False
    hashes = {digest for code in normalised for digest in lookup_hashes_for_code(keys, code)}
    found = session.scalar(
        select(func.count()).select_from(RecoveryCode).where(
            RecoveryCode.account_id == account.id, RecoveryCode.used_at.is_(None),
            RecoveryCode.lookup_hash.in_(hashes))
    )
    return bool(codes) and found == len(codes) == len(normalised)


def _create_account(session: Session, *, keys: KeyConfig, kind: str, username: str, account_id: str,
                    identity: age.X25519Identity, sealed_identity: bytes, now: datetime) -> Enrolment:
    if username_exists(session, username):
        raise UsernameTaken()
    account = Account(kind=kind, username=username, public_key=identity.recipient.to_string(), created_at=now,
                      password_changed_at=now, password_sealed_identity=sealed_identity)
    account.id = account_id
    session.add(account)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise UsernameTaken() from None  # two enrolments raced for the same name
    codes = _add_recovery_codes(session, keys=keys, account=account, identity=identity, now=now)
    return Enrolment(account=account, recovery_codes=codes, identity=identity)


def _add_recovery_codes(session: Session, *, keys: KeyConfig, account: Account, identity, now: datetime) -> list[str]:
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        code = generate_recovery_code()
        normalised = normalise_recovery_code(code)
        key_version, lookup_hash = lookup_hash_for_code(keys, normalised)
        session.add(RecoveryCode(
            account_id=account.id,
            lookup_hash=lookup_hash,
            key_version=key_version,
            sealed_identity=seal_identity_with_code(keys, account.id, identity, normalised),
            created_at=now,
        ))
        codes.append(code)
    session.flush()
    return codes

