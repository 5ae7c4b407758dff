"""``consigne reminders`` and ``consigne retention``: what they print, what they tell, what they never say."""

from __future__ import annotations

import io
import json
import sys
import textwrap
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from ops import cli
from ops.reminders import run_reminders, run_retention
from tests.conftest import FakeClock
from tests.factories import build_services, make_document, make_person
from vault.db import make_engine, make_session_factory
from vault.models import Account, Document, Event
from vault.settings import Reminders

pytestmark = pytest.mark.usefixtures("database_url")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def services(settings):
    built = build_services(settings, FakeClock(NOW))
    yield built
    built.close()


@pytest.fixture
def notifier(tmp_path, monkeypatch):
    """A real notifier module on the import path, as an operator would install one."""
    log = tmp_path / "told.jsonl"
    name = f"shelter_sms_{abs(hash(str(tmp_path)))}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(f"""
        import json

        def tell(reminder):
            with open({str(log)!r}, "a") as log:
                log.write(json.dumps({{"username": reminder.username, "windows": reminder.windows}}) + "\\n")
            if reminder.username == "broken":
                raise RuntimeError("gateway password hunter2 refused")
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield f"{name}:tell", log
    sys.modules.pop(name, None)


def _papers(services, username, *days, title=None):
    person = make_person(services, username)
    for offset in days:
        make_document(services, person, title=title, expires_on=NOW.date() + timedelta(days=offset))
    return person


def _run(settings, **options) -> tuple[int, dict]:
    out = io.StringIO()
    status = run_reminders(settings, out=out, **{"dry_run": False, "usernames": False, "now": NOW} | options)
    return status, json.loads(out.getvalue())


def test_reminders_list_counts_by_id_and_never_a_title_or_kind(settings, services):
    anna = _papers(services, "anna.lopez", 90, 30, 0, -1, 91, title="Carte de séjour d'Anna")
    status, listed = _run(settings)
    assert status == 0
    assert listed["today"] == "2026-11-23" and listed["time_zone"] == "Europe/Paris"
    assert listed["vaults"] == [{"person": anna.id, "papers": {"within_90_days": 1, "within_30_days": 2, "expired": 1},
                                 "not_yet_told": {"within_90_days": 1, "within_30_days": 2, "expired": 1}}]
    assert listed["summary"]["notifier"] is None
    text = json.dumps(listed)
    assert "anna" not in text and "séjour" not in text and "carte_identite" not in text
    # With --usernames the operator sees who.
    _status, named = _run(settings, usernames=True)
    assert named["vaults"][0]["username"] == "anna.lopez"


def test_reminders_tell_the_notifier_once_and_record_it(settings, services, notifier):
    spec, log = notifier
    anna = _papers(services, "anna", 60, 10)
    _papers(services, "broken", 5)
    configured = replace(settings, reminders=Reminders(notifier=spec))
    status, listed = _run(configured)
    assert status == 1  # the broken notifier is reported, so a cron job alerts
    assert listed["summary"]["told"] == 1 and len(listed["summary"]["failed"]) == 1
    assert listed["summary"]["papers_told"] == {"within_90_days": 1, "within_30_days": 1, "expired": 0}
    assert "hunter2" not in json.dumps(listed)
    told = [json.loads(line) for line in log.read_text().splitlines()]
    assert {line["username"] for line in told} == {"anna", "broken"}
    # A dry run tells nobody; the next real run tells only the one that failed.
    _run(configured, dry_run=True)
    assert len(log.read_text().splitlines()) == 2
    _run(configured)
    assert [json.loads(line)["username"] for line in log.read_text().splitlines()[2:]] == ["broken"]
    with make_session_factory(make_engine(settings.database_url))() as session:
        events = session.scalars(select(Event).where(Event.subject_id == anna.id,
                                                     Event.action == "reminders.sent")).all()
        assert sorted(event.details["window_days"] for event in events) == [30, 90]
        assert all(event.actor_id is None and set(event.details) == {"documents", "window_days"} for event in events)


def test_a_notifier_that_cannot_be_imported_stops_with_a_clear_line(settings, capsys):
    configured = replace(settings, reminders=Reminders(notifier="no_such_module_here:tell"))
    assert run_reminders(configured, dry_run=False, usernames=False, now=NOW) == 2
    assert "CONSIGNE_REMINDER_NOTIFIER" in capsys.readouterr().err


def test_the_command_runs_from_the_environment(environment, monkeypatch, notifier, capsys):
    spec, log = notifier
    monkeypatch.setenv("CONSIGNE_REMINDER_NOTIFIER", spec)
    # Dates far from the windows' edges, so the real clock of the command reads them the same any day.
    today = date.today()
    built = build_services(environment, FakeClock(datetime.now(timezone.utc)))
    try:
        person = make_person(built, "camille")
        for offset in (60, 10, -10, 400):
            make_document(built, person, expires_on=today + timedelta(days=offset))
    finally:
        built.close()
    assert cli.main(["reminders"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["vaults"][0]["papers"] == {"within_90_days": 1, "within_30_days": 1, "expired": 1}
    assert listed["summary"]["told"] == 1
    assert json.loads(log.read_text())["windows"] == {"90": 1, "30": 1, "0": 1}
    assert cli.main(["reminders"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["told"] == 0


def test_retention_lists_unused_vaults_and_deletes_nothing(settings, services):
    services.clock.now = NOW - timedelta(days=3 * 365 + 10)
    old = _papers(services, "old.friend", 10)
    services.clock.now = NOW - timedelta(days=30)
    _papers(services, "recent")
    out = io.StringIO()
    assert run_retention(settings, unused_for=None, usernames=False, now=NOW, out=out) == 0
    listed = json.loads(out.getvalue())
    assert listed["unused_for"] == "3y" and listed["unused_since"] == "2023-11-23"
    assert listed["vaults"] == [{"person": old.id, "last_signed_in_on": "2023-11-14", "enrolled_on": "2023-11-14",
                                 "papers": 1, "status": "active"}]
    assert listed["deleted"] == 0
    out = io.StringIO()
    run_retention(settings, unused_for="40d", usernames=True, now=NOW, out=out)
    assert [vault["username"] for vault in json.loads(out.getvalue())["vaults"]] == ["old.friend"]
    out = io.StringIO()
    run_retention(settings, unused_for="20d", usernames=True, now=NOW, out=out)
    assert [vault["username"] for vault in json.loads(out.getvalue())["vaults"]] == ["old.friend", "recent"]
    with make_session_factory(make_engine(settings.database_url))() as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 2
        assert session.scalar(select(func.count()).select_from(Document)) == 1


def test_retention_from_the_command_line(environment, capsys):
    assert cli.main(["retention", "--unused-for", "18m"]) == 0
    assert json.loads(capsys.readouterr().out)["unused_for"] == "18m"
    assert cli.main(["retention", "--unused-for", "three years"]) == 2
    assert "--unused-for" in capsys.readouterr().err


def test_a_wrong_retention_setting_stops_start_up(environment, monkeypatch, capsys):
    monkeypatch.setenv("CONSIGNE_RETENTION_UNUSED_FOR", "forever")
    assert cli.main(["retention"]) == 2
    assert "CONSIGNE_RETENTION_UNUSED_FOR" in capsys.readouterr().err
