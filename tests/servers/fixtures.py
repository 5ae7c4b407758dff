"""Session-scoped fixtures that start real S3 servers (moto in-process, OpenStack Swift) on 127.0.0.1.

- ``moto_s3`` / ``swift_s3``: one server per test session, as an ``S3Endpoint`` (endpoint URL, keys, region).
- ``s3_server``: the same two, parametrised (ids ``s3-moto`` and ``s3-swift``).
- ``blob_store``: a fresh, empty ``BlobStore`` per test, parametrised over ``local`` (a ``tmp_path``),
  ``s3-moto`` and ``s3-swift`` (a new bucket with a random name, emptied and removed afterwards). S3 stores
  use the smallest part size (5 MiB) so that tests reach multipart uploads with little data.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator

import pytest
from minio import Minio
from minio.error import MinioException

from storage.local import LocalBlobStore
from storage.s3 import S3BlobStore, parse_endpoint
from tests.servers.moto_server import running_moto
from tests.servers.s3_endpoint import S3Endpoint
from tests.servers.swift_server import running_swift

S3_LANES = ("s3-moto", "s3-swift")
STORE_LANES = ("local", *S3_LANES)
ENDPOINT_FIXTURES = {"s3-moto": "moto_s3", "s3-swift": "swift_s3"}
TEST_PART_SIZE = 5 * 1024 * 1024


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[S3Endpoint]:
    """An in-process moto S3 server (any credentials are accepted)."""
    with running_moto() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def swift_s3() -> Iterator[S3Endpoint]:
    """A one-node OpenStack Swift with s3api (checks signatures); skips, or fails in CI, if not installed."""
    with running_swift() as endpoint:
        yield endpoint


@pytest.fixture(params=[pytest.param(lane, id=lane, marks=pytest.mark.lane(lane)) for lane in S3_LANES])
def s3_server(request) -> S3Endpoint:
    """Each S3 server in turn."""
    return request.getfixturevalue(ENDPOINT_FIXTURES[request.param])


@pytest.fixture(params=[pytest.param(lane, id=lane, marks=pytest.mark.lane(lane)) for lane in STORE_LANES])
def blob_store(request, tmp_path):
    """A fresh, empty blob store of each kind."""
    if request.param == "local":
        yield LocalBlobStore(tmp_path / "blobs")
        return
    endpoint = request.getfixturevalue(ENDPOINT_FIXTURES[request.param])
    bucket = random_bucket_name()
    store = make_s3_store(endpoint, bucket)
    yield store
    store.close()
    remove_bucket(endpoint, bucket)


def random_bucket_name() -> str:
    """A bucket name no other test uses (lower-case, valid for every S3 server)."""
    return f"consigne-test-{secrets.token_hex(6)}"


def make_s3_store(endpoint: S3Endpoint, bucket: str, **options):
    """An ``S3BlobStore`` on ``endpoint`` with the test part size (options override)."""
    settings = {"region": endpoint.region, "part_size": TEST_PART_SIZE, **options}
    return S3BlobStore(endpoint.endpoint, endpoint.access_key, endpoint.secret_key, bucket, **settings)


def raw_s3_client(endpoint: S3Endpoint):
    """A plain minio client, for tests that look at the server without going through our store."""
    host, secure = parse_endpoint(endpoint.endpoint)
    return Minio(host, access_key=endpoint.access_key, secret_key=endpoint.secret_key, secure=secure,
                 region=endpoint.region)


def remove_bucket(endpoint: S3Endpoint, bucket: str) -> None:
    """Empty and remove a test bucket, best effort (moto keeps every object in memory until then)."""
    client = raw_s3_client(endpoint)
    with contextlib.suppress(MinioException, OSError):
        for item in client.list_objects(bucket, recursive=True):
            client.remove_object(bucket, item.object_name)
        client.remove_bucket(bucket)
