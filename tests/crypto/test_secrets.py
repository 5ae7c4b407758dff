"""Sealing, recovery codes, TOTP, signatures and passphrases."""

from __future__ import annotations

import base64
import hashlib
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.codes import (
    ALPHABET,
    CODE_BITS,
    code_lookup_hash,
    format_recovery_code,
    generate_recovery_code,
    normalise_recovery_code,
)
from crypto.errors import DecryptionFailed, InvalidCode, InvalidSignature, MalformedInput
from crypto.passphrases import generate_passphrase, load_wordlist, passphrase_bits
from crypto.sealing import (
    DEFAULT_KDF,
    FAST_KDF_FOR_TESTS,
    KdfParams,
    Pepper,
    PepperRing,
    needs_reseal,
    read_sealed_params,
    seal_with_key,
    seal_with_secret,
    unseal_with_key,
    unseal_with_secret,
)
from crypto.signing import SigningKey, VerifyKey
from crypto.totp import is_replay, match_totp

PEPPER = Pepper(1, b"p" * 32)
RING = PepperRing(current=PEPPER)
CONTEXT = b"consigne:account:1:identity:password"


def seal(plaintext=b"AGE-SECRET-KEY-1XYZ", secret="cheval-lune-9", **overrides):
    arguments = {"secret": secret, "pepper": PEPPER, "context": CONTEXT, "params": FAST_KDF_FOR_TESTS} | overrides
    return seal_with_secret(plaintext, **arguments)


# --- sealing ---------------------------------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(plaintext=st.binary(max_size=200), secret=st.text(min_size=1, max_size=40))
def test_seal_round_trip(plaintext, secret):
    assert unseal_with_secret(seal(plaintext, secret), secret=secret, peppers=RING, context=CONTEXT) == plaintext


def test_default_kdf_round_trip_once():
    blob = seal(params=DEFAULT_KDF)
    assert read_sealed_params(blob) == (1, DEFAULT_KDF)
    assert unseal_with_secret(blob, secret="cheval-lune-9", peppers=RING, context=CONTEXT) == b"AGE-SECRET-KEY-1XYZ"


@pytest.mark.parametrize("change", ["password", "pepper", "context", "code"])
def test_wrong_password_pepper_context_or_code_fails(change):
    blob = seal(secret="K7QM3XRT9HPDWB2NF6CA" if change == "code" else "cheval-lune-9")
    arguments = {"secret": "cheval-lune-9", "peppers": RING, "context": CONTEXT}
    if change in ("password", "code"):
        arguments["secret"] = "K7QM3XRT9HPDWB2NF6CB" if change == "code" else "cheval-lune-8"
    if change == "pepper":
        arguments["peppers"] = PepperRing(current=Pepper(1, b"q" * 32))
    if change == "context":
        arguments["context"] = b"consigne:account:2:identity:password"
    with pytest.raises(DecryptionFailed):
        unseal_with_secret(blob, **arguments)


def test_every_byte_flip_fails():
    blob = seal()
    for index in range(len(blob)):
        tampered = bytearray(blob)
        tampered[index] ^= 0x01
        with pytest.raises(DecryptionFailed):
            unseal_with_secret(bytes(tampered), secret="cheval-lune-9", peppers=RING, context=CONTEXT)
    with pytest.raises(DecryptionFailed):
        unseal_with_secret(blob[:-1], secret="cheval-lune-9", peppers=RING, context=CONTEXT)


def test_absurd_costs_in_a_tampered_blob_are_refused_before_any_work():
    blob = bytearray(seal())
    blob[3:7] = (2**31).to_bytes(4, "big")  # memory cost field
    with pytest.raises(DecryptionFailed):
        unseal_with_secret(bytes(blob), secret="cheval-lune-9", peppers=RING, context=CONTEXT)


def test_pepper_rotation_and_reseal():
    new_ring = PepperRing.parse(f"2:{base64.b64encode(b'n' * 32).decode()},1:{base64.b64encode(b'p' * 32).decode()}")
    old_blob = seal()
    assert unseal_with_secret(old_blob, secret="cheval-lune-9", peppers=new_ring, context=CONTEXT)
    assert needs_reseal(old_blob, new_ring.current, FAST_KDF_FOR_TESTS)
    assert not needs_reseal(old_blob, PEPPER, FAST_KDF_FOR_TESTS)
    assert needs_reseal(old_blob, PEPPER, KdfParams(16, 1, 1))


@pytest.mark.parametrize("text", ["", "1", "x:abc", "1:" + "A" * 8, "1:!!!"])
def test_bad_pepper_rings(text):
    with pytest.raises(MalformedInput):
        PepperRing.parse(text)


def test_key_sealing():
    key = b"k" * 32
    blob = seal_with_key(b"identity", key=key, context=b"session:1")
    assert unseal_with_key(blob, key=key, context=b"session:1") == b"identity"
    for wrong in [{"key": b"j" * 32}, {"context": b"session:2"}]:
        with pytest.raises(DecryptionFailed):
            unseal_with_key(blob, **({"key": key, "context": b"session:1"} | wrong))


# --- recovery codes --------------------------------------------------------------------------------
def test_codes_shape_and_entropy():
    codes = {generate_recovery_code() for _ in range(200)}
    assert len(codes) == 200 and CODE_BITS >= 80
    for code in codes:
        groups = code.split("-")
        assert [len(group) for group in groups] == [4] * 5
        assert format_recovery_code(normalise_recovery_code(code)) == code


def test_tolerant_input():
    code = generate_recovery_code()
    normalised = normalise_recovery_code(code)
    loose = " " + code.lower().replace("-", " ").replace("0", "o").replace("1", "l") + " "
    assert normalise_recovery_code(loose) == normalised
    assert normalise_recovery_code(code.replace("-", "")) == normalised


def test_every_single_substitution_is_caught():
    for _ in range(20):
        normalised = normalise_recovery_code(generate_recovery_code())
        for index in range(len(normalised)):
            for symbol in ALPHABET:
                if symbol == normalised[index]:
                    continue
                typo = normalised[:index] + symbol + normalised[index + 1:]
                with pytest.raises(InvalidCode):
                    normalise_recovery_code(typo)


def test_most_adjacent_swaps_are_caught():
    caught = total = 0
    for _ in range(50):
        normalised = normalise_recovery_code(generate_recovery_code())
        for index in range(len(normalised) - 1):
            if normalised[index] == normalised[index + 1]:
                continue
            swapped = normalised[:index] + normalised[index + 1] + normalised[index] + normalised[index + 2:]
            total += 1
            try:
                normalise_recovery_code(swapped)
            except InvalidCode:
                caught += 1
    assert caught / total > 0.9


@pytest.mark.parametrize("text", ["", "ABCD", "K7QM-3XRT-9HPD-WB2N-F6C!", "x" * 200, None])
def test_malformed_codes(text):
    with pytest.raises(InvalidCode):
        normalise_recovery_code(text)


def test_lookup_hash_is_keyed():
    code = normalise_recovery_code(generate_recovery_code())
    assert code_lookup_hash(code, b"a" * 32) != code_lookup_hash(code, b"b" * 32)
    assert code.encode() not in code_lookup_hash(code, b"a" * 32)


# --- TOTP: RFC 6238 appendix B ---------------------------------------------------------------------
SEEDS = {hashlib.sha1: b"12345678901234567890", hashlib.sha256: b"12345678901234567890123456789012",
         hashlib.sha512: b"1234567890123456789012345678901234567890123456789012345678901234"}
VECTORS = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]


@pytest.mark.parametrize("when, sha1, sha256, sha512", VECTORS)
def test_rfc6238_vectors(when, sha1, sha256, sha512):
    for digest, code in [(hashlib.sha1, sha1), (hashlib.sha256, sha256), (hashlib.sha512, sha512)]:
        secret = base64.b32encode(SEEDS[digest]).decode()
        assert match_totp(secret, code, now=when, digits=8, digest=digest, valid_window=0) == when // 30


def test_window_and_replay_helper():
    import pyotp

    secret = pyotp.random_base32()
    code = pyotp.TOTP(secret).at(1_000_000)
    assert match_totp(secret, code, now=1_000_000 + 30) == 1_000_000 // 30
    assert match_totp(secret, code, now=1_000_000 + 90) is None
    assert match_totp(secret, " ".join(code), now=1_000_000) == 1_000_000 // 30
    assert match_totp(secret, "abcdef", now=1_000_000) is None
    assert is_replay(5, 5) and is_replay(4, 5) and not is_replay(6, 5) and not is_replay(1, None)


# --- Ed25519: RFC 8032 test vectors 1 and 2 ----------------------------------------------------------
RFC8032 = [
    ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
    ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
]


@pytest.mark.parametrize("private, public, message, signature", RFC8032)
def test_ed25519_vectors(private, public, message, signature):
    key = SigningKey(bytes.fromhex(private))
    assert key.verify_key.public_bytes.hex() == public
    assert key.sign(bytes.fromhex(message)).hex() == signature
    VerifyKey(bytes.fromhex(public)).verify(bytes.fromhex(message), bytes.fromhex(signature))
    with pytest.raises(InvalidSignature):
        VerifyKey(bytes.fromhex(public)).verify(bytes.fromhex(message) + b"x", bytes.fromhex(signature))


def test_signing_key_encoding():
    key = SigningKey.generate()
    again = SigningKey.from_encoded(key.encode())
    assert again.verify_key.public_bytes == key.verify_key.public_bytes
    assert key.encode() not in repr(key)
    with pytest.raises(MalformedInput):
        SigningKey.from_encoded("ed25519:@@@")


# --- passphrases -----------------------------------------------------------------------------------
def test_word_list_bounds():
    words = load_wordlist()
    assert len(words) >= 700 and len(set(words)) == len(words)
    assert all(3 <= len(word) <= 7 and set(word) <= set(string.ascii_lowercase) for word in words)


def test_passphrases_are_long_enough_and_strong_enough():
    assert passphrase_bits() >= 44
    for _ in range(50):
        phrase = generate_passphrase()
        assert 8 <= len(phrase) <= 4 * 8 + 2
        assert phrase.count("-") == 4
