"""``consigne backup`` and ``consigne restore``: the database and its blobs, consistent, in one tar stream.

What a backup holds: every table's rows as JSON lines (a logical dump, so a backup taken on SQLite
restores into PostgreSQL and back), every blob the rows refer to, byte for byte (ciphertext: the
papers stay encrypted to their owners), and a manifest with the schema revision, the counts and the
SHA-256 of every member. What it does not hold: the secrets (peppers, application keys, signing keys)
— keep those apart, or nobody can sign in after a restore — and sessions and sign-in counters, which
only live minutes and would hand a restored instance yesterday's signed-in server halves.

Consistency: the rows are read in one snapshot (PostgreSQL REPEATABLE READ, SQLite one read transaction
in WAL mode). Blobs are never changed in place, only written under new names and deleted after their
row, so every blob the snapshot names exists — unless its paper was deleted while the backup ran; the
backup then stops (``BackupRaced``) and is taken again, rather than hold a row without its paper.

The tar is written as a stream (``-`` is standard output), so an operator can encrypt it on the way
with the stock tool: ``consigne backup - | age -r age1… > consigne.tar.age``. A restore goes into an
empty instance at the same schema revision: the rows in one transaction, committed only once every blob
is stored and every checksum matched; on any failure the blobs it stored are deleted again.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import tarfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, BinaryIO

from sqlalchemy import Date, LargeBinary, func, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, StatementError

from storage.base import BlobStore
from storage.errors import BlobNotFound, StorageError
from vault.blobs import BLOB_COLUMNS

from vault.db import connection_revisions
from vault.models import Base, UTCDateTime

log = logging.getLogger(__name__)

FORMAT = "consigne-backup/1"
MANIFEST = "manifest.json"
TABLES_FOLDER = "tables/"
BLOBS_FOLDER = "blobs/"
# Ephemeral state, not worth keeping and not safe to bring back (see the module docstring).
SKIPPED_TABLES = frozenset({"sessions", "throttles"})
# The tables a restore must find empty: an instance that already has people in it is not a target.
MUST_BE_EMPTY = ("accounts", "organisations", "documents", "events")
MAX_MANIFEST = 256 * 1024 * 1024  # about 100 bytes per blob: room for millions of papers


class BackupError(Exception):
    """A backup or restore that stopped, with a message for the operator (no secret in it)."""


class BackupRaced(BackupError):
    """A paper was deleted while the backup ran: take it again."""


@dataclass
class BackupSummary:
    revision: str
    rows: dict[str, int] = field(default_factory=dict)
    blobs: int = 0
    blob_bytes: int = 0

    def as_dict(self) -> dict:
        return {"format": FORMAT, "revision": self.revision, "rows": self.rows, "blobs": self.blobs,
                "blob_bytes": self.blob_bytes}


def tables() -> list:
    """Every table the backup carries, parents before children (foreign keys hold while restoring)."""
    return [table for table in Base.metadata.sorted_tables if table.name not in SKIPPED_TABLES]


# --- backup ----------------------------------------------------------------------------------------------
def backup(engine: Engine, store: BlobStore, out: BinaryIO, *, now: datetime) -> BackupSummary:
    """Write the backup to ``out`` as a tar stream; raises BackupRaced if a paper vanished meanwhile."""
    with _snapshot(engine) as connection:
        revision, head = connection_revisions(connection)
        if revision != head:
            raise BackupError(f"the database is at revision {revision} and this version of Consigne needs "
                              f"{head}: run `consigne migrate` first")
        dumps = {table.name: _dump_table(connection, table) for table in tables()}
        blob_names = sorted(_referenced_blobs(connection))
    summary = BackupSummary(revision=revision)
    checksums: dict[str, str] = {}
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as archive:
        for name, (rows, data) in dumps.items():
            member = TABLES_FOLDER + name + ".jsonl"
            _add_bytes(archive, member, data, now)
            checksums[member] = hashlib.sha256(data).hexdigest()
            summary.rows[name] = rows
        for name in blob_names:
            try:
                size = store.head(name).size
                stream = store.open(name)
            except BlobNotFound:
                raise BackupRaced("a paper was deleted while the backup ran: run the backup again") from None
            with stream:
                hashing = _Hashing(stream)
                info = tarfile.TarInfo(BLOBS_FOLDER + name)
                info.size, info.mtime, info.mode = size, int(now.timestamp()), 0o600
                archive.addfile(info, hashing)
                if hashing.read_bytes != size:
                    raise BackupRaced("a blob changed size while the backup ran: run the backup again")
            checksums[BLOBS_FOLDER + name] = hashing.digest.hexdigest()
            summary.blobs += 1
            summary.blob_bytes += size
        manifest = {**summary.as_dict(), "created_at": now.isoformat(), "sha256": checksums}
        _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode(), now)
    return summary


class _snapshot:
    """A connection whose reads all see one committed state of the database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __enter__(self) -> Connection:
        if self.engine.dialect.name == "sqlite":
            # pysqlite opens transactions only for writes; take over and open a read transaction, which
            # in WAL mode pins the snapshot from its first read until it ends.
            self.connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            self.connection.exec_driver_sql("BEGIN")
        else:
            self.connection = self.engine.connect().execution_options(isolation_level="REPEATABLE READ")
            self.connection.begin()
            self.connection.exec_driver_sql("SET TRANSACTION READ ONLY")
        return self.connection

    def __exit__(self, *exc_info) -> None:
        try:
            if self.engine.dialect.name == "sqlite":
                self.connection.exec_driver_sql("ROLLBACK")
            else:
                self.connection.rollback()
        finally:
            self.connection.close()


def _dump_table(connection: Connection, table) -> tuple[int, bytes]:
    """The table's rows as JSON lines, in primary-key order (a stable, diffable dump)."""
    buffer = io.BytesIO()
    rows = 0
    for row in connection.execute(select(table).order_by(*table.primary_key.columns)).mappings():
        encoded = {column.name: _encode(column, row[column.name]) for column in table.columns}
        buffer.write(json.dumps(encoded, sort_keys=True, separators=(",", ":")).encode() + b"\n")
        rows += 1
    return rows, buffer.getvalue()


def _referenced_blobs(connection: Connection) -> set[str]:
    names: set[str] = set()
    for column in BLOB_COLUMNS:
        names.update(connection.scalars(select(column).where(column.is_not(None))))
    return names


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes, now: datetime) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(now.timestamp()), 0o600
    archive.addfile(info, io.BytesIO(data))


class _Hashing:
    """Wraps a stream: hashes and counts what is read through it."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream, self.digest, self.read_bytes = stream, hashlib.sha256(), 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.digest.update(data)
        self.read_bytes += len(data)
        return data


# What a damaged or cut stream raises while it is read (storage errors and our own BackupError pass as they are).
DAMAGED = (tarfile.TarError, ValueError, KeyError, TypeError, IntegrityError, StatementError, EOFError)


# --- restore ---------------------------------------------------------------------------------------------
@dataclass
class RestoreSummary:
    revision: str
    rows: dict[str, int]
    blobs: int

    def as_dict(self) -> dict:
        return {"revision": self.revision, "rows": self.rows, "blobs": self.blobs}


def restore(engine: Engine, store: BlobStore, src: BinaryIO) -> RestoreSummary:
    """Restore a backup stream into an empty instance; all or nothing."""
    _require_empty(engine, store)
    stored: list[str] = []
    checksums: dict[str, str] = {}
    rows: dict[str, int] = {}
    manifest = None
    connection = engine.connect()
    transaction = connection.begin()
    try:
        revision, head = connection_revisions(connection)
        by_name = {table.name: table for table in tables()}
        with tarfile.open(fileobj=src, mode="r|") as archive:
            for member in archive:
                if not member.isfile():
                    raise BackupError(f"unexpected entry in the backup: {member.name!r}")
                reader = archive.extractfile(member)
                if member.name == MANIFEST:
                    if member.size > MAX_MANIFEST:
                        raise BackupError("the backup's manifest is too large to be one of ours")
                    manifest = json.loads(reader.read())
                elif member.name.startswith(TABLES_FOLDER) and member.name.endswith(".jsonl"):
                    name = member.name[len(TABLES_FOLDER):-len(".jsonl")]
                    if name not in by_name:
                        raise BackupError(f"the backup has a table this version does not know: {name!r}")
                    data = reader.read()
                    checksums[member.name] = hashlib.sha256(data).hexdigest()
                    rows[name] = _load_table(connection, by_name[name], data)
                elif member.name.startswith(BLOBS_FOLDER):
                    name = member.name[len(BLOBS_FOLDER):]
                    hashing = _Hashing(reader)
                    store.put(name, hashing)  # refuses a name of the wrong shape (storage.names)
                    stored.append(name)
                    checksums[member.name] = hashing.digest.hexdigest()
                else:
                    raise BackupError(f"unexpected entry in the backup: {member.name!r}")
        _check_manifest(manifest, checksums, revision, head)
        _check_blobs_present(connection, set(stored))
        _reset_sequences(connection)
        transaction.commit()
    except BaseException as error:
        transaction.rollback()
        for name in stored:
            try:
                store.delete(name)
            except StorageError:
                # The rows were never committed, so this blob is an orphan: `consigne sweep-orphans` removes it.
                log.warning("could not delete restored blob %s; the orphan sweeper will", name)
        if isinstance(error, DAMAGED):  # JSON, base64, dates, tar framing, rows that break a constraint
            raise BackupError("the backup is damaged or cut short") from None
        raise
    finally:
        connection.close()
    return RestoreSummary(revision=revision, rows=rows, blobs=len(stored))


def _require_empty(engine: Engine, store: BlobStore) -> None:
    with engine.connect() as connection:
        revision, head = connection_revisions(connection)
        if revision != head:
            raise BackupError("the target database must be migrated first: run `consigne migrate`")
        for name in MUST_BE_EMPTY:
            if connection.scalar(select(func.count()).select_from(Base.metadata.tables[name])):
                raise BackupError(f"the target instance is not empty (table {name} has rows): restore into a "
                                  "new database and an empty bucket or folder")
    for _ in store.list(BLOBS_FOLDER):
        raise BackupError("the target store is not empty (it has blobs): restore into an empty bucket or folder")


def _load_table(connection: Connection, table, data: bytes) -> int:
    batch: list[dict] = []
    count = 0
    for line in data.splitlines():
        values = json.loads(line)
        if set(values) != {column.name for column in table.columns}:
            raise BackupError(f"the rows of table {table.name} do not match this version's columns")
        batch.append({column.name: _decode(column, values[column.name]) for column in table.columns})
        count += 1
        if len(batch) == 500:
            connection.execute(table.insert(), batch)
            batch = []
    if batch:
        connection.execute(table.insert(), batch)
    return count


def _check_manifest(manifest: dict | None, checksums: dict[str, str], revision: str | None, head: str) -> None:
    if manifest is None or manifest.get("format") != FORMAT:
        raise BackupError("this is not a Consigne backup, or it is cut short (no manifest at its end)")
    if manifest["revision"] != revision:
        raise BackupError(f"the backup is at schema revision {manifest['revision']} and this instance at "
                          f"{revision}: restore with the version of Consigne that made it, then migrate")
    if manifest["sha256"] != checksums:
        raise BackupError("the backup is damaged: its checksums do not match its contents")


def _check_blobs_present(connection: Connection, stored: set[str]) -> None:
    missing = _referenced_blobs(connection) - stored
    if missing:
        raise BackupError(f"the backup lacks {len(missing)} blob(s) its rows refer to")


def _reset_sequences(connection: Connection) -> None:
    """PostgreSQL: move each serial column's sequence past the restored ids (SQLite needs nothing)."""
    if connection.dialect.name != "postgresql":
        return
    for table in tables():
        for column in table.primary_key.columns:
            if column.autoincrement is True:
                connection.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                    f"COALESCE((SELECT MAX({column.name}) FROM {table.name}), 1), "
                    f"(SELECT MAX({column.name}) FROM {table.name}) IS NOT NULL)"))


# --- values ----------------------------------------------------------------------------------------------
def _encode(column, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, LargeBinary):
        return base64.b64encode(value).decode("ascii")
    if isinstance(column.type, UTCDateTime):
        return value.isoformat()
    if isinstance(column.type, Date):
        return value.isoformat()
    return value


def _decode(column, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, LargeBinary):
        return base64.b64decode(value, validate=True)
    if isinstance(column.type, UTCDateTime):
        return datetime.fromisoformat(value)
    if isinstance(column.type, Date):
        return date.fromisoformat(value)
    return value


__all__ = ["BackupError", "BackupRaced", "BackupSummary", "RestoreSummary", "backup", "restore", "tables"]
