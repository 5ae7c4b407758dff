"""Consent in Chromium, with and without JavaScript: a person shares then stops the share; a worker asks and
the person approves at their next sign-in; a request approved side by side on the worker's screen. Then
axe on every new page, in French and Arabic.

Staff and their organisation are set up through the services (factories): the organisations' own pages
are another package's. Each person signs in through the sign-in page; staff open their session from a
token made by the real sign-in service (two-step code included), set as the session cookie.
"""

from __future__ import annotations

import itertools
import re

import pytest

from tests.browser.conftest import PASSWORD
from tests.browser.people import sign_in
from tests.browser.test_look import Looker
from tests.factories import build_services, make_document, make_follow, make_person, make_staff, pdf_file
from vault.purposes import PurposeChoice, replace_purposes
from web.pipeline import session_cookie_name

NAMES = itertools.count(1)


class Place:
    """A person, a worker of an organisation the person follows, the organisation's purpose, a paper."""

    def __init__(self, server):
        self.server = server
        settings = server.app.extensions["consigne"].settings
        self.services = build_services(settings, server.clock)
        number = next(NAMES)
        self.person = make_person(self.services, f"consent{number}", password=PASSWORD, signed_in=True)
        self.worker = make_staff(self.services, f"worker{number}", organisation=f"Accueil {number}")
        with self.services.transaction() as uow:
            replace_purposes(uow.session, organisation_id=self.worker.organisation_id,
                             choices=[PurposeChoice("caf_rsa")], now=self.services.now)
        make_follow(self.services, self.person, self.worker.organisation_id)
        self.paper = make_document(self.services, self.person, title="Ma carte", files=[pdf_file("Carte")])
        self.cookie = session_cookie_name(settings)

    def as_worker(self, context):
        context.add_cookies([{"name": self.cookie, "value": self.worker.token, "url": self.server.url}])
        return context.new_page()

    def close(self):
        self.services.close()


@pytest.fixture
def place(live_server):
    built = Place(live_server)
    yield built
    built.close()


def submit(page):
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_load_state("load")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_person_shares_then_stops(live_server, new_context, place, javascript):
    server = live_server
    page = new_context(javascript=javascript).new_page()
    sign_in(page, server, place.person.username)
    page.goto(server.at("/shares"))
    page.locator("a[href='/shares/new']").first.click()
    page.locator(f"input[name=worker][value^='{place.worker.id}']").check()
    submit(page)
    page.locator(f"input[name=documents][value='{place.paper.id}']").check()
    page.locator("input[name=purpose][value=caf_rsa]").check()
    page.locator("input[name=duration][value=week]").check()
    submit(page)
    # The confirmation says in words who, what and until when, before anything is shared.
    notice = page.locator(".notice").inner_text()
    assert place.worker.username in notice and "Accueil" in notice
    submit(page)
    page.wait_for_url(re.compile(r"/shares(#.*)?$"))
    share = page.locator("li.card[id^=share-]").first
    share_id = share.get_attribute("id").removeprefix("share-")
    assert place.worker.username in share.inner_text()
    # The worker sees it, with the link to the paper.
    worker = place.as_worker(new_context(javascript=javascript))
    worker.goto(server.at("/work/shared"))
    assert worker.locator(f"a[href='/work/shared/{share_id}/{place.paper.id}']").count() == 1
    # The person stops it; the worker's next request shows nothing.
    page.locator(f"#share-{share_id} a[href$='/end']").click()
    submit(page)
    page.wait_for_url(re.compile(r"/shares$"))
    assert page.locator(f"ul li.card#share-{share_id} a[href$='/end']").count() == 0
    worker.goto(server.at("/work/shared"))
    assert worker.locator(f"a[href='/work/shared/{share_id}/{place.paper.id}']").count() == 0


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_worker_asks_and_the_person_approves_at_the_next_sign_in(live_server, new_context, place, javascript):
    server = live_server
    worker = place.as_worker(new_context(javascript=javascript))
    worker.goto(server.at("/work/requests"))
    worker.fill("#person", place.person.username)
    worker.locator("input[name=kinds][value=carte_identite]").check()
    worker.locator("input[name=purpose]").first.check()
    worker.locator("input[name=duration_days][value='7']").check()
    submit(worker)
    assert worker.locator("a[href$='/side-by-side']").count() == 1
    page = new_context(javascript=javascript).new_page()
    sign_in(page, server, place.person.username)
    page.locator("[data-waiting-requests] a").click()
    page.wait_for_url(re.compile(r"/requests$"))
    assert page.locator(f"input[name=documents][value='{place.paper.id}']").is_checked()
    page.locator("button[value=approve]").click()
    page.wait_for_url(re.compile(r"/shares(#.*)?$"))
    worker.goto(server.at("/work/shared"))
    assert worker.locator(f"a[href$='/{place.paper.id}']").count() == 1


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_side_by_side_approval(live_server, new_context, place, javascript):
    server = live_server
    worker = place.as_worker(new_context(javascript=javascript))
    worker.goto(server.at("/work/requests"))
    worker.fill("#person", place.person.username)
    worker.locator("input[name=kinds][value=carte_identite]").check()
    worker.locator("input[name=purpose]").first.check()
    worker.locator("input[name=duration_days][value='1']").check()
    submit(worker)
    worker.locator("a[href$='/side-by-side']").click()
    worker.fill("#password", "pas le bon")
    submit(worker)
    assert worker.locator(".error-summary").count() == 1
    worker.fill("#password", PASSWORD)
    submit(worker)
    worker.wait_for_url(re.compile(r"/work/shared(#.*)?$"))
    assert worker.locator(f"a[href$='/{place.paper.id}']").count() == 1


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_the_consent_pages_are_accessible(live_server, new_context, place, language):
    server = live_server
    context = new_context(language=language)
    page = context.new_page()
    look = Looker(page, language)
    sign_in(page, server, place.person.username)
    page.goto(server.at(f"/shares?lang={language}"))
    look.check("shares-empty")
    page.goto(server.at("/shares/new"))
    look.check("share-pick-worker")
    page.locator(f"input[name=worker][value^='{place.worker.id}']").check()
    submit(page)
    look.check("share-choose")
    submit(page)  # nothing chosen: the errors
    look.check("share-choose-errors")
    page.locator(f"input[name=documents][value='{place.paper.id}']").check()
    page.locator("input[name=purpose][value=caf_rsa]").check()
    page.locator("input[name=duration][value=day]").check()
    submit(page)
    look.check("share-confirm")
    submit(page)
    look.check("shares")
    page.locator("a[href$='/end']").first.click()
    look.check("share-end")
    worker = place.as_worker(new_context(language=language))
    wlook = Looker(worker, language)
    worker.goto(server.at(f"/work/shared?lang={language}"))
    wlook.check("work-shared")
    worker.goto(server.at("/work/requests"))
    wlook.check("work-requests")
    worker.fill("#person", place.person.username)
    worker.locator("input[name=kinds][value=carte_identite]").check()
    worker.locator("input[name=purpose]").first.check()
    worker.locator("input[name=duration_days][value='7']").check()
    submit(worker)
    worker.locator("a[href$='/side-by-side']").click()
    wlook.check("work-side-by-side")
    page.goto(server.at("/requests"))
    look.check("requests")
    assert look.findings + wlook.findings == []
