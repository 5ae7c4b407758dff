"""What a person does in the browser, step by step, shared by the journey and the look tests."""

from __future__ import annotations

import re
from datetime import date

from tests.browser.conftest import PASSWORD
from vault.specimens import render_specimen

CODE = re.compile(r"^[0-9A-Z]{4}(-[0-9A-Z]{4})+$")


def specimen_files(name: str = "Amina Exemple", seed: int = 7) -> list[dict]:
    """Both sides of a SPECIMEN identity card, as the file chooser hands them over."""
    files = []
    for side, kind in (("front", "carte_identite_recto"), ("back", "carte_identite_verso")):
        data, content_type = render_specimen(kind, name=name, seed=seed)
        files.append({"name": f"card-{side}.jpg", "mimeType": content_type, "buffer": data})
    return files


def enrol(page, server, username: str, password: str = PASSWORD) -> list[str]:
    """Fill in the enrolment form; returns the recovery codes the next page shows."""
    page.goto(server.at("/enrol"))
    page.fill("#username", username)
    page.fill("#password", password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_selector("ol.codes li")
    codes = [text.strip() for text in page.locator("ol.codes li").all_inner_texts()]
    assert len(codes) == 10 and all(CODE.match(code) for code in codes), codes
    return codes


def add_paper(page, server, *, kind: str, files: list[dict], title: str = "", expires_on: date | None = None):
    page.goto(server.at("/papers/add"))
    page.locator(f"input[name=kind][value={kind}]").check()
    page.set_input_files("#file", files)
    if title:
        page.fill("#title", title)
    if expires_on:
        page.fill("#expires_on", str(expires_on.day))
        page.fill("#expires_on-month", str(expires_on.month))
        page.fill("#expires_on-year", str(expires_on.year))
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(server.at("/papers"))


def sign_out(page) -> None:
    page.locator(".sign-out-form button").click()
    page.wait_for_url(re.compile(r"/signed-out"))
