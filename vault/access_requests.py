"""Access requests: a worker asks a person who follows their organisation for kinds of papers.

The person answers at their next sign-in, or at once side by side, typing their own password on the
worker's screen. Threat model: a worker must never be able to approve for the person. Side by side,
the person's identity is unlocked with the person's password (and their two-step code when they use
one), throttled on the person's account budget like a sign-in, so a worker cannot guess the password
on their own screen; nothing the worker holds (their session, a checkbox) opens the person's keys.

An answer is given once: the request's row is locked before its status is read, so two approvals at
the same moment (two tabs, side by side and at home) make one share, and the second gets
RequestAlreadyAnswered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from crypto import age
from crypto.errors import CryptoError
from vault import two_factor
from vault.accounts import normalise_username, public_name
from vault.db import UnitOfWork, lock_row
from vault.errors import (
    DocumentNotFound,
    DocumentsNotRequested,
    InvalidInput,
    NotAllowed,
    PersonNotFound,
    RequestAlreadyAnswered,
    RequestNotFound,
    SecondFactorFailed,
    SecondFactorRequired,
    SignInBusy,
    UnknownDocumentKind,
    WrongPassword,
)
from vault.events import record_event
from vault.failed_sign_ins import record_failed_sign_in
from vault.keys import KeyConfig, unseal_identity_with_password
from vault.kinds import DOCUMENT_KINDS
from vault.models import AccessRequest, Account, Document, Follow, Organisation
from vault.policies import (
    AccountKind,
    AccountStatus,
    Actor,
    may_act_for,
    may_answer_request,
    may_request_access,
    may_see_request,
    require,
)
from vault.purposes import PurposeChoice, require_registered
from vault.shares import MAX_SHARE_DAYS, ShareView, check_share_end, grant_share
from vault.throttle import Attempt, account_key, reserve, throttle_key

WAITING, APPROVED, DECLINED = "waiting", "approved", "declined"
# The worker who asked left the organisation (deactivated) before the person answered: nobody is left to
# receive the papers, so the request is no longer the person's to answer.
WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class RequestView:
    id: str
    person_id: str
    person_name: str  # the person's username: all staff ever see of them
    organisation_id: str
    organisation_name: str
    requester_id: str
    requester_name: str
    kinds: tuple[str, ...]
    purpose: PurposeChoice
    duration_days: int
    created_at: datetime
    status: str
    answered_at: datetime | None
    share_id: str | None


def create_request(session: Session, *, actor: Actor, person: str, kinds: object, purpose: PurposeChoice,
                   duration_days: object, now: datetime, organisation_id: str | None = None) -> RequestView:
    """Ask ``person`` (username or id) for papers of ``kinds``; the person must follow the organisation."""
    require(actor.is_staff)
    organisation_id = _acting_organisation(actor, organisation_id)
    account = _find_person(session, person)
    follow = session.scalar(select(Follow).where(Follow.person_id == account.id,
                                                 Follow.organisation_id == organisation_id,
                                                 Follow.ended_at.is_(None))) if account else None
    # Not following, unknown, or not a person: one answer, so staff learn nothing about other accounts.
    require(follow is not None and may_request_access(actor, follow), hidden_as=PersonNotFound)
    kinds = check_kinds(kinds)
    require_registered(session, organisation_id, purpose)
    duration_days = check_duration(duration_days)
    request = AccessRequest(organisation_id=organisation_id, requester_id=actor.account_id, person_id=account.id,
                            kinds=kinds, purpose_code=purpose.code, purpose_text=purpose.text,
                            duration_days=duration_days, created_at=now, status=WAITING)
    session.add(request)
    session.flush()
    requester = session.get(Account, actor.account_id)
    organisation = session.get(Organisation, organisation_id)
    record_event(session, action="request.created", now=now, actor_id=actor.account_id, subject_id=account.id,
                 details={"request_id": request.id, "by_name": public_name(requester),
                          "organisation": organisation.name, "kinds": kinds, "purpose": purpose.code,
                          "purpose_text": purpose.text, "duration_days": duration_days})
    return view_request(session, request)


def list_requests(session: Session, *, actor: Actor) -> list[RequestView]:
    """The person's requests (waiting first), or the ones sent by the staff member's organisations."""
    if actor.is_person:
        query = select(AccessRequest).where(AccessRequest.person_id == actor.account_id)
    elif actor.is_staff:
        query = select(AccessRequest).where(AccessRequest.organisation_id.in_(list(actor.memberships)))
    else:
        raise NotAllowed()
    waiting_first = case((AccessRequest.status == WAITING, 0), else_=1)
    rows = session.scalars(query.order_by(waiting_first, AccessRequest.created_at.desc(), AccessRequest.id))
    return [view_request(session, request) for request in rows]


def count_waiting(session: Session, *, actor: Actor) -> int:
    """How many requests wait for the person's answer (shown on their home page at sign-in)."""
    if not actor.is_person:
        return 0
    return session.scalar(select(func.count()).select_from(AccessRequest)
                          .where(AccessRequest.person_id == actor.account_id, AccessRequest.status == WAITING))


def get_request(session: Session, *, actor: Actor, request_id: str) -> RequestView:
    return view_request(session, _visible_request(session, actor, request_id))


def approve_request(uow: UnitOfWork, *, actor: Actor, identity: age.X25519Identity, request_id: str,
                    document_ids: list[str], now: datetime, expires_at: datetime | None = None,
                    side_by_side: bool = False) -> ShareView:
    """The person approves with some or all of their papers of the requested kinds: a share is made."""
    session = uow.session
    request = _locked_request(session, actor, request_id)
    require(may_answer_request(actor, request), hidden_as=RequestNotFound)
    latest = now + timedelta(days=request.duration_days)
    expires_at = latest if expires_at is None else check_share_end(expires_at, now, latest=latest)
    _check_requested_kinds(session, actor, request, document_ids)
    share = grant_share(uow, actor=actor, identity=identity, grantee_username_or_id=request.requester_id,
                        document_ids=document_ids, purpose=PurposeChoice(request.purpose_code, request.purpose_text),
                        expires_at=expires_at, now=now, organisation_id=request.organisation_id,
                        access_request_id=request.id)
    request.status, request.answered_at, request.share_id = APPROVED, now, share.id
    session.flush()
    _record_answer(session, request, "request.approved", now=now, side_by_side=side_by_side, share_id=share.id)
    return share


def approve_side_by_side(uow: UnitOfWork, *, actor: Actor, keys: KeyConfig, attempt: Attempt, request_id: str,
                         password: object, otp: str | None, document_ids: list[str] | None, now: datetime,
                         expires_at: datetime | None = None, kinds: list[str] | None = None) -> ShareView:
    """The worker's screen, the person's password: the person's identity is unlocked with what they type.

    Throttled on the person's account budget before the Argon2id (as a sign-in is), and a wrong password
    is shown in the person's activity as a failed sign-in.

    ``kinds`` instead of ``document_ids`` (the pages): every paper of those requested kinds, so the worker's
    screen never lists the person's papers before the person has said yes.
    """
    session = uow.session
    require(actor.is_staff)
    request = session.get(AccessRequest, request_id) if _looks_like_id(request_id) else None
    require(request is not None and may_act_for(actor, request.organisation_id), hidden_as=RequestNotFound)
    if request.status != WAITING:
        raise RequestAlreadyAnswered()
    person = session.get(Account, request.person_id)
    if person is None or person.status != AccountStatus.ACTIVE:
        raise RequestNotFound()
    if not isinstance(password, str) or not password:
        # Nothing typed is no try: it neither spends the person's budget nor shows as a failed sign-in.
        raise InvalidInput(field="password")
    reservation = reserve(attempt, [account_key(keys, person.username)], now=now, request_session=session)
    try:
        identity = unseal_identity_with_password(keys, person.id, person.password_sealed_identity, password)
    except SignInBusy:
        reservation.cancel()
        raise
    except CryptoError:
        record_failed_sign_in(session, account=person, now=now)
        raise WrongPassword() from None
    if person.otp_enabled:
        if not otp:
            reservation.refund(session)
            raise SecondFactorRequired()
        second = reserve(attempt, [throttle_key(keys, "second-factor", person.id)], now=now, request_session=session)
        if not two_factor.verify_code(session, keys=keys, account=person, code=otp, now=now):
            record_failed_sign_in(session, account=person, now=now)
            raise SecondFactorFailed()
        second.refund(session)
    reservation.refund(session)
    if document_ids is None:
        document_ids = _papers_of_kinds(session, person.id, request, kinds)
    return approve_request(uow, actor=Actor.person(person.id), identity=identity, request_id=request.id,
                           document_ids=document_ids, now=now, expires_at=expires_at, side_by_side=True)


def decline_request(session: Session, *, actor: Actor, request_id: str, now: datetime) -> None:
    """The person says no; the worker sees the answer."""
    request = _locked_request(session, actor, request_id)
    require(may_answer_request(actor, request), hidden_as=RequestNotFound)
    request.status, request.answered_at = DECLINED, now
    session.flush()
    _record_answer(session, request, "request.declined", now=now, side_by_side=False, share_id=None)


def papers_for_request(session: Session, *, actor: Actor, request_id: str) -> list[Document]:
    """The person's papers of the requested kinds (to choose from when approving)."""
    request = _visible_request(session, actor, request_id)
    require(actor.is_person)
    return list(session.scalars(select(Document).where(Document.owner_id == actor.account_id,
                                                       Document.kind.in_(list(request.kinds)))
                                .order_by(Document.kind, Document.created_at)))


def followers(session: Session, *, actor: Actor) -> list[tuple[str, str]]:
    """(id, username) of the people who follow the staff member's organisations: usernames only."""
    require(actor.is_staff)
    rows = session.execute(select(Account.id, Account.username).join(Follow, Follow.person_id == Account.id)
                           .where(Follow.organisation_id.in_(list(actor.memberships)), Follow.ended_at.is_(None),
                                  Account.status == AccountStatus.ACTIVE)
                           .distinct().order_by(Account.username))
    return [(account_id, username) for account_id, username in rows]


def view_request(session: Session, request: AccessRequest) -> RequestView:
    person = session.get(Account, request.person_id)
    requester = session.get(Account, request.requester_id)
    organisation = session.get(Organisation, request.organisation_id)
    return RequestView(id=request.id, person_id=request.person_id, person_name=person.username if person else "",
                       organisation_id=request.organisation_id,
                       organisation_name=organisation.name if organisation else "",
                       requester_id=request.requester_id, requester_name=public_name(requester) if requester else "",
                       kinds=tuple(request.kinds), purpose=PurposeChoice(request.purpose_code, request.purpose_text),
                       duration_days=request.duration_days, created_at=request.created_at, status=request.status,
                       answered_at=request.answered_at, share_id=request.share_id)


def check_kinds(kinds: object) -> list[str]:
    if not isinstance(kinds, (list, tuple)) or not kinds or not all(isinstance(kind, str) for kind in kinds):
        raise InvalidInput(field="kinds")
    unique = list(dict.fromkeys(kinds))
    if any(kind not in DOCUMENT_KINDS for kind in unique):
        raise UnknownDocumentKind(kinds=list(DOCUMENT_KINDS))
    return unique


def check_duration(duration_days: object) -> int:
    if isinstance(duration_days, bool) or not isinstance(duration_days, int) \
            or not 1 <= duration_days <= MAX_SHARE_DAYS:
        raise InvalidInput(field="duration_days", minimum=1, maximum=MAX_SHARE_DAYS)
    return duration_days


# --- internals -------------------------------------------------------------------------------------
def _acting_organisation(actor: Actor, organisation_id: str | None) -> str:
    memberships = list(actor.memberships)
    require(bool(memberships))  # a deactivated staff member acts for nobody
    if organisation_id is None:
        if len(memberships) != 1:
            raise InvalidInput(field="organisation")
        return memberships[0]
    require(may_act_for(actor, organisation_id))
    return organisation_id


def _find_person(session: Session, person: object) -> Account | None:
    if not isinstance(person, str):
        return None
    account = session.get(Account, person) if _looks_like_id(person) else None
    if account is None:
        try:
            account = session.scalar(select(Account).where(Account.username == normalise_username(person)))
        except InvalidInput:
            return None
    if account is None or account.kind != AccountKind.PERSON or account.status != AccountStatus.ACTIVE:
        return None
    return account


def _visible_request(session: Session, actor: Actor, request_id: str) -> AccessRequest:
    request = session.get(AccessRequest, request_id) if _looks_like_id(request_id) else None
    require(request is not None and may_see_request(actor, request), hidden_as=RequestNotFound)
    return request


def _locked_request(session: Session, actor: Actor, request_id: str) -> AccessRequest:
    """The request, locked until the transaction ends, re-read after the lock (a parallel answer shows)."""
    if not _looks_like_id(request_id):
        raise RequestNotFound()
    lock_row(session, AccessRequest, AccessRequest.id == request_id)
    request = session.execute(select(AccessRequest).where(AccessRequest.id == request_id)
                              .execution_options(populate_existing=True)).scalar_one_or_none()
    require(request is not None and may_see_request(actor, request) and actor.is_person, hidden_as=RequestNotFound)
    if request.status != WAITING:
        raise RequestAlreadyAnswered()
    return request


def _check_requested_kinds(session: Session, actor: Actor, request: AccessRequest, document_ids: object) -> None:
    if not isinstance(document_ids, (list, tuple)) or not document_ids \
            or not all(isinstance(value, str) for value in document_ids):
        raise InvalidInput(field="documents")
    ids = [value for value in dict.fromkeys(document_ids) if _looks_like_id(value)]
    found = {document.id: document for document in session.scalars(
        select(Document).where(Document.id.in_(ids), Document.owner_id == actor.account_id))}
    if len(found) != len(set(document_ids)):
        raise DocumentNotFound()
    if any(document.kind not in request.kinds for document in found.values()):
        raise DocumentsNotRequested(kinds=list(request.kinds))


def _papers_of_kinds(session: Session, person_id: str, request: AccessRequest, kinds: object) -> list[str]:
    if not isinstance(kinds, (list, tuple)) or not kinds or any(kind not in request.kinds for kind in kinds):
        raise InvalidInput(field="kinds")
    ids = list(session.scalars(select(Document.id).where(Document.owner_id == person_id,
                                                         Document.kind.in_(list(kinds)))))
    if not ids:
        raise InvalidInput(field="documents")
    return ids


def _record_answer(session: Session, request: AccessRequest, action: str, *, now: datetime, side_by_side: bool,
                   share_id: str | None) -> None:
    requester = session.get(Account, request.requester_id)
    organisation = session.get(Organisation, request.organisation_id)
    details = {"request_id": request.id, "by_name": public_name(requester) if requester else None,
               "organisation": organisation.name if organisation else None, "side_by_side": side_by_side}
    if share_id is not None:
        details["share_id"] = share_id
    record_event(session, action=action, now=now, actor_id=request.person_id, subject_id=request.person_id,
                 details=details)


def _looks_like_id(value: object) -> bool:
    return isinstance(value, str) and len(value) == 36 and all(c in "0123456789abcdef-" for c in value)



def withdraw_requests_of_staff(session: Session, *, staff_id: str, organisation_id: str, now: datetime) -> int:
    """Withdraw every request still waiting that ``staff_id`` sent for the organisation (at deactivation)."""
    result = session.execute(update(AccessRequest).where(
        AccessRequest.requester_id == staff_id, AccessRequest.organisation_id == organisation_id,
        AccessRequest.status == WAITING).values(status=WITHDRAWN, answered_at=now)
        .execution_options(synchronize_session=False))
    return result.rowcount

__all__ = ["APPROVED", "DECLINED", "RequestView", "WAITING", "WITHDRAWN", "withdraw_requests_of_staff", "approve_request", "approve_side_by_side",
           "check_duration", "check_kinds", "count_waiting", "create_request", "decline_request", "followers", "get_request", "list_requests",
           "papers_for_request", "view_request"]
