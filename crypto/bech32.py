"""Bech32 (BIP173, not Bech32m) as used by age for its key encodings.

age drops BIP173's 90-character limit (its post-quantum recipients are much longer), so the limit is a
parameter here. A string is either all lowercase or all uppercase; the checksum is always computed over
the lowercase form. The human-readable part (HRP) is returned in the case it was written in, because age
gives meaning to the case: recipients are lowercase (``age1…``), identities uppercase
(``AGE-SECRET-KEY-1…``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from crypto.errors import MalformedInput

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
BIP173_MAX_LENGTH = 90
CHECKSUM_LENGTH = 6
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_VALUES = {character: value for value, character in enumerate(CHARSET)}


def _polymod(values: Iterable[int]) -> int:
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for bit, generator in enumerate(_GENERATOR):
            if (top >> bit) & 1:
                checksum ^= generator
    return checksum


def _expand_hrp(hrp: str) -> list[int]:
    codes = [ord(character) for character in hrp]
    return [code >> 5 for code in codes] + [0] + [code & 31 for code in codes]


def _check_hrp(hrp: str) -> None:
    if not hrp:
        raise MalformedInput("Bech32 string has an empty human-readable part")
    if any(not 33 <= ord(character) <= 126 for character in hrp):
        raise MalformedInput("Bech32 human-readable part has a character out of range")


def encode_words(hrp: str, words: Sequence[int]) -> str:
    """Encode 5-bit ``words`` under ``hrp``; the result has the case of ``hrp`` (which must not be mixed)."""
    _check_hrp(hrp)
    if hrp.lower() != hrp and hrp.upper() != hrp:
        raise MalformedInput("Bech32 human-readable part mixes upper and lower case")
    if any(not 0 <= word < 32 for word in words):
        raise MalformedInput("Bech32 words must be 5-bit values")
    lower = hrp.lower()
    polymod = _polymod(_expand_hrp(lower) + list(words) + [0] * CHECKSUM_LENGTH) ^ 1
    checksum = [(polymod >> 5 * (5 - index)) & 31 for index in range(CHECKSUM_LENGTH)]
    text = lower + "1" + "".join(CHARSET[word] for word in list(words) + checksum)
    return text.upper() if hrp.upper() == hrp and hrp.lower() != hrp else text


def decode_words(text: str, *, max_length: int | None = None) -> tuple[str, list[int]]:
    """Decode ``text`` into its HRP (in the case written) and its 5-bit data words, checksum removed.

    Raises MalformedInput for mixed case, characters out of range, a missing separator, an empty HRP,
    a short or wrong checksum, or a string longer than ``max_length`` (None: no limit, as in age).
    """
    if max_length is not None and len(text) > max_length:
        raise MalformedInput("Bech32 string is too long")
    if any(not 33 <= ord(character) <= 126 for character in text):
        raise MalformedInput("Bech32 string has a character out of range")
    lower = text.lower()
    if lower != text and text.upper() != text:
        raise MalformedInput("Bech32 string mixes upper and lower case")
    separator = lower.rfind("1")
    if separator < 0:
        raise MalformedInput("Bech32 string has no separator")
    if separator == 0:
        raise MalformedInput("Bech32 string has an empty human-readable part")
    if len(lower) - separator - 1 < CHECKSUM_LENGTH:
        raise MalformedInput("Bech32 checksum is too short")
    try:
        words = [_VALUES[character] for character in lower[separator + 1:]]
    except KeyError:
        raise MalformedInput("Bech32 data part has an invalid character") from None
    if _polymod(_expand_hrp(lower[:separator]) + words) != 1:
        raise MalformedInput("Bech32 checksum does not match")
    return text[:separator], words[:-CHECKSUM_LENGTH]


def convert_bits(values: Iterable[int], from_bits: int, to_bits: int, *, pad: bool) -> list[int]:
    """Regroup ``values`` of ``from_bits`` bits into groups of ``to_bits`` bits.

    With ``pad`` the last group is completed with zero bits (encoding). Without it, leftover bits must be
    fewer than ``from_bits`` and all zero (decoding), so every byte string has exactly one encoding.
    """
    accumulator = 0
    bits = 0
    result: list[int] = []
    mask = (1 << to_bits) - 1
    for value in values:
        if value < 0 or value >> from_bits:
            raise MalformedInput("Bech32 value out of range")
        accumulator = (accumulator << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            result.append((accumulator >> bits) & mask)
    if pad:
        if bits:
            result.append((accumulator << (to_bits - bits)) & mask)
    elif bits >= from_bits or (accumulator << (to_bits - bits)) & mask:
        raise MalformedInput("Bech32 data has invalid padding")
    return result


def encode(hrp: str, data: bytes) -> str:
    """Encode the bytes ``data`` under ``hrp``; the string takes the case of ``hrp``."""
    return encode_words(hrp, convert_bits(data, 8, 5, pad=True))


def decode(text: str, *, max_length: int | None = None) -> tuple[str, bytes]:
    """Decode ``text`` into (HRP as written, data bytes); strict about padding bits and checksum."""
    hrp, words = decode_words(text, max_length=max_length)
    return hrp, bytes(convert_bits(words, 5, 8, pad=False))
