"""When the S3 server goes away, requests fail clearly (503) and leave no row behind."""

from __future__ import annotations

import pytest

from storage.s3 import S3BlobStore
from tests.servers.moto_server import running_moto
from tests.vault import media_samples as samples
from tests.web.conftest import Api
from web.app import create_app

pytestmark = pytest.mark.usefixtures("database_url")


def test_upload_and_read_while_s3_is_down(settings, clock):
    with running_moto() as endpoint:
        store = S3BlobStore(endpoint.endpoint, endpoint.access_key, endpoint.secret_key, "fault-test",
                            region=endpoint.region, connect_timeout=1.0, read_timeout=2.0, retries=0)
        app = create_app(settings, clock=clock, store=store)
        api = Api(app.test_client(), app)
        person = api.person("farid")
        kept = api.upload(person, [(samples.png_bytes(), "a.png")]).get_json()
    # The server is gone now.
    failed = api.upload(person, [(samples.png_bytes(), "b.png")])
    assert failed.status_code == 503
    assert failed.get_json()["code"] == "storage_failed"
    assert api.document_rows() == 1  # only the paper stored before the outage
    content = api.client.get(f"/api/v1/documents/{kept['id']}/content", headers=person.auth)
    assert content.status_code == 503
    listed = api.client.get("/api/v1/documents", headers=person.auth)
    assert listed.status_code == 200 and len(listed.get_json()["items"]) == 1  # metadata still readable
