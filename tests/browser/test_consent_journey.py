"""Issue 8's whole journey in Debian's Chromium, with and without JavaScript, across every consent page:

an organisation's worker joins with an invitation → enrols a person side by side (the person ticks the
follow) → deposits a paper into the person's vault → asks for it → the person approves side by side on
the worker's screen with their own password → the worker opens the marked copy → the person, on their
own device, reads it in their activity and in their copies → ends the share → the worker is refused →
anyone verifies the copy's reference.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import PASSWORD
from tests.browser.people import sign_in
from tests.browser.test_deposits import deposit
from tests.browser.test_organisations import join, new_organisation
from vault.purposes import PurposeChoice, replace_purposes


def submit(page) -> None:
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_load_state("load")


def register_purposes(server, worker_username: str) -> None:
    """What the admin's purposes page does (its own test is in test_organisations.py)."""
    from vault.models import Account, Membership

    services = server.app.extensions["consigne"]
    with services.session_factory() as session:
        account_id = session.query(Account.id).filter_by(username=worker_username).scalar()
        organisation_id = session.query(Membership.organisation_id).filter_by(account_id=account_id).scalar()
        replace_purposes(session, organisation_id=organisation_id, choices=[PurposeChoice("caf_rsa")],
                         now=server.clock())
        session.commit()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_side_by_side_consent_from_enrolment_to_the_refusal(live_server, new_context, javascript):
    server = live_server
    suffix = "js" if javascript else "nojs"
    # Names of this test only: the browser tests share one server (and so one set of usernames).
    person_name, worker_name = f"karim.consent.{suffix}", f"sophie.consent.{suffix}"
    place = f"Halte Les Glycines {suffix}"

    # A worker (the organisation's first admin) joins with the code printed by `consigne organisation create`
    worker = new_context(javascript=javascript, language="en-GB").new_page()
    join(worker, server, new_organisation(server, place), worker_name, "Sophie R.")
    register_purposes(server, worker_name)

    # Side by side: the person types their own username and password and ticks the follow themselves
    worker.goto(server.at("/work/enrol"))
    worker.fill("#username", person_name)
    worker.fill("#password", PASSWORD)
    worker.locator("label[for=follow]").click()
    worker.locator("main form button[type=submit]").last.click()
    worker.wait_for_selector("ol.codes li")
    worker.locator("main a.button[href='/work']").click()
    worker.wait_for_url(server.at("/work"))

    # The worker deposits a newly issued paper into the person's vault (they cannot open it)
    deposit(worker, server, person_name, title="Carte de Karim")

    # The worker asks for it, and the person approves on the worker's screen with their own password
    worker.goto(server.at("/work/requests"))
    worker.fill("#person", person_name)
    worker.locator("input[name=kinds][value=carte_identite]").check()
    worker.locator("input[name=purpose]").first.check()
    worker.locator("input[name=duration_days][value='7']").check()
    submit(worker)
    worker.locator("a[href$='/side-by-side']").click()
    worker.fill("#password", PASSWORD)
    submit(worker)
    worker.wait_for_url(re.compile(r"/work/shared(#.*)?$"))

    # The worker opens the marked copy: a PDF with its reference
    link = worker.locator("main a[href^='/work/shared/']").first
    copy_path = link.get_attribute("href")
    opened = worker.request.get(server.at(copy_path) + "?download=1")
    assert opened.status == 200 and opened.body().startswith(b"%PDF-")
    reference = opened.headers["consigne-duplicate"]

    # The person, on their own device, reads who took a copy, and finds it among their copies
    person = new_context(javascript=javascript, language="en-GB").new_page()
    sign_in(person, server, person_name)
    person.goto(server.at("/activity"))
    activity = person.locator("main").inner_text()
    assert "Sophie R." in activity and place in activity, activity
    person.goto(server.at("/copies"))
    copy = person.locator(f"#copy-{reference}")
    assert "Sophie R." in copy.inner_text() or place in copy.inner_text()

    # The person ends the share; the worker's next request gets nothing
    person.goto(server.at("/shares"))
    person.locator("li.card[id^=share-] a[href$='/end']").first.click()
    submit(person)
    person.wait_for_url(re.compile(r"/shares$"))
    refused = worker.request.get(server.at(copy_path))
    assert refused.status == 404
    worker.goto(server.at("/work/shared"))
    assert worker.locator(f"main a[href='{copy_path}']").count() == 0

    # Anyone checks the reference: issued by the organisation, for a CAF file, the share now ended
    stranger = new_context(javascript=javascript, language="en-GB").new_page()
    stranger.goto(server.at(f"/verify/{reference}"))
    verification = stranger.locator("main").inner_text()
    assert reference in verification and place in verification and person_name not in verification
