"""What an operator's tools read: readiness (database, schema, storage) and logs with a request id."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import re

import pytest
from alembic import command

from tests.servers.fixtures import make_s3_store, random_bucket_name, remove_bucket
from vault.db import alembic_config, head_revision, make_engine
from web.app import create_app
from web.logs import REQUEST_ID_HEADER, JsonFormatter

pytestmark = pytest.mark.usefixtures("database_url")


def test_ready_names_each_part_and_the_schema_revision(client):
    answer = client.get("/ready")
    assert answer.status_code == 200
    assert answer.json == {"status": "ready", "revision": head_revision(), "database": "ok", "schema": "ok",
                           "storage": "ok"}


def test_ready_says_which_part_is_missing_when_storage_is_unreachable(settings, clock, moto_s3):
    # The bucket disappears under a running instance: it lives, but must not get traffic.
    bucket = random_bucket_name()
    store = make_s3_store(moto_s3, bucket)
    app = create_app(settings, clock=clock, store=store)
    assert app.test_client().get("/ready").status_code == 200
    remove_bucket(moto_s3, bucket)
    answer = app.test_client().get("/ready")
    assert answer.status_code == 503
    assert answer.json["status"] == "not_ready"
    assert answer.json["storage"] == "unavailable" and answer.json["database"] == "ok"
    assert moto_s3.secret_key not in answer.get_data(as_text=True)
    assert app.test_client().get("/health").status_code == 200  # alive, just not ready
    store.close()


def test_ready_says_the_schema_is_outdated_after_a_downgrade(settings, clock, database_url):
    app = create_app(settings, clock=clock)
    engine = make_engine(database_url)
    with engine.begin() as connection:
        config = alembic_config(database_url)
        config.attributes["connection"] = connection
        command.downgrade(config, "-1")
    try:
        answer = app.test_client().get("/ready")
        assert answer.status_code == 503 and answer.json["schema"] == "outdated"
    finally:
        with engine.begin() as connection:
            config = alembic_config(database_url)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        engine.dispose()


def test_every_answer_carries_a_request_id_and_a_proxys_is_kept_only_when_trusted(settings, clock):
    plain = create_app(settings, clock=clock).test_client()
    first, second = plain.get("/health"), plain.get("/health")
    assert re.fullmatch(r"[0-9a-f]{32}", first.headers[REQUEST_ID_HEADER])
    assert first.headers[REQUEST_ID_HEADER] != second.headers[REQUEST_ID_HEADER]
    offered = "0123456789abcdef0123456789abcdef"
    # Not behind a trusted proxy: a client's id is not taken (it could be used to mix up log lines).
    assert plain.get("/health", headers={REQUEST_ID_HEADER: offered}).headers[REQUEST_ID_HEADER] != offered
    proxied = create_app(dataclasses.replace(settings, trusted_proxies=1), clock=clock).test_client()
    assert proxied.get("/health", headers={REQUEST_ID_HEADER: offered}).headers[REQUEST_ID_HEADER] == offered
    # Malformed ids are never echoed (a header is no place for a client's text).
    for hostile in ("x" * 32, offered + "0", offered.upper(), "../../etc/passwd"):
        assert proxied.get("/health", headers={REQUEST_ID_HEADER: hostile}).headers[REQUEST_ID_HEADER] != hostile


def test_an_unexpected_error_is_one_json_line_with_the_request_id_and_no_sql_values(settings, clock):
    app = create_app(dataclasses.replace(settings, log_format="json"), clock=clock)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logging.getLogger("web.errors").addHandler(handler)

    @app.get("/boom")
    def boom():
        from sqlalchemy import text

        from vault.db import make_engine as engine_for

        with engine_for(settings.database_url).connect() as connection:
            connection.execute(text("SELECT * FROM no_such_table WHERE username = :name"),
                               {"name": "secret-username"})

    try:
        answer = app.test_client().get("/boom?token=abc123")
    finally:
        logging.getLogger("web.errors").removeHandler(handler)
    assert answer.status_code == 500
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 1
    entry = lines[0]
    assert entry["level"] == "error" and entry["request_id"] == answer.headers[REQUEST_ID_HEADER]
    assert entry["message"] == "unexpected error on GET /boom"
    assert "no_such_table" in entry["exception"]  # the SQL is there to debug…
    text_logged = stream.getvalue()
    assert "secret-username" not in text_logged  # …its values are not
    assert "abc123" not in text_logged  # nor the query string
