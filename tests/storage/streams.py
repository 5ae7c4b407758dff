"""Source streams for blob store tests: deterministic data, unknown lengths, and sources that break."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator

MIB = 1024 * 1024
CHUNK = 64 * 1024


class SourceBroke(Exception):
    """Raised by a test source in the middle of a put."""


def sample_bytes(size: int, seed: int = 0) -> bytes:
    """``size`` reproducible pseudo-random bytes (incompressible, so no server can shortcut them)."""
    return random.Random(seed).randbytes(size)


def sample_chunks(size: int, seed: int = 0, chunk: int = CHUNK) -> Iterator[bytes]:
    """The same kind of data as ``sample_bytes`` produced chunk by chunk, never whole in memory."""
    generator = random.Random(seed)
    remaining = size
    while remaining:
        step = min(chunk, remaining)
        yield generator.randbytes(step)
        remaining -= step


def digest_of_chunks(chunks: Iterator[bytes]) -> str:
    hasher = hashlib.sha256()
    for chunk in chunks:
        hasher.update(chunk)
    return hasher.hexdigest()


class GeneratedReader:
    """A file-like source with ``read(n)`` only: no ``len()``, no ``seek``, no ``fileno`` (length unknown).

    Chunks come from a generator and are cut to whatever size the store asks for.
    """

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = b""

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            return self._pending + b"".join(self._chunks)
        parts, have = [self._pending], len(self._pending)
        while have < size:
            chunk = next(self._chunks, b"")
            if not chunk:
                break
            parts.append(chunk)
            have += len(chunk)
        joined = b"".join(parts)
        data, self._pending = joined[:size], joined[size:]
        return data


def broken_chunks(good_bytes: int) -> Iterator[bytes]:
    """Yield ``good_bytes`` of data, then raise SourceBroke (an upload cut in the middle)."""
    yield from sample_chunks(good_bytes, seed=99)
    raise SourceBroke("the source stream failed in the middle of the upload")
