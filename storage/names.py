"""Blob names: random and non-personal, and of a shape that can never escape a store.

A name is what both backends use as a key: a relative path of lower-case segments. It never carries
anything about the person or the paper (the database links names to documents), so a copy of the storage
alone says nothing about whose papers it holds.
"""

from __future__ import annotations

import re
import secrets

from storage.errors import InvalidBlobName

BLOB_PREFIX = "blobs/"
NAME_RANDOM_BYTES = 16
# 255 is the longest file name most file systems accept; S3 allows 1024, so the local store sets the limit.
MAX_BLOB_NAME_LENGTH = 255
SEGMENT_PATTERN = re.compile(r"[a-z0-9_.-]+")


def new_blob_name() -> str:
    """Return a fresh random name such as ``blobs/3f/3f9c…`` (32 hex digits from 16 random bytes).

    The two-character fan-out directory keeps local directories small (256 of them).
    """
    token = secrets.token_hex(NAME_RANDOM_BYTES)
    return f"{BLOB_PREFIX}{token[:2]}/{token}"


def check_blob_name(name: str) -> str:
    """Return ``name`` if it is a valid blob name; raise InvalidBlobName otherwise.

    Allowed: segments of ``[a-z0-9_.-]`` joined by ``/``; no empty segment, no leading or trailing slash,
    no segment starting with a dot (so ``.`` and ``..`` cannot climb, and the local store's hidden
    temporary files can never collide with a blob), at most MAX_BLOB_NAME_LENGTH characters.
    """
    if not isinstance(name, str) or not name:
        raise InvalidBlobName("a blob name must be a non-empty string")
    if len(name) > MAX_BLOB_NAME_LENGTH:
        raise InvalidBlobName(f"a blob name is at most {MAX_BLOB_NAME_LENGTH} characters")
    for segment in name.split("/"):
        _check_segment(segment)
    return name


def check_blob_prefix(prefix: str) -> str:
    """Return ``prefix`` if it can start a valid blob name (``""`` lists everything); raise otherwise.

    A prefix is matched as a plain string, as S3 does: ``"blobs/3"`` matches ``"blobs/3f/…"``.
    """
    if not isinstance(prefix, str):
        raise InvalidBlobName("a blob prefix must be a string")
    if prefix == "":
        return prefix
    if len(prefix) > MAX_BLOB_NAME_LENGTH:
        raise InvalidBlobName(f"a blob prefix is at most {MAX_BLOB_NAME_LENGTH} characters")
    segments = prefix.split("/")
    # Only the last segment may be empty (a prefix ending in "/" selects a folder).
    for segment in segments[:-1]:
        _check_segment(segment)
    if segments[-1]:
        _check_segment(segments[-1])
    return prefix


def _check_segment(segment: str) -> None:
    if not segment:
        raise InvalidBlobName("a blob name has no empty segment and no leading or trailing slash")
    if segment.startswith("."):
        raise InvalidBlobName("a blob name segment never starts with a dot")
    if not SEGMENT_PATTERN.fullmatch(segment):
        raise InvalidBlobName("a blob name uses only a-z, 0-9, '_', '.', '-' and '/'")
