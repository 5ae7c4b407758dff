"""The ``consigne`` command: serve, migrate, seed demo data, generate secrets, sweep orphan blobs."""

from __future__ import annotations

import argparse
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
    commands.add_parser("sweep-sessions", help="delete sessions past their absolute or idle time-out")
    sweep = commands.add_parser("sweep-orphans", help="delete blobs that no document refers to")
    sweep.add_argument("--older-than-minutes", type=int, default=60)
    sweep.add_argument("--dry-run", action="store_true")
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
    if arguments.command == "serve":
        from vault.db import SchemaNotCurrent

        try:
            app = web_application(settings)
        except SchemaNotCurrent as error:
            print(f"consigne: {error}", file=sys.stderr)
            return 2
        print(f"Consigne is running on http://{arguments.host}:{arguments.port}/ (data in {settings.data_dir})")
        app.run(host=arguments.host, port=arguments.port, threaded=True, debug=False, load_dotenv=False)
        return 0
    if arguments.command == "migrate":
        from vault.db import make_engine, migrate

        migrate(make_engine(settings.database_url))
        print("database schema is up to date")
        return 0
    if arguments.command == "demo":
        from ops.demo import print_demo_otp, seed_demo

        return print_demo_otp(settings) if arguments.otp else seed_demo(settings)
    if arguments.command == "sweep-sessions":
        from vault.db import make_engine, make_session_factory
        from vault.sessions import purge_expired_sessions

        with make_session_factory(make_engine(settings.database_url))() as session:
            removed = purge_expired_sessions(session, now=datetime.now(timezone.utc))
            session.commit()
        print(json.dumps({"sessions_deleted": removed}))
        return 0
    if arguments.command == "sweep-orphans":
        from ops.orphans import sweep_orphans

        now = datetime.now(timezone.utc)
        removed = sweep_orphans(settings, older_than=now - timedelta(minutes=arguments.older_than_minutes),
                                dry_run=arguments.dry_run)
        print(json.dumps({"orphans": len(removed), "deleted": not arguments.dry_run}))
        return 0
    parser.error("unknown command")
    return 2


if __name__ == "__main__":
    sys.exit(main())
