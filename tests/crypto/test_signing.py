"""Ed25519 signing keys for watermarked duplicates: RFC 8032 vectors, tampering, encodings, key ids."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.errors import InvalidSignature, MalformedInput
from crypto.signing import SigningKey, VerifyKey, compute_key_id

# RFC 8032 section 7.1, TEST 1, TEST 2 and TEST 3: (secret key, public key, message, signature).
RFC8032 = [
    ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
     "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
     "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
    ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
     "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
     "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
    ("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
     "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
     "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
]


@pytest.mark.parametrize("private, public, message, signature", RFC8032, ids=["test1", "test2", "test3"])
def test_rfc8032_vectors(private, public, message, signature):
    key = SigningKey.from_private_bytes(bytes.fromhex(private))
    assert key.verify_key.public_bytes.hex() == public
    assert key.sign(bytes.fromhex(message)).hex() == signature
    VerifyKey(bytes.fromhex(public)).verify(bytes.fromhex(message), bytes.fromhex(signature))


@pytest.mark.parametrize("private, public, message, signature", RFC8032, ids=["test1", "test2", "test3"])
def test_rfc8032_vectors_tampered(private, public, message, signature):
    verify_key = VerifyKey.from_public_bytes(bytes.fromhex(public))
    message, signature = bytes.fromhex(message), bytes.fromhex(signature)
    with pytest.raises(InvalidSignature):
        verify_key.verify(message + b"x", signature)
    for index in range(len(signature)):
        tampered = bytearray(signature)
        tampered[index] ^= 0x01
        with pytest.raises(InvalidSignature):
            verify_key.verify(message, bytes(tampered))


@settings(max_examples=40, deadline=None)
@given(data=st.binary(min_size=1, max_size=300), index=st.integers(0, 10_000), mask=st.integers(1, 255))
def test_any_change_to_the_data_is_caught(data, index, mask):
    key = SigningKey.from_private_bytes(bytes(range(32)))
    signature = key.sign(data)
    key.verify_key.verify(data, signature)
    tampered = bytearray(data)
    tampered[index % len(data)] ^= mask
    with pytest.raises(InvalidSignature):
        key.verify_key.verify(bytes(tampered), signature)


def test_another_key_does_not_verify():
    signer, other = SigningKey.generate(), SigningKey.generate()
    with pytest.raises(InvalidSignature):
        other.verify_key.verify(b"duplicate", signer.sign(b"duplicate"))


@pytest.mark.parametrize("signature", [b"", b"\x00" * 63, b"\x00" * 65, "x" * 64, None])
def test_malformed_signatures_do_not_verify(signature):
    with pytest.raises(InvalidSignature):
        SigningKey.generate().verify_key.verify(b"duplicate", signature)


def test_private_bytes_round_trip_and_generate():
    key = SigningKey.generate()
    again = SigningKey.from_private_bytes(key.to_private_bytes())
    assert again.verify_key == key.verify_key
    assert len(key.to_private_bytes()) == 32
    assert SigningKey.generate().verify_key != key.verify_key


def test_key_id_is_a_short_sha256_of_the_public_key():
    key = SigningKey.from_private_bytes(bytes.fromhex(RFC8032[0][0]))
    public = bytes.fromhex(RFC8032[0][1])
    assert key.key_id == key.verify_key.key_id == compute_key_id(public)
    assert compute_key_id(public) == hashlib.sha256(public).hexdigest()[:16]


def test_encoded_forms_round_trip():
    key = SigningKey.generate()
    encoded = key.encode()
    prefix, key_id, body = encoded.split(":")
    assert prefix == "ed25519" and key_id == key.key_id and base64.b64decode(body) == key.to_private_bytes()
    assert SigningKey.from_encoded(encoded).verify_key == key.verify_key
    assert SigningKey.from_encoded(f"  {encoded}\n").verify_key == key.verify_key
    public = key.verify_key.encode()
    assert public.startswith(f"ed25519-public:{key.key_id}:")
    assert VerifyKey.from_encoded(public) == key.verify_key


def test_first_encoded_form_without_a_key_id_is_still_read():
    key = SigningKey.generate()
    legacy = "ed25519:" + base64.b64encode(key.to_private_bytes()).decode()
    assert SigningKey.from_encoded(legacy).verify_key == key.verify_key


def test_a_key_id_that_does_not_match_is_refused():
    key, other = SigningKey.generate(), SigningKey.generate()
    _, _, body = key.encode().split(":")
    with pytest.raises(MalformedInput, match="key id"):
        SigningKey.from_encoded(f"ed25519:{other.key_id}:{body}")
    _, _, public_body = key.verify_key.encode().split(":")
    with pytest.raises(MalformedInput, match="key id"):
        VerifyKey.from_encoded(f"ed25519-public:{other.key_id}:{public_body}")


@pytest.mark.parametrize("text", [
    "", "ed25519:", "ed25519:@@@", "ed25519:abc:@@@", "ed25519:" + base64.b64encode(b"k" * 31).decode(),
    "x25519:" + base64.b64encode(b"k" * 32).decode(),
    "ed25519-public:" + base64.b64encode(b"k" * 32).decode(),
    "ed25519:a:b:c", None, 42,
])
def test_malformed_private_encodings(text):
    with pytest.raises(MalformedInput):
        SigningKey.from_encoded(text)


@pytest.mark.parametrize("text", ["", "ed25519-public:" + base64.b64encode(b"k" * 32).decode(),
                                  SigningKey.generate().encode()])
def test_malformed_public_encodings(text):
    # The public form always carries its key id; a private key is never taken for a public one.
    with pytest.raises(MalformedInput):
        VerifyKey.from_encoded(text)


@pytest.mark.parametrize("raw", [b"", b"k" * 31, b"k" * 33, "k" * 32, None])
def test_raw_keys_have_32_bytes(raw):
    with pytest.raises(MalformedInput):
        SigningKey(raw)
    with pytest.raises(MalformedInput):
        VerifyKey(raw)


def test_private_key_stays_out_of_repr():
    key = SigningKey.generate()
    body = key.encode().split(":")[2]
    assert body not in repr(key) and key.key_id in repr(key)
    assert key.to_private_bytes().hex() not in repr(key)
