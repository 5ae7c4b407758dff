"""What every blob store offers: streaming writes and reads of opaque (already encrypted) blobs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, Protocol, runtime_checkable


@dataclass(frozen=True)
class BlobInfo:
    """Size and last-modified time (timezone-aware, UTC) of one blob."""

    name: str
    size: int
    modified: datetime


@runtime_checkable
class BlobStore(Protocol):
    """A flat namespace of blobs named by ``storage.names`` rules.

    Every method raises only ``storage.errors`` exceptions for storage failures: InvalidBlobName for a
    name of the wrong shape, BlobNotFound for a missing blob, StorageUnavailable when the backend cannot
    be reached or refuses. Exceptions raised by the caller's own source stream pass through unchanged.
    """

    def put(self, name: str, stream: BinaryIO) -> int:
        """Store everything ``stream.read(n)`` yields until it returns ``b""``; return the bytes written.

        The length need not be known in advance and the object is never held whole in memory. The blob
        appears all at once or not at all: if the stream raises, no blob (and no partial state) is left
        and an existing blob of that name keeps its previous content.
        """

    def open(self, name: str) -> BinaryIO:
        """Return a streaming reader (``read(n)``, ``close()``, context manager).

        ``read(n)`` returns exactly ``n`` bytes unless the blob ends first.
        """

    def read_range(self, name: str, start: int, length: int) -> bytes:
        """Return up to ``length`` bytes from offset ``start``; fewer (or none) past the end of the blob."""

    def head(self, name: str) -> BlobInfo:
        """Return the blob's size and last-modified time."""

    def delete(self, name: str) -> None:
        """Remove the blob; removing a missing blob is not an error."""

    def list(self, prefix: str = "") -> Iterator[str]:
        """Yield the names starting with ``prefix`` (a plain string prefix), in no guaranteed order."""


def check_range(start: int, length: int) -> None:
    """Reject negative offsets and lengths (a programming error, not a storage failure)."""
    if start < 0 or length < 0:
        raise ValueError("start and length must not be negative")
