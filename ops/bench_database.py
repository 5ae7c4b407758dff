"""The database at scale: query plans and timings at 100k people, 2M papers, 5M events (issue 6).

    .venv/bin/python -m ops.bench_database [--quick] [--database-url postgresql+psycopg://…/empty_db] [--runs 21]

Without ``--database-url`` a throw-away PostgreSQL cluster is started (Debian's ``postgresql``, as in
the tests). The data set is generated in SQL (``ops/scale_data.py``), every list query the services run
is EXPLAINed (``ops/query_plans.py``: exit status 1 if one reads a whole big table), then timed: p50 of
``--runs`` runs, and a ratio to a baseline measured in the same run (one account read by primary key).
Measured against the schema of the report, in a transaction rolled back afterwards: the old activity page
(index on (subject_id, at) instead of (subject_id, id)) and account deletion without the index on
``documents.deposited_by_id``. Last, ``consigne sweep-sessions`` over the set's sessions, half of them
expired (more than 65,535), against what the old sweep did first: load every session into Python.
``--quick`` runs the moderate scale of the test suite.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterator

from sqlalchemy import create_engine, make_url, select, text
from sqlalchemy.engine import Connection, Engine

from crypto import age
from crypto.sealing import KeyRing, PepperRing
from ops.query_plans import Query, check_plans, list_queries, old_activity_cursor, old_documents_cursor
from ops.scale_data import FULL, MODERATE, Sample, generate
from vault.activity import list_activity
from vault.db import make_engine, make_session_factory, migrate
from vault.documents import list_documents
from vault.i18n import Translator
from vault.keys import KeyConfig
from vault.models import Account, Session
from vault.sessions import CurrentAccount
from vault.settings import DEFAULT_KDF, generate_secrets

REPOSITORY = Path(__file__).resolve().parent.parent


def p50_ms(function: Callable[[], object], runs: int) -> float:
    function()  # warm: the first run pays for cold caches and plan preparation
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        timings.append(time.perf_counter() - started)
    return round(statistics.median(timings) * 1000, 3)


@contextlib.contextmanager
def database(url: str | None) -> Iterator[str]:
    """The database given (it must be empty), or a new one in a throw-away cluster."""
    if url:
        yield url
        return
    try:
        from tests.servers.postgres import running_postgres
    except ImportError:  # pragma: no cover - run from outside the repository
        raise SystemExit("give --database-url, or run from the repository to start a throw-away cluster")
    with running_postgres() as started:
        yield started


def run_statement(connection: Connection, query: Query, *, roll_back: bool = False) -> Callable[[], object]:
    """One run of ``query`` on ``connection``; a write is undone (savepoint) so every run does the same work."""
    def run():
        if roll_back:
            savepoint = connection.begin_nested()
            connection.exec_driver_sql(query.statement, query.parameters)
            savepoint.rollback()
            return
        result = connection.exec_driver_sql(query.statement, query.parameters)
        if result.returns_rows:
            result.fetchall()
    return run


def statement_timings(connection: Connection, queries: list[Query], runs: int, baseline_ms: float) -> dict:
    figures = {}
    for query in queries:
        writes = query.statement.lstrip().upper().startswith(("DELETE", "UPDATE"))
        milliseconds = p50_ms(run_statement(connection, query, roll_back=writes), runs)
        figures[query.name] = {"p50_ms": milliseconds,
                               "ratio_to_primary_key_read": round(milliseconds / baseline_ms, 1)}
    return figures


def service_timings(engine: Engine, sample: Sample, *, keys: KeyConfig, identity, runs: int,
                    baseline_ms: float) -> dict:
    """The services as the API calls them (statements plus building the answer, titles decrypted)."""
    words = Translator.load().for_language("fr")
    session = make_session_factory(engine)()
    busy = session.get(Account, sample.busy_person_id)
    current = CurrentAccount(account=busy, identity=identity, session=None)
    old_activity = old_activity_cursor(session.connection(), busy.id, keys)
    old_papers = old_documents_cursor(session.connection(), busy.id, keys)
    session.commit()
    cases = {
        "papers, first page (200), busy person": lambda: list_documents(session, current=current, keys=keys),
        "papers, old page (200), busy person": lambda: list_documents(session, current=current, keys=keys,
                                                                       cursor=old_papers),
        "activity, first page (50), busy person": lambda: list_activity(session, owner=busy, words=words, keys=keys,
                                                                         identity=identity),
        "activity, old page (50), busy person": lambda: list_activity(session, owner=busy, words=words, keys=keys,
                                                                       identity=identity, cursor=old_activity),
    }
    figures = {}
    try:
        for name, call in cases.items():
            milliseconds = p50_ms(lambda: (call(), session.rollback()), runs)
            figures[name] = {"p50_ms": milliseconds, "ratio_to_primary_key_read": round(milliseconds / baseline_ms, 1)}
    finally:
        session.close()
    return figures


def old_schema_timings(connection: Connection, sample: Sample, *, runs: int) -> dict:
    """The report's failures, measured again on this data set with the schema of the time (rolled back).

    Then: an index on events (subject_id, at) instead of (subject_id, id), the activity written as
    ``subject_id = … ORDER BY id DESC``, and no index on documents.deposited_by_id.
    """
    before_id = _old_activity_position(connection, sample.busy_person_id)
    pages = {
        "activity first page (200 events), busy person": ("", {"s": sample.busy_person_id}),
        "activity first page (200 events), person busy long ago": ("", {"s": sample.formerly_busy_person_id}),
        "activity old page (200 events), busy person": ("AND id < %(b)s ", {"s": sample.busy_person_id,
                                                                              "b": before_id}),
    }
    old_queries = {name: Query(name, f"SELECT * FROM events WHERE subject_id = %(s)s {condition}"
                               "ORDER BY id DESC LIMIT 200", parameters)
                   for name, (condition, parameters) in pages.items()}
    new_queries = {name: Query(name, "SELECT * FROM events WHERE subject_id >= %(s)s AND subject_id <= %(s)s "
                               f"{condition}ORDER BY subject_id DESC, id DESC LIMIT 200", parameters)
                   for name, (condition, parameters) in pages.items()}
    deletion = "delete a quiet person's account"
    old_queries[deletion] = new_queries[deletion] = Query(deletion, "DELETE FROM accounts WHERE id = %(id)s",
                                                          {"id": sample.quiet_person_id})
    figures = {name: {"now_p50_ms": p50_ms(run_statement(connection, query, roll_back=name == deletion), runs)}
               for name, query in new_queries.items()}
    for name, query in new_queries.items():
        if name != deletion:
            figures[name]["now_pages_read"] = pages_read(connection, query)
    connection.commit()
    with connection.begin():
        connection.execute(text("SET LOCAL lock_timeout = '10s'"))
        connection.execute(text("DROP INDEX ix_events_subject_id"))
        connection.execute(text("CREATE INDEX ix_events_subject_at ON events (subject_id, at)"))
        connection.execute(text("DROP INDEX ix_documents_deposited_by_id"))
        connection.execute(text("ANALYZE events"))
        connection.execute(text("ANALYZE documents"))
        old_runs = max(3, runs // 4)  # an old run takes up to seconds
        for name, query in old_queries.items():
            figures[name]["before_p50_ms"] = p50_ms(run_statement(connection, query, roll_back=name == deletion),
                                                    old_runs)
            if name != deletion:
                figures[name]["before_pages_read"] = pages_read(connection, query)
        connection.rollback()
    for figure in figures.values():
        figure["speed_up"] = round(figure["before_p50_ms"] / figure["now_p50_ms"], 1)
    return figures


def pages_read(connection: Connection, query: Query) -> int:
    """Table and index pages (8 KiB) the query touched: what a cold cache would read from disk, a figure
    that does not depend on the machine or on what else it is doing."""
    plan = connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + query.statement,
                                      query.parameters).scalar()[0]["Plan"]
    return plan["Shared Hit Blocks"] + plan["Shared Read Blocks"]


def _old_activity_position(connection, owner_id: str) -> int:
    count = connection.scalar(text("SELECT count(*) FROM events WHERE subject_id = :s"), {"s": owner_id})
    return connection.scalar(text("SELECT id FROM events WHERE subject_id = :s ORDER BY id DESC OFFSET :d LIMIT 1"),
                             {"s": owner_id, "d": int(count * 0.9)})


def sweep_timings(engine: Engine, url: str, sample: Sample, runs: int) -> dict:
    """`consigne sweep-sessions` with half of the sessions expired, against loading them all (the old sweep).

    The command reads the real clock: the data set was generated around the real present.
    """
    now = sample.now.replace(tzinfo=timezone.utc)
    with engine.begin() as connection:
        # Half of the sessions (by a bit of their random id) went idle five minutes ago.
        connection.execute(text("UPDATE sessions SET idle_until = :past WHERE get_byte(decode(id, 'hex'), 0) % 2 = 0"),
                           {"past": sample.now - timedelta(minutes=5)})
        total = connection.scalar(text("SELECT count(*) FROM sessions"))
        expired = connection.scalar(text("SELECT count(*) FROM sessions "
                                         "WHERE expires_at <= :now OR idle_until <= :now"), {"now": sample.now})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE sessions"))
    factory = make_session_factory(engine)

    def load_every_session():
        with factory() as session:
            session.scalars(select(Session)).all()

    def sweep_rolled_back():
        from vault.sessions import purge_expired_sessions

        with factory() as session:
            purge_expired_sessions(session, now=now)
            session.rollback()

    loading_ms = p50_ms(load_every_session, max(3, runs // 4))
    sweep_ms = p50_ms(sweep_rolled_back, max(3, runs // 4))
    with tempfile.TemporaryDirectory() as folder:
        environment = {name: value for name, value in os.environ.items() if not name.startswith("CONSIGNE_")}
        environment |= {"CONSIGNE_DATABASE_URL": url, "CONSIGNE_DATA_DIR": folder}
        started = time.perf_counter()
        finished = subprocess.run([sys.executable, "-m", "ops.cli", "sweep-sessions"], cwd=REPOSITORY,
                                  env=environment, capture_output=True, text=True, timeout=600)
        command_s = time.perf_counter() - started
    if finished.returncode != 0:
        raise SystemExit(f"consigne sweep-sessions failed: {finished.stderr[-2000:]}")
    deleted = json.loads(finished.stdout.strip().splitlines()[-1])["sessions_deleted"]
    return {"sessions": total, "expired": expired, "old_sweep_loading_every_session_p50_ms": loading_ms,
            "sweep_delete_p50_ms": sweep_ms, "ratio": round(loading_ms / sweep_ms, 1),
            "consigne_sweep_sessions_command_s": round(command_s, 2), "command_deleted": deleted,
            "note": "the command's time includes starting Python"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="the moderate scale of the test suite")
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: a throw-away cluster)")
    parser.add_argument("--runs", type=int, default=21, help="runs per timing (p50)")
    arguments = parser.parse_args(argv)
    scale = MODERATE if arguments.quick else FULL
    secrets = generate_secrets()
    keys = KeyConfig(peppers=PepperRing.parse(secrets["CONSIGNE_PEPPERS"]),
                     app_keys=KeyRing.parse(secrets["CONSIGNE_APP_KEYS"]), password_kdf=DEFAULT_KDF)
    identity = age.X25519Identity.generate()
    with database(arguments.database_url) as url:
        engine = make_engine(url)
        migrate(engine)
        with engine.connect() as connection:
            if connection.scalar(text("SELECT count(*) FROM accounts")):
                raise SystemExit("the database is not empty: give an empty one")
        started = time.perf_counter()
        sample = generate(engine, scale, public_key=identity.recipient.to_string(),
                          title_sealed=age.encrypt_bytes(b"Carte recto verso", [identity.recipient]),
                          now=datetime.now(timezone.utc).replace(tzinfo=None))
        generated_s = time.perf_counter() - started
        queries = list_queries(engine, sample, keys=keys, words=Translator.load().for_language("fr"), identity=identity)
        with engine.connect() as connection:
            problems = check_plans(connection, queries)
            rows = {table: connection.scalar(text(f"SELECT count(*) FROM {table}"))
                    for table in ("accounts", "documents", "events", "sessions", "recovery_codes",
                                  "failed_sign_in_bursts")}
        baseline = Query("account by primary key", "SELECT * FROM accounts WHERE id = %(id)s",
                         {"id": sample.quiet_person_id})
        with engine.connect() as connection:
            baseline_ms = p50_ms(run_statement(connection, baseline), arguments.runs)
            statements = statement_timings(connection, queries, arguments.runs, baseline_ms)
            connection.commit()
            report_schema = old_schema_timings(connection, sample, runs=arguments.runs)
        results = {
            "scale": {"rows": rows, "generated_s": round(generated_s, 1),
                      "database": make_url(url).render_as_string(hide_password=True)},
            "plans": {"queries_checked": len(queries), "whole_table_reads": problems},
            "baseline_primary_key_read_p50_ms": baseline_ms,
            "statements": statements,
            "services": service_timings(engine, sample, keys=keys, identity=identity, runs=arguments.runs,
                                        baseline_ms=baseline_ms),
            "report_schema_against_now": report_schema,
            "sweep_sessions": sweep_timings(engine, url, sample, arguments.runs),
        }
        engine.dispose()
    print(json.dumps(results, indent=2, ensure_ascii=False))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
