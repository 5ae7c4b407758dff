"""Which passwords are accepted at enrolment and on a change, and why the others are refused.

A person's password seals their identity (Argon2id + pepper): if the database and the environment leak
together, each account still costs one Argon2id per guess. So a password must resist about 10⁸ guesses
(zxcvbn's score 3, what OWASP recommends), not only the sign-in throttle. Checks, in order, each with its
own plain reason and a suggested passphrase of simple words (``suggest_passphrase``):

1. length, 8 to 256 characters;
2. not in the common list (zxcvbn's frequency list plus common French ones);
3. not containing the username;
4. zxcvbn's estimate of at least ``MIN_GUESSES`` (sequences, repetitions, keyboard walks, dates, names).

The checks look at the password folded with NFKC (full-width ``ＰＡＳＳＷＯＲＤ`` is ``PASSWORD``, ligatures
are their letters) and, for the list and the username, case-folded: what looks the same must be refused
the same. Only the checks fold: the sealed secret keeps NFC (``crypto.sealing``), which never merges
distinct characters, so no one's existing password changes meaning.

Generated passphrases of four words (``suggest_passphrase``) always pass: a test checks many samples.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from importlib import resources

from zxcvbn import zxcvbn

from crypto.passphrases import generate_passphrase
from vault.errors import (
    InvalidInput,
    PasswordContainsUsername,
    PasswordTooCommon,
    PasswordTooLong,
    PasswordTooPredictable,
    PasswordTooShort,
)

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256
MIN_GUESSES_LOG10 = 8  # zxcvbn score 3: "safely unguessable, moderate protection from an offline slow-hash attack"
# zxcvbn's work grows quickly with length and strength beyond 64 characters never matters: estimate those.
ESTIMATED_PREFIX = 64
PASSPHRASE_WORDS = 4


def suggest_passphrase() -> str:
    """Four different simple French words (over 41 bits), e.g. ``lapin-soleil-route-melon``: always accepted.

    Different words: a draw repeating one word three times (about one in 450,000) reads as a repetition
    to zxcvbn and would be refused; redrawing those keeps the choice uniform among passphrases of four
    distinct words and costs a fraction of a bit. The weakest possible one (the four words zxcvbn rates
    lowest) is checked by a test.
    """
    while True:
        passphrase = generate_passphrase(words=PASSPHRASE_WORDS)
        if len(set(passphrase.split("-"))) == PASSPHRASE_WORDS:
            return passphrase


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    text = resources.files("vault.data").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(line.casefold() for line in text.splitlines() if line and not line.startswith("#"))


def check_password(password: object, *, username: str) -> None:
    """Return when ``password`` is acceptable; raise the WeakPassword that says why not.

    InvalidInput for text no keyboard can type (lone surrogates), which can only be sent, not chosen.
    """
    if not isinstance(password, str):
        raise InvalidInput(field="password")
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(field="password") from None
    folded = unicodedata.normalize("NFKC", password)
    lowered = folded.casefold()
    if len(folded) < MIN_PASSWORD_LENGTH:
        raise PasswordTooShort(suggested_passphrase=suggest_passphrase(), minimum=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordTooLong(maximum=MAX_PASSWORD_LENGTH)
    common = common_passwords()
    if lowered in common or lowered.strip() in common or "".join(lowered.split()) in common:
        raise PasswordTooCommon(suggested_passphrase=suggest_passphrase())
    if username and username.casefold() in lowered:
        raise PasswordContainsUsername(suggested_passphrase=suggest_passphrase())
    estimate = zxcvbn(folded[:ESTIMATED_PREFIX], user_inputs=[username] if username else [])
    if estimate["guesses_log10"] < MIN_GUESSES_LOG10:
        raise PasswordTooPredictable(suggested_passphrase=suggest_passphrase())


__all__ = ["MAX_PASSWORD_LENGTH", "MIN_PASSWORD_LENGTH", "check_password", "common_passwords", "suggest_passphrase"]
