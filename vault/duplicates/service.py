"""Issuing marked copies, the register of copies, deletion requests, and the public verification.

Threat model:
- A worker who received a copy passes it on or keeps it past the share: the copy says, in its pixels,
  for whom, why and when, and its reference shows whether the share is still active.
- Someone forges or alters a copy: the signed statement in its QR code does not verify, or the file's
  SHA-256 does not match the one recorded when it was issued (``check_copy``).
- A stranger guesses references to learn about people: 80 random bits, look-ups limited per address,
  and a reference shows only the organisation, purpose, kind of paper and dates — never the person,
  never the paper, never who in the organisation holds it.
- A worker asks for a copy of a paper that is not in their share, or after it ended: refused exactly as
  a paper that does not exist (``DocumentNotFound``).

Services take the plaintext already decrypted by the caller (the person's own key, or the worker's
through the share), render in memory through the media gate, and flush; they never commit.
"""

from __future__ import annotations

import hashlib
import hmac
import traceback
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import age
from crypto.signing import SigningRing
from vault.accounts import public_name
from vault.capacity import WorkGate
from vault.db import UnitOfWork, lock_row
from vault.duplicates.references import new_reference, normalise_reference
from vault.duplicates.render import Marking, RenderLimits, render_copy
from vault.duplicates.statement import Statement, sign_statement
from vault.errors import (
    DeletionAlreadyAsked,
    DeletionNotAsked,
    DocumentNotFound,
    DuplicateNotFound,
    FileTooLarge,
    InvalidInput,
    PictureTooLarge,
    TooManyLookups,
    TooManyAttempts,
    UnsupportedFile,
)
from vault.events import record_event
from vault.i18n import N_, BoundTranslator
from vault.keys import KeyConfig
from vault.media import MediaError
from vault.models import Account, Document, Duplicate, Organisation, Share
from vault.policies import (
    Actor,
    may_answer_deletion,
    may_ask_deletion,
    may_copy_document,
    may_see_duplicate,
    owns,
    require,
    share_is_active,
)
from vault.documents import looks_like_id, open_decrypted
from vault.purposes import PurposeChoice
from vault.sessions import CurrentAccount
from vault.shares import open_shared_document
from vault.throttle import Attempt, address_key, reserve

# Dates on copies are French dates: the papers are used in France, whatever the server's zone.
LOCAL_ZONE = ZoneInfo("Europe/Paris")
DISPOSITIONS = ("view", "download", "own")
ANSWERS = ("deleted", "kept")
REGISTER_SIZE = 500  # a person's copies fit (each needs a share and a worker's request); never more

WATERMARK = N_("Copy for %(purpose)s — %(organisation)s — %(date)s — ref. %(ref)s")
WATERMARK_OWN = N_("Copy for %(purpose)s — %(date)s — ref. %(ref)s")
FOOTER_REFERENCE = N_("Marked copy — ref. %(ref)s — made on %(date)s")
FOOTER_CHECK = N_("Check that it is genuine: %(url)s")


@dataclass(frozen=True)
class IssuedDuplicate:
    ref: str
    pdf: bytes
    sha256: bytes
    pages: int
    kind: str


@dataclass(frozen=True)
class DuplicateEntry:
    """One line of a register: a copy of one of the person's papers, or one a worker received."""

    ref: str
    document_id: str | None
    kind: str
    issued_at: datetime
    holder_name: str | None  # None: the person's own copy
    organisation: str | None
    purpose: PurposeChoice
    status: str
    share_id: str | None
    deletion_requested_at: datetime | None
    deletion_answer: str | None
    deletion_answered_at: datetime | None


@dataclass(frozen=True)
class PublicDuplicate:
    """What anyone may learn from a reference."""

    ref: str
    issued_at: datetime
    organisation: str | None
    purpose: PurposeChoice
    kind: str
    status: str


def issue_duplicate(uow: UnitOfWork, *, actor: Actor, plaintext: bytes, document: Document, share: Share | None,
                    purpose: PurposeChoice, organisation_name: str | None, disposition: str, now: datetime,
                    signing: SigningRing, base_url: str, words: BoundTranslator, gate: WorkGate,
                    limits: RenderLimits | None = None) -> IssuedDuplicate:
    """Render, mark and sign a copy of ``document`` (whose decrypted bytes are ``plaintext``) and record it.

    ``share`` None: the owner's own copy (``organisation_name`` None). Otherwise the grantee's copy through
    that active share (the caller has checked the paper is in it and decrypted it with the grantee's key).
    ``words``: the language written on the copy (French: the copies go to French offices and landlords).
    """
    require(may_copy_document(actor, document, share, now), hidden_as=DocumentNotFound)
    if disposition not in DISPOSITIONS:
        raise InvalidInput(field="disposition", choices=list(DISPOSITIONS))
    session = uow.session
    ref = new_reference()
    local_date = now.astimezone(LOCAL_ZONE).date()
    statement = Statement(ref=ref, issuer=base_url, organisation=organisation_name, purpose=purpose.code,
                          purpose_text=purpose.text, kind=document.kind, issued_on=local_date)
    signed = sign_statement(statement, signing.current)
    verify_url = f"{base_url}/verify/{ref}"
    shown_date = local_date.strftime("%d/%m/%Y")
    purpose_words = purpose.label(words.gettext)
    watermark = (words.gettext(WATERMARK, purpose=purpose_words, organisation=organisation_name, date=shown_date,
                               ref=ref) if organisation_name
                 else words.gettext(WATERMARK_OWN, purpose=purpose_words, date=shown_date, ref=ref))
    marking = Marking(watermark=watermark, qr_content=f"{verify_url}#{signed}",
                      footer=(words.gettext(FOOTER_REFERENCE, ref=ref, date=shown_date),
                              words.gettext(FOOTER_CHECK, url=verify_url)))
    rendered = _render(plaintext, marking, limits or RenderLimits(), gate)
    if share is not None:
        # The share may have ended while the pages were rendered (seconds): checked again under the share's
        # row lock, so an ending either comes first (no copy) or waits for this copy to be recorded.
        lock_row(session, Share, Share.id == share.id)
        session.refresh(share)
        require(may_copy_document(actor, document, share, now), hidden_as=DocumentNotFound)
    digest = hashlib.sha256(rendered.pdf).digest()
    holder = session.get(Account, actor.account_id)
    session.add(Duplicate(
        ref=ref, owner_id=document.owner_id, document_id=document.id, share_id=share.id if share else None,
        issued_to_id=actor.account_id, organisation_id=share.organisation_id if share else None,
        organisation_name=organisation_name, purpose_code=purpose.code, purpose_text=purpose.text,
        kind=document.kind, issued_at=now, sha256=digest, signing_key_id=signing.current.key_id,
    ))
    session.flush()
    details = {"ref": ref, "by_name": public_name(holder) if share else None, "organisation": organisation_name,
               "purpose": purpose.code, "purpose_text": purpose.text, "kind": document.kind,
               "disposition": "download" if disposition == "own" else disposition}
    if share is not None:
        details["share_id"] = share.id
    record_event(session, action="duplicate.issued", now=now, actor_id=actor.account_id,
                 subject_id=document.owner_id, document_id=document.id, details=details)
    return IssuedDuplicate(ref=ref, pdf=rendered.pdf, sha256=digest, pages=rendered.pages, kind=document.kind)


def issue_own_duplicate(uow: UnitOfWork, *, current: CurrentAccount, document_id: str, purpose: PurposeChoice,
                        now: datetime, signing: SigningRing, base_url: str, words: BoundTranslator,
                        gate: WorkGate, limits: RenderLimits | None = None) -> IssuedDuplicate:
    """The person's own marked copy of one of their papers (for a landlord, an employer…)."""
    document = uow.session.get(Document, document_id) if looks_like_id(document_id) else None
    require(document is not None and may_copy_document(current.actor, document, None, now),
            hidden_as=DocumentNotFound)
    plaintext = _decrypt(uow, document.blob_name, current.identity)
    return issue_duplicate(uow, actor=current.actor, plaintext=plaintext, document=document, share=None,
                           purpose=purpose, organisation_name=None, disposition="own", now=now, signing=signing,
                           base_url=base_url, words=words, gate=gate, limits=limits)


def issue_shared_duplicate(uow: UnitOfWork, *, current: CurrentAccount, share_id: str, document_id: str,
                           disposition: str, now: datetime, signing: SigningRing, base_url: str,
                           words: BoundTranslator, gate: WorkGate, limits: RenderLimits | None = None) -> IssuedDuplicate:
    """The grantee's marked copy of a paper shared with them, to view or to download.

    The only way a worker ever gets a paper: decrypted with the file key wrapped to them, while the share
    is active (``vault.shares.open_shared_document``, any refusal "not found"), then marked with the
    share's purpose and organisation, signed and recorded (the person reads it in their activity).
    """
    document, share, plaintext = open_shared_document(uow, actor=current.actor, identity=current.identity,
                                                      share_id=share_id, document_id=document_id, now=now)
    organisation = uow.session.get(Organisation, share.organisation_id) if share.organisation_id else None
    return issue_duplicate(uow, actor=current.actor, plaintext=plaintext, document=document, share=share,
                           purpose=PurposeChoice(share.purpose_code, share.purpose_text),
                           organisation_name=organisation.name if organisation else None, disposition=disposition,
                           now=now, signing=signing, base_url=base_url, words=words, gate=gate, limits=limits)


def list_duplicates(session: Session, *, actor: Actor, now: datetime) -> list[DuplicateEntry]:
    """The person's register (every copy of their papers), or the copies a worker received; newest first."""
    if actor.is_person:
        query = select(Duplicate).where(Duplicate.owner_id == actor.account_id)
    elif actor.is_staff:
        query = select(Duplicate).where(Duplicate.issued_to_id == actor.account_id)
    else:
        return []
    rows = list(session.scalars(query.order_by(Duplicate.issued_at.desc(), Duplicate.ref).limit(REGISTER_SIZE)))
    holders = _names(session, {row.issued_to_id for row in rows if row.issued_to_id})
    shares = _shares(session, {row.share_id for row in rows if row.share_id})
    return [DuplicateEntry(
        ref=row.ref, document_id=row.document_id, kind=row.kind, issued_at=row.issued_at,
        holder_name=None if _is_own(row) else holders.get(row.issued_to_id),
        organisation=row.organisation_name, purpose=PurposeChoice(row.purpose_code, row.purpose_text),
        status=_status(row, shares.get(row.share_id), now), share_id=row.share_id,
        deletion_requested_at=row.deletion_requested_at, deletion_answer=row.deletion_answer,
        deletion_answered_at=row.deletion_answered_at,
    ) for row in rows]


def ask_deletion(session: Session, *, actor: Actor, ref: str, now: datetime) -> Duplicate:
    """The person asks the holder of a copy of their paper to delete it (shown to the holder)."""
    duplicate = _visible(session, actor, ref)
    require(owns(actor, duplicate.owner_id))  # the holder sees the copy but does not ask themselves
    require(not _is_own(duplicate))  # the person holds their own copy: nobody to ask
    require(may_ask_deletion(actor, duplicate), hidden_as=DeletionAlreadyAsked)
    duplicate.deletion_requested_at = now
    holder = session.get(Account, duplicate.issued_to_id) if duplicate.issued_to_id else None
    session.flush()
    record_event(session, action="duplicate.deletion_requested", now=now, actor_id=actor.account_id,
                 subject_id=duplicate.owner_id, document_id=duplicate.document_id,
                 details={"ref": duplicate.ref, "by_name": public_name(holder) if holder else None,
                          "organisation": duplicate.organisation_name})
    return duplicate


def answer_deletion(session: Session, *, actor: Actor, ref: str, answer: str, now: datetime) -> Duplicate:
    """The worker who received the copy says whether they deleted it; the person sees the answer."""
    if answer not in ANSWERS:
        raise InvalidInput(field="answer", choices=list(ANSWERS))
    duplicate = _visible(session, actor, ref)
    require(may_answer_deletion(actor, duplicate), hidden_as=DeletionNotAsked)
    duplicate.deletion_answer = answer
    duplicate.deletion_answered_at = now
    holder = session.get(Account, actor.account_id)
    session.flush()
    record_event(session, action="duplicate.deletion_answered", now=now, actor_id=actor.account_id,
                 subject_id=duplicate.owner_id, document_id=duplicate.document_id,
                 details={"ref": duplicate.ref, "answer": answer, "by_name": public_name(holder),
                          "organisation": duplicate.organisation_name})
    return duplicate


# --- public verification -----------------------------------------------------------------------------
def look_up(session: Session, *, keys: KeyConfig, attempt: Attempt, ref: str, now: datetime) -> PublicDuplicate:
    """What anyone may know of a reference; DuplicateNotFound for one never issued (or mistyped).

    Each look-up is counted on the address's budget first, found or not (a guesser cannot tell).
    """
    row = _counted_look_up(session, keys, attempt, ref, now)
    share = session.get(Share, row.share_id) if row.share_id else None
    return PublicDuplicate(ref=row.ref, issued_at=row.issued_at, organisation=row.organisation_name,
                           purpose=PurposeChoice(row.purpose_code, row.purpose_text), kind=row.kind,
                           status=_status(row, share, now))


def check_copy(session: Session, *, keys: KeyConfig, attempt: Attempt, ref: str, data: bytes,
               now: datetime) -> bool:
    """True when ``data`` is exactly the file issued under ``ref`` (same SHA-256), False otherwise."""
    row = _counted_look_up(session, keys, attempt, ref, now)
    return hmac.compare_digest(hashlib.sha256(data).digest(), row.sha256)


def _counted_look_up(session: Session, keys: KeyConfig, attempt: Attempt, ref: str, now: datetime) -> Duplicate:
    try:
        reserve(attempt, [address_key(keys, attempt.address, "duplicate-lookup")], now=now, request_session=session)
    except TooManyAttempts as error:
        raise TooManyLookups(error.retry_after_seconds, reason="duplicate-lookup") from None
    normalised = normalise_reference(ref)
    row = session.get(Duplicate, normalised) if normalised else None
    if row is None:
        raise DuplicateNotFound()
    return row


# --- helpers -------------------------------------------------------------------------------------------
def _render(plaintext: bytes, marking: Marking, limits: RenderLimits, gate: WorkGate):
    try:
        return gate.run(render_copy, plaintext, marking, limits)
    except MediaError as error:
        traceback.clear_frames(error.__traceback__)  # what was decoded is freed now (see documents._normalise)
        details = {"reason": error.code, "file_index": None}
        if error.code in {"too_many_pages", "file_too_large", "document_too_large"}:
            raise FileTooLarge(**details) from None
        if error.code == "image_too_large":
            raise PictureTooLarge(**details) from None
        raise UnsupportedFile(**details) from None


def _decrypt(uow: UnitOfWork, blob_name: str, identity: age.X25519Identity) -> bytes:
    """The whole plaintext of a stored paper, in memory (it is rendered page by page from it)."""
    reader = open_decrypted(uow, blob_name, identity)
    try:
        return reader.read()
    finally:
        reader.close()


def _visible(session: Session, actor: Actor, ref: str) -> Duplicate:
    """The copy if this actor may see it; otherwise the same "not found" as a reference never issued."""
    normalised = normalise_reference(ref)
    duplicate = session.get(Duplicate, normalised) if normalised else None
    require(duplicate is not None and may_see_duplicate(actor, duplicate), hidden_as=DuplicateNotFound)
    # Two answers (or two requests) at once: the second waits here and then sees the first one's change.
    lock_row(session, Duplicate, Duplicate.ref == duplicate.ref)
    session.refresh(duplicate)
    return duplicate


def _is_own(row: Duplicate) -> bool:
    return row.organisation_name is None and row.share_id is None and row.issued_to_id == row.owner_id


def _status(row: Duplicate, share: Share | None, now: datetime) -> str:
    if row.organisation_name is None and row.issued_to_id == row.owner_id:
        return "own_copy"
    if share is None:
        return "share_ended"  # the share is gone (its person left): no consent behind the copy any more
    if share.ended_at is not None:
        return "share_ended"
    return "share_active" if share_is_active(share, now) else "share_expired"


def _names(session: Session, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    return {account.id: public_name(account) for account in session.scalars(select(Account).where(Account.id.in_(ids)))}


def _shares(session: Session, ids: set[str]) -> dict[str, Share]:
    if not ids:
        return {}
    return {share.id: share for share in session.scalars(select(Share).where(Share.id.in_(ids)))}


__all__ = ["ANSWERS", "DuplicateEntry", "IssuedDuplicate", "PublicDuplicate", "answer_deletion", "ask_deletion",
           "check_copy", "issue_duplicate", "issue_own_duplicate", "list_duplicates", "look_up"]
