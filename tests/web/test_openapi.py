"""The OpenAPI document is exact: valid, satisfiable, and every answer the API gives is documented.

Partners generate clients from this document. The failures found before: the upload's form could not
be satisfied (an ``allOf`` whose first part forbade the ``file`` part), statuses the API answers were
missing (403 on POST /people, 422 on malformed shapes, 413, 415, 429, 503), problem fields such as
``errors`` were not described, and the kinds of papers were a bare string.
"""

from __future__ import annotations

import jsonschema
import pytest
from openapi_spec_validator import validate

from tests.servers.moto_server import running_moto
from tests.vault import media_samples as samples
from tests.web.conftest import PASSWORD, Api
from vault.documents import DOCUMENT_KINDS
from web.api.openapi import PROBLEM_DETAILS, documented_statuses
from web.api.registry import API_PREFIX, JSON_BODY_LIMIT, ROUTES
from web.errors import PUBLIC_DETAILS

pytestmark = pytest.mark.usefixtures("database_url")
ENGLISH = {"Accept-Language": "en"}


@pytest.fixture
def document(client):
    return client.get("/api/v1/openapi.json").get_json()


def schema_validator(document: dict, schema: dict) -> jsonschema.Draft202012Validator:
    """A validator for ``schema`` whose ``#/components/...`` references resolve in ``document``."""
    return jsonschema.Draft202012Validator({**schema, "components": document["components"]},
                                           format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def assert_documented(document: dict, method: str, path: str, response) -> None:
    """The answer's status, media type, headers and body are what the document says for this operation."""
    operation = document["paths"][API_PREFIX + path][method.lower()]
    status = str(response.status_code)
    assert status in operation["responses"], f"{method} {path} answered an undocumented {status}"
    documented = operation["responses"][status]
    for name, header in documented.get("headers", {}).items():
        if header.get("required"):
            assert name in response.headers, f"{method} {path} {status} lacks the {name} header"
    if "content" not in documented:
        assert response.data == b""
        return
    assert response.mimetype in documented["content"], f"{method} {path} {status} sent {response.mimetype}"
    schema = documented["content"][response.mimetype]["schema"]
    if response.mimetype.endswith("json"):
        errors = [error.message for error in schema_validator(document, schema).iter_errors(response.get_json())]
        assert not errors, f"{method} {path} {status}: {errors}"


def test_the_document_is_valid_openapi_3_1(document):
    validate(document)
    assert document["openapi"] == "3.1.0"


def upload_schema(document: dict) -> dict:
    body = document["paths"]["/api/v1/documents"]["post"]["requestBody"]["content"]["multipart/form-data"]
    return body["schema"]


def test_the_upload_form_can_be_satisfied(document):
    # What a client really sends: the fields and one or more files (as strings in the JSON view).
    validator = schema_validator(document, upload_schema(document))
    validator.validate({"kind": "passeport", "file": ["<page 1>", "<page 2>"]})
    validator.validate({"kind": "autre", "title": "RSA", "expires_on": "2027-01-31", "file": ["<page>"]})
    for refused in ({"kind": "passeport"}, {"file": ["<page>"]}, {"kind": "grimoire", "file": ["<page>"]},
                    {"kind": "autre", "file": []}, {"kind": "autre", "file": ["<page>"], "owner": "x"}):
        assert not validator.is_valid(refused), refused


def test_kinds_of_papers_are_an_enum_everywhere(document):
    schemas = document["components"]["schemas"]
    kind_schemas = [
        upload_schema(document)["properties"]["kind"],
        schemas["DocumentOut"]["properties"]["kind"],
        schemas["DocumentKindLabel"]["properties"]["kind"],
        *[branch for branch in schemas["DocumentPatch"]["properties"]["kind"]["anyOf"] if "enum" in branch],
        schemas["Problem"]["properties"]["kinds"]["items"],
    ]
    assert len(kind_schemas) == 5
    for schema in kind_schemas:
        assert schema["enum"] == list(DOCUMENT_KINDS)


def test_every_public_problem_detail_is_described():
    # A detail added to web/errors.py without a schema here would reach clients undocumented.
    assert set(PUBLIC_DETAILS) <= set(PROBLEM_DETAILS)


def test_statuses_are_derived_from_each_routes_shape():
    for route in ROUTES:
        statuses = documented_statuses(route)
        if route.auth != "none":
            assert 401 in statuses, route.path
        if route.body or route.multipart:
            assert {400, 413, 415, 422} <= statuses, route.path
        if route.body and "password" in route.body.model_fields:
            assert 429 in statuses, route.path  # Argon2id behind the bounded queue
    by_operation = {(route.method, route.path): documented_statuses(route) for route in ROUTES}
    assert {403, 409, 422, 429} <= by_operation[("POST", "/people")]
    assert {401, 429} <= by_operation[("POST", "/sessions")]
    assert {403, 413, 415, 422, 503} <= by_operation[("POST", "/documents")]
    assert 503 in by_operation[("GET", "/documents/{document_id}/content")]


def test_problems_as_sent_match_the_document(client, api, app, document):
    person = api.person("amina")
    calls = [
        ("POST", "/people", client.post("/api/v1/people", json={"username": "x", "password": PASSWORD},
                                        headers={**person.auth, **ENGLISH}), 403),
        ("POST", "/people", client.post("/api/v1/people", json={"username": "amina", "password": PASSWORD}), 409),
        ("POST", "/people", client.post("/api/v1/people", json={"username": 7, "password": [PASSWORD]}), 422),
        ("POST", "/people", client.post("/api/v1/people", json={"password": "x" * JSON_BODY_LIMIT}), 413),
        ("POST", "/people", client.post("/api/v1/people", data="{}", content_type="text/plain"), 415),
        ("POST", "/people", client.post("/api/v1/people", data="[" * 990, content_type="application/json"), 400),
        ("POST", "/people", client.post("/api/v1/people", json={"password": PASSWORD},
                                        headers={"Authorization": "Bearer cs1.stale"}), 401),
        ("POST", "/sessions", client.post("/api/v1/sessions", json={"username": "amina", "password": "wrong-one"}),
         401),
        ("GET", "/me", client.get("/api/v1/me"), 401),
        ("GET", "/documents/{document_id}", client.get("/api/v1/documents/nope", headers=person.auth), 404),
        ("GET", "/documents/{document_id}/content",
         client.get("/api/v1/documents/nope/content?disposition=sideways", headers=person.auth), 422),
        ("POST", "/documents", api.upload(person, [(samples.exe_bytes(), "a.jpg")]), 415),
        ("POST", "/documents", api.upload(person, [(samples.png_bytes(), "a.png")], kind="grimoire"), 422),
        ("POST", "/documents", client.post("/api/v1/documents", json={"kind": "autre"}, headers=person.auth), 415),
        ("PATCH", "/documents/{document_id}", client.patch("/api/v1/documents/nope", json={"kind": None},
                                                           headers=person.auth), 422),
        ("PATCH", "/documents/{document_id}", client.patch("/api/v1/documents/nope", json={"title": "x"},
                                                           headers=person.auth), 404),
        ("POST", "/me/recovery-sheet", client.post("/api/v1/me/recovery-sheet", headers=person.auth,
                                                   json={"recovery_codes": ["not-mine"]}), 422),
    ]
    for method, path, response, expected in calls:
        assert response.status_code == expected, (method, path, response.get_json())
        assert_documented(document, method, path, response)
    assert calls[2][2].get_json()["errors"]  # the validation problem names its fields


def test_too_many_sign_in_failures_answer_a_documented_429(client, api, document):
    person = api.enrol("karim")
    for _ in range(50):  # bounded: the budget per account is far smaller
        response = client.post("/api/v1/sessions", json={"username": person.username, "password": "not-it-at-all"})
        if response.status_code == 429:
            break
        assert_documented(document, "POST", "/sessions", response)
    assert response.status_code == 429
    assert_documented(document, "POST", "/sessions", response)
    assert int(response.headers["Retry-After"]) == response.get_json()["retry_after_seconds"]


def test_a_storage_outage_answers_a_documented_503(settings, clock, document):
    from storage.s3 import S3BlobStore
    from web.app import create_app

    with running_moto() as endpoint:
        store = S3BlobStore(endpoint.endpoint, endpoint.access_key, endpoint.secret_key, "openapi-503",
                            region=endpoint.region, connect_timeout=1.0, read_timeout=2.0, retries=0)
        app = create_app(settings, clock=clock, store=store)
        api = Api(app.test_client(), app)
        person = api.person("farid")
        kept = api.upload(person, [(samples.png_bytes(), "a.png")]).get_json()
    upload = api.upload(person, [(samples.png_bytes(), "b.png")])
    content = api.client.get(f"/api/v1/documents/{kept['id']}/content", headers=person.auth)
    assert (upload.status_code, content.status_code) == (503, 503)
    assert_documented(document, "POST", "/documents", upload)
    assert_documented(document, "GET", "/documents/{document_id}/content", content)


def test_successes_match_the_document(client, api, document):
    person = api.person("amina")
    created = api.upload(person, [(samples.pdf_bytes(pages=2), "a.pdf")], kind="acte_naissance", title="Acte")
    assert_documented(document, "POST", "/documents", created)
    paper = created.get_json()["id"]
    for method, path, response in [
        ("GET", "/documents", client.get("/api/v1/documents", headers=person.auth)),
        ("GET", "/documents/{document_id}", client.get(f"/api/v1/documents/{paper}", headers=person.auth)),
        ("GET", "/documents/{document_id}/content",
         client.get(f"/api/v1/documents/{paper}/content?disposition=inline", headers=person.auth)),
        ("GET", "/documents/{document_id}/thumbnail",
         client.get(f"/api/v1/documents/{paper}/thumbnail", headers=person.auth)),
        ("PATCH", "/documents/{document_id}", client.patch(f"/api/v1/documents/{paper}", headers=person.auth,
                                                           json={"kind": "passeport", "expires_on": None})),
        ("GET", "/document-kinds", client.get("/api/v1/document-kinds")),
        ("GET", "/activity", client.get("/api/v1/activity", headers=person.auth)),
        ("GET", "/me", client.get("/api/v1/me", headers=person.auth)),
        ("GET", "/people/suggestions", client.get("/api/v1/people/suggestions")),
        ("POST", "/me/recovery-sheet", client.post("/api/v1/me/recovery-sheet", headers=person.auth,
                                                   json={"recovery_codes": person.recovery_codes[:2]})),
        ("DELETE", "/documents/{document_id}", client.delete(f"/api/v1/documents/{paper}", headers=person.auth)),
        ("DELETE", "/sessions/current", client.delete("/api/v1/sessions/current", headers=person.auth)),
    ]:
        assert response.status_code < 300, (method, path, response.status_code)
        assert_documented(document, method, path, response)


def test_a_method_the_path_does_not_have_is_a_405_naming_the_allowed_ones(client):
    response = client.put("/api/v1/people", json={})
    assert response.status_code == 405
    assert response.content_type == "application/problem+json"
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"POST"}


def test_a_busy_upload_says_when_to_come_back(app):
    # When the decoding gate stays full for the whole wait (vault/capacity.py): 503 with Retry-After.
    from vault.errors import UploadsBusy
    from web.errors import vault_error

    with app.test_request_context("/api/v1/documents", method="POST", headers=ENGLISH):
        response = vault_error(UploadsBusy(retry_after_seconds=7))
    assert response.status_code == 503 and response.headers["Retry-After"] == "7"
    assert response.get_json()["retry_after_seconds"] == 7


@pytest.mark.parametrize("body", [{"expires_on": 0}, {"expires_on": -2.2e-311}, {"expires_on": "1700000000"},
                                  {"expires_on": "2027-01-31T00:00:00"}, {"title": 5}, {"kind": ["autre"]}])
def test_what_the_document_refuses_the_api_refuses(client, api, body):
    # Found by fuzzing: lax parsing took the number 0 (or a tiny float) for the date 1970-01-01.
    person = api.person("amina")
    paper = api.upload(person, [(samples.png_bytes(), "a.png")]).get_json()
    response = client.patch(f"/api/v1/documents/{paper['id']}", json=body, headers=person.auth)
    assert response.status_code == 422, response.get_json()
    assert client.get(f"/api/v1/documents/{paper['id']}", headers=person.auth).get_json() == paper


@pytest.mark.parametrize("expires_on", ["0", "1700000000", "2027-1-31", "31/01/2027"])
def test_a_form_date_is_written_year_month_day(api, expires_on):
    person = api.person("amina")
    response = api.upload(person, [(samples.png_bytes(), "a.png")], expires_on=expires_on)
    assert response.status_code == 422
    assert response.get_json()["errors"] == [{"field": "expires_on", "problem": "value_error"}]
    assert api.document_rows() == 0


def test_booleans_are_booleans(client):
    response = client.post("/api/v1/people", json={"password": PASSWORD, "follow_organisation": 1})
    assert response.status_code == 422
    assert response.get_json()["errors"] == [{"field": "follow_organisation", "problem": "bool_type"}]
