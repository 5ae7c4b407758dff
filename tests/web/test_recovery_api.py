"""POST /api/v1/recovery through HTTP: a forgotten password reset with one recovery code, on both databases."""

from __future__ import annotations

import pytest

from tests.web.conftest import totp_now

pytestmark = pytest.mark.usefixtures("database_url")
NEW_PASSWORD = "voilier-cerise-brouillard-4"


def recover(client, username, code, new_password=NEW_PASSWORD, **extra):
    return client.post("/api/v1/recovery", json={"username": username, "recovery_code": code,
                                                 "new_password": new_password, **extra})


def test_a_code_resets_the_password_ends_every_session_and_signs_in(api, client, clock):
    person = api.person()
    other = api.sign_in(person).get_json()["token"]
    setup = client.post("/api/v1/me/otp", json={"password": person.password}, headers=person.auth).get_json()
    assert client.post("/api/v1/me/otp/confirm", json={"code": totp_now(setup["secret"], clock)},
                       headers=person.auth).status_code == 204

    answer = recover(client, "AMINA", person.recovery_codes[2].lower())

    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert set(body) == {"token", "expires_at", "account", "device_token", "recovery_codes_left"}
    assert body["recovery_codes_left"] == 9 and body["account"]["username"] == "amina"
    for token in (person.token, other):  # every old session is dead
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"}).get_json()
    assert me["otp_enabled"] is False and me["recovery_codes_left"] == 9 and me["recovery_notice_at"]
    # The old password is refused, the new one works alone, the burnt code resets nothing.
    assert api.sign_in(person).status_code == 401
    assert client.post("/api/v1/sessions", json={"username": "amina", "password": NEW_PASSWORD}).status_code == 201
    again = recover(client, "amina", person.recovery_codes[2], "autre-phrase-longue-77")
    assert again.status_code == 401 and again.get_json()["code"] == "recovery_failed"


def test_unknown_username_and_wrong_code_get_the_same_answer(api, client):
    person = api.enrol("karim")
    unknown = recover(client, "nobody", person.recovery_codes[0])
    wrong = recover(client, "karim", "ABCDE-FGHJK-MNPQR-STUVW")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.get_json() == wrong.get_json()
    assert api.sign_in(person).status_code == 201  # nothing changed


def test_a_weak_new_password_is_a_translated_422_and_spends_no_code(api, client):
    person = api.enrol("nadia")
    weak = client.post("/api/v1/recovery", json={"username": "nadia", "recovery_code": person.recovery_codes[0],
                                                 "new_password": "azerty"}, headers={"Accept-Language": "fr"})
    assert weak.status_code == 422
    problem = weak.get_json()
    assert problem["code"] == "weak_password" and problem["suggested_passphrase"]
    assert recover(client, "nadia", person.recovery_codes[0]).get_json()["recovery_codes_left"] == 9


def test_guessing_codes_meets_the_real_wait(api, client):
    api.enrol("hakim")
    for _ in range(5):
        assert recover(client, "hakim", "ABCDE-FGHJK-MNPQR-STUVW").status_code == 401
    blocked = recover(client, "hakim", "ABCDE-FGHJK-MNPQR-STUVW")
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) == 15
    assert blocked.get_json()["retry_after_seconds"] == 15
