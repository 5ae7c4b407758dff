"""The data folder is 0700 and the SQLite files 0600, even when the folder or the files already existed.

Why it matters: the database holds usernames, public keys, sealed identities and the activity of
homeless people; on a shared machine (a shelter's server, a volunteer's laptop) another local user must
not be able to copy it. Reproduced from issue 6: a data folder that already existed stayed 0755 and the
SQLite file, its WAL and its SHM were created 0644 under the usual umask.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from vault.db import make_engine, migrate
from vault.settings import ConfigurationError, load_settings

SQLITE_FILES = ("consigne.sqlite3", "consigne.sqlite3-wal", "consigne.sqlite3-shm")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def usual_umask():
    """The umask of most distributions (0022), which is what made the files world-readable."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def write_something(url: str) -> None:
    engine = make_engine(url)
    migrate(engine)
    with engine.begin() as connection:  # a write keeps the WAL and SHM files in place while open
        connection.execute(text("CREATE TABLE IF NOT EXISTS probe (x INTEGER)"))
        connection.execute(text("INSERT INTO probe VALUES (1)"))
    connection = engine.connect()
    connection.execute(text("SELECT count(*) FROM probe"))
    return engine, connection


def test_an_existing_world_readable_data_folder_is_closed(tmp_path, usual_umask):
    # Given a data folder made beforehand by someone else's habits (0755)
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)
    # When Consigne starts on it with the embedded defaults
    settings = load_settings({"CONSIGNE_DATA_DIR": str(data)})
    engine, connection = write_something(settings.database_url)
    try:
        # Then the folder and every SQLite file are readable by this user only
        assert mode(data) == 0o700
        for name in SQLITE_FILES:
            assert (data / name).exists(), name
            assert mode(data / name) == 0o600, name
    finally:
        connection.close()
        engine.dispose()


def test_a_new_data_folder_is_created_private(tmp_path, usual_umask):
    data = tmp_path / "deep" / "data"
    settings = load_settings({"CONSIGNE_DATA_DIR": str(data)})
    engine, connection = write_something(settings.database_url)
    try:
        assert mode(data) == 0o700
        for name in SQLITE_FILES:
            assert mode(data / name) == 0o600, name
    finally:
        connection.close()
        engine.dispose()


def test_existing_database_files_are_fixed_at_start(tmp_path, usual_umask):
    # Given a database, WAL and SHM left world-readable by an older version
    data = tmp_path / "data"
    settings = load_settings({"CONSIGNE_DATA_DIR": str(data)})
    engine, connection = write_something(settings.database_url)
    connection.close()
    engine.dispose()
    for name in SQLITE_FILES:
        if (data / name).exists():
            os.chmod(data / name, 0o644)
    os.chmod(data, 0o755)
    # When Consigne starts again
    settings = load_settings({"CONSIGNE_DATA_DIR": str(data)})
    engine, connection = write_something(settings.database_url)
    try:
        # Then everything is private again
        assert mode(data) == 0o700
        for name in SQLITE_FILES:
            assert mode(data / name) == 0o600, name
    finally:
        connection.close()
        engine.dispose()


def test_a_sqlite_file_outside_the_data_folder_is_private_but_its_folder_is_left_alone(tmp_path, usual_umask):
    # A folder chosen by the operator (it could be shared, like /tmp) is not ours to close; the files are.
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    engine, connection = write_something(f"sqlite:///{shared / 'consigne.sqlite3'}")
    try:
        assert mode(shared) == 0o755
        for name in SQLITE_FILES:
            assert mode(shared / name) == 0o600, name
    finally:
        connection.close()
        engine.dispose()


def test_the_migration_lock_file_is_private(tmp_path, usual_umask):
    data = tmp_path / "data"
    settings = load_settings({"CONSIGNE_DATA_DIR": str(data)})
    engine = make_engine(settings.database_url)
    migrate(engine)
    engine.dispose()
    assert mode(data / "consigne.sqlite3.migrate-lock") == 0o600


def test_a_data_folder_that_is_a_file_is_a_clear_error(tmp_path):
    not_a_folder = tmp_path / "data"
    not_a_folder.write_text("")
    with pytest.raises(ConfigurationError, match="data folder"):
        load_settings({"CONSIGNE_DATA_DIR": str(not_a_folder)})


def test_postgresql_with_secrets_in_the_environment_never_touches_the_data_folder(tmp_path):
    # Production with PostgreSQL, S3 and secrets from the environment uses no data folder at all: a
    # read-only container must still start.
    from vault.settings import generate_secrets

    data = tmp_path / "unused"
    load_settings({"CONSIGNE_DATA_DIR": str(data), "CONSIGNE_DATABASE_URL": "postgresql+psycopg://u@db/c",
                   "CONSIGNE_STORAGE_URL": "s3://a:b@s3:9000/c"} | generate_secrets())
    assert not data.exists()
