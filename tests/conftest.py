"""Shared fixtures: every database test runs on SQLite and on a real PostgreSQL cluster."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, text

from tests.servers.postgres import running_postgres
from vault.db import make_engine, migrate
from vault.models import Base

pytest_plugins = ["tests.servers.fixtures"]

START = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


class FakeClock:
    """Time as an argument: tests move it forward instead of sleeping."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture(scope="session")
def postgres_url():
    with running_postgres() as url:
        engine = make_engine(url)
        migrate(engine)
        engine.dispose()
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'consigne.sqlite3'}"
        return
    url = request.getfixturevalue("postgres_url")
    yield url
    # Each test leaves an empty database behind for the next one.
    engine = create_engine(url)
    with engine.begin() as connection:
        tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
        connection.execute(text(f"TRUNCATE {tables} CASCADE"))
    engine.dispose()


@pytest.fixture
def settings(tmp_path, database_url):
    from vault.settings import load_settings

    # Migrating is an explicit step (``consigne migrate``); the application refuses an outdated schema.
    engine = make_engine(database_url)
    migrate(engine)
    engine.dispose()
    return load_settings({
        "CONSIGNE_DATA_DIR": str(tmp_path / "data"),
        "CONSIGNE_DATABASE_URL": database_url,
        "CONSIGNE_KDF": "fast-insecure-for-tests",
        "CONSIGNE_QUOTA_MB": "500",
    })


@pytest.fixture
def clock():
    return FakeClock()
