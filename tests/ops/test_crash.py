"""A process killed between writing a paper's blob and committing its row leaves an orphan blob, never a
row without its blob; ``consigne sweep-orphans`` finds it and removes it, and ``consigne check`` stays clean.

The crash is real: a child process stores a paper through the service and ends with ``os._exit`` right
before the commit, so no ``finally``, no rollback and no clean-up of ours runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ops import cli
from ops.orphans import sweep_orphans
from storage import open_blob_store
from tests.factories import build_services, make_person
from vault.models import Document

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.usefixtures("database_url")

CRASHING_UPLOAD = textwrap.dedent("""
    import os, sys
    from datetime import datetime, timezone
    from tests.conftest import FakeClock
    from tests.factories import PersonMade, build_services, make_document, sign_in
    from vault.db import UnitOfWork
    from vault.settings import load_settings

    services = build_services(load_settings(), FakeClock(datetime.now(timezone.utc)))
    person = PersonMade(id="", username=sys.argv[1], password=sys.argv[2], recovery_codes=[])
    person.token = sign_in(services, person.username, person.password)

    def crash_before_commit(self):
        assert self.created_blobs, "the blob is written before the commit"
        print("blobs written:", len(self.created_blobs), flush=True)
        os._exit(9)  # the process dies here: no rollback, no blob clean-up

    UnitOfWork.commit = crash_before_commit
    make_document(services, person)
""")


def test_a_crash_between_blob_and_commit_leaves_an_orphan_that_the_sweep_removes(environment, clock, capsys):
    settings = environment
    services = build_services(settings, clock)
    person = make_person(services, "alix", signed_in=False)
    services.close()
    child_environment = {**os.environ, "CONSIGNE_DATA_DIR": str(settings.data_dir),
                   "CONSIGNE_DATABASE_URL": settings.database_url, "CONSIGNE_KDF": "fast-insecure-for-tests",
                   "PYTHONPATH": str(ROOT)}
    crashed = subprocess.run([sys.executable, "-c", CRASHING_UPLOAD, person.username, person.password],
                             cwd=ROOT, env=child_environment, capture_output=True, text=True, timeout=120)
    assert crashed.returncode == 9, crashed.stderr
    assert "blobs written: 2" in crashed.stdout  # the paper and its thumbnail

    store = open_blob_store(settings.storage_url)
    left = list(store.list("blobs/"))
    assert len(left) == 2
    services = build_services(settings, clock)
    with services.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Document)) == 0  # never a row without its blob
    services.close()

    assert cli.main(["check"]) == 0  # no row misses its blob: the database is consistent
    now = datetime.now(timezone.utc)
    assert sweep_orphans(settings, older_than=now - timedelta(minutes=5)) == []  # an upload may still be in flight
    capsys.readouterr()
    assert cli.main(["sweep-orphans", "--older-than-minutes", "0", "--dry-run"]) == 0
    assert json.loads(capsys.readouterr().out) == {"orphans": 2, "deleted": False}
    assert sorted(sweep_orphans(settings, older_than=now + timedelta(minutes=1))) == sorted(left)
    assert list(store.list("blobs/")) == []
