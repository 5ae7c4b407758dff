"""TOTP: RFC 6238 appendix B vectors, the time window, tolerant input and replay steps."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from crypto.errors import InvalidParameters, MalformedInput
from crypto.totp import (
    PERIOD,
    SECRET_BITS,
    compute_time_step,
    generate_totp_secret,
    is_replay,
    match_totp,
    provisioning_uri,
)

# RFC 6238 appendix B: the seed is the ASCII digits, repeated to the hash's block-ish length.
SEEDS = {
    hashlib.sha1: b"12345678901234567890",
    hashlib.sha256: b"12345678901234567890123456789012",
    hashlib.sha512: b"1234567890123456789012345678901234567890123456789012345678901234",
}
VECTORS = [  # (Unix time, SHA1, SHA256, SHA512), 8 digits
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOW = 1_699_999_980  # the start of a step (a multiple of 30); tests never read the clock


def b32(seed: bytes) -> str:
    return base64.b32encode(seed).decode()


@pytest.mark.parametrize("when, sha1, sha256, sha512", VECTORS)
@pytest.mark.parametrize("digest", [hashlib.sha1, hashlib.sha256, hashlib.sha512],
                         ids=["sha1", "sha256", "sha512"])
def test_rfc6238_vectors(when, sha1, sha256, sha512, digest):
    code = {hashlib.sha1: sha1, hashlib.sha256: sha256, hashlib.sha512: sha512}[digest]
    secret = b32(SEEDS[digest])
    assert match_totp(secret, code, now=when, digits=8, digest=digest, valid_window=0) == when // PERIOD
    # As an aware datetime too.
    moment = datetime.fromtimestamp(when, tz=UTC)
    assert match_totp(secret, code, now=moment, digits=8, digest=digest, valid_window=0) == when // PERIOD


@pytest.mark.parametrize("when, sha1, sha256, sha512", VECTORS[:3])
def test_rfc6238_vectors_fail_under_another_digest(when, sha1, sha256, sha512):
    secret = b32(SEEDS[hashlib.sha1])
    assert match_totp(secret, sha1, now=when, digits=8, digest=hashlib.sha256, valid_window=0) is None


def code_at(step: int, secret: str = SECRET) -> str:
    return pyotp.TOTP(secret).generate_otp(step)


def test_window_accepts_neighbouring_steps_and_returns_the_matched_step():
    current = NOW // PERIOD
    for offset in (-1, 0, 1):
        assert match_totp(SECRET, code_at(current + offset), now=NOW) == current + offset
    for offset in (-3, -2, 2, 3):
        assert match_totp(SECRET, code_at(current + offset), now=NOW) is None


def test_window_zero_and_two():
    current = NOW // PERIOD
    assert match_totp(SECRET, code_at(current), now=NOW, valid_window=0) == current
    assert match_totp(SECRET, code_at(current - 1), now=NOW, valid_window=0) is None
    assert match_totp(SECRET, code_at(current - 2), now=NOW, valid_window=2) == current - 2
    assert match_totp(SECRET, code_at(current + 2), now=NOW, valid_window=2) == current + 2


def test_step_boundaries():
    start = (NOW // PERIOD) * PERIOD
    code = code_at(start // PERIOD)
    assert match_totp(SECRET, code, now=start, valid_window=0) == start // PERIOD
    assert match_totp(SECRET, code, now=start + PERIOD - 0.001, valid_window=0) == start // PERIOD
    assert match_totp(SECRET, code, now=start + PERIOD, valid_window=0) is None


@settings(max_examples=50, deadline=None)
@given(when=st.integers(min_value=0, max_value=2**34), offset=st.integers(-1, 1))
def test_agrees_with_pyotp(when, offset):
    step = when // PERIOD + offset
    assume(step >= 0)  # there is no negative counter (test_near_the_epoch)
    assert match_totp(SECRET, pyotp.TOTP(SECRET).generate_otp(step), now=when) == step


def test_near_the_epoch():
    assert match_totp(SECRET, code_at(0), now=0) == 0
    assert match_totp(SECRET, code_at(1), now=0) == 1


def test_spaces_and_other_scripts_digits_are_forgiven():
    current = NOW // PERIOD
    code = code_at(current)
    for typed in [f" {code[:3]} {code[3:]} ", "\t".join(code), code + "\n"]:
        assert match_totp(SECRET, typed, now=NOW, valid_window=0) == current
    arabic_indic = "".join(chr(0x0660 + int(digit)) for digit in code)
    assert match_totp(SECRET, arabic_indic, now=NOW, valid_window=0) == current


@pytest.mark.parametrize("typed", ["", "      ", "abcdef", "12345", "1234567", "12-345", "12345a", "¹²³⁴⁵⁶",
                                   None, 123456, b"123456", "1" * 1000])
def test_non_codes_give_none(typed):
    assert match_totp(SECRET, typed, now=NOW) is None


def test_wrong_code_gives_none():
    current = NOW // PERIOD
    good = {code_at(current + offset) for offset in (-1, 0, 1)}
    wrong = next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in good)
    assert match_totp(SECRET, wrong, now=NOW) is None


def test_replay_helper():
    assert is_replay(5, 5) and is_replay(4, 5)
    assert not is_replay(6, 5) and not is_replay(0, None)


def test_replay_refusal_as_a_caller_does_it():
    last_step = None
    current = NOW // PERIOD
    code = code_at(current)
    step = match_totp(SECRET, code, now=NOW)
    assert step is not None and not is_replay(step, last_step)
    last_step = step
    # The same code 20 seconds later still matches (window), but is a replay.
    again = match_totp(SECRET, code, now=NOW + 20)
    assert again == step and is_replay(again, last_step)
    # An older code from the window is refused as well.
    older = match_totp(SECRET, code_at(current - 1), now=NOW + 20)
    assert is_replay(older, last_step)


def test_naive_datetimes_are_refused():
    with pytest.raises(InvalidParameters):
        match_totp(SECRET, "123456", now=datetime(2026, 1, 1, 12, 0))
    with pytest.raises(InvalidParameters):
        compute_time_step("2026-01-01")


def test_time_step_from_datetime_or_timestamp():
    moment = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert compute_time_step(moment) == compute_time_step(moment.timestamp()) == int(moment.timestamp()) // 30
    paris = moment.astimezone(timezone(timedelta(hours=1)))
    assert compute_time_step(paris) == compute_time_step(moment)


@pytest.mark.parametrize("arguments",
                         [{"valid_window": -1}, {"valid_window": 11}, {"digits": 5}, {"digits": 9}])
def test_parameter_bounds(arguments):
    with pytest.raises(InvalidParameters):
        match_totp(SECRET, "123456", now=NOW, **arguments)


@pytest.mark.parametrize("secret", ["", "not base32!", "0189", None])
def test_bad_secrets(secret):
    with pytest.raises(MalformedInput):
        match_totp(secret, "123456", now=NOW)


def test_generated_secrets():
    secrets_made = {generate_totp_secret() for _ in range(50)}
    assert len(secrets_made) == 50
    for secret in secrets_made:
        assert len(base64.b32decode(secret)) * 8 == SECRET_BITS == 160


def test_provisioning_uri():
    secret = generate_totp_secret()
    uri = provisioning_uri(secret, account_name="soleil42", issuer="Consigne")
    parsed = urlparse(uri)
    assert parsed.scheme == "otpauth" and parsed.netloc == "totp"
    query = parse_qs(parsed.query)
    assert query["secret"] == [secret] and query["issuer"] == ["Consigne"]
    assert "soleil42" in parsed.path
    with pytest.raises(InvalidParameters):
        provisioning_uri(secret, account_name="soleil42", issuer="Con:signe")
    with pytest.raises(InvalidParameters):
        provisioning_uri(secret, account_name="", issuer="Consigne")
