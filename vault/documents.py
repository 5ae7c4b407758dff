"""A person's papers: add, list, read, change, delete.

Plaintext lives only in memory: uploads arrive as bytes (the web layer never spools them to disk),
are cleaned by ``vault.media``, then encrypted with age to the owner's public key while streaming into
the blob store. The database holds the kind, sizes and dates in clear (quotas and reminders need them)
and the title and original file names encrypted to the owner.
"""

from __future__ import annotations

import io
import json
import traceback
from dataclasses import dataclass
from datetime import date, datetime
from typing import BinaryIO, Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from crypto import age
from crypto.errors import CryptoError
from storage import new_blob_name
from storage.errors import BlobNotFound, StorageError
from vault.capacity import WorkGate
from vault.db import UnitOfWork, lock_row
from vault.errors import (
    DocumentNotFound,
    FileTooLarge,
    InvalidCursor,
    InvalidInput,
    PictureTooLarge,
    QuotaExceeded,
    StorageFailed,
    UnknownDocumentKind,
    UnsupportedFile,
    VaultClosed,
)
from vault.events import record_event
from vault.keys import KeyConfig
from vault.kinds import DOCUMENT_KINDS
from vault.media import MediaError, MediaLimits, NormalisedDocument, UploadedFile, normalise_document
from vault.models import Account, Document, Event
from vault.paging import Page, check_limit, decode_cursor, encode_cursor
from vault.policies import may_keep_papers, may_manage_own_document, require
from vault.sessions import CurrentAccount
from vault.settings import Limits

MAX_TITLE_LENGTH = 120
# One page holds every paper of nearly every person (the quota keeps vaults small), so clients written
# before paging still see everything; a page is never larger, whatever a client asks.
DOCUMENTS_PER_PAGE = 200
DOCUMENTS_LISTING = "documents"
DEPOSITED = "document.deposited"
SIZE_ERRORS = {"file_too_large", "document_too_large", "too_many_files"}


@dataclass(frozen=True)
class AddedBy:
    """Who deposited a paper into the person's vault, named as they were at that moment (the event's
    snapshot: a later rename or deactivation does not rewrite what the person was told)."""

    name: str
    organisation: str | None


@dataclass(frozen=True)
class DocumentView:
    """What the owner sees of a document (title decrypted with their identity)."""

    id: str
    kind: str
    title: str | None
    pages: int
    content_type: str
    size: int
    created_at: datetime
    updated_at: datetime
    expires_on: date | None
    added_by: AddedBy | None = None  # a worker deposited it (vault.deposits); None for the person's own


def add_document(uow: UnitOfWork, *, current: CurrentAccount, files: list[UploadedFile], kind: str,
                 title: str | None, expires_on: date | None, limits: Limits, now: datetime,
                 gate: WorkGate) -> DocumentView:
    """Clean, encrypt and store a new paper in the current person's vault.

    The cleaning (decoding photos and PDFs, the memory-heavy part) runs through ``gate``, the process's
    media work gate: at most its number of slots at once, then UploadsBusy, so that parallel uploads
    cannot add up to gigabytes.

    ``files`` is consumed: once cleaned, the list is emptied and each file's ``release`` called, so the
    original plaintext is freed before its encrypted copy is stored (a worker then holds at most about
    twice the document: the original and its cleaned copy, during the cleaning only).
    """
    owner = _require_person(current)
    document = store_new_document(uow, owner=owner, files=files, kind=kind, title=title, expires_on=expires_on,
                                  limits=limits, now=now, gate=gate)
    record_event(uow.session, action="document.uploaded", now=now, actor_id=owner.id, subject_id=owner.id,
                 document_id=document.id, details={"kind": document.kind, "pages": document.pages})
    return view_document(document, current.identity)


def store_new_document(uow: UnitOfWork, *, owner: Account, files: list[UploadedFile], kind: str,
                       title: str | None, expires_on: date | None, limits: Limits, now: datetime, gate: WorkGate,
                       deposited_by_id: str | None = None) -> Document:
    """The one path by which a paper enters a vault: checked, cleaned, encrypted to ``owner``, under quota.

    Used by the person adding their own paper (``add_document``) and by a worker depositing one
    (``vault.deposits``). Only ``owner.public_key`` is used: encrypting needs no secret, so whoever calls
    this cannot read back what it stored. The caller has checked who acts, and records the event.
    """
    kind = check_kind(kind)
    title = check_title(title)
    if len(files) > limits.max_files_per_document:
        raise FileTooLarge(reason="too_many_files", maximum=limits.max_files_per_document)
    session = uow.session
    # No autoflush: a pending change of the request (the session's idle deadline) would be written now,
    # and its row lock (on SQLite, the whole database's write lock) held through the cleaning and the
    # upload to storage. Writes wait for the short locked part at the end.
    with session.no_autoflush:
        used = stored_bytes(session, owner.id)
    if used >= limits.quota_bytes:  # already full: refuse before any work (re-checked under the lock)
        raise QuotaExceeded(used=used, quota=limits.quota_bytes)
    normalised = _normalise(files, limits, gate)
    file_names = [upload.filename or "" for upload in files]
    _release(files)
    recipient = age.X25519Recipient.from_string(owner.public_key)
    # Encrypt and store first, then take the owner's lock only for the quota check and the insert: the
    # lock is held for milliseconds, not for the whole upload. Over the quota, the blobs just written
    # are deleted with the rollback (UnitOfWork).
    blob_size = _put_encrypted(uow, normalised.content, recipient)
    blob_name = uow.created_blobs[-1]
    thumbnail_size = _put_encrypted(uow, normalised.thumbnail, recipient)
    lock_row(session, Account, Account.id == owner.id)
    if session.scalar(select(Account.id).where(Account.id == owner.id)) is None:
        raise VaultClosed()  # closed while this paper was being cleaned (vault.closing): its blobs go back
    used = stored_bytes(session, owner.id)
    if used + blob_size + thumbnail_size > limits.quota_bytes:
        raise QuotaExceeded(used=used, quota=limits.quota_bytes)
    document = Document(
        owner_id=owner.id,
        kind=kind,
        title_sealed=age.encrypt_bytes(title.encode(), [recipient]) if title else None,
        file_names_sealed=age.encrypt_bytes(json.dumps(file_names).encode(), [recipient]),
        content_type=normalised.content_type,
        pages=normalised.pages,
        size=len(normalised.content),
        stored_size=blob_size + thumbnail_size,
        blob_name=blob_name,
        thumbnail_blob_name=uow.created_blobs[-1],
        expires_on=expires_on,
        deposited_by_id=deposited_by_id,
        created_at=now,
        updated_at=now,
    )
    session.add(document)
    session.flush()
    return document


def list_documents(session: Session, *, current: CurrentAccount, keys: KeyConfig, limit: int | None = None,
                   cursor: str | None = None) -> Page[DocumentView]:
    """The current person's papers, newest first, one page at a time (``cursor``: from the previous page).

    One range of the (owner_id, created_at) index per page, however many papers and however deep.
    """
    owner = _require_person(current)
    limit = check_limit(limit, default=DOCUMENTS_PER_PAGE, maximum=DOCUMENTS_PER_PAGE)
    query = select(Document).where(Document.owner_id == owner.id)
    if cursor is not None:
        created_at, document_id = _document_position(
            decode_cursor(keys, cursor, listing=DOCUMENTS_LISTING, owner_id=owner.id))
        # "created_at <= …" bounds the index range; the OR puts papers added in the same microsecond in
        # id order, so no paper is skipped or shown twice at a page boundary.
        query = query.where(Document.created_at <= created_at,
                            or_(Document.created_at < created_at, Document.id < document_id))
    documents = list(session.scalars(query.order_by(Document.created_at.desc(), Document.id.desc()).limit(limit + 1)))
    next_cursor = None
    if len(documents) > limit:
        documents = documents[:limit]
        last = documents[-1]
        next_cursor = encode_cursor(keys, listing=DOCUMENTS_LISTING, owner_id=owner.id,
                                    position=[last.created_at.isoformat(), last.id])
    added_by = deposits_of(session, owner.id, documents)
    return Page(items=[view_document(document, current.identity, added_by.get(document.id))
                       for document in documents], next_cursor=next_cursor)


def get_document(session: Session, *, current: CurrentAccount, document_id: str) -> DocumentView:
    document = _owned_document(session, current, document_id)
    added_by = deposits_of(session, document.owner_id, [document]).get(document.id)
    return view_document(document, current.identity, added_by)


def deposits_of(session: Session, owner_id: str, documents: Sequence[Document]) -> dict[str, AddedBy]:
    """Who deposited which of ``documents`` (those a worker added), from the deposit events' snapshots.

    One query for a whole page, and none when the page holds only the person's own papers.
    """
    deposited = {document.id: document for document in documents if document.deposited_by_id is not None}
    if not deposited:
        return {}
    # The (subject_id, id) index bounds the read to this person's events (see vault.events.list_events_for).
    rows = session.execute(select(Event.document_id, Event.details)
                           .where(Event.subject_id >= owner_id, Event.subject_id <= owner_id,
                                  Event.action == DEPOSITED, Event.document_id.in_(list(deposited))))
    found = {}
    for document_id, details in rows:
        details = details if isinstance(details, dict) else {}
        if isinstance(details.get("by_name"), str):
            organisation = details.get("organisation")
            found[document_id] = AddedBy(details["by_name"], organisation if isinstance(organisation, str) else None)
    for document_id, document in deposited.items():
        if document_id not in found:  # no snapshot (never expected): the worker's name as it is now
            account = session.get(Account, document.deposited_by_id)
            found[document_id] = AddedBy(account.display_name or account.username if account else "?", None)
    return found


def open_document_content(uow: UnitOfWork, *, current: CurrentAccount, document_id: str, now: datetime,
                          inline: bool = False) -> tuple[DocumentView, BinaryIO]:
    """A streaming reader of the decrypted paper; the access is recorded in the person's log."""
    document = _owned_document(uow.session, current, document_id)
    reader = open_decrypted(uow, document.blob_name, current.identity)
    record_event(uow.session, action="document.viewed" if inline else "document.downloaded", now=now,
                 actor_id=current.id, subject_id=document.owner_id, document_id=document.id)
    return view_document(document, current.identity), reader


def open_document_thumbnail(uow: UnitOfWork, *, current: CurrentAccount, document_id: str) -> BinaryIO:
    document = _owned_document(uow.session, current, document_id)
    return open_decrypted(uow, document.thumbnail_blob_name, current.identity)


def update_document(session: Session, *, current: CurrentAccount, document_id: str, changes: dict,
                    now: datetime) -> DocumentView:
    """Change the title, kind or expiry date; ``changes`` holds only the fields given."""
    document = _owned_document(session, current, document_id)
    recipient = age.X25519Recipient.from_string(current.account.public_key)
    if "kind" in changes:
        document.kind = check_kind(changes["kind"])
    if "title" in changes:
        title = check_title(changes["title"])
        document.title_sealed = age.encrypt_bytes(title.encode(), [recipient]) if title else None
    if "expires_on" in changes:
        document.expires_on = changes["expires_on"]
    document.updated_at = now
    session.flush()
    record_event(session, action="document.updated", now=now, actor_id=current.id, subject_id=document.owner_id,
                 document_id=document.id, details={"fields": sorted(changes)})
    return view_document(document, current.identity)


def delete_document(uow: UnitOfWork, *, current: CurrentAccount, document_id: str, now: datetime) -> None:
    """Delete the row now; its blobs go once the transaction has committed (UnitOfWork)."""
    document = _owned_document(uow.session, current, document_id)
    uow.doomed_blobs.extend([document.blob_name, document.thumbnail_blob_name])
    record_event(uow.session, action="document.deleted", now=now, actor_id=current.id,
                 subject_id=document.owner_id, document_id=document.id, details={"kind": document.kind})
    uow.session.delete(document)
    uow.session.flush()


def stored_bytes(session: Session, owner_id: str) -> int:
    return session.scalar(select(func.coalesce(func.sum(Document.stored_size), 0)).where(Document.owner_id == owner_id))


def check_kind(kind: str) -> str:
    if kind not in DOCUMENT_KINDS:
        raise UnknownDocumentKind(kinds=list(DOCUMENT_KINDS))
    return kind


def check_title(title: str | None) -> str | None:
    if title is None:
        return None
    if not isinstance(title, str):
        raise InvalidInput(field="title")
    title = " ".join(title.split())
    if len(title) > MAX_TITLE_LENGTH:
        raise InvalidInput(field="title", maximum=MAX_TITLE_LENGTH)
    return title or None


def view_document(document: Document, identity: age.X25519Identity, added_by: AddedBy | None = None) -> DocumentView:
    # One X25519 decryption per paper (the title); the original file names stay sealed until an
    # export needs them, which keeps listing 200 papers fast.
    title = age.decrypt_bytes(document.title_sealed, identities=[identity]).decode() if document.title_sealed else None
    return DocumentView(id=document.id, kind=document.kind, title=title, pages=document.pages,
                        content_type=document.content_type, size=document.size, created_at=document.created_at,
                        updated_at=document.updated_at, expires_on=document.expires_on, added_by=added_by)


# --- internals -------------------------------------------------------------------------------------
def _require_person(current: CurrentAccount) -> Account:
    require(may_keep_papers(current.actor))
    return current.account


def _owned_document(session: Session, current: CurrentAccount, document_id: str) -> Document:
    """The document if it is the current person's; otherwise the same "not found" as a missing one."""
    _require_person(current)
    document = session.get(Document, document_id) if looks_like_id(document_id) else None
    require(document is not None and may_manage_own_document(current.actor, document), hidden_as=DocumentNotFound)
    return document


def _document_position(position: list) -> tuple[datetime, str]:
    """(created_at, id) from a cursor's position; InvalidCursor if it is not that shape."""
    try:
        raw_time, document_id = position
        created_at = datetime.fromisoformat(raw_time)
    except (TypeError, ValueError):
        raise InvalidCursor() from None
    if created_at.tzinfo is None or not looks_like_id(document_id):
        raise InvalidCursor()
    return created_at, document_id


def looks_like_id(value: str) -> bool:
    return isinstance(value, str) and len(value) == 36 and all(c in "0123456789abcdef-" for c in value)


def _normalise(files: Sequence[UploadedFile], limits: Limits, gate: WorkGate) -> NormalisedDocument:
    media_limits = MediaLimits(max_file_bytes=limits.max_file_bytes, max_document_bytes=limits.max_document_bytes,
                               max_files=limits.max_files_per_document)
    try:
        return gate.run(normalise_document, files, limits=media_limits)
    except MediaError as error:
        # The error's frames still hold what was decoded before the refusal: free it now, not when the
        # answer has been sent, so the gate's bound on memory holds once its slot is given back.
        traceback.clear_frames(error.__traceback__)
        details = {"reason": error.code, "file_index": error.file_index}
        if error.code in SIZE_ERRORS:
            raise FileTooLarge(**details) from None
        if error.code == "image_too_large":
            raise PictureTooLarge(**details) from None
        raise UnsupportedFile(**details) from None


def _release(files: list[UploadedFile]) -> None:
    for upload in files:
        if upload.release is not None:
            upload.release()
    files.clear()


def _put_encrypted(uow: UnitOfWork, plaintext: bytes, recipient: age.X25519Recipient) -> int:
    name = new_blob_name()
    uow.created_blobs.append(name)  # recorded first: a failed put is cleaned up like any other
    try:
        return uow.store.put(name, age.encrypting_reader(io.BytesIO(plaintext), [recipient]))
    except StorageError as error:
        raise StorageFailed() from error


def open_blob(uow: UnitOfWork, blob_name: str) -> BinaryIO:
    """A stored blob's ciphertext; its absence is "not found", any other store failure StorageFailed."""
    try:
        return uow.store.open(blob_name)
    except BlobNotFound:
        raise DocumentNotFound() from None
    except StorageError as error:
        raise StorageFailed() from error


def open_decrypted(uow: UnitOfWork, blob_name: str, identity: age.X25519Identity) -> BinaryIO:
    """A reader of a stored paper's plaintext (authenticated chunk by chunk as it is read)."""
    source = open_blob(uow, blob_name)
    try:
        return age.decrypting_reader(source, identities=[identity])
    except CryptoError:
        source.close()
        raise