"""What can lock a person out needs the current password, never a session alone (issue 6, point 2), and
public endpoints never look at credentials (point 10)."""

from __future__ import annotations

import pyotp
import pytest
from sqlalchemy import select

from tests.web.conftest import PASSWORD
from vault.models import Account, Event

pytestmark = pytest.mark.usefixtures("database_url")
NEW_PASSWORD = "tambour-riviere-lampe-melon"


def turn_on_otp(client, person, clock) -> str:
    setup = client.post("/api/v1/me/otp", json={"password": person.password}, headers=person.auth)
    assert setup.status_code == 201, setup.get_json()
    secret = setup.get_json()["secret"]
    confirmed = client.post("/api/v1/me/otp/confirm", json={"code": pyotp.TOTP(secret).at(clock())},
                            headers=person.auth)
    assert confirmed.status_code == 204
    return secret


SENSITIVE = [
    ("POST", "/api/v1/me/otp", {}),
    ("DELETE", "/api/v1/me/otp", {}),
    ("POST", "/api/v1/me/recovery-codes", {}),
    ("POST", "/api/v1/me/password", {"new_password": NEW_PASSWORD}),
]


@pytest.mark.parametrize("method, path, extra", SENSITIVE, ids=[f"{m} {p}" for m, p, _ in SENSITIVE])
def test_a_session_alone_changes_nothing(api, client, app, method, path, extra):
    person = api.person()
    no_body = client.open(path, method=method, headers=person.auth)
    assert no_body.status_code in (400, 415, 422)  # no JSON body at all: 415 (not JSON)
    missing = client.open(path, method=method, json=extra, headers=person.auth)
    assert missing.status_code == 422
    wrong = client.open(path, method=method, json={"password": "not-my-password", **extra},
                        headers={**person.auth, "Accept-Language": "en"})
    assert wrong.status_code == 403
    assert wrong.get_json()["code"] == "wrong_password"
    assert wrong.get_json()["title"] == "This is not your current password. Nothing was changed."
    me = client.get("/api/v1/me", headers=person.auth).get_json()
    assert me["otp_enabled"] is False and me["recovery_codes_left"] == 10
    assert api.sign_in(person).status_code == 201  # the password did not change
    assert api.sign_in(person, recovery_code=person.recovery_codes[0]).status_code == 201  # the sheet still works
    with app.extensions["consigne"].session_factory() as session:
        failed = session.scalars(select(Event.details).where(Event.subject_id == person.id,
                                                             Event.action == "signin.failed")).all()
        assert len(failed) == 1 and set(failed[0]) == {"burst"}  # the wrong password is in the activity


def test_with_the_password_two_step_sign_in_goes_on_and_off(api, client, clock):
    person = api.person()
    secret = turn_on_otp(client, person, clock)
    assert api.sign_in(person).get_json()["code"] == "second_factor_required"
    assert client.delete("/api/v1/me/otp", json={"password": person.password}, headers=person.auth).status_code == 204
    assert api.sign_in(person).status_code == 201
    assert client.get("/api/v1/me", headers=person.auth).get_json()["otp_enabled"] is False
    assert secret


def test_with_the_password_new_codes_replace_the_sheet(api, client):
    person = api.person()
    renewed = client.post("/api/v1/me/recovery-codes", json={"password": person.password}, headers=person.auth)
    assert renewed.status_code == 201
    codes = renewed.get_json()["recovery_codes"]
    assert set(codes).isdisjoint(person.recovery_codes) and len(codes) == 10
    assert api.sign_in(person, recovery_code=person.recovery_codes[0]).status_code == 201  # ignored: no 2FA
    assert client.get("/api/v1/me", headers=person.auth).get_json()["recovery_codes_left"] == 10


def test_a_new_password_ends_every_other_session(api, client, app):
    person = api.person()
    other = api.sign_in(person).get_json()["token"]
    weak = client.post("/api/v1/me/password", json={"password": person.password, "new_password": "abcdefgh"},
                       headers=person.auth)
    assert weak.status_code == 422 and weak.get_json()["reason"] == "too_predictable"
    assert len(weak.get_json()["suggested_passphrase"].split("-")) == 4
    changed = client.post("/api/v1/me/password", json={"password": person.password, "new_password": NEW_PASSWORD},
                          headers=person.auth)
    assert changed.status_code == 204
    assert client.get("/api/v1/me", headers=person.auth).status_code == 200  # this one goes on
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {other}"}).status_code == 401
    assert api.sign_in(person).status_code == 401
    person.password = NEW_PASSWORD
    assert api.sign_in(person).status_code == 201
    with app.extensions["consigne"].session_factory() as session:
        event = session.scalar(select(Event).where(Event.action == "password.changed"))
        assert event.subject_id == person.id and event.details == {"sessions_ended": 1}
        account = session.get(Account, person.id)
        assert account.password_changed_at is not None


def test_reauthentication_has_its_own_budget_that_a_stranger_cannot_spend(api, client):
    person = api.person("rania")
    for _ in range(5):  # a stranger locks the account-wide counter
        client.post("/api/v1/sessions", json={"username": "rania", "password": "wrong-guess"},
                    environ_base={"REMOTE_ADDR": "198.51.100.9"})
    assert api.sign_in(person).status_code == 429
    renewed = client.post("/api/v1/me/recovery-codes", json={"password": person.password}, headers=person.auth)
    assert renewed.status_code == 201  # the owner's session still re-authenticates

    for _ in range(5):  # whoever holds this session guesses
        assert client.post("/api/v1/me/recovery-codes", json={"password": "guess"},
                           headers=person.auth).status_code == 403
    blocked = client.post("/api/v1/me/recovery-codes", json={"password": person.password}, headers=person.auth)
    assert blocked.status_code == 429 and blocked.get_json()["reason"] == "session"
    assert blocked.headers["Retry-After"] == "15"


GARBAGE = ["Bearer garbage", "Bearer cs1." + "A" * 64, "Bearer cs1.!!", "Basic abc", "Bearer", "x" * 300]


@pytest.mark.parametrize("authorization", GARBAGE)
def test_public_endpoints_ignore_any_credential(api, client, authorization):
    person = api.enrol("public1")
    stale = api.sign_in(person).get_json()["token"]
    client.delete("/api/v1/sessions/current", headers={"Authorization": f"Bearer {stale}"})
    for header in (authorization, f"Bearer {stale}"):
        headers = {"Authorization": header}
        assert client.post("/api/v1/sessions", json={"username": "public1", "password": PASSWORD},
                           headers=headers).status_code == 201
        assert client.get("/api/v1/people/suggestions", headers=headers).status_code == 200
        assert client.get("/api/v1/openapi.json", headers=headers).status_code == 200
    client.set_cookie("consigne-session", authorization.replace(" ", "") or "x")
    assert client.get("/sign-in").status_code == 200
    assert client.get("/").status_code == 200


def test_a_token_with_inserted_characters_is_refused(api, client):
    person = api.person()
    token = person.token
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    for forged in [token[:10] + "!!" + token[10:], token + "==", token[:4] + token[4:].replace("-", "+"),
                   token[:20] + "\t" + token[20:], token[:20] + "%" + token[21:]]:
        if forged == token:
            continue
        answer = client.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"})
        assert answer.status_code == 401 and answer.get_json()["code"] == "session_expired"


def test_the_first_code_of_a_set_up_cannot_be_guessed_with_a_session_alone(api, client, clock):
    """The owner began turning two-step sign-in on (with the password) and walked away: whoever sits at
    the signed-in screen may try codes, but only a few on this session's budget, not the million."""
    person = api.person()
    setup = client.post("/api/v1/me/otp", json={"password": PASSWORD}, headers=person.auth).get_json()
    right = pyotp.TOTP(setup["secret"]).at(clock())
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    answers = [client.post("/api/v1/me/otp/confirm", json={"code": wrong}, headers=person.auth) for _ in range(8)]
    statuses = [answer.status_code for answer in answers]
    assert statuses[:5] == [422] * 5 and set(statuses[5:]) == {429}
    assert int(answers[-1].headers["Retry-After"]) >= 1
    # Even the right code waits for the back-off: the budget counts tries, not wrong answers only.
    assert client.post("/api/v1/me/otp/confirm", json={"code": right}, headers=person.auth).status_code == 429
    assert client.get("/api/v1/me", headers=person.auth).get_json()["otp_enabled"] is False
