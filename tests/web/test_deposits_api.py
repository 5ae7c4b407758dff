"""``POST /api/v1/people/{username}/documents``: a worker deposits, the person owns it, nobody else sees it.

Through HTTP exactly as a partner would, with staff made by the real services (tests/factories.py) on the
application's own database and store.
"""

from __future__ import annotations

import io
import threading
from dataclasses import replace
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from tests.factories import build_services, make_follow, make_staff
from tests.vault import media_samples as samples
from tests.web.live_server import person_token, request, serving, upload, upload_body
from tests.web.test_openapi import assert_documented
from vault.models import Account, Document, Event, Membership
from web.app import create_app

pytestmark = pytest.mark.usefixtures("database_url")


@pytest.fixture
def services(settings, clock):
    built = build_services(settings, clock)
    yield built
    built.close()


def auth(person) -> dict:
    return {"Authorization": f"Bearer {person.token}", "Accept-Language": "en"}


def deposit(client, staff, username, *, files=None, **fields):
    data = {"kind": "attestation_domiciliation", **fields,
            "file": [(io.BytesIO(content), name) for content, name in files or [(samples.pdf_bytes(), "a.pdf")]]}
    return client.post(f"/api/v1/people/{username}/documents", data=data, headers=auth(staff),
                       content_type="multipart/form-data")


@pytest.fixture
def marie(services):
    staff = make_staff(services, "marie", organisation="Accueil de jour Les Lilas")
    with services.transaction() as uow:
        uow.session.get(Account, staff.id).display_name = "Marie L."
    return staff


def test_a_worker_deposits_and_the_person_sees_it_as_theirs(client, api, services, marie):
    amina = api.person("amina")
    make_follow(services, amina, marie.organisation_id)
    response = deposit(client, marie, "amina", title="Attestation de mai", expires_on="2027-05-01")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    # Only what the worker brought and what was counted: no title back, no size, no content type
    assert set(body) == {"id", "kind", "pages", "created_at"}
    assert body["kind"] == "attestation_domiciliation" and body["pages"] == 1
    document = api.client.get(f"/api/v1/documents/{body['id']}", headers=amina.auth).get_json()
    assert document["title"] == "Attestation de mai" and document["expires_on"] == "2027-05-01"
    # The worker cannot open it through the person's own routes
    for path in (f"/api/v1/documents/{body['id']}", f"/api/v1/documents/{body['id']}/content"):
        assert client.get(path, headers=auth(marie)).status_code in (403, 404)
    # The person deletes it like any other paper
    assert client.delete(f"/api/v1/documents/{body['id']}", headers=amina.auth).status_code == 204
    assert api.document_rows() == 0


def test_refusals_never_tell_whether_the_username_exists(client, api, services, marie, document_for_openapi):
    amina = api.person("amina")
    karim = api.person("karim")  # follows nobody
    make_follow(services, amina, marie.organisation_id)
    paul = make_staff(services, "paul", organisation="Autre accueil")

    answers = [deposit(client, staff, username) for staff, username in
               [(paul, "amina"), (marie, "karim"), (marie, "nobody-at-all"), (marie, "%2E%2E"), (marie, "paul")]]
    assert {response.status_code for response in answers} == {404}
    # The very same answer but for the path asked ("instance")
    assert len({repr(sorted((key, value) for key, value in response.get_json().items() if key != "instance"))
                for response in answers}) == 1
    assert answers[0].get_json()["code"] == "person_not_found"
    for response in answers:
        assert_documented(document_for_openapi, "POST", "/people/{username}/documents", response)
    # A person is not staff: refused whatever the username, before it is looked up
    for username in ("amina", "nobody-at-all"):
        refused = client.post(f"/api/v1/people/{username}/documents", headers=karim.auth,
                              data={"kind": "autre", "file": [(io.BytesIO(samples.pdf_bytes()), "a.pdf")]},
                              content_type="multipart/form-data")
        assert refused.status_code == 403
    # Nobody signed in
    assert client.post("/api/v1/people/amina/documents").status_code == 401
    assert api.document_rows() == 0 and api.blobs() == []


def test_a_worker_whose_membership_ended_is_refused(client, api, services, marie):
    amina = api.person("amina")
    make_follow(services, amina, marie.organisation_id)
    with services.transaction() as uow:
        membership = uow.session.scalars(select(Membership).where(Membership.account_id == marie.id)).one()
        membership.ended_at = services.now
    for username in ("amina", "nobody-at-all"):
        assert deposit(client, marie, username).status_code == 403
    assert api.document_rows() == 0


def test_bad_input_gets_a_clear_answer_and_changes_nothing(client, api, services, marie, document_for_openapi):
    amina = api.person("amina")
    make_follow(services, amina, marie.organisation_id)
    cases = [
        deposit(client, marie, "amina", kind="grimoire"),
        deposit(client, marie, "amina", files=[(samples.exe_bytes(), "a.jpg")]),
        client.post("/api/v1/people/amina/documents", data={"kind": "autre"}, headers=auth(marie),
                    content_type="multipart/form-data"),
        client.post("/api/v1/people/amina/documents", json={"kind": "autre"}, headers=auth(marie)),
    ]
    assert [response.status_code for response in cases] == [422, 415, 422, 415]
    for response in cases:
        assert_documented(document_for_openapi, "POST", "/people/{username}/documents", response)
    assert api.document_rows() == 0 and api.blobs() == []
    with services.session_factory() as session:
        assert session.scalars(select(Event).where(Event.action == "document.deposited")).all() == []


def test_the_answer_matches_the_document(client, api, services, marie, document_for_openapi):
    amina = api.person("amina")
    make_follow(services, amina, marie.organisation_id)
    response = deposit(client, marie, "AMINA")
    assert response.status_code == 201
    assert_documented(document_for_openapi, "POST", "/people/{username}/documents", response)
    with services.session_factory() as session:
        assert session.get(Document, response.get_json()["id"]).deposited_by_id == marie.id


@pytest.fixture
def document_for_openapi(client):
    return client.get("/api/v1/openapi.json").get_json()


def test_parallel_deposits_and_uploads_share_the_persons_quota_and_never_pass_it(settings, clock, services,
                                                                                marie):
    # The person's own uploads and a worker's deposits race for the same quota: one lock, one check
    app = create_app(settings, clock=clock)
    served = app.extensions["consigne"]
    body, content_type = upload_body([(samples.noisy_png(side=150), "photo.png")])
    with serving(app) as base_url:
        calibration = person_token(base_url, "calibre")
        assert upload(base_url, calibration, body, content_type).status == 201
        with served.session_factory() as session:
            [one_paper] = session.scalars(select(Document.stored_size)).all()
        quota = 3 * one_paper + one_paper // 2
        served.settings = replace(settings, limits=replace(settings.limits, quota_bytes=quota))
        token = person_token(base_url, "amina")
        with services.session_factory() as session:
            amina_id = session.scalar(select(Account.id).where(Account.username == "amina"))
        make_follow(services, SimpleNamespace(id=amina_id), marie.organisation_id)

        answers = []
        ready = threading.Barrier(8)

        def send(deposit_it: bool):
            ready.wait(30)
            if deposit_it:
                answers.append(request(base_url, "POST", "/api/v1/people/amina/documents", body=body,
                                       headers={"Authorization": f"Bearer {marie.token}",
                                                "Content-Type": content_type, "Accept-Language": "en"}))
            else:
                answers.append(upload(base_url, token, body, content_type))

        threads = [threading.Thread(target=send, args=(number % 2 == 0,)) for number in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)

    statuses = sorted((answer.status, answer.code) for answer in answers)
    assert statuses == [(201, None)] * 3 + [(413, "quota_exceeded")] * 5, statuses
    with served.session_factory() as session:
        kept = session.scalars(select(Document.stored_size).where(Document.owner_id == amina_id)).all()
        names = {name for row in session.execute(select(Document.blob_name, Document.thumbnail_blob_name))
                 for name in row}
    assert len(kept) == 3 and sum(kept) <= quota
    assert set(served.store.list("")) == names  # no blob of a refused one stayed behind
