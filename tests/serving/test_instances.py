"""Several instances side by side: two gunicorn processes on one PostgreSQL and one S3 server.

Nothing lives in a process that another needs: a session opened on one instance works on the other, a
paper stored through one is read through the other, signing out on one ends the session on both, and
the sign-in throttle counts guesses made on either (each instance even has its own data folder, so no
file is shared either). This is what lets an operator put N instances behind a load balancer.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator

import pytest

from ops.serving.loopback import running_gunicorn
from tests.serving.clients import address_of, json_request, multipart_upload, photo_of_size, sign_up_and_in
from tests.servers.fixtures import random_bucket_name, remove_bucket
from tests.servers.scratch_databases import scratch_database
from vault.db import make_engine, migrate
from vault.settings import generate_secrets


@pytest.fixture(scope="module")
def instances(tmp_path_factory, postgres_url, moto_s3) -> Iterator[tuple[str, str]]:
    folder = tmp_path_factory.mktemp("instances")
    bucket = random_bucket_name()
    host = moto_s3.endpoint.removeprefix("http://")
    with scratch_database(postgres_url) as database_url:
        engine = make_engine(database_url)
        migrate(engine)  # once, before the instances: `consigne migrate`
        engine.dispose()
        shared = {"CONSIGNE_DATABASE_URL": database_url, "CONSIGNE_KDF": "fast-insecure-for-tests",
                  "CONSIGNE_STORAGE_URL": f"s3://{moto_s3.access_key}:{moto_s3.secret_key}@{host}/{bucket}"
                                          "?secure=false",
                  **generate_secrets()}
        environments = []
        for name in ("one", "two"):
            data = folder / name
            data.mkdir(mode=0o700)
            environments.append({**shared, "CONSIGNE_DATA_DIR": str(data)})
        try:
            with running_gunicorn(environments[0], log_path=folder / "one.log") as first, \
                    running_gunicorn(environments[1], log_path=folder / "two.log") as second:
                yield first.url, second.url
        finally:
            remove_bucket(moto_s3, bucket)


def _upload(url: str, token: str, photo: bytes) -> dict:
    content_type, body = multipart_upload({"kind": "carte_identite"}, "photo.jpg", "image/jpeg", photo)
    connection = http.client.HTTPConnection(*address_of(url), timeout=60)
    try:
        connection.request("POST", "/api/v1/documents", body=body,
                           headers={"Authorization": f"Bearer {token}", "Content-Type": content_type})
        response = connection.getresponse()
        answer = json.loads(response.read())
        assert response.status == 201, answer
        return answer
    finally:
        connection.close()


def test_a_session_and_a_paper_made_on_one_instance_work_on_the_other(instances):
    one, two = instances
    token = sign_up_and_in(one, "deux.instances")
    status, me = json_request(two, "GET", "/api/v1/me", token=token)
    assert status == 200 and me["username"] == "deux.instances"
    paper = _upload(two, token, photo_of_size(200_000))
    status_one, from_one = json_request(one, "GET", f"/api/v1/documents/{paper['id']}/content", token=token)
    status_two, from_two = json_request(two, "GET", f"/api/v1/documents/{paper['id']}/content", token=token)
    assert status_one == status_two == 200
    assert from_one == from_two and len(from_one) > 100_000
    # Signing out on one instance ends the session on the other.
    assert json_request(two, "DELETE", "/api/v1/sessions/current", token=token)[0] == 204
    assert json_request(one, "GET", "/api/v1/me", token=token)[0] == 401


def test_the_sign_in_throttle_counts_guesses_made_on_either_instance(instances):
    one, two = instances
    sign_up_and_in(one, "devine.moi")
    statuses = [json_request(one if guess % 2 else two, "POST", "/api/v1/sessions",
                             {"username": "devine.moi", "password": f"mauvais-mot-{guess}"})[0]
                for guess in range(6)]
    # Five free guesses per account (vault/throttle.py), spread over both instances; the sixth waits.
    assert statuses == [401] * 5 + [429]
    status, problem = json_request(one, "POST", "/api/v1/sessions",
                                   {"username": "devine.moi", "password": "banc-essai-mesure-77"})
    assert status == 429 and problem["retry_after_seconds"] > 0
