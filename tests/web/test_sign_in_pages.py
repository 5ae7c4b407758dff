"""The sign-in pages end to end: password, second step on its own page, the known-device cookie, and what
a person reads under a lock (the real wait in words, and how to get in now)."""

from __future__ import annotations

import re
from dataclasses import replace
from urllib.parse import urlencode

import pyotp
import pytest

from tests.web.conftest import PASSWORD
from web.app import create_app

pytestmark = pytest.mark.usefixtures("database_url")
ENGLISH = {"Accept-Language": "en"}


def csrf(client, path: str) -> str:
    page = client.get(path, headers=ENGLISH)
    assert page.status_code == 200, page.status_code
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def post_sign_in(client, username, password=PASSWORD, path="/sign-in", *, address="127.0.0.1", **fields):
    data = {"csrf_token": csrf(client, path), "username": username, "password": password, **fields}
    return client.post(path, data=data, headers=ENGLISH, environ_base={"REMOTE_ADDR": address})


def post_second_step(client, path="/sign-in/second-step", **fields):
    return client.post(path, data={"csrf_token": csrf(client, path), **fields}, headers=ENGLISH)


def set_cookies(response) -> dict[str, str]:
    """name → the whole Set-Cookie header, for checking attributes."""
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


def text(response) -> str:
    return " ".join(response.get_data(as_text=True).split())


def test_password_only_signs_in_and_remembers_this_browser(api, client):
    api.enrol("amina")
    signed_in = post_sign_in(client, "amina")
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == "/papers"
    cookies = set_cookies(signed_in)
    for name in ("consigne-session", "consigne-devices"):
        assert "HttpOnly" in cookies[name] and "SameSite=Strict" in cookies[name] and "Path=/" in cookies[name]
    assert "Max-Age=34560000" in cookies["consigne-devices"]  # 400 days
    assert client.get_cookie("consigne-devices").value.startswith("cd1.")


def test_over_tls_the_cookies_are_host_prefixed_and_secure(settings, clock, api):
    app = create_app(replace(settings, base_url="https://consigne.example"), clock=clock)
    client = app.test_client()
    client.post("/api/v1/people", json={"username": "tls1", "password": PASSWORD})
    # Over TLS, Flask-WTF also checks that the form was posted from this site (the Referer).
    signed_in = client.post("/sign-in", base_url="https://localhost",
                            headers={**ENGLISH, "Referer": "https://localhost/sign-in"}, data={
        "csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                                client.get("/sign-in", base_url="https://localhost").get_data(as_text=True)).group(1),
        "username": "tls1", "password": PASSWORD})
    assert signed_in.status_code == 303, text(signed_in)
    cookies = set_cookies(signed_in)
    for name in ("__Host-consigne-session", "__Host-consigne-devices"):
        assert "Secure" in cookies[name] and "HttpOnly" in cookies[name] and "SameSite=Strict" in cookies[name]
        assert "Domain" not in cookies[name] and "Path=/" in cookies[name]


def turn_on_otp(api, client, clock) -> tuple[object, str]:
    person = api.person("nadia")
    secret = client.post("/api/v1/me/otp", json={"password": person.password}, headers=person.auth).get_json()["secret"]
    client.post("/api/v1/me/otp/confirm", json={"code": pyotp.TOTP(secret).at(clock())}, headers=person.auth)
    clock.advance(seconds=30)
    return person, secret


def test_the_second_step_is_its_own_page(api, client, clock):
    person, secret = turn_on_otp(api, client, clock)
    first = post_sign_in(client, "nadia", path="/sign-in?next=/documents")
    assert first.status_code == 303 and first.headers["Location"] == "/sign-in/second-step?next=/documents"
    step_cookie = set_cookies(first)["consigne-second-step"]
    assert "HttpOnly" in step_cookie and "SameSite=Strict" in step_cookie and "Max-Age=300" in step_cookie
    assert "consigne-session" not in set_cookies(first)

    page = client.get("/sign-in/second-step", headers=ENGLISH)
    assert "Your password is right" in text(page)
    assert 'autocomplete="off"' in page.get_data(as_text=True)
    wrong = post_second_step(client, otp="000000")
    assert wrong.status_code == 401 and "The code is not right, or was already used." in text(wrong)

    done = post_second_step(client, "/sign-in/second-step?next=/documents", otp=pyotp.TOTP(secret).at(clock()))
    assert done.status_code == 303 and done.headers["Location"] == "/documents"
    cookies = set_cookies(done)
    assert "consigne-session" in cookies and "consigne-devices" in cookies
    assert "Max-Age=0" in cookies["consigne-second-step"] or "Expires=Thu, 01 Jan 1970" in cookies["consigne-second-step"]
    assert person.username == "nadia"


def test_a_recovery_code_on_the_second_page_when_the_phone_is_lost(api, client, clock):
    person, _ = turn_on_otp(api, client, clock)
    post_sign_in(client, "nadia")
    done = post_second_step(client, recovery_code=person.recovery_codes[2])
    assert done.status_code == 303
    me = client.get("/api/v1/me", headers={"Authorization": "Bearer " + client.get_cookie("consigne-session").value})
    assert me.get_json()["recovery_codes_left"] == 9


def test_the_second_step_ends_after_five_minutes(api, client, clock):
    turn_on_otp(api, client, clock)
    post_sign_in(client, "nadia")
    token = csrf(client, "/sign-in/second-step")
    clock.advance(minutes=6)
    late = client.post("/sign-in/second-step", data={"csrf_token": token, "otp": "123456"}, headers=ENGLISH)
    assert late.status_code == 401
    assert "The time to type the code is over. Please sign in again." in text(late)
    assert client.get_cookie("consigne-second-step") is None
    assert client.get("/sign-in/second-step").status_code == 303  # back to the password


def test_under_a_lock_the_page_says_the_real_wait_and_how_to_get_in_now(api, client, clock):
    person = api.enrol("karim")
    for _ in range(5):  # a stranger, from elsewhere
        client.post("/api/v1/sessions", json={"username": "karim", "password": "guess-guess"},
                    environ_base={"REMOTE_ADDR": "198.51.100.3"})
    clock.advance(seconds=3)
    locked = post_sign_in(client, "karim")
    assert locked.status_code == 429 and locked.headers["Retry-After"] == "12"
    words = text(locked)
    assert "You can try again in 12 seconds." in words
    assert "To get in now, type your password and one of your recovery codes." in words
    assert 'name="recovery_code"' in words and 'name="otp"' in words

    in_now = post_sign_in(client, "karim", recovery_code=person.recovery_codes[0])
    assert in_now.status_code == 303, text(in_now)


def test_the_wait_is_said_in_minutes_when_it_is_long(api, client, clock):
    api.enrol("long")
    for wait in (0, 15, 30, 60, 120, 240, 480):
        clock.advance(seconds=wait)
        for _ in range(5 if wait == 0 else 1):
            client.post("/api/v1/sessions", json={"username": "long", "password": "guess-guess"},
                        environ_base={"REMOTE_ADDR": "198.51.100.3"})
    french = post_sign_in(client, "long")
    assert french.status_code == 429 and french.headers["Retry-After"] == "900"
    assert "You can try again in 15 minutes." in text(french)


def test_a_known_browser_is_not_stopped_by_the_lock(api, client):
    api.enrol("moussa")
    assert post_sign_in(client, "moussa").status_code == 303
    client.delete_cookie("consigne-session")
    for _ in range(30):
        client.post("/api/v1/sessions", json={"username": "moussa", "password": "guess-guess"},
                    environ_base={"REMOTE_ADDR": "198.51.100.4"})
    assert post_sign_in(client, "moussa").status_code == 303  # the device cookie


def test_the_device_cookie_keeps_one_token_per_person_on_a_shared_computer(api, client):
    for username in ("lea", "zoe", "ines"):
        api.enrol(username)
        assert post_sign_in(client, username).status_code == 303
    tokens = client.get_cookie("consigne-devices").value.split("|")
    assert len(tokens) == 3 and len(set(tokens)) == 3
    assert post_sign_in(client, "zoe").status_code == 303
    again = client.get_cookie("consigne-devices").value.split("|")
    assert len(again) == 3 and again[1:] == [tokens[0], tokens[2]]  # zoe's replaced, in front
    for index in range(4):
        api.enrol(f"more{index}")
        post_sign_in(client, f"more{index}")
    assert len(client.get_cookie("consigne-devices").value.split("|")) == 5


def test_sign_out_keeps_the_device_cookie(api, client):
    api.enrol("sami")
    post_sign_in(client, "sami")
    signed_out = client.post("/sign-out", data={"csrf_token": csrf(client, "/sign-in")}, headers=ENGLISH)
    assert signed_out.status_code == 303
    assert "consigne-devices" not in set_cookies(signed_out)
    assert client.get_cookie("consigne-devices") is not None and client.get_cookie("consigne-session") is None


def test_a_stale_session_cookie_never_blocks_the_sign_in_page(api, client):
    api.enrol("stale")
    client.set_cookie("consigne-session", "cs1.garbage")
    client.set_cookie("consigne-second-step", "cs1.garbage")
    assert client.get("/sign-in").status_code == 200
    assert post_sign_in(client, "stale").status_code == 303
    client.set_cookie("consigne-second-step", "cs1.garbage")
    assert client.get("/sign-in/second-step").status_code == 401  # answered by the sign-in page itself


def test_an_empty_form_says_what_to_type(client):
    incomplete = client.post("/sign-in", data={"csrf_token": csrf(client, "/sign-in"), "username": "someone"},
                             headers=ENGLISH)
    assert incomplete.status_code == 200 and "Type your username and your password." in text(incomplete)


def test_a_wrong_password_says_what_to_check_on_the_field(api, client):
    api.enrol("rania")
    wrong = post_sign_in(client, "rania", "not-the-password")
    assert wrong.status_code == 401
    html = wrong.get_data(as_text=True)
    assert 'href="#password">Wrong username or password. Check both, then try again' in html
    assert 'href="/lost"' in html  # no dead end: « I lost my access » is on the page
    assert 'value="rania"' in html and "not-the-password" not in html


def test_after_a_recovery_code_the_next_page_says_how_many_are_left(api, client, clock):
    person, _ = turn_on_otp(api, client, clock)
    post_sign_in(client, "nadia")
    done = post_second_step(client, recovery_code=person.recovery_codes[4].lower().replace("-", " "))
    assert done.status_code == 303
    papers = text(client.get("/papers", headers=ENGLISH))
    assert "You are in with a recovery code. It will not work again: 9 codes are left on your sheet." in papers


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example", "/\t/evil.example", "/\n/evil.example",
                                    "https://evil.example/", "evil.example"])
def test_after_sign_in_the_next_page_is_always_on_this_site(api, client, target):
    api.enrol("yasmine")
    signed_in = post_sign_in(client, "yasmine", path="/sign-in?" + urlencode({"next": target}))
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == "/papers"


def test_the_welcome_page_drops_a_stale_session_cookie_and_keeps_the_language(client):
    client.set_cookie("consigne-session", "cs1.not-a-token")
    welcome = client.get("/?lang=ar")
    assert welcome.status_code == 200
    cookies = set_cookies(welcome)
    assert "Max-Age=0" in cookies["consigne-session"] or "Expires=Thu, 01 Jan 1970" in cookies["consigne-session"]
    language = cookies["consigne-lang"]
    assert "consigne-lang=ar" in language and "HttpOnly" in language and "SameSite=Lax" in language
    assert client.get_cookie("consigne-session") is None


def test_a_refused_code_is_said_on_the_box_it_was_typed_in(api, client, clock):
    turn_on_otp(api, client, clock)
    post_sign_in(client, "nadia")
    wrong = post_second_step(client, recovery_code="AAAA-AAAA-AAAA-AAAA-AAAA")
    assert wrong.status_code == 401
    html = wrong.get_data(as_text=True)
    assert 'href="#recovery_code">The code is not right, or was already used.' in html
    assert 'id="recovery_code-error"' in html and 'id="otp-error"' not in html
