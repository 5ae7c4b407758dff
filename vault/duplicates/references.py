"""Duplicate references: 80 random bits, written in Crockford base32, in four groups of four.

``7K3M-QX2D-9TBW-HN4F``: 16 characters that read aloud without ambiguity (no I, L, O or U; a typed
``o`` is read as 0, ``i`` and ``l`` as 1, case and dashes or spaces do not matter). 80 bits from the
system's CSPRNG: a guesser trying a million references a second (the look-ups are rate limited to far
less) would need about 10^10 years to find one of a million issued copies.
"""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BITS = 80
LENGTH = BITS // 5  # 16 characters
GROUP = 4
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_reference() -> str:
    value = secrets.randbits(BITS)
    characters = "".join(ALPHABET[(value >> (5 * index)) & 31] for index in reversed(range(LENGTH)))
    return _grouped(characters)


def normalise_reference(text: object) -> str | None:
    """The reference as issued (``XXXX-XXXX-XXXX-XXXX``), from what someone typed; None if it cannot be one."""
    if not isinstance(text, str) or len(text) > 64:
        return None
    characters = "".join(text.split()).replace("-", "").upper().translate(_READ_AS)
    if len(characters) != LENGTH or any(character not in ALPHABET for character in characters):
        return None
    return _grouped(characters)


def _grouped(characters: str) -> str:
    return "-".join(characters[start:start + GROUP] for start in range(0, len(characters), GROUP))


__all__ = ["new_reference", "normalise_reference"]
