"""Ed25519 signatures for watermarked duplicates: anyone holding one can check it against our key.

Keys are named by a key id (the first 16 hex digits of SHA-256 of the public key, reproducible with
``sha256sum``), printed on duplicates so that keys can be rotated and old duplicates still checked.

Encoded forms, for the environment and for publishing::

    ed25519:<key id>:<base64 private key>        (SigningKey.encode; the id catches a wrong paste)
    ed25519-public:<key id>:<base64 public key>  (VerifyKey.encode)
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography.exceptions import InvalidSignature as _CryptographyInvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from crypto.errors import InvalidSignature, MalformedInput

KEY_BYTES = 32
SIGNATURE_BYTES = 64
KEY_ID_HEX_DIGITS = 16
PRIVATE_PREFIX = "ed25519"
PUBLIC_PREFIX = "ed25519-public"


def compute_key_id(public_bytes: bytes) -> str:
    """A short, stable name for a public key: 16 hex digits (64 bits) of its SHA-256."""
    return hashlib.sha256(public_bytes).hexdigest()[:KEY_ID_HEX_DIGITS]


class VerifyKey:
    """An Ed25519 public key: checks signatures."""

    def __init__(self, public_bytes: bytes) -> None:
        if not isinstance(public_bytes, (bytes, bytearray)) or len(public_bytes) != KEY_BYTES:
            raise MalformedInput("an Ed25519 public key has 32 bytes")
        self.public_bytes = bytes(public_bytes)
        try:
            self._key = Ed25519PublicKey.from_public_bytes(self.public_bytes)
        except ValueError:
            raise MalformedInput("not an Ed25519 public key") from None

    @classmethod
    def from_public_bytes(cls, public_bytes: bytes) -> VerifyKey:
        return cls(public_bytes)

    @classmethod
    def from_encoded(cls, text: str) -> VerifyKey:
        """Read ``ed25519-public:<key id>:<base64>``; the key id must match the key."""
        return cls(_decode(text, PUBLIC_PREFIX, require_key_id=True, id_of=lambda raw: raw))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VerifyKey) and other.public_bytes == self.public_bytes

    def __hash__(self) -> int:
        return hash(self.public_bytes)

    def __repr__(self) -> str:
        return f"VerifyKey(key_id={self.key_id})"

    @property
    def key_id(self) -> str:
        return compute_key_id(self.public_bytes)

    def encode(self) -> str:
        return f"{PUBLIC_PREFIX}:{self.key_id}:{base64.b64encode(self.public_bytes).decode()}"

    def verify(self, data: bytes, signature: bytes) -> None:
        """Return if ``signature`` is this key's over ``data``; raise InvalidSignature otherwise."""
        if not isinstance(signature, (bytes, bytearray)) or len(signature) != SIGNATURE_BYTES:
            raise InvalidSignature("the signature does not match")
        try:
            self._key.verify(bytes(signature), bytes(data))
        except _CryptographyInvalidSignature:
            raise InvalidSignature("the signature does not match") from None


class SigningKey:
    """An Ed25519 private key (the 32-byte seed of RFC 8032): signs duplicates."""

    def __init__(self, private_bytes: bytes) -> None:
        if not isinstance(private_bytes, (bytes, bytearray)) or len(private_bytes) != KEY_BYTES:
            raise MalformedInput("an Ed25519 private key has 32 bytes")
        self._key = Ed25519PrivateKey.from_private_bytes(bytes(private_bytes))
        self.verify_key = VerifyKey(self._key.public_key().public_bytes(serialization.Encoding.Raw,
                                                                        serialization.PublicFormat.Raw))

    def __repr__(self) -> str:
        # Never the key itself: settings objects and tracebacks get printed.
        return f"SigningKey(key_id={self.key_id})"

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()))

    @classmethod
    def from_private_bytes(cls, private_bytes: bytes) -> SigningKey:
        return cls(private_bytes)

    @classmethod
    def from_encoded(cls, text: str) -> SigningKey:
        """Read ``ed25519:<key id>:<base64>``; the key id must match the key.

        ``ed25519:<base64>`` without a key id (the first form this project wrote) is still read.
        """
        return cls(_decode(text, PRIVATE_PREFIX, require_key_id=False, id_of=_public_of_private))

    @property
    def key_id(self) -> str:
        return self.verify_key.key_id

    def to_private_bytes(self) -> bytes:
        return self._key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                       serialization.NoEncryption())

    def encode(self) -> str:
        return f"{PRIVATE_PREFIX}:{self.key_id}:{base64.b64encode(self.to_private_bytes()).decode()}"

    def sign(self, data: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``data`` (deterministic, RFC 8032)."""
        return self._key.sign(bytes(data))


def _public_of_private(private_bytes: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(private_bytes).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _decode(text: str, prefix: str, *, require_key_id: bool, id_of) -> bytes:
    """The raw key in ``prefix:<key id>:<base64>``, with the key id checked against the key."""
    form = f"{prefix}:<key id>:<base64>"
    if not isinstance(text, str):
        raise MalformedInput(f"a key is written {form}")
    parts = text.strip().split(":")
    if parts[0] != prefix or len(parts) not in ((2, 3) if not require_key_id else (3,)):
        raise MalformedInput(f"a key is written {form}")
    try:
        raw = base64.b64decode(parts[-1], validate=True)
    except (binascii.Error, ValueError):
        raise MalformedInput("the key is not valid base64") from None
    if len(raw) != KEY_BYTES:
        raise MalformedInput("an Ed25519 key has 32 bytes")
    # The key id is public (a hash of the public key): a plain comparison leaks nothing.
    if len(parts) == 3 and parts[1] != compute_key_id(id_of(raw)):
        raise MalformedInput("the key id does not match the key (a wrong or damaged copy?)")
    return raw



# --- a ring of keys: the newest signs, the older ones still verify ---------------------------------------
RING_SEPARATOR = ","


class SigningRing:
    """The instance's signing keys, newest first: ``current`` signs, every key's public half is published.

    Written in the environment (``CONSIGNE_SIGNING_KEYS``) as comma-separated entries, newest first, each
    ``<YYYY-MM-DD>=ed25519:<key id>:<base64>`` (the date it was made, published with the public key so a
    verifier can tell which key was in use when) or plain ``ed25519:<key id>:<base64>`` (no date known).
    Rotating: put a new entry in front; keep the old ones for as long as their duplicates may be checked.
    """

    def __init__(self, entries: list[tuple[SigningKey, str | None]]) -> None:
        if not entries:
            raise MalformedInput("a signing key ring needs at least one key")
        ids = [key.key_id for key, _ in entries]
        if len(set(ids)) != len(ids):
            raise MalformedInput("the same signing key appears twice")
        self.entries = tuple(entries)

    def __repr__(self) -> str:
        return f"SigningRing(key_ids={[key.key_id for key, _ in self.entries]})"

    @property
    def current(self) -> SigningKey:
        return self.entries[0][0]

    def public_keys(self) -> list[tuple[VerifyKey, str | None]]:
        """Every public key with the date it was made (ISO ``YYYY-MM-DD`` or None), newest first."""
        return [(key.verify_key, created) for key, created in self.entries]

    @classmethod
    def parse(cls, text: str) -> SigningRing:
        if not isinstance(text, str) or not text.strip():
            raise MalformedInput("no signing key given")
        entries = []
        for raw in text.split(RING_SEPARATOR):
            raw = raw.strip()
            created = None
            # The date is whatever comes before "=" when no ":" precedes it (base64 ends with "=" padding).
            head, separator, rest = raw.partition("=")
            if separator and ":" not in head:
                created, raw = head.strip(), rest.strip()
                if not _is_iso_date(created):
                    raise MalformedInput("a signing key's date is written YYYY-MM-DD")
            entries.append((SigningKey.from_encoded(raw), created))
        return cls(entries)

    def encode(self) -> str:
        return RING_SEPARATOR.join(f"{created}={key.encode()}" if created else key.encode()
                                   for key, created in self.entries)


def _is_iso_date(text: str) -> bool:
    from datetime import date

    try:
        return len(text) == 10 and date.fromisoformat(text).isoformat() == text
    except ValueError:
        return False
