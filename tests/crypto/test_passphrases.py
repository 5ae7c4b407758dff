"""Generated passphrases and the French word list behind them (checks in the spirit of SecureDrop's)."""

from __future__ import annotations

import math
import re
import tomllib
from importlib import resources
from pathlib import Path

import pytest

from crypto.passphrases import (
    DEFAULT_WORDS,
    MAX_WORDS,
    MIN_WORDS,
    PASSPHRASE_BITS,
    WORDLIST_FILE,
    compute_passphrase_bits,
    generate_passphrase,
    load_wordlist,
)

ROOT = Path(__file__).resolve().parents[2]
MIN_PASSWORD_LENGTH = 8  # the enrolment minimum a generated passphrase must always meet
SHORTEST_WORD, LONGEST_WORD = 3, 7
# Words that must never be handed to anyone, whatever a future edit of the list brings in.
NEVER = {"con", "cul", "pute", "merde", "bite", "nique", "chier", "salope", "connard", "putain", "bordel",
         "viol", "tuer", "mort", "sang", "arme", "drogue", "pauvre", "sale", "gros", "nazi", "race", "sexe",
         "porc", "cochon", "singe", "foyer", "prison", "police", "dette", "faim", "rue", "abri", "punaise"}


@pytest.fixture(scope="module")
def words() -> tuple[str, ...]:
    return load_wordlist()


def test_word_list_ships_as_package_data():
    assert resources.files("crypto").joinpath(WORDLIST_FILE).is_file()
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "*.txt" in package_data["*"]


def test_word_list_loads_and_is_large_enough(words):
    assert len(words) >= 1024
    assert len(words) >= 1296  # the size of a classic Diceware list: 41+ bits in four words


def test_words_are_unique(words):
    assert len(set(words)) == len(words)


def test_words_are_short_lowercase_ascii(words):
    pattern = re.compile(rf"^[a-z]{{{SHORTEST_WORD},{LONGEST_WORD}}}$")
    assert [word for word in words if not pattern.match(word)] == []


def test_no_plural_or_feminine_doubles(words):
    present = set(words)
    doubles = [word for word in words for ending in ("s", "x", "e")
               if word.endswith(ending) and word[:-1] in present]
    assert doubles == []


def test_nothing_offensive_or_hurtful(words):
    assert NEVER & set(words) == set()


def test_file_is_plain_lines(words):
    text = resources.files("crypto").joinpath(WORDLIST_FILE).read_text("ascii")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert lines == list(words)
    assert lines == sorted(lines)


def test_entropy(words):
    assert PASSPHRASE_BITS == compute_passphrase_bits(DEFAULT_WORDS) == DEFAULT_WORDS * math.log2(len(words))
    assert PASSPHRASE_BITS >= 40
    assert compute_passphrase_bits(MIN_WORDS) >= 30


def test_length_bounds_are_proven_and_met(words):
    shortest, longest = min(map(len, words)), max(map(len, words))
    assert (shortest, longest) == (SHORTEST_WORD, LONGEST_WORD)
    # The shortest passphrase that can ever come out still meets the password minimum.
    assert MIN_WORDS * shortest + (MIN_WORDS - 1) >= MIN_PASSWORD_LENGTH
    low = DEFAULT_WORDS * shortest + DEFAULT_WORDS - 1
    high = DEFAULT_WORDS * longest + DEFAULT_WORDS - 1
    assert (low, high) == (15, 31)
    for _ in range(200):
        phrase = generate_passphrase()
        assert low <= len(phrase) <= high


def test_passphrases_are_words_from_the_list(words):
    present = set(words)
    phrases = [generate_passphrase() for _ in range(200)]
    assert len(set(phrases)) == len(phrases)
    for phrase in phrases:
        parts = phrase.split("-")
        assert len(parts) == DEFAULT_WORDS and set(parts) <= present


@pytest.mark.parametrize("count, separator",
                         [(MIN_WORDS, "-"), (5, " "), (6, "."), (MAX_WORDS, "_"), (4, " - ")])
def test_word_count_and_separator(words, count, separator):
    phrase = generate_passphrase(count, separator)
    parts = phrase.split(separator)
    assert len(parts) == count and set(parts) <= set(words)


@pytest.mark.parametrize("count", [0, 1, 2, MAX_WORDS + 1, "4", 4.0])
def test_word_count_bounds(count):
    with pytest.raises(ValueError):
        generate_passphrase(count)


@pytest.mark.parametrize("separator", ["", "a", "x-", "é", None])
def test_separators_must_keep_words_apart(separator):
    with pytest.raises(ValueError):
        generate_passphrase(4, separator)
