"""Ciphertext blob storage: a local folder or an S3-compatible bucket, behind one ``BlobStore`` protocol.

``open_blob_store`` picks the backend from a URL:

- ``file:///abs/path`` or a plain path: ``LocalBlobStore``;
- ``s3://ACCESS:SECRET@host:port/bucket?region=us-east-1&secure=false``: ``S3BlobStore``. Credentials are
  percent-decoded (write ``test%3Atester`` for ``test:tester``; a ``/`` in a secret must be ``%2F``).
  ``secure`` defaults to true (HTTPS).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from storage.base import BlobInfo, BlobStore
from storage.errors import (
    BlobNotFound,
    InvalidBlobName,
    InvalidStorageConfig,
    StorageError,
    StorageUnavailable,
)
from storage.local import LocalBlobStore
from storage.names import check_blob_name, new_blob_name

__all__ = [
    "BlobInfo",
    "BlobNotFound",
    "BlobStore",
    "InvalidBlobName",
    "InvalidStorageConfig",
    "LocalBlobStore",
    "StorageError",
    "StorageUnavailable",
    "check_blob_name",
    "new_blob_name",
    "open_blob_store",
]

S3_QUERY_OPTIONS = {"region", "secure"}
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


def open_blob_store(url: str, **options: Any) -> BlobStore:
    """Return the blob store a storage URL names; ``options`` go to the store's constructor.

    Raises InvalidStorageConfig (whose message never repeats the URL) for a URL it cannot use.
    """
    if not isinstance(url, str) or not url:
        raise InvalidStorageConfig("the storage URL is empty")
    if "://" not in url:
        return _open_local(Path(url), options)
    scheme = url.split("://", 1)[0].lower()
    opener = OPENERS.get(scheme)
    if opener is None:
        raise InvalidStorageConfig(f"unsupported storage URL scheme {scheme!r} (use file:// or s3://)")
    return opener(url, options)


def _open_file_url(url: str, options: dict[str, Any]) -> BlobStore:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost") or parts.query or parts.fragment:
        raise InvalidStorageConfig("a file:// storage URL is file:///absolute/path")
    path = unquote(parts.path)
    if not path.startswith("/"):
        raise InvalidStorageConfig("a file:// storage URL needs an absolute path")
    return _open_local(Path(path), options)


def _open_local(path: Path, options: dict[str, Any]) -> BlobStore:
    return LocalBlobStore(path, **options)


# The commonest mistake: a generated secret with "/" (or "@", ":", "#", "?") pasted into the URL as it is.
SPECIAL_HINT = ("; a '/', '@', ':', '#' or '?' in the access key or the secret must be percent-encoded "
                "('/' is %2F, '@' is %40, ':' is %3A, '#' is %23, '?' is %3F)")


def _open_s3_url(url: str, options: dict[str, Any]) -> BlobStore:
    # Imported here so that a deployment on a local folder never loads minio and urllib3.
    from storage.s3 import S3BlobStore, has_valid_port

    parts = urlsplit(url)
    userinfo, _, host = parts.netloc.rpartition("@")
    access_key, has_secret, secret_key = userinfo.partition(":")
    if not access_key or not has_secret or not secret_key:
        raise InvalidStorageConfig("an s3:// storage URL is s3://ACCESS:SECRET@host:port/bucket" + SPECIAL_HINT)
    if not has_valid_port(parts):
        raise InvalidStorageConfig("the s3:// storage URL has an invalid port")
    bucket = parts.path.strip("/")
    if not host or not bucket or "/" in bucket or parts.fragment:
        raise InvalidStorageConfig("an s3:// storage URL is s3://ACCESS:SECRET@host:port/bucket" + SPECIAL_HINT)
    settings: dict[str, Any] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True, strict_parsing=False):
        if key not in S3_QUERY_OPTIONS:
            raise InvalidStorageConfig(f"unknown s3:// storage URL option {key!r}")
        settings[key] = _parse_bool(key, value) if key == "secure" else value
    settings.update(options)
    return S3BlobStore(host, unquote(access_key), unquote(secret_key), unquote(bucket), **settings)


def _parse_bool(key: str, value: str) -> bool:
    if value.lower() in TRUE_WORDS:
        return True
    if value.lower() in FALSE_WORDS:
        return False
    raise InvalidStorageConfig(f"the storage URL option {key!r} is true or false")


OPENERS: dict[str, Callable[[str, dict[str, Any]], BlobStore]] = {
    "file": _open_file_url,
    "s3": _open_s3_url,
}
