"""The organisations, staff and follows API: who may call what (every endpoint × every kind of caller, on
SQLite and PostgreSQL), joining with an invitation then signing in with TOTP, and malformed bodies."""

from __future__ import annotations

from dataclasses import dataclass
import pyotp
import pytest

from tests.factories import build_services, join_staff, make_follow, make_organisation, make_person
from tests.web.conftest import PASSWORD
from tests.web.test_openapi import assert_documented
from vault import organisations
from vault.models import Account
from vault.policies import actor_for
from web.api.registry import ROUTES

pytestmark = pytest.mark.usefixtures("database_url")


@pytest.fixture
def services(settings, clock):
    built = build_services(settings, clock)
    yield built
    built.close()


@pytest.fixture
def document(client):
    return client.get("/api/v1/openapi.json").get_json()


def bearer(token: str | None) -> dict:
    return {"Authorization": f"Bearer {token}"} if token else {}


def invite_code(services, admin, role="worker") -> str:
    with services.transaction() as uow:
        actor = actor_for(uow.session, uow.session.get(Account, admin.id))
        return organisations.invite(uow.session, actor=actor, keys=services.keys, organisation_id=None, role=role,
                                    now=services.now).code


@dataclass
class World:
    a: str
    b: str
    tokens: dict
    follow_id: str
    victim_id: str


@pytest.fixture
def world(services, clock) -> World:
    a, code_a = make_organisation(services, "Les Lilas")
    admin_a = join_staff(services, code_a, "admin.a", display_name="Nadia B.")
    worker_a = join_staff(services, invite_code(services, admin_a), "worker.a")
    victim = join_staff(services, invite_code(services, admin_a), "victim.a")
    gone = join_staff(services, invite_code(services, admin_a), "gone.a")
    b, code_b = make_organisation(services, "Autre")
    admin_b = join_staff(services, code_b, "admin.b")
    worker_b = join_staff(services, invite_code(services, admin_b), "worker.b")
    person = make_person(services, "amina")
    follow_id = make_follow(services, person, a)
    with services.transaction() as uow:
        actor = actor_for(uow.session, uow.session.get(Account, admin_a.id))
        organisations.deactivate_staff(uow.session, actor=actor, organisation_id=None, staff_id=gone.id,
                                       now=services.now)
    tokens = {"anonymous": None, "person": person.token, "worker A": worker_a.token, "admin A": admin_a.token,
              "worker B": worker_b.token, "admin B": admin_b.token, "deactivated": gone.token}
    return World(a=a, b=b, tokens=tokens, follow_id=follow_id, victim_id=victim.id)


# Each row: method, path, body, then the status for each caller. The one caller allowed to change
# something is listed last (dicts keep their order), so every refusal is tried on the unchanged state.
def table(world: World):
    org = f"?organisation={world.a}"
    refused = {"anonymous": 401, "person": 403, "worker A": 403, "worker B": 403, "admin B": 403, "deactivated": 401}
    staff_read = {**refused, "worker A": 200, "admin A": 200}
    admin_only = {**refused, "admin A": 200}
    everyone = {"anonymous": 401, "person": 200, "worker A": 200, "admin A": 200, "worker B": 200, "admin B": 200,
                "deactivated": 401}
    person_only = {"anonymous": 401, "worker A": 403, "admin A": 403, "worker B": 403, "admin B": 403,
                   "deactivated": 401}
    return [
        ("GET", "/organisations", None, everyone),
        ("GET", "/follows", None, {**person_only, "person": 200}),
        ("POST", "/follows", {"organisation": world.b}, {**person_only, "person": 201}),
        ("DELETE", f"/follows/{world.follow_id}", None,
         {**{name: 404 for name in person_only}, "anonymous": 401, "deactivated": 401, "person": 204}),
        ("GET", f"/organisation/people{org}", None, staff_read),
        ("GET", f"/organisation/purposes{org}", None, staff_read),
        ("PUT", f"/organisation/purposes{org}", {"items": [{"code": "housing"}]}, admin_only),
        ("GET", f"/organisation/counts{org}", None, admin_only),
        ("GET", f"/organisation/staff{org}", None, admin_only),
        ("POST", f"/organisation/invitations{org}", {"role": "worker"}, {**refused, "admin A": 201}),
        ("DELETE", f"/organisation/staff/{world.victim_id}{org}", None, {**refused, "admin A": 204}),
    ]


def test_who_may_call_what(client, world, document):
    seen = set()
    for method, path, body, expected in table(world):
        seen.add((method, path.split("?")[0].replace(world.follow_id, "{follow_id}")
                  .replace(world.victim_id, "{staff_id}")))
        for caller, status in expected.items():
            response = client.open(f"/api/v1{path}", method=method, json=body, headers=bearer(world.tokens[caller]))
            assert response.status_code == status, (method, path, caller, response.get_json())
            template = path.split("?")[0].replace(world.follow_id, "{follow_id}").replace(world.victim_id,
                                                                                          "{staff_id}")
            assert_documented(document, method, template, response)
    mine = {(route.method, route.path) for route in ROUTES if route.tag in {"organisation", "follows"}}
    assert mine <= seen, mine - seen


def test_an_admin_of_two_organisations_must_name_one(client, services, world):
    # admin.a also becomes an admin of B (no service adds a second membership to an account yet).
    from vault.models import Membership

    with services.transaction() as uow:
        admin = uow.session.query(Account).filter_by(username="admin.a").one()
        uow.session.add(Membership(organisation_id=world.b, account_id=admin.id, role="admin",
                                   created_at=services.now))
    response = client.get("/api/v1/organisation/staff", headers=bearer(world.tokens["admin A"]))
    assert response.status_code == 422 and response.get_json()["code"] == "organisation_required"
    named = client.get(f"/api/v1/organisation/staff?organisation={world.b}", headers=bearer(world.tokens["admin A"]))
    assert {item["username"] for item in named.get_json()["items"]} == {"admin.a", "admin.b", "worker.b"}


def test_join_then_sign_in_with_totp_then_invite_a_worker_who_joins(client, services, clock, document):
    _, code = make_organisation(services, "Les Lilas")
    joined = client.post("/api/v1/staff", json={"invitation": code, "username": "nadia.b", "password": PASSWORD,
                                                "display_name": "Nadia B."})
    assert joined.status_code == 201, joined.get_json()
    assert_documented(document, "POST", "/staff", joined)
    body = joined.get_json()
    assert set(body) == {"id", "username", "otp_secret", "otp_uri"} and body["otp_uri"].startswith("otpauth://")
    # The password alone does not open a staff session.
    assert client.post("/api/v1/sessions", json={"username": "nadia.b", "password": PASSWORD}).status_code == 401
    signed = client.post("/api/v1/sessions", json={"username": "nadia.b", "password": PASSWORD,
                                                   "otp": pyotp.TOTP(body["otp_secret"]).at(clock())})
    assert signed.status_code == 201, signed.get_json()
    admin = bearer(signed.get_json()["token"])
    invited = client.post("/api/v1/organisation/invitations", json={"role": "worker"}, headers=admin)
    assert invited.status_code == 201
    invitation = invited.get_json()
    assert invitation["role"] == "worker"
    worker = client.post("/api/v1/staff", json={"invitation": invitation["code"], "username": "marie.l",
                                                "password": PASSWORD})
    assert worker.status_code == 201
    staff = client.get("/api/v1/organisation/staff", headers=admin).get_json()["items"]
    assert [(item["name"], item["role"], item["active"]) for item in staff] == [
        ("marie.l", "worker", True), ("Nadia B.", "admin", True)]
    # Replayed: the same answer as any code that does not work.
    again = client.post("/api/v1/staff", json={"invitation": invitation["code"], "username": "someone.else",
                                               "password": PASSWORD})
    assert again.status_code == 422 and again.get_json()["code"] == "invalid_invitation"
    assert_documented(document, "POST", "/staff", again)


def test_an_expired_invitation_is_refused(client, services, clock):
    _, code = make_organisation(services, "Les Lilas")
    clock.advance(days=7, seconds=1)
    response = client.post("/api/v1/staff", json={"invitation": code, "username": "late.one", "password": PASSWORD})
    assert response.status_code == 422 and response.get_json()["code"] == "invalid_invitation"


@pytest.mark.parametrize("body", [
    {}, {"invitation": "x"}, {"invitation": 5, "username": "a.b.c", "password": PASSWORD},
    {"invitation": "x", "username": "a.b.c", "password": PASSWORD, "role": "admin"},
    {"invitation": "x" * 65, "username": "a.b.c", "password": PASSWORD},
    {"invitation": "x", "username": "a.b.c", "password": PASSWORD, "display_name": ["Marie"]},
])
def test_malformed_join_bodies_are_refused_and_change_nothing(client, services, body, document):
    _, code = make_organisation(services, "Les Lilas")
    response = client.post("/api/v1/staff", json=body)
    assert response.status_code == 422
    assert_documented(document, "POST", "/staff", response)
    assert client.post("/api/v1/staff", json={"invitation": code, "username": "still.works",
                                               "password": PASSWORD}).status_code == 201


@pytest.mark.parametrize("body", [
    {"role": "owner"}, {}, {"role": ["admin"]}, {"role": "worker", "organisation": "x"},
])
def test_malformed_invitation_bodies(client, world, body):
    response = client.post("/api/v1/organisation/invitations", json=body, headers=bearer(world.tokens["admin A"]))
    assert response.status_code == 422


@pytest.mark.parametrize("items", [
    [{"code": "nope"}], [{"code": "other"}], [{"code": "other", "text": "   "}], [{"code": "other", "text": "x" * 201}],
    "housing", [{"code": "housing", "extra": 1}],
])
def test_malformed_purposes_change_nothing(client, world, items):
    headers = bearer(world.tokens["admin A"])
    before = client.get("/api/v1/organisation/purposes", headers=headers).get_json()
    response = client.put("/api/v1/organisation/purposes", json={"items": items}, headers=headers)
    assert response.status_code == 422
    assert client.get("/api/v1/organisation/purposes", headers=headers).get_json() == before


def test_purposes_round_trip_in_the_callers_language(client, world):
    headers = {**bearer(world.tokens["admin A"]), "Accept-Language": "en"}
    response = client.put("/api/v1/organisation/purposes", headers=headers, json={"items": [
        {"code": "other", "text": "Aide  alimentaire"}, {"code": "caf_rsa"}, {"code": "caf_rsa"}]})
    assert response.status_code == 200
    assert response.get_json()["items"] == [
        {"code": "caf_rsa", "text": None, "label": "CAF or RSA file"},
        {"code": "other", "text": "Aide alimentaire", "label": "Aide alimentaire"}]


def test_deactivating_the_last_admin_is_a_conflict(client, world, services):
    with services.transaction() as uow:
        admin = uow.session.query(Account).filter_by(username="admin.a").one().id
    response = client.delete(f"/api/v1/organisation/staff/{admin}", headers=bearer(world.tokens["admin A"]))
    assert response.status_code == 409 and response.get_json()["code"] == "last_admin"


def test_counts_and_people_are_numbers_and_usernames_only(client, world):
    counts = client.get("/api/v1/organisation/counts", headers=bearer(world.tokens["admin A"])).get_json()
    assert counts == {"people_following": 1, "active_shares": 0, "requests_waiting": 0, "requests_answered": 0,
                      "duplicates_this_month": 0}
    people = client.get("/api/v1/organisation/people", headers=bearer(world.tokens["worker A"])).get_json()
    assert people == {"items": [{"username": "amina"}]}


def test_follows_round_trip(client, world):
    headers = bearer(world.tokens["person"])
    names = {item["name"]: item["id"] for item in client.get("/api/v1/organisations", headers=headers).get_json()["items"]}
    assert set(names) == {"Les Lilas", "Autre"}
    started = client.post("/api/v1/follows", json={"organisation": names["Autre"]}, headers=headers)
    assert started.status_code == 201 and started.get_json()["organisation"] == "Autre"
    listed = client.get("/api/v1/follows", headers=headers).get_json()["items"]
    assert sorted(item["organisation"] for item in listed) == ["Autre", "Les Lilas"]
    assert client.post("/api/v1/follows", json={"organisation": "nope"}, headers=headers).status_code == 404
    assert client.post("/api/v1/follows", json={"organisation": 5}, headers=headers).status_code == 422
    assert client.delete(f"/api/v1/follows/{started.get_json()['id']}", headers=headers).status_code == 204
    assert client.delete(f"/api/v1/follows/{started.get_json()['id']}", headers=headers).status_code == 404
