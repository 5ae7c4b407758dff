"""Organisations in Debian's Chromium, with and without JavaScript: an invitation → the admin joins (the
app's QR and first code) → signs out and in again with the app → invites a worker → the worker joins →
enrols a person side by side with the follow ticked by the person, prints the sheet → the person sees the
follow → the admin deactivates the worker, who is out at once. Then axe on every new page, French and
Arabic."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import PASSWORD
from tests.browser.people import code_from_the_app, sign_in, sign_out
from tests.browser.test_look import Looker
from vault import organisations
from vault.policies import Actor

CODE = re.compile(r"[0-9A-Z]{4}(?:-[0-9A-Z]{4}){4}")


def new_organisation(server, name: str) -> str:
    """What ``consigne organisation create NAME`` does on the server: the first admin's code."""
    services = server.app.extensions["consigne"]
    with services.session_factory() as session:
        _, invitation = organisations.create_organisation(session, actor=Actor.operator(), keys=services.keys,
                                                          name=name, now=server.clock())
        session.commit()
    return invitation.code


def join(page, server, code: str, username: str, display_name: str = "") -> str:
    """Fill in the joining page, then type the app's first code: lands on the staff home. The app secret."""
    page.goto(server.at("/staff/join"))
    page.fill("#invitation", code)
    page.fill("#username", username)
    page.fill("#display_name", display_name)
    page.fill("#password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_selector("img.qr-code")
    secret = "".join(page.locator(".secret span").all_inner_texts())
    page.fill("#otp", code_from_the_app(secret, server))
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(server.at("/work"))
    return secret


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_invite_join_enrol_side_by_side_and_deactivate(live_server, new_context, javascript):
    server = live_server
    suffix = "js" if javascript else "nojs"
    place = f"Les Lilas {suffix}"
    admin = new_context(javascript=javascript, language="en-GB").new_page()
    secret = join(admin, server, new_organisation(server, place), f"nadia.{suffix}", "Nadia B.")
    assert place in admin.locator("h1").inner_text()
    assert admin.locator("nav.site-nav a[href='/papers']").count() == 0  # staff see no « my papers »
    # Out, and in again through the ordinary sign-in pages with a code from the app.
    sign_out(admin)
    server.clock.advance(seconds=30)
    sign_in(admin, server, f"nadia.{suffix}")
    admin.wait_for_url(re.compile(r"/sign-in/second-step"))
    admin.fill("#otp", code_from_the_app(secret, server))
    admin.locator("main form button[type=submit]").click()
    admin.wait_for_url(server.at("/work"))

    # The admin invites a worker: the code shown once, big, with its expiry.
    admin.goto(server.at("/organisation"))
    admin.locator("main form button[type=submit]").click()
    admin.wait_for_selector(".secret")
    worker_code = CODE.search(admin.locator(".secret").inner_text()).group(0)
    assert "Valid until" in admin.locator("main").inner_text()

    worker = new_context(javascript=javascript, language="en-GB").new_page()
    join(worker, server, worker_code, f"marie.{suffix}", "Marie L.")
    assert worker.locator("nav.site-nav a[href='/organisation']").count() == 0

    # Side by side: the person types their own username and password, and ticks the follow box.
    worker.goto(server.at("/work/enrol"))
    worker.fill("#username", f"amina.{suffix}")
    worker.fill("#password", PASSWORD)
    assert not worker.locator("#follow").is_checked()
    worker.locator("label[for=follow]").click()
    worker.locator("main form button[type=submit]").last.click()
    worker.wait_for_selector("ol.codes li")
    codes = [text.strip() for text in worker.locator("ol.codes li").all_inner_texts()]
    assert len(codes) == 10
    sheet_form = worker.locator("form[action='/work/enrol/sheet']")
    fields = {name: sheet_form.locator(f"input[name='{name}']").get_attribute("value")
              for name in ["csrf_token", "username"] + [f"code-{index}" for index in range(10)]}
    sheet = worker.request.post(server.at("/work/enrol/sheet"), form=fields)
    assert sheet.status == 200 and sheet.body().startswith(b"%PDF-")
    worker.locator("main a.button[href='/work']").click()
    worker.wait_for_url(server.at("/work"))
    home = worker.locator("main").inner_text()
    assert f"amina.{suffix}" in home and not any(code in worker.content() for code in codes)
    assert f"amina.{suffix}" not in str(worker.context.cookies())  # still the worker's own session

    # The person, on their own device, sees who follows them and how to stop it.
    person = new_context(javascript=javascript, language="en-GB").new_page()
    sign_in(person, server, f"amina.{suffix}")
    person.wait_for_url(server.at("/papers"))
    person.goto(server.at("/settings/organisations"))
    assert place in person.locator("main").inner_text()
    assert person.goto(server.at("/work")).url == server.at("/papers")  # a person has no staff home

    # The admin deactivates the worker after a confirmation saying shares end at once.
    admin.goto(server.at("/organisation"))
    admin.locator("main a[href*='/deactivate']").click()
    assert "stops at once" in admin.locator("main").inner_text()
    admin.locator("main form button[type=submit]").first.click()
    admin.wait_for_url(re.compile(r"/organisation$"))
    assert "can no longer sign in" in admin.locator("main").inner_text()
    worker.goto(server.at("/work"))
    assert "/sign-in" in worker.url


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_the_new_pages_are_accessible_and_fit_a_phone(live_server, new_context, language):
    server = live_server
    page = new_context(language=language).new_page()
    look = Looker(page, language)
    page.goto(server.at(f"/staff/join?lang={language}"))
    look.check("staff-join")
    page.locator("main form button[type=submit]").click()
    page.wait_for_selector(".error-summary")
    look.check("staff-join-errors")
    code = new_organisation(server, f"Accueil {language}")
    page.goto(server.at("/staff/join"))
    page.fill("#invitation", code)
    page.fill("#username", f"admin.look.{language}")
    page.fill("#display_name", "Nadia B.")
    page.fill("#password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_selector("img.qr-code")
    look.check("staff-join-app")
    secret = "".join(page.locator(".secret span").all_inner_texts())
    page.fill("#otp", code_from_the_app(secret, server))
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(server.at("/work"))
    look.check("work-empty")
    page.goto(server.at("/work/enrol"))
    look.check("work-enrol")
    page.fill("#username", f"look.person.{language}")
    page.fill("#password", PASSWORD)
    page.locator("label[for=follow]").click()
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_selector("ol.codes li")
    look.check("work-enrol-codes")
    page.goto(server.at("/work"))
    look.check("work-followers")
    page.goto(server.at("/organisation"))
    look.check("organisation")
    page.locator("main form button[type=submit]").click()
    page.wait_for_selector(".secret")
    look.check("organisation-invited")
    page.goto(server.at("/organisation/purposes"))
    look.check("organisation-purposes")
    page.locator("input[value=other]").check(force=True)
    page.locator("main form button[type=submit]").click()
    page.wait_for_selector(".error-summary")
    look.check("organisation-purposes-errors")
    # A worker to deactivate: the confirmation page.
    page.goto(server.at("/organisation"))
    page.locator("main form button[type=submit]").click()
    worker_code = CODE.search(page.locator(".secret").inner_text()).group(0)
    worker = new_context(language=language).new_page()
    join(worker, server, worker_code, f"worker.look.{language}")
    page.goto(server.at("/organisation"))
    page.locator("main a[href*='/deactivate']").click()
    page.wait_for_selector("main form")
    look.check("organisation-deactivate")
    # The person's page of organisations.
    person = new_context(language=language).new_page()
    sign_in(person, server, f"look.person.{language}")
    person.goto(server.at("/settings/organisations"))
    person_look = Looker(person, language)
    person_look.check("settings-organisations")
    findings = look.findings + person_look.findings
    assert not findings, "\n".join(findings)
