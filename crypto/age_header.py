"""The age v1 header grammar (https://age-encryption.org/v1): stanzas, header parsing and writing, MAC.

Parsing is strict on purpose: age files are not malleable only if every encoding has exactly one
accepted form (canonical unpadded base64, LF line ends, 64-column stanza bodies), and the header MAC
covers the exact bytes read.

This module knows nothing of recipients or the payload (``crypto.age`` builds on it and re-exports its
public names). The underscore helpers are shared with ``crypto.age`` only.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO

from cryptography.exceptions import InvalidSignature as _BadMac
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from crypto.errors import DecryptionFailed, InvalidParameters, MalformedInput

VERSION_LINE = b"age-encryption.org/v1\n"
VERSION_PREFIX = b"age-encryption.org/"
FILE_KEY_SIZE = 16
MAC_SIZE = 32
COLUMNS = 64
MAX_HEADER_SIZE = 1 << 20  # bounds memory on hostile input; real headers are a few hundred bytes
SCRYPT_TYPE = "scrypt"  # here, not in crypto.age: the header grammar allows it only as the sole stanza
_BASE64 = re.compile(rb"[A-Za-z0-9+/]*")
_ARGUMENT = re.compile(rb"[\x21-\x7e]+")

__all__ = [
    "Header", "Stanza", "format_stanza", "parse_stanza", "read_header", "verify_header_mac", "write_header",
]


def _encode_base64(data: bytes) -> bytes:
    return base64.b64encode(data).rstrip(b"=")


def _decode_base64(text: bytes | str, what: str, size: int | None = None) -> bytes:
    """Decode canonical unpadded base64, the only form age accepts (so each value has one encoding)."""
    if isinstance(text, str):
        text = text.encode("ascii", "replace")
    if not _BASE64.fullmatch(text) or len(text) % 4 == 1:
        raise MalformedInput(f"{what} is not unpadded base64")
    data = base64.b64decode(text + b"=" * (-len(text) % 4), validate=True)
    if _encode_base64(data) != text:
        raise MalformedInput(f"{what} is not canonical base64")
    if size is not None and len(data) != size:
        raise MalformedInput(f"{what} must be {size} bytes")
    return data


def _hkdf(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(ikm)


def _check_file_key(file_key: bytes) -> bytes:
    if not isinstance(file_key, (bytes, bytearray)) or len(file_key) != FILE_KEY_SIZE:
        raise InvalidParameters(f"an age file key is {FILE_KEY_SIZE} bytes")
    return bytes(file_key)


@dataclass(frozen=True)
class Stanza:
    """One recipient stanza: ``-> type args…`` and a binary body."""

    type: str
    args: tuple[str, ...] = ()
    body: bytes = b""

    def __post_init__(self) -> None:
        object.__setattr__(self, "args", tuple(self.args))
        object.__setattr__(self, "body", bytes(self.body))
        for value in (self.type, *self.args):
            if not isinstance(value, str) or not value.isascii() or not _ARGUMENT.fullmatch(value.encode()):
                raise MalformedInput("stanza arguments are non-empty printable ASCII without spaces")


@dataclass(frozen=True)
class Header:
    """A parsed age header; ``mac_input`` is its exact bytes up to and including ``---``."""

    stanzas: tuple[Stanza, ...]
    mac: bytes
    mac_input: bytes

    def to_bytes(self) -> bytes:
        """Return the header exactly as it appears in the file, final LF included."""
        return self.mac_input + b" " + _encode_base64(self.mac) + b"\n"


def format_stanza(stanza: Stanza) -> bytes:
    """Encode ``stanza`` as in an age header: argument line, then base64 body wrapped at 64 columns."""
    out = bytearray(b"-> " + " ".join((stanza.type, *stanza.args)).encode("ascii") + b"\n")
    encoded = _encode_base64(stanza.body)
    for start in range(0, len(encoded), COLUMNS):
        out += encoded[start:start + COLUMNS] + b"\n"
    if len(encoded) % COLUMNS == 0:
        out += b"\n"  # the body always ends with a line shorter than 64 columns, possibly empty
    return bytes(out)


class _Lines:
    """LF-terminated lines from a stream, never reading past the last line asked for."""

    def __init__(self, stream: BinaryIO, budget: int) -> None:
        self._stream = stream
        self._budget = budget
        self.consumed = bytearray()

    def next(self) -> bytes:
        line = self._stream.readline(self._budget) if self._budget > 0 else b""
        if not line.endswith(b"\n"):
            raise MalformedInput("age header is truncated or too long")
        self._budget -= len(line)
        self.consumed += line
        return line[:-1]


def _parse_stanza(argument_line: bytes, lines: _Lines) -> Stanza:
    fields = argument_line[3:].split(b" ")
    if not all(_ARGUMENT.fullmatch(field) for field in fields):
        raise MalformedInput("malformed stanza argument line")
    parts = []
    while True:
        line = lines.next()
        if len(line) > COLUMNS or not _BASE64.fullmatch(line):
            raise MalformedInput("malformed stanza body line")
        parts.append(line)
        if len(line) < COLUMNS:
            break
    names = [field.decode("ascii") for field in fields]
    return Stanza(names[0], tuple(names[1:]), _decode_base64(b"".join(parts), "stanza body"))


def parse_stanza(data: bytes | str) -> Stanza:
    """Parse exactly one stanza as written by ``format_stanza`` (strict; nothing may follow it)."""
    if isinstance(data, str):
        if not data.isascii():
            raise MalformedInput("a stanza is ASCII text")
        data = data.encode("ascii")
    stream = io.BytesIO(data)
    lines = _Lines(stream, len(data))
    first = lines.next()
    if not first.startswith(b"-> "):
        raise MalformedInput("a stanza starts with '-> '")
    stanza = _parse_stanza(first, lines)
    if stream.tell() != len(data):
        raise MalformedInput("unexpected data after the stanza")
    return stanza


def _check_scrypt_alone(stanzas: Sequence[Stanza], error: type[Exception]) -> None:
    # Passphrase encryption implies the sender knew the passphrase; another stanza would break that.
    if len(stanzas) > 1 and any(stanza.type == SCRYPT_TYPE for stanza in stanzas):
        raise error("an scrypt stanza must be the only stanza of an age header")


def read_header(stream: BinaryIO) -> Header:
    """Read and parse an age v1 header, consuming exactly its bytes (the payload nonce is next).

    Raises MalformedInput for anything outside the v1 grammar. The MAC is not checked here: it needs the
    file key (see ``unwrap_file_key`` and ``verify_header_mac``).
    """
    lines = _Lines(stream, MAX_HEADER_SIZE)
    version = lines.next()
    if version + b"\n" != VERSION_LINE:
        if version.startswith(VERSION_PREFIX):
            raise MalformedInput("unsupported age format version")
        raise MalformedInput("not an age file")
    stanzas = []
    while True:
        start = len(lines.consumed)
        line = lines.next()
        if line.startswith(b"-> "):
            stanzas.append(_parse_stanza(line, lines))
        elif line.startswith(b"--- "):
            mac = _decode_base64(line[4:], "header MAC", MAC_SIZE)
            mac_input = bytes(lines.consumed[:start]) + b"---"
            break
        else:
            raise MalformedInput("malformed age header line")
    if not stanzas:
        raise MalformedInput("age header has no recipient stanza")
    _check_scrypt_alone(stanzas, MalformedInput)
    return Header(tuple(stanzas), mac, mac_input)


def _header_mac(file_key: bytes, mac_input: bytes) -> hmac.HMAC:
    mac = hmac.HMAC(_hkdf(file_key, b"", b"header"), hashes.SHA256())
    mac.update(mac_input)
    return mac


def write_header(stanzas: Sequence[Stanza], file_key: bytes) -> Header:
    """Build the header carrying ``stanzas``, authenticated with ``file_key``."""
    if not stanzas:
        raise InvalidParameters("an age header needs at least one stanza")
    _check_scrypt_alone(stanzas, InvalidParameters)
    mac_input = VERSION_LINE + b"".join(format_stanza(stanza) for stanza in stanzas) + b"---"
    return Header(tuple(stanzas), _header_mac(_check_file_key(file_key), mac_input).finalize(), mac_input)


def verify_header_mac(header: Header, file_key: bytes) -> None:
    """Raise DecryptionFailed unless the header MAC matches ``file_key`` (constant-time comparison)."""
    try:
        _header_mac(_check_file_key(file_key), header.mac_input).verify(header.mac)
    except _BadMac:
        raise DecryptionFailed("age header MAC does not match") from None
