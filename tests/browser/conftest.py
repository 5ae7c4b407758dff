"""A live Consigne on 127.0.0.1 and Debian's Chromium driven by Playwright, one browser per session.

The server is the real application (threaded Werkzeug server, SQLite file, local blob folder, the fast
test KDF), so the pages are exercised exactly as a person's browser would: cookies, CSP, redirects,
uploads from the file chooser. Chromium comes from Debian (``apt-get install chromium``); Playwright's
own browser download is neither possible here nor needed. Outside CI a missing Chromium skips the lane;
in CI it fails (tests/lanes.py).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.lanes import missing, require_program
from vault.db import make_engine, migrate
from vault.settings import load_settings
from web.app import create_app

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "screenshots"
CHROMIUM_ARGUMENTS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                      "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
PASSWORD = "cheval-lune-tambour-9"


class MovableClock:
    """The real time plus an offset a test may move forward (the idle time-out without waiting)."""

    def __init__(self) -> None:
        self.offset = timedelta()
        self.lock = threading.Lock()

    def __call__(self) -> datetime:
        with self.lock:
            return datetime.now(timezone.utc) + self.offset

    def advance(self, **delta) -> None:
        with self.lock:
            self.offset += timedelta(**delta)

    def reset(self) -> None:
        with self.lock:
            self.offset = timedelta()


@dataclass
class LiveServer:
    url: str
    app: object
    clock: MovableClock

    def at(self, path: str) -> str:
        return self.url + path


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("live")
    database_url = f"sqlite:///{folder / 'consigne.sqlite3'}"
    engine = make_engine(database_url)
    migrate(engine)
    engine.dispose()
    server = make_server("127.0.0.1", 0, None, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    settings = load_settings({"CONSIGNE_DATA_DIR": str(folder / "data"), "CONSIGNE_DATABASE_URL": database_url,
                              "CONSIGNE_KDF": "fast-insecure-for-tests", "CONSIGNE_BASE_URL": url})
    clock = MovableClock()
    app = create_app(settings, clock=clock)
    server.app = app
    thread = threading.Thread(target=server.serve_forever, name="live-consigne", daemon=True)
    thread.start()
    yield LiveServer(url, app, clock)
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    chromium = require_program("chromium", "chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - a test dependency
        missing("playwright", "pip install playwright")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGUMENTS)
        yield browser
        browser.close()


@pytest.fixture
def new_context(browser):
    """Fresh browser profiles (cookies, cache): ``new_context(javascript=False, width=360)``."""
    contexts = []

    def make(*, javascript: bool = True, width: int = 1280, height: int = 900, language: str = "fr-FR",
             **options):
        context = browser.new_context(java_script_enabled=javascript, viewport={"width": width, "height": height},
                                      locale=language, accept_downloads=True, **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
