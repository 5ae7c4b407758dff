"""The S3 store: authentication really checked, bounded waits on dead servers, buckets, s3:// URLs."""

from __future__ import annotations

import contextlib
import http.server
import io
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import pytest
from minio import Minio
from minio.error import S3Error

from storage import (
    BlobNotFound,
    InvalidStorageConfig,
    StorageError,
    StorageUnavailable,
    new_blob_name,
    open_blob_store,
)
from storage.s3 import MIN_PART_SIZE, S3BlobStore, parse_endpoint
from tests.servers.fixtures import make_s3_store, random_bucket_name, raw_s3_client, remove_bucket
from tests.servers.postgres import free_port

WRONG_SECRET = "wrong-secret-4f1c9a"
URL_SECRET = "sekret-value-8d2e"
# Only a guard: a regression to minio's default pool would hang for minutes and hit it.
DEAD_SERVER_TEST_TIMEOUT = 30
SILENT_BACKLOG = 16
RACING_STORES = 4


def error_texts(error: BaseException) -> str:
    """The message of an exception and of every exception chained to it."""
    texts = []
    while error is not None:
        texts.append(f"{type(error).__name__}: {error}")
        error = error.__cause__ or error.__context__
    return "\n".join(texts)


@contextlib.contextmanager
def silent_server() -> Iterator[int]:
    """A port that accepts TCP connections (the kernel does) but never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(SILENT_BACKLOG)
        yield listener.getsockname()[1]


class _AlwaysBusy(http.server.BaseHTTPRequestHandler):
    def _refuse(self) -> None:
        self.send_response(503)
        # An hour: a client that obeyed this header would hang the test until its timeout.
        self.send_header("Retry-After", "3600")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _refuse

    def log_message(self, format, *args) -> None:
        return None


@contextlib.contextmanager
def busy_server() -> Iterator[int]:
    """An HTTP server on 127.0.0.1 that answers every request with 503 and ``Retry-After: 3600``."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _AlwaysBusy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_wrong_secret_is_refused_by_swift(swift_s3):
    with pytest.raises(StorageUnavailable) as caught:
        S3BlobStore(swift_s3.endpoint, swift_s3.access_key, WRONG_SECRET, random_bucket_name(),
                    region=swift_s3.region)

    assert WRONG_SECRET not in error_texts(caught.value)


def test_a_wrong_secret_cannot_read_a_bucket_that_exists(swift_s3):
    bucket = random_bucket_name()
    host, secure = parse_endpoint(swift_s3.endpoint)
    good = make_s3_store(swift_s3, bucket)
    name = new_blob_name()
    good.put(name, io.BytesIO(b"ciphertext"))
    try:
        with pytest.raises(StorageUnavailable) as caught:
            S3BlobStore(swift_s3.endpoint, swift_s3.access_key, WRONG_SECRET, bucket, region=swift_s3.region)
        assert WRONG_SECRET not in error_texts(caught.value)
        # A request with a body shows why: the signature, not the bucket, is what Swift refused.
        forger = Minio(host, access_key=swift_s3.access_key, secret_key=WRONG_SECRET, secure=secure,
                       region=swift_s3.region)
        with pytest.raises(S3Error) as refused:
            forger.get_object(bucket, name)
        assert refused.value.code == "SignatureDoesNotMatch"
        assert good.read_range(name, 0, 4) == b"ciph"
    finally:
        good.close()
        remove_bucket(swift_s3, bucket)


@pytest.mark.timeout(DEAD_SERVER_TEST_TIMEOUT)
def test_an_endpoint_where_nothing_listens_is_unavailable():
    with pytest.raises(StorageUnavailable):
        S3BlobStore(f"http://127.0.0.1:{free_port()}", "access", "secret", "bucket")


@pytest.mark.timeout(DEAD_SERVER_TEST_TIMEOUT)
def test_a_server_that_never_answers_times_out():
    with silent_server() as port, pytest.raises(StorageUnavailable):
        S3BlobStore(f"http://127.0.0.1:{port}", "access", "secret", "bucket", read_timeout=0.5, retries=1)


@pytest.mark.timeout(DEAD_SERVER_TEST_TIMEOUT)
def test_a_busy_server_is_given_up_on_despite_retry_after():
    with busy_server() as port, pytest.raises(StorageUnavailable):
        S3BlobStore(f"http://127.0.0.1:{port}", "access", "secret", "bucket")


@pytest.mark.timeout(DEAD_SERVER_TEST_TIMEOUT)
def test_https_against_a_plain_http_server_is_unavailable(moto_s3):
    host, _secure = parse_endpoint(moto_s3.endpoint)

    with pytest.raises(StorageUnavailable):
        open_blob_store(f"s3://access:secret@{host}/{random_bucket_name()}")


def test_the_bucket_is_created_when_missing(s3_server):
    bucket = random_bucket_name()
    client = raw_s3_client(s3_server)
    assert not client.bucket_exists(bucket)

    store = make_s3_store(s3_server, bucket)
    try:
        assert client.bucket_exists(bucket)
        again = make_s3_store(s3_server, bucket)
        again.close()
    finally:
        store.close()
        remove_bucket(s3_server, bucket)


def test_stores_racing_to_create_the_same_bucket_all_succeed(s3_server):
    bucket = random_bucket_name()
    barrier = threading.Barrier(RACING_STORES)

    def make_store() -> S3BlobStore:
        barrier.wait(timeout=DEAD_SERVER_TEST_TIMEOUT)
        return make_s3_store(s3_server, bucket)

    try:
        with ThreadPoolExecutor(max_workers=RACING_STORES) as pool:
            stores = list(pool.map(lambda _index: make_store(), range(RACING_STORES)))
        assert raw_s3_client(s3_server).bucket_exists(bucket)
        for store in stores:
            store.close()
    finally:
        remove_bucket(s3_server, bucket)


def test_a_bucket_removed_under_the_store(moto_s3):
    bucket = random_bucket_name()
    store = make_s3_store(moto_s3, bucket)
    remove_bucket(moto_s3, bucket)

    with pytest.raises(BlobNotFound):
        store.head(new_blob_name())
    with pytest.raises(BlobNotFound):
        store.open(new_blob_name())
    store.delete(new_blob_name())
    with pytest.raises(StorageUnavailable):
        store.put(new_blob_name(), io.BytesIO(b"x"))
    with pytest.raises(StorageUnavailable):
        list(store.list())
    store.close()


def test_an_s3_url_reaches_swift_with_percent_decoded_credentials(swift_s3):
    host, _secure = parse_endpoint(swift_s3.endpoint)
    bucket = random_bucket_name()
    url = (f"s3://{quote(swift_s3.access_key, safe='')}:{quote(swift_s3.secret_key, safe='')}@{host}/{bucket}"
           f"?region={swift_s3.region}&secure=false")

    store = open_blob_store(url, part_size=6 * 1024 * 1024)
    try:
        assert isinstance(store, S3BlobStore)
        assert (store.endpoint, store.secure, store.bucket) == (host, False, bucket)
        assert store.region == "us-east-1"
        assert store.part_size == 6 * 1024 * 1024
        name = new_blob_name()
        store.put(name, io.BytesIO(b"through the URL"))
        assert store.read_range(name, 8, 3) == b"the"
        assert swift_s3.secret_key not in repr(store)
    finally:
        store.close()
        remove_bucket(swift_s3, bucket)


@pytest.mark.parametrize("url", [
    "s3://127.0.0.1:9000/bucket",
    "s3://access@127.0.0.1:9000/bucket",
    f"s3://access:{URL_SECRET}@127.0.0.1:9000/",
    f"s3://access:{URL_SECRET}@/bucket",
    f"s3://access:{URL_SECRET}@127.0.0.1:9000/bucket/sub",
    f"s3://access:{URL_SECRET}@127.0.0.1:9000/bucket?colour=blue",
    f"s3://access:{URL_SECRET}@127.0.0.1:9000/bucket?secure=maybe",
    f"s3://access:{URL_SECRET}@127.0.0.1:port/bucket",
    f"gs://access:{URL_SECRET}@storage.example.org/bucket",
], ids=["no-credentials", "no-secret", "no-bucket", "no-host", "bucket-with-path", "unknown-option",
        "bad-boolean", "bad-port", "unknown-scheme"])
def test_unusable_s3_urls_are_refused_without_echoing_secrets(url):
    with pytest.raises(InvalidStorageConfig) as caught:
        open_blob_store(url)

    assert URL_SECRET not in error_texts(caught.value)
    assert isinstance(caught.value, StorageError) and isinstance(caught.value, ValueError)


@pytest.mark.parametrize(("endpoint", "secure", "expected"), [
    ("http://127.0.0.1:9000", True, ("127.0.0.1:9000", False)),
    ("https://minio.example.org", False, ("minio.example.org", True)),
    ("https://minio.example.org:8443/", False, ("minio.example.org:8443", True)),
    ("minio.example.org:9000", False, ("minio.example.org:9000", False)),
    ("minio.example.org", True, ("minio.example.org", True)),
    ("http://[::1]:9000", True, ("[::1]:9000", False)),
])
def test_endpoints_are_parsed(endpoint, secure, expected):
    assert parse_endpoint(endpoint, secure) == expected


@pytest.mark.parametrize("endpoint", [
    f"http://access:{URL_SECRET}@minio.example.org", "ftp://minio.example.org", "http://minio.example.org/path",
    "http://minio.example.org?x=1", "minio.example.org/path", "", "http://:9000", "http://host:99999",
])
def test_unusable_endpoints_are_refused_without_echoing_secrets(endpoint):
    with pytest.raises(InvalidStorageConfig) as caught:
        parse_endpoint(endpoint)

    assert URL_SECRET not in error_texts(caught.value)


@pytest.mark.parametrize("part_size", [MIN_PART_SIZE - 1, 0])
def test_parts_smaller_than_s3_allows_are_refused(part_size):
    with pytest.raises(InvalidStorageConfig):
        S3BlobStore("127.0.0.1:9", "access", "secret", "bucket", part_size=part_size)


@pytest.mark.parametrize("bucket", ["Upper_Case", "ab", "bucket/with/slash", "a..b", "-dash", "x" * 64,
                                    "192.168.1.1"])
def test_invalid_bucket_names_are_refused_before_any_request(bucket):
    with pytest.raises(InvalidStorageConfig):
        S3BlobStore("127.0.0.1:9", "access", "secret", bucket)


def test_a_slash_in_the_secret_gets_a_hint_not_a_traceback():
    # A generated MinIO password with "/" pasted as it is: the error says how to write it, and never echoes it.
    with pytest.raises(InvalidStorageConfig, match="%2F") as caught:
        open_blob_store("s3://consigne:Xy7/sEcReT+q@minio:9000/consigne?secure=false")
    assert "sEcReT" not in error_texts(caught.value)
