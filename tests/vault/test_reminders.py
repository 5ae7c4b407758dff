"""Expiring papers: the flag on a fixed clock at its boundaries, what is due, and a notifier told once."""

from __future__ import annotations

import json
import sys
import textwrap
import threading
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from tests.factories import make_document, make_person, make_staff
from vault.activity import list_activity
from vault.i18n import Translator
from vault.models import Event
from vault.policies import Actor
from vault.reminders import (
    expiry_at,
    expiry_of,
    list_due,
    load_notifier,
    NotifierNotFound,
    send_reminders,
    window_entered_at,
)
from vault.errors import NotAllowed

OPERATOR = Actor.operator()
TODAY = date(2026, 11, 23)  # the tests' clock: 23 November 2026, 09:00 UTC (10:00 in Paris)


# --- the flag ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("days", "state"), [
    (91, "valid"), (90, "soon"), (31, "soon"), (30, "very_soon"), (1, "very_soon"), (0, "very_soon"),
    (-1, "expired"), (-400, "expired"),
])
def test_the_flag_at_each_boundary(days, state):
    expiry = expiry_of(TODAY + timedelta(days=days), today=TODAY)
    assert (expiry.state, expiry.days_left) == (state, days)
    assert expiry.flagged == (state != "valid")


def test_no_date_is_no_flag():
    assert expiry_of(None, today=TODAY).state == "none"
    assert not expiry_of(None, today=TODAY).flagged


def test_days_are_counted_on_the_paris_calendar():
    # 22:30 UTC in November is 23:30 in Paris: a paper expiring that day is still valid today...
    late_evening = datetime(2026, 11, 23, 22, 30, tzinfo=timezone.utc)
    assert expiry_at(TODAY, now=late_evening).state == "very_soon"
    # ...and one hour later it is past midnight in Paris, while still the 23rd in UTC: expired.
    after_midnight = datetime(2026, 11, 23, 23, 30, tzinfo=timezone.utc)
    assert expiry_at(TODAY, now=after_midnight).state == "expired"
    # Summer time: 22:30 UTC on 30 June is already 00:30 on 1 July in Paris.
    assert expiry_at(date(2026, 6, 30), now=datetime(2026, 6, 30, 22, 30, tzinfo=timezone.utc)).state == "expired"


def test_a_window_opens_at_local_midnight():
    assert window_entered_at(date(2027, 2, 21), 90) == datetime(2026, 11, 22, 23, 0, tzinfo=timezone.utc)
    assert window_entered_at(TODAY, 0) == datetime(2026, 11, 23, 23, 0, tzinfo=timezone.utc)


# --- what is due -------------------------------------------------------------------------------------------
def _paper(services, person, days, kind="carte_identite", title=None):
    return make_document(services, person, kind=kind, title=title, expires_on=TODAY + timedelta(days=days))


def test_due_counts_each_window_and_never_a_title(services):
    anna = make_person(services, "anna")
    for days in (91, 90, 31, 30, 0, -1):
        _paper(services, anna, days, title="Titre secret d'Anna")
    _paper(services, anna, 5, kind="passeport")
    make_document(services, anna)  # no date
    quiet = make_person(services, "quiet")
    _paper(services, quiet, 200)
    make_staff(services, "worker")
    with services.session_factory() as session:
        due = list_due(session, actor=OPERATOR, now=services.now)
    assert [vault.username for vault in due] == ["anna"]
    vault = due[0]
    assert vault.papers == {90: 2, 30: 3, 0: 1}
    assert vault.reminder is not None and len(vault.reminder.papers) == 6
    # Soonest first, with kinds and dates only.
    assert [paper.days_left for paper in vault.reminder.papers] == [-1, 0, 5, 30, 31, 90]
    assert "passeport" in [paper.kind for paper in vault.reminder.papers]
    assert "secret" not in repr(due)


def test_only_the_operator_lists_what_is_due(services):
    anna = make_person(services, "anna")
    with services.session_factory() as session, pytest.raises(NotAllowed):
        list_due(session, actor=Actor.person(anna.id), now=services.now)


# --- telling a notifier ------------------------------------------------------------------------------------
NOTIFIER = """
import json, os

LOG = {log!r}


def tell(reminder):
    with open(LOG, "a") as log:
        log.write(json.dumps({{"person": reminder.person_id, "username": reminder.username,
                              "papers": [[paper.kind, paper.expires_on.isoformat(), paper.window_days]
                                         for paper in reminder.papers]}}) + "\\n")
    if reminder.username.startswith("broken"):
        raise ConnectionError("the SMS gateway is down")
    if reminder.username.startswith("unreachable"):
        return False
"""


@pytest.fixture
def notifier(tmp_path, monkeypatch):
    """A real notifier module, written here and imported by name as the operator's setting names it."""
    log = tmp_path / "told.jsonl"
    package = tmp_path / "notifiers"
    package.mkdir()
    name = f"sms_{abs(hash(str(tmp_path)))}"
    (package / f"{name}.py").write_text(textwrap.dedent(NOTIFIER.format(log=str(log))))
    monkeypatch.syspath_prepend(str(package))
    yield f"{name}:tell", log
    sys.modules.pop(name, None)


def _told(log) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def _send(services, spec):
    with services.session_factory() as session:
        due = list_due(session, actor=OPERATOR, now=services.now)
    return send_reminders(services.session_factory, actor=OPERATOR, notifier=load_notifier(spec), now=services.now,
                          person_ids=[vault.person_id for vault in due if vault.reminder])


def _sent_events(services, person_id):
    with services.session_factory() as session:
        return [(event.at, event.details) for event in session.scalars(
            select(Event).where(Event.subject_id == person_id, Event.action == "reminders.sent").order_by(Event.id))]


def test_a_notifier_is_told_once_per_paper_and_window(services, clock, notifier):
    spec, log = notifier
    anna = make_person(services, "anna")
    in_90 = _paper(services, anna, 60)
    _paper(services, anna, 10, kind="passeport")
    _paper(services, anna, -3, kind="titre_sejour")

    report = _send(services, spec)
    assert report.told == [anna.id] and report.papers == {90: 1, 30: 1, 0: 1}
    assert len(_told(log)) == 1
    assert sorted(paper[2] for paper in _told(log)[0]["papers"]) == [0, 30, 90]
    assert [details for _at, details in _sent_events(services, anna.id)] == [
        {"documents": 1, "window_days": 90}, {"documents": 1, "window_days": 30}, {"documents": 1, "window_days": 0}]

    # The same day, and the next days: nothing new.
    assert _send(services, spec).told == []
    clock.now += timedelta(days=5)
    assert _send(services, spec).told == []
    assert len(_told(log)) == 1

    # 30 days before its date, the 60-day paper enters the 30-day window: told again, alone.
    clock.now = datetime.combine(in_90.expires_on - timedelta(days=30), datetime.min.time(),
                                 tzinfo=timezone.utc) + timedelta(hours=6)
    report = _send(services, spec)
    # The passport expired meanwhile: told in that same run, for the expired window; the residence
    # permit, told as expired on the first run, is not told again.
    assert report.papers == {90: 0, 30: 1, 0: 1}
    assert _told(log)[-1]["papers"] == [["passeport", (TODAY + timedelta(days=10)).isoformat(), 0],
                                        ["carte_identite", in_90.expires_on.isoformat(), 30]]
    assert len(_told(log)) == 2


def test_a_paper_added_inside_a_window_already_told_is_told_too(services, clock, notifier):
    spec, log = notifier
    anna = make_person(services, "anna")
    _paper(services, anna, 20)
    _send(services, spec)
    clock.now += timedelta(minutes=10)
    _paper(services, anna, 25, kind="rib")
    report = _send(services, spec)
    assert report.papers == {90: 0, 30: 1, 0: 0}
    assert _told(log)[-1]["papers"][0][0] == "rib"


def test_a_renewed_paper_is_told_again_when_its_new_date_comes(services, clock, notifier):
    spec, log = notifier
    from vault import documents

    anna = make_person(services, "anna")
    paper = _paper(services, anna, 10)
    _send(services, spec)
    with services.transaction() as uow:
        current = services.current(uow.session, anna.token)
        documents.update_document(uow.session, current=current, document_id=paper.id,
                                  changes={"expires_on": TODAY + timedelta(days=400)}, now=services.now)
    assert _send(services, spec).told == []
    clock.now += timedelta(days=400 - 89)
    assert _send(services, spec).papers == {90: 1, 30: 0, 0: 0}


def test_a_failing_or_declining_notifier_records_nothing_and_is_asked_again(services, notifier):
    spec, log = notifier
    broken = make_person(services, "broken.one")
    unreachable = make_person(services, "unreachable.one")
    fine = make_person(services, "fine.one")
    for person in (broken, unreachable, fine):
        _paper(services, person, 12)
    report = _send(services, spec)
    assert report.failed == [broken.id] and report.declined == [unreachable.id] and report.told == [fine.id]
    assert _sent_events(services, broken.id) == [] and _sent_events(services, unreachable.id) == []
    report = _send(services, spec)
    assert set(report.failed + report.declined) == {broken.id, unreachable.id} and report.told == []


def test_two_runs_at_once_tell_once(services, notifier):
    """The second run waits for the first one's lock on the person, then finds its event."""
    spec, log = notifier
    anna = make_person(services, "anna")
    _paper(services, anna, 12)
    tell = load_notifier(spec)
    second: dict = {}

    def run(into):
        into["report"] = send_reminders(services.session_factory, actor=OPERATOR, notifier=slow_tell,
                                        now=services.now, person_ids=[anna.id])

    def slow_tell(reminder):
        tell(reminder)
        if "thread" not in second:
            # While the first run holds the person's lock, a second run starts and waits for it; the
            # first one goes on after a while (the second is still blocked, or done if there is no lock).
            second["thread"] = threading.Thread(target=run, args=(second,))
            second["thread"].start()
            second["thread"].join(timeout=2)

    first: dict = {}
    run(first)
    second["thread"].join()
    assert len(_told(log)) == 1
    assert first["report"].told == [anna.id] and second["report"].told == []
    assert len(_sent_events(services, anna.id)) == 1


def test_the_person_reads_the_reminder_in_their_activity(services, notifier):
    spec, _log = notifier
    anna = make_person(services, "anna")
    _paper(services, anna, 12)
    _send(services, spec)
    words = Translator.load().for_language("en")
    with services.session_factory() as session:
        from vault.models import Account

        owner = session.get(Account, anna.id)
        lines = list_activity(session, owner=owner, words=words, keys=services.keys).items
    assert lines[0].action == "reminders.sent"
    assert lines[0].sentence == "You were reminded that some of your papers expire soon or have expired."


@pytest.mark.parametrize("spec", ["no_colon", "missing_module_xyz:tell", "json:no_such_function", ":tell"])
def test_a_wrong_notifier_setting_is_named(spec):
    with pytest.raises(NotifierNotFound):
        load_notifier(spec)
