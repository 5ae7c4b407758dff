"""Starting the production server never migrates, and refuses an outdated schema with one clear line.

Migrating is one explicit step (``consigne migrate``, compose's one-shot ``migrate`` service). gunicorn is
started exactly as the image starts it (``-c ops/serving/gunicorn.conf.py``), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ops.serving.loopback import GUNICORN_CONFIG, ROOT
from vault.db import alembic_config, head_revision, make_engine, migrate, schema_revisions

HEAD = head_revision()  # the newest revision: what a migrated database must be at

START_SECONDS = 60


@pytest.fixture
def empty_database_url(database_url, tmp_path) -> Iterator[str]:
    """A database with no schema at all, on the lane's engine."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    name = "consigne_empty_" + secrets.token_hex(4)
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
        admin.dispose()


def start_gunicorn(environment: dict[str, str]) -> subprocess.CompletedProcess:
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("CONSIGNE_")}
    return subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONFIG), "--bind", "127.0.0.1:0"],
        cwd=ROOT, env={**inherited, **environment, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
        timeout=START_SECONDS)


def development_environment(tmp_path, database_url: str) -> dict[str, str]:
    return {"CONSIGNE_DATA_DIR": str(tmp_path / "data"), "CONSIGNE_DATABASE_URL": database_url,
            "CONSIGNE_KDF": "fast-insecure-for-tests"}


def assert_one_clear_line(started: subprocess.CompletedProcess, expected: str) -> None:
    output = started.stdout + started.stderr
    assert started.returncode == 1, output
    assert f"Error: consigne: {expected}" in started.stderr, output
    assert "Traceback" not in output
    assert "Booting worker" not in output  # refused before any worker started


def test_an_empty_database_is_refused_and_left_alone(tmp_path, empty_database_url):
    started = start_gunicorn(development_environment(tmp_path, empty_database_url))
    assert_one_clear_line(started, f"the database is empty and this version of Consigne needs revision {HEAD}: "
                                   "run `consigne migrate` first")
    engine = make_engine(empty_database_url)
    assert schema_revisions(engine)[0] is None  # starting did not migrate
    engine.dispose()


def test_an_outdated_schema_is_refused_and_left_alone(tmp_path, empty_database_url):
    engine = make_engine(empty_database_url)
    with engine.begin() as connection:
        config = alembic_config(empty_database_url)
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    started = start_gunicorn(development_environment(tmp_path, empty_database_url))
    assert_one_clear_line(started, "the database is at revision 0001 and this version of Consigne needs "
                                   f"revision {HEAD}: run `consigne migrate` first")
    assert schema_revisions(engine)[0] == "0001"
    migrate(engine)  # the explicit step, and then it starts (checked by every serving test)
    assert schema_revisions(engine)[0] == HEAD
    engine.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_configuration_error_is_one_line_too(tmp_path, database_url):
    started = start_gunicorn({**development_environment(tmp_path, database_url), "CONSIGNE_ENV": "production"})
    assert_one_clear_line(started, "configuration error: CONSIGNE_STORAGE_URL must be set when "
                                   "CONSIGNE_ENV=production")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_database_out_of_reach_is_one_line_without_its_password(tmp_path, database_url):
    # Port 1 on loopback: nothing listens there, so the connection is refused at once.
    down = "postgresql+psycopg://consigne:s3cret-pw@127.0.0.1:1/consigne"
    started = start_gunicorn({**development_environment(tmp_path, database_url), "CONSIGNE_DATABASE_URL": down})
    assert_one_clear_line(started, "cannot use the database postgresql+psycopg://consigne:***@127.0.0.1:1/consigne: ")
    assert "s3cret-pw" not in started.stdout + started.stderr
