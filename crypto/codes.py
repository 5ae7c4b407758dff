"""Recovery codes: 95 random bits, read aloud and typed easily, with a check symbol.

Shape: 19 symbols of Crockford's base32 (no I, L, O, U: nothing to confuse) plus one Luhn mod 32 check
symbol, shown as five groups of four: ``K7QM-3XRT-9HPD-WB2N-F6CA``. The check symbol catches every
single mistyped symbol and most swaps of two neighbours before the server is even asked, so a person
typing on a phone is told "check this code" instead of burning a sign-in attempt.

Codes are never stored: the database keeps an HMAC (``code_lookup_hash``) to find which code was used,
and the account's key sealed under the code itself (``crypto.sealing``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from crypto.errors import InvalidCode

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
DATA_SYMBOLS = 19
CODE_SYMBOLS = DATA_SYMBOLS + 1
GROUP = 4
CODE_BITS = DATA_SYMBOLS * 5
_VALUES = {symbol: value for value, symbol in enumerate(ALPHABET)}
# Crockford's decoding of look-alikes, so a code read aloud or misread still works.
_LOOKALIKES = {"O": "0", "I": "1", "L": "1", "U": "V"}
_SEPARATORS = " -._\t\n"


def generate_recovery_code() -> str:
    data = "".join(secrets.choice(ALPHABET) for _ in range(DATA_SYMBOLS))
    return format_recovery_code(data + _check_symbol(data))


def normalise_recovery_code(text: str) -> str:
    """Canonical 20 symbols from what a person typed; raises InvalidCode if it cannot be a code."""
    if not isinstance(text, str) or len(text) > 64:
        raise InvalidCode("not a recovery code")
    symbols = "".join(_LOOKALIKES.get(c, c) for c in text.upper() if c not in _SEPARATORS)
    if len(symbols) != CODE_SYMBOLS or any(c not in _VALUES for c in symbols):
        raise InvalidCode("a recovery code has 20 letters and digits")
    if _check_symbol(symbols[:-1]) != symbols[-1]:
        raise InvalidCode("this recovery code has a typing mistake")
    return symbols


def format_recovery_code(normalised: str) -> str:
    return "-".join(normalised[i:i + GROUP] for i in range(0, len(normalised), GROUP))


def code_lookup_hash(normalised_code: str, key: bytes) -> bytes:
    """HMAC-SHA256 of the normalised code under the application key.

    Keyed, so a stolen database alone cannot be searched for codes; unique per code, so the row of the
    code a person typed is found without storing any code.
    """
    return hmac.new(key, b"consigne recovery code:" + normalised_code.encode(), hashlib.sha256).digest()


def _check_symbol(data: str) -> str:
    """Luhn mod N (N = 32): doubles every second value from the right, folding in base 32."""
    total = 0
    factor = 2
    for symbol in reversed(data):
        addend = factor * _VALUES[symbol]
        total += addend // 32 + addend % 32
        factor = 1 if factor == 2 else 2
    return ALPHABET[(32 - total % 32) % 32]
