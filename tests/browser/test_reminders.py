"""Expiring papers in Chromium, with and without JavaScript: the person's papers flag them and say what to
do, the paper's page too, and the worker holding a share sees the flag; then axe in French and Arabic.

The papers' dates are set from the live server's own day in Paris (its clock is the real time), so the
windows they fall in are the same whatever day the test runs: 3 days ago, in 20 days, in 60 days, none.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from tests.browser.conftest import PASSWORD
from tests.browser.people import sign_in
from tests.browser.test_look import Looker
from tests.factories import build_services, make_document, make_person, make_staff, pdf_file
from vault import shares as share_service
from vault.purposes import PurposeChoice, replace_purposes
from vault.reminders import local_today
from web.pipeline import session_cookie_name

NAMES = itertools.count(1)


class Expiring:
    """A person with papers in each window, and a worker she shared the 20-day one and the 60-day one with."""

    def __init__(self, server):
        self.server = server
        settings = server.app.extensions["consigne"].settings
        self.services = s = build_services(settings, server.clock)
        number = next(NAMES)
        self.person = make_person(s, f"expiring{number}", password=PASSWORD)
        self.worker = make_staff(s, f"renewer{number}", organisation=f"Accueil Renouveau {number}")
        with s.transaction() as uow:
            replace_purposes(uow.session, organisation_id=self.worker.organisation_id,
                             choices=[PurposeChoice("caf_rsa")], now=s.now)
        today = local_today(s.now)
        self.expired = make_document(s, self.person, kind="passeport", files=[pdf_file("Passeport")],
                                     expires_on=today - timedelta(days=3))
        self.very_soon = make_document(s, self.person, kind="titre_sejour", files=[pdf_file("Titre")],
                                       expires_on=today + timedelta(days=20))
        self.soon = make_document(s, self.person, kind="carte_identite", files=[pdf_file("Carte")],
                                  expires_on=today + timedelta(days=60))
        make_document(s, self.person, kind="acte_naissance", files=[pdf_file("Acte")])
        with s.transaction() as uow:
            current = s.current(uow.session, self.person.token)
            share_service.grant_share(uow, actor=current.actor, identity=current.identity,
                                      grantee_username_or_id=self.worker.username,
                                      document_ids=[self.very_soon.id, self.soon.id],
                                      purpose=PurposeChoice("caf_rsa"), expires_at=s.now + timedelta(days=7),
                                      now=s.now)
        self.cookie = session_cookie_name(settings)

    def as_worker(self, context):
        context.add_cookies([{"name": self.cookie, "value": self.worker.token, "url": self.server.url}])
        return context.new_page()

    def close(self):
        self.services.close()


@pytest.fixture
def expiring(live_server):
    built = Expiring(live_server)
    yield built
    built.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_person_and_the_worker_see_what_to_renew(live_server, new_context, expiring, javascript):
    server = live_server
    page = new_context(javascript=javascript).new_page()
    sign_in(page, server, expiring.person.username)
    page.goto(server.at("/papers?lang=en"))
    # Each tile in a window carries its flag; the one without a date and nothing else does.
    flags = sorted(page.locator(".tile [data-expiry]").evaluate_all("nodes => nodes.map(n => n.dataset.expiry)"))
    assert flags == ["expired", "soon", "very_soon"]
    notice = page.locator("[data-renew-notice]")
    assert notice.is_visible()
    assert "2 of your papers must be renewed." in notice.inner_text()
    # The notice leads to the paper, whose page says what to do.
    notice.locator(f"a[href='/papers/{expiring.expired.id}']").click()
    page.wait_for_url(server.at(f"/papers/{expiring.expired.id}"))
    paper_notice = page.locator("[data-renew-notice]")
    assert paper_notice.get_attribute("data-expiry") == "expired"
    assert "This paper expired on" in paper_notice.inner_text()

    worker = expiring.as_worker(new_context(javascript=javascript))
    worker.goto(server.at("/work/shared?lang=en"))
    card = worker.locator(".card", has=worker.locator(f"a[href^='/work/shared/'][href$='{expiring.very_soon.id}']"))
    assert sorted(card.locator("[data-expiry]").evaluate_all("nodes => nodes.map(n => n.dataset.expiry)")) == [
        "soon", "very_soon"]
    assert "Expires in 20 days: renew it" in card.inner_text()


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_the_flagged_pages_are_accessible(live_server, new_context, expiring, language):
    server = live_server
    page = new_context(language=language).new_page()
    look = Looker(page, language)
    sign_in(page, server, expiring.person.username)
    page.goto(server.at(f"/papers?lang={language}"))
    page.wait_for_selector("[data-renew-notice]")
    look.check("home-expiring")
    for name, paper in (("paper-expired", expiring.expired), ("paper-very-soon", expiring.very_soon),
                        ("paper-soon", expiring.soon)):
        page.goto(server.at(f"/papers/{paper.id}"))
        page.wait_for_selector("[data-renew-notice]")
        look.check(name)
    worker = expiring.as_worker(new_context(language=language))
    wlook = Looker(worker, language)
    worker.goto(server.at(f"/work/shared?lang={language}"))
    worker.wait_for_selector("[data-expiry=very_soon]")
    wlook.check("work-shared-expiring")
    assert look.findings + wlook.findings == []
