"""Engine, sessions, migrations, row locks, and the unit of work that keeps rows and blobs together."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, make_url, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from storage.errors import StorageError

if TYPE_CHECKING:
    from storage import BlobStore

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
log = logging.getLogger(__name__)
# The SQLite database and its companions (write-ahead log, shared memory index, rollback journal, the
# migration lock): readable and writable by the user running Consigne only.
PRIVATE_FILE_MODE = 0o600
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal", ".migrate-lock")


def make_engine(url: str) -> Engine:
    """An engine with the settings each backend needs to be safe under several workers.

    ``hide_parameters``: a database error's text (logged with the traceback) shows the SQL without its
    values, which may be usernames, look-up hashes or sealed keys.
    """
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:" and not database.startswith("file:"):
            prepare_sqlite_file(Path(database))
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection, _record):  # pragma: no cover - exercised by every sqlite test
            cursor = connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def prepare_sqlite_file(path: Path) -> None:
    """Create the SQLite file 0600 before SQLite opens it, and bring existing files back to 0600.

    SQLite creates a missing database file with 0644 under the usual umask, and gives its ``-wal`` and
    ``-shm`` files the permissions of the database file: creating the (empty, hence valid) database
    file ourselves with 0600 makes all three private. Files left readable by an older version are
    fixed here, at start. A missing parent folder is created 0700; an existing one is not changed (it
    may be a folder the operator shares; the data folder itself is made private by the settings).
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # O_NOFOLLOW: a symlink planted in place of the database must not make us create or chmod its target.
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, PRIVATE_FILE_MODE)
    os.close(descriptor)
    for suffix in SQLITE_COMPANIONS:
        _make_private(Path(str(path) + suffix))


def _make_private(path: Path) -> None:
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISREG(status.st_mode) and stat.S_IMODE(status.st_mode) != PRIVATE_FILE_MODE:
        os.chmod(path, PRIVATE_FILE_MODE)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


# Any constant will do: it names "the Consigne schema migration" among PostgreSQL advisory locks.
MIGRATION_LOCK_ID = 0x436F6E7369676E65  # "Consigne"


class SchemaNotCurrent(Exception):
    """The database is not at the revision this code needs; the message says what to run."""


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent), one process at a time.

    This is an explicit step (``consigne migrate``), never a side effect of starting a server. Several
    instances started at once may all run it: a lock held for the whole upgrade (an advisory lock on
    PostgreSQL, a lock file beside the SQLite database) makes them take turns, and the later ones find
    nothing left to do.
    """
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with _migration_lock(engine), engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def unreachable_database(database_url: str, error: Exception) -> str:
    """One line for a database that cannot be used (down, refused, wrong password): the URL without its
    password, and the driver's first line, which names host and port but never a secret."""
    where = make_url(database_url).render_as_string(hide_password=True)
    reason = getattr(error, "orig", None)
    reason = str(reason).strip().splitlines()[0] if reason is not None and str(reason).strip() else type(error).__name__
    return f"cannot use the database {where}: {reason}"


def head_revision() -> str:
    """The newest schema revision this code knows."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def schema_revisions(engine: Engine) -> tuple[str | None, str]:
    """(the database's revision, the newest revision this code knows)."""
    with engine.connect() as connection:
        return connection_revisions(connection)


def connection_revisions(connection) -> tuple[str | None, str]:
    """The same, read on an open connection (inside its transaction, e.g. a backup's snapshot)."""
    return MigrationContext.configure(connection).get_current_revision(), head_revision()


def require_current_schema(engine: Engine) -> None:
    """Raise SchemaNotCurrent unless the database is exactly at the newest revision."""
    current, head = schema_revisions(engine)
    if current != head:
        state = "empty" if current is None else f"at revision {current}"
        raise SchemaNotCurrent(f"the database is {state} and this version of Consigne needs revision {head}: "
                               "run `consigne migrate` first")


@contextlib.contextmanager
def _migration_lock(engine: Engine):
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    lock_path = Path(database + ".migrate-lock")
    descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, PRIVATE_FILE_MODE)
    with os.fdopen(descriptor, "r+") as handle:
        # Held until the upgrade is committed; other `consigne migrate` processes wait here, then find the
        # schema already at the newest revision. The kernel releases it if the process dies.
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- row locks ---------------------------------------------------------------------------------------
# Check-then-write (a quota, a throttle budget, the head of an event chain) must hold a lock from the
# check to the commit, on both databases:
# - PostgreSQL: SELECT … FOR UPDATE locks the row until the transaction ends.
# - SQLite: FOR UPDATE does not exist, and Python's sqlite3 (legacy transaction control) only opens a
#   transaction at the first INSERT/UPDATE/DELETE; reads before it see the latest commit but hold
#   nothing. So the lock is taken by a write that changes nothing: it opens the transaction and takes
#   SQLite's single write lock (waiting up to busy_timeout), and every read after it is consistent
#   because no other connection can commit until we do.


def lock_row(session: Session, model: Any, *conditions) -> None:
    """Lock the rows of ``model`` matching ``conditions`` until the transaction ends."""
    if session.get_bind().dialect.name == "sqlite":
        primary_key = model.__mapper__.primary_key[0]
        session.execute(update(model).where(*conditions).values({primary_key.name: primary_key})
                        .execution_options(synchronize_session=False))
    else:
        session.execute(select(*model.__mapper__.primary_key).where(*conditions).with_for_update())


def insert_missing_then_lock(session: Session, model: Any, values: dict[str, Any], *conditions) -> None:
    """Create the row from ``values`` unless it exists (racing creators are fine), then lock it."""
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model).values(**values)
    session.execute(insert.on_conflict_do_nothing())
    lock_row(session, model, *conditions)


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
