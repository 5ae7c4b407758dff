"""The sign-in pages in Debian's Chromium, against the live server: password, second step, the known-device
cookie that no script can read, and getting in with a recovery code under a lock. Without JavaScript too:
the pages are plain forms. (The whole person's journey, two-step sign-in turned on from the settings
included, is tests/browser/test_journeys.py.)"""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import PASSWORD
from tests.browser.people import call_api, code_from_the_app, person_with_two_step

STRANGER = "127.0.0.9"  # another address on the loopback: somebody elsewhere, guessing


def sign_in_page(context, server, username: str, password: str = PASSWORD):
    page = context.new_page()
    page.goto(server.at("/sign-in?lang=en"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("load")
    return page


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_sign_in_with_the_second_step_and_the_device_cookie(live_server, new_context, javascript):
    server = live_server
    username = "chromium.js" if javascript else "chromium.nojs"
    codes, secret = person_with_two_step(server, username)
    context = new_context(javascript=javascript, language="en-GB")
    page = sign_in_page(context, server, username)
    assert page.url.startswith(server.at("/sign-in/second-step"))
    page.get_by_label("Code from your app").fill(code_from_the_app(secret, server))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(server.at("/papers"))

    cookies = {cookie["name"]: cookie for cookie in context.cookies()}
    for name in ("consigne-session", "consigne-devices"):
        assert cookies[name]["httpOnly"] and cookies[name]["sameSite"] == "Strict"
    assert "consigne-second-step" not in cookies
    if javascript:  # no script ever reads a token
        assert "cs1." not in page.evaluate("document.cookie") and "cd1." not in page.evaluate("document.cookie")

    # A stranger locks the account; this browser (known) still gets in, a new one needs a recovery code.
    server.clock.advance(seconds=30)
    for index in range(6):
        call_api(server, "POST", "/api/v1/sessions", {"username": username, "password": f"guess-{index}"},
                 source=STRANGER)
    context.clear_cookies(name="consigne-session")
    again = sign_in_page(context, server, username)
    assert again.url.startswith(server.at("/sign-in/second-step"))  # past the lock, on to the app code

    stranger_context = new_context(javascript=javascript, language="en-GB")
    locked = sign_in_page(stranger_context, server, username)
    words = " ".join(locked.locator("main").inner_text().split())
    assert "To get in now, type your password and one of your recovery codes." in words
    assert re.search(r"You can try again in \d+ (seconds|minutes?)\.", words)
    locked.get_by_label("Password").fill(PASSWORD)
    locked.get_by_label("A recovery code").fill(codes[0])
    locked.get_by_role("button", name="Sign in").click()
    locked.wait_for_url(server.at("/settings/new-phone"))  # a code stood in for the app's: a new phone?
    assert "9 codes are left on your sheet" in locked.locator(".banner").inner_text()
