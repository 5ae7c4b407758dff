"""Known-device tokens: bound to one account, strict, valid across a rotation of the application key."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import timedelta

from crypto.sealing import KeyRing
from tests.conftest import START
from tests.vault.sign_in_fixtures import keys, random_key_text  # noqa: F401 - fixture
from vault.keys import DEVICE_TOKEN_LIFETIME, issue_device_token, verify_device_token


def test_a_token_names_one_device_of_one_account(keys):
    first, second = issue_device_token(keys, "account-1", now=START), issue_device_token(keys, "account-1", now=START)
    assert first != second and len(first) == 76
    name = verify_device_token(keys, first, "account-1", now=START)
    assert name is not None and name != verify_device_token(keys, second, "account-1", now=START)
    assert verify_device_token(keys, first, "account-2", now=START) is None


def test_a_token_lives_as_long_as_the_cookie_and_tolerates_a_little_clock_skew(keys):
    token = issue_device_token(keys, "account-1", now=START)
    assert verify_device_token(keys, token, "account-1", now=START - timedelta(minutes=4)) is not None
    assert verify_device_token(keys, token, "account-1", now=START - timedelta(minutes=6)) is None
    assert verify_device_token(keys, token, "account-1", now=START + DEVICE_TOKEN_LIFETIME) is not None
    assert verify_device_token(keys, token, "account-1", now=START + DEVICE_TOKEN_LIFETIME
                               + timedelta(seconds=1)) is None


def test_every_other_spelling_is_refused(keys):
    token = issue_device_token(keys, "account-1", now=START)
    body = token[4:]
    for forged in [token[:10] + "!!" + token[10:], token + "=", token[:-1], token + "A", "cd2." + body,
                   token[:4] + body.replace("-", "+").replace("_", "/"), token.upper(), "", None, 42,
                   token[:-2] + ("AA" if token[-2:] != "AA" else "BB")]:
        if forged != token:
            assert verify_device_token(keys, forged, "account-1", now=START) is None, forged


def test_a_rotation_keeps_tokens_while_their_key_is_in_the_ring(keys):
    token = issue_device_token(keys, "account-1", now=START)
    old = keys.app_keys.current
    rotated = replace(keys, app_keys=KeyRing.parse(
        f"{random_key_text(old.version + 1)},{old.version}:{base64.b64encode(old.secret).decode()}"))
    assert verify_device_token(rotated, token, "account-1", now=START) == verify_device_token(
        keys, token, "account-1", now=START)
    assert verify_device_token(rotated, issue_device_token(rotated, "account-1", now=START), "account-1",
                               now=START) is not None
    dropped = replace(rotated, app_keys=KeyRing(current=rotated.app_keys.current))
    assert verify_device_token(dropped, token, "account-1", now=START) is None
