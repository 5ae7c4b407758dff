"""The Flask application factory."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from flask import Flask, Request, jsonify
from sqlalchemy import text
from werkzeug.middleware.proxy_fix import ProxyFix

from storage import BlobStore, open_blob_store
from vault.db import make_engine, make_session_factory, migrate
from vault.keys import KeyConfig
from vault.settings import Settings, load_settings
from web.i18n import Translator
from web.problems import register_error_handlers

FORM_FIELDS_MEMORY = 1024 * 1024


class InMemoryUploadRequest(Request):
    """Keep uploaded files in memory instead of Werkzeug's spooled temporary files.

    Why: an upload is the plaintext of an identity paper, and DESIGN.md forbids plaintext on disk,
    temporary files included. Memory is bounded by MAX_CONTENT_LENGTH (the document limit).
    """

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        return io.BytesIO()


@dataclass
class Services:
    """What the views need, built once per application (no module-level singletons)."""

    settings: Settings
    session_factory: Callable
    store: BlobStore
    keys: KeyConfig
    translator: Translator
    clock: Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def create_app(settings: Settings | None = None, *, clock: Callable[[], datetime] = utc_now,
               store: BlobStore | None = None, run_migrations: bool = True) -> Flask:
    settings = settings or load_settings()
    app = Flask(__name__)
    app.request_class = InMemoryUploadRequest
    app.config.update(
        MAX_CONTENT_LENGTH=settings.limits.max_document_bytes + FORM_FIELDS_MEMORY,
        MAX_FORM_MEMORY_SIZE=FORM_FIELDS_MEMORY,
        JSON_SORT_KEYS=False,
    )
    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies)
    engine = make_engine(settings.database_url)
    if run_migrations:
        migrate(engine)
    app.extensions["consigne"] = Services(
        settings=settings,
        session_factory=make_session_factory(engine),
        store=store or open_blob_store(settings.storage_url),
        keys=KeyConfig(peppers=settings.peppers, app_keys=settings.app_keys, password_kdf=settings.kdf),
        translator=Translator.load(),
        clock=clock,
    )
    app.extensions["consigne_engine"] = engine

    from web.api import blueprint as api_blueprint

    app.register_blueprint(api_blueprint)
    register_error_handlers(app)

    @app.get("/")
    def index():
        # The pages for people, workers and shelters come with the web interface; until then the root
        # says what this is and where the API lives, in French first.
        html = (
            "<!doctype html><html lang=fr><meta charset=utf-8>"
            "<meta name=viewport content='width=device-width,initial-scale=1'><title>Consigne</title>"
            "<h1>Consigne</h1><p>Coffre-fort numérique solidaire : vos papiers, chiffrés, à vous.</p>"
            "<p lang=en>Solidarity document locker. The JSON API is described at "
            "<a href=/api/v1/openapi.json>/api/v1/openapi.json</a>.</p></html>"
        )
        return html, 200, {"Content-Type": "text/html; charset=utf-8"}

    @app.get("/health")
    def health():
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return jsonify(status="ok")

    @app.after_request
    def security_headers(response):
        # Papers and tokens must not stay in a shared computer's cache or leak through referrers.
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
        return response

    return app


def services() -> Services:
    from flask import current_app

    return current_app.extensions["consigne"]
