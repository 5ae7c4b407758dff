"""Fixtures for the sign-in services, on the real databases (imported by the test modules that use them)."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field

import pytest

from crypto.sealing import FAST_KDF_FOR_TESTS, KeyRing, PepperRing
from vault import accounts
from vault.db import make_engine, make_session_factory, migrate
from vault.keys import KeyConfig
from vault.settings import Timeouts
from vault.throttle import Attempt

PASSWORD = "cheval-lune-tambour-9"
TIMEOUTS = Timeouts()


def random_key_text(version: int = 1) -> str:
    return f"{version}:{base64.b64encode(secrets.token_bytes(32)).decode()}"


@pytest.fixture
def keys() -> KeyConfig:
    return KeyConfig(peppers=PepperRing.parse(random_key_text()), app_keys=KeyRing.parse(random_key_text()),
                     password_kdf=FAST_KDF_FOR_TESTS)


@pytest.fixture
def session_factory(database_url):
    engine = make_engine(database_url)
    migrate(engine)
    yield make_session_factory(engine)
    engine.dispose()


@dataclass
class Enrolled:
    id: str
    username: str
    password: str
    recovery_codes: list[str] = field(repr=False)


def enrol(session_factory, keys: KeyConfig, username: str, *, now, password: str = PASSWORD) -> Enrolled:
    with session_factory() as db:
        enrolment = accounts.enrol_person(db, keys=keys, username=username, password=password, now=now)
        db.commit()
        return Enrolled(enrolment.account.id, enrolment.account.username, password, enrolment.recovery_codes)


def attempt_from(session_factory, address: str | None = "192.0.2.10", *device_tokens: str) -> Attempt:
    return Attempt(throttle_sessions=session_factory, address=address, device_tokens=tuple(device_tokens))
