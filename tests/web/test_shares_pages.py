"""The consent pages through HTTP (Flask's client, no JavaScript): share in three steps, see and stop my
shares, answer requests; for the worker, ask, answer side by side, see what is shared and the time left."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.web.test_pages import csrf_token, summary
from tests.web.test_shares_api import World
from vault.models import SharedDocument
from web.pipeline import session_cookie_name

pytestmark = pytest.mark.usefixtures("database_url")
ENGLISH = {"Accept-Language": "en"}


@pytest.fixture
def world(settings, clock):
    built = World(settings, clock)
    yield built
    built.services.close()


class Screen:
    """One browser (Flask's client) signed in as someone, English pages."""

    def __init__(self, app, world, who):
        self.client = app.test_client()
        self.client.set_cookie(session_cookie_name(world.services.settings), world.people[who].token)

    def get(self, path):
        return self.client.get(path, headers=ENGLISH)

    def post(self, path, data, *, form_page=None):
        token = csrf_token(self.get(form_page or path).get_data(as_text=True))
        return self.client.post(path, data={"csrf_token": token, **data}, headers=ENGLISH)


def text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


def test_person_shares_in_three_steps_then_stops(app, world):
    person = Screen(app, world, "owner")
    step1 = person.get("/shares/new")
    assert step1.status_code == 200 and "marie" in text(step1) and "Les Lilas" in text(step1)
    worker_id, organisation = world.people["grantee"].id, world.organisation
    chosen = person.get(f"/shares/new?worker={worker_id}:{organisation}")
    assert chosen.status_code == 303 and f"/shares/new/{worker_id}" in chosen.headers["Location"]
    step2_path = f"/shares/new/{worker_id}?organisation={organisation}"
    step2 = person.get(step2_path)
    assert step2.status_code == 200 and "Ma carte" in text(step2)
    # Nothing chosen: every missing choice is said, nothing is shared.
    empty = person.post(f"/shares/new/{worker_id}", {"organisation": organisation}, form_page=step2_path)
    assert empty.status_code == 422 and summary(empty.get_data(as_text=True))
    check = person.post(f"/shares/new/{worker_id}", {"organisation": organisation, "documents": world.card.id,
                                                      "purpose": "caf_rsa", "duration": "week"}, form_page=step2_path)
    assert check.status_code == 200, summary(check.get_data(as_text=True))
    words = text(check)
    assert "marie (Les Lilas) will be able to see and download a marked copy of: Identity card" in words
    assert "You can stop it at any time." in words
    with world.services.session_factory() as session:
        assert session.scalar(select(SharedDocument.share_id)) is None  # nothing yet
    token = csrf_token(check.get_data(as_text=True))
    done = person.client.post(f"/shares/new/{worker_id}/confirm", headers=ENGLISH, data={
        "csrf_token": token, "organisation": organisation, "documents": world.card.id, "purpose": "caf_rsa",
        "duration": "week"})
    assert done.status_code == 303
    mine = person.get("/shares")
    share_id = re.search(r'id="share-([0-9a-f-]{36})"', mine.get_data(as_text=True)).group(1)
    assert "marie (Les Lilas)" in text(mine) and "7 days left" in text(mine)
    receipt = person.get(f"/shares/{share_id}/receipt")
    assert receipt.content_type == "application/pdf"
    worker = Screen(app, world, "grantee")
    shared = worker.get("/work/shared")
    assert f'href="/work/shared/{share_id}/{world.card.id}"' in shared.get_data(as_text=True)
    assert "amina" in text(shared) and "7 days left" in text(shared)
    stopped = person.post(f"/shares/{share_id}/end", {})
    assert stopped.status_code == 303
    assert "Nobody can see your papers now." in text(person.get("/shares"))
    assert "Nobody shares papers with you now." in text(worker.get("/work/shared"))
    assert world.keys(share_id) == [None]


def test_a_username_that_is_no_worker_is_said_in_words(app, world):
    person = Screen(app, world, "owner")
    answer = person.get("/shares/new?username=bilal")
    assert answer.status_code == 422
    assert summary(answer.get_data(as_text=True)) == ["No social worker has this username. Check it with them."]


def test_worker_asks_then_person_approves_some(app, world):
    worker = Screen(app, world, "grantee")
    page = worker.get("/work/requests")
    assert page.status_code == 200 and 'value="amina"' in page.get_data(as_text=True)
    sent = worker.post("/work/requests", {"person": "amina", "kinds": "carte_identite",
                                          "purpose": f"caf_rsa@{world.organisation}", "duration_days": "7"})
    assert sent.status_code == 303, summary(sent.get_data(as_text=True))
    refused = worker.post("/work/requests", {"person": "bilal", "kinds": "carte_identite",
                                             "purpose": f"caf_rsa@{world.organisation}", "duration_days": "7"})
    assert refused.status_code == 404
    assert summary(refused.get_data(as_text=True)) == ["No person with this username follows your organisation."]
    person = Screen(app, world, "owner")
    requests_page = person.get("/requests")
    request_id = re.search(r'id="request-([0-9a-f-]{36})"', requests_page.get_data(as_text=True)).group(1)
    assert "marie (Les Lilas) asks for:" in text(requests_page) and "Ma carte" in text(requests_page)
    answered = person.post(f"/requests/{request_id}/answer", {"answer": "approve", "documents": world.card.id},
                           form_page="/requests")
    assert answered.status_code == 303
    assert "you said yes" in text(person.get("/requests"))
    assert "The person said yes." in text(worker.get("/work/requests"))
    assert "1 Identity card" not in text(worker.get("/work/shared")) and "amina" in text(worker.get("/work/shared"))


def test_side_by_side_on_the_workers_screen(app, world):
    worker = Screen(app, world, "grantee")
    worker.post("/work/requests", {"person": "amina", "kinds": "carte_identite",
                                   "purpose": f"caf_rsa@{world.organisation}", "duration_days": "7"})
    request_id = re.search(r'/work/requests/([0-9a-f-]{36})/side-by-side',
                           worker.get("/work/requests").get_data(as_text=True)).group(1)
    path = f"/work/requests/{request_id}/side-by-side"
    page = worker.get(path)
    assert "Ma carte" not in text(page)  # the worker's screen shows no paper before the person says yes
    wrong = worker.post(path, {"kinds": "carte_identite", "password": "pas le bon"})
    assert wrong.status_code == 403
    assert summary(wrong.get_data(as_text=True)) == [
        "This is not the right password. Type the password you use to sign in to Consigne."]
    right = worker.post(path, {"kinds": "carte_identite", "password": world.people["owner"].password})
    assert right.status_code == 303, summary(right.get_data(as_text=True))
    assert f'/{world.card.id}"' in worker.get("/work/shared").get_data(as_text=True)


def test_others_get_not_found_pages(app, world):
    share = Screen(app, world, "owner")
    share.get(f"/shares/new?worker={world.people['grantee'].id}:{world.organisation}")
    check_path = f"/shares/new/{world.people['grantee'].id}?organisation={world.organisation}"
    token = csrf_token(share.get(check_path).get_data(as_text=True))
    share.client.post(f"/shares/new/{world.people['grantee'].id}/confirm", headers=ENGLISH, data={
        "csrf_token": token, "organisation": world.organisation, "documents": world.card.id, "purpose": "caf_rsa",
        "duration": "day"})
    share_id = re.search(r'id="share-([0-9a-f-]{36})"', share.get("/shares").get_data(as_text=True)).group(1)
    for who in ("another person", "colleague", "foreign worker", "admin"):
        screen = Screen(app, world, who)
        assert screen.get(f"/shares/{share_id}/end").status_code == 404, who
        assert screen.get(f"/shares/{share_id}/receipt").status_code == 404, who
