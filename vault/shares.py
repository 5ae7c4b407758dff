"""Shares: a person lets one staff member see chosen papers, for a purpose, until a date.

Threat model. The server must not be able to hand a paper to a worker the person did not choose, nor
after the share ends. So each paper's age file key is unwrapped with the *owner's* identity (in hand
only while the owner is signed in, or types their password side by side) and wrapped again to the
grantee's X25519 public key; the grantee's identity (in hand only during the grantee's own session)
opens that stanza. The server serves a paper only while the share is active (``may_read_shared_document``:
the grantee, not ended, not expired, still acting for the share's organisation), and ending or expiry
deletes the wrapped keys, so a later bug in a check cannot reopen an ended share: there is nothing left
to unwrap.

Every refusal on a paper is the same "not found", whether the paper or the share exists or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crypto import age
from crypto.errors import CryptoError
from vault.accounts import normalise_username, public_name
from vault.db import UnitOfWork
from vault.documents import open_blob
from vault.errors import (
    DocumentNotFound,
    GranteeNotFound,
    InvalidInput,
    NotAllowed,
    ShareEndNotValid,
    ShareNotFound,
    VaultClosed,
)
from vault.closing import closed_share_for
from vault.events import record_event
from vault.models import Account, Document, Organisation, Share, SharedDocument
from vault.policies import (
    AccountKind,
    AccountStatus,
    Actor,
    actor_for,
    may_end_share,
    may_read_shared_document,
    may_see_share,
    may_share_with,
    require,
    share_is_active,
)
from vault.purposes import PurposeChoice, require_registered

# The three durations a person picks from (pages); the API takes any end up to MAX_SHARE_DAYS.
DURATIONS = {"day": 1, "week": 7, "month": 30}
MAX_SHARE_DAYS = 90
# A share holds a few papers; the bound keeps one request from wrapping hundreds of keys.
MAX_PAPERS_PER_SHARE = 50


@dataclass(frozen=True)
class SharedPaper:
    id: str
    kind: str
    title: str | None  # decrypted for the owner only; the grantee never gets the title
    # The owner always; the grantee while the share is active (to warn them it must be renewed), then None.
    expires_on: date | None = None


@dataclass(frozen=True)
class ShareView:
    id: str
    owner_id: str
    owner_name: str
    grantee_id: str
    grantee_name: str
    organisation_id: str | None
    organisation_name: str | None
    purpose: PurposeChoice
    documents: tuple[SharedPaper, ...]
    created_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    end_reason: str | None
    access_request_id: str | None
    active: bool
    seconds_left: int  # 0 once ended or expired

    @property
    def kinds(self) -> list[str]:
        return list(dict.fromkeys(paper.kind for paper in self.documents))


def duration_end(now: datetime, choice: str) -> datetime:
    """The end of a share for one of the three durations (a day, a week, a month)."""
    if choice not in DURATIONS:
        raise InvalidInput(field="duration", choices=list(DURATIONS))
    return now + timedelta(days=DURATIONS[choice])


def check_share_end(expires_at: object, now: datetime, *, latest: datetime | None = None) -> datetime:
    """An aware end in the future, at most MAX_SHARE_DAYS (or ``latest``) away; ShareEndNotValid otherwise."""
    latest = latest or now + timedelta(days=MAX_SHARE_DAYS)
    if not isinstance(expires_at, datetime) or expires_at.tzinfo is None:
        raise ShareEndNotValid(maximum=MAX_SHARE_DAYS)
    if not now < expires_at <= latest:
        raise ShareEndNotValid(maximum=MAX_SHARE_DAYS)
    return expires_at


def find_grantee(session: Session, grantee_username_or_id: object) -> Account:
    """An active staff account by id or username; GranteeNotFound for anything else (a person too)."""
    if not isinstance(grantee_username_or_id, str):
        raise GranteeNotFound()
    account = session.get(Account, grantee_username_or_id) if _looks_like_id(grantee_username_or_id) else None
    if account is None:
        try:
            username = normalise_username(grantee_username_or_id)
        except InvalidInput:
            raise GranteeNotFound() from None
        account = session.scalar(select(Account).where(Account.username == username))
    if account is None or account.kind != AccountKind.STAFF or account.status != AccountStatus.ACTIVE:
        raise GranteeNotFound()
    return account


@dataclass(frozen=True)
class SharePlan:
    """A share checked and ready to make (what the confirmation page says), nothing written yet."""

    grantee: Account
    organisation: Organisation
    papers: tuple[Document, ...]
    purpose: PurposeChoice
    expires_at: datetime


def plan_share(session: Session, *, actor: Actor, grantee_username_or_id: str, document_ids: list[str],
               purpose: PurposeChoice, expires_at: datetime, now: datetime,
               organisation_id: str | None = None) -> SharePlan:
    """Every check of ``grant_share``, in its order, without writing: for the confirmation page."""
    require(actor.is_person)
    grantee = find_grantee(session, grantee_username_or_id)
    grantee_actor = actor_for(session, grantee)
    require(may_share_with(actor, grantee, grantee_actor), hidden_as=GranteeNotFound)
    organisation = _grantee_organisation(session, grantee_actor, organisation_id)
    require_registered(session, organisation.id, purpose)
    expires_at = check_share_end(expires_at, now)
    papers = tuple(_own_papers(session, actor, document_ids))
    return SharePlan(grantee=grantee, organisation=organisation, papers=papers, purpose=purpose,
                     expires_at=expires_at)


def grant_share(uow: UnitOfWork, *, actor: Actor, identity: age.X25519Identity, grantee_username_or_id: str,
                document_ids: list[str], purpose: PurposeChoice, expires_at: datetime, now: datetime,
                organisation_id: str | None = None, access_request_id: str | None = None) -> ShareView:
    """Share the actor's own papers with one staff member; the file keys are wrapped to the grantee."""
    session = uow.session
    plan = plan_share(session, actor=actor, grantee_username_or_id=grantee_username_or_id,
                      document_ids=document_ids, purpose=purpose, expires_at=expires_at, now=now,
                      organisation_id=organisation_id)
    grantee, organisation, papers, expires_at = plan.grantee, plan.organisation, plan.papers, plan.expires_at
    owner = session.get(Account, actor.account_id)
    recipient = age.X25519Recipient.from_string(grantee.public_key)
    share = Share(owner_id=owner.id, grantee_id=grantee.id, organisation_id=organisation.id,
                  purpose_code=purpose.code, purpose_text=purpose.text, access_request_id=access_request_id,
                  created_at=now, expires_at=expires_at)
    session.add(share)
    session.flush()
    for document in papers:
        file_key = _file_key(uow, document, identity)
        stanza = age.wrap_file_key(file_key, recipient)
        session.add(SharedDocument(share_id=share.id, document_id=document.id,
                                   wrapped_file_key=age.format_stanza(stanza)))
    session.flush()
    details = {"share_id": share.id, "grantee_name": public_name(grantee), "organisation": organisation.name,
               "purpose": purpose.code, "purpose_text": purpose.text,
               "kinds": list(dict.fromkeys(document.kind for document in papers)), "documents": len(papers),
               "expires_at": expires_at.isoformat()}
    if access_request_id is not None:
        details["request_id"] = access_request_id
    record_event(session, action="share.granted", now=now, actor_id=owner.id, subject_id=owner.id, details=details)
    return view_share(session, share, now=now, identity=identity, actor=actor)


def list_shares(session: Session, *, actor: Actor, identity: age.X25519Identity | None, now: datetime) -> list[ShareView]:
    """Given by a person, or received by a staff member: active first (soonest end first), then ended."""
    if actor.is_person:
        query = select(Share).where(Share.owner_id == actor.account_id)
    elif actor.is_staff:
        query = select(Share).where(Share.grantee_id == actor.account_id)
    else:
        raise NotAllowed()
    shares = list(session.scalars(query.order_by(Share.created_at.desc(), Share.id)))
    views = [view_share(session, share, now=now, identity=identity, actor=actor) for share in shares]
    return sorted(views, key=lambda view: (not view.active, view.expires_at if view.active else now,
                                           -(view.ended_at or view.expires_at).timestamp()))


def get_share(session: Session, *, actor: Actor, identity: age.X25519Identity | None, share_id: str,
              now: datetime) -> ShareView:
    share = _visible_share(session, actor, share_id)
    return view_share(session, share, now=now, identity=identity, actor=actor)


def end_share(session: Session, *, actor: Actor, share_id: str, now: datetime) -> bool:
    """The person takes a share back, or the grantee gives it back; effect at the next request.

    True when this call ended it; False when it had already ended (or expired and been purged): ending
    twice is harmless, and two parallel endings record one event (the UPDATE decides which one).
    """
    share = _visible_share(session, actor, share_id)
    if not may_end_share(actor, share):
        return False  # already ended: the visible record stays, nothing to do
    reason = "owner" if actor.account_id == share.owner_id else "grantee"
    return _end(session, share, reason=reason, actor_id=actor.account_id, now=now)


def end_shares_of_staff(session: Session, *, staff_id: str, organisation_id: str | None, now: datetime,
                        actor_id: str | None) -> int:
    """End at once every active share received by a deactivated staff member (for the organisation, or
    all of them when ``organisation_id`` is None); reason ``deactivated``. Returns how many ended."""
    query = select(Share).where(Share.grantee_id == staff_id, Share.ended_at.is_(None))
    if organisation_id is not None:
        query = query.where(Share.organisation_id == organisation_id)
    return sum(_end(session, share, reason="deactivated", actor_id=actor_id, now=now)
               for share in session.scalars(query).all())


def purge_expired_shares(session: Session, *, now: datetime) -> int:
    """End every share past its end (reason ``expired``) and delete its wrapped keys; idempotent.

    Also empties the keys of any ended share that still holds some (nothing should, but a key left
    behind would be the one thing that could reopen a paper).
    """
    expired = session.scalars(select(Share).where(Share.ended_at.is_(None), Share.expires_at <= now)).all()
    count = sum(_end(session, share, reason="expired", actor_id=None, now=now) for share in expired)
    leftover = select(Share.id).where(Share.ended_at.is_not(None))
    session.execute(update(SharedDocument).where(SharedDocument.share_id.in_(leftover),
                                                 SharedDocument.wrapped_file_key.is_not(None))
                    .values(wrapped_file_key=None).execution_options(synchronize_session=False))
    session.flush()
    return count


def open_shared_document(uow: UnitOfWork, *, actor: Actor, identity: age.X25519Identity, share_id: str,
                         document_id: str, now: datetime) -> tuple[Document, Share, bytes]:
    """The grantee's plaintext of one shared paper, in memory only, while the share is active.

    Any refusal — no such share, not the grantee, ended, expired, deactivated, no such paper in the share,
    its key already deleted — is the same DocumentNotFound. The caller (the duplicate) records the access.
    """
    session = uow.session
    share = session.get(Share, share_id) if _looks_like_id(share_id) else None
    if share is None:
        _tell_if_closed(session, actor, share_id)
    require(share is not None and may_read_shared_document(actor, share, now), hidden_as=DocumentNotFound)
    row = session.get(SharedDocument, (share.id, document_id)) if _looks_like_id(document_id) else None
    # Read after the share: a share ended by a request that committed in between has no key left.
    require(row is not None and row.wrapped_file_key is not None, hidden_as=DocumentNotFound)
    document = session.get(Document, document_id)
    require(document is not None and document.owner_id == share.owner_id, hidden_as=DocumentNotFound)
    try:
        file_key = age.unwrap_stanza(age.parse_stanza(row.wrapped_file_key), [identity])
    except CryptoError:
        raise DocumentNotFound() from None
    source = open_blob(uow, document.blob_name)
    try:
        # The header MAC is checked with the unwrapped key before any plaintext: a key moved onto another
        # paper's row (or a blob swapped in the store) opens nothing, and is answered like a missing paper.
        plaintext = age.decrypting_reader(source, file_key=file_key).readall()
    except CryptoError as error:
        raise DocumentNotFound() from error
    finally:
        source.close()
    return document, share, plaintext


def view_share(session: Session, share: Share, *, now: datetime, identity: age.X25519Identity | None,
               actor: Actor) -> ShareView:
    """What the owner or the grantee sees of a share; titles only for the owner, with their identity."""
    owner = session.get(Account, share.owner_id)
    grantee = session.get(Account, share.grantee_id)
    organisation = session.get(Organisation, share.organisation_id) if share.organisation_id else None
    rows = session.execute(select(Document).join(SharedDocument, SharedDocument.document_id == Document.id)
                           .where(SharedDocument.share_id == share.id)
                           .order_by(Document.kind, Document.created_at)).scalars().all()
    decrypt_titles = identity is not None and actor.is_person and actor.account_id == share.owner_id
    active = share_is_active(share, now)
    show_expiry = active or (actor.is_person and actor.account_id == share.owner_id)
    papers = tuple(SharedPaper(id=document.id, kind=document.kind,
                               title=_title(document, identity) if decrypt_titles else None,
                               expires_on=document.expires_on if show_expiry else None) for document in rows)
    left = int((share.expires_at - now).total_seconds()) if active else 0
    return ShareView(id=share.id, owner_id=share.owner_id, owner_name=owner.username if owner else "",
                     grantee_id=share.grantee_id, grantee_name=public_name(grantee) if grantee else "",
                     organisation_id=share.organisation_id,
                     organisation_name=organisation.name if organisation else None,
                     purpose=PurposeChoice(share.purpose_code, share.purpose_text), documents=papers,
                     created_at=share.created_at, expires_at=share.expires_at, ended_at=share.ended_at,
                     end_reason=share.end_reason, access_request_id=share.access_request_id, active=active,
                     seconds_left=max(left, 0))


# --- internals -------------------------------------------------------------------------------------
def _visible_share(session: Session, actor: Actor, share_id: str) -> Share:
    share = session.get(Share, share_id) if _looks_like_id(share_id) else None
    if share is None:
        _tell_if_closed(session, actor, share_id)
    require(share is not None and may_see_share(actor, share), hidden_as=ShareNotFound)
    return share


def _tell_if_closed(session: Session, actor: Actor, share_id: str) -> None:
    """VaultClosed for the worker of a share whose person closed their vault (vault.closing); nobody else
    learns that the share existed."""
    if actor.is_staff and closed_share_for(session, grantee_id=actor.account_id, share_id=share_id) is not None:
        raise VaultClosed()


def _end(session: Session, share: Share, *, reason: str, actor_id: str | None, now: datetime) -> bool:
    # The UPDATE … WHERE ended_at IS NULL decides between parallel endings: one row changes, one event.
    result = session.execute(update(Share).where(Share.id == share.id, Share.ended_at.is_(None))
                             .values(ended_at=now, ended_by_id=actor_id, end_reason=reason)
                             .execution_options(synchronize_session=False))
    session.execute(update(SharedDocument).where(SharedDocument.share_id == share.id)
                    .values(wrapped_file_key=None).execution_options(synchronize_session=False))
    session.refresh(share)
    if result.rowcount != 1:
        return False
    grantee = session.get(Account, share.grantee_id)
    organisation = session.get(Organisation, share.organisation_id) if share.organisation_id else None
    record_event(session, action="share.ended", now=now, actor_id=actor_id, subject_id=share.owner_id,
                 details={"share_id": share.id, "reason": reason,
                          "grantee_name": public_name(grantee) if grantee else None,
                          "organisation": organisation.name if organisation else None})
    return True


def _grantee_organisation(session: Session, grantee_actor: Actor, organisation_id: str | None) -> Organisation:
    """The organisation the grantee acts for in this share: theirs, or the one named among several."""
    memberships = list(grantee_actor.memberships)
    if organisation_id is None:
        if len(memberships) != 1:
            raise InvalidInput(field="organisation")
        organisation_id = memberships[0]
    elif organisation_id not in memberships:
        raise InvalidInput(field="organisation")
    return session.get(Organisation, organisation_id)


def _own_papers(session: Session, actor: Actor, document_ids: object) -> list[Document]:
    if not isinstance(document_ids, (list, tuple)) or not document_ids \
            or not all(isinstance(value, str) for value in document_ids):
        raise InvalidInput(field="documents")
    unique = list(dict.fromkeys(document_ids))
    if len(unique) > MAX_PAPERS_PER_SHARE:
        raise InvalidInput(field="documents", maximum=MAX_PAPERS_PER_SHARE)
    if not all(_looks_like_id(value) for value in unique):
        raise DocumentNotFound()
    found = {document.id: document for document in session.scalars(
        select(Document).where(Document.id.in_(unique), Document.owner_id == actor.account_id))}
    # A paper that is missing or someone else's: the same "not found", and nothing is shared.
    require(len(found) == len(unique), hidden_as=DocumentNotFound)
    return [found[value] for value in unique]


def _file_key(uow: UnitOfWork, document: Document, identity: age.X25519Identity) -> bytes:
    """The paper's age file key, from its header alone (the payload is not read), MAC checked."""
    source = open_blob(uow, document.blob_name)
    try:
        header = age.read_header(source)
        return age.unwrap_file_key(header, [identity])
    finally:
        source.close()


def _title(document: Document, identity: age.X25519Identity) -> str | None:
    if not document.title_sealed:
        return None
    return age.decrypt_bytes(document.title_sealed, identities=[identity]).decode()


def _looks_like_id(value: object) -> bool:
    return isinstance(value, str) and len(value) == 36 and all(c in "0123456789abcdef-" for c in value)


__all__ = ["DURATIONS", "MAX_PAPERS_PER_SHARE", "MAX_SHARE_DAYS", "ShareView", "SharedPaper", "check_share_end",
           "duration_end", "end_share", "plan_share", "SharePlan", "end_shares_of_staff", "find_grantee", "get_share", "grant_share",
           "list_shares", "open_shared_document", "purge_expired_shares", "view_share"]
