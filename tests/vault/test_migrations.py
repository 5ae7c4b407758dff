"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from vault.db import head_revision, make_engine, migrate
from vault.models import Base


HEAD = head_revision()  # the newest revision: what a migrated database must be at

def test_migrations_match_the_models(database_url):
    engine = make_engine(database_url)
    migrate(engine)
    migrate(engine)  # idempotent
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


# --- migrating is one explicit step, under a lock ------------------------------------------------------
# Reproduced from issue 6: every process start ran the migrations, so in compose several instances
# upgraded one database at once with no lock. Now `consigne migrate` takes a lock (a PostgreSQL advisory
# lock, a lock file beside a SQLite database) and the application refuses a schema that is not current.

import contextlib
import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from tests.servers.postgres import free_port
from tests.servers.scratch_databases import scratch_database
from vault.db import MIGRATION_LOCK_ID, SchemaNotCurrent, alembic_config, require_current_schema, schema_revisions
from vault.settings import load_settings

REPOSITORY = Path(__file__).resolve().parents[2]
RACERS = 4
WAIT_SECONDS = 90


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path):
    """A database with no schema at all, used by this test only."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'consigne.sqlite3'}"
        return
    with scratch_database(request.getfixturevalue("postgres_url")) as url:
        yield url


def consigne(arguments: list[str], *, database_url: str, data_dir: Path) -> subprocess.Popen:
    """`consigne …` in its own process, on this worktree's code, with the embedded defaults otherwise."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("CONSIGNE_")}
    environment |= {"CONSIGNE_DATABASE_URL": database_url, "CONSIGNE_DATA_DIR": str(data_dir),
                    "CONSIGNE_KDF": "fast-insecure-for-tests"}
    return subprocess.Popen([sys.executable, "-m", "ops.cli", *arguments], cwd=REPOSITORY, env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@contextlib.contextmanager
def migration_lock_held(url: str):
    """Hold the very lock `consigne migrate` takes; yield a function counting the processes waiting for it."""
    if url.startswith("sqlite"):
        lock_path = url.split("///", 1)[1] + ".migrate-lock"
        Path(lock_path).parent.mkdir(parents=True, exist_ok=True)
        with open(lock_path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            inode = os.fstat(handle.fileno()).st_ino

            def waiting() -> int:
                # Blocked requests appear in /proc/locks as "N: -> FLOCK ADVISORY WRITE pid dev:inode …".
                lines = Path("/proc/locks").read_text().splitlines()
                return sum(1 for line in lines if " -> " in line and line.split()[6].split(":")[-1] == str(inode))

            yield waiting
        return
    engine = create_engine(url)
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": MIGRATION_LOCK_ID})
        connection.commit()

        def waiting() -> int:
            with engine.connect() as probe:
                return probe.scalar(text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"))

        try:
            yield waiting
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID})
            connection.commit()
    engine.dispose()


def test_several_migrate_processes_at_once_leave_exactly_the_head_revision(empty_database_url, tmp_path):
    data_dir = tmp_path / "data"
    # Given the migration lock held, RACERS `consigne migrate` processes started together on an empty
    # database (and, on SQLite, a data folder that does not exist yet) all end up waiting for it
    with migration_lock_held(empty_database_url) as waiting:
        processes = [consigne(["migrate"], database_url=empty_database_url, data_dir=data_dir) for _ in range(RACERS)]
        deadline = time.monotonic() + WAIT_SECONDS
        while waiting() < RACERS:
            finished = [process for process in processes if process.poll() is not None]
            assert not finished, ("a migrate process did not wait for the lock: "
                                  + finished[0].stderr.read()[-2000:])
            assert time.monotonic() < deadline, f"only {waiting()} of {RACERS} processes reached the lock"
            time.sleep(0.05)
    # When the lock is released, they all race for it at the same moment
    outcomes = [process.communicate(timeout=WAIT_SECONDS) for process in processes]
    # Then every one succeeds, and the schema is exactly the newest revision, once
    for process, (out, err) in zip(processes, outcomes):
        assert process.returncode == 0, err[-2000:]
        assert "database schema is up to date" in out
    engine = create_engine(empty_database_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [HEAD]
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    current, head = schema_revisions(engine)
    engine.dispose()
    assert current == head == HEAD


def upgrade_to(url: str, revision: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    engine.dispose()


@pytest.mark.parametrize("state", ["empty", "outdated"])
def test_an_application_on_a_schema_that_is_not_current_refuses_to_start(empty_database_url, tmp_path, state):
    from web.app import create_app

    if state == "outdated":
        upgrade_to(empty_database_url, "0001")
    settings = load_settings({"CONSIGNE_DATA_DIR": str(tmp_path / "data"), "CONSIGNE_DATABASE_URL": empty_database_url,
                              "CONSIGNE_KDF": "fast-insecure-for-tests"})
    expected = "at revision 0001" if state == "outdated" else "empty"
    with pytest.raises(SchemaNotCurrent, match=f"{expected}.*needs revision {HEAD}.*consigne migrate"):
        create_app(settings)
    engine = make_engine(empty_database_url)
    with pytest.raises(SchemaNotCurrent):
        require_current_schema(engine)
    assert schema_revisions(engine)[0] == ("0001" if state == "outdated" else None)  # nothing was migrated
    engine.dispose()


def test_consigne_serve_on_an_outdated_schema_says_what_to_run_and_exits_2(empty_database_url, tmp_path):
    upgrade_to(empty_database_url, "0001")
    data_dir = tmp_path / "data"
    server = consigne(["serve", "--port", str(free_port())], database_url=empty_database_url, data_dir=data_dir)
    try:
        out, err = server.communicate(timeout=WAIT_SECONDS)
    finally:
        if server.poll() is None:  # it started serving instead of refusing: stop it, the test fails below
            server.kill()
            server.communicate()
    assert server.returncode == 2
    assert "at revision 0001" in err and "run `consigne migrate` first" in err
    assert "Traceback" not in err
    assert "running on" not in out
    # And once migrated, the schema is current (the same command would now serve)
    migrating = consigne(["migrate"], database_url=empty_database_url, data_dir=data_dir)
    assert migrating.wait(timeout=WAIT_SECONDS) == 0
    engine = make_engine(empty_database_url)
    require_current_schema(engine)
    engine.dispose()
