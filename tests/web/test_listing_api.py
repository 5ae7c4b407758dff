"""GET /api/v1/documents and GET /api/v1/activity, a page at a time, through HTTP.

The fields clients already read stay; ``next_cursor`` and the activity's plain words are added. Every
bad limit or cursor is a 422 problem, never a 500 and never another person's rows.
"""

from __future__ import annotations

import pytest

from tests.vault import media_samples as samples

pytestmark = pytest.mark.usefixtures("database_url")
ENGLISH = {"Accept-Language": "en"}


def pages(client, path: str, person, limit: int) -> tuple[list[int], list[dict]]:
    sizes, items, cursor = [], [], None
    for _ in range(50):
        query = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        response = client.get(path, query_string=query, headers=person.auth | ENGLISH)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert set(body) == {"items", "next_cursor"}
        sizes.append(len(body["items"]))
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return sizes, items
    raise AssertionError("the pages never ended")


def test_papers_page_by_page(api, client, clock):
    person = api.person()
    uploaded = []
    for kind in ("carte_identite", "passeport", "rib", "carte_vitale", "autre"):
        clock.advance(minutes=1)
        created = api.upload(person, [(samples.png_bytes(), "p.png")], kind=kind)
        assert created.status_code == 201, created.get_json()
        uploaded.append(created.get_json())
    sizes, items = pages(client, "/api/v1/documents", person, limit=2)
    assert sizes == [2, 2, 1]
    assert items == list(reversed(uploaded))  # the same fields as before, newest first
    everything = client.get("/api/v1/documents", headers=person.auth).get_json()
    assert everything == {"items": list(reversed(uploaded)), "next_cursor": None}


def test_the_activity_in_plain_words_page_by_page(api, client, clock):
    person = api.person()
    document = api.upload(person, [(samples.png_bytes(), "card.png")], kind="carte_identite",
                          title="Carte recto verso").get_json()
    clock.advance(minutes=1)
    client.get(f"/api/v1/documents/{document['id']}/content?disposition=inline", headers=person.auth)
    sizes, items = pages(client, "/api/v1/activity", person, limit=2)
    assert sizes == [2, 2]
    assert [item["action"] for item in items] == ["document.viewed", "document.uploaded", "signin.succeeded",
                                                  "account.created"]
    viewed = items[0]
    assert set(viewed) == {"at", "until", "actor", "by_you", "action", "document", "document_kind", "document_title",
                           "count", "summary", "sentence", "pictogram"}
    assert (viewed["actor"], viewed["by_you"], viewed["document"], viewed["document_kind"]) == \
        (person.username, True, document["id"], "carte_identite")
    assert viewed["sentence"] == "You looked at a paper: Identity card."
    assert viewed["document_title"] == "Carte recto verso"
    assert (viewed["summary"], viewed["pictogram"], viewed["count"], viewed["until"]) == \
        ("Paper viewed", "eye", 1, None)


def test_failed_sign_ins_reach_the_activity(api, client):
    person = api.person()
    for _ in range(2):
        assert client.post("/api/v1/sessions", json={"username": person.username, "password": "not-it-at-all"}
                           ).status_code == 401
    items = client.get("/api/v1/activity", headers=person.auth | ENGLISH).get_json()["items"]
    failures = [item for item in items if item["action"] == "signin.failed"]
    # One line per burst once sign-in records bursts; one per attempt for events without a burst
    assert failures and sum(item["count"] for item in failures) == 2
    assert all("refused sign-in attempt" in item["sentence"] and item["actor"] is None for item in failures)


@pytest.mark.parametrize("path", ["/api/v1/documents", "/api/v1/activity"])
@pytest.mark.parametrize("query", [
    "limit=0", "limit=-1", "limit=201", "limit=abc", "limit=1.5", "limit=1&limit=2", "limit=99999999999999999999",
    "cursor=", "cursor=abc", "cursor=" + "A" * 600, "cursor=a.b&cursor=c.d", "cursor=%00",
])
def test_bad_limits_and_cursors_are_422_problems(api, client, path, query):
    person = api.person()
    response = client.get(f"{path}?{query}", headers=person.auth | ENGLISH)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.content_type == "application/problem+json"
    assert response.get_json()["code"] in {"invalid_input", "invalid_cursor"}


@pytest.mark.parametrize("path", ["/api/v1/documents", "/api/v1/activity"])
def test_another_persons_cursor_is_a_422_and_shows_nothing_of_theirs(api, client, clock, path):
    amina, bilal = api.person("amina"), api.person("bilal")
    for person in (amina, bilal):
        for _ in range(3):
            clock.advance(minutes=1)
            assert api.upload(person, [(samples.png_bytes(), "p.png")]).status_code == 201
    amina_cursor = client.get(path, query_string={"limit": 1}, headers=amina.auth).get_json()["next_cursor"]
    assert amina_cursor
    response = client.get(path, query_string={"cursor": amina_cursor}, headers=bilal.auth | ENGLISH)
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "invalid_cursor"
    assert body["detail"] == "This link to a next page is not valid. Start again from the first page."
    assert "items" not in body


def test_a_cursor_needs_a_signed_in_person(api, client):
    person = api.person()
    for _ in range(2):
        api.upload(person, [(samples.png_bytes(), "p.png")])
    cursor = client.get("/api/v1/documents?limit=1", headers=person.auth).get_json()["next_cursor"]
    assert client.get("/api/v1/documents", query_string={"cursor": cursor}).status_code == 401


def test_the_openapi_document_describes_paging(client):
    document = client.get("/api/v1/openapi.json").get_json()
    for path, default, maximum in (("/api/v1/documents", 200, 200), ("/api/v1/activity", 50, 200)):
        operation = document["paths"][path]["get"]
        parameters = {parameter["name"]: parameter for parameter in operation["parameters"]}
        assert parameters["limit"]["in"] == "query" and not parameters["limit"]["required"]
        assert parameters["limit"]["schema"]["maximum"] == maximum
        assert parameters["limit"]["schema"]["default"] == default
        assert parameters["cursor"]["in"] == "query" and not parameters["cursor"]["required"]
        assert "422" in operation["responses"]
    schemas = document["components"]["schemas"]
    assert "next_cursor" in schemas["DocumentList"]["required"]
    assert "next_cursor" in schemas["ActivityList"]["required"]
