"""``consigne reminders`` and ``consigne retention``: what a daily cron job runs, as one JSON line each.

What the output says. It lands in cron mail and log files, kept longer and read more widely than the
database. So a vault is named by its account id (random, enough to act on it), its username only with
``--usernames`` (the operator is trusted with usernames, but a log line "marie.dupont: 1 paper expired"
tells a stranger something about a person); papers are counts per window, never a kind or a title. A
notifier's failure is reported by the person's id and the exception's class, never its message (it may
hold a gateway's credentials or a phone number).
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone

from vault.activity import DISPLAY_TIMEZONE
from vault.db import make_engine, make_session_factory, require_current_schema
from vault.policies import Actor
from vault.reminders import EXPIRED_WINDOW, SOON_DAYS, VERY_SOON_DAYS, NotifierNotFound, list_due, load_notifier
from vault.reminders import local_today, send_reminders
from vault.retention import Period, list_unused_vaults

WINDOW_NAMES = {SOON_DAYS: "within_90_days", VERY_SOON_DAYS: "within_30_days", EXPIRED_WINDOW: "expired"}


def run_reminders(settings, *, dry_run: bool, usernames: bool, now: datetime | None = None, out=None) -> int:
    """List what is due; with a notifier set (and not ``dry_run``), tell it what it was not yet told.

    Status 0, or 1 when the notifier failed for someone (a cron job then alerts), 2 when the notifier
    setting names nothing importable.
    """
    out = out or sys.stdout
    now = now or datetime.now(timezone.utc)
    notifier = None
    if settings.reminders.notifier and not dry_run:
        try:
            notifier = load_notifier(settings.reminders.notifier)
        except NotifierNotFound as error:
            print(f"consigne: CONSIGNE_REMINDER_NOTIFIER: {error}", file=sys.stderr)
            return 2
    engine = make_engine(settings.database_url)
    require_current_schema(engine)
    sessions = make_session_factory(engine)
    actor = Actor.operator()
    with sessions() as session:
        due = list_due(session, actor=actor, now=now)
    report = None
    if notifier is not None:
        report = send_reminders(sessions, actor=actor, notifier=notifier, now=now,
                                person_ids=[vault.person_id for vault in due if vault.reminder])
    vaults = []
    for vault in due:
        line = {"person": vault.person_id}
        if usernames:
            line["username"] = vault.username
        line["papers"] = {WINDOW_NAMES[window]: count for window, count in vault.papers.items()}
        line["not_yet_told"] = {WINDOW_NAMES[window]: count for window, count in
                                (vault.reminder.windows.items() if vault.reminder else ())}
        if report is not None:
            line["told"] = vault.person_id in report.told
        vaults.append(line)
    summary = {"vaults": len(due),
               "papers": {name: sum(vault.papers[window] for vault in due) for window, name in WINDOW_NAMES.items()},
               "notifier": settings.reminders.notifier if notifier is not None else None}
    if report is not None:
        summary |= {"told": len(report.told), "declined": len(report.declined), "failed": report.failed,
                    "papers_told": {WINDOW_NAMES[window]: count for window, count in report.papers.items()}}
    print(json.dumps({"today": local_today(now).isoformat(), "time_zone": str(DISPLAY_TIMEZONE), "vaults": vaults,
                      "summary": summary}), file=out)
    engine.dispose()
    return 1 if report is not None and report.failed else 0


def run_retention(settings, *, unused_for: str | None, usernames: bool, now: datetime | None = None,
                  out=None) -> int:
    """List the vaults unused for ``unused_for`` (or the setting), least recently used first."""
    out = out or sys.stdout
    now = now or datetime.now(timezone.utc)
    try:
        period = Period.parse(unused_for or settings.reminders.unused_for)
    except ValueError as error:
        print(f"consigne: --unused-for: {error}", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url)
    require_current_schema(engine)
    with make_session_factory(engine)() as session:
        unused = list_unused_vaults(session, actor=Actor.operator(), now=now, unused_for=period)
    engine.dispose()
    vaults = []
    for vault in unused:
        line = {"person": vault.person_id}
        if usernames:
            line["username"] = vault.username
        line |= {"last_signed_in_on": vault.last_signed_in_at.date().isoformat() if vault.last_signed_in_at else None,
                 "enrolled_on": vault.created_at.date().isoformat(), "papers": vault.papers, "status": vault.status}
        vaults.append(line)
    print(json.dumps({"unused_for": str(period), "unused_since": period.before(now).date().isoformat(),
                      "vaults": vaults, "summary": {"vaults": len(vaults),
                                                    "papers": sum(vault.papers for vault in unused)},
                      "deleted": 0}), file=out)
    return 0
