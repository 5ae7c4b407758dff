"""The consigne command: secrets, demo data (once), orphan and session sweeping, and the benchmark."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from ops import bench, cli
from ops.orphans import sweep_orphans
from storage import open_blob_store
from vault.db import make_engine, make_session_factory
from vault.models import Account, Document, Organisation

pytestmark = pytest.mark.usefixtures("database_url")


def test_secrets_are_fresh_environment_lines(capsys):
    assert cli.main(["secrets"]) == 0
    first = capsys.readouterr().out
    cli.main(["secrets"])
    assert first != capsys.readouterr().out
    assert [line.split("=", 1)[0] for line in first.splitlines()] == [
        "CONSIGNE_PEPPERS", "CONSIGNE_APP_KEYS", "CONSIGNE_SIGNING_KEYS"]


def test_demo_seeds_once_with_specimen_papers(environment, capsys):
    assert cli.main(["demo"]) == 0
    assert cli.main(["demo"]) == 0
    output = capsys.readouterr().out
    assert "camille.demo" in output and "sami.travailleur" in output
    with make_session_factory(make_engine(environment.database_url))() as session:
        assert session.scalar(select(func.count()).select_from(Organisation)) == 1
        assert session.scalar(select(func.count()).select_from(Account)) == 2
        assert session.scalar(select(func.count()).select_from(Document)) == 3
    assert cli.main(["demo", "--otp"]) == 0
    assert capsys.readouterr().out.strip().isdigit()


def test_demo_is_refused_in_production(monkeypatch, environment):
    from ops.demo import seed_demo
    from dataclasses import replace

    assert seed_demo(replace(environment, production=True), out=io.StringIO()) == 2


def test_sweep_orphans_keeps_referenced_and_recent_blobs(environment):
    cli.main(["demo"])
    store = open_blob_store(environment.storage_url)
    referenced = set(store.list("blobs/"))
    store.put("blobs/aa/" + "a" * 32, io.BytesIO(b"orphan"))
    now = datetime.now(timezone.utc)
    assert sweep_orphans(environment, older_than=now - timedelta(minutes=5)) == []  # too recent to judge
    removed = sweep_orphans(environment, older_than=now + timedelta(minutes=1), dry_run=True)
    assert removed == ["blobs/aa/" + "a" * 32]
    assert sweep_orphans(environment, older_than=now + timedelta(minutes=1)) == removed
    assert set(store.list("blobs/")) == referenced


def test_sweep_sessions_command(environment, capsys):
    assert cli.main(["migrate"]) == 0
    assert cli.main(["sweep-sessions"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1]) == {"sessions_deleted": 0, "throttles_deleted": 0}


def test_configuration_errors_are_clear(monkeypatch, capsys):
    monkeypatch.setenv("CONSIGNE_ENV", "production")
    assert cli.main(["migrate"]) == 2
    assert "configuration error" in capsys.readouterr().err


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_benchmark_runs_and_prints_ratios(capsys):
    from ops.serving.loopback import find_nginx
    from tests.lanes import missing

    if find_nginx() is None:  # the API figures go through the production server
        missing("nginx", "apt-get install nginx")
    assert bench.main(["--quick"]) == 0
    figures = json.loads(capsys.readouterr().out)
    for name in ("age_stream", "s3_put_get", "upload_download_pdf"):
        assert figures[name]["ratio"] > 0
    assert figures["serving"]["worker_class"] == "gthread"
    assert figures["upload_memory"]["ratio_to_document"] > 0
    listing = figures["list_documents"]
    for timings in (listing["idle"], listing["during_sign_in_load"]):
        assert timings["p95_ms"] >= timings["p50_ms"] > 0
    assert figures["sign_ins"]["per_second"] > 0 and figures["sign_ins"]["answers"]["201"] > 0
