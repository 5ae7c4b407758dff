"""Sealing a secret (an account's X25519 key) under a password, a recovery code or a raw key.

Construction for human secrets (``seal_with_secret``)::

    stretched = Argon2id(secret, salt, memory_cost, iterations, lanes)        # slow: costs a guesser
    KEK       = HKDF-SHA256(ikm=stretched, salt=pepper, info=LABEL ‖ context) # needs the environment
    blob      = header ‖ salt ‖ nonce ‖ AES-256-GCM(KEK, nonce, plaintext, aad=header ‖ salt ‖ context)
    header    = format (1 byte) ‖ pepper version (2) ‖ memory KiB (4) ‖ iterations (2) ‖ lanes (1)

Why a pepper: a stolen database alone gives nothing to guess against; the attacker also needs the
server's environment. Why the header and salt in the AAD: the costs and pepper version are stored in
clear (so they can be raised or rotated later, see ``needs_reseal``), and authenticating them means an
edited header cannot downgrade anything without failing. Why ``context`` (in the AAD and the HKDF
info): it names the owner and purpose (``b"consigne:account:<id>:identity:password"``), so a blob
copied to another row or used for another purpose does not open.

The AAD is canonical: a fixed-size header, a fixed-size salt, then the context to the end, so no two
different (header, salt, context) triples give the same bytes.
"""

from __future__ import annotations

import base64
import binascii
import os
import struct
import unicodedata
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from crypto.errors import DecryptionFailed, InvalidParameters, MalformedInput

FORMAT_SECRET = 1
FORMAT_KEY = 2
FORMAT_KEY_RING = 3
SALT_BYTES = 16
NONCE_BYTES = 12
TAG_BYTES = 16
KEY_BYTES = 32
MIN_PEPPER_BYTES = 32
MAX_PEPPER_BYTES = 1024
MAX_PEPPER_VERSION = 2**16 - 1
# Ceilings on the costs read from a blob: a tampered blob must not make the server allocate 100 GiB or
# spin for minutes. 256 MiB is four times DEFAULT_KDF, leaving room to raise the cost later.
MAX_MEMORY_KIB = 256 * 1024
MAX_ITERATIONS = 16
MAX_LANES = 8
_SECRET_HEADER = struct.Struct(">BHIHB")  # format, pepper version, memory KiB, iterations, lanes
_KEY_HEADER = struct.Struct(">B")  # format
_RING_HEADER = struct.Struct(">BH")  # format, key version
_HKDF_LABEL = b"consigne/seal/v1/kek\x00"
_GENERIC_FAILURE = "the sealed secret could not be opened"


@dataclass(frozen=True)
class KdfParams:
    """Argon2id costs: memory in KiB, passes over memory, lanes (parallelism)."""

    memory_cost: int
    iterations: int
    lanes: int

    def __post_init__(self) -> None:
        values = (self.memory_cost, self.iterations, self.lanes)
        if not all(isinstance(value, int) and not isinstance(value, bool) for value in values):
            raise InvalidParameters("Argon2id parameters are integers")
        # Argon2 itself needs at least 8 KiB per lane.
        if not (1 <= self.lanes <= MAX_LANES and 8 * self.lanes <= self.memory_cost <= MAX_MEMORY_KIB
                and 1 <= self.iterations <= MAX_ITERATIONS):
            raise InvalidParameters("Argon2id parameters out of bounds")


# OWASP's password storage cheat sheet lists Argon2id settings from m=19 MiB, t=2 up to m=46 MiB, t=1,
# all with one lane; RFC 9106 suggests m=64 MiB, t=3 when 2 GiB is too much. We take the RFC's memory
# and passes with OWASP's single lane: above every OWASP line, about 0.2 s on one core of a small
# server, and one sign-in keeps to one of its two cores.
DEFAULT_KDF = KdfParams(memory_cost=64 * 1024, iterations=3, lanes=1)
# The smallest Argon2id allows: for unit tests only (vault/settings.py refuses it in production).
FAST_KDF_FOR_TESTS = KdfParams(memory_cost=8, iterations=1, lanes=1)


@dataclass(frozen=True)
class Pepper:
    """A server-side secret mixed into every password-derived key; ``version`` names it in blobs."""

    version: int
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        _check_version(self.version, "pepper")
        if not isinstance(self.secret, bytes):
            raise MalformedInput("a pepper secret is bytes")
        if not MIN_PEPPER_BYTES <= len(self.secret) <= MAX_PEPPER_BYTES:
            raise MalformedInput(f"a pepper has {MIN_PEPPER_BYTES} to {MAX_PEPPER_BYTES} bytes, "
                                 f"pepper {self.version} has {len(self.secret)}")


@dataclass(frozen=True)
class PepperRing:
    """The current pepper (used to seal) and older ones (still accepted to unseal, until re-sealed)."""

    current: Pepper
    older: tuple[Pepper, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.current, Pepper) or not all(isinstance(p, Pepper) for p in self.older):
            raise MalformedInput("a pepper ring holds peppers")
        versions = [pepper.version for pepper in self.peppers]
        if len(set(versions)) != len(versions):
            raise MalformedInput("two peppers share a version")

    @property
    def peppers(self) -> tuple[Pepper, ...]:
        return (self.current, *self.older)

    @classmethod
    def parse(cls, text: str) -> PepperRing:
        """Parse ``"2:<base64>,1:<base64>"`` (the environment's form); the first entry is current.

        Raises MalformedInput naming the entry at fault, never its key.
        """
        peppers = [Pepper(version, secret) for version, secret in parse_versioned_secrets(text, "pepper")]
        return cls(current=peppers[0], older=tuple(peppers[1:]))

    def get(self, version: int) -> Pepper | None:
        """The pepper with this version, or None."""
        for pepper in self.peppers:
            if pepper.version == version:
                return pepper
        return None


def parse_versioned_secrets(text: str, what: str) -> list[tuple[int, bytes]]:
    """``"2:<base64>,1:<base64>"`` as [(2, key), (1, key)]; MalformedInput names the entry, never the key."""
    if not isinstance(text, str) or not text.strip():
        raise MalformedInput(f"no {what} given: expected version:base64[,version:base64...]")
    entries = []
    for position, item in enumerate(text.split(","), start=1):
        version_text, separator, encoded = item.strip().partition(":")
        if not separator:
            raise MalformedInput(f"{what} entry {position} is not written version:base64")
        if not (version_text.isascii() and version_text.isdigit()) or not (
                1 <= int(version_text) <= MAX_PEPPER_VERSION):
            raise MalformedInput(f"{what} entry {position}: the version must be a number from 1 to "
                                 f"{MAX_PEPPER_VERSION}")
        try:
            secret = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise MalformedInput(f"{what} entry {position}: the key is not valid base64") from None
        entries.append((int(version_text), secret))
    return entries


@dataclass(frozen=True)
class VersionedKey:
    """A random 32-byte key with the version that names it in what it sealed."""

    version: int
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        _check_version(self.version, "key")
        if not isinstance(self.secret, bytes) or len(self.secret) != KEY_BYTES:
            raise MalformedInput(f"key {self.version} must have {KEY_BYTES} bytes")


@dataclass(frozen=True)
class KeyRing:
    """Like PepperRing, for random keys: the current one seals, older ones still open, until rotated out.

    Used for the application key (TOTP secrets, recovery-code look-ups, device tokens): rotating it
    adds a version in front, and what was sealed under an older version moves when it is next used.
    """

    current: VersionedKey
    older: tuple[VersionedKey, ...] = ()

    def __post_init__(self) -> None:
        versions = [key.version for key in self.keys]
        if len(set(versions)) != len(versions):
            raise MalformedInput("two keys share a version")

    @property
    def keys(self) -> tuple[VersionedKey, ...]:
        return (self.current, *self.older)

    @classmethod
    def parse(cls, text: str, what: str = "key") -> KeyRing:
        keys = [VersionedKey(version, secret) for version, secret in parse_versioned_secrets(text, what)]
        return cls(current=keys[0], older=tuple(keys[1:]))

    def get(self, version: int) -> VersionedKey | None:
        for key in self.keys:
            if key.version == version:
                return key
        return None

    def derive(self, transform) -> KeyRing:
        """The same versions, each secret passed through ``transform`` (one subkey per use)."""
        return KeyRing(current=VersionedKey(self.current.version, transform(self.current.secret)),
                       older=tuple(VersionedKey(key.version, transform(key.secret)) for key in self.older))


def seal_with_key_ring(plaintext: bytes, *, ring: KeyRing, context: bytes) -> bytes:
    """``seal_with_key`` under the ring's current key, its version written (and authenticated) in front."""
    _check_context(context)
    _check_plaintext(plaintext)
    header = _RING_HEADER.pack(FORMAT_KEY_RING, ring.current.version)
    nonce = os.urandom(NONCE_BYTES)
    return header + nonce + AESGCM(ring.current.secret).encrypt(nonce, bytes(plaintext), header + context)


def unseal_with_key_ring(blob: bytes, *, ring: KeyRing, context: bytes) -> bytes:
    """The plaintext of a ``seal_with_key_ring`` blob, under whichever version sealed it."""
    _check_context(context)
    version = key_ring_version(blob)
    key = ring.get(version) if version is not None else None
    body = _RING_HEADER.size + NONCE_BYTES
    if key is None or len(blob) < body + TAG_BYTES:
        raise DecryptionFailed(_GENERIC_FAILURE)
    blob = bytes(blob)
    try:
        return AESGCM(key.secret).decrypt(blob[_RING_HEADER.size:body], blob[body:], blob[:_RING_HEADER.size] + context)
    except InvalidTag:
        raise DecryptionFailed(_GENERIC_FAILURE) from None


def key_ring_version(blob: bytes) -> int | None:
    """The key version written in a ``seal_with_key_ring`` blob, or None if it is not one."""
    if not isinstance(blob, (bytes, bytearray, memoryview)) or len(blob) < _RING_HEADER.size:
        return None
    form, version = _RING_HEADER.unpack_from(blob)
    return version if form == FORMAT_KEY_RING else None


def seal_with_secret(plaintext: bytes, *, secret: str | bytes, pepper: Pepper, context: bytes,
                     params: KdfParams = DEFAULT_KDF) -> bytes:
    """Encrypt ``plaintext`` under a key derived from ``secret`` (a password or recovery code).

    The blob records the pepper version and KDF costs, so ``unseal_with_secret`` needs only the
    secret, the pepper ring and the same ``context``.
    """
    _check_context(context)
    _check_plaintext(plaintext)
    if not isinstance(pepper, Pepper) or not isinstance(params, KdfParams):
        raise InvalidParameters("seal_with_secret needs a Pepper and KdfParams")
    material = _secret_bytes(secret)
    if not material:
        raise InvalidParameters("the secret must be non-empty, valid Unicode text or bytes")
    header = _SECRET_HEADER.pack(FORMAT_SECRET, pepper.version, params.memory_cost, params.iterations,
                                 params.lanes)
    salt = os.urandom(SALT_BYTES)
    nonce = os.urandom(NONCE_BYTES)
    key = _derive_kek(material, salt, pepper, params, context)
    return header + salt + nonce + AESGCM(key).encrypt(nonce, bytes(plaintext), header + salt + context)


def unseal_with_secret(blob: bytes, *, secret: str | bytes, peppers: PepperRing, context: bytes) -> bytes:
    """The plaintext of a ``seal_with_secret`` blob.

    Raises DecryptionFailed, always with the same message, for a wrong secret, pepper or context, an
    unknown pepper version, out-of-bounds costs, and a tampered or truncated blob.
    """
    _check_context(context)
    if not isinstance(peppers, PepperRing):
        raise InvalidParameters("unseal_with_secret needs a PepperRing")
    try:
        pepper_version, params = read_sealed_params(blob)
    except MalformedInput:
        raise DecryptionFailed(_GENERIC_FAILURE) from None
    blob = bytes(blob)
    pepper = peppers.get(pepper_version)
    material = _secret_bytes(secret)
    body = _SECRET_HEADER.size + SALT_BYTES + NONCE_BYTES
    if pepper is None or material is None or len(blob) < body + TAG_BYTES:
        raise DecryptionFailed(_GENERIC_FAILURE)
    salt = blob[_SECRET_HEADER.size:_SECRET_HEADER.size + SALT_BYTES]
    nonce = blob[_SECRET_HEADER.size + SALT_BYTES:body]
    key = _derive_kek(material, salt, pepper, params, context)
    try:
        return AESGCM(key).decrypt(nonce, blob[body:], blob[:_SECRET_HEADER.size + SALT_BYTES] + context)
    except InvalidTag:
        raise DecryptionFailed(_GENERIC_FAILURE) from None


def read_sealed_params(blob: bytes) -> tuple[int, KdfParams]:
    """The pepper version and KDF costs written in a ``seal_with_secret`` blob's header.

    Raises MalformedInput for anything that is not such a blob or whose costs are out of bounds. The
    header is not authenticated until the blob is opened: use this to decide on re-sealing only after
    a successful ``unseal_with_secret``.
    """
    if not isinstance(blob, (bytes, bytearray, memoryview)) or len(blob) < _SECRET_HEADER.size:
        raise MalformedInput("not a sealed blob")
    form, pepper_version, memory_cost, iterations, lanes = _SECRET_HEADER.unpack_from(blob)
    if form != FORMAT_SECRET:
        raise MalformedInput("not a secret-sealed blob")
    try:
        return pepper_version, KdfParams(memory_cost, iterations, lanes)
    except InvalidParameters:
        raise MalformedInput("the sealed blob's KDF parameters are out of bounds") from None


def needs_reseal(blob: bytes, pepper: Pepper, params: KdfParams) -> bool:
    """True when ``blob`` was sealed with another pepper or other KDF costs than the current ones.

    Callers re-seal right after a successful unseal, while they hold the secret, so that raising the
    costs or rotating the pepper reaches every account as its owner signs in.
    """
    try:
        return read_sealed_params(blob) != (pepper.version, params)
    except MalformedInput:
        return True


def seal_with_key(plaintext: bytes, *, key: bytes, context: bytes) -> bytes:
    """AES-256-GCM under a random 32-byte key, with ``context`` as AAD.

    No KDF: the key is already uniformly random (a session key, the application key). The 96-bit
    nonce is random, which is safe for far more seals than one key will ever make here (< 2**32).
    """
    _check_context(context)
    _check_plaintext(plaintext)
    if not isinstance(key, (bytes, bytearray)) or len(key) != KEY_BYTES:
        raise InvalidParameters("a sealing key has 32 bytes")
    header = _KEY_HEADER.pack(FORMAT_KEY)
    nonce = os.urandom(NONCE_BYTES)
    return header + nonce + AESGCM(bytes(key)).encrypt(nonce, bytes(plaintext), header + context)


def unseal_with_key(blob: bytes, *, key: bytes, context: bytes) -> bytes:
    """The plaintext of a ``seal_with_key`` blob; DecryptionFailed (generic) on any failure."""
    _check_context(context)
    body = _KEY_HEADER.size + NONCE_BYTES
    if (not isinstance(key, (bytes, bytearray)) or len(key) != KEY_BYTES
            or not isinstance(blob, (bytes, bytearray, memoryview)) or len(blob) < body + TAG_BYTES
            or blob[0] != FORMAT_KEY):
        raise DecryptionFailed(_GENERIC_FAILURE)
    blob = bytes(blob)
    try:
        return AESGCM(bytes(key)).decrypt(blob[_KEY_HEADER.size:body], blob[body:],
                                          blob[:_KEY_HEADER.size] + context)
    except InvalidTag:
        raise DecryptionFailed(_GENERIC_FAILURE) from None


def _check_version(version: object, what: str) -> None:
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= MAX_PEPPER_VERSION:
        raise MalformedInput(f"a {what} version is a number from 1 to {MAX_PEPPER_VERSION}")


def _check_context(context: bytes) -> None:
    # An empty context would bind nothing: every blob must name its owner and purpose.
    if not isinstance(context, bytes) or not context:
        raise InvalidParameters("a seal needs a non-empty bytes context (owner and purpose)")


def _check_plaintext(plaintext: bytes) -> None:
    if not isinstance(plaintext, (bytes, bytearray, memoryview)):
        raise InvalidParameters("only bytes are sealed")


def _secret_bytes(secret: str | bytes) -> bytes | None:
    """The bytes a secret stands for, or None if it is not valid text or bytes."""
    if isinstance(secret, str):
        # NFC: the same visible password can arrive as different code points ("é" as one code point
        # from one phone keyboard, as "e" + combining accent from another device or a copy-paste).
        # Without normalising, the person would be locked out of their own documents. NFC, not NFKC:
        # it only merges sequences that are the same character, it never folds distinct ones.
        try:
            return unicodedata.normalize("NFC", secret).encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: not text anyone can type again
            return None
    if isinstance(secret, (bytes, bytearray, memoryview)):
        return bytes(secret)
    return None


def _derive_kek(material: bytes, salt: bytes, pepper: Pepper, params: KdfParams, context: bytes) -> bytes:
    stretched = Argon2id(salt=salt, length=KEY_BYTES, iterations=params.iterations, lanes=params.lanes,
                         memory_cost=params.memory_cost).derive(material)
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=pepper.secret,
                info=_HKDF_LABEL + context).derive(stretched)
