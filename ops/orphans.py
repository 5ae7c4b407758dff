"""Sweep blobs that no row refers to (left by a crash between writing a blob and committing its row)."""

from __future__ import annotations

from datetime import datetime

from storage import open_blob_store
from storage.errors import BlobNotFound
from vault.db import make_engine, make_session_factory
from vault.blobs import referenced_blob_names
from vault.settings import Settings

BLOB_PREFIX = "blobs/"


def sweep_orphans(settings: Settings, *, older_than: datetime, dry_run: bool = False) -> list[str]:
    """Delete (or list) unreferenced blobs last written before ``older_than``.

    The age limit protects uploads in flight: their blob exists a moment before their row commits.
    """
    store = open_blob_store(settings.storage_url)
    with make_session_factory(make_engine(settings.database_url))() as session:
        referenced = referenced_blob_names(session)
    orphans = []
    for name in store.list(BLOB_PREFIX):
        if name in referenced:
            continue
        try:
            if store.head(name).modified >= older_than:
                continue
        except BlobNotFound:
            continue
        orphans.append(name)
        if not dry_run:
            store.delete(name)
    return orphans
