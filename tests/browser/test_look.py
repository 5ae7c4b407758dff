"""Every page, in French and in Arabic, signed out and signed in (the sign-in pages, the activity and the
settings included, with their errors): axe-core finds no serious or critical violation, nothing scrolls
sideways at 360 px, and screenshots at 360 and 1280 px are written to var/screenshots/ (git ignores
/var/) for a person to look at."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from tests.browser.conftest import PASSWORD, SCREENSHOTS
from tests.browser.people import (
    add_paper,
    call_api,
    code_from_the_app,
    enrol,
    sign_in,
    sign_out,
    specimen_files,
)

SERIOUS = {"serious", "critical"}
WIDTHS = (360, 1280)


class Looker:
    """Checks the page in the browser, then photographs it at each width."""

    def __init__(self, page, language: str) -> None:
        self.page = page
        self.language = language
        self.seen: list[str] = []
        self.findings: list[str] = []

    def check(self, name: str, *, accessibility: bool = True) -> None:
        from axe_playwright_python.sync_playwright import Axe

        page = self.page
        page.wait_for_load_state("load")
        assert page.locator("html").get_attribute("lang") == self.language, name
        expected_direction = "rtl" if self.language == "ar" else "ltr"
        assert page.locator("html").get_attribute("dir") == expected_direction, name
        if accessibility:
            results = Axe().run(page)
            for violation in results.response["violations"]:
                if violation["impact"] in SERIOUS:
                    targets = [node["target"] for node in violation["nodes"]][:3]
                    self.findings.append(f"{self.language} {name}: {violation['id']} ({violation['impact']}) {targets}")
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 800})
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            if width == 360 and overflow > 0:
                self.findings.append(f"{self.language} {name}: scrolls sideways by {overflow}px at 360 px")
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{self.language}-{width}.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 800})
        self.seen.append(name)


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_every_page_is_accessible_fits_a_phone_and_is_photographed(live_server, new_context, language):
    context = new_context(language=language)
    page = context.new_page()
    look = Looker(page, language)
    server = live_server

    # Signed out
    page.goto(server.at(f"/?lang={language}"))
    look.check("welcome")
    page.goto(server.at("/enrol"))
    look.check("enrol")
    page.fill("#username", "")
    page.locator("main form button[type=submit]").click()
    page.wait_for_selector(".error-summary")
    look.check("enrol-errors")
    page.goto(server.at("/lost"))
    look.check("lost")
    page.goto(server.at("/timed-out"))
    look.check("timed-out")
    page.goto(server.at("/signed-out"))
    look.check("signed-out")
    page.goto(server.at("/no-such-page"))
    look.check("not-found")
    page.goto(server.at("/sign-in"))
    look.check("sign-in")
    sign_in(page, server, f"nobody.{language}", "not-a-password")
    page.wait_for_selector(".error-summary")
    look.check("sign-in-errors")
    # Somebody elsewhere made too many guesses: the owner reads the real wait and the way in now.
    locked = f"locked.{language}"
    call_api(server, "POST", "/api/v1/people", {"username": locked, "password": PASSWORD})
    for index in range(5):
        call_api(server, "POST", "/api/v1/sessions", {"username": locked, "password": f"guess-{index}"},
                 source="127.0.0.9")
    sign_in(page, server, locked)
    page.wait_for_selector("#recovery_code")
    look.check("sign-in-locked")

    # Signed in
    enrol(page, server, f"look.{language}")
    look.check("enrol-codes")
    page.goto(server.at("/papers"))
    look.check("home-empty")
    page.goto(server.at("/papers/add"))
    look.check("add")
    page.locator("main form button[type=submit]").click()
    page.wait_for_selector(".error-summary")
    look.check("add-errors")
    today = date.today()
    add_paper(page, server, kind="passeport", files=specimen_files(seed=3)[:1], expires_on=today - timedelta(days=3))
    add_paper(page, server, kind="carte_vitale", files=specimen_files(seed=4)[1:],
              expires_on=today + timedelta(days=20))
    add_paper(page, server, kind="carte_identite", files=specimen_files(seed=5), title="Front and back")
    look.check("home-papers")
    page.locator(".tile:not(.tile--add) .tile__link").nth(0).click()
    page.wait_for_url(re.compile(r"/papers/[0-9a-f-]{36}$"))
    look.check("paper-pdf")
    paper = page.url
    page.goto(paper + "/change")
    look.check("change")
    page.fill("#expires_on", "31")
    page.fill("#expires_on-month", "2")
    page.fill("#expires_on-year", "2030")
    page.locator("main form button[type=submit]").click()
    page.wait_for_selector(".error-summary")
    look.check("change-errors")
    page.goto(paper + "/delete")
    look.check("delete")
    page.goto(server.at("/papers"))
    page.locator(".tile:not(.tile--add) .tile__link").nth(2).click()
    page.wait_for_url(re.compile(r"/papers/[0-9a-f-]{36}$"))
    look.check("paper-photo")

    # Who has seen my papers, with a burst of refused sign-ins among the lines.
    for index in range(3):
        call_api(server, "POST", "/api/v1/sessions", {"username": f"look.{language}", "password": f"guess-{index}"},
                 source="127.0.0.9")
    page.goto(server.at("/activity"))
    look.check("activity")

    # Settings, and each change with the current password.
    page.goto(server.at("/settings"))
    look.check("settings")
    page.goto(server.at("/settings/password"))
    look.check("settings-password")
    page.fill("#current_password", "not-my-password")
    page.fill("#new_password", "short")
    page.locator("main form button[type=submit]").click()
    page.wait_for_selector(".error-summary")
    look.check("settings-password-errors")
    page.goto(server.at("/settings/recovery-codes"))
    look.check("settings-recovery-codes")
    page.fill("#current_password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_selector("ol.codes li")
    look.check("settings-recovery-codes-new")
    recovery_code = page.locator("ol.codes li").first.inner_text().strip()  # the enrolment's no longer work
    page.goto(server.at("/settings/two-step"))
    look.check("settings-two-step-on")
    page.fill("#current_password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_selector("img.qr-code")
    look.check("settings-two-step-code")
    secret = "".join(page.locator(".secret span").all_inner_texts())
    page.fill("#code", "000000")
    page.locator("main form button[type=submit]").click()
    page.wait_for_selector(".error-summary")
    look.check("settings-two-step-code-errors")
    page.fill("#code", code_from_the_app(secret, server))
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(server.at("/settings"))
    look.check("settings-confirmed")
    page.goto(server.at("/settings/two-step"))
    look.check("settings-two-step-off")
    page.goto(server.at("/settings/sign-out-everywhere"))
    look.check("settings-sign-out-everywhere")

    # On a phone (a touch screen), adding a paper also offers the camera, front and back.
    phone = new_context(language=language, width=360, height=800, is_mobile=True, has_touch=True,
                        storage_state=context.storage_state()).new_page()
    phone.goto(server.at("/papers/add"))
    assert phone.locator("#photo_front").is_visible() and phone.locator("#photo_back").is_visible()
    assert phone.locator("#photo_front").get_attribute("capture") == "environment"
    # (Chromium's full-page screenshots of an emulated phone lay the page out again wrongly: the view
    # around the camera buttons is photographed instead.)
    phone.locator(".camera").scroll_into_view_if_needed()
    phone.screenshot(path=str(SCREENSHOTS / f"add-phone-{language}-360.png"))
    sign_out(page)

    # The second step of the sign-in, now that two-step sign-in is on; then in with a recovery code.
    server.clock.advance(seconds=30)
    sign_in(page, server, f"look.{language}")
    page.wait_for_url(re.compile(r"/sign-in/second-step"))
    look.check("sign-in-second-step")
    page.fill("#otp", "000000")
    page.locator("main form button[type=submit]").click()
    page.wait_for_selector(".error-summary")
    look.check("sign-in-second-step-errors")
    page.fill("#recovery_code", recovery_code)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(server.at("/settings/new-phone"))  # a code stood in for the app's: a new phone?
    look.check("new-phone-after-recovery-code")
    page.goto(server.at("/settings/sign-out-everywhere"))
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(server.at("/signed-out"))
    look.check("signed-out-everywhere")

    assert not look.findings, "\n".join(look.findings)
