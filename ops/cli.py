"""The ``consigne`` command: serve, migrate, seed demo data, generate secrets, sweep orphan blobs, check, audit."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from datetime import datetime, timedelta, timezone

from vault.settings import ConfigurationError, generate_secrets, load_settings


def web_application(settings, **options):
    """The Flask application for these settings: the one place where ``ops`` reaches into ``web``.

    ``web`` and ``ops`` are thin shells over ``vault`` and do not import each other (DESIGN.md); the
    layer contract in pyproject.toml allows exactly this import, so anything in ``ops`` that needs the
    application (``consigne serve``, the benchmark) comes through here. Raises SchemaNotCurrent when the
    database needs ``consigne migrate``.
    """
    from web.app import create_app

    return create_app(settings, **options)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="consigne", description="Consigne, the solidarity document locker.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the web server (development server; use gunicorn in production)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    commands.add_parser("migrate", help="create or upgrade the database schema")
    demo = commands.add_parser("demo", help="add demo data once (specimen papers) and print how to sign in")
    demo.add_argument("--otp", action="store_true", help="print the demo worker's current two-step code")
    commands.add_parser("secrets", help="print fresh production secrets as environment lines")
    commands.add_parser("sweep-sessions", help="delete sessions past their absolute or idle time-out, and "
                                               "sign-in counters nobody touched for a day")
    sweep = commands.add_parser("sweep-orphans", help="delete blobs that no document refers to")
    sweep.add_argument("--older-than-minutes", type=int, default=60)
    sweep.add_argument("--dry-run", action="store_true")
    organisation = commands.add_parser("organisation", help="organisations and their staff: create, list, invite, "
                                                           "deactivate (the first admin's code is printed once); "
                                                           "one-time invitation code")
    organisation_commands = organisation.add_subparsers(dest="organisation_command", required=True)
    organisation_commands.add_parser("create", help="create an organisation").add_argument("name")
    organisation_commands.add_parser("list", help="every organisation: id, name, active staff and admins, followers")
    invite = organisation_commands.add_parser("invite", help="a one-time code for a new worker or admin (printed once)")
    invite.add_argument("organisation_id")
    invite.add_argument("--role", choices=["worker", "admin"], default="worker")
    staff = organisation_commands.add_parser("staff", help="an organisation's staff, active and former")
    staff.add_argument("organisation_id")
    deactivate = organisation_commands.add_parser("deactivate", help="end a staff member's membership (their shares "
                                                                     "for this organisation end at once)")
    deactivate.add_argument("organisation_id")
    deactivate.add_argument("username")
    commands.add_parser("purge", help="end expired shares and delete their wrapped file keys (run it often)")
    scheduler = commands.add_parser("scheduler", help="run the periodic jobs (purge, sweeps, check, audit, reminders) "
                                                      "forever, on one machine only")
    scheduler.add_argument("--once", action="store_true", help="run every job once and stop")
    commands.add_parser("check", help="check that every paper's blobs exist, whole and in the age format (no key "
                                      "needed); status 1 when one is not")
    backup = commands.add_parser("backup", help="write the database and every blob to one tar file (or - for "
                                                "standard output), consistent; the secrets are not in it")
    backup.add_argument("path")
    restore = commands.add_parser("restore", help="restore a backup into an empty instance (migrated, no data)")
    restore.add_argument("path")
    reminders = commands.add_parser("reminders", help="list vaults with papers expiring within 90 or 30 days or "
                                                      "expired; tell the notifier set in CONSIGNE_REMINDER_NOTIFIER")
    reminders.add_argument("--dry-run", action="store_true", help="only list, even with a notifier set")
    reminders.add_argument("--usernames", action="store_true", help="name each vault by its username too "
                                                                  "(by default only its id: the output lands in logs)")
    retention = commands.add_parser("retention", help="list vaults nobody signed in to for a long time, for review "
                                                      "(deletes nothing)")
    retention.add_argument("--unused-for", help="3y, 18m or 400d (default: CONSIGNE_RETENTION_UNUSED_FOR, or 3y)")
    retention.add_argument("--usernames", action="store_true", help="name each vault by its username too")
    audit = commands.add_parser("audit", help="check the audit record")
    audit.add_argument("audit_command", choices=["verify"], help="verify: check every hash chain of events")
    arguments = parser.parse_args(argv)
    if arguments.command == "secrets":
        for name, value in generate_secrets().items():
            print(f"{name}={value}")
        return 0
    try:
        settings = load_settings()
    except ConfigurationError as error:
        print(f"consigne: configuration error: {error}", file=sys.stderr)
        return 2
    try:
        return _run(parser, arguments, settings)
    except _Refused:
        return 2


def _run(parser: argparse.ArgumentParser, arguments: argparse.Namespace, settings) -> int:
    if arguments.command == "serve":
        with _clear_database_errors(settings.database_url):
            app = web_application(settings)
        print(f"Consigne is running on http://{arguments.host}:{arguments.port}/ (data in {settings.data_dir})")
        app.run(host=arguments.host, port=arguments.port, threaded=True, debug=False, load_dotenv=False)
        return 0
    if arguments.command == "migrate":
        from vault.db import make_engine, migrate, schema_revisions

        engine = make_engine(settings.database_url)
        with _clear_database_errors(settings.database_url):
            migrate(engine)
            revision, _head = schema_revisions(engine)
        print(f"database schema is up to date (revision {revision})")
        return 0
    if arguments.command == "demo":
        from ops.demo import print_demo_otp, seed_demo

        return print_demo_otp(settings) if arguments.otp else seed_demo(settings)
    if arguments.command == "sweep-sessions":
        from vault.db import make_engine, make_session_factory, require_current_schema
        from vault.sessions import purge_expired_sessions
        from vault.throttle import purge_stale_throttles

        engine = make_engine(settings.database_url)
        with _clear_database_errors(settings.database_url):
            require_current_schema(engine)
            # One DELETE on the two indexed deadlines, whatever the number of sessions (nothing is
            # loaded into Python, and no list of ids meets the 65,535 parameters of one statement).
            now = datetime.now(timezone.utc)
            with make_session_factory(engine)() as session:
                removed = purge_expired_sessions(session, now=now)
                # Every username a guesser tries leaves a counter: without this the table only grows.
                forgotten = purge_stale_throttles(session, now=now)
                session.commit()
        print(json.dumps({"sessions_deleted": removed, "throttles_deleted": forgotten}))
        return 0
    if arguments.command == "purge":
        from vault.db import make_engine, make_session_factory, require_current_schema
        from vault.closing import purge_closed_shares
        from vault.shares import purge_expired_shares

        engine = make_engine(settings.database_url)
        with _clear_database_errors(settings.database_url):
            require_current_schema(engine)
            with make_session_factory(engine)() as session:
                now = datetime.now(timezone.utc)
                ended = purge_expired_shares(session, now=now)
                # A closed vault's shares, remembered only to tell their worker, past their own end.
                forgotten = purge_closed_shares(session, now=now)
                session.commit()
        print(json.dumps({"shares_ended": ended, "closed_shares_forgotten": forgotten}))
        return 0
    if arguments.command == "sweep-orphans":
        from ops.orphans import sweep_orphans

        now = datetime.now(timezone.utc)
        removed = sweep_orphans(settings, older_than=now - timedelta(minutes=arguments.older_than_minutes),
                                dry_run=arguments.dry_run)
        print(json.dumps({"orphans": len(removed), "deleted": not arguments.dry_run}))
        return 0
    if arguments.command == "organisation" and arguments.organisation_command == "create":
        return _create_organisation(settings, arguments.name)
    if arguments.command == "organisation":
        from ops.organisations import run_organisation_command

        with _clear_database_errors(settings.database_url):
            return run_organisation_command(settings, arguments)
    if arguments.command == "audit":
        return _audit_verify(settings)
    if arguments.command == "check":
        return _check(settings)
    if arguments.command == "scheduler":
        from ops.scheduler import run_forever

        return run_forever(main, once=arguments.once)
    if arguments.command == "backup":
        return _backup(settings, arguments.path)
    if arguments.command == "restore":
        return _restore(settings, arguments.path)
    if arguments.command == "reminders":
        from ops.reminders import run_reminders

        with _clear_database_errors(settings.database_url):
            return run_reminders(settings, dry_run=arguments.dry_run, usernames=arguments.usernames)
    if arguments.command == "retention":
        from ops.reminders import run_retention

        with _clear_database_errors(settings.database_url):
            return run_retention(settings, unused_for=arguments.unused_for, usernames=arguments.usernames)
    parser.error("unknown command")
    return 2


def _create_organisation(settings, name: str) -> int:
    """The operator creates an organisation; the admin invitation code is printed once, never stored."""
    from vault.db import make_engine, make_session_factory, require_current_schema
    from vault.errors import InvalidInput
    from vault.keys import KeyConfig
    from vault.organisations import create_organisation
    from vault.policies import Actor

    engine = make_engine(settings.database_url)
    keys = KeyConfig(peppers=settings.peppers, app_keys=settings.app_keys, password_kdf=settings.kdf)
    with _clear_database_errors(settings.database_url):
        require_current_schema(engine)
        with make_session_factory(engine)() as session:
            try:
                organisation, invitation = create_organisation(session, actor=Actor.operator(), keys=keys,
                                                               name=name, now=datetime.now(timezone.utc))
            except InvalidInput:
                print("consigne: an organisation's name has 1 to 200 characters", file=sys.stderr)
                return 2
            session.commit()
    print(f"organisation created: {organisation.name} ({organisation.id})")
    print(f"admin invitation code (shown once): {invitation.code}")
    print(f"valid until: {invitation.expires_at.isoformat()}")
    print("the first admin joins at /staff/join (or POST /api/v1/staff) with this code")
    return 0


def _audit_verify(settings) -> int:
    """Every chain's result and a summary, as JSON; status 1 when a chain is broken, so a cron job alerts."""
    from vault.audit import check_all_chains
    from vault.db import make_engine, make_session_factory, require_current_schema

    engine = make_engine(settings.database_url)
    with _clear_database_errors(settings.database_url):
        require_current_schema(engine)
        with make_session_factory(engine)() as session:
            checks = check_all_chains(session)
    broken = [check.chain for check in checks if not check.intact]
    print(json.dumps({"chains": [check.as_dict() for check in checks],
                      "summary": {"chains": len(checks), "events": sum(check.events for check in checks),
                                  "broken": len(broken), "broken_chains": broken, "intact": not broken}}))
    return 1 if broken else 0


def _check(settings) -> int:
    """The report as JSON (document ids and random blob names only); status 1 on a problem, so cron alerts."""
    from ops.check import check_store
    from storage import open_blob_store
    from vault.db import make_engine, make_session_factory, require_current_schema

    engine = make_engine(settings.database_url)
    store = open_blob_store(settings.storage_url)
    try:
        with _clear_database_errors(settings.database_url):
            require_current_schema(engine)
            with make_session_factory(engine)() as session:
                report = check_store(session, store)
    finally:
        getattr(store, "close", lambda: None)()  # an S3 store holds a connection pool; a folder holds nothing
    print(json.dumps(report.as_dict()))
    return 0 if report.intact else 1


BACKUP_TRIES = 3


def _backup(settings, path: str) -> int:
    """To a file: written as ``PATH.partial`` (0600, never an existing file), renamed once whole; a paper
    deleted meanwhile means trying again. To ``-``: standard output, one try (nothing can be taken back)."""
    import os
    from pathlib import Path

    from ops.backup import BackupError, BackupRaced, backup
    from storage import open_blob_store
    from vault.db import make_engine

    engine = make_engine(settings.database_url)
    store = open_blob_store(settings.storage_url)
    target = None if path == "-" else Path(path)
    if target is not None and target.exists():
        print(f"consigne: {target} exists already: choose a new file name", file=sys.stderr)
        return 2
    try:
        for attempt in range(1 if target is None else BACKUP_TRIES):
            try:
                with _clear_database_errors(settings.database_url):
                    if target is None:
                        summary = backup(engine, store, sys.stdout.buffer, now=datetime.now(timezone.utc))
                    else:
                        partial = target.with_name(target.name + ".partial")
                        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                        try:
                            with os.fdopen(descriptor, "wb") as out:
                                summary = backup(engine, store, out, now=datetime.now(timezone.utc))
                                out.flush()
                                os.fsync(out.fileno())
                        except BaseException:
                            partial.unlink(missing_ok=True)
                            raise
                        partial.rename(target)
                break
            except BackupRaced as error:
                if target is None or attempt == BACKUP_TRIES - 1:
                    print(f"consigne: {error}", file=sys.stderr)
                    return 1
            except BackupError as error:
                print(f"consigne: {error}", file=sys.stderr)
                return 1
    finally:
        getattr(store, "close", lambda: None)()
    print(json.dumps(summary.as_dict()), file=sys.stderr if target is None else sys.stdout)
    return 0


def _restore(settings, path: str) -> int:
    from ops.backup import BackupError, restore
    from storage import open_blob_store
    from vault.db import make_engine

    engine = make_engine(settings.database_url)
    store = open_blob_store(settings.storage_url)
    try:
        with _clear_database_errors(settings.database_url):
            if path == "-":
                summary = restore(engine, store, sys.stdin.buffer)
            else:
                with open(path, "rb") as src:
                    summary = restore(engine, store, src)
    except (BackupError, OSError) as error:
        print(f"consigne: restore stopped, nothing was kept: {error}", file=sys.stderr)
        return 1
    finally:
        getattr(store, "close", lambda: None)()
    print(json.dumps(summary.as_dict()))
    return 0


class _Refused(Exception):
    """The command stopped with a message already printed."""


@contextlib.contextmanager
def _clear_database_errors(database_url: str):
    """An unreachable database or a schema that is not current: one plain line and status 2, no traceback.

    The URL is shown without its password; the driver's own message names host and port, never secrets.
    """
    from sqlalchemy.exc import OperationalError

    from vault.db import SchemaNotCurrent, unreachable_database

    try:
        yield
    except SchemaNotCurrent as error:
        print(f"consigne: {error}", file=sys.stderr)
        raise _Refused() from None
    except OperationalError as error:
        print(f"consigne: {unreachable_database(database_url, error)}", file=sys.stderr)
        raise _Refused() from None


if __name__ == "__main__":
    sys.exit(main())
