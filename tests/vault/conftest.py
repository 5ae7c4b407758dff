"""Fixtures for service tests (no HTTP): the services built from the settings, on both databases."""

import pytest

from tests.factories import build_services


@pytest.fixture
def services(settings, clock):
    built = build_services(settings, clock)
    yield built
    built.close()
