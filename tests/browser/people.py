"""What a person does in the browser, step by step, shared by the journey and the look tests."""

from __future__ import annotations

import json
import re
from datetime import date

import pyotp

from tests.browser.conftest import PASSWORD
from tests.web.live_server import Answer, request
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


def sign_in(page, server, username: str, password: str = PASSWORD) -> None:
    """Fill in the sign-in page (and stop there: a second step may follow)."""
    page.goto(server.at("/sign-in"))
    page.fill("#username", username)
    page.fill("#password", password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state("load")


def code_from_the_app(secret: str, server) -> str:
    """What an authenticator app shows now, on the server's clock (which a test may move forward)."""
    return pyotp.TOTP(secret).at(server.clock())


def call_api(server, method: str, path: str, body: dict | None = None, *, token: str | None = None,
             source: str = "127.0.0.1") -> Answer:
    """A JSON request from the loopback address ``source`` (another person, or a stranger elsewhere)."""
    headers = {"Content-Type": "application/json", "Accept-Language": "en"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    payload = json.dumps(body).encode() if body is not None else None
    return request(server.url, method, path, body=payload, headers=headers, source=source)


def person_with_two_step(server, username: str) -> tuple[list[str], str]:
    """Enrolled and with two-step sign-in on, through the API: (recovery codes, the app's secret)."""
    enrolled = call_api(server, "POST", "/api/v1/people", {"username": username, "password": PASSWORD})
    assert enrolled.status == 201, enrolled.body
    token = call_api(server, "POST", "/api/v1/sessions", {"username": username, "password": PASSWORD}).body["token"]
    secret = call_api(server, "POST", "/api/v1/me/otp", {"password": PASSWORD}, token=token).body["secret"]
    confirmed = call_api(server, "POST", "/api/v1/me/otp/confirm", {"code": code_from_the_app(secret, server)},
                         token=token)
    assert confirmed.status == 204, confirmed.body
    server.clock.advance(seconds=30)  # the code just used is spent: the next one comes with the next step
    return enrolled.body["recovery_codes"], secret
