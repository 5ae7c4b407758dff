"""age v1: round trips, tampering, strict header grammar, scrypt rules, key wrapping for shares."""

import base64
import io
import os
import random

import pytest
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import age, stream
from crypto.errors import CryptoError, DecryptionFailed, InvalidParameters, MalformedInput, NoIdentityMatched

CHUNK = stream.CHUNK_SIZE
SEALED = stream.ENCRYPTED_CHUNK_SIZE
ALICE = age.X25519Identity.generate()
BOB = age.X25519Identity.generate()
MALLORY = age.X25519Identity.generate()
FAST = 4  # scrypt work factor for tests that do not check the default
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
# A point of order 8 on Curve25519: X25519 with it gives an all-zero shared secret.
ORDER_8_POINT = bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def hkdf(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(ikm)


def pull(reader, sizes, use_readinto=False) -> bytes:
    """Read ``reader`` to the end with read sizes cycling through ``sizes``."""
    out = bytearray()
    for step in range(10_000_000):
        size = sizes[step % len(sizes)]
        if use_readinto:
            buffer = bytearray(size)
            piece = buffer[:reader.readinto(buffer)]
        else:
            piece = reader.read(size)
        assert len(piece) <= size
        if not piece:
            return bytes(out)
        out += piece
    raise AssertionError("the reader never ended")


def open_all(data: bytes, read_size: int = 8192, **keys) -> tuple[bytes, CryptoError | None]:
    """Decrypt as far as possible: (plaintext released, error or None)."""
    out = bytearray()
    try:
        reader = age.decrypting_reader(io.BytesIO(data), **keys)
        while piece := reader.read(read_size):
            out += piece
    except CryptoError as error:
        return bytes(out), error
    return bytes(out), None


def header_length(data: bytes) -> int:
    return len(age.read_header(io.BytesIO(data)).to_bytes())


def craft(chunks, *, stanzas=None, file_key=b"k" * 16) -> bytes:
    """An age file assembled with the primitives directly: chunks are (counter, plaintext, final)."""
    stanzas = [ALICE.recipient.wrap(file_key)] if stanzas is None else stanzas
    header = age.write_header(stanzas, file_key).to_bytes()
    nonce = os.urandom(16)
    aead = ChaCha20Poly1305(hkdf(file_key, nonce, b"payload"))
    body = b"".join(aead.encrypt(counter.to_bytes(11, "big") + bytes([final]), plaintext, None)
                    for counter, plaintext, final in chunks)
    return header + nonce + body


def test_the_payload_follows_the_spec_derivations():
    file_key = os.urandom(16)
    plaintext = os.urandom(CHUNK + 10)
    data = age.encrypting_reader(io.BytesIO(plaintext), [ALICE.recipient], file_key=file_key).read()
    header = age.read_header(io.BytesIO(data))
    mac = hmac.HMAC(hkdf(file_key, b"", b"header"), hashes.SHA256())
    mac.update(data[:data.index(b"\n---") + 4])
    assert mac.finalize() == header.mac
    start = len(header.to_bytes())
    nonce, payload = data[start:start + 16], data[start + 16:]
    aead = ChaCha20Poly1305(hkdf(file_key, nonce, b"payload"))
    assert aead.decrypt(bytes(11) + b"\0", payload[:SEALED], None) == plaintext[:CHUNK]
    assert aead.decrypt(b"\0" * 10 + b"\1\1", payload[SEALED:], None) == plaintext[CHUNK:]
    assert age.unwrap_file_key(header, [ALICE]) == file_key


SIZES = st.one_of(st.sampled_from([0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 2 * CHUNK + 1]),
                  st.integers(0, 3 * CHUNK))
READ_SIZES = st.lists(st.one_of(st.integers(1, 300), st.integers(300, 3 * CHUNK)), min_size=1, max_size=5)


@settings(max_examples=40, deadline=None)
@given(size=SIZES, seed=st.integers(0, 2**32), reads=READ_SIZES, use_readinto=st.booleans())
def test_round_trip_with_any_size_and_read_sizes(size, seed, reads, use_readinto):
    plaintext = random.Random(seed).randbytes(size)
    ciphertext = pull(age.encrypting_reader(io.BytesIO(plaintext), [ALICE.recipient]), reads, use_readinto)
    chunks = max(1, -(-size // CHUNK))  # an empty plaintext is one empty final chunk
    assert len(ciphertext) == header_length(ciphertext) + 16 + size + 16 * chunks
    reader = age.decrypting_reader(io.BytesIO(ciphertext), identities=[ALICE])
    assert pull(reader, reads, use_readinto) == plaintext
    assert reader.read(10) == b"" and reader.read() == b""


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK])
def test_byte_at_a_time_reads_around_chunk_boundaries(size):
    plaintext = os.urandom(size)
    ciphertext = age.encrypt_bytes(plaintext, [ALICE.recipient])
    reader = age.decrypting_reader(io.BytesIO(ciphertext), identities=[ALICE])
    head = reader.read(max(0, size - 70))
    assert head + pull(reader, [1, 2, 3], use_readinto=True) == plaintext


def test_convenience_functions_and_multiple_recipients():
    plaintext = os.urandom(3 * CHUNK + 7)
    src, dst = io.BytesIO(plaintext), io.BytesIO()
    written = age.encrypt(src, dst, [ALICE.recipient, BOB.recipient.to_string()])
    assert written == len(dst.getvalue()) and not src.closed
    for identity in (ALICE, BOB, BOB.to_string()):
        out = io.BytesIO()
        assert age.decrypt(io.BytesIO(dst.getvalue()), out, identities=[identity]) == len(plaintext)
        assert out.getvalue() == plaintext
    assert age.decrypt_bytes(dst.getvalue(), identities=[MALLORY, BOB]) == plaintext
    with pytest.raises(NoIdentityMatched):
        age.decrypt_bytes(dst.getvalue(), identities=[MALLORY])


def test_scrypt_round_trip_and_wrong_passphrase():
    data = age.encrypt_bytes(b"papers", [age.ScryptRecipient("pässwörd", work_factor=FAST)])
    assert age.decrypt_bytes(data, passphrase="pässwörd") == b"papers"
    assert age.decrypt_bytes(data, passphrase="pässwörd".encode()) == b"papers"
    assert age.decrypt_bytes(data, identities=[age.ScryptIdentity("pässwörd")]) == b"papers"
    with pytest.raises(NoIdentityMatched):
        age.decrypt_bytes(data, passphrase="password")
    with pytest.raises(NoIdentityMatched):  # a scrypt stanza is not for an X25519 identity
        age.decrypt_bytes(data, identities=[ALICE])
    with pytest.raises(MalformedInput, match="limit"):
        age.decrypt_bytes(data, identities=[age.ScryptIdentity("pässwörd", max_work_factor=FAST - 1)])


def test_scrypt_default_work_factor_is_18():
    data = age.encrypt_bytes(b"x", [age.ScryptRecipient("long enough")])
    assert age.read_header(io.BytesIO(data)).stanzas[0].args[1] == "18"
    assert age.decrypt_bytes(data, passphrase="long enough") == b"x"


def scrypt_stanza(*args, body=bytes(32)):
    return age.Stanza("scrypt", args, body)


@pytest.mark.parametrize("stanza", [
    *(scrypt_stanza(b64(bytes(16)), factor) for factor in
      ["0", "018", "05", "1a", "+5", "-1", "0x10", "23", "99", "9" * 5000]),
    scrypt_stanza(b64(bytes(16))),  # work factor missing
    scrypt_stanza(b64(bytes(16)), "4", "extra"),
    scrypt_stanza(b64(bytes(15)), "4"),
    scrypt_stanza(b64(bytes(17)), "4"),
    scrypt_stanza(b64(bytes(16))[:-1] + "B", "4"),  # non-canonical salt
    scrypt_stanza(b64(bytes(16)) + "==", "4"),
    scrypt_stanza(b64(bytes(16)), "4", body=bytes(48)),  # long file key
], ids=repr)
def test_malformed_scrypt_stanzas_are_rejected(stanza):
    with pytest.raises(MalformedInput):
        age.decrypt_bytes(craft([(0, b"x", 1)], stanzas=[stanza]), passphrase="secret")


def test_scrypt_must_be_the_only_stanza():
    # Written by hand: write_header itself refuses to mix scrypt with other stanzas.
    stanzas = [scrypt_stanza(b64(bytes(16)), "4"), ALICE.recipient.wrap(b"k" * 16)]
    mixed = (b"age-encryption.org/v1\n" + b"".join(map(age.format_stanza, stanzas)) + b"--- " + b"A" * 43
             + b"\n" + bytes(16 + 17))
    with pytest.raises(InvalidParameters):
        age.write_header(stanzas, b"k" * 16)
    with pytest.raises(MalformedInput, match="only stanza"):
        age.read_header(io.BytesIO(mixed))
    with pytest.raises(MalformedInput, match="only stanza"):
        age.decrypt_bytes(mixed, identities=[ALICE])
    with pytest.raises(InvalidParameters):
        age.encrypt_bytes(b"x", [age.ScryptRecipient("secret", FAST), ALICE.recipient])
    with pytest.raises(InvalidParameters):
        age.encrypt_bytes(b"x", [age.ScryptRecipient("a", FAST), age.ScryptRecipient("b", FAST)])


@pytest.mark.parametrize("work_factor", [0, 23, -1, True, "18", 18.0])
def test_scrypt_parameters_are_checked(work_factor):
    with pytest.raises(InvalidParameters):
        age.ScryptRecipient("secret", work_factor)
    with pytest.raises(InvalidParameters):
        age.ScryptIdentity("secret", work_factor)


def test_empty_passphrase_is_refused():
    with pytest.raises(InvalidParameters):
        age.ScryptRecipient("")


def test_every_byte_flip_of_a_small_file_is_rejected():
    data = age.encrypt_bytes(os.urandom(200), [ALICE.recipient])
    for position in range(len(data)):
        for mask in (0x01, 0x80, 0xFF):
            tampered = bytearray(data)
            tampered[position] ^= mask
            released, error = open_all(bytes(tampered), identities=[ALICE])
            assert error is not None and released == b"", position


def test_byte_flips_in_every_region_of_a_two_chunk_file_are_rejected():
    plaintext = os.urandom(CHUNK + 5)
    data = age.encrypt_bytes(plaintext, [ALICE.recipient])
    start = header_length(data) + 16
    rng = random.Random(1)
    regions = {
        "header": (range(start - 16), b""),
        "nonce": (range(start - 16, start), b""),
        "chunk 0": ([start, start + 1, start + CHUNK - 1] + rng.sample(range(start, start + CHUNK), 40), b""),
        "tag 0": (range(start + CHUNK, start + SEALED), b""),
        # The first chunk is verified on its own and may be released before the second one fails.
        "chunk 1": (range(start + SEALED, start + SEALED + 5), plaintext[:CHUNK]),
        "tag 1": (range(start + SEALED + 5, len(data)), plaintext[:CHUNK]),
    }
    for name, (positions, allowed) in regions.items():
        for position in positions:
            tampered = bytearray(data)
            tampered[position] ^= 0x01
            released, error = open_all(bytes(tampered), identities=[ALICE])
            assert error is not None and released == allowed, (name, position)
            if name not in ("header", "nonce"):
                assert isinstance(error, DecryptionFailed) and not isinstance(error, NoIdentityMatched)


def test_every_truncation_and_extension_of_a_small_file_is_rejected():
    plaintext = os.urandom(200)
    data = age.encrypt_bytes(plaintext, [ALICE.recipient])
    for length in range(len(data)):
        released, error = open_all(data[:length], identities=[ALICE])
        assert error is not None and released == b"", length
    for extra in (b"\0", os.urandom(16), data[-16:], data[-216:]):
        released, error = open_all(data + extra, identities=[ALICE])
        assert isinstance(error, DecryptionFailed) and released == b""


def test_truncations_and_extensions_around_chunk_boundaries_are_rejected():
    plaintext = os.urandom(CHUNK + 5)
    data = age.encrypt_bytes(plaintext, [ALICE.recipient])
    start = header_length(data) + 16
    cuts = {start - 17, start - 16, start - 15, start - 1, start, start + 1, start + 15, start + 16,
            start + CHUNK, start + SEALED - 1, start + SEALED, start + SEALED + 1, start + SEALED + 16,
            len(data) - 16, len(data) - 1}
    for length in sorted(cuts):
        released, error = open_all(data[:length], identities=[ALICE])
        assert error is not None and plaintext.startswith(released) and len(released) < len(plaintext), length
    for extra in (b"\0", os.urandom(SEALED), data[start:start + SEALED]):
        released, error = open_all(data + extra, identities=[ALICE])
        assert isinstance(error, DecryptionFailed) and released == plaintext[:CHUNK]


def test_removed_swapped_or_repeated_chunks_are_rejected():
    plaintext = os.urandom(2 * CHUNK + 100)
    data = age.encrypt_bytes(plaintext, [ALICE.recipient])
    start = header_length(data) + 16
    head, c0, c1, c2 = data[:start], data[start:start + SEALED], data[start + SEALED:start + 2 * SEALED], \
        data[start + 2 * SEALED:]
    assert head + c0 + c1 + c2 == data
    for chunks in ([c0, c2], [c1, c0, c2], [c0, c1], [c0, c0, c1, c2], [c0, c1, c1, c2], [c0, c1, c2, c2],
                   [c0, c2, c1], [c2]):
        released, error = open_all(head + b"".join(chunks), identities=[ALICE])
        assert isinstance(error, DecryptionFailed) and plaintext.startswith(released)
        assert len(released) < len(plaintext)


def test_stream_rules_on_crafted_payloads():
    full, short = os.urandom(CHUNK), b"tail"
    assert open_all(craft([(0, b"", 1)]), identities=[ALICE]) == (b"", None)
    assert open_all(craft([(0, full, 1)]), identities=[ALICE]) == (full, None)
    assert open_all(craft([(0, full, 0), (1, short, 1)]), identities=[ALICE]) == (full + short, None)
    rejected = {
        "empty final chunk after a full one": [(0, full, 0), (1, b"", 1)],
        "short non-final chunk": [(0, short, 0), (1, short, 1)],
        "two final chunks": [(0, short, 1), (1, short, 1)],
        "full chunks without a final one": [(0, full, 0), (1, full, 0)],
        "no chunk at all": [],
        "counter not starting at zero": [(1, short, 1)],
        "oversized chunk": [(0, full + b"x", 1)],
        "skipped counter": [(0, full, 0), (2, short, 1)],
    }
    for name, chunks in rejected.items():
        _, error = open_all(craft(chunks), identities=[ALICE])
        assert isinstance(error, DecryptionFailed), name


def test_chunk_counter_cannot_wrap():
    assert stream.chunk_nonce(stream.COUNTER_LIMIT - 1, final=True) == b"\xff" * 11 + b"\x01"
    with pytest.raises(InvalidParameters):
        stream.chunk_nonce(stream.COUNTER_LIMIT, final=False)


def test_a_failed_reader_stays_failed_and_releases_nothing_of_the_bad_chunk():
    plaintext = os.urandom(2 * CHUNK + 1)
    data = bytearray(age.encrypt_bytes(plaintext, [ALICE.recipient]))
    data[header_length(data) + 16 + SEALED + 3] ^= 1
    reader = age.decrypting_reader(io.BytesIO(bytes(data)), identities=[ALICE])
    assert reader.read(CHUNK) == plaintext[:CHUNK]
    buffer = bytearray(b"\xaa" * 100)
    with pytest.raises(DecryptionFailed):
        reader.readinto(buffer)
    assert buffer == b"\xaa" * 100
    with pytest.raises(DecryptionFailed):
        reader.read(1)


class CountingSource(io.RawIOBase):
    """An endless source that counts how much was pulled from it."""

    def __init__(self):
        self.pulled = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        self.pulled += len(buffer)
        return len(buffer)


def test_readers_pull_only_what_they_need():
    source = CountingSource()
    reader = age.encrypting_reader(source, [ALICE.recipient])
    reader.read(100)  # part of the header
    assert source.pulled == 0
    reader.read(1000)
    assert source.pulled == CHUNK + 1  # one chunk and the look-ahead byte
    for _ in range(20):
        reader.read(SEALED)
    assert source.pulled <= 21 * CHUNK + 1  # one chunk ahead at most, never the whole stream
    ciphertext = io.BytesIO(age.encrypt_bytes(os.urandom(5 * CHUNK), [ALICE.recipient]))
    decrypting = age.decrypting_reader(ciphertext, identities=[ALICE])
    decrypting.read(1)
    assert ciphertext.tell() <= header_length(ciphertext.getvalue()) + 16 + SEALED + 1


def test_closing_a_reader_closes_its_source():
    source = io.BytesIO(b"x")
    age.encrypting_reader(source, [ALICE.recipient]).close()
    assert source.closed
    ciphertext = io.BytesIO(age.encrypt_bytes(b"x", [ALICE.recipient]))
    reader = age.decrypting_reader(ciphertext, identities=[ALICE])
    reader.close()
    assert ciphertext.closed


def test_non_blocking_sources_are_refused():
    class WouldBlock(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, buffer):
            return None

    with pytest.raises(InvalidParameters):
        age.encrypting_reader(WouldBlock(), [ALICE.recipient]).read()


def test_a_low_order_recipient_is_refused():
    with pytest.raises(MalformedInput):
        age.encrypt_bytes(b"x", [age.X25519Recipient.from_public_bytes(ORDER_8_POINT)])


def test_wrong_parameters_are_refused():
    for call in (lambda: age.encrypt_bytes(b"x", []),
                 lambda: age.encrypt_bytes(b"x", ALICE.recipient.to_string()),
                 lambda: age.encrypting_reader(io.BytesIO(), [ALICE.recipient], file_key=b"short"),
                 lambda: age.decrypt_bytes(age.encrypt_bytes(b"x", [ALICE.recipient])),
                 lambda: age.decrypt_bytes(b"", identities=[ALICE], file_key=b"k" * 16),
                 lambda: age.wrap_file_key(b"k" * 15, BOB.recipient)):
        with pytest.raises(InvalidParameters):
            call()


def reference_file() -> tuple[bytes, bytes]:
    """A file for Alice with two unknown stanzas: a 48-byte body (a full 64-column line then an empty
    one) and a 60-byte body (a 64-column line then a 16-column one)."""
    file_key = os.urandom(16)
    stanzas = [ALICE.recipient.wrap(file_key), age.Stanza("example.org/grease", ("a", "b"), bytes(range(48))),
               age.Stanza("example.org/long", (), bytes(range(60)))]
    data = craft([(0, b"hello", 1)], stanzas=stanzas, file_key=file_key)
    return data, file_key


def edit_header(data: bytes, old: bytes, new: bytes) -> bytes:
    cut = header_length(data)
    assert data[:cut].count(old) == 1, old
    return data[:cut].replace(old, new) + data[cut:]


def test_reference_file_and_exact_header_consumption():
    data, file_key = reference_file()
    source = io.BytesIO(data)
    header = age.read_header(source)
    assert source.tell() == len(header.to_bytes()) and data.startswith(header.to_bytes())
    assert header.stanzas[1].body == bytes(range(48))
    assert b"\n" + b64(bytes(range(48))).encode() + b"\n\n-> example.org/long\n" in data
    assert age.decrypt_bytes(data, identities=[ALICE]) == b"hello"  # unknown stanzas are ignored
    assert age.decrypt_bytes(data, file_key=file_key) == b"hello"


def non_canonical(text: bytes) -> bytes:
    """Flip an unused low bit of the last base64 character (valid alphabet, non-canonical value)."""
    return text[:-1] + B64[B64.index(chr(text[-1])) ^ 1].encode()


def header_lines(data: bytes) -> list[bytes]:
    return data[:header_length(data)].split(b"\n")


def header_variants(data: bytes) -> dict[str, bytes]:
    lines = header_lines(data)
    share_line, body_line, grease_full = lines[1], lines[2], lines[4]
    long_first, long_last, mac_line = lines[7], lines[8], lines[9]
    assert len(long_first) == 64 and len(long_last) == 16
    share, mac = share_line.split(b" ")[2], mac_line[4:]
    return {
        "padded share": edit_header(data, share, share + b"="),
        "padded body": edit_header(data, body_line + b"\n", body_line + b"=\n"),
        "padded MAC": edit_header(data, mac, mac + b"="),
        "non-canonical MAC": edit_header(data, mac, non_canonical(mac)),
        "non-canonical body": edit_header(data, body_line + b"\n", non_canonical(body_line) + b"\n"),
        "CRLF everywhere": data[:header_length(data)].replace(b"\n", b"\r\n") + data[header_length(data):],
        "CR in a stanza line": edit_header(data, share_line + b"\n", share_line + b"\r\n"),
        "CR in a body line": edit_header(data, body_line + b"\n", body_line + b"\r\n"),
        "CR in the MAC line": edit_header(data, mac_line + b"\n", mac_line + b"\r\n"),
        "unknown version": edit_header(data, b"age-encryption.org/v1\n", b"age-encryption.org/v2\n"),
        "version with a space": edit_header(data, b"age-encryption.org/v1\n", b"age-encryption.org/v1 \n"),
        "not age": edit_header(data, b"age-encryption.org/v1\n", b"rage-encryption.org/v1\n"),
        "missing MAC": edit_header(data, b"\n" + mac_line + b"\n", b"\n"),
        "MAC line without MAC": edit_header(data, mac_line, b"---"),
        "MAC line with two spaces": edit_header(data, mac_line, b"---  " + mac),
        "MAC line with trailing space": edit_header(data, mac_line, mac_line + b" "),
        "short MAC": edit_header(data, mac, mac[:-4]),
        # Same base64 text as the original, only moved across the line break.
        "65-column line": edit_header(data, long_first + b"\n" + long_last,
                                      long_first + long_last[:1] + b"\n" + long_last[1:]),
        "whole body on one line": edit_header(data, long_first + b"\n" + long_last,
                                              long_first + long_last + b"\n"),
        "full final line without the empty line": edit_header(data, grease_full + b"\n\n",
                                                              grease_full + b"\n"),
        "two short lines": edit_header(data, body_line + b"\n",
                                       body_line[:20] + b"\n" + body_line[20:] + b"\n"),
        "empty argument": edit_header(data, b"-> X25519 ", b"-> X25519  "),
        "no argument": edit_header(data, b"-> example.org/grease a b\n", b"->\n"),
        "space but no argument": edit_header(data, b"-> example.org/grease a b\n", b"-> \n"),
        "bad stanza start": edit_header(data, b"-> X25519", b"->X25519"),
        "non-ASCII argument": edit_header(data, b"grease a b", "grease é b".encode()),
        "no stanza": b"age-encryption.org/v1\n" + mac_line + b"\n" + data[header_length(data):],
        "empty file": b"",
        "header without end": b"age-encryption.org/v1\n-> " + b"a" * (2 << 20),
    }


def test_header_grammar_is_strict():
    data, _ = reference_file()
    for name, variant in header_variants(data).items():
        with pytest.raises(MalformedInput):
            age.decrypt_bytes(variant, identities=[ALICE])
        if name != "padded share":  # arguments are opaque to the grammar; the X25519 identity checks it
            with pytest.raises(MalformedInput):
                age.read_header(io.BytesIO(variant))


def x25519_stanza(share: bytes, body: bytes = bytes(32), *extra: str, kind: str = "X25519") -> age.Stanza:
    return age.Stanza(kind, (b64(share), *extra), body)


@pytest.mark.parametrize("stanza, error", [
    (x25519_stanza(os.urandom(32), bytes(32), "extra"), MalformedInput),
    (x25519_stanza(os.urandom(31)), MalformedInput),
    (x25519_stanza(os.urandom(33)), MalformedInput),
    (age.Stanza("X25519", (non_canonical(b64(b"\x09" * 32).encode()).decode(),), bytes(32)), MalformedInput),
    (x25519_stanza(os.urandom(32), bytes(48)), MalformedInput),  # a longer file key
    (x25519_stanza(bytes(32)), MalformedInput),  # low-order point: all-zero shared secret
    (x25519_stanza(ORDER_8_POINT), MalformedInput),
    (x25519_stanza(os.urandom(32), kind="x25519"), NoIdentityMatched),  # types are case-sensitive
    (x25519_stanza(os.urandom(32)), NoIdentityMatched),  # wrong body: the tag does not verify
], ids=repr)
def test_x25519_stanza_rules(stanza, error):
    with pytest.raises(error):
        age.decrypt_bytes(craft([(0, b"x", 1)], stanzas=[stanza]), identities=[ALICE])


def test_header_mac_protects_every_stanza():
    data, file_key = reference_file()
    forged = edit_header(data, b"-> example.org/grease a b", b"-> example.org/grease a c")
    for keys in ({"identities": [ALICE]}, {"file_key": file_key}):
        with pytest.raises(DecryptionFailed) as caught:
            age.decrypt_bytes(forged, **keys)
        assert not isinstance(caught.value, NoIdentityMatched)
    with pytest.raises(DecryptionFailed):
        age.decrypt_bytes(data, file_key=os.urandom(16))


def test_wrapping_an_existing_file_key_for_a_second_person():
    plaintext = os.urandom(CHUNK + 3)
    data = age.encrypt_bytes(plaintext, [ALICE.recipient])
    header = age.read_header(io.BytesIO(data))
    file_key = age.unwrap_file_key(header, [ALICE.to_string()])
    stored = age.format_stanza(age.wrap_file_key(file_key, BOB.recipient)).decode("ascii")  # a text column
    unwrapped = age.unwrap_stanza(age.parse_stanza(stored), [BOB])
    assert unwrapped == file_key
    assert pull(age.decrypting_reader(io.BytesIO(data), file_key=unwrapped), [5000]) == plaintext
    with pytest.raises(NoIdentityMatched):
        age.decrypt_bytes(data, identities=[BOB])  # the file itself is unchanged
    with pytest.raises(NoIdentityMatched):
        age.unwrap_stanza(age.parse_stanza(stored), [MALLORY])
    with pytest.raises(NoIdentityMatched):
        age.unwrap_file_key(header, [BOB])


ARGUMENT = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=12)


@settings(max_examples=80, deadline=None)
@given(kind=ARGUMENT, args=st.lists(ARGUMENT, max_size=3), body=st.binary(max_size=150))
def test_stanza_text_round_trip(kind, args, body):
    stanza = age.Stanza(kind, tuple(args), body)
    text = age.format_stanza(stanza)
    assert all(len(line) <= 64 for line in text.split(b"\n")[1:])
    assert len(text.rstrip(b"\n").split(b"\n")[-1]) < 64 or text.endswith(b"\n\n")
    assert age.parse_stanza(text) == stanza == age.parse_stanza(text.decode())
    with pytest.raises(MalformedInput):
        age.parse_stanza(text + b"\n")


def test_parse_stanza_is_strict():
    text = age.format_stanza(age.Stanza("t", ("a",), bytes(48)))
    assert text.endswith(b"\n\n")
    for bad in (text[:-1], text[:-2], text + b"x", text.replace(b"\n", b"\r\n"), b"-> t a\n=\n", b"t a\n\n",
                text.replace(b"-> t a", b"-> t  a"), "-> t a\né\n", "-> t é\n\n", "-> t \udc80\n\n"):
        with pytest.raises(MalformedInput):
            age.parse_stanza(bad)
    for bad_type in ("two words", "", "é", "\udc80", "tab\t"):
        with pytest.raises(MalformedInput):
            age.Stanza(bad_type, (), b"")


@settings(max_examples=150, deadline=None)
@given(garbage=st.binary(max_size=300))
def test_garbage_only_raises_crypto_errors(garbage):
    for data in (garbage, b"age-encryption.org/v1\n" + garbage):
        with pytest.raises(CryptoError):
            age.decrypt_bytes(data, identities=[ALICE])


SMALL_FILE = age.encrypt_bytes(b"0123456789" * 30, [ALICE.recipient])


@settings(max_examples=150, deadline=None)
@given(position=st.integers(0, len(SMALL_FILE)), delete=st.integers(0, 40), insert=st.binary(max_size=40))
def test_edited_files_only_raise_crypto_errors(position, delete, insert):
    edited = SMALL_FILE[:position] + insert + SMALL_FILE[position + delete:]
    if edited != SMALL_FILE:
        released, error = open_all(edited, identities=[ALICE])
        assert isinstance(error, CryptoError) and released == b""
