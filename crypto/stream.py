"""The STREAM payload of age v1: 64 KiB chunks sealed with ChaCha20-Poly1305, pulled one at a time.

Both directions are readers (``io.RawIOBase``): callers pull ciphertext into an S3 upload or plaintext
into an HTTP response, and memory stays bounded by about two chunks whatever the file size.

The rules that make truncation and extension detectable: the 12-byte chunk nonce is an 11-byte big
endian counter and a flag byte that is 0x01 only on the final chunk; a non-final chunk is always full;
the final chunk may be empty only when it is the only chunk. A reader looks one byte past each full chunk
to know whether it must be the final one, so nothing after the final chunk goes unnoticed.
"""

from __future__ import annotations

import abc
import io
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from crypto.errors import DecryptionFailed, InvalidParameters

CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
ENCRYPTED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE
PAYLOAD_NONCE_SIZE = 16
COUNTER_SIZE = 11
COUNTER_LIMIT = 1 << (8 * COUNTER_SIZE)
_FINAL = b"\x01"
_NOT_FINAL = b"\x00"


def chunk_nonce(counter: int, *, final: bool) -> bytes:
    """Return the ChaCha20-Poly1305 nonce of chunk number ``counter``.

    Raises InvalidParameters once the 11-byte counter would wrap: a wrapped counter would reuse a nonce.
    """
    if not 0 <= counter < COUNTER_LIMIT:
        raise InvalidParameters("STREAM chunk counter overflow")
    return counter.to_bytes(COUNTER_SIZE, "big") + (_FINAL if final else _NOT_FINAL)


def read_fully(source: BinaryIO, view: memoryview) -> int:
    """Fill ``view`` from ``source``; return how many bytes were read (fewer only at end of file)."""
    readinto = getattr(source, "readinto", None)
    total = 0
    while total < len(view):
        if readinto is not None:
            count = readinto(view[total:])
        else:
            data = source.read(len(view) - total)
            count = None if data is None else len(data)
            if count is not None:
                if count > len(view) - total:
                    raise InvalidParameters("source returned more bytes than asked for")
                view[total:total + count] = data
        if count is None:
            # A non-blocking source would look like end of file and silently truncate the payload.
            raise InvalidParameters("non-blocking streams are not supported")
        if count == 0:
            break
        total += count
    return total


class _ChunkReader(io.RawIOBase):
    """A reader whose output is produced one piece at a time by ``_produce``."""

    def __init__(self, source: BinaryIO, *, owns_source: bool) -> None:
        super().__init__()
        self._source = source
        self._owns_source = owns_source
        self._piece: bytes = b""
        self._offset = 0
        self._finished = False
        self._broken: BaseException | None = None

    @abc.abstractmethod
    def _produce(self) -> bytes | None:
        """The next piece of output (may be empty); sets ``_finished`` once the last one is produced."""

    def _next_piece(self) -> bool:
        """Make the next non-empty piece current; False at end of stream."""
        if self._broken is not None:
            raise self._broken
        while not self._finished:
            try:
                piece = self._produce()
            except BaseException as error:
                # Sticky: after any failure (a bad tag, or a source that failed half-way through a
                # chunk) the stream position is unknown, so resuming could skip or misalign data.
                self._broken = error
                raise
            if piece:
                self._piece, self._offset = piece, 0
                return True
        return False

    def pieces(self):
        """Yield the rest of the output in the pieces it is produced in (no copy)."""
        self._checkClosed()
        if self._offset < len(self._piece):
            yield self._piece[self._offset:]
            self._piece, self._offset = b"", 0
        while self._next_piece():
            self._piece, piece = b"", self._piece
            yield piece

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        self._checkClosed()
        view = memoryview(buffer).cast("B")
        written = 0
        while written < len(view):
            if self._offset >= len(self._piece) and not self._next_piece():
                break
            count = min(len(self._piece) - self._offset, len(view) - written)
            view[written:written + count] = self._piece[self._offset:self._offset + count]
            self._offset += count
            written += count
        return written

    def read(self, size: int | None = -1) -> bytes:
        self._checkClosed()
        if size is None or size < 0:
            return self.readall()
        parts = []
        wanted = size
        while wanted > 0:
            if self._offset >= len(self._piece) and not self._next_piece():
                break
            if self._offset == 0 and len(self._piece) <= wanted:
                part = self._piece  # the whole piece: handed over without a copy
            else:
                part = self._piece[self._offset:self._offset + wanted]
            self._offset += len(part)
            wanted -= len(part)
            parts.append(part)
        return b"".join(parts)

    def readall(self) -> bytes:
        return b"".join(self.pieces())

    def close(self) -> None:
        if not self.closed and self._owns_source:
            self._source.close()
        self._piece = b""
        super().close()


class EncryptingReader(_ChunkReader):
    """Reads as ``prefix`` (the age header and payload nonce) followed by the sealed chunks of ``source``."""

    def __init__(self, source: BinaryIO, payload_key: bytes, prefix: bytes, *, owns_source: bool) -> None:
        super().__init__(source, owns_source=owns_source)
        self._aead = ChaCha20Poly1305(payload_key)
        self._prefix = prefix
        # One byte more than a chunk: the look-ahead byte tells whether this chunk is the final one.
        self._input = bytearray(CHUNK_SIZE + 1)
        self._input_view = memoryview(self._input)
        self._carried = 0
        self._counter = 0

    def _produce(self) -> bytes:
        if self._prefix:
            prefix, self._prefix = self._prefix, b""
            return prefix
        filled = self._carried + read_fully(self._source, self._input_view[self._carried:])
        final = filled <= CHUNK_SIZE
        nonce = chunk_nonce(self._counter, final=final)
        sealed = self._aead.encrypt(nonce, self._input_view[:min(filled, CHUNK_SIZE)], None)
        if final:
            self._finished = True
        else:
            self._input[0] = self._input[CHUNK_SIZE]
            self._carried = 1
        self._counter += 1
        return sealed


class DecryptingReader(_ChunkReader):
    """Reads as the plaintext of the chunks in ``source`` (positioned just after the payload nonce).

    Each chunk's tag is verified before any of its bytes are handed out, and the end of the stream is
    only reported after a valid final chunk followed by end of file.
    """

    def __init__(self, source: BinaryIO, payload_key: bytes, *, owns_source: bool) -> None:
        super().__init__(source, owns_source=owns_source)
        self._aead = ChaCha20Poly1305(payload_key)
        self._input = bytearray(ENCRYPTED_CHUNK_SIZE + 1)
        self._input_view = memoryview(self._input)
        self._carried = 0
        self._counter = 0

    def _produce(self) -> bytes:
        filled = self._carried + read_fully(self._source, self._input_view[self._carried:])
        final = filled <= ENCRYPTED_CHUNK_SIZE
        if final and filled < TAG_SIZE:
            raise DecryptionFailed("age payload is truncated")
        if final and filled == TAG_SIZE and self._counter > 0:
            raise DecryptionFailed("age payload ends with an empty chunk after other chunks")
        try:
            nonce = chunk_nonce(self._counter, final=final)
        except InvalidParameters:
            raise DecryptionFailed("age payload has too many chunks") from None
        try:
            # decrypt() returns plaintext only once the tag is verified (decrypt_into would leave
            # unauthenticated plaintext in its buffer on failure).
            plaintext = self._aead.decrypt(nonce, self._input_view[:min(filled, ENCRYPTED_CHUNK_SIZE)], None)
        except InvalidTag:
            raise DecryptionFailed("age payload failed authentication") from None
        if final:
            self._finished = True
        else:
            self._input[0] = self._input[ENCRYPTED_CHUNK_SIZE]
            self._carried = 1
        self._counter += 1
        return plaintext
