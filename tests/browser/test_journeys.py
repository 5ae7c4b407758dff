"""The person's journey of issue 7 in Chromium, with JavaScript on and off: enrol → print the recovery
sheet → add both sides of an identity card with the file chooser → the tile appears → rename it → see it
→ the activity shows the upload and the view → sign out → the back button shows nothing → sign in → turn
on two-step sign-in with a code computed from the shown key → sign out → sign in with a code from the app
→ sign in with a recovery code instead → change the password. The pages are in English here so the test
can read them (Accept-Language)."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import PASSWORD
from tests.browser.people import code_from_the_app, enrol, sign_in, sign_out, specimen_files

NEW_PASSWORD = "tambour-lune-cheval-42"


def record_answers(context, pattern: str) -> list:
    """Keep (request, status, headers, body) of each answer whose URL matches, as it passes by.

    The browser's PDF viewer replaces what it shows (and what Playwright reports) with its own page, so
    the server's real answer is read on its way to the browser instead.
    """
    answers = []

    def keep(route):
        answer = route.fetch()
        answers.append((route.request, answer.status, answer.headers, answer.body()))
        route.fulfill(response=answer)

    context.route(re.compile(pattern), keep)
    return answers


@pytest.mark.parametrize("javascript", [True, False], ids=["with-javascript", "without-javascript"])
def test_enrol_print_add_rename_see_sign_out_and_back_in(live_server, new_context, javascript):
    server = live_server
    context = new_context(javascript=javascript, language="en-GB")
    page = context.new_page()
    username = "journey.js" if javascript else "journey.nojs"

    # Enrol: three steps at most, signed in at the end of the first.
    codes = enrol(page, server, username)
    assert page.locator(".username-display").inner_text() == username

    # Print the recovery sheet: the codes are posted back (never in a URL) and a PDF opens in a new tab.
    answers = record_answers(context, r"/recovery-sheet$")
    with context.expect_page() as opened:
        page.get_by_role("button", name="Print my recovery sheet").click()
    opened.value.wait_for_load_state("load")
    [(request, status, headers, body)] = answers
    assert request.method == "POST" and not any(code in request.url for code in codes)
    assert all(code in (request.post_data or "") for code in codes)
    assert status == 200 and headers["content-type"] == "application/pdf"
    assert headers["cache-control"] == "no-store"
    assert body.startswith(b"%PDF-")
    opened.value.close()

    # My papers, then add both sides of a card at once with the file chooser.
    page.get_by_role("link", name="I have my sheet: go to my papers").click()
    page.wait_for_url(server.at("/papers"))
    page.get_by_role("link", name="Add a paper").first.click()
    page.locator("label[for=kind]").click()  # the identity card, first of the pictograms
    page.set_input_files("#file", specimen_files())
    page.get_by_role("button", name="Save my paper").click()
    page.wait_for_url(server.at("/papers"))
    assert "Your paper “Identity card” is saved." in page.locator(".banner").inner_text()
    tile = page.locator(".tile:not(.tile--add) .tile__link")
    assert tile.count() == 1 and "Identity card" in tile.inner_text()

    # Rename it, from its page.
    tile.click()
    page.get_by_role("link", name="Change the name").click()
    page.fill("#title", "My card, both sides")
    page.get_by_role("button", name="Save the changes").click()
    page.wait_for_url(re.compile(r"/papers/[0-9a-f-]{36}$"))
    assert "are saved" in page.locator(".banner").inner_text()
    assert page.locator("p.lead").inner_text() == "My card, both sides"
    assert "A PDF of 2 pages." in page.locator(".paper-view").inner_text()
    paper_url = page.url

    # See it: the browser's own viewer, in a sandbox, with the exact type.
    seen = record_answers(context, r"/see$")
    page.get_by_role("link", name="See the paper").click()
    page.wait_for_load_state("load")
    [(_, status, headers, body)] = seen
    assert status == 200 and body.startswith(b"%PDF-")
    assert headers["content-type"] == "application/pdf"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-security-policy"].startswith("sandbox;")
    assert headers["content-disposition"].startswith("inline;")
    assert headers["cache-control"] == "no-store"
    page.goto(paper_url)

    # Who has seen my papers: the upload and the view, with the paper's own name beside.
    page.get_by_role("link", name="Who has seen my papers").first.click()
    page.wait_for_url(server.at("/activity"))
    lines = [" ".join(line.split()) for line in page.locator(".activity__item").all_inner_texts()]
    assert lines[0].startswith("You looked at a paper: Identity card.") and "My card, both sides" in lines[0]
    assert any(line.startswith("You changed the details of a paper: Identity card.") for line in lines)
    assert any(line.startswith("You added a paper: Identity card.") for line in lines)
    page.goto(paper_url)

    # Sign out; the back button then shows nothing of the papers.
    sign_out(page)
    assert "You are signed out" in page.locator("h1").inner_text()
    page.go_back()
    page.wait_for_load_state("load")
    assert "/sign-in" in page.url
    assert "My card, both sides" not in page.content()

    # Sign in again (the plain sign-in page) and find the paper where it was.
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(paper_url)
    assert page.locator("p.lead").inner_text() == "My card, both sides"

    secret = turn_on_two_step(page, server)
    sign_out(page)

    # Sign in with a code from the app, on the second page.
    server.clock.advance(seconds=30)  # the code that turned it on is spent: the app's next one
    sign_in(page, server, username)
    assert page.url.startswith(server.at("/sign-in/second-step"))
    page.get_by_label("Code from your app").fill(code_from_the_app(secret, server))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(server.at("/papers"))
    sign_out(page)

    # The phone is lost: a recovery code instead, and the next page says how many are left.
    sign_in(page, server, username)
    page.get_by_label("Or a recovery code").fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    # Two-step sign-in is on: the next page offers a new phone or turning it off (tests/browser/test_recovery.py).
    page.wait_for_url(server.at("/settings/new-phone"))
    assert "9 codes are left on your sheet" in page.locator(".banner").inner_text()

    change_password(page, server)
    sign_out(page)
    sign_in(page, server, username, NEW_PASSWORD)
    assert page.url.startswith(server.at("/sign-in/second-step"))  # two-step sign-in is still on


def turn_on_two_step(page, server) -> str:
    """From the settings: the password, then the key shown in groups, typed into « the app » (pyotp)."""
    page.get_by_role("link", name="Settings").first.click()
    page.wait_for_url(server.at("/settings"))
    page.get_by_role("link", name="Turn on two-step sign-in").click()
    page.get_by_label("Your current password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_selector("img.qr-code")
    assert page.locator("img.qr-code").evaluate("image => image.complete && image.naturalWidth > 0")
    groups = page.locator(".secret span").all_inner_texts()
    assert len(groups) == 8 and all(len(group) == 4 for group in groups)
    secret = "".join(groups)
    page.get_by_label("The code from your app").fill(code_from_the_app(secret, server))
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    page.wait_for_url(server.at("/settings"))
    assert "Two-step sign-in is on." in page.locator(".banner").inner_text()
    return secret


def change_password(page, server) -> None:
    page.get_by_role("link", name="Settings").first.click()
    page.get_by_role("link", name="Change my password").click()
    page.get_by_label("Your current password").fill(PASSWORD)
    page.get_by_label("Your new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change my password").click()
    page.wait_for_url(server.at("/settings"))
    assert "Your password is changed." in page.locator(".banner").inner_text()
