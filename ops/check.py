"""``consigne check``: does every paper still have its blobs, whole and in the age format? No key needed.

For each document row: the paper's blob and its thumbnail exist in the store, each starts with an age v1
header that parses (one X25519 stanza: encrypted to one person), the file is long enough to hold the
payload nonce and one sealed chunk, and the two sizes add up to the ``stored_size`` the row recorded (a
blob cut short by a failing disk or an interrupted copy shows here). Nothing is decrypted: the check runs
with the operator's rights only, and reads a few kilobytes per blob.

What it cannot see without the person's key: whether the payload decrypts. A bit flipped inside a chunk
is found by the person's next read (the chunk's Poly1305 tag), not here.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import select

from crypto.age_header import read_header
from crypto.errors import CryptoError
from storage.base import BlobStore
from storage.errors import BlobNotFound
from vault.models import Document

# Our headers are one X25519 stanza: a few hundred bytes. A header longer than this is not one of ours.
HEADER_READ = 8 * 1024
# After the header: a 16-byte payload nonce, then at least one chunk with its 16-byte tag.
NONCE_AND_TAG = 16 + 16
BATCH = 500


@dataclass
class Problem:
    document_id: str
    blob: str
    problem: str  # "missing" | "not_age" | "not_for_one_person" | "too_short" | "size_differs"

    def as_dict(self) -> dict:
        return {"document": self.document_id, "blob": self.blob, "problem": self.problem}


@dataclass
class CheckReport:
    documents: int = 0
    blobs: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        return {"documents": self.documents, "blobs": self.blobs, "intact": self.intact,
                "problems": [problem.as_dict() for problem in self.problems]}


def check_store(session, store: BlobStore) -> CheckReport:
    """Check every document's blobs; read in batches, so the table is never loaded whole."""
    report = CheckReport()
    for document_id, names, stored_size in _documents(session):
        report.documents += 1
        total, whole = 0, True
        for name in names:
            report.blobs += 1
            problem, size = _check_blob(store, name)
            if problem is not None:
                report.problems.append(Problem(document_id, name, problem))
                whole = False
            total += size
        if whole and total != stored_size:
            report.problems.append(Problem(document_id, names[0], "size_differs"))
    return report


def _documents(session) -> Iterator[tuple[str, tuple[str, str], int]]:
    after = ""
    while True:
        rows = session.execute(
            select(Document.id, Document.blob_name, Document.thumbnail_blob_name, Document.stored_size)
            .where(Document.id > after).order_by(Document.id).limit(BATCH)).all()
        if not rows:
            return
        for document_id, blob, thumbnail, stored_size in rows:
            yield document_id, (blob, thumbnail), stored_size
        after = rows[-1][0]


def _check_blob(store: BlobStore, name: str) -> tuple[str | None, int]:
    """(the problem or None, the blob's size)."""
    try:
        size = store.head(name).size
        start = store.read_range(name, 0, HEADER_READ)
    except BlobNotFound:
        return "missing", 0
    stream = io.BytesIO(start)
    try:
        header = read_header(stream)
    except CryptoError:
        return "not_age", size
    if len(header.stanzas) != 1 or header.stanzas[0].type != "X25519":
        return "not_for_one_person", size
    if size < stream.tell() + NONCE_AND_TAG:
        return "too_short", size
    return None, size


__all__ = ["CheckReport", "Problem", "check_store"]
