"""Every column that names a blob in the store, in one list.

The orphan sweep (``ops/orphans.py``) deletes blobs that no row names; a blob column missing from this
list would make it delete live papers. ``tests/vault/test_blobs.py`` fails when a model gains a column
ending in ``blob_name`` that is not listed here.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from vault.models import Document

BLOB_COLUMNS = (
    Document.blob_name,
    Document.thumbnail_blob_name,
)


def referenced_blob_names(session: Session) -> set[str]:
    """The names of every blob some row still refers to."""
    names: set[str] = set()
    for column in BLOB_COLUMNS:
        names.update(name for name in session.scalars(select(column).where(column.is_not(None))))
    return names


__all__ = ["BLOB_COLUMNS", "referenced_blob_names"]
