"""Generated passphrases of simple French words, offered at enrolment instead of a chosen password.

The people enrolling may read little French and type on cheap phones, so the words in
``wordlist_fr.txt`` are very common and mostly concrete (``lapin``, ``soleil``, ``route``), 3 to 7
lowercase ASCII letters, spelled correctly without any accent (nothing to hunt for on a keyboard, and
a word checked in a dictionary is spelled the same), no two words that a speech synthesiser says
alike, and no plural or feminine doubles.

Four words from over 1300 give over 41 bits (``PASSPHRASE_BITS``): far beyond guessing through
Argon2id, the pepper and the sign-in limits, and still easy to read aloud and copy onto paper. No
digits or capitals are added: switching keyboards on a phone is where people slip.
"""

from __future__ import annotations

import math
import re
import secrets
from functools import lru_cache
from importlib import resources

WORDLIST_FILE = "wordlist_fr.txt"
WORD_PATTERN = re.compile(r"^[a-z]{3,7}$")
MIN_WORDLIST_SIZE = 1024
DEFAULT_WORDS = 4
MIN_WORDS = 3
MAX_WORDS = 12


@lru_cache(maxsize=1)
def load_wordlist() -> tuple[str, ...]:
    """The word list shipped with the package (``#`` lines are comments), checked: distinct words matching
    ``^[a-z]{3,7}$``, at least ``MIN_WORDLIST_SIZE`` of them."""
    text = resources.files("crypto").joinpath(WORDLIST_FILE).read_text("ascii")
    lines = (line.strip() for line in text.splitlines())
    words = tuple(line for line in lines if line and not line.startswith("#"))
    if len(set(words)) != len(words) or not all(WORD_PATTERN.match(word) for word in words):
        raise ValueError(f"{WORDLIST_FILE} must hold distinct words of 3 to 7 lowercase letters")
    if len(words) < MIN_WORDLIST_SIZE:
        raise ValueError(f"{WORDLIST_FILE} must hold at least {MIN_WORDLIST_SIZE} words")
    return words


def compute_passphrase_bits(words: int = DEFAULT_WORDS) -> float:
    """Entropy in bits of ``generate_passphrase(words)``: each word is a uniform, independent choice."""
    return words * math.log2(len(load_wordlist()))


# Kept under its first name too: callers written against it still work.
passphrase_bits = compute_passphrase_bits
PASSPHRASE_BITS = compute_passphrase_bits(DEFAULT_WORDS)


def generate_passphrase(words: int = DEFAULT_WORDS, separator: str = "-") -> str:
    """Words drawn with ``secrets.choice``, joined by ``separator``, e.g. ``lapin-soleil-route-melon``.

    The separator must be non-empty and hold no letter: otherwise the words could not be told apart
    again and the real entropy would be lower than ``compute_passphrase_bits`` says.
    """
    if not isinstance(words, int) or not MIN_WORDS <= words <= MAX_WORDS:
        raise ValueError(f"a passphrase has {MIN_WORDS} to {MAX_WORDS} words")
    if not isinstance(separator, str) or not separator or any(character.isalpha() for character in separator):
        raise ValueError("the separator is non-empty and has no letters")
    wordlist = load_wordlist()
    return separator.join(secrets.choice(wordlist) for _ in range(words))
