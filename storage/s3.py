"""A blob store on an S3-compatible server (MinIO, OpenStack Swift s3api, AWS) through the ``minio`` client.

Only ciphertext reaches the server. Credentials stay in the minio client: no message, ``repr`` or
exception raised from here contains them, and S3 errors are reduced to their code before being re-raised
as ``storage.errors`` exceptions.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from collections.abc import Iterator
from typing import BinaryIO, NoReturn
from urllib.parse import SplitResult, urlsplit

import certifi
import urllib3
from minio import Minio
from minio.error import MinioException, S3Error

from storage.base import BlobInfo, check_range
from storage.errors import BlobNotFound, InvalidStorageConfig, StorageUnavailable
from storage.names import check_blob_name, check_blob_prefix

MIB = 1024 * 1024
MIN_PART_SIZE = 5 * MIB  # the S3 minimum for every part but the last
MAX_PART_SIZE = 5 * 1024 * MIB
DEFAULT_PART_SIZE = 8 * MIB
READ_BUFFER_SIZE = 64 * 1024
# Bounded on purpose: a dead or silent server must turn into StorageUnavailable within seconds, not hang a
# request (and a web worker) for minutes as minio's default pool (5 min timeouts, 5 retries) would.
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 60.0
DEFAULT_RETRIES = 2
RETRY_BACKOFF_FACTOR = 0.2
RETRY_BACKOFF_MAX = 2.0
RETRY_STATUSES = (500, 502, 503, 504)
# The DNS-compatible rule every S3 server accepts (minio alone would let "Upper_Case" through to the server).
BUCKET_NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
NOT_FOUND_CODES = {"NoSuchKey", "NoSuchBucket", "NoSuchObject"}
BUCKET_RACE_CODES = {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}


def parse_endpoint(endpoint: str, secure: bool = True) -> tuple[str, bool]:
    """Return ``(host[:port], secure)`` from ``"host:port"`` or a URL such as ``"https://minio.example.org"``.

    With a URL the scheme decides ``secure``; a bare host keeps the ``secure`` given.
    """
    if "://" not in endpoint:
        if not endpoint or "/" in endpoint or "@" in endpoint:
            raise InvalidStorageConfig("an S3 endpoint is 'host:port' or 'http(s)://host:port'")
        return endpoint, secure
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https"):
        raise InvalidStorageConfig("an S3 endpoint URL starts with http:// or https://")
    if "@" in parts.netloc:
        # Never echo the endpoint here: it would carry the credentials someone put in it.
        raise InvalidStorageConfig("credentials go in access_key and secret_key, not in the endpoint URL")
    if not has_valid_port(parts):
        raise InvalidStorageConfig("the S3 endpoint URL has an invalid port")
    if not parts.hostname or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InvalidStorageConfig("an S3 endpoint URL has a host and port only (no path or query)")
    return parts.netloc, parts.scheme == "https"


def has_valid_port(parts: SplitResult) -> bool:
    """Whether a split URL's port, if any, is a number from 0 to 65535."""
    try:
        return parts.port is None or parts.port >= 0
    except ValueError:
        return False


def make_http_client(connect_timeout: float, read_timeout: float, retries: int) -> urllib3.PoolManager:
    """A connection pool whose every wait is bounded (timeouts, few retries, no server-chosen Retry-After)."""
    retry = urllib3.Retry(
        total=retries, connect=retries, read=retries, status=retries,
        backoff_factor=RETRY_BACKOFF_FACTOR, backoff_max=RETRY_BACKOFF_MAX,
        status_forcelist=RETRY_STATUSES,
        # A server answering "Retry-After: 3600" must not be able to park our request for an hour.
        respect_retry_after_header=False,
    )
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
        retries=retry,
        maxsize=10,
        cert_reqs="CERT_REQUIRED",
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
    )


class S3BlobStore:
    """Blobs as objects of one bucket; the bucket is created at construction if it does not exist."""

    def __init__(self, endpoint: str, access_key: str, secret_key: str, bucket: str, *,
                 region: str = "us-east-1", secure: bool = True, part_size: int = DEFAULT_PART_SIZE,
                 connect_timeout: float = DEFAULT_CONNECT_TIMEOUT, read_timeout: float = DEFAULT_READ_TIMEOUT,
                 retries: int = DEFAULT_RETRIES) -> None:
        if not MIN_PART_SIZE <= part_size <= MAX_PART_SIZE:
            raise InvalidStorageConfig(f"part_size must be between {MIN_PART_SIZE} and {MAX_PART_SIZE} bytes")
        if not access_key or not secret_key:
            raise InvalidStorageConfig("S3 needs an access key and a secret key")
        if not BUCKET_NAME_PATTERN.fullmatch(bucket) or ".." in bucket:
            raise InvalidStorageConfig("an S3 bucket name is 3 to 63 characters of a-z, 0-9, '.' and '-'")
        self.endpoint, self.secure = parse_endpoint(endpoint, secure)
        self.bucket = bucket
        self.region = region
        self.part_size = part_size
        self._http = make_http_client(connect_timeout, read_timeout, retries)
        try:
            self._client = Minio(self.endpoint, access_key=access_key, secret_key=secret_key,
                                 secure=self.secure, region=region, http_client=self._http)
        except ValueError as error:
            raise InvalidStorageConfig(f"unusable S3 endpoint {self.endpoint!r}: {error}") from None
        self._ensure_bucket()

    def __repr__(self) -> str:
        scheme = "https" if self.secure else "http"
        return f"S3BlobStore({scheme}://{self.endpoint}, bucket={self.bucket!r})"

    def put(self, name: str, stream: BinaryIO) -> int:
        """Stream ``stream`` into the object ``name`` (multipart of ``part_size`` parts when it is large).

        At most about two parts are in memory at once. If the stream raises, minio aborts the multipart
        upload, so nothing is left and an existing object keeps its content; the stream's exception is
        re-raised unchanged.
        """
        check_blob_name(name)
        source = _CountingReader(stream)
        try:
            # One upload thread: parallel uploads would buffer several parts in memory at once.
            self._client.put_object(self.bucket, name, source, length=-1, part_size=self.part_size,
                                    num_parallel_uploads=1)
        except Exception as error:
            if error is source.failure:
                raise
            # No name: a missing bucket on a write is a broken store, not a missing blob.
            self._translate(error, None)
        return source.count

    def open(self, name: str) -> BinaryIO:
        """Return a buffered streaming reader; closing it releases (or drops) the HTTP connection."""
        check_blob_name(name)
        with self._translated(name):
            response = self._client.get_object(self.bucket, name)
        return io.BufferedReader(_ResponseReader(response, self, name), buffer_size=READ_BUFFER_SIZE)

    def read_range(self, name: str, start: int, length: int) -> bytes:
        """Return up to ``length`` bytes from ``start`` with one ranged GET; ``b""`` past the end."""
        check_blob_name(name)
        check_range(start, length)
        if length == 0:
            self.head(name)
            return b""
        with self._translated(name):
            try:
                response = self._client.get_object(self.bucket, name, offset=start, length=length)
            except S3Error as error:
                if error.code == "InvalidRange":  # the range starts at or past the end of the object
                    return b""
                raise
            try:
                return response.read()
            except BaseException:
                response.close()  # a half-read body makes the connection unusable for the next request
                raise
            finally:
                response.release_conn()

    def head(self, name: str) -> BlobInfo:
        """Return size and last-modified time from a HEAD request."""
        check_blob_name(name)
        with self._translated(name):
            stat = self._client.stat_object(self.bucket, name)
        return BlobInfo(name=name, size=stat.size, modified=stat.last_modified)

    def delete(self, name: str) -> None:
        """Remove the object; S3 already treats removing a missing object as success."""
        check_blob_name(name)
        with contextlib.suppress(BlobNotFound), self._translated(name):
            self._client.remove_object(self.bucket, name)

    def list(self, prefix: str = "") -> Iterator[str]:
        """Yield object names starting with ``prefix`` (lexicographic order, as S3 lists them)."""
        check_blob_prefix(prefix)
        return self._list(prefix)

    def close(self) -> None:
        """Close the pooled connections (the store can still be used: the pool reconnects)."""
        self._http.clear()

    def _list(self, prefix: str) -> Iterator[str]:
        with self._translated(None):
            for item in self._client.list_objects(self.bucket, prefix=prefix or None, recursive=True):
                if not item.is_dir:
                    yield item.object_name

    def _ensure_bucket(self) -> None:
        with self._translated(None):
            try:
                if self._client.bucket_exists(self.bucket):
                    return
            except ValueError as error:
                # minio's own checks (an IP-address-like name, for one) beyond the pattern above.
                raise InvalidStorageConfig(f"unusable S3 bucket name {self.bucket!r}: {error}") from None
            try:
                self._client.make_bucket(self.bucket, location=self.region)
            except S3Error as error:
                # Another instance (a second web worker) may have created it between our two requests.
                if error.code not in BUCKET_RACE_CODES or not self._client.bucket_exists(self.bucket):
                    raise

    @contextlib.contextmanager
    def _translated(self, name: str | None) -> Iterator[None]:
        try:
            yield
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as error:
            self._translate(error, name)

    def _translate(self, error: Exception, name: str | None) -> NoReturn:
        """Re-raise a backend exception as a storage error whose message holds no secret."""
        if isinstance(error, S3Error):
            if error.code in NOT_FOUND_CODES and name is not None:
                raise BlobNotFound(name) from error
            raise StorageUnavailable(f"S3 at {self.endpoint} refused the request on bucket {self.bucket!r} "
                                     f"({error.code})") from error
        if isinstance(error, MinioException):
            raise StorageUnavailable(
                f"S3 at {self.endpoint} gave an unexpected answer ({type(error).__name__})") from error
        if isinstance(error, (urllib3.exceptions.HTTPError, OSError)):
            raise StorageUnavailable(
                f"S3 at {self.endpoint} could not be reached ({type(error).__name__})") from error
        raise error


class _CountingReader:
    """Counts the bytes handed to minio and remembers the source's own failure (so it is not translated)."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.count = 0
        self.failure: BaseException | None = None

    def read(self, size: int = -1) -> bytes:
        try:
            data = self._stream.read(size)
        except BaseException as error:
            self.failure = error
            raise
        data = bytes(data)  # minio insists on bytes; sources may hand out bytearray or memoryview
        self.count += len(data)
        return data


class _ResponseReader(io.RawIOBase):
    """A raw stream over a minio GET response, translating network errors while reading."""

    def __init__(self, response: urllib3.BaseHTTPResponse, store: S3BlobStore, name: str) -> None:
        super().__init__()
        self._response = response
        self._store = store
        self._name = name
        self._at_end = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast("B")
        with self._store._translated(self._name):
            data = self._response.read(len(view))
        if not data:
            self._at_end = True
        view[:len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            if not self._at_end:
                # Unread bytes are still on the wire: this connection cannot be reused for another request.
                self._response.close()
            self._response.release_conn()
        super().close()
