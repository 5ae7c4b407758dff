"""Sealing under a password or recovery code (Argon2id + peppered HKDF + AES-GCM) and under a raw key."""

from __future__ import annotations

import base64
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.errors import DecryptionFailed, InvalidParameters, MalformedInput
from crypto.sealing import (
    DEFAULT_KDF,
    FAST_KDF_FOR_TESTS,
    MAX_ITERATIONS,
    MAX_LANES,
    MAX_MEMORY_KIB,
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

PEPPER = Pepper(1, b"p" * 32)
RING = PepperRing(current=PEPPER)
CONTEXT = b"account:6f1c2a7e-0000-4000-8000-000000000001:identity:password"
CODE_CONTEXT = b"account:6f1c2a7e-0000-4000-8000-000000000001:identity:code"
PASSWORD = "cheval-lune-soleil"
CODE = "K7QM3XRT9HPDWB2NF6CA"
IDENTITY = b"AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ"
HEADER_BYTES = 10
OVERHEAD = HEADER_BYTES + 16 + 12 + 16  # header, salt, nonce, tag


def seal(plaintext=IDENTITY, secret=PASSWORD, **overrides) -> bytes:
    arguments = {"secret": secret, "pepper": PEPPER, "context": CONTEXT, "params": FAST_KDF_FOR_TESTS}
    return seal_with_secret(plaintext, **(arguments | overrides))


def unseal(blob, secret=PASSWORD, **overrides) -> bytes:
    return unseal_with_secret(blob, **({"secret": secret, "peppers": RING, "context": CONTEXT} | overrides))


def failure_message(call) -> str:
    with pytest.raises(DecryptionFailed) as caught:
        call()
    return str(caught.value)


# --- round trips -----------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(plaintext=st.binary(max_size=300),
       secret=st.text(min_size=1, max_size=40) | st.binary(min_size=1, max_size=40))
def test_round_trip(plaintext, secret):
    assert unseal(seal(plaintext, secret), secret) == plaintext


def test_default_kdf_round_trips_once():
    blob = seal(params=DEFAULT_KDF)
    assert read_sealed_params(blob) == (1, DEFAULT_KDF)
    assert unseal(blob) == IDENTITY


def test_blob_layout_and_fresh_randomness():
    first, second = seal(), seal()
    assert len(first) == OVERHEAD + len(IDENTITY)
    assert first != second  # fresh salt and nonce each time
    assert first[:HEADER_BYTES] == second[:HEADER_BYTES]
    assert IDENTITY not in first


def test_str_secret_is_its_utf8_bytes():
    assert unseal(seal(secret="mot-de-passe"), b"mot-de-passe") == IDENTITY


def test_composed_and_decomposed_accents_are_the_same_password():
    composed = unicodedata.normalize("NFC", "café-été")
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    assert unseal(seal(secret=composed), decomposed) == IDENTITY


def test_compatibility_characters_are_not_folded():
    # NFC only: the ligature "ﬁ" is a different character from "fi", so a different password.
    with pytest.raises(DecryptionFailed):
        unseal(seal(secret="\ufb01let"), "filet")


# --- what must not open -----------------------------------------------------------------------------
def test_wrong_password_fails():
    with pytest.raises(DecryptionFailed):
        unseal(seal(), "cheval-lune-soleiL")


def test_wrong_code_fails():
    blob = seal(secret=CODE, context=CODE_CONTEXT)
    assert unseal(blob, CODE, context=CODE_CONTEXT) == IDENTITY
    with pytest.raises(DecryptionFailed):
        unseal(blob, "K7QM3XRT9HPDWB2NF6CB", context=CODE_CONTEXT)


def test_wrong_pepper_fails():
    # Same version number, other secret: what a server with the wrong environment would have.
    with pytest.raises(DecryptionFailed):
        unseal(seal(), peppers=PepperRing(current=Pepper(1, b"q" * 32)))


def test_unknown_pepper_version_fails():
    with pytest.raises(DecryptionFailed):
        unseal(seal(), peppers=PepperRing(current=Pepper(2, b"p" * 32)))


def test_wrong_context_fails():
    with pytest.raises(DecryptionFailed):
        unseal(seal(), context=b"account:6f1c2a7e-0000-4000-8000-000000000002:identity:password")
    with pytest.raises(DecryptionFailed):
        unseal(seal(), context=CODE_CONTEXT)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_single_byte_change_fails(data):
    blob = seal(b"short secret")
    index = data.draw(st.integers(0, len(blob) - 1))
    mask = data.draw(st.integers(1, 255))
    tampered = bytearray(blob)
    tampered[index] ^= mask
    with pytest.raises(DecryptionFailed):
        unseal(bytes(tampered))


def test_every_byte_flipped_fails():
    blob = seal(b"short secret")
    for index in range(len(blob)):
        for mask in (0x01, 0x80):
            tampered = bytearray(blob)
            tampered[index] ^= mask
            with pytest.raises(DecryptionFailed):
                unseal(bytes(tampered))


def test_truncated_or_extended_blobs_fail():
    blob = seal(b"short secret")
    for length in range(len(blob)):
        with pytest.raises(DecryptionFailed):
            unseal(blob[:length])
    with pytest.raises(DecryptionFailed):
        unseal(blob + b"\x00")


@pytest.mark.parametrize("blob", [b"", b"\x01", b"\x02" * 80, "text", None, 12])
def test_garbage_fails(blob):
    with pytest.raises(DecryptionFailed):
        unseal(blob)


def test_every_failure_says_the_same_thing():
    blob = seal()
    tampered = bytearray(blob)
    tampered[-1] ^= 1
    messages = {
        failure_message(lambda: unseal(blob, "wrong")),
        failure_message(lambda: unseal(blob, peppers=PepperRing(current=Pepper(1, b"q" * 32)))),
        failure_message(lambda: unseal(blob, peppers=PepperRing(current=Pepper(9, b"p" * 32)))),
        failure_message(lambda: unseal(blob, context=b"other")),
        failure_message(lambda: unseal(bytes(tampered))),
        failure_message(lambda: unseal(blob[:20])),
        failure_message(lambda: unseal_with_key(blob, key=b"k" * 32, context=CONTEXT)),
    }
    assert len(messages) == 1


def test_absurd_costs_in_a_tampered_header_are_refused():
    for offset, value in [(3, (2**31).to_bytes(4, "big")), (3, (MAX_MEMORY_KIB + 1).to_bytes(4, "big")),
                          (7, (MAX_ITERATIONS + 1).to_bytes(2, "big")), (9, bytes([MAX_LANES + 1])),
                          (7, b"\x00\x00"), (9, b"\x00")]:
        blob = bytearray(seal())
        blob[offset:offset + len(value)] = value
        # Refused while reading the header, before any Argon2id work.
        with pytest.raises(MalformedInput):
            read_sealed_params(bytes(blob))
        with pytest.raises(DecryptionFailed):
            unseal(bytes(blob))


def test_secret_and_key_blobs_are_not_interchangeable():
    key = b"k" * 32
    with pytest.raises(DecryptionFailed):
        unseal(seal_with_key(IDENTITY, key=key, context=CONTEXT))
    with pytest.raises(DecryptionFailed):
        unseal_with_key(seal(), key=key, context=CONTEXT)


# --- refusing to seal badly ------------------------------------------------------------------------------
@pytest.mark.parametrize("secret", ["", b"", "\ud800lone-surrogate", None, 42])
def test_unusable_secrets_are_refused(secret):
    with pytest.raises(InvalidParameters):
        seal(secret=secret)


@pytest.mark.parametrize("context", [b"", "account:1", None])
def test_a_context_is_required(context):
    with pytest.raises(InvalidParameters):
        seal(context=context)
    with pytest.raises(InvalidParameters):
        seal_with_key(b"x", key=b"k" * 32, context=context)


def test_plaintext_must_be_bytes():
    with pytest.raises(InvalidParameters):
        seal(plaintext="text")
    with pytest.raises(InvalidParameters):
        seal(plaintext=5)


# --- KDF parameters ----------------------------------------------------------------------------------------
def test_default_kdf_meets_owasp_and_fast_kdf_is_tiny():
    # OWASP's weakest accepted Argon2id line is m=19 MiB with t=2; any stronger setting is fine.
    assert DEFAULT_KDF.memory_cost >= 46 * 1024 and DEFAULT_KDF.iterations >= 2 and DEFAULT_KDF.lanes >= 1
    assert DEFAULT_KDF.memory_cost * 4 <= MAX_MEMORY_KIB  # room to raise the cost later
    assert FAST_KDF_FOR_TESTS.memory_cost <= 64 and FAST_KDF_FOR_TESTS.iterations == 1


@pytest.mark.parametrize("memory, iterations, lanes", [
    (7, 1, 1), (MAX_MEMORY_KIB + 1, 1, 1), (8, 0, 1), (8, MAX_ITERATIONS + 1, 1), (8, 1, 0), (8, 1, 2),
    (1024, 1, MAX_LANES + 1), (True, 1, 1), (8.0, 1, 1), ("8", 1, 1),
])
def test_kdf_params_out_of_bounds(memory, iterations, lanes):
    with pytest.raises(InvalidParameters):
        KdfParams(memory, iterations, lanes)


def test_params_are_recorded_and_drive_the_reseal_decision():
    params = KdfParams(memory_cost=16, iterations=2, lanes=2)
    blob = seal(params=params)
    assert read_sealed_params(blob) == (1, params)
    assert unseal(blob) == IDENTITY
    assert not needs_reseal(blob, PEPPER, params)
    assert needs_reseal(blob, PEPPER, FAST_KDF_FOR_TESTS)
    assert needs_reseal(b"garbage", PEPPER, params)


def test_pepper_rotation_keeps_old_blobs_open_and_asks_for_a_reseal():
    old_secret, new_secret = base64.b64encode(b"p" * 32).decode(), base64.b64encode(b"n" * 32).decode()
    ring = PepperRing.parse(f"2:{new_secret},1:{old_secret}")
    old_blob = seal()
    assert unseal(old_blob, peppers=ring) == IDENTITY
    assert needs_reseal(old_blob, ring.current, FAST_KDF_FOR_TESTS)
    new_blob = seal(pepper=ring.current)
    assert read_sealed_params(new_blob)[0] == 2
    assert unseal(new_blob, peppers=ring) == IDENTITY
    with pytest.raises(DecryptionFailed):
        unseal(new_blob)  # the old ring does not know pepper 2


# --- peppers --------------------------------------------------------------------------------
def test_pepper_ring_parse():
    one, two = b"\x01" * 32, b"\x02" * 48
    ring = PepperRing.parse(f" 2:{base64.b64encode(two).decode()} , 1:{base64.b64encode(one).decode()}")
    assert ring.current == Pepper(2, two)
    assert ring.older == (Pepper(1, one),)
    assert ring.get(1).secret == one and ring.get(3) is None


@pytest.mark.parametrize("text, says", [
    ("", "no pepper"), ("   ", "no pepper"), (None, "no pepper"),
    ("1", "entry 1"), ("x:" + base64.b64encode(b"k" * 32).decode(), "entry 1"),
    ("0:" + base64.b64encode(b"k" * 32).decode(), "version"),
    ("70000:" + base64.b64encode(b"k" * 32).decode(), "version"),
    ("1:" + base64.b64encode(b"k" * 32).decode() + ",2:!!!", "entry 2"),
    ("1:" + base64.b64encode(b"k" * 16).decode(), "32"),
    ("1:" + base64.b64encode(b"k" * 32).decode() + ",", "entry 2"),
    ("1:" + base64.b64encode(b"k" * 32).decode() + ",1:" + base64.b64encode(b"j" * 32).decode(), "share"),
])
def test_bad_pepper_rings_say_what_is_wrong(text, says):
    with pytest.raises(MalformedInput, match=says) as caught:
        PepperRing.parse(text)
    assert base64.b64encode(b"k" * 12).decode() not in str(caught.value)  # keys are never echoed


@pytest.mark.parametrize("version, secret", [(0, b"k" * 32), (2**16, b"k" * 32), (True, b"k" * 32),
                                             (1, b"k" * 31), (1, "k" * 32)])
def test_bad_peppers(version, secret):
    with pytest.raises(MalformedInput):
        Pepper(version, secret)


def test_pepper_secrets_stay_out_of_repr():
    assert "pppp" not in repr(PEPPER) and "pppp" not in repr(RING)


# --- sealing under a raw key ----------------------------------------------------------------------
KEY = bytes(range(32))


def test_key_sealing_round_trip_and_failures():
    blob = seal_with_key(IDENTITY, key=KEY, context=b"session:1")
    assert len(blob) == 1 + 12 + len(IDENTITY) + 16
    assert unseal_with_key(blob, key=KEY, context=b"session:1") == IDENTITY
    for wrong in [{"key": bytes(32)}, {"context": b"session:2"}, {"key": KEY[:16]}, {"key": "k" * 32}]:
        with pytest.raises(DecryptionFailed):
            unseal_with_key(blob, **({"key": KEY, "context": b"session:1"} | wrong))


@settings(max_examples=30, deadline=None)
@given(plaintext=st.binary(max_size=200), index=st.integers(0, 10_000), mask=st.integers(1, 255))
def test_key_sealing_tamper(plaintext, index, mask):
    blob = bytearray(seal_with_key(plaintext, key=KEY, context=b"session:1"))
    assert unseal_with_key(bytes(blob), key=KEY, context=b"session:1") == plaintext
    blob[index % len(blob)] ^= mask
    with pytest.raises(DecryptionFailed):
        unseal_with_key(bytes(blob), key=KEY, context=b"session:1")


def test_key_sealing_truncation():
    blob = seal_with_key(b"x", key=KEY, context=b"session:1")
    for length in range(len(blob)):
        with pytest.raises(DecryptionFailed):
            unseal_with_key(blob[:length], key=KEY, context=b"session:1")


@pytest.mark.parametrize("key", [b"", b"k" * 31, b"k" * 33, "k" * 32, None])
def test_key_sealing_needs_a_32_byte_key(key):
    with pytest.raises(InvalidParameters):
        seal_with_key(b"x", key=key, context=b"session:1")
