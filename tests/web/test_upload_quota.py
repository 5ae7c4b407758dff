"""Parallel uploads never take a person past their quota, on SQLite as on PostgreSQL (issue 6, point 8).

Reproduced from the issue: on SQLite, 8 parallel uploads overshot a 1 MiB quota to 156 %, because the
quota was read before the work and the row written after it, with nothing held in between. Now the
paper is cleaned, encrypted and stored first, then the owner's row is locked (``vault.db.lock_row``,
which holds on SQLite too) for the check and the insert; a refused upload's blobs go with the rollback.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
from sqlalchemy import select

from tests.vault import media_samples as samples
from tests.web.live_server import person_token, serving, upload, upload_body
from vault.models import Account, Document
from web.app import create_app

pytestmark = pytest.mark.usefixtures("database_url")
PARALLEL_UPLOADS = 8
FITTING = 3


def stored_sizes(app, username: str) -> list[int]:
    services = app.extensions["consigne"]
    with services.session_factory() as session:
        owner = session.scalar(select(Account.id).where(Account.username == username))
        return list(session.scalars(select(Document.stored_size).where(Document.owner_id == owner)))


def all_blob_names(app) -> set[str]:
    services = app.extensions["consigne"]
    with services.session_factory() as session:
        rows = session.execute(select(Document.blob_name, Document.thumbnail_blob_name)).all()
    return {name for row in rows for name in row}


def test_parallel_uploads_fill_the_quota_and_never_pass_it(settings, clock):
    app = create_app(settings, clock=clock)
    services = app.extensions["consigne"]
    photo = samples.noisy_png(side=150)
    body, content_type = upload_body([(photo, "photo.png")])
    with serving(app) as base_url:
        # Given the stored size of one such paper, and a quota that holds three of them and a half
        calibration = person_token(base_url, "calibre")
        assert upload(base_url, calibration, body, content_type).status == 201
        [one_paper] = stored_sizes(app, "calibre")
        quota = FITTING * one_paper + one_paper // 2
        services.settings = replace(settings, limits=replace(settings.limits, quota_bytes=quota))
        # (the clock stands still: no request renews its session, a write that would serialise them
        # by itself, so only the quota's own lock keeps them from overshooting)
        token = person_token(base_url, "amina")

        # When eight uploads of that paper start at the same moment
        answers = []
        ready = threading.Barrier(PARALLEL_UPLOADS)

        def send():
            ready.wait(30)
            answers.append(upload(base_url, token, body, content_type))

        threads = [threading.Thread(target=send) for _ in range(PARALLEL_UPLOADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)

    # Then exactly the three that fit are kept, the others are refused as over the quota
    statuses = sorted((answer.status, answer.code) for answer in answers)
    refused = PARALLEL_UPLOADS - FITTING
    assert statuses == [(201, None)] * FITTING + [(413, "quota_exceeded")] * refused, statuses
    kept = stored_sizes(app, "amina")
    assert len(kept) == FITTING and sum(kept) <= quota
    # And the store holds the blobs of kept papers only: none of a refused upload stayed behind
    assert set(services.store.list("")) == all_blob_names(app)
    assert len(all_blob_names(app)) == 2 * (FITTING + 1)
