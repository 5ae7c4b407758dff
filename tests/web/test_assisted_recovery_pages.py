"""The assisted recovery pages through HTTP, on SQLite and PostgreSQL: the person's choice with their password,
the box at side-by-side enrolment, and the staff screen of a recovery in person on one shared computer
(start, sign out, the second staff member confirms, the person types a new password, the sheet prints)."""

from __future__ import annotations

import re

import pyotp
import pytest

from tests.factories import build_services, make_follow, make_organisation, make_person, make_staff
from tests.web.conftest import PASSWORD
from tests.web.test_pages import ENGLISH, Browser, count, csrf_token, summary
from vault.models import AssistedRecoverySeal

pytestmark = pytest.mark.usefixtures("database_url")
CODE = r"[0-9A-Z]{4}(?:-[0-9A-Z]{4}){4}"
NEW_PASSWORD = "marteau-nuage-violon-7"


@pytest.fixture
def services(settings, clock):
    built = build_services(settings, clock)
    yield built
    built.close()


def signed_in(browser: Browser, clock, staff=None, *, username=None, password=PASSWORD):
    data = {"username": username or staff.username, "password": password}
    if staff is not None and staff.otp_secret:
        clock.advance(seconds=30)  # each app code works once: a new one for each sign-in
        data["otp"] = pyotp.TOTP(staff.otp_secret).at(clock())
    answer = browser.post_form("/sign-in", data)
    assert answer.status_code == 303, summary(answer.get_data(as_text=True))
    return browser


def test_the_person_chooses_with_their_password_then_stops(app, services, clock):
    lilas, _ = make_organisation(services, "Les Lilas")
    admin = make_staff(services, "admin.lilas", organisation_id=lilas, role="admin", signed_in=False)
    person = make_person(services, "ahmed", signed_in=False)
    make_follow(services, person, lilas)
    browser = signed_in(Browser(app.test_client()), clock, username="ahmed")
    page = browser.get(f"/settings/organisations/{lilas}/help").get_data(as_text=True)
    assert "first open the organisation page" in page and "current_password" not in page
    signed_in(Browser(app.test_client()), clock, admin).get("/organisation")  # the admin's visit makes the key
    page = browser.get("/settings/organisations").get_data(as_text=True)
    assert "Choose help to get back in" in page
    page = browser.get(f"/settings/organisations/{lilas}/help").get_data(as_text=True)
    assert "They cannot read your papers." in page
    wrong = browser.post_form(f"/settings/organisations/{lilas}/help", {"enabled": "on", "current_password": "x"})
    assert wrong.status_code == 403 and "not your current password" in " ".join(summary(wrong.get_data(as_text=True)))
    assert count(app, AssistedRecoverySeal) == 0
    done = browser.post_form(f"/settings/organisations/{lilas}/help", {"enabled": "on", "current_password": PASSWORD})
    assert done.status_code == 303 and count(app, AssistedRecoverySeal) == 1
    assert "can now help you get back in" in browser.get("/settings/organisations").get_data(as_text=True)
    stopped = browser.post_form(f"/settings/organisations/{lilas}/help",
                                {"enabled": "off", "current_password": PASSWORD})
    assert stopped.status_code == 303 and count(app, AssistedRecoverySeal) == 0
    assert browser.get("/settings/organisations/not-mine/help").status_code == 404


def test_the_box_at_enrolment_needs_the_follow(app, services, clock):
    lilas, _ = make_organisation(services, "Les Lilas")
    admin = make_staff(services, "admin.lilas", organisation_id=lilas, role="admin", signed_in=False)
    worker = make_staff(services, "worker.lilas", organisation_id=lilas, signed_in=False)
    staff = signed_in(Browser(app.test_client()), clock, worker)
    assert "Not possible yet" in staff.get("/work/enrol").get_data(as_text=True)
    signed_in(Browser(app.test_client()), clock, admin).get("/organisation")
    alone = staff.post_form("/work/enrol", {"username": "ahmed", "password": PASSWORD, "assisted": "y"})
    assert alone.status_code == 422 and "also tick" in " ".join(summary(alone.get_data(as_text=True)))
    both = staff.post_form("/work/enrol", {"username": "ahmed", "password": PASSWORD, "follow": "y", "assisted": "y"})
    assert both.status_code == 201, summary(both.get_data(as_text=True))
    assert "can now help you get back in" in both.get_data(as_text=True)
    assert count(app, AssistedRecoverySeal) == 1


def test_a_recovery_in_person_on_one_shared_screen(app, services, clock):
    lilas, _ = make_organisation(services, "Les Lilas")
    admin = make_staff(services, "admin.lilas", organisation_id=lilas, role="admin", signed_in=False)
    worker = make_staff(services, "worker.lilas", organisation_id=lilas, signed_in=False)
    person = make_person(services, "ahmed", signed_in=False)
    make_follow(services, person, lilas)
    screen = Browser(app.test_client())
    signed_in(screen, clock, admin).get("/organisation")
    chooser = signed_in(Browser(app.test_client()), clock, username="ahmed")
    chooser.post_form(f"/settings/organisations/{lilas}/help", {"enabled": "on", "current_password": PASSWORD})
    screen.post_form("/work/recoveries", {}, to="/sign-out")

    # The worker starts on the shared screen, then signs out.
    signed_in(screen, clock, worker)
    unknown = screen.post_form("/work/recoveries", {"person": "nobody", "checked": "y", "password": PASSWORD})
    assert unknown.status_code == 404 and "has chosen to be helped" in " ".join(summary(unknown.get_data(as_text=True)))
    unchecked = screen.post_form("/work/recoveries", {"person": "ahmed", "password": PASSWORD})
    assert unchecked.status_code == 422 and "Tick the box" in " ".join(summary(unchecked.get_data(as_text=True)))
    started = screen.post_form("/work/recoveries", {"person": "ahmed", "checked": "y", "password": PASSWORD})
    assert started.status_code == 303
    page = screen.get("/work/recoveries").get_data(as_text=True)
    assert "Started by worker.lilas" in page and "To confirm: a manager" in page and "15 minutes left" in page
    recovery_id = re.search(r'id="recovery-([0-9a-f-]{36})"', page).group(1)
    assert "Now sign out" in page
    screen.post_form("/work/recoveries", {}, to="/sign-out")

    # The manager signs in on the same screen, confirms, and the person types the new password.
    signed_in(screen, clock, admin)
    unchecked = screen.post_form("/work/recoveries", {"password": PASSWORD},
                                 to=f"/work/recoveries/{recovery_id}/confirm")
    assert unchecked.status_code == 422 and "Tick the box" in " ".join(summary(unchecked.get_data(as_text=True)))
    confirmed = screen.post_form("/work/recoveries", {"checked": "y", "password": PASSWORD},
                                 to=f"/work/recoveries/{recovery_id}/confirm")
    assert confirmed.status_code == 303, summary(confirmed.get_data(as_text=True))
    page = screen.get("/work/recoveries").get_data(as_text=True)
    assert "Give the keyboard to the person now." in page and "Confirmed by admin.lilas" in page
    weak = screen.post_form("/work/recoveries", {"new_password": "ahmed"}, to=f"/work/recoveries/{recovery_id}/complete")
    assert weak.status_code == 422
    done = screen.post_form("/work/recoveries", {"new_password": NEW_PASSWORD},
                            to=f"/work/recoveries/{recovery_id}/complete")
    assert done.status_code == 201, summary(done.get_data(as_text=True))
    html = done.get_data(as_text=True)
    codes = re.findall(rf"<li>({CODE})</li>", html)
    assert len(codes) == 10 and "no-store" in done.headers["Cache-Control"]
    sheet = screen.client.post("/work/enrol/sheet", headers=ENGLISH, data={
        "csrf_token": csrf_token(html), "username": "ahmed", **{f"code-{i}": c for i, c in enumerate(codes)}})
    assert sheet.status_code == 200 and sheet.data.startswith(b"%PDF-")
    # The person's old session is dead; the new password works, the old one does not.
    assert chooser.get("/settings").status_code in (302, 303)
    signed_in(Browser(app.test_client()), clock, username="ahmed", password=NEW_PASSWORD)
    old = Browser(app.test_client()).post_form("/sign-in", {"username": "ahmed", "password": PASSWORD})
    assert old.status_code != 303


def test_another_worker_cannot_print_a_recovered_sheet(app, services, clock):
    """The sheet check allows only the staff member who finished (or enrolled): not a colleague."""
    lilas, _ = make_organisation(services, "Les Lilas")
    admin = make_staff(services, "admin.lilas", organisation_id=lilas, role="admin", signed_in=False)
    worker = make_staff(services, "worker.lilas", organisation_id=lilas, signed_in=False)
    person = make_person(services, "ahmed", signed_in=False)
    make_follow(services, person, lilas)
    manager = signed_in(Browser(app.test_client()), clock, admin)
    manager.get("/organisation")
    chooser = signed_in(Browser(app.test_client()), clock, username="ahmed")
    chooser.post_form(f"/settings/organisations/{lilas}/help", {"enabled": "on", "current_password": PASSWORD})
    colleague = signed_in(Browser(app.test_client()), clock, worker)
    colleague.post_form("/work/recoveries", {"person": "ahmed", "checked": "y", "password": PASSWORD})
    recovery_id = re.search(r'id="recovery-([0-9a-f-]{36})"',
                            colleague.get("/work/recoveries").get_data(as_text=True)).group(1)
    manager.post_form("/work/recoveries", {"checked": "y", "password": PASSWORD},
                      to=f"/work/recoveries/{recovery_id}/confirm")
    done = manager.post_form("/work/recoveries", {"new_password": NEW_PASSWORD},
                             to=f"/work/recoveries/{recovery_id}/complete")
    codes = re.findall(rf"<li>({CODE})</li>", done.get_data(as_text=True))
    html = colleague.get("/work/recoveries").get_data(as_text=True)
    refused = colleague.client.post("/work/enrol/sheet", headers=ENGLISH, data={
        "csrf_token": csrf_token(html), "username": "ahmed", **{f"code-{i}": c for i, c in enumerate(codes)}})
    assert refused.status_code == 422 or refused.status_code == 400
