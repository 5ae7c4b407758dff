"""Sealing a secret (an account's X25519 key) under a password, a recovery code or a raw key.

Construction for human secrets:
    KEK = HKDF-SHA256(ikm=Argon2id(secret, salt, params), salt=pepper, info="consigne seal v1")
    blob = AES-256-GCM(KEK, nonce, plaintext, aad=header ‖ context)

Why the pepper: a stolen database alone then gives nothing to guess against; the attacker also needs
the environment. Why the header in the AAD: the KDF parameters and pepper version are stored in clear
in the blob (so costs can be raised later), and binding them means a tampered header cannot downgrade
anything without failing authentication. ``context`` binds the blob to one owner and purpose.
"""

from __future__ import annotations

import base64
import os
import struct
import unicodedata
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from crypto.errors import DecryptionFailed, MalformedInput

FORMAT_SECRET = 1
FORMAT_KEY = 2
SALT_BYTES = 16
NONCE_BYTES = 12
KEY_BYTES = 32
MIN_PEPPER_BYTES = 32
# Bounds enforced when reading a blob, so a tampered blob cannot make us allocate 100 GiB.
MAX_MEMORY_KIB = 1024 * 1024
MAX_ITERATIONS = 20
MAX_LANES = 16
_SECRET_HEADER = struct.Struct(">BHIHB")  # format, pepper version, memory KiB, iterations, lanes
_GENERIC_FAILURE = "the sealed secret could not be opened"


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost: memory in KiB, passes, lanes."""

    memory_cost: int
    iterations: int
    lanes: int

    def __post_init__(self) -> None:
        if not (8 * self.lanes <= self.memory_cost <= MAX_MEMORY_KIB and 1 <= self.iterations <= MAX_ITERATIONS
                and 1 <= self.lanes <= MAX_LANES):
            raise MalformedInput("Argon2id parameters out of bounds")


# OWASP's first recommended Argon2id setting is 19 MiB × 2; we spend more memory since the server is
# the only place it runs: 64 MiB, 3 passes, 1 lane (≈0.1–0.3 s on a small server).
DEFAULT_KDF = KdfParams(memory_cost=64 * 1024, iterations=3, lanes=1)
FAST_KDF_FOR_TESTS = KdfParams(memory_cost=8, iterations=1, lanes=1)


@dataclass(frozen=True)
class Pepper:
    version: int
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not 0 < self.version < 2**16 or len(self.secret) < MIN_PEPPER_BYTES:
            raise MalformedInput("a pepper has a version 1-65535 and at least 32 bytes")


@dataclass(frozen=True)
class PepperRing:
    """The current pepper (used to seal) and older ones (still accepted to unseal)."""

    current: Pepper
    older: tuple[Pepper, ...] = ()

    @classmethod
    def parse(cls, text: str) -> PepperRing:
        """Parse ``"2:base64,1:base64"``: the first entry is the current pepper."""
        peppers = []
        for item in (text or "").split(","):
            version, separator, encoded = item.strip().partition(":")
            if not separator or not version.isdigit():
                raise MalformedInput("peppers are written version:base64, separated by commas")
            try:
                secret = base64.b64decode(encoded, validate=True)
            except ValueError:
                raise MalformedInput("a pepper is not valid base64") from None
            peppers.append(Pepper(int(version), secret))
        if len({p.version for p in peppers}) != len(peppers):
            raise MalformedInput("two peppers share a version")
        return cls(current=peppers[0], older=tuple(peppers[1:]))

    def get(self, version: int) -> Pepper | None:
        for pepper in (self.current, *self.older):
            if pepper.version == version:
                return pepper
        return None


def seal_with_secret(plaintext: bytes, *, secret: str | bytes, pepper: Pepper, context: bytes,
                     params: KdfParams = DEFAULT_KDF) -> bytes:
    salt = os.urandom(SALT_BYTES)
    header = _SECRET_HEADER.pack(FORMAT_SECRET, pepper.version, params.memory_cost, params.iterations, params.lanes)
    key = _derive(secret, salt, pepper, params)
    nonce = os.urandom(NONCE_BYTES)
    return header + salt + nonce + AESGCM(key).encrypt(nonce, plaintext, header + salt + context)


def unseal_with_secret(blob: bytes, *, secret: str | bytes, peppers: PepperRing, context: bytes) -> bytes:
    """Raises DecryptionFailed for any failure (wrong secret, pepper or context, tampering)."""
    try:
        pepper_version, params = read_sealed_params(blob)
    except MalformedInput:
        raise DecryptionFailed(_GENERIC_FAILURE) from None
    pepper = peppers.get(pepper_version)
    start = _SECRET_HEADER.size
    if pepper is None or len(blob) < start + SALT_BYTES + NONCE_BYTES + 16:
        raise DecryptionFailed(_GENERIC_FAILURE)
    salt = blob[start:start + SALT_BYTES]
    nonce = blob[start + SALT_BYTES:start + SALT_BYTES + NONCE_BYTES]
    key = _derive(secret, salt, pepper, params)
    try:
        return AESGCM(key).decrypt(nonce, blob[start + SALT_BYTES + NONCE_BYTES:], blob[:start + SALT_BYTES] + context)
    except InvalidTag:
        raise DecryptionFailed(_GENERIC_FAILURE) from None


def read_sealed_params(blob: bytes) -> tuple[int, KdfParams]:
    """The pepper version and KDF parameters a secret-sealed blob was made with."""
    if len(blob) < _SECRET_HEADER.size:
        raise MalformedInput("sealed blob too short")
    form, pepper_version, memory, iterations, lanes = _SECRET_HEADER.unpack_from(blob)
    if form != FORMAT_SECRET:
        raise MalformedInput("not a secret-sealed blob")
    return pepper_version, KdfParams(memory, iterations, lanes)


def needs_reseal(blob: bytes, pepper: Pepper, params: KdfParams) -> bool:
    """True when the blob was made with another pepper or other KDF costs than the current ones."""
    try:
        return read_sealed_params(blob) != (pepper.version, params)
    except MalformedInput:
        return True


def seal_with_key(plaintext: bytes, *, key: bytes, context: bytes) -> bytes:
    """AES-256-GCM under a random 32-byte key (no KDF: the key is already uniformly random)."""
    if len(key) != KEY_BYTES:
        raise MalformedInput("a sealing key has 32 bytes")
    nonce = os.urandom(NONCE_BYTES)
    header = bytes([FORMAT_KEY])
    return header + nonce + AESGCM(key).encrypt(nonce, plaintext, header + context)


def unseal_with_key(blob: bytes, *, key: bytes, context: bytes) -> bytes:
    if len(key) != KEY_BYTES or len(blob) < 1 + NONCE_BYTES + 16 or blob[0] != FORMAT_KEY:
        raise DecryptionFailed(_GENERIC_FAILURE)
    try:
        return AESGCM(key).decrypt(blob[1:1 + NONCE_BYTES], blob[1 + NONCE_BYTES:], blob[:1] + context)
    except InvalidTag:
        raise DecryptionFailed(_GENERIC_FAILURE) from None


def _derive(secret: str | bytes, salt: bytes, pepper: Pepper, params: KdfParams) -> bytes:
    # NFC so that "é" typed as one code point on a phone and as e + accent on a PC is the same password.
    material = unicodedata.normalize("NFC", secret).encode() if isinstance(secret, str) else bytes(secret)
    stretched = Argon2id(salt=salt, length=KEY_BYTES, iterations=params.iterations, lanes=params.lanes,
                         memory_cost=params.memory_cost).derive(material or b"\x00")
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=pepper.secret,
                info=b"consigne seal v1").derive(stretched)
