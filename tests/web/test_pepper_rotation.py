"""Raising the pepper (or the KDF cost) later: old seals still open, and a sign-in re-seals them."""

from __future__ import annotations

import base64
import secrets
from dataclasses import replace

import pytest

from crypto.sealing import PepperRing, read_sealed_params
from tests.web.conftest import Api
from vault.models import Account
from web.app import create_app

pytestmark = pytest.mark.usefixtures("database_url")


def test_sign_in_reseals_under_the_new_pepper(settings, clock):
    old = create_app(settings, clock=clock)
    person = Api(old.test_client(), old).enrol("rotation1")

    old_pepper = settings.peppers.current
    new_text = f"{old_pepper.version + 1}:{base64.b64encode(secrets.token_bytes(32)).decode()}," \
               f"{old_pepper.version}:{base64.b64encode(old_pepper.secret).decode()}"
    rotated = create_app(replace(settings, peppers=PepperRing.parse(new_text)), clock=clock)
    api = Api(rotated.test_client(), rotated)
    assert api.sign_in(person).status_code == 201

    with rotated.extensions["consigne"].session_factory() as session:
        sealed = session.get(Account, person.id).password_sealed_identity
    assert read_sealed_params(sealed)[0] == old_pepper.version + 1
    assert api.sign_in(person).status_code == 201  # and the new seal opens
