"""Every list query the API runs reads through an index, on PostgreSQL, at a realistic moderate scale.

Reproduced from issue 6: with 100k people, 2M papers and 5M events an old activity page of a busy person
took 0.9–1.4 s (no index on events(subject_id, id)) and deleting an account 645 ms (no index on
documents.deposited_by_id). Here a data set with the same shape (a few busy people among many quiet
ones) is generated in a few seconds, the real services run on it while their statements are recorded,
and PostgreSQL is asked for each plan. The full scale, with timings, is ``ops/bench_database.py``.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import text

from crypto import age
from ops.query_plans import check_plans, list_queries
from ops.scale_data import MODERATE, generate
from tests.servers.scratch_databases import scratch_database
from tests.vault.test_listing_pages import key_config
from vault.db import make_engine, migrate
from vault.i18n import Translator

NOW = datetime(2026, 11, 23, 9, 0)  # naive UTC, as the generator takes it
EXPECTED = {
    "papers, first page, busy person", "papers, old page, busy person", "papers, first page, quiet person",
    "activity, first page, busy person", "activity, old page, busy person", "activity, first page, quiet person",
    "activity, first page, person busy long ago", "activity, newer page, busy person",
    "sessions sweep", "account deletion, documents.deposited_by_id", "account deletion, documents.owner_id",
    "account deletion, sessions.account_id", "account deletion, recovery_codes.account_id",
    "account deletion, events.subject_id", "sign-in, latest burst of an account",
}


@pytest.fixture(scope="module")
def scale_database(postgres_url):
    with scratch_database(postgres_url) as url:
        engine = make_engine(url)
        migrate(engine)
        identity = age.X25519Identity.generate()
        sample = generate(engine, MODERATE, public_key=identity.recipient.to_string(),
                          title_sealed=age.encrypt_bytes(b"Carte recto verso", [identity.recipient]), now=NOW)
        queries = list_queries(engine, sample, keys=key_config((1, b"k" * 32)),
                               words=Translator.load().for_language("en"), identity=identity)
        yield engine, queries
        engine.dispose()


def test_every_list_query_reads_through_an_index(scale_database):
    engine, queries = scale_database
    # The recording really saw the services' statements (a check of nothing would pass too easily)
    labels = {query.name.split(" #")[0] for query in queries}
    assert EXPECTED <= labels
    assert sum(1 for query in queries if query.name.startswith("activity, old page, busy person")) >= 3
    with engine.connect() as connection:
        assert check_plans(connection, queries) == {}


def test_the_check_finds_the_missing_indexes_of_the_report(scale_database):
    # Given the schema as it was when the failures were measured (no events(subject_id, id) index, no
    # documents.deposited_by_id index), in a transaction that is rolled back
    engine, queries = scale_database
    with engine.connect() as connection:
        connection.execute(text("DROP INDEX ix_events_subject_id"))
        connection.execute(text("DROP INDEX ix_documents_deposited_by_id"))
        connection.execute(text("ANALYZE events"))
        connection.execute(text("ANALYZE documents"))
        problems = check_plans(connection, queries)
        connection.rollback()
    # Then the activity pages and the account deletion's look-up are reported as whole-table reads
    assert "account deletion, documents.deposited_by_id" in problems
    assert "Seq Scan on documents" in problems["account deletion, documents.deposited_by_id"]
    assert any(name.startswith("activity, first page, busy person #1") for name in problems)
    assert any(name.startswith("account deletion, events.subject_id") for name in problems)
