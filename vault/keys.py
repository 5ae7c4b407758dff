"""Account identities and the seals around them (DESIGN.md, "Keys").

An account's X25519 identity is generated at enrolment. Its public half is stored in clear (anyone may
encrypt a paper to it, which is how a worker deposits without reading). Its secret half only ever exists
in the database sealed: under the password, under each recovery code, and for the length of a session
under a random session key that only the client holds.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from crypto import age
from crypto.codes import code_lookup_hash
from crypto.sealing import (
    KdfParams,
    KeyRing,
    PepperRing,
    key_ring_version,
    seal_with_key,
    seal_with_key_ring,
    seal_with_secret,
    unseal_with_key,
    unseal_with_key_ring,
    unseal_with_secret,
)

if TYPE_CHECKING:
    from vault.capacity import WorkGate

Result = TypeVar("Result")

# Recovery codes carry 95 random bits: they need no stretching to resist guessing, so they use the same
# construction as passwords with the cheapest Argon2id parameters. That keeps enrolment (ten seals)
# fast without weakening anything; a password, chosen by a human, gets the full cost.
CODE_KDF = KdfParams(memory_cost=1024, iterations=1, lanes=1)


@dataclass(frozen=True)
class KeyConfig:
    """The secrets and costs the services need, all from the settings (never from the database).

    ``kdf_gate`` bounds how many password Argon2id computations run at once in this process (the
    application passes ``services.gates.kdf``): each costs 64 MiB and a quarter of a second of a core, so
    a burst of sign-ins must queue, then be told to come back (``SignInBusy``), rather than take every
    core and gigabytes. Command-line code has no gate and computes inline.
    """

    peppers: PepperRing
    app_keys: KeyRing = field(repr=False)
    password_kdf: KdfParams
    code_kdf: KdfParams = CODE_KDF
    kdf_gate: WorkGate | None = field(default=None, repr=False, compare=False)

    def ring(self, use: str) -> KeyRing:
        """The application key ring narrowed to one use: one subkey per use and version."""
        return self.app_keys.derive(lambda secret: _subkey(secret, use))

    def run_kdf(self, function: Callable[..., Result], *args, **kwargs) -> Result:
        """``function(*args, **kwargs)`` through the KDF gate (SignInBusy if no slot frees up in time)."""
        if self.kdf_gate is None:
            return function(*args, **kwargs)
        return self.kdf_gate.run(function, *args, **kwargs)


def identity_context(account_id: str, purpose: str) -> bytes:
    """AAD binding a seal to one account and one purpose, so a seal cannot be moved to another row."""
    return f"consigne:account:{account_id}:identity:{purpose}".encode()


def new_identity() -> age.X25519Identity:
    return age.X25519Identity.generate()


def seal_identity_with_password(keys: KeyConfig, account_id: str, identity: age.X25519Identity,
                                password: str) -> bytes:
    """Seal under the password (one Argon2id, through the KDF gate)."""
    return keys.run_kdf(seal_with_secret, identity.to_string().encode(), secret=password,
                        pepper=keys.peppers.current, context=identity_context(account_id, "password"),
                        params=keys.password_kdf)


def unseal_identity_with_password(keys: KeyConfig, account_id: str, sealed: bytes,
                                  password: str) -> age.X25519Identity:
    """Raises DecryptionFailed when the password (or the pepper) is wrong; SignInBusy when the gate is full."""
    plaintext = keys.run_kdf(unseal_with_secret, sealed, secret=password, peppers=keys.peppers,
                             context=identity_context(account_id, "password"))
    return age.X25519Identity.from_string(plaintext.decode())


def seal_identity_with_code(keys: KeyConfig, account_id: str, identity: age.X25519Identity,
                            normalised_code: str) -> bytes:
    return seal_with_secret(identity.to_string().encode(), secret=normalised_code, pepper=keys.peppers.current,
                            context=identity_context(account_id, "recovery-code"), params=keys.code_kdf)


def unseal_identity_with_code(keys: KeyConfig, account_id: str, sealed: bytes,
                              normalised_code: str) -> age.X25519Identity:
    plaintext = unseal_with_secret(sealed, secret=normalised_code, peppers=keys.peppers,
                                   context=identity_context(account_id, "recovery-code"))
    return age.X25519Identity.from_string(plaintext.decode())


def lookup_hash_for_code(keys: KeyConfig, normalised_code: str) -> tuple[int, bytes]:
    """(key version, look-up hash) under the current application key: what a new code row stores."""
    current = keys.ring("recovery-code-lookup").current
    return current.version, code_lookup_hash(normalised_code, current.secret)


def lookup_hashes_for_code(keys: KeyConfig, normalised_code: str) -> list[bytes]:
    """The code's look-up hash under every key of the ring: rows made before a rotation still match."""
    return [code_lookup_hash(normalised_code, key.secret) for key in keys.ring("recovery-code-lookup").keys]


def keyed_digest(keys: KeyConfig, use: str, value: str) -> str:
    """A hex HMAC of ``value`` under the current application key (names in tables that must not reveal it)."""
    return hmac.new(keys.ring(use).current.secret, value.encode(), hashlib.sha256).hexdigest()


def seal_identity_for_session(session_id: str, identity: age.X25519Identity, session_key: bytes) -> bytes:
    return seal_with_key(identity.to_string().encode(), key=session_key, context=_session_context(session_id))


def unseal_identity_for_session(session_id: str, sealed: bytes, session_key: bytes) -> age.X25519Identity:
    plaintext = unseal_with_key(sealed, key=session_key, context=_session_context(session_id))
    return age.X25519Identity.from_string(plaintext.decode())


def seal_app_secret(keys: KeyConfig, value: bytes, purpose: str, account_id: str) -> bytes:
    """Secrets the server itself must read back (TOTP seeds), sealed with the application key ring."""
    return seal_with_key_ring(value, ring=keys.ring("app-seal"), context=_app_context(purpose, account_id))


def unseal_app_secret(keys: KeyConfig, sealed: bytes, purpose: str, account_id: str) -> bytes:
    """Opens what any version of the ring sealed; DecryptionFailed otherwise."""
    return unseal_with_key_ring(sealed, ring=keys.ring("app-seal"), context=_app_context(purpose, account_id))


def app_secret_needs_reseal(keys: KeyConfig, sealed: bytes) -> bool:
    """True when ``sealed`` was made under an older application key (re-seal it while it is open)."""
    return key_ring_version(sealed) != keys.app_keys.current.version


# --- tokens ------------------------------------------------------------------------------------------
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


def decode_token_body(token: object, *, prefix: str, size: int) -> bytes | None:
    """The ``size`` bytes a token ``prefix + base64url`` carries, or None for anything else.

    Strict on purpose: only the canonical unpadded base64url of exactly ``size`` bytes is accepted (the
    text is re-encoded and compared). A lenient decoder skips characters it does not know, so
    ``cs1.AB!!CD…`` would still authenticate: one secret would have many spellings, and whatever filters
    or logs tokens by their text could be walked around.
    """
    if not isinstance(token, str) or not token.startswith(prefix):
        return None
    encoded = token[len(prefix):]
    if len(encoded) != -(-size * 4 // 3) or not _BASE64URL.fullmatch(encoded):
        return None
    raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    if len(raw) != size or encode_token_body(prefix, raw) != token:
        return None
    return raw


def encode_token_body(prefix: str, raw: bytes) -> str:
    return prefix + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


# --- known devices (OWASP "device cookies") -----------------------------------------------------------
# After a successful sign-in the client receives a device token bound to the account. Presenting it later
# lets that client be throttled on its own budget only, so a stranger who fails on purpose with the
# username cannot keep the owner out. The token opens nothing by itself: the password is still needed.
#
# token = "cd1." + base64url(key version (2) ‖ issued at, Unix seconds (4) ‖ nonce (16) ‖ HMAC (32))
# HMAC = HMAC-SHA256(device-token subkey of that version, label ‖ account id ‖ 0 ‖ the first 22 bytes)
#
# No table: the HMAC under the application key ring proves the server issued it for this account, and a
# rotation keeps older tokens valid while their version stays in the ring.
DEVICE_TOKEN_PREFIX = "cd1."
DEVICE_TOKEN_LIFETIME = timedelta(days=400)  # what browsers allow a cookie at most
CLOCK_SKEW_SECONDS = 300  # another instance's clock may run a little ahead
_DEVICE_HEAD = struct.Struct(">HI")
_DEVICE_NONCE_BYTES = 16
_DEVICE_MAC_BYTES = 32
DEVICE_TOKEN_BYTES = _DEVICE_HEAD.size + _DEVICE_NONCE_BYTES + _DEVICE_MAC_BYTES  # 54: no base64 padding
_DEVICE_LABEL = b"consigne/device-token/v1\x00"


def issue_device_token(keys: KeyConfig, account_id: str, *, now: datetime) -> str:
    key = keys.ring("device-token").current
    signed = _DEVICE_HEAD.pack(key.version, int(now.timestamp())) + secrets.token_bytes(_DEVICE_NONCE_BYTES)
    return encode_token_body(DEVICE_TOKEN_PREFIX, signed + _device_mac(key.secret, account_id, signed))


def verify_device_token(keys: KeyConfig, token: object, account_id: str, *, now: datetime) -> str | None:
    """The device's stable name (hex of its nonce) when ``token`` was issued for ``account_id`` and is
    still valid; None otherwise (malformed, another account, too old, or its key left the ring)."""
    raw = decode_token_body(token, prefix=DEVICE_TOKEN_PREFIX, size=DEVICE_TOKEN_BYTES)
    if raw is None:
        return None
    version, issued = _DEVICE_HEAD.unpack_from(raw)
    key = keys.ring("device-token").get(version)
    signed, mac = raw[:-_DEVICE_MAC_BYTES], raw[-_DEVICE_MAC_BYTES:]
    if key is None or not hmac.compare_digest(_device_mac(key.secret, account_id, signed), mac):
        return None
    age_seconds = now.timestamp() - issued
    if not -CLOCK_SKEW_SECONDS <= age_seconds <= DEVICE_TOKEN_LIFETIME.total_seconds():
        return None
    return signed[_DEVICE_HEAD.size:].hex()


def _device_mac(secret: bytes, account_id: str, signed: bytes) -> bytes:
    return hmac.new(secret, _DEVICE_LABEL + account_id.encode() + b"\x00" + signed, hashlib.sha256).digest()


def _app_context(purpose: str, account_id: str) -> bytes:
    return f"consigne:app:{purpose}:{account_id}".encode()


def _subkey(secret: bytes, use: str) -> bytes:
    """One key per use, derived from the application key, so no key serves two algorithms."""
    return hmac.new(secret, f"consigne:subkey:{use}".encode(), hashlib.sha256).digest()


def _session_context(session_id: str) -> bytes:
    return f"consigne:session:{session_id}".encode()


__all__ = [
    "CODE_KDF",
    "KeyConfig",
    "DEVICE_TOKEN_PREFIX",
    "app_secret_needs_reseal",
    "decode_token_body",
    "encode_token_body",
    "identity_context",
    "issue_device_token",
    "keyed_digest",
    "lookup_hash_for_code",
    "lookup_hashes_for_code",
    "new_identity",
    "seal_app_secret",
    "seal_identity_for_session",
    "seal_identity_with_code",
    "seal_identity_with_password",
    "unseal_app_secret",
    "unseal_identity_for_session",
    "unseal_identity_with_code",
    "unseal_identity_with_password",
    "verify_device_token",
]
