"""A fresh, empty PostgreSQL database in the test cluster, dropped afterwards.

For tests that need a database of their own: an empty one (no schema yet), one left at an old
revision, or one filled with a large generated data set that must not slow down the other tests.
"""

from __future__ import annotations

import contextlib
import secrets
from typing import Iterator

from sqlalchemy import create_engine, make_url, text


@contextlib.contextmanager
def scratch_database(postgres_url: str) -> Iterator[str]:
    """Yield the URL of a new empty database next to ``postgres_url``; drop it at the end."""
    name = "scratch_" + secrets.token_hex(6)
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
