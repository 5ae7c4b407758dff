"""Assisted recovery in Debian's Chromium, with and without JavaScript: an admin's visit makes the organisation's
key → the person chooses help to get back in, with their password → on one shared staff screen a worker starts,
signs out, the manager signs in, confirms « I checked this person's identity in person », the person types a
new password there, the new sheet prints → the person's old session is dead and the new password works.
Then axe on the new pages, French and Arabic, at 360 px."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import PASSWORD
from tests.browser.people import call_api, code_from_the_app, sign_in, sign_out
from tests.browser.test_look import Looker
from vault import accounts, two_factor

NEW_PASSWORD = "marteau-nuage-violon-7"


def staff_pair(server, place: str, suffix: str) -> tuple[str, dict]:
    """An organisation with an admin and a worker, made on the server as the operator would: (its id, secrets)."""
    services = server.app.extensions["consigne"]
    secrets = {}
    with services.session_factory() as session:
        organisation = accounts.create_organisation(session, name=place, now=server.clock())
        for role in ("admin", "worker"):
            made = accounts.create_staff(session, keys=services.keys, organisation=organisation,
                                         username=f"{role}.{suffix}", password=PASSWORD, role=role, now=server.clock())
            made.account.display_name = f"{role.title()} {suffix.upper()}."
            secrets[role] = two_factor.enable_directly(session, keys=services.keys, account=made.account).secret
        session.commit()
        return organisation.id, secrets


def staff_sign_in(page, server, username: str, secret: str) -> None:
    server.clock.advance(seconds=30)  # each app code works once
    sign_in(page, server, username)
    page.wait_for_url(re.compile(r"/sign-in/second-step"))
    page.fill("#otp", code_from_the_app(secret, server))
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/work$"))


def person_following(server, username: str, organisation_id: str) -> None:
    enrolled = call_api(server, "POST", "/api/v1/people", {"username": username, "password": PASSWORD})
    assert enrolled.status == 201, enrolled.body
    token = call_api(server, "POST", "/api/v1/sessions", {"username": username, "password": PASSWORD}).body["token"]
    assert call_api(server, "POST", "/api/v1/follows", {"organisation": organisation_id}, token=token).status == 201


def choose_help(page, server, organisation_id: str) -> None:
    page.goto(server.at("/settings/organisations"))
    page.locator(f"main a[href='/settings/organisations/{organisation_id}/help']").click()
    page.fill("#current_password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(server.at("/settings/organisations"))


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_recovery_in_person_with_two_staff(live_server, new_context, javascript):
    server = live_server
    suffix = "arjs" if javascript else "arnojs"
    place = f"Le Phare {suffix}"
    organisation_id, secrets = staff_pair(server, place, suffix)
    person_name = f"karim.{suffix}"
    person_following(server, person_name, organisation_id)

    # An admin's visit to the organisation page makes its recovery key.
    screen = new_context(javascript=javascript, language="en-GB").new_page()
    staff_sign_in(screen, server, f"admin.{suffix}", secrets["admin"])
    screen.goto(server.at("/organisation"))
    sign_out(screen)

    # The person chooses help to get back in, with their password, on their own phone.
    person = new_context(javascript=javascript, language="en-GB", width=360).new_page()
    sign_in(person, server, person_name)
    person.wait_for_url(server.at("/papers"))
    choose_help(person, server, organisation_id)
    assert "can now help you get back in" in person.locator("main").inner_text()

    # One shared staff screen: the worker starts, then signs out.
    staff_sign_in(screen, server, f"worker.{suffix}", secrets["worker"])
    screen.goto(server.at("/work"))
    screen.locator("main a[href='/work/recoveries']").click()
    screen.fill("#person", person_name)
    screen.locator("label[for=start-checked]").click()
    screen.fill("#password", PASSWORD)
    screen.locator("main form[action='/work/recoveries'] button[type=submit]").click()
    screen.wait_for_selector("main section.setting")
    card = screen.locator("main section.setting").inner_text()
    assert f"Started by Worker {suffix.upper()}." in card and "To confirm: a manager" in card
    assert re.search(r"1[45] minutes left", card)
    sign_out(screen)

    # The manager signs in on the same screen, confirms, and gives the keyboard to the person.
    staff_sign_in(screen, server, f"admin.{suffix}", secrets["admin"])
    screen.goto(server.at("/work/recoveries"))
    recovery_id = re.search(r"recovery-([0-9a-f-]{36})", screen.locator("main section.setting").get_attribute(
        "aria-labelledby")).group(1)
    screen.locator(f"label[for=confirm-{recovery_id}-checked]").click()
    screen.fill(f"#confirm-{recovery_id}-password", PASSWORD)
    screen.locator(f"main form[action='/work/recoveries/{recovery_id}/confirm'] button[type=submit]").click()
    screen.wait_for_selector(f"#complete-{recovery_id}-password")
    assert f"Confirmed by Admin {suffix.upper()}." in screen.locator("main").inner_text()
    screen.fill(f"#complete-{recovery_id}-password", NEW_PASSWORD)
    screen.locator(f"main form[action='/work/recoveries/{recovery_id}/complete'] button[type=submit]").click()
    screen.wait_for_selector("ol.codes li")
    codes = [text.strip() for text in screen.locator("ol.codes li").all_inner_texts()]
    assert len(codes) == 10
    sheet_form = screen.locator("form[action='/work/enrol/sheet']")
    fields = {name: sheet_form.locator(f"input[name='{name}']").get_attribute("value")
              for name in ["csrf_token", "username"] + [f"code-{index}" for index in range(10)]}
    sheet = screen.request.post(server.at("/work/enrol/sheet"), form=fields)
    assert sheet.status == 200 and sheet.body().startswith(b"%PDF-")
    screen.locator("main a.button[href='/work/recoveries']").click()
    assert not any(code in screen.content() for code in codes)
    assert person_name not in str(screen.context.cookies())  # the staff member's own session all along

    # The person's old session is dead; the old password fails, the new one works.
    person.goto(server.at("/papers"))
    assert "/sign-in" in person.url
    old = call_api(server, "POST", "/api/v1/sessions", {"username": person_name, "password": PASSWORD})
    assert old.status == 401
    sign_in(person, server, person_name, NEW_PASSWORD)
    person.wait_for_url(server.at("/papers"))


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_the_recovery_pages_are_accessible_and_fit_a_phone(live_server, new_context, language):
    server = live_server
    suffix = f"look{language}"
    organisation_id, secrets = staff_pair(server, f"Le Phare {language}", suffix)
    person_name = f"karim.{suffix}"
    person_following(server, person_name, organisation_id)
    staff = new_context(language=language).new_page()
    look = Looker(staff, language)
    staff_sign_in(staff, server, f"admin.{suffix}", secrets["admin"])
    staff.goto(server.at("/work/recoveries"))  # the admin's visit makes the key
    look.check("work-recoveries-empty")
    staff.goto(server.at("/work/enrol"))
    look.check("work-enrol-with-help")

    person = new_context(language=language).new_page()
    person_look = Looker(person, language)
    sign_in(person, server, person_name)
    person.goto(server.at(f"/settings/organisations/{organisation_id}/help"))
    person_look.check("settings-help-choice")
    person.locator("main form button[type=submit]").click()
    person.wait_for_selector(".error-summary")
    person_look.check("settings-help-choice-errors")
    choose_help(person, server, organisation_id)
    person_look.check("settings-organisations-with-help")

    staff.goto(server.at("/work/recoveries"))
    staff.locator("main form[action='/work/recoveries'] button[type=submit]").click()
    staff.wait_for_selector(".error-summary")
    look.check("work-recoveries-errors")
    staff.fill("#person", person_name)
    staff.locator("label[for=start-checked]").click()
    staff.fill("#password", PASSWORD)
    staff.locator("main form[action='/work/recoveries'] button[type=submit]").click()
    staff.wait_for_selector("main section.setting")
    look.check("work-recoveries-started")
    sign_out(staff)
    staff_sign_in(staff, server, f"worker.{suffix}", secrets["worker"])
    staff.goto(server.at("/work/recoveries"))
    look.check("work-recoveries-confirm")
    recovery_id = re.search(r"recovery-([0-9a-f-]{36})", staff.locator("main section.setting").get_attribute(
        "aria-labelledby")).group(1)
    staff.locator(f"label[for=confirm-{recovery_id}-checked]").click()
    staff.fill(f"#confirm-{recovery_id}-password", PASSWORD)
    staff.locator(f"main form[action='/work/recoveries/{recovery_id}/confirm'] button[type=submit]").click()
    staff.wait_for_load_state("load")
    look.check("work-recoveries-wait-admin")
    sign_out(staff)
    staff_sign_in(staff, server, f"admin.{suffix}", secrets["admin"])
    staff.goto(server.at("/work/recoveries"))
    staff.wait_for_selector(f"#complete-{recovery_id}-password")
    look.check("work-recoveries-complete")
    staff.fill(f"#complete-{recovery_id}-password", NEW_PASSWORD)
    staff.locator(f"main form[action='/work/recoveries/{recovery_id}/complete'] button[type=submit]").click()
    staff.wait_for_selector("ol.codes li")
    look.check("work-recovery-done")
    findings = look.findings + person_look.findings
    assert not findings, "\n".join(findings)
