"""The people, sessions and me endpoints, as partners call them."""

from __future__ import annotations

import pyotp
import pytest

from crypto.codes import normalise_recovery_code
from tests.web.conftest import PASSWORD

pytestmark = pytest.mark.usefixtures("database_url")


def test_enrolment_returns_ten_codes_and_signs_in(api, client):
    person = api.enrol("Amina.B")
    assert person.username == "amina.b"  # case-insensitive, stored lowercase
    assert len(person.recovery_codes) == 10
    assert all(normalise_recovery_code(code) for code in person.recovery_codes)

    response = api.sign_in(person)
    assert response.status_code == 201
    body = response.get_json()
    assert body["account"] == {"id": person.id, "username": "amina.b", "kind": "person"}
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"}).get_json()
    assert me == {"id": person.id, "username": "amina.b", "kind": "person", "otp_enabled": False,
                  "recovery_codes_left": 10, "recovery_notice_at": None}


def test_username_is_suggested_when_absent_and_unique_case_insensitively(client, api):
    response = client.post("/api/v1/people", json={"password": PASSWORD})
    assert response.status_code == 201
    assert 3 <= len(response.get_json()["username"]) <= 32
    api.enrol("Karim")
    again = client.post("/api/v1/people", json={"username": "KARIM", "password": PASSWORD})
    assert again.status_code == 409
    assert again.get_json()["code"] == "username_taken"


@pytest.mark.parametrize("username", ["ab", "a" * 33, "with space", "émile", "../x", "<b>"])
def test_bad_usernames_are_refused(client, username):
    response = client.post("/api/v1/people", json={"username": username, "password": PASSWORD})
    assert response.status_code == 422
    assert response.get_json()["code"] == "invalid_username"


@pytest.mark.parametrize("password, reason", [("court", "too_short"), ("azertyuiop", "too_common"),
                                              ("password123", "too_common"), ("xx-hakim-xx", "contains_username")])
def test_weak_passwords_are_refused(client, password, reason):
    response = client.post("/api/v1/people", json={"username": "hakim", "password": password})
    assert response.status_code == 422
    assert response.get_json()["code"] == "weak_password"
    assert response.get_json()["reason"] == reason


def test_suggestions_offer_a_free_username_and_a_valid_passphrase(client):
    body = client.get("/api/v1/people/suggestions").get_json()
    created = client.post("/api/v1/people", json={"username": body["username"], "password": body["passphrase"]})
    assert created.status_code == 201


def test_unknown_username_and_wrong_password_get_the_same_answer(api, client):
    person = api.enrol("lea")
    wrong_password = client.post("/api/v1/sessions", json={"username": "lea", "password": "not-the-password"})
    unknown_user = client.post("/api/v1/sessions", json={"username": "nobody", "password": "not-the-password"})
    assert wrong_password.status_code == unknown_user.status_code == 401
    strip = lambda body: {key: value for key, value in body.items() if key != "instance"}  # noqa: E731
    assert strip(wrong_password.get_json()) == strip(unknown_user.get_json())
    assert wrong_password.get_json()["code"] == "authentication_failed"
    assert person.id not in wrong_password.get_data(as_text=True)


def test_problems_are_in_the_request_language(client):
    body = {"username": "nobody", "password": "not-the-password"}
    french = client.post("/api/v1/sessions", json=body).get_json()
    english = client.post("/api/v1/sessions", json=body, headers={"Accept-Language": "en"}).get_json()
    arabic = client.post("/api/v1/sessions", json=body, headers={"Accept-Language": "ar"}).get_json()
    assert french["title"] == "Nom d'utilisateur ou mot de passe incorrect."
    assert english["title"] == "Wrong username or password."
    assert arabic["title"] == "اسم المستخدم أو كلمة المرور غير صحيحة."


def test_malformed_json_and_unknown_fields_are_clear_errors(client):
    broken = client.post("/api/v1/sessions", data="{not json", content_type="application/json")
    assert broken.status_code == 400
    assert broken.content_type == "application/problem+json"
    extra = client.post("/api/v1/people", json={"username": "zoe", "password": PASSWORD, "admin": True})
    assert extra.status_code == 422
    assert extra.get_json()["errors"][0]["field"] == "admin"
    wrong_type = client.post("/api/v1/people", json=["zoe"])
    assert wrong_type.status_code == 422


def test_sign_out_kills_the_token(api, client):
    person = api.person()
    assert client.delete("/api/v1/sessions/current", headers=person.auth).status_code == 204
    after = client.get("/api/v1/me", headers=person.auth)
    assert after.status_code == 401
    assert after.get_json()["code"] == "session_expired"


def test_each_sign_in_is_a_fresh_session_and_sign_out_everywhere_ends_all(api, client):
    person = api.person()
    second = api.sign_in(person).get_json()["token"]
    assert second != person.token
    assert client.delete("/api/v1/sessions", headers=person.auth).status_code == 204
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {second}"}).status_code == 401


def test_idle_and_absolute_time_outs(api, client, clock):
    person = api.person()
    clock.advance(minutes=29)
    assert client.get("/api/v1/me", headers=person.auth).status_code == 200
    clock.advance(minutes=31)  # 31 idle minutes since the last request
    assert client.get("/api/v1/me", headers=person.auth).status_code == 401

    fresh = api.sign_in(person).get_json()["token"]
    headers = {"Authorization": f"Bearer {fresh}"}
    for _ in range(12 * 3):  # active every 20 minutes, but 12 hours is the end
        clock.advance(minutes=20)
        status = client.get("/api/v1/me", headers=headers).status_code
    assert status == 401


@pytest.mark.parametrize("token", ["", "Bearer", "Bearer cs1.", "Bearer cs1.AAAA", "Basic abc",
                                   "Bearer cs1." + "A" * 64, "Bearer " + "x" * 500])
def test_forged_tokens_are_refused(client, api, token):
    api.person()
    response = client.get("/api/v1/me", headers={"Authorization": token} if token else {})
    assert response.status_code == 401


def test_tampered_token_is_refused(api, client):
    person = api.person()
    last = person.token[-2]
    forged = person.token[:-2] + ("A" if last != "A" else "B") + person.token[-1]
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_throttle_backs_off_then_lets_the_person_in_again(api, client, clock):
    person = api.enrol("moussa")
    for _ in range(5):
        assert client.post("/api/v1/sessions", json={"username": "moussa", "password": "wrong-pass"}).status_code == 401
    blocked = client.post("/api/v1/sessions", json={"username": "moussa", "password": person.password})
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    # Many more failures never lock for good: the wait is capped.
    for _ in range(20):
        clock.advance(minutes=16)
        client.post("/api/v1/sessions", json={"username": "moussa", "password": "wrong-pass"})
    clock.advance(minutes=16)
    assert api.sign_in(person).status_code == 201


def test_totp_enrolment_then_sign_in_and_replay_refused(api, client, clock):
    person = api.person()
    setup = client.post("/api/v1/me/otp", json={"password": person.password}, headers=person.auth).get_json()
    assert setup["otpauth_uri"].startswith("otpauth://totp/")
    assert setup["qr_svg"].startswith("<svg")
    totp = pyotp.TOTP(setup["secret"])
    assert client.post("/api/v1/me/otp/confirm", json={"code": "000000"}, headers=person.auth).status_code == 422
    assert client.post("/api/v1/me/otp/confirm", json={"code": totp.at(clock())},
                       headers=person.auth).status_code == 204

    missing = api.sign_in(person)
    assert missing.status_code == 401 and missing.get_json()["code"] == "second_factor_required"
    clock.advance(seconds=30)
    code = totp.at(clock())
    assert api.sign_in(person, otp=code).status_code == 201
    replay = api.sign_in(person, otp=code)
    assert replay.status_code == 401 and replay.get_json()["code"] == "second_factor_failed"


def test_recovery_code_stands_in_for_totp_once(api, client, clock):
    person = api.person()
    setup = client.post("/api/v1/me/otp", json={"password": person.password}, headers=person.auth).get_json()
    client.post("/api/v1/me/otp/confirm", json={"code": pyotp.TOTP(setup["secret"]).at(clock())}, headers=person.auth)
    code = person.recovery_codes[3].lower().replace("-", " ")  # typed loosely on a phone
    used = api.sign_in(person, recovery_code=code)
    assert used.status_code == 201
    assert used.get_json()["recovery_codes_left"] == 9
    reused = api.sign_in(person, recovery_code=person.recovery_codes[3])
    assert reused.status_code == 401 and reused.get_json()["code"] == "second_factor_failed"


def test_renewed_codes_replace_the_old_ones_and_print_a_sheet(api, client):
    person = api.person()
    renewed = client.post("/api/v1/me/recovery-codes", json={"password": person.password},
                          headers=person.auth).get_json()["recovery_codes"]
    assert set(renewed).isdisjoint(person.recovery_codes)
    old = client.post("/api/v1/me/recovery-sheet", json={"recovery_codes": person.recovery_codes},
                      headers=person.auth)
    assert old.status_code == 422
    sheet = client.post("/api/v1/me/recovery-sheet", json={"recovery_codes": renewed}, headers=person.auth)
    assert sheet.status_code == 200
    assert sheet.content_type == "application/pdf"
    assert sheet.data.startswith(b"%PDF")


def test_assisted_enrolment_by_staff_records_the_follow(api, client, app, clock):
    from datetime import datetime, timezone

    from vault import accounts
    from vault.models import Follow
    from vault.two_factor import enable_directly

    services = app.extensions["consigne"]
    with services.session_factory() as session:
        organisation = accounts.create_organisation(session, name="Accueil Test", now=datetime.now(timezone.utc))
        staff = accounts.create_staff(session, keys=services.keys, organisation=organisation, username="worker1",
                                      password=PASSWORD, role="worker", now=clock()).account
        secret = enable_directly(session, keys=services.keys, account=staff).secret
        session.commit()
    no_code = client.post("/api/v1/sessions", json={"username": "worker1", "password": PASSWORD})
    assert no_code.get_json()["code"] == "second_factor_required"  # required for staff
    token = client.post("/api/v1/sessions", json={"username": "worker1", "password": PASSWORD,
                                                  "otp": pyotp.TOTP(secret).at(clock())}).get_json()["token"]
    created = client.post("/api/v1/people", json={"username": "nadia", "password": PASSWORD,
                                                  "follow_organisation": True},
                          headers={"Authorization": f"Bearer {token}"})
    assert created.status_code == 201
    with services.session_factory() as session:
        follows = session.query(Follow).all()
        assert [(f.person_id, f.organisation_id) for f in follows] == [(created.get_json()["id"], organisation.id)]
    clock.advance(minutes=16)  # staff sessions end after 15 idle minutes (people: 30)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_a_person_cannot_enrol_others(api, client):
    person = api.person()
    response = client.post("/api/v1/people", json={"username": "other", "password": PASSWORD}, headers=person.auth)
    assert response.status_code == 403


def test_health_and_openapi(client):
    assert client.get("/health").get_json() == {"status": "ok"}
    index = client.get("/")
    assert index.status_code == 200 and "Coffre-fort" in index.get_data(as_text=True)
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    for path in ["/api/v1/people", "/api/v1/sessions", "/api/v1/sessions/current", "/api/v1/me",
                 "/api/v1/documents", "/api/v1/documents/{document_id}", "/api/v1/documents/{document_id}/content",
                 "/api/v1/activity"]:
        assert path in document["paths"], path
    person_schema = document["components"]["schemas"]["PersonCreate"]
    assert person_schema["required"] == ["password"]
    assert person_schema["additionalProperties"] is False


def test_sweeping_deletes_idle_and_expired_server_halves(api, app, clock):
    from vault.models import Session
    from vault.sessions import purge_expired_sessions

    api.person("idle1")
    clock.advance(minutes=10)
    api.person("fresh1")
    clock.advance(minutes=25)  # idle1: 35 min idle, fresh1: 25 min
    services = app.extensions["consigne"]
    with services.session_factory() as session:
        assert purge_expired_sessions(session, now=clock()) == 1
        session.commit()
        assert session.query(Session).count() == 1


def test_openapi_document_is_valid_openapi_3_1(client):
    from openapi_spec_validator import validate

    validate(client.get("/api/v1/openapi.json").get_json())


def test_untypeable_passwords_are_clear_errors_not_crashes(client, api):
    person = api.enrol("ines")
    lone_surrogate = '{"username": "ines", "password": "abc\\ud800defgh"}'
    signin = client.post("/api/v1/sessions", data=lone_surrogate, content_type="application/json")
    assert signin.status_code == 422 and signin.get_json()["code"] == "invalid_input"
    enrol = client.post("/api/v1/people", data=lone_surrogate.replace("ines", "ines2"),
                        content_type="application/json")
    assert enrol.status_code == 422
    assert person.username == "ines"
