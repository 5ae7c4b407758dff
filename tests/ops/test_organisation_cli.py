"""``consigne organisation create NAME``: the organisation, and a one-time admin code that works once."""

from __future__ import annotations

import re

import pytest

from ops import cli
from tests.web.conftest import PASSWORD
from web.app import create_app

pytestmark = pytest.mark.usefixtures("database_url")


@pytest.fixture
def environment(monkeypatch, settings):
    monkeypatch.setenv("CONSIGNE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("CONSIGNE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CONSIGNE_KDF", "fast-insecure-for-tests")
    return settings


def test_create_prints_a_code_the_first_admin_joins_with(environment, capsys, clock):
    assert cli.main(["organisation", "create", "Accueil de jour Les Lilas"]) == 0
    out = capsys.readouterr().out
    assert "Accueil de jour Les Lilas" in out and "valid until" in out
    code = re.search(r"code \(shown once\): (\S+)", out).group(1)
    from vault.settings import load_settings

    client = create_app(load_settings(), clock=clock).test_client()
    joined = client.post("/api/v1/staff", json={"invitation": code, "username": "nadia.b", "password": PASSWORD})
    assert joined.status_code == 201, joined.get_json()
    again = client.post("/api/v1/staff", json={"invitation": code, "username": "other.one", "password": PASSWORD})
    assert again.status_code == 422


def test_a_name_is_needed(environment, capsys):
    assert cli.main(["organisation", "create", "   "]) == 2
    assert "name" in capsys.readouterr().err
