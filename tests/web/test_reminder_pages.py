"""The expiry flag through HTTP on a fixed clock: my papers, one paper, the API, and the worker's shared view."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest

from tests.factories import build_services, make_document, make_person, make_staff, sign_in
from vault import shares as share_service
from vault.purposes import PurposeChoice, replace_purposes
from web.pipeline import session_cookie_name

pytestmark = pytest.mark.usefixtures("database_url")
ENGLISH = {"Accept-Language": "en"}
TODAY = date(2026, 11, 23)  # the clock of the tests: 09:00 UTC, 10:00 in Paris


class Papers:
    """Amina's papers at each boundary, and a worker she shares two of them with."""

    def __init__(self, settings, clock):
        self.services = s = build_services(settings, clock)
        self.amina = make_person(s, "amina")
        self.marie = make_staff(s, "marie", organisation="Les Lilas")
        with s.transaction() as uow:
            replace_purposes(uow.session, organisation_id=self.marie.organisation_id,
                             choices=[PurposeChoice("caf_rsa")], now=s.now)
        kinds = {91: "carte_vitale", 90: "passeport", 30: "titre_sejour", 0: "carte_identite", -1: "rib"}
        self.paper = {days: make_document(s, self.amina, kind=kind, expires_on=TODAY + timedelta(days=days))
                      for days, kind in kinds.items()}
        self.undated = make_document(s, self.amina, kind="acte_naissance")

    def share(self, *days) -> str:
        s = self.services
        with s.transaction() as uow:
            current = s.current(uow.session, self.amina.token)
            return share_service.grant_share(
                uow, actor=current.actor, identity=current.identity, grantee_username_or_id="marie",
                document_ids=[self.paper[day].id for day in days], purpose=PurposeChoice("caf_rsa"),
                expires_at=s.now + timedelta(days=7), now=s.now).id

    def screen(self, app, who):
        client = app.test_client()
        client.set_cookie(session_cookie_name(self.services.settings), getattr(self, who).token)
        return client


@pytest.fixture
def papers(settings, clock):
    built = Papers(settings, clock)
    yield built
    built.services.close()


def words(response) -> str:
    return words_of(response.get_data(as_text=True))


def flags(response) -> list[str]:
    return re.findall(r'class="tag tag--[a-z-]+" data-expiry="([a-z_]+)"', response.get_data(as_text=True))


def test_my_papers_flag_each_window_in_words(app, papers):
    home = papers.screen(app, "amina").get("/papers", headers=ENGLISH)
    assert home.status_code == 200
    text = words(home)
    for sentence in ("Expires in 90 days: renew it", "Expires in 30 days: renew it", "Expires today: renew it",
                     "Expired on 22 November 2026: renew it"):
        assert sentence in text
    assert "91 days" not in text
    assert sorted(flags(home)) == ["expired", "soon", "very_soon", "very_soon"]
    # The notice at the top names the three to renew now (30 days or less, and expired), soonest first.
    notice = re.search(r"<div class=\"notice\" data-renew-notice>.*?</div>\s*</div>", home.get_data(as_text=True),
                       re.S).group(0)
    assert "3 of your papers must be renewed." in words_of(notice)
    assert [link for link in re.findall(r'href="/papers/([0-9a-f-]{36})"', notice)] == [
        papers.paper[-1].id, papers.paper[0].id, papers.paper[30].id]


def words_of(html: str) -> str:
    """The text of the page, tags out and spaces as one (Babel's dates hold no-break spaces)."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).replace("\u202f", " ").replace("\xa0", " ").split())


def test_no_notice_when_nothing_is_urgent(app, settings, clock):
    services = build_services(settings, clock)
    try:
        calm = make_person(services, "calm")
        make_document(services, calm, expires_on=TODAY + timedelta(days=31))
        client = app.test_client()
        client.set_cookie(session_cookie_name(settings), calm.token)
        home = client.get("/papers", headers=ENGLISH)
        assert flags(home) == ["soon"] and "data-renew-notice" not in home.get_data(as_text=True)
    finally:
        services.close()


def test_a_paper_page_says_what_to_do(app, papers):
    screen = papers.screen(app, "amina")
    expired = words(screen.get(f"/papers/{papers.paper[-1].id}", headers=ENGLISH))
    assert "This paper expired on 22 November 2026." in expired and "Ask for a new one now." in expired
    soon = words(screen.get(f"/papers/{papers.paper[90].id}", headers=ENGLISH))
    assert "This paper expires in 90 days, on 21 February 2027." in soon and "it can take weeks" in soon
    assert "This paper expires today." in words(screen.get(f"/papers/{papers.paper[0].id}", headers=ENGLISH))
    for quiet in (papers.paper[91].id, papers.undated.id):
        assert "data-renew-notice" not in screen.get(f"/papers/{quiet}", headers=ENGLISH).get_data(as_text=True)


def test_the_day_turns_at_midnight_in_paris(app, papers, clock):
    clock.now = datetime(2026, 11, 23, 22, 59, tzinfo=timezone.utc)  # 23:59 in Paris
    papers.amina.token = sign_in(papers.services, "amina", papers.amina.password)
    screen = papers.screen(app, "amina")
    assert "This paper expires today." in words(screen.get(f"/papers/{papers.paper[0].id}", headers=ENGLISH))
    clock.now = datetime(2026, 11, 23, 23, 0, tzinfo=timezone.utc)  # midnight in Paris, still the 23rd in UTC
    assert "This paper expired on 23 November 2026." in words(screen.get(f"/papers/{papers.paper[0].id}",
                                                                         headers=ENGLISH))


def test_the_api_carries_the_flag(app, papers):
    client = app.test_client()
    headers = {"Authorization": f"Bearer {papers.amina.token}"}
    items = client.get("/api/v1/documents", headers=headers).get_json()["items"]
    by_id = {item["id"]: item["expiry"] for item in items}
    assert by_id[papers.paper[91].id] is None and by_id[papers.undated.id] is None
    assert by_id[papers.paper[90].id] == {"state": "soon", "days_left": 90}
    assert by_id[papers.paper[30].id] == {"state": "very_soon", "days_left": 30}
    assert by_id[papers.paper[0].id] == {"state": "very_soon", "days_left": 0}
    assert by_id[papers.paper[-1].id] == {"state": "expired", "days_left": -1}
    one = client.get(f"/api/v1/documents/{papers.paper[-1].id}", headers=headers).get_json()
    assert one["expires_on"] == "2026-11-22" and one["expiry"]["state"] == "expired"


def test_the_worker_sees_the_flag_while_the_share_is_active(app, papers):
    share_id = papers.share(30, 91)
    worker = papers.screen(app, "marie")
    shared = worker.get("/work/shared", headers=ENGLISH)
    assert flags(shared) == ["very_soon"] and "Expires in 30 days: renew it" in words(shared)
    headers = {"Authorization": f"Bearer {papers.marie.token}"}
    documents = {paper["id"]: paper for paper in
                 app.test_client().get(f"/api/v1/shares/{share_id}", headers=headers).get_json()["documents"]}
    assert documents[papers.paper[30].id]["expiry"] == {"state": "very_soon", "days_left": 30}
    assert documents[papers.paper[30].id]["expires_on"] == "2026-12-23"
    assert documents[papers.paper[91].id]["expiry"] is None
    # Once the share has ended, the worker no longer learns anything about those papers.
    with papers.services.transaction() as uow:
        share_service.end_share(uow.session, actor=papers.services.current(uow.session, papers.amina.token).actor,
                                share_id=share_id, now=papers.services.now)
    assert flags(worker.get("/work/shared", headers=ENGLISH)) == []
    ended = app.test_client().get(f"/api/v1/shares/{share_id}", headers=headers).get_json()["documents"]
    assert all(paper["expires_on"] is None and paper["expiry"] is None for paper in ended)
    # The person still sees the dates of her own papers in her share.
    mine = app.test_client().get(f"/api/v1/shares/{share_id}",
                                 headers={"Authorization": f"Bearer {papers.amina.token}"}).get_json()["documents"]
    assert {paper["expires_on"] for paper in mine} == {"2026-12-23", "2027-02-22"}


def test_a_worker_never_sees_the_flag_of_papers_not_shared(app, papers):
    papers.share(91)
    shared = papers.screen(app, "marie").get("/work/shared", headers=ENGLISH)
    assert flags(shared) == [] and "renew" not in words(shared)
