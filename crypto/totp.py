"""TOTP (RFC 6238) over pyotp, returning the matched time step.

Replay refusal belongs to the caller: it stores the last accepted step and accepts only a newer one
(atomically, so two instances cannot both accept the same code).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

import pyotp

PERIOD = 30


def generate_totp_secret() -> str:
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, *, account_name: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account_name, issuer_name=issuer)


def time_step(now: datetime | float, period: int = PERIOD) -> int:
    timestamp = now.timestamp() if isinstance(now, datetime) else float(now)
    return int(timestamp // period)


def match_totp(secret: str, code: str, *, now: datetime | float, valid_window: int = 1, digits: int = 6,
               digest=hashlib.sha1) -> int | None:
    """The time step whose code equals ``code`` (within ±valid_window steps), or None.

    Every candidate is compared in constant time and all are compared, so timing says nothing about
    which step matched.
    """
    if not isinstance(code, str):
        return None
    code = "".join(code.split())
    if len(code) != digits or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=digits, digest=digest, interval=PERIOD)
    current = time_step(now)
    matched = None
    for step in range(current - valid_window, current + valid_window + 1):
        if hmac.compare_digest(totp.generate_otp(step), code) and matched is None:
            matched = step
    return matched


def is_replay(step: int, last_step: int | None) -> bool:
    return last_step is not None and step <= last_step
