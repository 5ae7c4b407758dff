"""Recovery codes: 95 random bits, easy to read aloud and to type, with a check symbol.

Shape: 19 symbols of Crockford's base32 (no I, L, O, U: nothing to confuse with 1, 0 or V) plus one
Luhn mod 32 check symbol, shown as five groups of four: ``K7QM-3XRT-9HPD-WB2N-F6CA``.

The check symbol catches every single mistyped symbol and every swap of two neighbours except 0 ↔ Z,
before the server is even asked, so a person typing on a phone is told "check this code" instead of
spending one of their limited sign-in attempts.

Codes are never stored. The database keeps, per code, an HMAC (``code_lookup_hash``) to find which
code was typed, and the account's secret key sealed under the code itself (``crypto.sealing``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from crypto.errors import InvalidCode, InvalidParameters

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BASE = len(ALPHABET)
DATA_SYMBOLS = 19
CODE_SYMBOLS = DATA_SYMBOLS + 1
GROUP_SIZE = 4
CODE_BITS = DATA_SYMBOLS * 5  # 95 bits: far beyond guessing, even at the speed of a plain hash
MAX_INPUT_LENGTH = 64
MIN_LOOKUP_KEY_BYTES = 32
_VALUES = {symbol: value for value, symbol in enumerate(ALPHABET)}
# Crockford's decoding of look-alikes, so a code misread or read aloud still works. U is not in the
# alphabet (Crockford leaves it out); read as V, the nearest shape.
_LOOKALIKES = {"O": "0", "I": "1", "L": "1", "U": "V"}
# What people and phones put between groups: spaces (also the no-break space a copy-paste brings),
# ASCII dashes and the dashes that phone keyboards substitute, dots, underscores.
_SEPARATORS = frozenset(" \t\r\n\u00a0\u202f-\u2010\u2011\u2012\u2013\u2014\u2212._")
_LOOKUP_LABEL = b"consigne/recovery-code/lookup/v1\x00"


def generate_recovery_code() -> str:
    """A fresh code, formatted in five groups of four (``K7QM-3XRT-9HPD-WB2N-F6CA``)."""
    data = "".join(secrets.choice(ALPHABET) for _ in range(DATA_SYMBOLS))
    return format_recovery_code(data + compute_check_symbol(data))


def normalise_recovery_code(text: str) -> str:
    """The canonical 20 symbols of what a person typed.

    Drops separators, uppercases, reads O as 0, I and L as 1, U as V. Raises InvalidCode when the
    result has the wrong length, a symbol outside the alphabet, or a wrong check symbol.
    """
    if not isinstance(text, str) or len(text) > MAX_INPUT_LENGTH:
        raise InvalidCode("not a recovery code")
    kept = [character for character in text if character not in _SEPARATORS]
    # ASCII only before uppercasing: str.upper() turns "ß" into "SS" and "ı" into "I", which would
    # accept characters nobody was shown.
    if not all(character.isascii() for character in kept):
        raise InvalidCode("a recovery code has only letters A-Z and digits 0-9")
    symbols = "".join(_LOOKALIKES.get(character, character) for character in "".join(kept).upper())
    if len(symbols) != CODE_SYMBOLS or any(symbol not in _VALUES for symbol in symbols):
        raise InvalidCode("a recovery code has 20 letters and digits")
    if compute_check_symbol(symbols[:-1]) != symbols[-1]:
        raise InvalidCode("this recovery code has a typing mistake")
    return symbols


def format_recovery_code(normalised: str) -> str:
    """``K7QM3XRT9HPDWB2NF6CA`` → ``K7QM-3XRT-9HPD-WB2N-F6CA`` (checks the code on the way)."""
    symbols = normalise_recovery_code(normalised)
    return "-".join(symbols[start:start + GROUP_SIZE] for start in range(0, CODE_SYMBOLS, GROUP_SIZE))


def code_lookup_hash(normalised_code: str, key: bytes) -> bytes:
    """HMAC-SHA256 of a normalised code under a server key: the database's index of recovery codes.

    Why this design:

    * The code is the secret that seals the account's key (``crypto.sealing``), so it must never be
      stored. But at sign-in the server must find *which* of an account's ten codes was typed, to
      unseal that code's copy of the key and then burn that code. A deterministic value computed from
      the code is the index: ``WHERE lookup_hash = ?``.
    * A plain hash would do for secrecy (95 random bits cannot be brute-forced even at hash speed),
      but the HMAC key, kept in the environment and not in the database, means a stolen database
      cannot even confirm a guessed code offline.
    * It is not a slow password hash on purpose: the slow, peppered Argon2id work is in the seal,
      which is what protects the key; the index only has to be unguessable and collision-free.
    * The code is normalised first (``normalise_recovery_code``) so every way of typing it gives
      the same index; a code that is not normalised raises InvalidCode rather than missing silently.
    """
    if not isinstance(key, bytes) or len(key) < MIN_LOOKUP_KEY_BYTES:
        raise InvalidParameters("the lookup key has at least 32 bytes")
    if not isinstance(normalised_code, str) or normalise_recovery_code(normalised_code) != normalised_code:
        raise InvalidCode("code_lookup_hash takes a normalised recovery code")
    return hmac.new(key, _LOOKUP_LABEL + normalised_code.encode("ascii"), hashlib.sha256).digest()


def compute_check_symbol(data: str) -> str:
    """The Luhn mod 32 check symbol of ``data`` (symbols of ``ALPHABET``).

    From the right, every other value is doubled and folded back into base 32 (2v → 2v // 32 +
    2v % 32); the check value brings the sum to 0 mod 32. Doubling-and-folding is a permutation of
    0-31, so changing any single symbol changes the sum: every single substitution is caught.
    """
    total = 0
    for position, symbol in enumerate(reversed(data)):
        value = _VALUES.get(symbol)
        if value is None:
            raise InvalidCode("a recovery code has only Crockford base32 symbols")
        if position % 2 == 0:
            value *= 2
            value = value // BASE + value % BASE
        total += value
    return ALPHABET[-total % BASE]
