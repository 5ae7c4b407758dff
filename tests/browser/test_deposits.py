"""A deposit in Chromium, with JavaScript on and off: a worker deposits a paper for a person who follows
their organisation → the person sees it with « Added by … » on its tile, its page and in the activity →
deletes it. Then the new pages in French and Arabic: axe finds nothing serious or critical, nothing
scrolls sideways at 360 px, screenshots in var/screenshots/ (the activity's new sentences in Arabic
included).

The staff member is made by the real services on the live server's database (the organisations'
pages are another package's); everything else goes through the browser.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from tests.browser.people import code_from_the_app, sign_in, sign_out, specimen_files
from tests.browser.test_look import Looker
from tests.factories import build_services, make_follow, make_person, make_staff
from vault.events import record_event
from vault.models import Account

ORGANISATION = "Accueil de jour Les Lilas"


@pytest.fixture
def services(live_server):
    built = build_services(live_server.app.extensions["consigne"].settings, live_server.clock)
    yield built
    built.close()


def worker_and_person(services, suffix: str):
    staff = make_staff(services, f"marie-{suffix}", organisation=ORGANISATION, signed_in=False)
    with services.transaction() as uow:
        uow.session.get(Account, staff.id).display_name = "Marie L."
    person = make_person(services, f"amina-{suffix}", signed_in=False)
    make_follow(services, person, staff.organisation_id)
    return staff, person


def sign_in_staff(page, server, staff) -> None:
    sign_in(page, server, staff.username)
    page.wait_for_url(re.compile(r"/sign-in/second-step"))
    page.fill("#otp", code_from_the_app(staff.otp_secret, server))
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state("load")
    assert "/sign-in" not in page.url


def deposit(page, server, username: str, *, title: str) -> None:
    page.goto(server.at(f"/work/people/{username}/deposit"))
    page.locator("input[name=kind][value=carte_identite]").check()
    page.set_input_files("#file", specimen_files("Amina Exemple", seed=11))
    page.fill("#title", title)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(server.at(f"/work/people/{username}/added"))


@pytest.mark.parametrize("javascript", [True, False], ids=["with-javascript", "without-javascript"])
def test_a_worker_deposits_the_person_sees_who_added_it_and_deletes_it(live_server, new_context, services,
                                                                      javascript):
    server = live_server
    staff, person = worker_and_person(services, "js" if javascript else "nojs")

    # The worker: the form warns before anything is sent, the page after says it again
    worker = new_context(javascript=javascript, language="en-GB").new_page()
    sign_in_staff(worker, server, staff)
    worker.goto(server.at(f"/work/people/{person.username}/deposit"))
    assert "you will not be able to open this paper" in worker.locator("main").inner_text()
    assert worker.locator("#photo_front").get_attribute("capture") == "environment"
    deposit(worker, server, person.username, title="Ma nouvelle carte")
    text = worker.locator("main").inner_text()
    assert "Only the person can open it: you cannot." in text and "Ma nouvelle carte" not in text

    # The person: the tile, the paper's page and the activity name the worker and organisation
    page = new_context(javascript=javascript, language="en-GB").new_page()
    sign_in(page, server, person.username)
    page.wait_for_url(server.at("/papers"))
    tile = page.locator("ul.tiles li.tile:not(.tile--add)")
    assert tile.count() == 1
    assert "Added by Marie L. (Accueil de jour Les Lilas)" in tile.inner_text()
    tile.locator("a").click()
    assert "Added by Marie L. (Accueil de jour Les Lilas)" in page.locator("main").inner_text()
    assert "Ma nouvelle carte" in page.locator("main").inner_text()
    paper_url = page.url
    page.goto(server.at("/activity"))
    assert ("Marie L. (Accueil de jour Les Lilas) added a paper to your locker: Identity card."
            in page.locator("main").inner_text())

    # … and deletes it like any other paper
    page.goto(paper_url)
    page.get_by_role("link", name="Delete this paper").click()
    page.get_by_role("button", name="Yes, delete this paper").click()
    page.wait_for_url(server.at("/papers"))
    assert page.locator("ul.tiles li.tile:not(.tile--add)").count() == 0
    sign_out(page)

    # The worker never had a way in: staff keep no papers, and the person's pages are not theirs
    answer = worker.goto(paper_url)
    assert answer.status in (403, 404)


def consent_events(services, staff, person) -> None:
    """Every new line of the activity, recorded as the catalogue says, so the page shows them all."""
    marie = {"by_name": "Marie L.", "organisation": ORGANISATION}
    now = datetime.now(timezone.utc) - timedelta(minutes=30)
    lines = [
        ("follow.started", person.id, {"organisation": ORGANISATION, "organisation_id": staff.organisation_id}),
        ("request.created", staff.id, {"request_id": "r", **marie, "kinds": ["carte_identite", "passeport"],
                                       "purpose": "caf_rsa", "purpose_text": None, "duration_days": 7}),
        ("request.approved", person.id, {"request_id": "r", **marie, "side_by_side": True, "share_id": "s"}),
        ("share.granted", person.id, {"share_id": "s", "grantee_name": "Marie L.", "organisation": ORGANISATION,
                                      "purpose": "caf_rsa", "purpose_text": None,
                                      "kinds": ["carte_identite", "passeport"], "documents": 2,
                                      "expires_at": (now + timedelta(days=7)).isoformat(), "request_id": "r"}),
        ("duplicate.issued", staff.id, {"ref": "K7Q2-9XPA-3MZD", **marie, "purpose": "caf_rsa",
                                        "purpose_text": None, "kind": "carte_identite", "share_id": "s",
                                        "disposition": "download"}),
        ("duplicate.issued", person.id, {"ref": "P4WD-2KQM-8VNE", "by_name": None, "organisation": None,
                                         "purpose": "other", "purpose_text": "Dossier logement",
                                         "kind": "passeport", "disposition": "download"}),
        ("duplicate.deletion_requested", person.id, {"ref": "K7Q2-9XPA-3MZD", **marie}),
        ("duplicate.deletion_answered", staff.id, {"ref": "K7Q2-9XPA-3MZD", "answer": "kept", **marie}),
        ("share.ended", person.id, {"share_id": "s", "reason": "owner", "grantee_name": "Marie L.",
                                    "organisation": ORGANISATION}),
        ("follow.ended", person.id, {"organisation": ORGANISATION, "organisation_id": staff.organisation_id}),
    ]
    with services.transaction() as uow:
        for minute, (action, actor, details) in enumerate(lines):
            record_event(uow.session, action=action, now=now + timedelta(minutes=minute), actor_id=actor,
                         subject_id=person.id, details=details)


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_the_deposit_pages_and_the_new_lines_are_accessible_and_fit_a_phone(live_server, new_context, services,
                                                                           language):
    server = live_server
    staff, person = worker_and_person(services, f"look-{language}")
    worker = new_context(language=language).new_page()
    worker.goto(server.at(f"/?lang={language}"))
    sign_in_staff(worker, server, staff)
    look = Looker(worker, language)
    worker.goto(server.at(f"/work/people/{person.username}/deposit"))
    look.check("deposit")
    worker.locator("main form button[type=submit]").click()  # nothing chosen: the errors, in words
    worker.wait_for_selector(".error-summary")
    look.check("deposit-errors")
    deposit(worker, server, person.username, title="Ma carte")
    look.check("deposit-done")
    findings = look.findings

    consent_events(services, staff, person)
    page = new_context(language=language).new_page()
    page.goto(server.at(f"/?lang={language}"))
    sign_in(page, server, person.username)
    page.wait_for_url(server.at("/papers"))
    look = Looker(page, language)
    look.check("papers-added-by")
    page.locator("ul.tiles li.tile:not(.tile--add) a").click()
    look.check("paper-added-by")
    page.goto(server.at("/activity"))
    assert page.locator(".activity__item").count() >= 12
    look.check("activity-consent")
    findings = findings + look.findings
    assert not findings, "\n".join(findings)
    assert look.seen == ["papers-added-by", "paper-added-by", "activity-consent"]
