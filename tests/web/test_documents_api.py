"""The documents endpoints: the contract, cleaning, and every bad input leaving nothing behind."""

from __future__ import annotations

import io
import uuid

import pikepdf
import pytest
from PIL import Image

from tests.vault import media_samples as samples

pytestmark = pytest.mark.usefixtures("database_url")


def test_upload_list_read_patch_delete(api, client):
    person = api.person()
    created = api.upload(person, [(samples.pdf_bytes(pages=2), "scan.pdf")], kind="attestation_caf",
                         title="Attestation CAF juin", expires_on="2027-06-30")
    assert created.status_code == 201, created.get_json()
    document = created.get_json()
    assert set(document) == {"id", "kind", "title", "pages", "content_type", "size", "created_at", "updated_at",
                             "expires_on", "expiry"}
    assert (document["kind"], document["title"], document["pages"], document["content_type"], document["expires_on"]) \
        == ("attestation_caf", "Attestation CAF juin", 2, "application/pdf", "2027-06-30")

    listed = client.get("/api/v1/documents", headers=person.auth).get_json()["items"]
    assert [item["id"] for item in listed] == [document["id"]]
    assert client.get(f"/api/v1/documents/{document['id']}", headers=person.auth).get_json() == document

    content = client.get(f"/api/v1/documents/{document['id']}/content", headers=person.auth)
    assert content.status_code == 200
    assert content.content_type == "application/pdf"
    assert len(pikepdf.open(io.BytesIO(content.data)).pages) == 2
    assert int(content.headers["Content-Length"]) == document["size"] == len(content.data)

    patched = client.patch(f"/api/v1/documents/{document['id']}", json={"title": "CAF", "expires_on": None},
                           headers=person.auth).get_json()
    assert (patched["title"], patched["expires_on"], patched["kind"]) == ("CAF", None, "attestation_caf")

    thumbnail = client.get(f"/api/v1/documents/{document['id']}/thumbnail", headers=person.auth)
    assert thumbnail.content_type == "image/jpeg"
    Image.open(io.BytesIO(thumbnail.data)).verify()

    assert client.delete(f"/api/v1/documents/{document['id']}", headers=person.auth).status_code == 204
    assert client.get(f"/api/v1/documents/{document['id']}", headers=person.auth).status_code == 404
    assert api.document_rows() == 0 and api.blobs() == []


def test_jpeg_comes_back_without_exif(api, client):
    person = api.person()
    created = api.upload(person, [(samples.jpeg_with_gps(), "IMG_2041.jpg")]).get_json()
    content = client.get(f"/api/v1/documents/{created['id']}/content", headers=person.auth)
    assert content.content_type == "image/jpeg"
    image = Image.open(io.BytesIO(content.data))
    assert not image.getexif()
    assert b"Exif" not in content.data


def test_two_sides_of_an_id_card_become_one_two_page_pdf(api, client):
    person = api.person()
    created = api.upload(person, [(samples.jpeg_with_gps(), "recto.jpg"), (samples.jpeg_with_gps(), "verso.jpg")])
    assert created.status_code == 201
    body = created.get_json()
    assert (body["content_type"], body["pages"]) == ("application/pdf", 2)
    content = client.get(f"/api/v1/documents/{body['id']}/content", headers=person.auth)
    assert len(pikepdf.open(io.BytesIO(content.data)).pages) == 2
    assert b"GPS" not in content.data and b"Exif" not in content.data


def test_viewing_and_downloading_show_in_the_activity(api, client):
    person = api.person()
    document = api.upload(person, [(samples.png_bytes(), "rib.png")], kind="rib").get_json()
    client.get(f"/api/v1/documents/{document['id']}/content?disposition=inline", headers=person.auth)
    client.get(f"/api/v1/documents/{document['id']}/content", headers=person.auth)
    items = client.get("/api/v1/activity", headers=person.auth | {"Accept-Language": "fr"}).get_json()["items"]
    actions = [item["action"] for item in items]
    assert actions[:3] == ["document.downloaded", "document.viewed", "document.uploaded"]
    assert items[0]["summary"] == "Papier téléchargé"
    assert items[0]["actor"] == person.username and items[0]["document"] == document["id"]
    assert "signin.succeeded" in actions and "account.created" in actions


def test_a_head_request_records_no_access(api, client):
    """HEAD asks what a GET would answer: nothing is sent, so nothing may be written in the activity."""
    person = api.person()
    document = api.upload(person, [(samples.png_bytes(), "rib.png")], kind="rib").get_json()
    before = client.get("/api/v1/activity", headers=person.auth).get_json()["items"]
    head = client.head(f"/api/v1/documents/{document['id']}/content", headers=person.auth)
    assert head.status_code == 200 and head.data == b""
    after = client.get("/api/v1/activity", headers=person.auth).get_json()["items"]
    assert [item["action"] for item in after] == [item["action"] for item in before]


BAD_UPLOADS = {
    "exe disguised as jpg": ([(samples.exe_bytes(), "photo.jpg")], {}, 415, "unsupported_file"),
    "text disguised as pdf": ([(b"just some text, not a PDF" * 10, "papier.pdf")], {}, 415, "unsupported_file"),
    "bomb image": ([(samples.png_bomb(), "bomb.png")], {}, 415, "unsupported_file"),
    "broken pdf": ([(samples.broken_pdf(), "broken.pdf")], {}, 415, "unsupported_file"),
    "encrypted pdf": ([(samples.encrypted_pdf(), "secret.pdf")], {}, 415, "unsupported_file"),
    "truncated jpeg": ([(samples.jpeg_with_gps()[:400], "cut.jpg")], {}, 415, "unsupported_file"),
    "empty file": ([(b"", "empty.jpg")], {}, 415, "unsupported_file"),
    "unknown kind": ([(samples.png_bytes(), "a.png")], {"kind": "carte_de_fidelite"}, 422, "unknown_document_kind"),
    "bad date": ([(samples.png_bytes(), "a.png")], {"expires_on": "31/12/2027"}, 422, "invalid_input"),
    "no file": ([], {}, 422, "invalid_input"),
    "title too long": ([(samples.png_bytes(), "a.png")], {"title": "x" * 500}, 422, "invalid_input"),
}


@pytest.mark.parametrize("name", sorted(BAD_UPLOADS))
def test_bad_uploads_get_a_clear_error_and_leave_nothing(api, name):
    files, fields, status, code = BAD_UPLOADS[name]
    person = api.person()
    response = api.upload(person, files, **fields)
    assert response.status_code == status, response.get_json()
    assert response.get_json()["code"] == code
    assert response.content_type == "application/problem+json"
    assert api.document_rows() == 0 and api.blobs() == []


def test_oversize_file_and_quota(api, app, settings):
    from dataclasses import replace

    services = app.extensions["consigne"]
    services.settings = replace(settings, limits=replace(settings.limits, max_file_bytes=100_000, quota_bytes=600_000))
    person = api.person()
    big = samples.noisy_png(side=400)
    assert len(big) > 100_000
    too_big = api.upload(person, [(big, "big.png")])
    assert too_big.status_code == 413 and too_big.get_json()["code"] == "file_too_large"
    small = samples.noisy_png(side=150)
    statuses = [api.upload(person, [(small, "p.png")]).status_code for _ in range(10)]
    assert statuses[0] == 201 and 413 in statuses
    full = statuses.index(413)
    assert api.document_rows() == full
    assert len(api.blobs()) == 2 * full  # content + thumbnail for each accepted paper, none for refused


def test_request_over_the_document_limit_is_refused_before_reading(api, client):
    person = api.person()
    huge = b"\xff\xd8\xff" + b"\0" * (51 * 1024 * 1024)
    response = client.post("/api/v1/documents", data={"kind": "autre", "file": (io.BytesIO(huge), "huge.jpg")},
                           headers=person.auth, content_type="multipart/form-data")
    assert response.status_code == 413
    assert api.document_rows() == 0 and api.blobs() == []


@pytest.mark.parametrize("document_id", ["not-an-id", str(uuid.uuid4()), "../../etc/passwd", "1 OR 1=1"])
def test_missing_or_malformed_ids_are_404(api, client, document_id):
    person = api.person()
    for method in ("get", "delete"):
        response = getattr(client, method)(f"/api/v1/documents/{document_id}", headers=person.auth)
        assert response.status_code == 404
    assert client.patch(f"/api/v1/documents/{document_id}", json={"title": "x"},
                        headers=person.auth).status_code == 404


def test_someone_elses_paper_is_not_found(api, client):
    owner = api.person("owner1")
    other = api.person("other1")
    document = api.upload(owner, [(samples.png_bytes(), "a.png")]).get_json()
    for path in ["", "/content", "/thumbnail"]:
        assert client.get(f"/api/v1/documents/{document['id']}{path}", headers=other.auth).status_code == 404
    assert client.delete(f"/api/v1/documents/{document['id']}", headers=other.auth).status_code == 404
    assert client.patch(f"/api/v1/documents/{document['id']}", json={"kind": "rib"},
                        headers=other.auth).status_code == 404
    assert client.get("/api/v1/documents", headers=other.auth).get_json() == {"items": [], "next_cursor": None}
    assert client.get(f"/api/v1/documents/{document['id']}", headers=owner.auth).status_code == 200


def test_bad_patches(api, client):
    person = api.person()
    document = api.upload(person, [(samples.png_bytes(), "a.png")]).get_json()
    url = f"/api/v1/documents/{document['id']}"
    assert client.patch(url, json={"kind": "nope"}, headers=person.auth).status_code == 422
    assert client.patch(url, json={"kind": None}, headers=person.auth).status_code == 422
    assert client.patch(url, json={"owner_id": "x"}, headers=person.auth).status_code == 422
    assert client.patch(url, json={"expires_on": "tomorrow"}, headers=person.auth).status_code == 422
    assert client.get(url, headers=person.auth).get_json() == document


def test_expired_or_revoked_tokens_cannot_upload(api, client, clock):
    person = api.person()
    clock.advance(hours=13)
    response = api.upload(person, [(samples.png_bytes(), "a.png")])
    assert response.status_code == 401
    assert api.document_rows() == 0 and api.blobs() == []


def test_uploads_are_never_spooled_to_temporary_files(api, client, monkeypatch):
    import tempfile

    created_files = []
    real_temporary_file = tempfile.TemporaryFile

    def recording_temporary_file(*args, **kwargs):
        created_files.append(args or kwargs)
        return real_temporary_file(*args, **kwargs)

    # Werkzeug's default spools form files over 500 KB through tempfile.TemporaryFile (unlinked at
    # once, so invisible in a folder listing): watch the call itself.
    monkeypatch.setattr(tempfile, "TemporaryFile", recording_temporary_file)
    person = api.person()
    big_photo = samples.noisy_png(side=700)
    assert len(big_photo) > 1024 * 1024
    created = api.upload(person, [(big_photo, "photo.png")])
    assert created.status_code == 201
    assert created_files == []


def test_decoding_waits_for_a_media_slot_then_answers_busy_with_retry_after(settings, clock, api):
    import threading
    from dataclasses import replace

    from web.app import create_app

    # Given an application whose one media slot is taken by a long decode, with a 1-second wait
    settings = replace(settings, capacity=replace(settings.capacity, media_slots=1, media_wait_seconds=1))
    app = create_app(settings, clock=clock)
    client = app.test_client()
    api.client, api.app = client, app
    person = api.person()
    gate = app.extensions["consigne"].gates.media
    started, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=lambda: gate.run(lambda: (started.set(), release.wait(60))))
    holder.start()
    try:
        assert started.wait(10)
        # When a paper is uploaded meanwhile
        busy = client.post("/api/v1/documents", headers=person.auth | {"Accept-Language": "en"},
                           data={"kind": "autre", "file": [(io.BytesIO(samples.jpeg_with_gps()), "a.jpg")]},
                           content_type="multipart/form-data")
    finally:
        release.set()
        holder.join(10)
    # Then it is told to come back, in words, with nothing stored
    assert busy.status_code == 503 and busy.get_json()["code"] == "uploads_busy"
    assert busy.headers["Retry-After"] == "1"
    assert busy.get_json()["title"].startswith("Many papers are being added right now.")
    assert api.document_rows() == 0 and api.blobs() == []
    # And once the slot is free, the same upload goes through
    assert api.upload(person, [(samples.jpeg_with_gps(), "a.jpg")]).status_code == 201


def test_a_picture_over_the_decoding_budget_is_refused_in_words_and_a_huge_jpeg_is_reduced(api, client):
    person = api.person()
    bomb = samples.png_bomb(6000, 6000)
    refused = client.post("/api/v1/documents", headers=person.auth | {"Accept-Language": "en"},
                          data={"kind": "autre", "file": [(io.BytesIO(bomb), "scan.png")]},
                          content_type="multipart/form-data")
    assert refused.status_code == 415
    body = refused.get_json()
    assert (body["code"], body["reason"], body["file_index"]) == ("unsupported_file", "image_too_large", 0)
    assert body["title"].startswith("This picture has too many pixels to be read here.")
    assert api.document_rows() == 0 and api.blobs() == []
    # A JPEG is reduced instead: the 821-byte one declaring 6300×6300 is kept at half size
    kept = api.upload(person, [(samples.hostile_jpeg(6300, 6300), "photo.jpg")])
    assert kept.status_code == 201
    content = client.get(f"/api/v1/documents/{kept.get_json()['id']}/content", headers=person.auth)
    assert Image.open(io.BytesIO(content.data)).size == (3150, 3150)
