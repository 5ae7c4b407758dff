"""The assisted recovery API over HTTP, on SQLite and PostgreSQL: opt-in, then a recovery in person by two staff,
every answer checked against the OpenAPI document; and the refusals a partner would meet."""

from __future__ import annotations

import pytest

from tests.factories import build_services, make_follow, make_organisation, make_person, make_staff
from tests.web.conftest import PASSWORD
from tests.web.test_openapi import assert_documented

pytestmark = pytest.mark.usefixtures("database_url")
NEW_PASSWORD = "marteau-nuage-violon-7"


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


def call(client, document, method, path, template=None, token=None, **kwargs):
    response = client.open(f"/api/v1{path}", method=method, headers=bearer(token), **kwargs)
    assert_documented(document, method, template or path, response)
    return response


def test_opt_in_then_a_recovery_in_person(client, document, services):
    lilas, _ = make_organisation(services, "Les Lilas")
    admin = make_staff(services, "admin.lilas", organisation_id=lilas, role="admin")
    worker = make_staff(services, "worker.lilas", organisation_id=lilas)
    foreign = make_staff(services, "worker.autre", organisation="Autre")
    person = make_person(services, "ahmed")
    make_follow(services, person, lilas)
    choice = {"organisation": lilas, "enabled": True, "password": PASSWORD}

    refused = call(client, document, "PUT", "/me/assisted-recovery", token=person.token, json=choice)
    assert refused.status_code == 409 and refused.get_json()["code"] == "recovery_key_missing"
    # An admin's look at the open recoveries makes the organisation's key.
    listed = call(client, document, "GET", "/organisation/recoveries", token=admin.token)
    assert listed.status_code == 200 and listed.get_json() == {"items": []}
    wrong = call(client, document, "PUT", "/me/assisted-recovery", token=person.token, json=choice | {"password": "x"})
    assert wrong.status_code == 403 and wrong.get_json()["code"] == "wrong_password"
    assert call(client, document, "PUT", "/me/assisted-recovery", token=person.token, json=choice).status_code == 204
    mine = call(client, document, "GET", "/me/assisted-recovery", token=person.token).get_json()
    assert mine["items"] == [{"organisation_id": lilas, "organisation": "Les Lilas", "enabled": True,
                              "possible": True}]

    nobody = call(client, document, "POST", "/organisation/recoveries", token=foreign.token,
                  json={"person": "ahmed", "password": PASSWORD})
    assert nobody.status_code == 404 and nobody.get_json()["code"] == "recovery_person_not_found"
    started = call(client, document, "POST", "/organisation/recoveries", token=worker.token,
                   json={"person": "ahmed", "password": PASSWORD})
    assert started.status_code == 201
    recovery_id = started.get_json()["id"]
    confirm_path, complete_path = (f"/organisation/recoveries/{recovery_id}/confirm",
                                   f"/organisation/recoveries/{recovery_id}/complete")
    confirm_template = "/organisation/recoveries/{recovery_id}/confirm"
    complete_template = "/organisation/recoveries/{recovery_id}/complete"
    same = call(client, document, "POST", confirm_path, confirm_template, token=worker.token,
                json={"password": PASSWORD})
    assert same.status_code == 403 and same.get_json()["code"] == "recovery_needs_another_staff"
    other = call(client, document, "POST", confirm_path, confirm_template, token=foreign.token,
                 json={"password": PASSWORD})
    assert other.status_code == 404
    early = call(client, document, "POST", complete_path, complete_template, token=admin.token,
                 json={"new_password": NEW_PASSWORD})
    assert early.status_code == 404
    assert call(client, document, "POST", confirm_path, confirm_template, token=admin.token,
                json={"password": PASSWORD}).status_code == 204
    by_worker = call(client, document, "POST", complete_path, complete_template, token=worker.token,
                     json={"new_password": NEW_PASSWORD})
    assert by_worker.status_code == 403
    done = call(client, document, "POST", complete_path, complete_template, token=admin.token,
                json={"new_password": NEW_PASSWORD})
    assert done.status_code == 201 and len(done.get_json()["recovery_codes"]) == 10
    again = call(client, document, "POST", complete_path, complete_template, token=admin.token,
                 json={"new_password": NEW_PASSWORD})
    assert again.status_code == 404
    assert client.get("/api/v1/me", headers=bearer(person.token)).status_code == 401  # the old session is dead
    signed_in = client.post("/api/v1/sessions", json={"username": "ahmed", "password": NEW_PASSWORD})
    assert signed_in.status_code == 201
    assert client.post("/api/v1/sessions", json={"username": "ahmed", "password": PASSWORD}).status_code == 401


def test_opting_out_over_the_api(client, document, services):
    lilas, _ = make_organisation(services, "Les Lilas")
    admin = make_staff(services, "admin.lilas", organisation_id=lilas, role="admin")
    person = make_person(services, "ahmed")
    make_follow(services, person, lilas)
    call(client, document, "GET", "/organisation/recoveries", token=admin.token)
    choice = {"organisation": lilas, "enabled": True, "password": PASSWORD}
    assert call(client, document, "PUT", "/me/assisted-recovery", token=person.token, json=choice).status_code == 204
    assert call(client, document, "PUT", "/me/assisted-recovery", token=person.token,
                json=choice | {"enabled": False}).status_code == 204
    started = call(client, document, "POST", "/organisation/recoveries", token=admin.token,
                   json={"person": "ahmed", "password": PASSWORD})
    assert started.status_code == 404
    unknown = call(client, document, "PUT", "/me/assisted-recovery", token=person.token,
                   json=choice | {"organisation": "not-followed"})
    assert unknown.status_code == 404
    malformed = client.put("/api/v1/me/assisted-recovery", headers=bearer(person.token),
                           json={"organisation": lilas, "enabled": "yes", "password": PASSWORD})
    assert malformed.status_code == 422
