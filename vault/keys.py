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
    PepperRing,
    seal_with_key,
    seal_with_secret,
    unseal_with_key,
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
    app_key: bytes = field(repr=False)
    password_kdf: KdfParams
    code_kdf: KdfParams = CODE_KDF


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


def lookup_hash_for_code(keys: KeyConfig, normalised_code: str) -> bytes:
    return code_lookup_hash(normalised_code, _subkey(keys, "recovery-code-lookup"))


def seal_identity_for_session(session_id: str, identity: age.X25519Identity, session_key: bytes) -> bytes:
    return seal_with_key(identity.to_string().encode(), key=session_key, context=_session_context(session_id))


def unseal_identity_for_session(session_id: str, sealed: bytes, session_key: bytes) -> age.X25519Identity:
    plaintext = unseal_with_key(sealed, key=session_key, context=_session_context(session_id))
    return age.X25519Identity.from_string(plaintext.decode())


def seal_app_secret(keys: KeyConfig, value: bytes, purpose: str, account_id: str) -> bytes:
    """Secrets the server itself must read back (TOTP seeds), sealed with the application key."""
    return seal_with_key(value, key=_subkey(keys, "app-seal"), context=f"consigne:app:{purpose}:{account_id}".encode())


def unseal_app_secret(keys: KeyConfig, sealed: bytes, purpose: str, account_id: str) -> bytes:
    return unseal_with_key(sealed, key=_subkey(keys, "app-seal"), context=f"consigne:app:{purpose}:{account_id}".encode())


def _subkey(keys: KeyConfig, use: str) -> bytes:
    """One key per use, derived from the application key, so no key serves two algorithms."""
    return hmac.new(keys.app_key, f"consigne:subkey:{use}".encode(), hashlib.sha256).digest()


def _session_context(session_id: str) -> bytes:
    return f"consigne:session:{session_id}".encode()


__all__ = [
    "CODE_KDF",
    "KeyConfig",
    "identity_context",
    "lookup_hash_for_code",
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
