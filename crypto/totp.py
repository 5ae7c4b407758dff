"""Time-based one-time codes (RFC 6238) over pyotp, returning the matched time step.

Replay refusal belongs to the caller: it stores the last accepted step and accepts only a newer one
(``is_replay``), atomically, so two requests or two server instances cannot both accept one code.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import unicodedata
from datetime import datetime

import pyotp

from crypto.errors import InvalidParameters, MalformedInput

PERIOD = 30
SECRET_BITS = 160  # RFC 4226 recommends 160 bits; 32 base32 characters
MIN_DIGITS = 6
MAX_DIGITS = 8
MAX_WINDOW = 10
_MAX_CODE_INPUT = 64


def generate_totp_secret() -> str:
    """A fresh 160-bit secret in base32 (what authenticator apps take), from ``secrets``."""
    return pyotp.random_base32(length=SECRET_BITS // 5)


def provisioning_uri(secret: str, *, account_name: str, issuer: str) -> str:
    """The ``otpauth://totp/...`` URI that an authenticator app reads from a QR code."""
    _decode_secret(secret)
    if not account_name or not issuer or ":" in issuer:
        raise InvalidParameters("a provisioning URI needs an account name and an issuer without ':'")
    return pyotp.TOTP(secret, interval=PERIOD).provisioning_uri(name=account_name, issuer_name=issuer)


def compute_time_step(now: datetime | float, period: int = PERIOD) -> int:
    """The RFC 6238 counter at ``now`` (an aware datetime or a Unix timestamp)."""
    if isinstance(now, datetime):
        # A naive datetime would be read in the server's local time zone: a silent offset of hours.
        if now.tzinfo is None or now.utcoffset() is None:
            raise InvalidParameters("TOTP needs an aware datetime (with a time zone)")
        timestamp = now.timestamp()
    elif isinstance(now, (int, float)) and not isinstance(now, bool):
        timestamp = float(now)
    else:
        raise InvalidParameters("now is a datetime or a Unix timestamp")
    return int(timestamp // period)


def match_totp(secret: str, code: str, *, now: datetime | float, valid_window: int = 1, digits: int = 6,
               digest=hashlib.sha1) -> int | None:
    """The time step whose code equals ``code`` within ±``valid_window`` steps of ``now``, or None.

    Spaces in ``code`` are ignored ("123 456"); anything else that is not a digit gives None. Every
    candidate step is computed and compared in constant time, so timing says nothing about which step
    matched or how close a wrong code was. The caller refuses replays with ``is_replay``.
    """
    if not isinstance(valid_window, int) or not 0 <= valid_window <= MAX_WINDOW:
        raise InvalidParameters(f"valid_window is 0 to {MAX_WINDOW} steps")
    if not isinstance(digits, int) or not MIN_DIGITS <= digits <= MAX_DIGITS:
        raise InvalidParameters(f"a TOTP code has {MIN_DIGITS} to {MAX_DIGITS} digits")
    _decode_secret(secret)
    current = compute_time_step(now)
    typed = _ascii_digits(code)
    if typed is None or len(typed) != digits:
        return None
    totp = pyotp.TOTP(secret, digits=digits, digest=digest, interval=PERIOD)
    matched = None
    # Counters are never negative (pyotp refuses them): near the epoch the window is cut short.
    for step in range(max(0, current - valid_window), current + valid_window + 1):
        if hmac.compare_digest(totp.generate_otp(step).encode(), typed) and matched is None:
            matched = step
    return matched


def is_replay(step: int, last_step: int | None) -> bool:
    """True when ``step`` is not newer than the last accepted step (a code used again, or an older one)."""
    return last_step is not None and step <= last_step


def _ascii_digits(code: str) -> bytes | None:
    """The digits typed, as ASCII bytes, or None when ``code`` holds anything but digits and spaces."""
    if not isinstance(code, str) or len(code) > _MAX_CODE_INPUT:
        return None
    kept = "".join(code.split())
    # Decimal digits of any script count as what they are: a phone set to Arabic types ١٢٣ for 123.
    if not kept or not all(character.isdecimal() for character in kept):
        return None
    return "".join(str(unicodedata.decimal(character)) for character in kept).encode("ascii")


def _decode_secret(secret: str) -> bytes:
    if not isinstance(secret, str) or not secret:
        raise MalformedInput("a TOTP secret is base32 text")
    try:
        return pyotp.TOTP(secret).byte_secret()
    except (binascii.Error, ValueError):
        raise MalformedInput("a TOTP secret is base32 text") from None
