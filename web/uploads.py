"""Uploaded files as the request already holds them in memory (shared by the API and the pages)."""

from __future__ import annotations

import io

from werkzeug.datastructures import FileStorage


def held_bytes(upload: FileStorage) -> bytes:
    """The uploaded file's bytes as the request already holds them, without a copy.

    ``InMemoryUploadRequest`` gives each file a BytesIO. ``getvalue()`` hands over that buffer itself
    (CPython trims its spare room in place and shares it), where ``read()`` copies it: for a 48 MiB scan
    that copy was one more whole document in memory.
    """
    stream = upload.stream
    if not isinstance(stream, io.BytesIO):  # a spooled file would mean plaintext on disk: never serve that
        raise TypeError("uploaded files must be held in memory (InMemoryUploadRequest)")
    return stream.getvalue()
