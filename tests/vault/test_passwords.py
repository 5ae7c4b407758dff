"""Password strength: the failures named in issue 6, each reason in plain words, and generated passphrases
always accepted."""

from __future__ import annotations

import itertools

import pytest
from zxcvbn import zxcvbn

from crypto.passphrases import load_wordlist
from crypto.sealing import FAST_KDF_FOR_TESTS, Pepper, PepperRing, seal_with_secret, unseal_with_secret
from vault.errors import InvalidInput, WeakPassword
from vault.passwords import check_password, suggest_passphrase

REFUSED = [
    ("        ", "too_predictable"),  # 8 spaces
    ("abcdefgh", "too_predictable"),
    ("12341234", "too_predictable"),
    ("ＰＡＳＳＷＯＲＤ", "too_common"),  # full-width: PASSWORD once folded
    ("Ｐａｓｓｗｏｒｄ１２３", "too_common"),
    ("pass word", "too_common"),
    ("court", "too_short"),
    ("ｃｏｕｒｔ", "too_short"),
    ("x" * 257, "too_long"),
    ("azertyuiop", "too_common"),
    ("AZERTYUIOP", "too_common"),
    ("password123", "too_common"),
    ("xx-hakim-xx", "contains_username"),
    ("xx-ＨＡＫＩＭ-xx", "contains_username"),
    ("qwertyuiop123", "too_common"),
    ("aaaaaaaaaaaa", "too_predictable"),
    ("01/02/1990", "too_predictable"),
    ("hakim1990", "contains_username"),
    ("camille1990", "too_predictable"),
]


@pytest.mark.parametrize("password, reason", REFUSED, ids=[f"{index}-{reason}" for index, (_, reason) in enumerate(REFUSED)])
def test_weak_passwords_are_refused_with_a_reason_and_a_suggestion(password, reason):
    with pytest.raises(WeakPassword) as refused:
        check_password(password, username="hakim")
    assert refused.value.details["reason"] == reason
    assert refused.value.code == "weak_password"
    if reason != "too_long":
        suggestion = refused.value.details["suggested_passphrase"]
        check_password(suggestion, username="hakim")  # the suggestion itself passes


@pytest.mark.parametrize("password", ["cheval-lune-tambour-9", "soleil-riviere-camion-42", "j aime ma fille du 13",
                                      "Marseille et la mer bleue", "mot de passe très long à moi"])
def test_reasonable_passwords_pass(password):
    check_password(password, username="hakim")


def test_untypeable_text_is_invalid_input_not_a_crash():
    with pytest.raises(InvalidInput):
        check_password("abc\ud800defghij", username="hakim")
    with pytest.raises(InvalidInput):
        check_password(None, username="hakim")


def test_generated_four_word_passphrases_are_always_accepted():
    for _ in range(1000):
        passphrase = suggest_passphrase()
        assert len(set(passphrase.split("-"))) == 4
        check_password(passphrase, username="soleil42")


def test_even_the_weakest_suggestion_is_accepted():
    # The four words zxcvbn finds easiest (English dictionary words such as "dragon"), in every order:
    # the weakest passphrase suggest_passphrase can ever produce.
    weakest = sorted(load_wordlist(), key=lambda word: zxcvbn(word)["guesses_log10"])[:4]
    for order in itertools.permutations(weakest):
        check_password("-".join(order), username="soleil42")


def test_the_checks_fold_but_the_sealed_secret_keeps_nfc():
    # "ﬁ" (one ligature character) folds to "fi" for the checks only: the seal is made from the password as
    # typed (NFC), so typing "fi" instead does not open it; NFKC folding was never applied to secrets.
    password = "ﬁnance-lune-tambour"
    check_password(password, username="hakim")
    ring = PepperRing(current=Pepper(1, b"p" * 32))
    sealed = seal_with_secret(b"identity", secret=password, pepper=ring.current, context=b"test", params=FAST_KDF_FOR_TESTS)
    assert unseal_with_secret(sealed, secret=password, peppers=ring, context=b"test") == b"identity"
    with pytest.raises(Exception):
        unseal_with_secret(sealed, secret="finance-lune-tambour", peppers=ring, context=b"test")
