"""Rotating the application key (issue 6, point 14): a new version in front, the old one kept. Codes of the
printed sheet and the TOTP secret made before still work; the secret moves to the new key when used."""

from __future__ import annotations

import base64
import secrets
from dataclasses import replace

import pyotp
import pytest

from crypto.sealing import KeyRing, key_ring_version
from tests.web.conftest import Api
from vault.models import Account
from web.app import create_app

pytestmark = pytest.mark.usefixtures("database_url")


def test_codes_totp_and_devices_survive_a_rotation(settings, clock):
    old_app = create_app(settings, clock=clock)
    old = Api(old_app.test_client(), old_app)
    person = old.person("rotated1")
    client = old_app.test_client()
    secret = client.post("/api/v1/me/otp", json={"password": person.password}, headers=person.auth).get_json()["secret"]
    assert client.post("/api/v1/me/otp/confirm", json={"code": pyotp.TOTP(secret).at(clock())},
                       headers=person.auth).status_code == 204
    clock.advance(seconds=30)
    device = old.sign_in(person, otp=pyotp.TOTP(secret).at(clock())).get_json()["device_token"]

    current = settings.app_keys.current
    ring = KeyRing.parse(f"{current.version + 1}:{base64.b64encode(secrets.token_bytes(32)).decode()},"
                         f"{current.version}:{base64.b64encode(current.secret).decode()}")
    new_app = create_app(replace(settings, app_keys=ring), clock=clock)
    new = Api(new_app.test_client(), new_app)
    clock.advance(seconds=30)
    with_totp = new.sign_in(person, otp=pyotp.TOTP(secret).at(clock()), device_token=device)
    assert with_totp.status_code == 201, with_totp.get_json()
    with new_app.extensions["consigne"].session_factory() as session:
        assert key_ring_version(session.get(Account, person.id).otp_secret_sealed) == current.version + 1
    with_code = new.sign_in(person, recovery_code=person.recovery_codes[7])
    assert with_code.status_code == 201 and with_code.get_json()["recovery_codes_left"] == 9
    clock.advance(seconds=30)
    assert new.sign_in(person, otp=pyotp.TOTP(secret).at(clock())).status_code == 201  # the re-sealed secret opens
