"""Engine, sessions, migrations and the unit of work that keeps rows and blobs together."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from storage.errors import StorageError

if TYPE_CHECKING:
    from storage import BlobStore

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
log = logging.getLogger(__name__)


def make_engine(url: str) -> Engine:
    """An engine with the settings each backend needs to be safe under several workers."""
    if url.startswith("sqlite"):
        database = url.split("///", 1)[-1]
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection, _record):  # pragma: no cover - exercised by every sqlite test
            cursor = connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent)."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


@dataclass
class UnitOfWork:
    """One transaction plus the blobs it creates or dooms.

    A document's row and its blob exist together or not at all: services write the blob first and
    record it in ``created_blobs``; if the transaction does not commit, those blobs are deleted. Blobs of
    deleted rows are only removed after the commit succeeded (``doomed_blobs``); a crash in between
    leaves an orphan blob, never a row without its blob, and the orphan sweeper removes it later.
    """

    session: Session
    store: "BlobStore"
    created_blobs: list[str] = field(default_factory=list)
    doomed_blobs: list[str] = field(default_factory=list)

    def commit(self) -> None:
        try:
            self.session.commit()
        except BaseException:
            self.rollback()
            raise
        self.created_blobs.clear()
        doomed, self.doomed_blobs = self.doomed_blobs, []
        for name in doomed:
            self._delete_quietly(name)

    def rollback(self) -> None:
        self.session.rollback()
        created, self.created_blobs = self.created_blobs, []
        self.doomed_blobs.clear()
        for name in created:
            self._delete_quietly(name)

    def close(self) -> None:
        if self.created_blobs:
            self.rollback()
        self.session.close()

    def _delete_quietly(self, name: str) -> None:
        try:
            self.store.delete(name)
        except StorageError:
            # Left for the orphan sweeper; the database is already consistent.
            log.warning("could not delete blob %s; the orphan sweeper will retry", name)
