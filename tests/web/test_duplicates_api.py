"""The duplicates API: the person's own copy, the register, deletion requests, the public verification."""

from __future__ import annotations

import base64
import io

import pytest
import zxingcpp

from crypto.signing import VerifyKey
from tests.factories import build_services, make_staff
from tests.vault.duplicate_papers import render_pages, text_pdf
from tests.vault.test_duplicates_service import make_share, worker_copy
from tests.factories import PersonMade
from vault.duplicates.statement import verify_statement

pytestmark = pytest.mark.usefixtures("database_url")


@pytest.fixture
def amina(api):
    return api.person("amina")


@pytest.fixture
def paper(api, amina):
    response = api.upload(amina, [(text_pdf(2), "avis.pdf")], kind="avis_imposition")
    assert response.status_code == 201
    return response.get_json()["id"]


def make_copy(client, person, document_id, **body):
    return client.post(f"/api/v1/documents/{document_id}/duplicates", json=body or {"purpose": "housing"},
                       headers=person.auth)


def check(client, ref, data, **headers):
    return client.post(f"/api/v1/duplicates/{ref}/check", data={"file": (io.BytesIO(data), "copie.pdf")},
                       content_type="multipart/form-data", headers=headers)


def test_my_own_copy_is_verifiable_by_anyone(client, api, amina, paper):
    blobs = api.blobs()
    response = make_copy(client, amina, paper)
    assert api.blobs() == blobs  # the copy is never stored: only its digest is kept
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    ref = response.headers["Consigne-Duplicate"]
    assert ref in response.headers["Content-Disposition"]
    pdf = response.data
    register = client.get("/api/v1/duplicates", headers=amina.auth).get_json()["items"]
    assert [(item["ref"], item["status"], item["holder_name"], item["purpose"]) for item in register] == [
        (ref, "own_copy", None, "housing")]
    public = client.get(f"/api/v1/duplicates/{ref}")
    assert public.status_code == 200
    assert public.get_json() | {"issued_at": None} == {"ref": ref, "issued_at": None, "organisation": None,
                                                       "purpose": "housing", "purpose_text": None,
                                                       "kind": "avis_imposition", "status": "own_copy"}
    assert b"amina" not in public.data and paper.encode() not in public.data
    assert check(client, ref, pdf).get_json() == {"matches": True}
    altered = bytearray(pdf)
    altered[-100] ^= 0x20
    assert check(client, ref, bytes(altered)).get_json() == {"matches": False}
    # The QR code's statement verifies with a key published by GET /signing-keys.
    keys = client.get("/api/v1/signing-keys").get_json()["keys"]
    assert keys and all(key["algorithm"] == "Ed25519" for key in keys)
    published = [VerifyKey(base64.b64decode(key["public_key"])) for key in keys]
    assert [key.key_id for key in published] == [key["id"] for key in keys]
    for page in render_pages(pdf):
        (text,) = [code.text for code in zxingcpp.read_barcodes(page) if "/verify/" in code.text]
        assert verify_statement(text.split("#", 1)[1], published).ref == ref


def test_refusals(client, api, amina, paper):
    bruno = api.person("bruno")
    assert make_copy(client, bruno, paper).status_code == 404
    assert client.post(f"/api/v1/documents/{paper}/duplicates", json={"purpose": "housing"}).status_code == 401
    assert make_copy(client, amina, paper, purpose="treasure").status_code == 422
    assert make_copy(client, amina, paper, purpose="other").status_code == 422  # "other" needs words
    assert make_copy(client, amina, paper, purpose="other", purpose_text="Pour mon employeur").status_code == 200
    assert make_copy(client, amina, "not-an-id").status_code == 404
    ref = make_copy(client, amina, paper).headers["Consigne-Duplicate"]
    assert client.get("/api/v1/duplicates", headers=bruno.auth).get_json() == {"items": []}
    # Nobody asks themselves to delete their own copy; a stranger cannot even tell it exists.
    assert client.post(f"/api/v1/duplicates/{ref}/deletion-request", headers=amina.auth).status_code == 403
    assert client.post(f"/api/v1/duplicates/{ref}/deletion-request", headers=bruno.auth).status_code == 404
    assert client.post("/api/v1/duplicates/0000-0000-0000-0000/deletion-request",
                       headers=bruno.auth).status_code == 404
    assert client.get("/api/v1/duplicates/0000-0000-0000-0000").status_code == 404
    assert check(client, "0000-0000-0000-0000", b"%PDF").status_code == 404


def test_look_ups_are_rate_limited_per_address(client, amina, paper):
    ref = make_copy(client, amina, paper).headers["Consigne-Duplicate"]
    answers = [client.get(f"/api/v1/duplicates/{ref}").status_code for _ in range(41)]
    assert answers[:40] == [200] * 40 and answers[40] == 429
    refused = client.get(f"/api/v1/duplicates/{ref}")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert refused.get_json()["code"] == "too_many_lookups"
    assert client.get(f"/api/v1/duplicates/{ref}", environ_base={"REMOTE_ADDR": "198.51.100.9"}).status_code == 200


def test_a_worker_answers_the_persons_deletion_request(app, client, settings, clock, amina, paper):
    services = build_services(settings, clock)
    try:
        worker = make_staff(services, "marie", organisation="Accueil de jour Les Lilas")
        person = PersonMade(id=amina.id, username="amina", password=amina.password, recovery_codes=[],
                            token=amina.token)
        issued = worker_copy(services, worker, paper, make_share(services, person, worker))
    finally:
        services.close()
    staff_auth = {"Authorization": f"Bearer {worker.token}"}
    assert client.get(f"/api/v1/duplicates/{issued.ref}").get_json()["organisation"] == "Accueil de jour Les Lilas"
    assert client.post(f"/api/v1/duplicates/{issued.ref}/deletion-answer", json={"answer": "deleted"},
                       headers=staff_auth).status_code == 409  # nothing asked yet
    asked = client.post(f"/api/v1/duplicates/{issued.ref}/deletion-request", headers=amina.auth)
    assert asked.status_code == 201 and asked.get_json()["deletion_requested_at"]
    assert asked.get_json()["holder_name"] == "marie"
    assert client.post(f"/api/v1/duplicates/{issued.ref}/deletion-request", headers=amina.auth).status_code == 409
    assert client.post(f"/api/v1/duplicates/{issued.ref}/deletion-answer", json={"answer": "maybe"},
                       headers=staff_auth).status_code == 422
    assert client.post(f"/api/v1/duplicates/{issued.ref}/deletion-answer", json={"answer": "deleted"},
                       headers=amina.auth).status_code == 409
    answered = client.post(f"/api/v1/duplicates/{issued.ref}/deletion-answer", json={"answer": "deleted"},
                           headers=staff_auth)
    assert answered.status_code == 200 and answered.get_json()["deletion_answer"] == "deleted"
    received = client.get("/api/v1/duplicates", headers=staff_auth).get_json()["items"]
    assert [item["ref"] for item in received] == [issued.ref]
    mine = client.get("/api/v1/duplicates", headers=amina.auth).get_json()["items"]
    assert [(item["status"], item["deletion_answer"]) for item in mine] == [("share_active", "deleted")]
