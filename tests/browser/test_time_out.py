"""The idle time-out seen in Chromium with JavaScript: a warning two minutes before, « Stay signed in »
that works, then the automatic sign-out. The browser's clock is Playwright's, the server's is moved
forward by the same amount, so no test waits thirty minutes."""

from __future__ import annotations

import re

from tests.browser.people import enrol


def test_the_warning_comes_before_the_time_out_then_the_page_signs_out(live_server, new_context):
    server = live_server
    context = new_context(language="en-GB")
    page = context.new_page()
    page.clock.install()
    enrol(page, server, "sleepy")
    page.goto(server.at("/papers"))
    warning = page.locator('[data-module="timeout-warning"]')
    assert warning.is_hidden()

    # 28 minutes and a half: the warning says how long is left, in words.
    page.clock.run_for("28:30")
    assert warning.is_visible()
    assert "You will be signed out in 2 minutes" in warning.inner_text()

    # « Stay signed in » asks the server (which counts it as activity) and the warning goes.
    with page.expect_response(re.compile(r"/still-here$")) as kept:
        warning.get_by_role("button", name="Stay signed in").click()
    assert kept.value.status == 204
    assert warning.is_hidden()

    # Thirty minutes later with nothing done, here and on the server: signed out, by the page itself.
    server.clock.advance(minutes=31)
    try:
        page.clock.run_for("30:10")
        page.wait_for_url(re.compile(r"/timed-out"))
        assert "You are signed out" in page.locator("h1").inner_text()
        page.goto(server.at("/papers"))
        assert "/sign-in" in page.url
    finally:
        server.clock.reset()
