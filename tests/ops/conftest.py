"""The environment a ``consigne`` command reads, pointing at the test's database and data folder."""

from __future__ import annotations

import pytest


@pytest.fixture
def environment(monkeypatch, settings):
    monkeypatch.setenv("CONSIGNE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("CONSIGNE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CONSIGNE_KDF", "fast-insecure-for-tests")
    return settings
