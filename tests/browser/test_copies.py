"""Copies in Chromium, with and without JavaScript: the person makes a copy of a paper, finds it in « Mes
copies », and a stranger checks it on the public verification page (the file matches; one byte changed
does not). axe-core finds nothing serious or critical on these pages, in French and in Arabic."""

from __future__ import annotations

import re

import pytest

from tests.browser.people import enrol, specimen_files, add_paper
from tests.browser.test_look import Looker
from tests.vault.duplicate_papers import text_pdf

REFERENCE = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}")


def make_a_copy(page, server, purpose: str, text: str = "") -> tuple[str, bytes]:
    """From « Mes papiers »: open the first paper, « Faire une copie », choose why, download it."""
    page.goto(server.at("/papers"))
    page.locator(".tile:not(.tile--add) .tile__link").nth(0).click()
    page.wait_for_url(re.compile(r"/papers/[0-9a-f-]{36}$"))
    page.locator("a[href$='/copy']").click()
    page.wait_for_url(re.compile(r"/copy$"))
    page.locator(f"input[name=purpose][value={purpose}]").check()
    if text:
        page.fill("#purpose_text", text)
    with page.expect_download() as download:
        page.locator("main form button[type=submit]").click()
    saved = download.value
    ref = REFERENCE.search(saved.suggested_filename).group(0)
    with open(saved.path(), "rb") as handle:
        return ref, handle.read()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_person_makes_a_copy_and_a_stranger_checks_it(live_server, new_context, javascript, tmp_path):
    server = live_server
    page = new_context(javascript=javascript, width=360).new_page()
    enrol(page, server, f"copies.{'js' if javascript else 'nojs'}")
    add_paper(page, server, kind="avis_imposition",
              files=[{"name": "avis.pdf", "mimeType": "application/pdf", "buffer": text_pdf(2)}])
    ref, pdf = make_a_copy(page, server, "other", "Pour mon propriétaire")
    assert pdf.startswith(b"%PDF")

    page.locator("a.site-nav__link[href='/copies']").click()
    page.wait_for_url(server.at("/copies"))
    card = page.locator(f"#copy-{ref}")
    assert "Pour mon propriétaire" in card.inner_text()
    assert card.locator("form").count() == 0  # one's own copy: nobody to ask to delete it

    stranger = new_context(javascript=javascript, width=360).new_page()
    stranger.goto(server.at("/verify"))
    stranger.fill("#ref", ref.lower().replace("-", " "))
    stranger.locator("main form button[type=submit]").click()
    stranger.wait_for_url(server.at(f"/verify/{ref}"))
    body = stranger.locator("main").inner_text()
    assert ref in body and "Pour mon propriétaire" in body and "copies." not in body  # never the person
    same = tmp_path / "copie.pdf"
    same.write_bytes(pdf)
    stranger.set_input_files("#file", str(same))
    stranger.locator("main form[enctype] button[type=submit]").click()
    stranger.wait_for_selector("[data-match]")
    assert stranger.locator("[data-match]").get_attribute("data-match") == "yes"
    altered = bytearray(pdf)
    altered[len(altered) // 2] ^= 1
    changed = tmp_path / "copie-changee.pdf"
    changed.write_bytes(bytes(altered))
    stranger.set_input_files("#file", str(changed))
    stranger.locator("main form[enctype] button[type=submit]").click()
    stranger.wait_for_selector("[data-match=no]")


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_the_copy_pages_are_accessible_and_fit_a_phone(live_server, new_context, language):
    server = live_server
    page = new_context(language=language).new_page()
    look = Looker(page, language)
    page.goto(server.at(f"/verify?lang={language}"))
    look.check("verify-form")
    page.goto(server.at("/verify?ref=nothing"))
    look.check("verify-unknown")
    enrol(page, server, f"copies.look.{language}")
    add_paper(page, server, kind="carte_identite", files=specimen_files(seed=9))
    page.goto(server.at("/copies"))
    look.check("copies-empty")
    page.goto(server.at("/papers"))
    page.locator(".tile:not(.tile--add) .tile__link").nth(0).click()
    page.wait_for_url(re.compile(r"/papers/[0-9a-f-]{36}$"))
    page.locator("a[href$='/copy']").click()
    look.check("copy-make")
    page.locator("main form button[type=submit]").click()
    page.wait_for_selector(".error-summary")
    look.check("copy-make-errors")
    ref, pdf = make_a_copy(page, server, "housing")
    page.goto(server.at("/copies"))
    look.check("copies")
    page.goto(server.at(f"/verify/{ref}"))
    look.check("verify")
    assert not look.findings, "\n".join(look.findings)
