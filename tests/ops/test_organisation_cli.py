"""``consigne organisation``: create (a one-time admin code that works once), list, invite, staff, deactivate."""

from __future__ import annotations

import re

import pytest

from ops import cli
from tests.web.conftest import PASSWORD
from web.app import create_app

pytestmark = pytest.mark.usefixtures("database_url")


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


def _json_lines(text: str) -> list[dict]:
    import json

    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_the_operator_lists_invites_and_deactivates_staff(environment, capsys, clock):
    from vault.settings import load_settings

    client = create_app(load_settings(), clock=clock).test_client()
    assert cli.main(["organisation", "create", "Accueil de jour Les Lilas"]) == 0
    out = capsys.readouterr().out
    code = re.search(r"code \(shown once\): (\S+)", out).group(1)
    organisation_id = re.search(r"\((\S+)\)", out).group(1)
    assert client.post("/api/v1/staff", json={"invitation": code, "username": "nadia.b",
                                              "password": PASSWORD}).status_code == 201

    # The operator invites a worker for the organisation (as its admin could), and they join.
    assert cli.main(["organisation", "invite", organisation_id, "--role", "worker"]) == 0
    (issued,) = _json_lines(capsys.readouterr().out)
    assert issued["role"] == "worker" and issued["organisation"] == organisation_id
    assert client.post("/api/v1/staff", json={"invitation": issued["code"], "username": "sami.t",
                                              "password": PASSWORD}).status_code == 201

    assert cli.main(["organisation", "list"]) == 0
    (listed,) = _json_lines(capsys.readouterr().out)
    assert (listed["id"], listed["name"], listed["staff"], listed["admins"], listed["followers"]) == \
        (organisation_id, "Accueil de jour Les Lilas", 2, 1, 0)

    # The last admin stays; a worker goes, and the list says so.
    assert cli.main(["organisation", "deactivate", organisation_id, "nadia.b"]) == 2
    assert "last_admin" in capsys.readouterr().err
    assert cli.main(["organisation", "deactivate", organisation_id, "Sami.T"]) == 0
    assert _json_lines(capsys.readouterr().out) == [{"deactivated": "Sami.T", "shares_ended": 0}]
    assert cli.main(["organisation", "staff", organisation_id]) == 0
    staff = {line["username"]: (line["role"], line["active"]) for line in _json_lines(capsys.readouterr().out)}
    assert staff == {"nadia.b": ("admin", True), "sami.t": ("worker", False)}


@pytest.mark.parametrize("arguments", [["invite", "no-such-organisation"], ["staff", "no-such-organisation"],
                                       ["deactivate", "no-such-organisation", "nadia.b"]])
def test_an_unknown_organisation_is_a_clear_refusal(environment, capsys, arguments):
    assert cli.main(["organisation", *arguments]) == 2
    assert capsys.readouterr().err.startswith("consigne: ")
