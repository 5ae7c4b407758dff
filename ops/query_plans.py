"""Every list query the API runs, captured from the real services and EXPLAINed on PostgreSQL.

The queries are not written out here: the services themselves run (a busy person's papers page by page,
their activity's first page, a page from long ago and the way back to newer pages, a quiet person's, the
sessions sweep) while every statement they send is recorded with its parameters; each is then asked
``EXPLAIN (FORMAT JSON)``. A query added to a service later is checked without anyone remembering to
list it. Account deletion does
not exist yet as a service, so its look-ups are derived from the schema: one per foreign key pointing at
``accounts`` (what PostgreSQL itself runs when an account row is deleted) plus the person's events.

A plan is refused when it reads a whole big table: a sequential scan, or an index scan with no index
condition (walking a whole index for its order while filtering, which is what PostgreSQL does for
``ORDER BY id DESC LIMIT 50`` when the (subject_id, id) index is missing).
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from datetime import timezone
from typing import Any, Iterator

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine

from ops.scale_data import Sample
from vault.activity import ACTIVITY_LISTING, list_activity
from vault.db import make_session_factory
from vault.documents import DOCUMENTS_LISTING, list_documents
from vault.i18n import BoundTranslator
from vault.keys import KeyConfig
from vault.models import Account, Base
from vault.paging import encode_cursor
from vault.sessions import CurrentAccount, purge_expired_sessions

# Tables that hold one row or more per person, paper or event: never read whole by a request.
BIG_TABLES = frozenset({"accounts", "documents", "events", "sessions", "recovery_codes", "failed_sign_in_bursts",
                        "follows"})
WHOLE_SCAN_NODES = {"Seq Scan", "Parallel Seq Scan"}
INDEX_NODES = {"Index Scan", "Index Only Scan"}
# How deep "a page from long ago" is, as a share of the busy person's history.
OLD_PAGE_DEPTH = 0.9


@dataclass(frozen=True)
class Query:
    name: str
    statement: str
    parameters: Any


@dataclass
class _Recorder:
    label: str = ""
    queries: list[Query] = field(default_factory=list)

    def __call__(self, _connection, _cursor, statement, parameters, _context, _executemany) -> None:
        if re.match(r"\s*(SELECT|DELETE|UPDATE|WITH)\b", statement, re.IGNORECASE):
            number = sum(1 for query in self.queries if query.name.startswith(self.label + " #")) + 1
            self.queries.append(Query(f"{self.label} #{number}", statement, parameters))


@contextlib.contextmanager
def _recording(engine: Engine) -> Iterator[_Recorder]:
    recorder = _Recorder()
    event.listen(engine, "before_cursor_execute", recorder)
    try:
        yield recorder
    finally:
        event.remove(engine, "before_cursor_execute", recorder)


def list_queries(engine: Engine, sample: Sample, *, keys: KeyConfig, words: BoundTranslator,
                 identity) -> list[Query]:
    """Run the list services on the generated set and return every statement they sent."""
    session = make_session_factory(engine)()
    busy = session.get(Account, sample.busy_person_id)
    quiet = session.get(Account, sample.quiet_person_id)
    formerly_busy = session.get(Account, sample.formerly_busy_person_id)
    old_papers = old_documents_cursor(session.connection(), busy.id, keys)
    old_activity = old_activity_cursor(session.connection(), busy.id, keys)
    try:
        with _recording(engine) as recorder:
            for person, who in ((busy, "busy person"), (quiet, "quiet person"),
                                (formerly_busy, "person busy long ago")):
                current = CurrentAccount(account=person, identity=identity, session=None)
                recorder.label = f"papers, first page, {who}"
                list_documents(session, current=current, keys=keys)
                recorder.label = f"activity, first page, {who}"
                list_activity(session, owner=person, words=words, keys=keys, identity=identity)
            recorder.label = "papers, old page, busy person"
            list_documents(session, current=CurrentAccount(account=busy, identity=identity, session=None), keys=keys,
                           cursor=old_papers)
            recorder.label = "activity, old page, busy person"
            old_page = list_activity(session, owner=busy, words=words, keys=keys, identity=identity,
                                     cursor=old_activity)
            recorder.label = "activity, newer page, busy person"  # back towards the first page
            list_activity(session, owner=busy, words=words, keys=keys, identity=identity,
                          cursor=old_page.previous_cursor)
            recorder.label = "sessions sweep"
            purge_expired_sessions(session, now=sample.now.replace(tzinfo=timezone.utc))
    finally:
        session.rollback()  # the sweep's DELETE was only run to capture it
        session.close()
    return recorder.queries + account_deletion_lookups(sample) + sign_in_burst_lookups(sample)


def account_deletion_lookups(sample: Sample) -> list[Query]:
    """What deleting an account reads: every row pointing at it, found through each foreign key."""
    queries = []
    for table in Base.metadata.sorted_tables:
        for foreign_key in table.foreign_keys:
            if foreign_key.column.table.name == "accounts":
                column = foreign_key.parent.name
                account = sample.staff_id if column == "deposited_by_id" else sample.busy_person_id
                queries.append(Query(f"account deletion, {table.name}.{column}",
                                     f"SELECT 1 FROM {table.name} WHERE {column} = %(id)s", {"id": account}))
    queries.append(Query("account deletion, events.subject_id", "SELECT id FROM events WHERE subject_id = %(id)s",
                         {"id": sample.busy_person_id}))
    return queries


def sign_in_burst_lookups(sample: Sample) -> list[Query]:
    """The sign-in's look-up of a person's latest burst (to extend it or start a new one)."""
    return [Query("sign-in, latest burst of an account",
                  "SELECT id, last_at, count FROM failed_sign_in_bursts WHERE account_id = %(id)s "
                  "ORDER BY last_at DESC LIMIT 1", {"id": sample.busy_person_id})]


def old_activity_cursor(connection: Connection, owner_id: str, keys: KeyConfig) -> str:
    count = connection.scalar(text("SELECT count(*) FROM events WHERE subject_id = :id"), {"id": owner_id})
    event_id = connection.scalar(text("SELECT id FROM events WHERE subject_id = :id ORDER BY id DESC "
                                      "OFFSET :depth LIMIT 1"), {"id": owner_id, "depth": int(count * OLD_PAGE_DEPTH)})
    return encode_cursor(keys, listing=ACTIVITY_LISTING, owner_id=owner_id, position=[event_id])


def old_documents_cursor(connection: Connection, owner_id: str, keys: KeyConfig) -> str:
    count = connection.scalar(text("SELECT count(*) FROM documents WHERE owner_id = :id"), {"id": owner_id})
    row = connection.execute(text("SELECT created_at, id FROM documents WHERE owner_id = :id "
                                  "ORDER BY created_at DESC, id DESC OFFSET :depth LIMIT 1"),
                             {"id": owner_id, "depth": int(count * OLD_PAGE_DEPTH)}).one()
    created_at = row.created_at.replace(tzinfo=timezone.utc)
    return encode_cursor(keys, listing=DOCUMENTS_LISTING, owner_id=owner_id, position=[created_at.isoformat(), row.id])


def explain(connection: Connection, query: Query) -> dict:
    """PostgreSQL's plan for ``query`` (estimated: nothing is executed, a DELETE deletes nothing)."""
    result = connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + query.statement, query.parameters).scalar()
    return result[0]["Plan"]


def whole_table_reads(plan: dict, tables: frozenset[str] = BIG_TABLES) -> list[str]:
    """The nodes of ``plan`` that read a whole big table, described in words (empty when none)."""
    found = []
    for node in _nodes(plan):
        relation = node.get("Relation Name")
        if relation not in tables:
            continue
        if node["Node Type"] in WHOLE_SCAN_NODES:
            found.append(f"{node['Node Type']} on {relation}")
        elif node["Node Type"] in INDEX_NODES and "Index Cond" not in node:
            found.append(f"{node['Node Type']} of all of {node.get('Index Name')} on {relation}"
                         f" (filter: {node.get('Filter', 'none')})")
    return found


def check_plans(connection: Connection, queries: list[Query]) -> dict[str, list[str]]:
    """{query name: whole-table reads} for every query whose plan reads a whole big table."""
    problems = {}
    for query in queries:
        found = whole_table_reads(explain(connection, query))
        if found:
            problems[query.name] = found
    return problems


def _nodes(plan: dict) -> Iterator[dict]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)
