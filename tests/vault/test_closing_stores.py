"""Closing a vault on every blob store (local folder, moto's S3, Swift's S3) and both databases: no row
and no blob of the person is left, listed in the store itself."""

from __future__ import annotations

import pytest

from tests.factories import build_services
from tests.vault.test_closing import blob_names, blobs_of, close, traces_of, world  # noqa: F401 - fixture


@pytest.fixture
def services(settings, clock, blob_store):
    built = build_services(settings, clock)
    built.store = blob_store
    yield built
    built.close()


def test_closing_removes_every_blob_from_the_store(services, world):  # noqa: F811 - the fixture
    person, other = world["person"], world["other"]
    mine, theirs = blobs_of(services, person.id), blobs_of(services, other.id)
    assert len(mine) == 4 and blob_names(services) == mine | theirs
    assert close(services, person) == 2
    assert traces_of(services, person) == []
    assert blob_names(services) == theirs
