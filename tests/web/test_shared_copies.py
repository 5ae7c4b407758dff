"""The worker's copy through a share, end to end over the API: the copy is marked and verifiable, the
person reads it in their activity and their copies register, and once the share ends the worker gets
nothing more (the same "not found" as for a paper that never existed)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest

from tests.factories import make_document, pdf_file
from tests.web.test_shares_api import MISSING, World, problem

pytestmark = pytest.mark.usefixtures("database_url")


@pytest.fixture
def world(settings, clock):
    built = World(settings, clock)
    yield built
    built.services.close()


def test_the_worker_opens_a_marked_copy_and_the_person_sees_it(client, world):
    # Given a paper shared with the worker for a CAF file
    share = client.post("/api/v1/shares", headers=world.headers("owner"), json={
        "grantee": "marie", "documents": [world.card.id], "purpose": "caf_rsa",
        "expires_at": (world.clock() + timedelta(days=7)).isoformat()}).get_json()
    path = f"/api/v1/shares/{share['id']}/documents/{world.card.id}/content"
    # When the worker opens it, then downloads it
    viewed = client.get(path + "?disposition=inline", headers=world.headers("grantee"))
    downloaded = client.get(path, headers=world.headers("grantee"))
    # Then each is a distinct marked copy, verifiable by anyone from its reference
    assert viewed.status_code == downloaded.status_code == 200
    assert viewed.headers["Content-Disposition"].startswith("inline")
    assert downloaded.headers["Content-Disposition"].startswith("attachment")
    references = [viewed.headers["Consigne-Duplicate"], downloaded.headers["Consigne-Duplicate"]]
    assert references[0] != references[1]
    public = client.get(f"/api/v1/duplicates/{references[1]}").get_json()
    assert public["organisation"] == "Les Lilas" and public["purpose"] == "caf_rsa"
    assert public["status"] == "share_active" and public["kind"] == "carte_identite"
    checked = client.post(f"/api/v1/duplicates/{references[1]}/check",
                          data={"file": (io.BytesIO(downloaded.data), "copie.pdf")}, content_type="multipart/form-data")
    assert checked.get_json() == {"matches": True}
    # And the person reads both in their activity, naming the worker and the organisation, and in their register
    activity = client.get("/api/v1/activity", headers={**world.headers("owner"), "Accept-Language": "en"}).get_json()
    sentences = " ".join(item.get("sentence", "") or item.get("text", "") for item in activity["items"])
    assert "marie" in sentences.lower() and "Les Lilas" in sentences, sentences
    register = client.get("/api/v1/duplicates", headers=world.headers("owner")).get_json()["items"]
    assert sorted(item["ref"] for item in register) == sorted(references)
    assert {item["status"] for item in register} == {"share_active"}
    # When the person ends the share, the worker is refused, exactly as for a share that never existed
    assert client.delete(f"/api/v1/shares/{share['id']}", headers=world.headers("owner")).status_code == 204
    refused = client.get(path, headers=world.headers("grantee"))
    assert refused.status_code == 404
    assert problem(refused) == problem(client.get(f"/api/v1/shares/{MISSING}/documents/{world.card.id}/content",
                                                  headers=world.headers("grantee")))
    assert client.get(f"/api/v1/duplicates/{references[1]}").get_json()["status"] == "share_ended"


def test_a_paper_outside_the_share_is_not_found(client, world):
    other = make_document(world.services, world.people["owner"], files=[pdf_file("Autre")])
    share = client.post("/api/v1/shares", headers=world.headers("owner"), json={
        "grantee": "marie", "documents": [world.card.id], "purpose": "caf_rsa",
        "expires_at": (world.clock() + timedelta(days=1)).isoformat()}).get_json()
    response = client.get(f"/api/v1/shares/{share['id']}/documents/{other.id}/content",
                          headers=world.headers("grantee"))
    assert response.status_code == 404
