"""age v1 files (https://age-encryption.org/v1): X25519 and scrypt recipients, strict parsing, streaming.

Every paper in Consigne is one age file, readable with the stock ``age`` tool. Parsing is strict on
purpose: age files are not malleable only if every encoding has exactly one accepted form (canonical
unpadded base64, LF line ends, 64-column stanza bodies), and the header MAC covers the exact bytes read.

The payload goes through ``crypto.stream`` one 64 KiB chunk at a time, so memory stays bounded. For
sharing, ``read_header`` / ``unwrap_file_key`` / ``wrap_file_key`` give access to the file key without
touching the payload, and ``format_stanza`` / ``parse_stanza`` store a wrapped key as text.
"""

from __future__ import annotations

import base64
import io
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from secrets import compare_digest
from typing import BinaryIO, Protocol, runtime_checkable

from cryptography.exceptions import InvalidSignature as _BadMac
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from crypto import bech32
from crypto.errors import DecryptionFailed, InvalidParameters, MalformedInput, NoIdentityMatched
from crypto.stream import PAYLOAD_NONCE_SIZE, DecryptingReader, EncryptingReader, read_fully

VERSION_LINE = b"age-encryption.org/v1\n"
VERSION_PREFIX = b"age-encryption.org/"
FILE_KEY_SIZE = 16
MAC_SIZE = 32
COLUMNS = 64
MAX_HEADER_SIZE = 1 << 20  # bounds memory on hostile input; real headers are a few hundred bytes
IDENTITY_HRP = "AGE-SECRET-KEY-"
RECIPIENT_HRP = "age"
X25519_TYPE = "X25519"
X25519_INFO = b"age-encryption.org/v1/X25519"
SCRYPT_TYPE = "scrypt"
SCRYPT_LABEL = b"age-encryption.org/v1/scrypt"
SCRYPT_SALT_SIZE = 16
SCRYPT_WORK_FACTOR = 18
# The age default decryption limit, used as a hard cap too: 2**22 * 1 KiB = 4 GiB of scrypt memory.
SCRYPT_MAX_WORK_FACTOR = 22
_ZERO_NONCE = bytes(12)
_BASE64 = re.compile(rb"[A-Za-z0-9+/]*")
_ARGUMENT = re.compile(rb"[\x21-\x7e]+")
_DECIMAL = re.compile(r"[1-9][0-9]*")

__all__ = [
    "Header", "Identity", "Recipient", "ScryptIdentity", "ScryptRecipient", "Stanza", "X25519Identity",
    "X25519Recipient", "decrypt", "decrypt_bytes", "decrypting_reader", "encrypt", "encrypt_bytes",
    "encrypting_reader", "format_stanza", "parse_stanza", "read_header", "unwrap_file_key", "unwrap_stanza",
    "verify_header_mac", "wrap_file_key", "write_header",
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


@runtime_checkable
class Recipient(Protocol):
    def wrap(self, file_key: bytes) -> Stanza:
        """Return a stanza carrying ``file_key`` for this recipient."""


@runtime_checkable
class Identity(Protocol):
    def unwrap(self, stanzas: Sequence[Stanza]) -> bytes | None:
        """Return the file key, None if no stanza is for this identity; raise on malformed stanzas."""


def _seal_file_key(wrap_key: bytes, file_key: bytes) -> bytes:
    return ChaCha20Poly1305(wrap_key).encrypt(_ZERO_NONCE, _check_file_key(file_key), None)


def _open_file_key(wrap_key: bytes, body: bytes) -> bytes | None:
    try:
        return ChaCha20Poly1305(wrap_key).decrypt(_ZERO_NONCE, body, None)
    except InvalidTag:
        return None


def _x25519_shared(private_key: X25519PrivateKey, public_bytes: bytes) -> bytes:
    # A low-order point gives an all-zero secret that anyone can compute: the spec says abort.
    try:
        shared = private_key.exchange(X25519PublicKey.from_public_bytes(public_bytes))
    except ValueError:
        raise MalformedInput("X25519 point of low order") from None
    if compare_digest(shared, bytes(32)):
        raise MalformedInput("X25519 point of low order")
    return shared


class X25519Recipient:
    """An ``age1…`` public key."""

    def __init__(self, public_bytes: bytes) -> None:
        if not isinstance(public_bytes, (bytes, bytearray)) or len(public_bytes) != 32:
            raise MalformedInput("an X25519 public key is 32 bytes")
        self._public_bytes = bytes(public_bytes)

    @classmethod
    def from_public_bytes(cls, public_bytes: bytes) -> X25519Recipient:
        """Build a recipient from a raw 32-byte X25519 public key."""
        return cls(public_bytes)

    @classmethod
    def from_string(cls, text: str) -> X25519Recipient:
        """Parse ``age1…`` (lowercase only, as age writes it)."""
        hrp, data = bech32.decode(text)
        if hrp != RECIPIENT_HRP:
            raise MalformedInput("not an age X25519 recipient")
        return cls(data)

    @property
    def public_bytes(self) -> bytes:
        """The raw 32-byte X25519 public key."""
        return self._public_bytes

    def to_string(self) -> str:
        """Return the ``age1…`` encoding."""
        return bech32.encode(RECIPIENT_HRP, self._public_bytes)

    def wrap(self, file_key: bytes) -> Stanza:
        """Wrap ``file_key`` with a fresh ephemeral key (one per stanza and file, as the spec demands)."""
        ephemeral = X25519PrivateKey.generate()
        share = ephemeral.public_key().public_bytes_raw()
        shared = _x25519_shared(ephemeral, self._public_bytes)
        wrap_key = _hkdf(shared, share + self._public_bytes, X25519_INFO)
        return Stanza(X25519_TYPE, (_encode_base64(share).decode(),), _seal_file_key(wrap_key, file_key))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, X25519Recipient) and other._public_bytes == self._public_bytes

    def __hash__(self) -> int:
        return hash(self._public_bytes)

    def __str__(self) -> str:
        return self.to_string()

    def __repr__(self) -> str:
        return f"X25519Recipient({self.to_string()!r})"


class X25519Identity:
    """An ``AGE-SECRET-KEY-1…`` private key. Its repr never shows the secret."""

    def __init__(self, private_key: X25519PrivateKey) -> None:
        self._private_key = private_key
        self._recipient = X25519Recipient(private_key.public_key().public_bytes_raw())

    @classmethod
    def generate(cls) -> X25519Identity:
        """Return a new identity from the operating system's CSPRNG."""
        return cls(X25519PrivateKey.generate())

    @classmethod
    def from_string(cls, text: str) -> X25519Identity:
        """Parse ``AGE-SECRET-KEY-1…`` (uppercase only, as age writes it)."""
        hrp, data = bech32.decode(text)
        if hrp != IDENTITY_HRP or len(data) != 32:
            raise MalformedInput("not an age X25519 identity")
        return cls(X25519PrivateKey.from_private_bytes(data))

    @property
    def recipient(self) -> X25519Recipient:
        """The matching ``age1…`` recipient."""
        return self._recipient

    @property
    def public_bytes(self) -> bytes:
        """The raw 32-byte X25519 public key."""
        return self._recipient.public_bytes

    def to_string(self) -> str:
        """Return the ``AGE-SECRET-KEY-1…`` encoding (a secret: never log it)."""
        return bech32.encode(IDENTITY_HRP, self._private_key.private_bytes_raw())

    def unwrap(self, stanzas: Sequence[Stanza]) -> bytes | None:
        """Return the file key from the first X25519 stanza for this key, None if there is none.

        Raises MalformedInput for a malformed X25519 stanza, as the spec demands, even when another
        stanza would have matched.
        """
        for stanza in stanzas:
            if stanza.type != X25519_TYPE:
                continue
            if len(stanza.args) != 1:
                raise MalformedInput("an X25519 stanza has exactly two arguments")
            share = _decode_base64(stanza.args[0], "X25519 ephemeral share", 32)
            if len(stanza.body) != 32:  # checked before decrypting: no partitioning oracle
                raise MalformedInput("an X25519 stanza body is 32 bytes")
            shared = _x25519_shared(self._private_key, share)
            file_key = _open_file_key(_hkdf(shared, share + self.public_bytes, X25519_INFO), stanza.body)
            if file_key is not None:
                return file_key
        return None

    def __repr__(self) -> str:
        return f"X25519Identity(recipient={self._recipient.to_string()!r})"


def _passphrase_bytes(passphrase: str | bytes) -> bytes:
    data = passphrase.encode("utf-8") if isinstance(passphrase, str) else bytes(passphrase)
    if not data:
        raise InvalidParameters("the passphrase is empty")
    return data


def _check_work_factor(work_factor: int) -> int:
    if isinstance(work_factor, bool) or not isinstance(work_factor, int) \
            or not 1 <= work_factor <= SCRYPT_MAX_WORK_FACTOR:
        raise InvalidParameters(f"scrypt work factor must be between 1 and {SCRYPT_MAX_WORK_FACTOR}")
    return work_factor


def _scrypt_key(passphrase: bytes, salt: bytes, work_factor: int) -> bytes:
    return Scrypt(salt=SCRYPT_LABEL + salt, length=32, n=1 << work_factor, r=8, p=1).derive(passphrase)


class ScryptRecipient:
    """Passphrase encryption; its stanza must be the only one in the file."""

    def __init__(self, passphrase: str | bytes, work_factor: int = SCRYPT_WORK_FACTOR) -> None:
        self._passphrase = _passphrase_bytes(passphrase)
        self._work_factor = _check_work_factor(work_factor)

    def wrap(self, file_key: bytes) -> Stanza:
        """Wrap ``file_key`` under the passphrase with a fresh salt (one per stanza and file)."""
        salt = os.urandom(SCRYPT_SALT_SIZE)
        wrap_key = _scrypt_key(self._passphrase, salt, self._work_factor)
        return Stanza(SCRYPT_TYPE, (_encode_base64(salt).decode(), str(self._work_factor)),
                      _seal_file_key(wrap_key, file_key))

    def __repr__(self) -> str:
        return f"ScryptRecipient(work_factor={self._work_factor})"


class ScryptIdentity:
    """Passphrase decryption, refusing work factors above ``max_work_factor`` (a cost attack bound)."""

    def __init__(self, passphrase: str | bytes, max_work_factor: int = SCRYPT_MAX_WORK_FACTOR) -> None:
        self._passphrase = _passphrase_bytes(passphrase)
        self._max_work_factor = _check_work_factor(max_work_factor)

    def unwrap(self, stanzas: Sequence[Stanza]) -> bytes | None:
        """Return the file key from the scrypt stanza, None if absent or the passphrase is wrong."""
        for stanza in stanzas:
            if stanza.type != SCRYPT_TYPE:
                continue
            _check_scrypt_alone(stanzas, MalformedInput)
            if len(stanza.args) != 2:
                raise MalformedInput("an scrypt stanza has exactly three arguments")
            salt = _decode_base64(stanza.args[0], "scrypt salt", SCRYPT_SALT_SIZE)
            text = stanza.args[1]
            if not _DECIMAL.fullmatch(text):
                raise MalformedInput("scrypt work factor is not a decimal number without leading zeros")
            if len(text) > 2 or int(text) > self._max_work_factor:
                raise MalformedInput("scrypt work factor is above the accepted limit")
            if len(stanza.body) != 32:  # checked before the costly scrypt and the decryption
                raise MalformedInput("an scrypt stanza body is 32 bytes")
            return _open_file_key(_scrypt_key(self._passphrase, salt, int(text)), stanza.body)
        return None

    def __repr__(self) -> str:
        return f"ScryptIdentity(max_work_factor={self._max_work_factor})"


def _as_recipients(recipients: Iterable[Recipient | str]) -> list[Recipient]:
    if isinstance(recipients, (str, bytes)):
        raise InvalidParameters("recipients must be a sequence")
    resolved = [X25519Recipient.from_string(r) if isinstance(r, str) else r for r in recipients]
    if not resolved:
        raise InvalidParameters("at least one recipient is required")
    if len(resolved) > 1 and any(isinstance(r, ScryptRecipient) for r in resolved):
        raise InvalidParameters("a passphrase recipient cannot be combined with other recipients")
    return resolved


def _as_identities(identities: Iterable[Identity | str],
                   passphrase: str | bytes | None = None) -> list[Identity]:
    if isinstance(identities, (str, bytes)):
        raise InvalidParameters("identities must be a sequence")
    resolved = [X25519Identity.from_string(i) if isinstance(i, str) else i for i in identities]
    if passphrase is not None:
        resolved.append(ScryptIdentity(passphrase))
    if not resolved:
        raise InvalidParameters("no identity or passphrase given")
    return resolved


def wrap_file_key(file_key: bytes, recipient: Recipient | str) -> Stanza:
    """Wrap an existing file's key for one more recipient (for sharing without re-encrypting)."""
    return _as_recipients([recipient])[0].wrap(_check_file_key(file_key))


def unwrap_stanza(stanza: Stanza, identities: Sequence[Identity | str]) -> bytes:
    """Unwrap a stored stanza (see ``wrap_file_key``); raises NoIdentityMatched.

    A lone stanza carries no MAC: pass the key to ``decrypting_reader(file_key=…)``, which verifies the
    file's header MAC with it before releasing any plaintext.
    """
    for identity in _as_identities(identities):
        file_key = identity.unwrap([stanza])
        if file_key is not None:
            return _check_wrapped_key(file_key)
    raise NoIdentityMatched("no identity matched the stanza")


def _check_wrapped_key(file_key: bytes) -> bytes:
    if len(file_key) != FILE_KEY_SIZE:
        raise MalformedInput("wrapped file key has the wrong length")
    return file_key


def unwrap_file_key(header: Header, identities: Sequence[Identity | str]) -> bytes:
    """Return the file key of ``header`` for the first identity that unwraps a stanza, MAC verified.

    Raises NoIdentityMatched, DecryptionFailed (MAC mismatch) or MalformedInput (malformed stanza).
    """
    for identity in _as_identities(identities):
        file_key = identity.unwrap(header.stanzas)
        if file_key is not None:
            verify_header_mac(header, _check_wrapped_key(file_key))
            return file_key
    raise NoIdentityMatched("no identity matched any recipient stanza")


def _payload_key(file_key: bytes, nonce: bytes) -> bytes:
    return _hkdf(file_key, nonce, b"payload")


def _encrypting(plaintext: BinaryIO, recipients: Sequence[Recipient | str], file_key: bytes | None,
                owns_source: bool) -> EncryptingReader:
    resolved = _as_recipients(recipients)
    file_key = os.urandom(FILE_KEY_SIZE) if file_key is None else _check_file_key(file_key)
    header = write_header([recipient.wrap(file_key) for recipient in resolved], file_key)
    nonce = os.urandom(PAYLOAD_NONCE_SIZE)
    return EncryptingReader(plaintext, _payload_key(file_key, nonce), header.to_bytes() + nonce,
                            owns_source=owns_source)


def _decrypting(ciphertext: BinaryIO, identities: Sequence[Identity | str], passphrase: str | bytes | None,
                file_key: bytes | None, owns_source: bool) -> DecryptingReader:
    if isinstance(identities, (str, bytes)):
        raise InvalidParameters("identities must be a sequence")
    identities = tuple(identities)
    if file_key is not None and (passphrase is not None or identities):
        raise InvalidParameters("give either a file key or identities, not both")
    header = read_header(ciphertext)
    if file_key is None:
        file_key = unwrap_file_key(header, _as_identities(identities, passphrase))
    else:
        file_key = _check_file_key(file_key)
        verify_header_mac(header, file_key)
    nonce = bytearray(PAYLOAD_NONCE_SIZE)
    if read_fully(ciphertext, memoryview(nonce)) != PAYLOAD_NONCE_SIZE:
        raise MalformedInput("age payload nonce is truncated")
    return DecryptingReader(ciphertext, _payload_key(file_key, bytes(nonce)), owns_source=owns_source)


def encrypting_reader(plaintext: BinaryIO, recipients: Sequence[Recipient | str], *,
                      file_key: bytes | None = None) -> EncryptingReader:
    """Return a reader of the age file encrypting ``plaintext`` to ``recipients`` (header first).

    ``plaintext`` is pulled 64 KiB at a time as the reader is read, and closed with it. ``file_key`` is
    for tests only: a real file key must be fresh for every file.
    """
    return _encrypting(plaintext, recipients, file_key, owns_source=True)


def decrypting_reader(ciphertext: BinaryIO, *, identities: Sequence[Identity | str] = (),
                      passphrase: str | bytes | None = None,
                      file_key: bytes | None = None) -> DecryptingReader:
    """Read and authenticate the header now, then return a reader of the plaintext.

    Raises MalformedInput, NoIdentityMatched or DecryptionFailed before returning; reading raises
    DecryptionFailed at the first chunk that fails, before releasing any of its bytes, and reports end
    of file only after a valid final chunk. ``file_key`` (unwrapped by a share grantee) replaces
    identities; the header MAC is still verified with it. ``ciphertext`` is closed with the reader.
    """
    return _decrypting(ciphertext, identities, passphrase, file_key, owns_source=True)


def _copy(reader: EncryptingReader | DecryptingReader, dst: BinaryIO) -> int:
    written = 0
    for piece in reader.pieces():
        view = memoryview(piece)
        while view:
            count = dst.write(view)
            # None (a writer without a return value) is taken as "all written", like shutil does.
            view = view[len(view) if count is None else count:]
        written += len(piece)
    return written


def encrypt(src: BinaryIO, dst: BinaryIO, recipients: Sequence[Recipient | str]) -> int:
    """Encrypt ``src`` into ``dst`` as an age file; return the number of bytes written."""
    return _copy(_encrypting(src, recipients, None, owns_source=False), dst)


def decrypt(src: BinaryIO, dst: BinaryIO, *, identities: Sequence[Identity | str] = (),
            passphrase: str | bytes | None = None, file_key: bytes | None = None) -> int:
    """Decrypt the age file ``src`` into ``dst``; return the number of plaintext bytes written.

    On DecryptionFailed ``dst`` holds an authenticated but incomplete prefix: discard it.
    """
    return _copy(_decrypting(src, identities, passphrase, file_key, owns_source=False), dst)


def encrypt_bytes(data: bytes, recipients: Sequence[Recipient | str]) -> bytes:
    """Encrypt ``data`` to ``recipients`` and return the age file."""
    return _encrypting(io.BytesIO(data), recipients, None, owns_source=True).readall()


def decrypt_bytes(data: bytes, *, identities: Sequence[Identity | str] = (),
                  passphrase: str | bytes | None = None, file_key: bytes | None = None) -> bytes:
    """Decrypt the age file ``data`` and return its plaintext."""
    return _decrypting(io.BytesIO(data), identities, passphrase, file_key, owns_source=True).readall()
