"""Bech32 (BIP173 test vectors) and the age key encodings built on it."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import age, bech32
from crypto.errors import MalformedInput

# BIP173, "Test vectors": valid Bech32 strings.
BIP173_VALID = [
    "A12UEL5L",
    "a12uel5l",
    "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
    "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
    "11qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqc8247j",
    "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
    "?1ezyfcl",
]

# BIP173, "Test vectors": invalid Bech32 strings (with the reason given there).
BIP173_INVALID = [
    "\x201nwldj5",  # HRP character out of range
    "\x7f1axkwrx",  # HRP character out of range
    "\x801eym55h",  # HRP character out of range
    "an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1569pvx",  # too long
    "pzry9x0s0muk",  # no separator character
    "1pzry9x0s0muk",  # empty HRP
    "x1b4n0q5v",  # invalid data character
    "li1dgmt3",  # too short checksum
    "de1lg7wt\xff",  # invalid character in checksum
    "A1G7SGD8",  # checksum calculated with uppercase form of HRP
    "10a06t8",  # empty HRP
    "1qzzfhee",  # empty HRP
]

# The example pair of the age specification (c2sp.org/age), confirmed with `age-keygen -y`.
SPEC_IDENTITY = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX"
SPEC_RECIPIENT = "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj"
# A test-only pair made with `age-keygen`; the recipient is what `age-keygen -y` printed for it.
KEYGEN_IDENTITY = "AGE-SECRET-KEY-107UDPFQKJJ0SLTFEHK4WHNU2D74UCZ759CX6K7WTJDFVGDU9D7SQPQ5FWT"
KEYGEN_RECIPIENT = "age1nryxchy8dxdhn048wg2nffjftrdl2vu6qpn9uuxwc36ms0hu4scqy8jklw"


@pytest.mark.parametrize("text", BIP173_VALID)
def test_bip173_valid_strings_decode_and_encode_back(text):
    hrp, words = bech32.decode_words(text, max_length=bech32.BIP173_MAX_LENGTH)
    assert hrp == text[:text.rfind("1")]
    assert bech32.encode_words(hrp, words) == text


@pytest.mark.parametrize("text", BIP173_INVALID)
def test_bip173_invalid_strings_are_rejected(text):
    with pytest.raises(MalformedInput):
        bech32.decode_words(text, max_length=bech32.BIP173_MAX_LENGTH)


def test_age_lifts_the_length_limit():
    # The only BIP173 invalid vector that is wrong *only* because of its length is valid for age.
    hrp, words = bech32.decode_words(BIP173_INVALID[3])
    assert hrp.startswith("an84") and words == []


def test_a_single_changed_character_breaks_the_checksum():
    text = bech32.encode("age", bytes(range(32)))
    for position in range(4, len(text)):
        for replacement in "qp":
            if text[position] != replacement:
                changed = text[:position] + replacement + text[position + 1:]
                with pytest.raises(MalformedInput):
                    bech32.decode(changed)


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=80), upper=st.booleans())
def test_bytes_round_trip(data, upper):
    hrp = "AGE-SECRET-KEY-" if upper else "age"
    text = bech32.encode(hrp, data)
    assert text == (text.upper() if upper else text.lower())
    assert bech32.decode(text) == (hrp, data)


def test_mixed_case_is_rejected():
    text = bech32.encode("age", bytes(32))
    mixed = text[:10] + text[10:].upper()
    with pytest.raises(MalformedInput, match="mixes"):
        bech32.decode(mixed)
    with pytest.raises(MalformedInput):
        bech32.encode_words("Age", [0])


def test_padding_bits_must_be_zero_and_short():
    # 32 bytes are 256 bits = 52 words with 4 padding bits; set one of them.
    words = bech32.convert_bits(bytes(32), 8, 5, pad=True)
    assert len(words) == 52
    with pytest.raises(MalformedInput, match="padding"):
        bech32.decode(bech32.encode_words("age", words[:-1] + [1]))
    # One byte is 2 words (2 padding bits); a third zero word makes 7 leftover bits, a whole word or
    # more of padding: not a canonical encoding.
    assert bech32.decode(bech32.encode_words("age", [0, 0])) == ("age", b"\0")
    with pytest.raises(MalformedInput, match="padding"):
        bech32.decode(bech32.encode_words("age", [0, 0, 0]))


def test_words_must_be_five_bits():
    with pytest.raises(MalformedInput):
        bech32.encode_words("age", [32])


@pytest.mark.parametrize("identity, recipient", [(SPEC_IDENTITY, SPEC_RECIPIENT),
                                                 (KEYGEN_IDENTITY, KEYGEN_RECIPIENT)])
def test_known_age_key_pairs(identity, recipient):
    parsed = age.X25519Identity.from_string(identity)
    assert parsed.recipient.to_string() == recipient
    assert parsed.to_string() == identity
    assert age.X25519Recipient.from_string(recipient) == parsed.recipient
    assert age.X25519Recipient.from_public_bytes(parsed.public_bytes) == parsed.recipient


def test_generated_identities_round_trip():
    identity = age.X25519Identity.generate()
    again = age.X25519Identity.from_string(identity.to_string())
    assert again.public_bytes == identity.public_bytes
    assert identity.to_string().startswith("AGE-SECRET-KEY-1")
    assert str(identity.recipient).startswith("age1")
    # The secret never shows in a repr (logs, tracebacks).
    assert identity.to_string() not in repr(identity)
    assert identity.to_string()[15:] not in repr(identity)


@pytest.mark.parametrize("text", [
    SPEC_RECIPIENT.upper(),  # age recipients are lowercase
    SPEC_RECIPIENT[:-1] + ("q" if SPEC_RECIPIENT[-1] != "q" else "p"),  # bad checksum
    SPEC_RECIPIENT[:8] + SPEC_RECIPIENT[8:].upper(),  # mixed case
    SPEC_IDENTITY,  # wrong HRP
    bech32.encode("age", bytes(31)),  # wrong key length
    bech32.encode("agf", bytes(32)),  # wrong HRP
    "",
    "age1",
])
def test_bad_recipient_strings_are_rejected(text):
    with pytest.raises(MalformedInput):
        age.X25519Recipient.from_string(text)


@pytest.mark.parametrize("text", [
    SPEC_IDENTITY.lower(),  # age identities are uppercase
    SPEC_IDENTITY[:-1] + ("Q" if SPEC_IDENTITY[-1] != "Q" else "P"),  # bad checksum
    SPEC_IDENTITY[:20] + SPEC_IDENTITY[20:].lower(),  # mixed case
    SPEC_RECIPIENT,  # wrong HRP
    bech32.encode("AGE-SECRET-KEY-", bytes(33)),  # wrong key length
    bech32.encode("AGE-SECRET-KEY-PQ-", bytes(32)),  # another key type
    "AGE-SECRET-KEY-1",
])
def test_bad_identity_strings_are_rejected(text):
    with pytest.raises(MalformedInput):
        age.X25519Identity.from_string(text)
