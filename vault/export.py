"""Leaving is a right (DESIGN.md, principle 7): everything of a person's vault, taken out in one ZIP.

Two formats, both after the current password (vault.reauthentication: a session left open on a shelter
computer must not hand the next person every paper in one click):

- ``zip``: each paper as the person would download it (the stored plaintext, byte for byte, under its
  real file name), ``consigne.json`` (papers, shares, activity) and a README in the person's language.
- ``age``: the age files exactly as stored (ciphertext: nothing is decrypted), the metadata as an age
  file to the person's own key, and the person's age identity encrypted with a passphrase they choose
  (age's scrypt recipient). The stock ``age`` tool alone opens everything, even if Consigne disappears.
  Entry names there are neutral (number, kind, extension): the ZIP may end up on a USB stick, and then
  shows nothing more than how many papers of which kinds.

Memory and disk: nothing is ever written to disk (no temporary file, no SpooledTemporaryFile). The ZIP
is produced while it is sent: ``Export.chunks`` writes entries one 64 KiB read at a time into a
non-seekable sink that is drained after each write (zipfile then uses data descriptors), so one export
holds about one chunk of a paper plus the metadata in memory, whatever the vault's size; the vault
itself is bounded by the quota (``Limits.quota_bytes``, 500 MiB by default). Everything read from the
database (titles, file names, shares, activity) is gathered before the first byte is sent, inside the
request's transaction.
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import age
from storage.base import BlobStore
from vault.activity import MAX_ACTIVITY_PER_PAGE, list_activity
from vault.db import UnitOfWork
from vault.documents import deposits_of
from vault.errors import InvalidInput
from vault.events import record_event
from vault.export_words import readme_text
from vault.i18n import BoundTranslator
from vault.keys import KeyConfig
from vault.kinds import kind_label
from vault.models import Document
from vault.passwords import check_password
from vault.policies import may_keep_papers, require
from vault.reauthentication import reauthenticate
from vault.sessions import CurrentAccount
from vault.shares import list_shares
from vault.throttle import Attempt

FORMATS = ("zip", "age")
READ_SIZE = 64 * 1024
EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
MAX_NAME_LENGTH = 80  # characters of a file name's stem in the archive
METADATA_VERSION = 1
# Windows refuses these names whatever the extension; an archive opened there must not fail on them.
RESERVED_NAMES = {"con", "prn", "aux", "nul", *(f"com{n}" for n in range(1, 10)), *(f"lpt{n}" for n in range(1, 10))}
UNSAFE_CHARACTERS = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')


@dataclass(frozen=True)
class ExportEntry:
    """One file of the archive: either bytes in hand, or a stored blob (decrypted or as stored)."""

    name: str
    data: bytes | None = None
    blob_name: str | None = None
    decrypt: bool = False
    # At least the entry's size (a blob's), so that zipfile writes ZIP64 records only when needed (it
    # reads this as a bound; the real size goes in the data descriptor).
    size_bound: int = 0


@dataclass(frozen=True)
class Export:
    """An export ready to stream: what goes in, and the neutral name of the download."""

    format: str
    file_name: str
    entries: tuple[ExportEntry, ...]
    documents: int
    identity: age.X25519Identity  # for the ``zip`` format's decryption while streaming; never written

    def chunks(self, store: BlobStore) -> Iterator[bytes]:
        """The ZIP, a piece at a time (see the module's docstring for the memory it takes)."""
        sink = _Sink()
        with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as archive:
            for entry in self.entries:
                info = zipfile.ZipInfo(entry.name, date_time=(2026, 1, 1, 0, 0, 0))
                info.external_attr = 0o600 << 16  # the person's papers: readable by their owner only
                if entry.data is not None:
                    archive.writestr(info, entry.data)
                    yield sink.drain()
                    continue
                info.file_size = entry.size_bound
                with self._open(store, entry) as reader, archive.open(info, "w") as member:
                    while chunk := reader.read(READ_SIZE):
                        member.write(chunk)
                        yield sink.drain()
        yield sink.drain()

    def _open(self, store: BlobStore, entry: ExportEntry) -> BinaryIO:
        source = store.open(entry.blob_name)
        if not entry.decrypt:
            return source
        try:
            return age.decrypting_reader(source, identities=[self.identity])
        except BaseException:
            source.close()
            raise


def prepare_export(uow: UnitOfWork, *, current: CurrentAccount, keys: KeyConfig, attempt: Attempt, password: str,
                   export_format: str, passphrase: str | None, words: BoundTranslator, now: datetime) -> Export:
    """Check the password, gather everything, record ``export.made``; the caller streams ``chunks``.

    The passphrase of an ``age`` export follows the password rules (vault.passwords: 8 to 256
    characters, not common, not the username): it alone protects the identity that opens every paper.
    It is checked before the password, so a refused passphrase spends none of the session's tries.
    """
    require(may_keep_papers(current.actor))
    if export_format not in FORMATS:
        raise InvalidInput(field="format")
    account = current.account
    if export_format == "age":
        if not isinstance(passphrase, str) or not passphrase:
            raise InvalidInput(field="passphrase")
        check_password(passphrase, username=account.username)
    elif passphrase is not None:
        raise InvalidInput(field="passphrase")  # never kept, never used: refuse rather than ignore it
    session = uow.session
    # The identity is sealed under the passphrase (scrypt, about a second) before anything else, as a new
    # password is sealed before the current one is asked (vault.accounts.change_password): nothing of
    # this request's transaction is written yet, so no database lock is held meanwhile.
    sealed_identity = _sealed_identity(keys, current.identity, passphrase, now) if export_format == "age" else None
    reauthenticate(session, keys=keys, attempt=attempt, current=current, password=password, now=now)
    documents = list(session.scalars(select(Document).where(Document.owner_id == account.id)
                                     .order_by(Document.created_at, Document.id)))
    identity = current.identity
    metadata = _metadata(session, current=current, keys=keys, documents=documents, words=words, now=now)
    if export_format == "zip":
        names = paper_names(documents, identity)
        entries = [ExportEntry("README.txt", data=readme_text(words, "zip").encode())]
        entries += [ExportEntry(f"papers/{names[document.id]}", blob_name=document.blob_name, decrypt=True,
                                size_bound=document.size) for document in documents]
        for paper in metadata["papers"]:
            paper["file"] = f"papers/{names[paper['id']]}"
        entries.append(ExportEntry("consigne.json", data=_json(metadata)))
    else:
        entries = [ExportEntry("README.txt", data=readme_text(words, "age").encode()),
                   ExportEntry("identity.age", data=sealed_identity)]
        for number, document in enumerate(documents, start=1):
            name = f"papers/{number:03d}-{document.kind}.{EXTENSIONS.get(document.content_type, 'bin')}.age"
            entries.append(ExportEntry(name, blob_name=document.blob_name,
                                       size_bound=document.stored_size))  # the paper and its thumbnail
            metadata["papers"][number - 1]["file"] = name
        entries.append(ExportEntry("consigne.json.age", data=age.encrypt_bytes(
            _json(metadata), [age.X25519Recipient.from_string(account.public_key)])))
    record_event(session, action="export.made", now=now, actor_id=account.id, subject_id=account.id,
                 details={"format": export_format, "documents": len(documents)})
    return Export(format=export_format, file_name=f"consigne-{now.date().isoformat()}-{export_format}.zip",
                  entries=tuple(entries), documents=len(documents), identity=identity)


def paper_names(documents: list[Document], identity: age.X25519Identity) -> dict[str, str]:
    """Each paper's file name in the archive: its real name, made safe and unique (see ``safe_name``)."""
    taken: set[str] = set()
    names = {}
    for document in documents:
        originals = json.loads(age.decrypt_bytes(document.file_names_sealed, identities=[identity]))
        title = age.decrypt_bytes(document.title_sealed, identities=[identity]).decode() \
            if document.title_sealed else None
        # A paper of several files was cleaned into one (a PDF of the photos, vault.media): the first
        # file's name, or the title, names it; the extension is the stored content's.
        original = originals[0] if len(originals) == 1 and originals[0] else (title or "")
        names[document.id] = safe_name(original, fallback=document.kind,
                                       extension=EXTENSIONS.get(document.content_type, "bin"), taken=taken)
    return names


def safe_name(original: str, *, fallback: str, extension: str, taken: set[str]) -> str:
    """A file name that cannot escape the archive's folder nor collide, with the content's extension.

    Only the last path component is kept (a name is never a path: no ``/``, ``\\`` or ``..``), control
    and reserved characters become ``_``, leading dots go (no hidden files), the stem is cut to
    MAX_NAME_LENGTH, and a name already taken (case-insensitively, for Windows and macOS) gets " (2)"…
    """
    name = unicodedata.normalize("NFC", original or "").replace("\\", "/").split("/")[-1]
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    stem = UNSAFE_CHARACTERS.sub("_", stem).strip(" .")
    stem = re.sub(r"\.{2,}", ".", stem)[:MAX_NAME_LENGTH].strip(" .")
    if not stem or stem.lower() in RESERVED_NAMES:
        stem = fallback
    candidate, number = f"{stem}.{extension}", 1
    while candidate.lower() in taken:
        number += 1
        candidate = f"{stem} ({number}).{extension}"
    taken.add(candidate.lower())
    return candidate


# --- internals -------------------------------------------------------------------------------------
class _Sink(io.RawIOBase):
    """Where zipfile writes: bytes kept until drained. Not seekable, so zipfile streams with data
    descriptors and never seeks back."""

    def __init__(self) -> None:
        self._pending = bytearray()
        self._written = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._pending += data
        self._written += len(data)
        return len(data)

    def tell(self) -> int:  # zipfile records offsets from this; seeking stays impossible
        return self._written

    def drain(self) -> bytes:
        data, self._pending = bytes(self._pending), bytearray()
        return data


def _sealed_identity(keys: KeyConfig, identity: age.X25519Identity, passphrase: str, now: datetime) -> bytes:
    """The identity file ``age-keygen`` would write, encrypted with the passphrase (scrypt).

    scrypt at age's work factor takes 256 MiB and about a second: it runs through the KDF gate like a
    sign-in, so a burst of exports queues instead of taking the server's memory.
    """
    text = (f"# created: {now.replace(microsecond=0).isoformat()}\n"
            f"# public key: {identity.recipient.to_string()}\n{identity.to_string()}\n")
    return keys.run_kdf(age.encrypt_bytes, text.encode(), [age.ScryptRecipient(passphrase)])


def _metadata(session: Session, *, current: CurrentAccount, keys: KeyConfig, documents: list[Document],
              words: BoundTranslator, now: datetime) -> dict:
    identity = current.identity
    added_by = deposits_of(session, current.account.id, documents)
    papers = []
    for document in documents:
        title = age.decrypt_bytes(document.title_sealed, identities=[identity]).decode() \
            if document.title_sealed else None
        depositor = added_by.get(document.id)
        papers.append({
            "id": document.id, "file": None, "kind": document.kind, "kind_label": kind_label(words, document.kind),
            "title": title,
            "original_file_names": json.loads(age.decrypt_bytes(document.file_names_sealed, identities=[identity])),
            "content_type": document.content_type, "pages": document.pages, "size": document.size,
            "added_at": document.created_at.isoformat(), "changed_at": document.updated_at.isoformat(),
            "expires_on": document.expires_on.isoformat() if document.expires_on else None,
            "deposited_by": {"name": depositor.name, "organisation": depositor.organisation} if depositor else None,
        })
    shares = [{
        "with": view.grantee_name, "organisation": view.organisation_name,
        "purpose": view.purpose.label(words.gettext), "purpose_code": view.purpose.code,
        "papers": [paper.id for paper in view.documents], "granted_at": view.created_at.isoformat(),
        "ends_at": view.expires_at.isoformat(), "ended_at": view.ended_at.isoformat() if view.ended_at else None,
        "status": "active" if view.active else (view.end_reason or "expired"),
    } for view in list_shares(session, actor=current.actor, identity=identity, now=now)]
    return {"consigne_export": METADATA_VERSION, "exported_at": now.isoformat(),
            "username": current.account.username, "language": words.language, "papers": papers,
            "shares": shares, "activity": _activity(session, current=current, keys=keys, words=words)}


def _activity(session: Session, *, current: CurrentAccount, keys: KeyConfig, words: BoundTranslator) -> list[dict]:
    """Every line of the person's activity, as vault.activity words it for them, newest first."""
    lines, cursor = [], None
    while True:
        page = list_activity(session, owner=current.account, words=words, keys=keys, limit=MAX_ACTIVITY_PER_PAGE,
                             cursor=cursor, identity=current.identity)
        lines += [{"at": item.at.isoformat(), "until": item.until.isoformat() if item.until else None,
                   "action": item.action, "by_you": item.by_owner, "actor": item.actor, "paper": item.document_id,
                   "count": item.count, "sentence": item.sentence} for item in page.items]
        if page.next_cursor is None:
            return lines
        cursor = page.next_cursor


def _json(value: dict) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2).encode()


__all__ = ["FORMATS", "Export", "ExportEntry", "paper_names", "prepare_export", "safe_name"]
