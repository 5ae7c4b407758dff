"""Generated passphrases of simple French words, offered at enrolment instead of a chosen password.

Words are common, concrete, lowercase ASCII (no accent to hunt for on a phone keyboard), 3 to 7
letters. Four words and a two-digit number: about 45 bits, far beyond guessing through Argon2id and
the sign-in rate limits, yet easy to read aloud to a person and to copy onto paper.
"""

from __future__ import annotations

import math
import re
import secrets
from functools import lru_cache
from importlib import resources

WORD_PATTERN = re.compile(r"^[a-z]{3,7}$")
DEFAULT_WORDS = 4


@lru_cache(maxsize=1)
def load_wordlist() -> tuple[str, ...]:
    text = resources.files("crypto").joinpath("wordlist_fr.txt").read_text("ascii")
    words = tuple(line.strip() for line in text.splitlines() if line.strip())
    if len(set(words)) != len(words) or not all(WORD_PATTERN.match(word) for word in words):
        raise ValueError("the word list must hold distinct words of 3 to 7 lowercase letters")
    return words


def passphrase_bits(words: int = DEFAULT_WORDS) -> float:
    return words * math.log2(len(load_wordlist())) + math.log2(90)


def generate_passphrase(words: int = DEFAULT_WORDS, separator: str = "-") -> str:
    """E.g. ``lapin-soleil-route-melon-42``."""
    if words < 3:
        raise ValueError("a passphrase has at least three words")
    chosen = [secrets.choice(load_wordlist()) for _ in range(words)]
    return separator.join([*chosen, str(secrets.randbelow(90) + 10)])
