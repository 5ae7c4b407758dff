"""Every page built here, in French and in Arabic, signed out and signed in: axe-core finds no serious or
critical violation, nothing scrolls sideways at 360 px, and screenshots at 360 and 1280 px are written
to var/screenshots/ (git ignores /var/) for a person to look at."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from tests.browser.conftest import SCREENSHOTS
from tests.browser.people import add_paper, enrol, sign_out, specimen_files

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
    look.check("sign-in", accessibility=False)  # the sign-in pages are another package's

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

    assert not look.findings, "\n".join(look.findings)
