"""Backup, then restore into an empty instance: every paper byte for byte, every account signs in.

Two lanes, as production runs: SQLite with a local folder, and PostgreSQL with S3 (moto's server). The restored instance uses the same secrets (they are not in the backup).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import tarfile

import pytest
from sqlalchemy import func, select

from ops import backup as backups
from tests.factories import build_services, current_otp, make_document, make_person, make_staff, sign_in
from tests.servers.fixtures import make_s3_store, random_bucket_name, remove_bucket
from tests.servers.scratch_databases import scratch_database
from vault import documents
from vault.audit import check_all_chains
from vault.db import make_engine, migrate
from vault.models import Base, Document, Event, Session


@pytest.fixture(params=["sqlite-local", "postgresql-s3"])
def lane(request, tmp_path):
    """(source settings, a factory for an empty target's settings), on one of the two production shapes."""
    from vault.settings import load_settings

    cleanups = contextlib.ExitStack()
    if request.param == "sqlite-local":
        def make(name: str):
            url = f"sqlite:///{tmp_path / name / 'consigne.sqlite3'}"
            (tmp_path / name).mkdir()
            return url, f"file://{tmp_path / name / 'blobs'}"
    else:
        postgres_url = request.getfixturevalue("postgres_url")
        endpoint = request.getfixturevalue("moto_s3")

        def make(name: str):
            url = cleanups.enter_context(scratch_database(postgres_url))
            bucket = random_bucket_name()
            cleanups.callback(remove_bucket, endpoint, bucket)
            host = endpoint.endpoint.removeprefix("http://")
            return url, f"s3://{endpoint.access_key}:{endpoint.secret_key}@{host}/{bucket}?secure=false"

    def settings_for(name: str):
        database_url, storage_url = make(name)
        engine = make_engine(database_url)
        migrate(engine)
        engine.dispose()
        return load_settings({"CONSIGNE_DATA_DIR": str(tmp_path / f"data-{name}"), "CONSIGNE_DATABASE_URL": database_url,
                              "CONSIGNE_STORAGE_URL": storage_url, "CONSIGNE_KDF": "fast-insecure-for-tests"})

    source = settings_for("source")
    with cleanups:
        yield source, lambda: dataclasses.replace(settings_for("target"), peppers=source.peppers,
                                                  app_keys=source.app_keys, signing_keys=source.signing_keys)


def _blobs(services) -> dict[str, bytes]:
    return {name: services.store.open(name).read() for name in services.store.list("blobs/")}


def _paper(services, person, document_id) -> bytes:
    with services.transaction() as uow:
        current = services.current(uow.session, person.token)
        _view, reader = documents.open_document_content(uow, current=current, document_id=document_id,
                                                        now=services.now)
        return reader.read()


def test_a_backup_restores_into_an_empty_instance_where_everyone_signs_in(lane, clock):
    source_settings, make_target = lane
    source = build_services(source_settings, clock)
    person = make_person(source, "alix")
    staff = make_staff(source, "marie.l")
    papers = [make_document(source, person, kind="carte_identite", title="Ma carte"),
              make_document(source, person, kind="attestation_caf")]
    originals = {paper.id: _paper(source, person, paper.id) for paper in papers}
    stored = _blobs(source)
    with source.session_factory() as session:
        source_events = session.scalar(select(func.count()).select_from(Event))
    out = io.BytesIO()
    summary = backups.backup(source.engine, source.store, out, now=clock())
    source.close()
    assert summary.blobs == len(stored) == 4
    assert summary.rows["accounts"] == 2 and "sessions" not in summary.rows

    target = build_services(make_target(), clock)
    try:
        restored = backups.restore(target.engine, target.store, io.BytesIO(out.getvalue()))
        assert restored.blobs == 4 and restored.rows == summary.rows
        assert _blobs(target) == stored  # every blob byte for byte
        with target.session_factory() as session:
            assert session.scalar(select(func.count()).select_from(Session)) == 0  # no session came back
            assert session.scalar(select(func.count()).select_from(Event)) == source_events
            assert all(check.intact for check in check_all_chains(session))
        # Every account signs in: a password; a password and a code from the app; a password and a code
        # of the printed sheet (the application keys and the pepper came with the settings, not the backup).
        person.token = sign_in(target, "alix", person.password)
        sign_in(target, "marie.l", staff.password, otp=current_otp(staff, clock.advance(seconds=30)))
        sign_in(target, "marie.l", staff.password, recovery_code=staff.recovery_codes[0])
        for paper in papers:
            assert _paper(target, person, paper.id) == originals[paper.id]
        # New rows still get fresh ids after the restored ones (PostgreSQL's sequences moved on).
        make_document(target, person, kind="carte_vitale")
    finally:
        target.close()


def test_a_restore_refuses_an_instance_that_is_not_empty_and_changes_nothing(lane, clock):
    source_settings, _make_target = lane
    source = build_services(source_settings, clock)
    try:
        person = make_person(source, "alix")
        make_document(source, person)
        out = io.BytesIO()
        backups.backup(source.engine, source.store, out, now=clock())
        before = _blobs(source)
        with pytest.raises(backups.BackupError, match="not empty"):
            backups.restore(source.engine, source.store, io.BytesIO(out.getvalue()))
        assert _blobs(source) == before
    finally:
        source.close()


@pytest.mark.parametrize("damage", ["flip-a-blob-byte", "cut-short", "not-a-tar"])
def test_a_damaged_backup_restores_nothing(lane, clock, damage):
    source_settings, make_target = lane
    source = build_services(source_settings, clock)
    person = make_person(source, "alix")
    make_document(source, person)
    out = io.BytesIO()
    backups.backup(source.engine, source.store, out, now=clock())
    source.close()
    data = bytearray(out.getvalue())
    if damage == "flip-a-blob-byte":
        members = _members(bytes(data))
        offset = next(offset for name, offset in members if name.startswith("blobs/"))
        data[offset + 200] ^= 0x01
    elif damage == "cut-short":
        data = data[: len(data) * 2 // 3]
    else:
        data = bytearray(b"PK\x03\x04 this is a zip, not a backup" * 100)

    target = build_services(make_target(), clock)
    try:
        with pytest.raises(backups.BackupError):
            backups.restore(target.engine, target.store, io.BytesIO(bytes(data)))
        assert list(target.store.list("blobs/")) == []
        with target.session_factory() as session:
            for table in ("accounts", "documents", "events", "recovery_codes"):
                assert session.scalar(select(func.count()).select_from(Base.metadata.tables[table])) == 0, table
    finally:
        target.close()


def test_a_row_whose_blob_is_gone_stops_the_backup(lane, clock):
    # What a paper deleted while the backup runs looks like: the snapshot names a blob the store no
    # longer has. The backup stops instead of writing a file that could not be restored.
    source_settings, _make_target = lane
    source = build_services(source_settings, clock)
    try:
        person = make_person(source, "alix")
        paper = make_document(source, person)
        with source.session_factory() as session:
            source.store.delete(session.get(Document, paper.id).blob_name)
        with pytest.raises(backups.BackupRaced):
            backups.backup(source.engine, source.store, io.BytesIO(), now=clock())
    finally:
        source.close()


def test_the_command_writes_a_private_file_and_never_overwrites_one(lane, clock, tmp_path, monkeypatch, capsys):
    from ops import cli

    source_settings, _make_target = lane
    for name, value in {"CONSIGNE_DATA_DIR": str(source_settings.data_dir), "CONSIGNE_KDF": "fast-insecure-for-tests",
                        "CONSIGNE_DATABASE_URL": source_settings.database_url,
                        "CONSIGNE_STORAGE_URL": source_settings.storage_url}.items():
        monkeypatch.setenv(name, value)
    source = build_services(source_settings, clock)
    try:
        make_document(source, make_person(source, "alix"))
    finally:
        source.close()
    path = tmp_path / "consigne.tar"
    assert cli.main(["backup", str(path)]) == 0
    assert path.stat().st_mode & 0o777 == 0o600
    assert not path.with_name("consigne.tar.partial").exists()
    names = [name for name, _offset in _members(path.read_bytes())]
    assert names[-1] == "manifest.json" and "tables/accounts.jsonl" in names
    assert cli.main(["backup", str(path)]) == 2  # never overwrites a backup
    assert "exists already" in capsys.readouterr().err


def _members(data: bytes) -> list[tuple[str, int]]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
        return [(member.name, member.offset_data) for member in archive.getmembers()]


def test_a_backup_from_sqlite_restores_into_postgresql(tmp_path, clock, postgres_url):
    # The way from a trial on the embedded default to production: the dump is logical, not SQLite's file.
    from vault.settings import load_settings

    def settings_for(database_url: str, name: str):
        engine = make_engine(database_url)
        migrate(engine)
        engine.dispose()
        return load_settings({"CONSIGNE_DATA_DIR": str(tmp_path / name), "CONSIGNE_DATABASE_URL": database_url,
                              "CONSIGNE_KDF": "fast-insecure-for-tests"})

    (tmp_path / "trial").mkdir()
    source = build_services(settings_for(f"sqlite:///{tmp_path / 'trial' / 'consigne.sqlite3'}", "trial"), clock)
    person = make_person(source, "alix")
    paper = make_document(source, person)
    original = _paper(source, person, paper.id)
    out = io.BytesIO()
    backups.backup(source.engine, source.store, out, now=clock())
    secrets = source.settings
    source.close()
    with scratch_database(postgres_url) as url:
        target_settings = dataclasses.replace(settings_for(url, "production"), peppers=secrets.peppers,
                                              app_keys=secrets.app_keys, signing_keys=secrets.signing_keys)
        target = build_services(target_settings, clock)
        try:
            backups.restore(target.engine, target.store, io.BytesIO(out.getvalue()))
            person.token = sign_in(target, "alix", person.password)
            assert _paper(target, person, paper.id) == original
        finally:
            target.close()
