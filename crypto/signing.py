"""Ed25519 signatures for watermarked duplicates: anyone holding one can check it by reference."""

from __future__ import annotations

import base64
import hashlib

from cryptography.exceptions import InvalidSignature as _CryptographyInvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from crypto.errors import InvalidSignature, MalformedInput

ENCODED_PREFIX = "ed25519:"


def key_id(public_bytes: bytes) -> str:
    """A short, stable name for a public key (printed on duplicates, so keys can be rotated)."""
    return hashlib.sha256(public_bytes).hexdigest()[:16]


class VerifyKey:
    def __init__(self, public_bytes: bytes) -> None:
        if len(public_bytes) != 32:
            raise MalformedInput("an Ed25519 public key has 32 bytes")
        self.public_bytes = bytes(public_bytes)
        self._key = Ed25519PublicKey.from_public_bytes(self.public_bytes)

    @property
    def key_id(self) -> str:
        return key_id(self.public_bytes)

    def verify(self, data: bytes, signature: bytes) -> None:
        try:
            self._key.verify(signature, data)
        except _CryptographyInvalidSignature:
            raise InvalidSignature("the signature does not match") from None


class SigningKey:
    def __init__(self, private_bytes: bytes) -> None:
        if len(private_bytes) != 32:
            raise MalformedInput("an Ed25519 private key has 32 bytes")
        self._key = Ed25519PrivateKey.from_private_bytes(private_bytes)

    def __repr__(self) -> str:
        return f"SigningKey(key_id={self.verify_key.key_id})"

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()))

    @classmethod
    def from_encoded(cls, text: str) -> SigningKey:
        if not isinstance(text, str) or not text.startswith(ENCODED_PREFIX):
            raise MalformedInput("a signing key is written ed25519:<base64>")
        try:
            return cls(base64.b64decode(text[len(ENCODED_PREFIX):], validate=True))
        except ValueError:
            raise MalformedInput("a signing key is not valid base64") from None

    def to_private_bytes(self) -> bytes:
        return self._key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                       serialization.NoEncryption())

    def encode(self) -> str:
        return ENCODED_PREFIX + base64.b64encode(self.to_private_bytes()).decode()

    @property
    def verify_key(self) -> VerifyKey:
        return VerifyKey(self._key.public_key().public_bytes(serialization.Encoding.Raw,
                                                             serialization.PublicFormat.Raw))

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)
