"""Account identities and the seals around them (DESIGN.md, "Keys").

An account's X25519 identity is generated at enrolment. Its public half is stored in clear (anyone may
encrypt a paper to it, which is how a worker deposits without reading). Its secret half only ever exists
in the database sealed: under the password, under each recovery code, and for the length of a session
under a random session key that only the client holds.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

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

# Recovery codes carry 95 random bits: they need no stretching to resist guessing, so they use the same
# construction as passwords with the cheapest Argon2id parameters. That keeps enrolment (ten seals)
# fast without weakening anything; a password, chosen by a human, gets the full cost.
CODE_KDF = KdfParams(memory_cost=1024, iterations=1, lanes=1)


@dataclass(frozen=True)
class KeyConfig:
    """The secrets and costs the services need, all from the settings (never from the database)."""

    peppers: PepperRing
    app_keys: KeyRing = field(repr=False)
    password_kdf: KdfParams
    code_kdf: KdfParams = CODE_KDF

    def ring(self, use: str) -> KeyRing:
        """The application key ring narrowed to one use: one subkey per use and version."""
        return self.app_keys.derive(lambda secret: _subkey(secret, use))


def identity_context(account_id: str, purpose: str) -> bytes:
    """AAD binding a seal to one account and one purpose, so a seal cannot be moved to another row."""
    return f"consigne:account:{account_id}:identity:{purpose}".encode()


def new_identity() -> age.X25519Identity:
    return age.X25519Identity.generate()


def seal_identity_with_password(keys: KeyConfig, account_id: str, identity: age.X25519Identity,
                                password: str) -> bytes:
    return seal_with_secret(identity.to_string().encode(), secret=password, pepper=keys.peppers.current,
                            context=identity_context(account_id, "password"), params=keys.password_kdf)


def unseal_identity_with_password(keys: KeyConfig, account_id: str, sealed: bytes,
                                  password: str) -> age.X25519Identity:
    """Raises DecryptionFailed when the password (or the pepper) is wrong."""
    plaintext = unseal_with_secret(sealed, secret=password, peppers=keys.peppers,
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
    "app_secret_needs_reseal",
    "identity_context",
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
]
