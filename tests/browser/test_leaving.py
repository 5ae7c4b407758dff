"""Leaving, in Chromium with and without JavaScript: take everything out in both formats (the download
arrives and holds the papers), then close the locker and land on a page that leads home. The new pages,
their errors included, pass axe in French and Arabic and fit a 360 px phone."""

from __future__ import annotations

import io
import re
import zipfile

import pytest

from tests.browser.conftest import PASSWORD
from tests.browser.people import add_paper, enrol, sign_in, specimen_files
from tests.browser.test_look import Looker

PASSPHRASE = "riviere-bleue-soleil-42"


def download(page, submit) -> zipfile.ZipFile:
    # The age export seals the key with scrypt (about a second, longer on a busy machine): wait for the
    # download itself, not for a navigation (a download is none).
    with page.expect_download(timeout=120_000) as arrived:
        submit()
    data = open(arrived.value.path(), "rb").read()
    assert arrived.value.suggested_filename.startswith("consigne-")
    return zipfile.ZipFile(io.BytesIO(data))


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_take_everything_out_then_close_the_locker(live_server, new_context, javascript):
    server = live_server
    username = f"partir.{'js' if javascript else 'nojs'}"
    page = new_context(javascript=javascript).new_page()
    enrol(page, server, username)
    add_paper(page, server, kind="carte_identite", files=specimen_files())

    page.goto(server.at("/settings"))
    page.locator('a[href="/settings/export"]').click()
    page.wait_for_url(server.at("/settings/export"))
    page.locator("input[name=format][value=zip]").check()
    page.fill("#current_password", PASSWORD)
    archive = download(page, lambda: page.locator("main form button[type=submit]").click(no_wait_after=True))
    names = archive.namelist()
    assert "consigne.json" in names and "README.txt" in names
    [paper] = [name for name in names if name.startswith("papers/")]
    assert archive.read(paper).startswith(b"%PDF")  # two photos of a card: one PDF, as stored

    page.goto(server.at("/settings/export"))
    page.locator("input[name=format][value=age]").check()
    page.fill("#passphrase", PASSPHRASE)
    page.fill("#current_password", PASSWORD)
    archive = download(page, lambda: page.locator("main form button[type=submit]").click(no_wait_after=True))
    assert "identity.age" in archive.namelist()
    assert any(name.endswith(".pdf.age") for name in archive.namelist())

    page.goto(server.at("/settings"))
    page.locator('a[href="/settings/delete"]').click()
    page.wait_for_url(server.at("/settings/delete"))
    page.fill("#current_password", PASSWORD)
    page.locator("#understood").check()
    page.locator("main form button.button--warning").click()
    page.wait_for_url(server.at("/closed"))
    assert page.locator("h1").inner_text().strip()
    page.locator('main a[href="/"]').click()
    page.wait_for_load_state("load")
    # The locker is gone: signing in again fails.
    sign_in(page, server, username)
    assert re.search(r"/sign-in", page.url)
    assert page.locator(".error-summary").count() == 1


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_the_leaving_pages_are_accessible(live_server, new_context, language):
    server = live_server
    page = new_context(language=language).new_page()
    look = Looker(page, language)
    page.goto(server.at(f"/?lang={language}"))
    enrol(page, server, f"regard.partir.{language}")
    page.goto(server.at("/settings/export"))
    look.check("export")
    page.locator("main form button[type=submit]").click()  # nothing filled in: the errors
    page.wait_for_load_state("load")
    assert page.locator(".error-summary").count() == 1
    look.check("export-errors")
    page.goto(server.at("/settings/delete"))
    look.check("delete")
    page.locator("main form button.button--warning").click()
    page.wait_for_load_state("load")
    assert page.locator(".error-summary").count() == 1
    look.check("delete-errors")
    page.fill("#current_password", PASSWORD)
    page.locator("#understood").check()
    page.locator("main form button.button--warning").click()
    page.wait_for_url(server.at("/closed"))
    look.check("closed")
    assert look.findings == []
