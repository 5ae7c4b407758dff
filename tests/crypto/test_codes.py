"""Recovery codes: shape, tolerant typing, the Luhn mod 32 check symbol, and the lookup hash."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.codes import (
    ALPHABET,
    CODE_BITS,
    CODE_SYMBOLS,
    DATA_SYMBOLS,
    code_lookup_hash,
    compute_check_symbol,
    format_recovery_code,
    generate_recovery_code,
    normalise_recovery_code,
)
from crypto.errors import InvalidCode, InvalidParameters

FORMATTED = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){4}$")
LOOKUP_KEY = b"a" * 32
# Fixed samples (data symbols chosen by hand, check symbol computed) plus fresh random ones.
SAMPLE_DATA = ["K7QM3XRT9HPDWB2NF6C", "0000000000000000000", "ZZZZZZZZZZZZZZZZZZZ", "0123456789ABCDEFGHJ"]


def sample_codes(random: int = 6) -> list[str]:
    fixed = [data + compute_check_symbol(data) for data in SAMPLE_DATA]
    return fixed + [normalise_recovery_code(generate_recovery_code()) for _ in range(random)]


def test_alphabet_is_crockford_base32():
    assert len(ALPHABET) == len(set(ALPHABET)) == 32
    assert not set("ILOU") & set(ALPHABET)
    assert ALPHABET == "".join(sorted(ALPHABET))


def test_generated_codes_have_the_documented_shape_and_entropy():
    assert CODE_BITS == DATA_SYMBOLS * 5 == 95 and CODE_BITS >= 80 and CODE_SYMBOLS == 20
    codes = [generate_recovery_code() for _ in range(300)]
    assert len(set(codes)) == len(codes)
    for code in codes:
        assert FORMATTED.match(code), code
        assert format_recovery_code(normalise_recovery_code(code)) == code
    # 300 × 19 random symbols: every one of the 32 symbols turns up (missing one has odds ~ e^-170).
    assert set(Counter("".join(code.replace("-", "")[:-1] for code in codes))) == set(ALPHABET)


def test_normalise_and_format():
    data = SAMPLE_DATA[0]
    code = data + compute_check_symbol(data)
    formatted = format_recovery_code(code)
    assert formatted == "-".join(code[i:i + 4] for i in range(0, 20, 4))
    assert normalise_recovery_code(formatted) == code
    assert format_recovery_code(formatted) == formatted


def test_typing_is_forgiven():
    for code in sample_codes():
        formatted = format_recovery_code(code)
        variants = [
            formatted.lower(),
            formatted.replace("-", " "),
            formatted.replace("-", ""),
            formatted.replace("-", "."),
            formatted.replace("-", "_"),
            formatted.replace("-", "\u2013"),  # a phone's autocorrected dash
            "  " + formatted.replace("-", "\u00a0") + "\n",
            formatted.replace("0", "O").replace("1", "I"),
            formatted.replace("1", "l").lower(),
            formatted.replace("V", "U"),
        ]
        for variant in variants:
            assert normalise_recovery_code(variant) == code, variant


@pytest.mark.parametrize("text", [
    "", "ABCD", "K7QM-3XRT-9HPD-WB2N-F6C!", "K7QM-3XRT-9HPD-WB2N-F6CA-0", "x" * 200, None, 12345,
    "K7QM-3XRT-9HPD-WB2N-F6Cß", "\uff2b7QM-3XRT-9HPD-WB2N-F6CA", "K7QM/3XRT/9HPD/WB2N/F6CA",
])
def test_malformed_codes(text):
    with pytest.raises(InvalidCode):
        normalise_recovery_code(text)


def test_non_ascii_lookalikes_are_not_uppercased_into_symbols():
    data = "S" * 18 + "1"
    code = data + compute_check_symbol(data)
    assert normalise_recovery_code(code) == code
    with pytest.raises(InvalidCode):  # "ß".upper() == "SS", "ı".upper() == "I"
        normalise_recovery_code("ß" * 9 + "ı" + code[-1])


# --- the check symbol ----------------------------------------------------------------------------------
def test_each_position_contributes_a_permutation_so_every_substitution_is_caught_for_every_code():
    """Proof for all 32**19 codes at once.

    The check value is minus the sum, mod 32, of one contribution per position; a position contributes
    either v (weight 1) or fold(2v) (weight 2). Changing one symbol changes only its own contribution,
    so it is caught exactly when that position's contribution map is one-to-one. Checking both maps
    over all 32 values is therefore an exhaustive proof.
    """
    doubled = {compute_check_symbol(symbol) for symbol in ALPHABET}  # rightmost data symbol: weight 2
    single = {compute_check_symbol(symbol + "0") for symbol in ALPHABET}  # next one: weight 1
    assert len(doubled) == len(single) == 32


def test_every_single_substitution_is_caught_on_sample_codes():
    for code in sample_codes():
        for index in range(CODE_SYMBOLS):
            for symbol in ALPHABET:
                if symbol == code[index]:
                    continue
                with pytest.raises(InvalidCode):
                    normalise_recovery_code(code[:index] + symbol + code[index + 1:])


def swap_is_accepted(code: str, index: int) -> bool:
    try:
        normalise_recovery_code(code[:index] + code[index + 1] + code[index] + code[index + 2:])
    except InvalidCode:
        return False
    return True


def test_adjacent_swaps_are_all_caught_but_zero_and_z():
    """Exhaustive over every ordered pair of distinct symbols at every pair of neighbouring positions.

    Luhn mod 32 has one blind spot, like Luhn's 09 ↔ 90: swapping neighbours 0 and Z (values 0 and 31)
    leaves the sum unchanged. Every other swap of two different neighbours is caught.
    """
    base = SAMPLE_DATA[0]
    missed = set()
    for index in range(DATA_SYMBOLS - 1):  # two data symbols
        for first in ALPHABET:
            for second in ALPHABET:
                if first != second:
                    data = base[:index] + first + second + base[index + 2:]
                    if swap_is_accepted(data + compute_check_symbol(data), index):
                        missed.add(frozenset((first, second)))
    for lead in ALPHABET:  # the last data symbol and the check symbol: vary the lead to reach every pair
        for last in ALPHABET:
            data = lead + base[1:-1] + last
            code = data + compute_check_symbol(data)
            if code[-1] != last and swap_is_accepted(code, DATA_SYMBOLS - 1):
                missed.add(frozenset(code[-2:]))
    assert missed == {frozenset("0Z")}


@settings(max_examples=200, deadline=None)
@given(data=st.text(alphabet=ALPHABET, min_size=DATA_SYMBOLS, max_size=DATA_SYMBOLS))
def test_any_code_with_its_check_symbol_is_valid(data):
    code = data + compute_check_symbol(data)
    assert normalise_recovery_code(code) == code


def test_check_symbol_refuses_foreign_symbols():
    with pytest.raises(InvalidCode):
        compute_check_symbol("ABCI")


def test_format_refuses_invalid_codes():
    code = sample_codes(0)[0]
    wrong_check = ALPHABET[(ALPHABET.index(code[-1]) + 1) % 32]
    with pytest.raises(InvalidCode):
        format_recovery_code(code[:-1] + wrong_check)


# --- lookup hash ---------------------------------------------------------------------------------------
def test_lookup_hash_is_deterministic_keyed_and_distinct():
    first, second = sample_codes(0)[:2]
    digest = code_lookup_hash(first, LOOKUP_KEY)
    assert len(digest) == 32
    assert digest == code_lookup_hash(first, LOOKUP_KEY)
    assert digest != code_lookup_hash(first, b"b" * 32)
    assert digest != code_lookup_hash(second, LOOKUP_KEY)
    assert first.encode() not in digest


def test_lookup_hash_takes_only_normalised_codes():
    code = sample_codes(0)[0]
    for not_normalised in [format_recovery_code(code), code.lower(), code[:-1]]:
        with pytest.raises(InvalidCode):
            code_lookup_hash(not_normalised, LOOKUP_KEY)


@pytest.mark.parametrize("key", [b"", b"a" * 31, "a" * 32, None])
def test_lookup_hash_needs_a_real_key(key):
    with pytest.raises(InvalidParameters):
        code_lookup_hash(sample_codes(0)[0], key)
