"""Getting back in, in Chromium with JavaScript on and off: « I lost my access » → a forgotten password
reset with a code → a new sheet printed (the PDF the server answers); a lost phone (sign in with a code →
set two-step sign-in up again on a new phone, or turn it off); the notice at the next sign-in. And the new
pages in French and Arabic: axe finds nothing serious or critical, nothing scrolls sideways at 360 px."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import PASSWORD
from tests.browser.people import call_api, code_from_the_app, person_with_two_step, sign_in
from tests.browser.test_journeys import record_answers
from tests.browser.test_look import Looker

NEW_PASSWORD = "voilier-cerise-brouillard-4"
JS = pytest.mark.parametrize("javascript", [True, False], ids=["with-javascript", "without-javascript"])


def enrolled(server, username: str) -> list[str]:
    answer = call_api(server, "POST", "/api/v1/people", {"username": username, "password": PASSWORD})
    assert answer.status == 201, answer.body
    return answer.body["recovery_codes"]


def reset_from_the_sign_in_page(page, server, username: str, code: str) -> None:
    page.goto(server.at("/sign-in"))
    page.locator("main").get_by_role("link", name="I lost my access").click()
    page.locator("main").get_by_role("link", name="Choose a new password").click()
    page.fill("#username", username)
    page.fill("#recovery_code", code)
    page.fill("#new_password", NEW_PASSWORD)
    page.get_by_role("button", name="Choose this password").click()
    page.wait_for_load_state("load")


@JS
def test_lost_access_forgotten_password_with_a_code_then_a_new_sheet(live_server, new_context, javascript):
    server = live_server
    username = "forgot.js" if javascript else "forgot.nojs"
    codes = enrolled(server, username)
    context = new_context(javascript=javascript, language="en-GB")
    page = context.new_page()

    # A wrong code first: said in words, nothing spent.
    reset_from_the_sign_in_page(page, server, username, "ABCDE-FGHJK-MNPQR-STUVW")
    assert "do not go together" in page.locator(".error-summary").inner_text()
    reset_from_the_sign_in_page(page, server, username, codes[0].lower())
    page.wait_for_url(server.at("/lost/password/done"))
    assert "9 codes are left on your recovery sheet." in page.locator("main").inner_text()

    # The offer to print a new sheet: the new password once, then the codes and the PDF.
    page.locator("main").get_by_role("link", name="Print a new recovery sheet").click()
    page.fill("#current_password", NEW_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_selector("ol.codes li")
    new_codes = [text.strip() for text in page.locator("ol.codes li").all_inner_texts()]
    assert len(new_codes) == 10 and set(new_codes).isdisjoint(codes)
    answers = record_answers(context, r"/recovery-sheet$")
    with context.expect_page() as opened:
        page.get_by_role("button", name="Print my recovery sheet").click()
    opened.value.wait_for_load_state("load")
    [(request, status, headers, body)] = answers
    assert request.method == "POST" and status == 200 and headers["content-type"] == "application/pdf"
    assert body.startswith(b"%PDF-")
    opened.value.close()

    # The old password and the burnt code open nothing; at the next sign-in, the notice until « That was me ».
    assert call_api(server, "POST", "/api/v1/sessions", {"username": username, "password": PASSWORD}).status == 401
    again = call_api(server, "POST", "/api/v1/recovery", {"username": username, "recovery_code": codes[0],
                                                          "new_password": "autre-phrase-longue-77"})
    assert again.status == 401
    other = new_context(javascript=javascript, language="en-GB").new_page()
    sign_in(other, server, username, NEW_PASSWORD)
    other.wait_for_url(server.at("/papers"))
    notice = other.locator("[data-recovery-notice]")
    assert "Your password was changed with a recovery code on" in notice.inner_text()
    other.get_by_role("button", name="That was me").click()
    other.wait_for_url(server.at("/papers"))
    assert other.locator("[data-recovery-notice]").count() == 0


@JS
@pytest.mark.parametrize("choice", ["new phone", "off"])
def test_lost_phone_sign_in_with_a_code_then_set_up_again_or_turn_off(live_server, new_context, javascript, choice):
    server = live_server
    username = f"phone.{'js' if javascript else 'nojs'}.{'again' if choice == 'new phone' else 'off'}"
    codes, _ = person_with_two_step(server, username)
    context = new_context(javascript=javascript, language="en-GB")
    page = context.new_page()
    page.goto(server.at("/lost"))
    page.locator("main").get_by_role("link", name="Sign in").click()
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/sign-in/second-step"))
    page.fill("#recovery_code", codes[4])
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(server.at("/settings/new-phone"))
    assert "9 codes are left on your sheet" in page.locator("main").inner_text()
    if choice == "new phone":
        page.fill("#again-password", PASSWORD)
        page.get_by_role("button", name="Set up on a new phone").click()
        page.wait_for_selector("p.secret")
        groups = page.locator("p.secret span").all_inner_texts()
        secret = "".join(group.strip() for group in groups)
        server.clock.advance(seconds=30)
        page.fill("#code", code_from_the_app(secret, server))
        page.locator("main form button[type=submit]").click()
        page.wait_for_url(server.at("/settings"))
        assert "Two-step sign-in is on" in page.locator("main").inner_text()
    else:
        page.fill("#off-password", PASSWORD)
        page.get_by_role("button", name="Turn off two-step sign-in").click()
        page.wait_for_url(server.at("/settings"))
        assert "Two-step sign-in is off" in page.locator("main").inner_text()
        signed = call_api(server, "POST", "/api/v1/sessions", {"username": username, "password": PASSWORD})
        assert signed.status == 201  # the password alone now


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_the_new_pages_are_accessible_and_fit_a_phone(live_server, new_context, language):
    server = live_server
    context = new_context(language=language)
    page = context.new_page()
    look = Looker(page, language)
    username = f"looklost.{language}"
    codes = enrolled(server, username)

    page.goto(server.at(f"/lost?lang={language}"))
    look.check("recovery-lost")
    page.goto(server.at("/lost/password"))
    look.check("recovery-forgotten-password")
    page.fill("#username", username)
    page.fill("#recovery_code", "ABCDE-FGHJK-MNPQR-STUVW")
    page.fill("#new_password", "azertyuiop")
    page.locator("main form button[type=submit]").click()
    page.wait_for_selector(".error-summary")
    look.check("recovery-forgotten-password-errors")
    page.fill("#recovery_code", codes[0])
    page.fill("#new_password", NEW_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(server.at("/lost/password/done"))
    look.check("recovery-done")

    # At the next sign-in: the notice on the home page, then the new-phone page after a code.
    fresh = new_context(language=language).new_page()
    look.page = fresh
    sign_in(fresh, server, username, NEW_PASSWORD)
    fresh.wait_for_selector("[data-recovery-notice]")
    look.check("recovery-notice")
    token = call_api(server, "POST", "/api/v1/sessions", {"username": username, "password": NEW_PASSWORD}).body["token"]
    secret = call_api(server, "POST", "/api/v1/me/otp", {"password": NEW_PASSWORD}, token=token).body["secret"]
    call_api(server, "POST", "/api/v1/me/otp/confirm", {"code": code_from_the_app(secret, server)}, token=token)
    server.clock.advance(seconds=30)
    phone = new_context(language=language).new_page()
    look.page = phone
    sign_in(phone, server, username, NEW_PASSWORD)
    phone.fill("#recovery_code", codes[1])
    phone.locator("main form button[type=submit]").click()
    phone.wait_for_url(server.at("/settings/new-phone"))
    look.check("recovery-new-phone")
    assert look.findings == []
