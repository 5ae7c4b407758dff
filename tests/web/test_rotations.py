"""Each rotation end to end, as an operator does it: a new secret in front, the old one kept behind it.

- The pepper: a password, a code from the app and a code of the printed sheet all still sign in.
- The signing key: a copy signed before still verifies (its key stays published), a new copy is signed
  with the new key.
(The application key ring: tests/web/test_app_key_rotation.py.)
"""

from __future__ import annotations

import base64
import io
import secrets
from dataclasses import replace

import pyotp
import pytest
import zxingcpp

from crypto.sealing import PepperRing
from crypto.signing import SigningKey, SigningRing, VerifyKey
from tests.vault.duplicate_papers import render_pages, text_pdf
from tests.web.conftest import Api
from vault.duplicates.statement import verify_statement
from web.app import create_app

pytestmark = pytest.mark.usefixtures("database_url")


def _with_new_pepper(settings):
    old = settings.peppers.current
    return PepperRing.parse(f"{old.version + 1}:{base64.b64encode(secrets.token_bytes(32)).decode()},"
                            f"{old.version}:{base64.b64encode(old.secret).decode()}")


def test_after_a_pepper_rotation_a_password_an_app_code_and_a_sheet_code_sign_in(settings, clock):
    old_app = create_app(settings, clock=clock)
    old = Api(old_app.test_client(), old_app)
    person = old.person("poivre1")
    client = old_app.test_client()
    secret = client.post("/api/v1/me/otp", json={"password": person.password}, headers=person.auth).get_json()["secret"]
    assert client.post("/api/v1/me/otp/confirm", json={"code": pyotp.TOTP(secret).at(clock())},
                       headers=person.auth).status_code == 204

    new_app = create_app(replace(settings, peppers=_with_new_pepper(settings)), clock=clock)
    new = Api(new_app.test_client(), new_app)
    clock.advance(seconds=30)
    assert new.sign_in(person, otp=pyotp.TOTP(secret).at(clock())).status_code == 201
    with_code = new.sign_in(person, recovery_code=person.recovery_codes[0])
    assert with_code.status_code == 201, with_code.get_json()
    assert with_code.get_json()["recovery_codes_left"] == 9
    # The old pepper is still needed by the other nine codes until they are replaced: dropping it now
    # would lock out a person who has only their sheet. A new sheet moves every code to the new pepper.
    token = with_code.get_json()["token"]
    renewed = new_app.test_client().post("/api/v1/me/recovery-codes", json={"password": person.password},
                                         headers={"Authorization": f"Bearer {token}"})
    assert renewed.status_code == 201
    only_new = create_app(replace(settings, peppers=PepperRing.parse(
        f"{new_app.extensions['consigne'].keys.peppers.current.version}:"
        f"{base64.b64encode(new_app.extensions['consigne'].keys.peppers.current.secret).decode()}")), clock=clock)
    latest = Api(only_new.test_client(), only_new)
    clock.advance(seconds=30)
    person.recovery_codes = renewed.get_json()["recovery_codes"]
    assert latest.sign_in(person, recovery_code=person.recovery_codes[0]).status_code == 201  # password re-sealed
    clock.advance(seconds=30)
    assert latest.sign_in(person, otp=pyotp.TOTP(secret).at(clock())).status_code == 201


def _statement(pdf: bytes) -> str:
    for page in render_pages(pdf):
        for code in zxingcpp.read_barcodes(page):
            if "/verify/" in code.text:
                return code.text.split("#", 1)[1]
    raise AssertionError("no statement in the copy")


def test_after_a_signing_key_rotation_old_copies_still_verify_and_new_ones_use_the_new_key(settings, clock):
    old_app = create_app(settings, clock=clock)
    old = Api(old_app.test_client(), old_app)
    person = old.person("signe1")
    paper = old.upload(person, [(text_pdf(1), "avis.pdf")], kind="avis_imposition").get_json()["id"]
    before = old_app.test_client().post(f"/api/v1/documents/{paper}/duplicates", json={"purpose": "housing"},
                                        headers=person.auth)
    assert before.status_code == 200
    old_key = settings.signing_keys.current

    new_key = SigningKey.generate()
    ring = SigningRing.parse(f"2026-11-29={new_key.encode()},{settings.signing_keys.encode()}")
    new_app = create_app(replace(settings, signing_keys=ring), clock=clock)
    client = new_app.test_client()
    published = client.get("/api/v1/signing-keys").get_json()["keys"]
    assert [key["id"] for key in published] == [new_key.verify_key.key_id, old_key.verify_key.key_id]
    keys = [VerifyKey(base64.b64decode(key["public_key"])) for key in published]

    ref = before.headers["Consigne-Duplicate"]
    assert verify_statement(_statement(before.data), keys).ref == ref  # the old copy, offline
    check = client.post(f"/api/v1/duplicates/{ref}/check", content_type="multipart/form-data",
                        data={"file": (io.BytesIO(before.data), "copie.pdf")})
    assert check.get_json() == {"matches": True}  # and against the register

    clock.advance(minutes=1)
    after = client.post(f"/api/v1/documents/{paper}/duplicates", json={"purpose": "housing"}, headers=person.auth)
    assert after.status_code == 200
    statement = _statement(after.data)
    assert statement.split(".")[1] == new_key.verify_key.key_id  # signed with the newest key
    assert verify_statement(statement, keys[:1]).ref == after.headers["Consigne-Duplicate"]
