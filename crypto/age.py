"""age v1 files (https://age-encryption.org/v1): X25519 and scrypt recipients, strict parsing, streaming.

Every paper in Consigne is one age file, readable with the stock ``age`` tool. Parsing is strict on
purpose: age files are not malleable only if every encoding has exactly one accepted form (canonical
unpadded base64, LF line ends, 64-column stanza bodies), and the header MAC covers the exact bytes read.
That header grammar lives in ``crypto.age_header``; its public names are re-exported here.

The payload goes through ``crypto.stream`` one 64 KiB chunk at a time, so memory stays bounded. For
sharing, ``read_header`` / ``unwrap_file_key`` / ``wrap_file_key`` give access to the file key without
touching the payload, and ``format_stanza`` / ``parse_stanza`` store a wrapped key as text.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterable, Sequence
from secrets import compare_digest
from typing import BinaryIO, Protocol, runtime_checkable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from crypto import bech32
# Re-exported with the ``X as X`` form (an explicit re-export): callers keep using ``age.Stanza``,
# ``age.read_header``, ``age.FILE_KEY_SIZE``… The underscore helpers are shared, not re-exported.
from crypto.age_header import COLUMNS as COLUMNS, FILE_KEY_SIZE as FILE_KEY_SIZE, MAC_SIZE as MAC_SIZE
from crypto.age_header import MAX_HEADER_SIZE as MAX_HEADER_SIZE, SCRYPT_TYPE as SCRYPT_TYPE
from crypto.age_header import VERSION_LINE as VERSION_LINE, VERSION_PREFIX as VERSION_PREFIX
from crypto.age_header import Header as Header, Stanza as Stanza, format_stanza as format_stanza
from crypto.age_header import parse_stanza as parse_stanza, read_header as read_header
from crypto.age_header import verify_header_mac as verify_header_mac, write_header as write_header
from crypto.age_header import _check_file_key, _check_scrypt_alone, _decode_base64, _encode_base64, _hkdf
from crypto.errors import InvalidParameters, MalformedInput, NoIdentityMatched
from crypto.stream import PAYLOAD_NONCE_SIZE, DecryptingReader, EncryptingReader, read_fully

IDENTITY_HRP = "AGE-SECRET-KEY-"
RECIPIENT_HRP = "age"
X25519_TYPE = "X25519"
X25519_INFO = b"age-encryption.org/v1/X25519"
SCRYPT_LABEL = b"age-encryption.org/v1/scrypt"
SCRYPT_SALT_SIZE = 16
SCRYPT_WORK_FACTOR = 18
# The age default decryption limit, used as a hard cap too: 2**22 * 1 KiB = 4 GiB of scrypt memory.
SCRYPT_MAX_WORK_FACTOR = 22
_ZERO_NONCE = bytes(12)
_DECIMAL = re.compile(r"[1-9][0-9]*")

__all__ = [
    "Header", "Identity", "Recipient", "ScryptIdentity", "ScryptRecipient", "Stanza", "X25519Identity",
    "X25519Recipient", "decrypt", "decrypt_bytes", "decrypting_reader", "encrypt", "encrypt_bytes",
    "encrypting_reader", "format_stanza", "parse_stanza", "read_header", "unwrap_file_key", "unwrap_stanza",
    "verify_header_mac", "wrap_file_key", "write_header",
]


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
