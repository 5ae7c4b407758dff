"""One error family for everything in ``crypto/``.

Messages never carry key material, passwords or plaintext; callers translate these into the domain's
errors (``vault/errors.py``) at the layer boundary.
"""


class CryptoError(Exception):
    """Base of every failure raised by ``crypto/``."""


class MalformedInput(CryptoError):
    """Bytes or strings that do not follow the expected encoding (bad base64, bad Bech32, bad header)."""


class DecryptionFailed(CryptoError):
    """Authentication failed: wrong key, wrong password or pepper, or tampered ciphertext.

    Deliberately says nothing about *which* of those happened.
    """


class NoIdentityMatched(DecryptionFailed):
    """None of the identities given could unwrap the file key of an age file."""


class InvalidSignature(CryptoError):
    """An Ed25519 signature did not verify."""


class InvalidCode(CryptoError):
    """A recovery code or one-time code is malformed (wrong length, bad check character)."""


class InvalidParameters(CryptoError):
    """A caller asked ``crypto/`` for something it refuses to do.

    For example: no recipients, an scrypt recipient mixed with others, a work factor out of range, a file
    key of the wrong length, or a non-blocking stream.
    """
