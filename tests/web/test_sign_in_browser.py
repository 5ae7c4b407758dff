"""The sign-in pages in Debian's Chromium, against a real server: password, second step, the known-device
cookie that no script can read, and getting in with a recovery code under a lock. Without JavaScript too:
the pages are plain forms."""

from __future__ import annotations

import pyotp
import pytest

from tests.lanes import require_program
from tests.web.conftest import PASSWORD
from tests.web.live_server import live_server

pytestmark = [pytest.mark.usefixtures("database_url"), pytest.mark.lane("browser")]
CHROMIUM_ARGUMENTS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                      "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture
def browser():
    executable = require_program("chromium", "chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGUMENTS)
        yield launched
        launched.close()


def sign_in_page(context, base: str, username: str, password: str = PASSWORD):
    page = context.new_page()
    page.goto(f"{base}/sign-in?lang=en")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    return page


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_sign_in_with_the_second_step_and_the_device_cookie(app, api, client, clock, browser, javascript):
    person = api.person("chromium1")
    secret = client.post("/api/v1/me/otp", json={"password": person.password}, headers=person.auth).get_json()["secret"]
    client.post("/api/v1/me/otp/confirm", json={"code": pyotp.TOTP(secret).at(clock())}, headers=person.auth)
    clock.advance(seconds=30)
    with live_server(app) as server:
        base = f"http://127.0.0.1:{server.port}"
        context = browser.new_context(java_script_enabled=javascript, locale="en-GB")
        page = sign_in_page(context, base, "chromium1")
        assert page.url.startswith(f"{base}/sign-in/second-step")
        page.get_by_label("Code from your app").fill(pyotp.TOTP(secret).at(clock()))
        page.get_by_role("button", name="Continue").click()
        assert page.url == f"{base}/papers"

        cookies = {cookie["name"]: cookie for cookie in context.cookies()}
        for name in ("consigne-session", "consigne-devices"):
            assert cookies[name]["httpOnly"] and cookies[name]["sameSite"] == "Strict"
        assert "consigne-second-step" not in cookies
        if javascript:  # no script ever reads a token
            assert "cs1." not in page.evaluate("document.cookie") and "cd1." not in page.evaluate("document.cookie")

        # A stranger locks the account; this browser (known) still gets in, a new one needs a recovery code.
        clock.advance(seconds=30)
        for index in range(6):
            server.call("POST", "/api/v1/sessions", {"username": "chromium1", "password": f"guess-{index}"},
                        source="127.0.0.9")
        context.clear_cookies(name="consigne-session")
        again = sign_in_page(context, base, "chromium1")
        assert again.url.startswith(f"{base}/sign-in/second-step")  # past the lock, on to the app code

        stranger_context = browser.new_context(java_script_enabled=javascript, locale="en-GB")
        locked = sign_in_page(stranger_context, base, "chromium1")
        assert "To get in now, type your password and one of your recovery codes." in locked.content()
        assert "You can try again in" in locked.content()
        locked.get_by_label("Password").fill(PASSWORD)
        locked.get_by_label("A recovery code").fill(person.recovery_codes[0])
        locked.get_by_role("button", name="Sign in").click()
        assert locked.url == f"{base}/papers"
        stranger_context.close()
        context.close()
