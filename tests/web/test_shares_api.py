"""The shares and access-requests endpoints, and their access matrix.

Every endpoint × {owner, another person, grantee, another worker of the same organisation, a worker of
another organisation, an admin, anonymous} × {active, expired, ended share, deactivated staff}, on SQLite
and PostgreSQL. A refusal never reveals whether a share or a paper exists: the answer to someone else's
share is byte for byte the answer to one that never existed.
"""

from __future__ import annotations

import json
import subprocess
import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.factories import build_services, current_otp, make_document, make_follow, make_person, make_staff, sign_in
from vault.models import Membership, SharedDocument
from vault.shares import end_shares_of_staff
from vault.purposes import PurposeChoice, replace_purposes

pytestmark = pytest.mark.usefixtures("database_url")
ACTORS = ("owner", "another person", "grantee", "colleague", "foreign worker", "admin", "anonymous")
STATES = ("active", "expired", "ended", "deactivated")
MISSING = str(uuid.UUID(int=7))


class World:
    def __init__(self, settings, clock):
        self.clock = clock
        self.services = build_services(settings, clock)
        s = self.services
        self.people = {
            "owner": make_person(s, "amina"),
            "another person": make_person(s, "bilal"),
            "grantee": make_staff(s, "marie", organisation="Les Lilas"),
        }
        organisation = self.people["grantee"].organisation_id
        self.organisation = organisation
        self.people["colleague"] = make_staff(s, "paul", organisation_id=organisation)
        self.people["admin"] = make_staff(s, "lea", organisation_id=organisation, role="admin")
        self.people["foreign worker"] = make_staff(s, "ines", organisation="Autre accueil")
        with s.transaction() as uow:
            for place in (organisation, self.people["foreign worker"].organisation_id):
                replace_purposes(uow.session, organisation_id=place, choices=[PurposeChoice("caf_rsa")], now=s.now)
        make_follow(s, self.people["owner"], organisation)
        self.card = make_document(s, self.people["owner"], title="Ma carte")
        self.other_card = make_document(s, self.people["another person"])

    def headers(self, actor):
        if actor == "anonymous":
            return {}
        return {"Authorization": f"Bearer {self.people[actor].token}"}

    def refresh(self):
        for made in self.people.values():
            extra = {"otp": current_otp(made, self.clock())} if made.otp_secret else {}
            made.token = sign_in(self.services, made.username, made.password, **extra)

    def keys(self, share_id):
        with self.services.session_factory() as session:
            return list(session.scalars(select(SharedDocument.wrapped_file_key)
                                        .where(SharedDocument.share_id == share_id)))


@pytest.fixture
def world(settings, clock):
    built = World(settings, clock)
    yield built
    built.services.close()


def share_body(world, **changes):
    return {"grantee": "marie", "documents": [world.card.id], "purpose": "caf_rsa",
            "expires_at": (world.clock() + timedelta(days=7)).isoformat()} | changes


def problem(response) -> dict:
    """The answer without ``instance`` (the path asked, which differs by the id only)."""
    return {key: value for key, value in response.get_json().items() if key != "instance"}


def make_share(client, world, state):
    days = 1 if state == "expired" else 7
    response = client.post("/api/v1/shares", json=share_body(world, expires_at=(world.clock() + timedelta(days=days))
                                                              .isoformat()), headers=world.headers("owner"))
    assert response.status_code == 201, response.get_json()
    share = response.get_json()
    if state == "expired":
        world.clock.advance(days=1, seconds=1)
        world.refresh()
    elif state == "ended":
        assert client.delete(f"/api/v1/shares/{share['id']}", headers=world.headers("owner")).status_code == 204
    elif state == "deactivated":
        with world.services.transaction() as uow:
            # As a deactivation does (the organisations' service): the membership ends, and so do the shares.
            uow.session.execute(update(Membership).where(Membership.account_id == world.people["grantee"].id)
                                .values(ended_at=world.clock()))
            end_shares_of_staff(uow.session, staff_id=world.people["grantee"].id, organisation_id=world.organisation,
                                now=world.clock(), actor_id=world.people["admin"].id)
        assert world.keys(share["id"]) == [None]
    return share


def test_create_and_read_a_share(client, world):
    response = client.post("/api/v1/shares", json=share_body(world), headers=world.headers("owner"))
    assert response.status_code == 201, response.get_json()
    share = response.get_json()
    assert {"id", "grantee", "documents", "purpose", "created_at", "expires_at", "ended_at"} <= set(share)
    assert share["grantee"]["name"] == "marie" and share["organisation"]["name"] == "Les Lilas"
    assert share["documents"] == [{"id": world.card.id, "kind": "carte_identite", "title": "Ma carte",
                                   "expires_on": None, "expiry": None}]
    assert share["active"] and share["seconds_left"] == 7 * 86400 and share["ended_at"] is None
    received = client.get("/api/v1/shares", headers=world.headers("grantee")).get_json()["items"]
    assert [item["id"] for item in received] == [share["id"]] and received[0]["documents"][0]["title"] is None
    assert len(world.keys(share["id"])) == 1 and world.keys(share["id"])[0] is not None


@pytest.mark.parametrize("body, status, code", [
    ({"grantee": "nobody"}, 404, "grantee_not_found"),
    ({"grantee": "bilal"}, 404, "grantee_not_found"),
    ({"purpose": "housing"}, 403, "purpose_not_registered"),
    ({"purpose": "licorne"}, 422, "invalid_input"),
    ({"documents": [MISSING]}, 404, "document_not_found"),
    ({"documents": []}, 422, None),
    ({"expires_at": "2020-01-01T00:00:00+00:00"}, 422, "invalid_share_end"),
    ({"expires_at": "2020-01-01T00:00:00"}, 422, None),  # no time zone
    ({"extra": 1}, 422, None),
])
def test_bad_shares_are_refused(client, world, body, status, code):
    response = client.post("/api/v1/shares", json=share_body(world, **body), headers=world.headers("owner"))
    assert response.status_code == status, response.get_json()
    if code:
        assert response.get_json()["code"] == code
    assert client.get("/api/v1/shares", headers=world.headers("owner")).get_json() == {"items": []}


def test_someone_elses_paper_is_the_same_not_found_as_a_missing_one(client, world):
    foreign = client.post("/api/v1/shares", json=share_body(world, documents=[world.other_card.id]),
                          headers=world.headers("owner"))
    missing = client.post("/api/v1/shares", json=share_body(world, documents=[MISSING]), headers=world.headers("owner"))
    assert foreign.status_code == missing.status_code == 404
    assert problem(foreign) == problem(missing)


def test_staff_and_anonymous_cannot_share(client, world):
    assert client.post("/api/v1/shares", json=share_body(world, grantee="paul"),
                       headers=world.headers("grantee")).status_code == 403
    assert client.post("/api/v1/shares", json=share_body(world)).status_code == 401


@pytest.mark.parametrize("state", STATES)
def test_access_matrix(client, world, state):
    share = make_share(client, world, state)
    path = f"/api/v1/shares/{share['id']}"
    may_see = {"owner", "grantee"}
    for actor in ACTORS:
        headers = world.headers(actor)
        expected = 401 if actor == "anonymous" else 200 if actor in may_see else 404
        one = client.get(path, headers=headers)
        receipt = client.get(f"{path}/receipt", headers=headers)
        assert (actor, one.status_code, receipt.status_code) == (actor, expected, expected)
        listed = client.get("/api/v1/shares", headers=headers)
        if actor == "anonymous":
            assert listed.status_code == 401
        elif actor in ("owner", "another person") or world.people[actor].otp_secret:
            ids = [item["id"] for item in listed.get_json()["items"]]
            assert (share["id"] in ids) == (actor in may_see), actor
        if expected == 404:
            # Someone else's share is answered exactly like one that never existed.
            assert problem(one) == problem(client.get(f"/api/v1/shares/{MISSING}", headers=headers))
            assert problem(receipt) == problem(client.get(f"/api/v1/shares/{MISSING}/receipt", headers=headers))
        if expected == 200:
            assert receipt.content_type == "application/pdf"
            assert one.get_json()["active"] == (state == "active")
        # The paper itself: a marked copy for the grantee of an active share, and for nobody else.
        content = client.get(f"{path}/documents/{world.card.id}/content", headers=headers)
        readable = actor == "grantee" and state == "active"
        assert (actor, content.status_code) == (actor, 401 if actor == "anonymous" else 200 if readable else 404)
        if readable:
            assert content.content_type == "application/pdf" and content.data.startswith(b"%PDF-")
            assert content.headers["Consigne-Duplicate"]
        elif actor != "anonymous":
            missing = client.get(f"/api/v1/shares/{MISSING}/documents/{world.card.id}/content", headers=headers)
            assert problem(content) == problem(missing)
    if state == "deactivated":  # a deactivated worker asks for nothing any more
        assert ask(client, world, "grantee").status_code == 403
    # Nobody but the two of them ends it; it stays as it was.
    keys_before = world.keys(share["id"])
    for actor in ("another person", "colleague", "foreign worker", "admin", "anonymous"):
        response = client.delete(path, headers=world.headers(actor))
        assert response.status_code == (401 if actor == "anonymous" else 404), actor
    assert world.keys(share["id"]) == keys_before
    # The grantee gives it back (even deactivated, the record stays theirs), then the owner: both 204.
    assert client.delete(path, headers=world.headers("grantee")).status_code == 204
    assert client.delete(path, headers=world.headers("owner")).status_code == 204
    ended = client.get(path, headers=world.headers("owner")).get_json()
    assert ended["ended_at"] is not None and not ended["active"]
    assert ended["end_reason"] == {"active": "grantee", "expired": "grantee", "ended": "owner",
                                   "deactivated": "deactivated"}[state]
    assert world.keys(share["id"]) == [None]


def test_consigne_purge_ends_expired_shares(client, world, monkeypatch, capsys):
    from ops import cli

    share = make_share(client, world, "expired")
    assert world.keys(share["id"]) != [None]
    settings = world.services.settings
    monkeypatch.setenv("CONSIGNE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("CONSIGNE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CONSIGNE_KDF", "fast-insecure-for-tests")
    # The command uses the real clock, which is past the test clock's expiry: the share is over.
    assert cli.main(["purge"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["shares_ended"] == 1
    assert cli.main(["purge"]) == 0  # idempotent
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["shares_ended"] == 0
    assert world.keys(share["id"]) == [None]
    ended = client.get(f"/api/v1/shares/{share['id']}", headers=world.headers("owner")).get_json()
    assert ended["end_reason"] == "expired"


def test_receipt_in_the_asked_language(client, world):
    share = make_share(client, world, "active")
    response = client.get(f"/api/v1/shares/{share['id']}/receipt?language=en", headers=world.headers("owner"))
    text = subprocess.run(["pdftotext", "-", "-"], input=response.data, capture_output=True, check=True).stdout
    assert b"Ma carte" in text and share["id"].encode() in text
    assert response.headers["Content-Disposition"].startswith("attachment")


# --- access requests -----------------------------------------------------------------------------------
def ask(client, world, actor="grantee", **changes):
    body = {"person": "amina", "kinds": ["carte_identite"], "purpose": "caf_rsa", "duration_days": 7} | changes
    return client.post("/api/v1/access-requests", json=body, headers=world.headers(actor))


def test_request_matrix(client, world):
    expected = {"owner": 403, "another person": 403, "grantee": 201, "colleague": 201, "admin": 201,
                "foreign worker": 404, "anonymous": 401}
    for actor, status in expected.items():
        assert (actor, ask(client, world, actor).status_code) == (actor, status)
    # Not following, unknown, staff: the same answer.
    answers = [ask(client, world, person=name).get_json() for name in ("bilal", "nobody", "paul")]
    assert answers[0] == answers[1] == answers[2] and answers[0]["code"] == "person_not_found"
    assert ask(client, world, purpose="housing").get_json()["code"] == "purpose_not_registered"
    assert ask(client, world, duration_days=91).status_code == 422
    assert ask(client, world, kinds=["licorne"]).status_code == 422


def test_approve_and_decline_matrix(client, world):
    first = ask(client, world).get_json()
    second = ask(client, world).get_json()
    body = {"documents": [world.card.id]}
    for actor in ("another person", "foreign worker"):
        response = client.post(f"/api/v1/access-requests/{first['id']}/approve", json=body,
                               headers=world.headers(actor))
        assert response.status_code == 404, actor
        assert client.post(f"/api/v1/access-requests/{first['id']}/decline",
                           headers=world.headers(actor)).status_code == 404
    for actor in ("grantee", "colleague", "admin"):  # a worker's token alone never approves
        response = client.post(f"/api/v1/access-requests/{first['id']}/approve", json=body,
                               headers=world.headers(actor))
        assert (actor, response.status_code, response.get_json()["field"]) == (actor, 422, "password")
        response = client.post(f"/api/v1/access-requests/{first['id']}/approve", json=body | {"password": "devine"},
                               headers=world.headers(actor))
        assert (actor, response.status_code) == (actor, 403)
        assert client.post(f"/api/v1/access-requests/{first['id']}/decline",
                           headers=world.headers(actor)).status_code == 404
    assert client.post(f"/api/v1/access-requests/{first['id']}/approve", json=body).status_code == 401
    approved = client.post(f"/api/v1/access-requests/{first['id']}/approve", json=body, headers=world.headers("owner"))
    assert approved.status_code == 201 and approved.get_json()["grantee"]["name"] == "marie"
    assert approved.get_json()["access_request"] == first["id"]
    again = client.post(f"/api/v1/access-requests/{first['id']}/approve", json=body, headers=world.headers("owner"))
    assert again.status_code == 409
    assert client.post(f"/api/v1/access-requests/{second['id']}/decline",
                       headers=world.headers("owner")).status_code == 204
    sent = client.get("/api/v1/access-requests", headers=world.headers("colleague")).get_json()["items"]
    assert sorted(item["status"] for item in sent) == ["approved", "declined"]
    assert client.get("/api/v1/access-requests", headers=world.headers("foreign worker")).get_json() == {"items": []}
    assert client.get("/api/v1/access-requests", headers=world.headers("another person")).get_json() == {"items": []}


def test_side_by_side_approval(client, world):
    request = ask(client, world).get_json()
    path = f"/api/v1/access-requests/{request['id']}/approve"
    wrong = client.post(path, json={"documents": [world.card.id], "password": "pas le bon"},
                        headers=world.headers("grantee"))
    assert wrong.status_code == 403 and wrong.get_json()["code"] == "wrong_password"
    right = client.post(path, json={"documents": [world.card.id], "password": world.people["owner"].password},
                        headers=world.headers("grantee"))
    assert right.status_code == 201, right.get_json()
    assert right.get_json()["owner"]["id"] == world.people["owner"].id


def test_parallel_approvals_make_one_share(app, world):
    request_id = ask(app.test_client(), world).get_json()["id"]
    barrier = threading.Barrier(2)
    statuses = []

    def approve(headers, body):
        client = app.test_client()
        barrier.wait(timeout=10)
        statuses.append(client.post(f"/api/v1/access-requests/{request_id}/approve", json=body,
                                    headers=headers).status_code)

    body = {"documents": [world.card.id]}
    threads = [threading.Thread(target=approve, args=(world.headers("owner"), body)),
               threading.Thread(target=approve, args=(world.headers("grantee"),
                                                      body | {"password": world.people["owner"].password}))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201, 409]
    shares = app.test_client().get("/api/v1/shares", headers=world.headers("owner")).get_json()["items"]
    assert len(shares) == 1
