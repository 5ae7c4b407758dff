"""The settings pages through HTTP: each change asks for the current password (a session alone, as on a
shared computer left signed in, changes nothing), says what was done or what to do next in words, and
the re-authentication's own lock says its real wait. Two-step sign-in is turned on with a code computed
from the secret the page shows; the new recovery codes replace the old sheet; sign out everywhere ends
every session."""

from __future__ import annotations

import base64
import re
import threading
from html import unescape

import pyotp
import pytest
from sqlalchemy import select

from tests.web.conftest import PASSWORD
from tests.web.test_pages import ENGLISH, Browser, csrf_token, summary
from vault.models import Account

pytestmark = pytest.mark.usefixtures("database_url")
NEW_PASSWORD = "tambour-lune-cheval-42"


@pytest.fixture
def person(client):
    browser = Browser(client)
    browser.codes, _ = browser.enrol("amina")
    return browser


def text(answer) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", answer.get_data(as_text=True))).split())


def api_sign_in(client, password=PASSWORD, **extra):
    return client.application.test_client().post(
        "/api/v1/sessions", json={"username": "amina", "password": password, **extra})


def account(app) -> Account:
    with app.extensions["consigne"].session_factory() as session:
        return session.scalar(select(Account).where(Account.username == "amina"))


def shown_secret(html: str) -> str:
    """The key the page writes in groups for typing by hand, as a person would type it."""
    groups = re.search(r'<p class="secret"[^>]*>(.*?)</p>', html, re.S).group(1)
    return "".join(re.findall(r"<span>([A-Z2-7]{1,4})</span>", groups))


def turn_on_two_step(person, clock) -> str:
    shown = person.post_form("/settings/two-step", {"current_password": PASSWORD}, to="/settings/two-step/on")
    assert shown.status_code == 200, summary(shown.get_data(as_text=True))
    secret = shown_secret(shown.get_data(as_text=True))
    done = person.post_form("/settings/two-step/confirm", {"code": pyotp.TOTP(secret).at(clock())})
    assert done.status_code == 303 and done.headers["Location"] == "/settings"
    clock.advance(seconds=30)  # the code just used cannot be used again
    return secret


def test_the_settings_say_how_things_stand_and_need_a_session(person, client):
    page = person.get("/settings")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    words = text(page)
    assert "Two-step sign-in Off" in words and "10 codes of 10 are left on your sheet." in words
    for path in ("/settings/password", "/settings/two-step", "/settings/recovery-codes",
                 "/settings/sign-out-everywhere", "/activity"):
        assert f'href="{path}"' in page.get_data(as_text=True), path
    stranger = client.application.test_client()
    for path in ("/settings", "/settings/password", "/settings/two-step/confirm"):
        answer = stranger.get(path, headers=ENGLISH)
        assert answer.status_code == 303 and answer.headers["Location"].startswith("/sign-in?next="), path


def test_every_settings_form_needs_its_csrf_token(person, client):
    for path in ("/settings/password", "/settings/two-step/on", "/settings/two-step/off",
                 "/settings/two-step/confirm", "/settings/recovery-codes", "/settings/sign-out-everywhere"):
        assert client.post(path, data={"current_password": PASSWORD}, headers=ENGLISH).status_code == 400, path


# --- a new password ------------------------------------------------------------------------------------------
def test_a_new_password_ends_every_other_session_and_says_so(person, client, app):
    other = api_sign_in(client).get_json()["token"]
    form = person.get("/settings/password").get_data(as_text=True)
    assert "for example:" in form and 'autocomplete="off"' in form
    changed = person.post_form("/settings/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert changed.status_code == 303 and changed.headers["Location"] == "/settings"
    assert "Your password is changed. Everywhere else you were signed in, you are now signed out." in \
        text(person.get("/settings"))
    assert person.get("/papers").status_code == 200  # this session goes on
    assert client.application.test_client().get(
        "/api/v1/me", headers={"Authorization": f"Bearer {other}"}).status_code == 401
    assert api_sign_in(client).status_code == 401 and api_sign_in(client, NEW_PASSWORD).status_code == 201


@pytest.mark.parametrize(("fields", "status", "field", "expected"), [
    ({"current_password": "not-my-password", "new_password": NEW_PASSWORD}, 403, "current_password",
     "This is not your current password. Nothing was changed. Type the password you use to sign in."),
    ({"current_password": "", "new_password": NEW_PASSWORD}, 422, "current_password",
     "Type your current password: the one you use to sign in."),
    ({"current_password": PASSWORD, "new_password": ""}, 422, "new_password", "Type your new password."),
    ({"current_password": PASSWORD, "new_password": "short"}, 422, "new_password",
     "Your password is too short: use at least 8 characters."),
    ({"current_password": PASSWORD, "new_password": "password123"}, 422, "new_password",
     "This password is too common"),
    ({"current_password": PASSWORD, "new_password": "amina-lune-tambour"}, 422, "new_password",
     "Your password must not contain your username."),
    ({"current_password": PASSWORD, "new_password": "abcdefghijkl"}, 422, "new_password",
     "This password is easy to guess"),
])
def test_a_refused_new_password_says_what_to_do_and_changes_nothing(person, client, fields, status, field, expected):
    answer = person.post_form("/settings/password", fields)
    assert answer.status_code == status
    html = answer.get_data(as_text=True)
    [line] = summary(html)
    assert line.startswith(expected), line
    assert f'href="#{field}"' in html and f'id="{field}-error"' in html
    assert api_sign_in(client).status_code == 201  # the password is still the old one


def test_the_re_authentication_lock_is_per_session_and_says_its_real_wait(person, client, clock):
    for _ in range(5):
        assert person.post_form("/settings/recovery-codes", {"current_password": "guess-guess"}).status_code == 403
    clock.advance(seconds=3)
    locked = person.post_form("/settings/recovery-codes", {"current_password": PASSWORD})
    assert locked.status_code == 429 and locked.headers["Retry-After"] == "12"
    assert summary(locked.get_data(as_text=True)) == [
        "You typed a wrong password too many times. For your safety, nothing can be changed for 12 seconds. "
        "Then try again."]
    # The lock is this session's only: the same person elsewhere, and the sign-in, are not stopped.
    elsewhere = Browser(client.application.test_client())
    signed_in = elsewhere.post_form("/sign-in", {"username": "amina", "password": PASSWORD})
    assert signed_in.status_code == 303
    assert elsewhere.post_form("/settings/recovery-codes", {"current_password": PASSWORD}).status_code == 200
    clock.advance(seconds=13)
    assert person.post_form("/settings/recovery-codes", {"current_password": PASSWORD}).status_code == 200


# --- two-step sign-in ----------------------------------------------------------------------------------------
def test_two_step_sign_in_is_turned_on_with_the_shown_secret_then_asked_at_sign_in(person, client, app, clock):
    start = person.get("/settings/two-step").get_data(as_text=True)
    assert 'action="/settings/two-step/on"' in start and "Your current password" in start
    wrong = person.post_form("/settings/two-step", {"current_password": "guess-guess"}, to="/settings/two-step/on")
    assert wrong.status_code == 403 and account(app).otp_secret_sealed is None

    shown = person.post_form("/settings/two-step", {"current_password": PASSWORD}, to="/settings/two-step/on")
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "no-store"
    # The QR code as an image (the policy forbids inline styles, an <img> of a data: URI is allowed)
    picture = re.search(r'<img class="qr-code" src="data:image/svg\+xml;base64,([^"]+)"', html).group(1)
    assert base64.b64decode(picture).startswith(b"<svg")
    secret = shown_secret(html)
    assert len(secret) == 32 and re.search(r"(<span>[A-Z2-7]{4}</span> ){7}<span>[A-Z2-7]{4}</span>", html)
    assert not account(app).otp_enabled  # not before a first code

    mistyped = person.post_form("/settings/two-step/confirm", {"code": "000000"})
    assert mistyped.status_code == 422
    assert summary(mistyped.get_data(as_text=True))[0].startswith("This code is not right.")
    assert "data:image" not in mistyped.get_data(as_text=True)  # the secret is shown once only
    assert 'href="/settings/two-step"' in mistyped.get_data(as_text=True)  # start again

    done = person.post_form("/settings/two-step/confirm", {"code": pyotp.TOTP(secret).at(clock())})
    assert done.status_code == 303 and done.headers["Location"] == "/settings"
    assert "Two-step sign-in is on." in text(person.get("/settings"))
    assert "Two-step sign-in On" in text(person.get("/settings"))
    assert account(app).otp_enabled
    assert person.get("/settings/two-step/confirm").headers["Location"] == "/settings"
    clock.advance(seconds=30)
    assert api_sign_in(client).get_json()["code"] == "second_factor_required"
    assert api_sign_in(client, otp=pyotp.TOTP(secret).at(clock())).status_code == 201


def test_an_old_tab_never_flips_two_step_sign_in_the_wrong_way(person, app, clock):
    turn_on_two_step(person, clock)
    again = person.post_form("/settings/two-step", {"current_password": PASSWORD}, to="/settings/two-step/on")
    assert again.status_code == 303 and account(app).otp_enabled
    assert "Two-step sign-in is already on." in text(person.get("/settings"))
    assert person.post_form("/settings/two-step", {"current_password": PASSWORD},
                            to="/settings/two-step/off").status_code == 303
    assert not account(app).otp_enabled
    assert "Two-step sign-in is off. Your password alone now opens your locker." in text(person.get("/settings"))
    stale = person.post_form("/settings/two-step", {"current_password": PASSWORD}, to="/settings/two-step/off")
    assert stale.status_code == 303 and "Two-step sign-in is already off." in text(person.get("/settings"))


def test_turning_two_step_sign_in_off_needs_the_current_password(person, app, clock):
    turn_on_two_step(person, clock)
    page = person.get("/settings/two-step").get_data(as_text=True)
    assert 'action="/settings/two-step/off"' in page and "your password alone opens your locker" in page
    for password, status in (("", 422), ("guess-guess", 403)):
        answer = person.post_form("/settings/two-step", {"current_password": password}, to="/settings/two-step/off")
        assert answer.status_code == status and account(app).otp_enabled


# --- a new recovery sheet ------------------------------------------------------------------------------------
def test_new_recovery_codes_are_shown_once_print_and_the_old_sheet_stops_working(person, client, app):
    old_codes = person.codes
    assert "Your old sheet will stop working" in text(person.get("/settings/recovery-codes"))
    refused = person.post_form("/settings/recovery-codes", {"current_password": "guess-guess"})
    assert refused.status_code == 403 and "10 codes of 10" in text(person.get("/settings"))
    made = person.post_form("/settings/recovery-codes", {"current_password": PASSWORD})
    assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"
    html = made.get_data(as_text=True)
    assert "Your new recovery codes are ready. The old sheet no longer works." in text(made)
    new_codes = re.findall(r"<li>([0-9A-Z]{4}(?:-[0-9A-Z]{4})+)</li>", html)
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    token = csrf_token(html)
    posted = {f"code-{index}": code for index, code in enumerate(new_codes)}
    sheet = client.post("/recovery-sheet", data={"csrf_token": token, **posted})
    assert sheet.status_code == 200 and sheet.data.startswith(b"%PDF-")
    old_sheet = client.post("/recovery-sheet", data={"csrf_token": token, "code-0": old_codes[0]}, headers=ENGLISH)
    assert old_sheet.status_code == 422
    # Nothing shows them again
    assert not any(code in person.get("/settings").get_data(as_text=True) for code in new_codes)


# --- sign out everywhere -----------------------------------------------------------------------------------
def test_sign_out_everywhere_ends_every_session_and_says_so(person, client):
    other = api_sign_in(client).get_json()["token"]
    confirm = person.get("/settings/sign-out-everywhere")
    assert "You will be signed out on this computer and on every other" in text(confirm)
    done = person.post_form("/settings/sign-out-everywhere", {})
    assert done.status_code == 303 and done.headers["Location"] == "/signed-out"
    assert "consigne-session=;" in done.headers["Set-Cookie"]
    assert "You are signed out everywhere" in text(person.get("/signed-out"))
    assert person.get("/papers").status_code == 303
    assert client.application.test_client().get(
        "/api/v1/me", headers={"Authorization": f"Bearer {other}"}).status_code == 401
    assert client.get_cookie("consigne-devices") is not None  # this browser is still known


def test_a_busy_server_says_so_with_the_wait_and_changes_nothing(person, client, app):
    gate = app.extensions["consigne"].gates.kdf
    gate.wait_seconds = 0  # this test's gate: no queue, so a held slot means busy at once
    started, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=gate.run, args=(lambda: (started.set(), release.wait(30)),))
    holder.start()
    try:
        assert started.wait(10)
        busy = person.post_form("/settings/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD})
        assert busy.status_code == 429 and int(busy.headers["Retry-After"]) >= 1
        [line] = summary(busy.get_data(as_text=True))
        assert re.fullmatch(r"Many people are signing in right now\. Nothing was changed\. Try again in \d+ "
                            r"seconds?\.", line), line
        signing_in = Browser(client.application.test_client()).post_form(
            "/sign-in", {"username": "amina", "password": PASSWORD})
        assert signing_in.status_code == 429
        said = summary(signing_in.get_data(as_text=True))
        assert said[0] == "Many people are signing in right now." and said[1].startswith("You can try again in ")
    finally:
        release.set()
        holder.join(30)
    assert api_sign_in(client).status_code == 201  # the old password: nothing was changed
