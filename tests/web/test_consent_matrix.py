"""Issue 8's access matrix, across packages: every endpoint that reaches a person's papers or their consent
× {owner, another person, grantee, another worker of the same organisation, a worker of another
organisation, an admin, anonymous} × {active, expired, ended share, deactivated staff}, on SQLite and
PostgreSQL, through HTTP only.

Each cell is the exact status. Where a refusal concerns something that exists (a share, a paper, a copy),
it is answered exactly like the same request for something that never existed: a refusal never reveals
whether a paper exists. The package tests hold the details (bodies, parallel requests, wording); this
one holds the whole table in one place, including the real deactivation (the admin's endpoint, which
also signs the worker out).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

import pytest

from tests.factories import pdf_file
from tests.web.test_shares_api import ACTORS, MISSING, STATES, World, problem

pytestmark = pytest.mark.usefixtures("database_url")
STAFF = ("grantee", "colleague", "admin")
PEOPLE = ("owner", "another person")
MISSING_REF = "0000-0000-0000-0000"


@dataclass
class Row:
    name: str
    method: str
    path: Callable[[dict], str]  # from the names of what the world holds
    expected: Callable[[str, str], int]  # (actor, state) → status
    body: Callable[[dict], dict] | None = None
    multipart: bool = False
    hidden: Callable[[dict], str] | None = None  # the same request for something that never existed


@pytest.fixture
def world(settings, clock):
    built = World(settings, clock)
    yield built
    built.services.close()


def signed_out(actor: str, state: str) -> bool:
    """Anonymous, or the grantee once the admin has deactivated them (deactivation signs them out)."""
    return actor == "anonymous" or (actor == "grantee" and state == "deactivated")


def share_party(actor: str, state: str) -> int:
    return 401 if signed_out(actor, state) else 200 if actor in ("owner", "grantee") else 404


def read_paper(actor: str, state: str) -> int:
    return 401 if signed_out(actor, state) else 200 if actor == "grantee" and state == "active" else 404


def public(actor: str, state: str) -> int:
    return 200


def signed_in(actor: str, state: str) -> int:
    return 401 if signed_out(actor, state) else 200


def own_paper(actor: str, state: str) -> int:
    return 401 if signed_out(actor, state) else 200 if actor == "owner" else 404 if actor in PEOPLE else 403


def follower_staff(success: int) -> Callable[[str, str], int]:
    def expected(actor: str, state: str) -> int:
        if signed_out(actor, state):
            return 401
        if actor in PEOPLE:
            return 403
        return success if actor in STAFF else 404  # the foreign worker: "no such person follows you"
    return expected


def staff_only(actor: str, state: str) -> int:
    """Every active staff member lists their own organisation's followers (the content: see below)."""
    return 401 if signed_out(actor, state) else 403 if actor in PEOPLE else 200


def answer_request(actor: str, state: str) -> int:
    """Without a password only the person approves; a worker's token alone is told the password is missing."""
    if signed_out(actor, state):
        return 401
    if state == "deactivated" and actor in ("owner", "colleague", "admin"):
        return 409  # a deactivation withdraws the worker's waiting requests: nobody is left to receive papers
    return 201 if actor == "owner" else 422 if actor in STAFF else 404


def ask_deletion(actor: str, state: str) -> int:
    if signed_out(actor, state):
        return 401
    return 201 if actor == "owner" else 403 if actor == "grantee" else 404


ROWS = [
    Row("the share", "GET", lambda ids: f"/api/v1/shares/{ids['share']}", share_party,
        hidden=lambda ids: f"/api/v1/shares/{MISSING}"),
    Row("its receipt", "GET", lambda ids: f"/api/v1/shares/{ids['share']}/receipt", share_party,
        hidden=lambda ids: f"/api/v1/shares/{MISSING}/receipt"),
    Row("the shared paper", "GET", lambda ids: f"/api/v1/shares/{ids['share']}/documents/{ids['paper']}/content",
        read_paper, hidden=lambda ids: f"/api/v1/shares/{MISSING}/documents/{ids['paper']}/content"),
    Row("the paper itself", "GET", lambda ids: f"/api/v1/documents/{ids['paper']}", own_paper,
        hidden=lambda ids: f"/api/v1/documents/{MISSING}"),
    Row("the paper's content", "GET", lambda ids: f"/api/v1/documents/{ids['paper']}/content", own_paper,
        hidden=lambda ids: f"/api/v1/documents/{MISSING}/content"),
    Row("a copy's public look-up", "GET", lambda ids: f"/api/v1/duplicates/{ids['copy']}", public),
    Row("the copies register", "GET", lambda ids: "/api/v1/duplicates", signed_in),
    Row("the person's shares", "GET", lambda ids: "/api/v1/shares", signed_in),
    Row("a deposit", "POST", lambda ids: "/api/v1/people/amina/documents", follower_staff(201), multipart=True,
        body=lambda ids: {"kind": "attestation_caf", "file": (io.BytesIO(pdf_file("Attestation").data), "a.pdf")}),
    Row("asking for papers", "POST", lambda ids: "/api/v1/access-requests", follower_staff(201),
        body=lambda ids: {"person": "amina", "kinds": ["carte_identite"], "purpose": "caf_rsa", "duration_days": 7}),
    Row("the people who follow", "GET", lambda ids: "/api/v1/organisation/people", staff_only),
    Row("approving a request", "POST", lambda ids: f"/api/v1/access-requests/{ids['request']}/approve",
        answer_request, body=lambda ids: {"documents": [ids["paper"]]},
        hidden=lambda ids: f"/api/v1/access-requests/{MISSING}/approve"),
    Row("asking to delete a copy", "POST", lambda ids: f"/api/v1/duplicates/{ids['copy']}/deletion-request",
        ask_deletion, hidden=lambda ids: f"/api/v1/duplicates/{MISSING_REF}/deletion-request"),
]


def call(client, row: Row, ids: dict, headers: dict, path: str | None = None):
    kwargs = {"headers": headers}
    if row.body is not None:
        kwargs["data" if row.multipart else "json"] = row.body(ids)
        if row.multipart:
            kwargs["content_type"] = "multipart/form-data"
    return client.open(path or row.path(ids), method=row.method, **kwargs)


def prepare(client, world, state: str) -> dict:
    """A share of the paper, the worker's marked copy of it, and a request waiting; then the state."""
    days = 1 if state == "expired" else 7
    share = client.post("/api/v1/shares", headers=world.headers("owner"), json={
        "grantee": "marie", "documents": [world.card.id], "purpose": "caf_rsa",
        "expires_at": (world.clock() + timedelta(days=days)).isoformat()}).get_json()
    copy = client.get(f"/api/v1/shares/{share['id']}/documents/{world.card.id}/content", headers=world.headers("grantee"))
    assert copy.status_code == 200
    request = client.post("/api/v1/access-requests", headers=world.headers("grantee"), json={
        "person": "amina", "kinds": ["carte_identite"], "purpose": "caf_rsa", "duration_days": 7}).get_json()
    ids = {"share": share["id"], "paper": world.card.id, "copy": copy.headers["Consigne-Duplicate"],
           "request": request["id"]}
    if state == "expired":
        world.clock.advance(days=1, seconds=1)
        world.refresh()
    elif state == "ended":
        assert client.delete(f"/api/v1/shares/{share['id']}", headers=world.headers("owner")).status_code == 204
    elif state == "deactivated":
        response = client.delete(f"/api/v1/organisation/staff/{world.people['grantee'].id}",
                                 headers=world.headers("admin"))
        assert response.status_code == 204, response.get_json()
        assert world.keys(share["id"]) == [None]  # the wrapped key is gone at once
    return ids


@pytest.mark.parametrize("state", STATES)
def test_every_consent_endpoint_for_every_actor(client, world, state):
    ids = prepare(client, world, state)
    cells = []
    for row in ROWS:
        # The owner last: their call is the one that changes something (approves, asks for a deletion).
        for actor in reversed(ACTORS):
            headers = world.headers(actor)
            response = call(client, row, ids, headers)
            cells.append((row.name, actor, response.status_code, row.expected(actor, state)))
            if response.status_code == 404 and row.hidden is not None:
                missing = call(client, row, ids, headers, path=row.hidden(ids))
                assert problem(response) == problem(missing), (row.name, actor)
    wrong = [cell for cell in cells if cell[2] != cell[3]]
    assert wrong == [], "\n".join(f"{name} as {actor}: {got}, expected {want}" for name, actor, got, want in wrong)


@pytest.mark.parametrize("state", STATES)
def test_the_registers_show_each_copy_to_its_two_parties_only(client, world, state):
    ids = prepare(client, world, state)
    for actor in ACTORS:
        if signed_out(actor, state):
            continue
        items = client.get("/api/v1/duplicates", headers=world.headers(actor)).get_json()["items"]
        assert (ids["copy"] in [item["ref"] for item in items]) == (actor in ("owner", "grantee")), actor
        shares = client.get("/api/v1/shares", headers=world.headers(actor)).get_json()["items"]
        assert (ids["share"] in [item["id"] for item in shares]) == (actor in ("owner", "grantee")), actor
        if actor not in PEOPLE:  # staff find the person only through their own organisation's follow
            people = client.get("/api/v1/organisation/people", headers=world.headers(actor)).get_json()
            assert ("amina" in str(people)) == (actor in STAFF), actor
