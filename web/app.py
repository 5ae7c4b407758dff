"""The Flask application factory: one app serving the pages for people and the JSON API."""

from __future__ import annotations

import hashlib
import hmac
import io
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from flask import Flask, Request, jsonify
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import text
from werkzeug.middleware.proxy_fix import ProxyFix

from storage import BlobStore, open_blob_store
from vault.capacity import Gates
from vault.db import SchemaNotCurrent, head_revision, make_engine, make_session_factory, require_current_schema
from vault.i18n import Translator
from vault.keys import KeyConfig
from vault.settings import Settings, load_settings
from web.logs import install_json_logging, install_request_ids

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
    gates: Gates


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def create_app(settings: Settings | None = None, *, clock: Callable[[], datetime] = utc_now,
               store: BlobStore | None = None) -> Flask:
    """The application; the database must already be migrated (``consigne migrate``), or this refuses."""
    settings = settings or load_settings()
    app = Flask(__name__)
    app.request_class = InMemoryUploadRequest
    secure = settings.base_url.startswith("https://")
    app.config.update(
        MAX_CONTENT_LENGTH=settings.limits.max_document_bytes + FORM_FIELDS_MEMORY,
        MAX_FORM_MEMORY_SIZE=FORM_FIELDS_MEMORY,
        JSON_SORT_KEYS=False,
        # Flask's own signed cookie holds only the pages' CSRF token and one-line notices, never a secret
        # of the person; the key is derived from the application key.
        SECRET_KEY=_flask_secret(settings),
        SESSION_COOKIE_NAME="__Host-consigne-form" if secure else "consigne-form",
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        WTF_CSRF_TIME_LIMIT=12 * 3600,
    )
    if settings.production or settings.log_format == "json":
        install_json_logging()
    install_request_ids(app, trust_proxy=settings.trusted_proxies > 0)
    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies)
    engine = make_engine(settings.database_url)
    require_current_schema(engine)
    gates = Gates.from_capacity(settings.capacity)
    app.extensions["consigne"] = Services(
        settings=settings,
        session_factory=make_session_factory(engine),
        store=store or open_blob_store(settings.storage_url),
        # Every password Argon2id of the services goes through the KDF gate (vault/keys.py, KeyConfig).
        keys=KeyConfig(peppers=settings.peppers, app_keys=settings.app_keys, password_kdf=settings.kdf,
                       kdf_gate=gates.kdf),
        translator=Translator.load(),
        clock=clock,
        gates=gates,
    )
    app.extensions["consigne_engine"] = engine

    from web.api import blueprint as api_blueprint
    from web.errors import register_error_handlers
    from web.pages import blueprint as pages_blueprint
    from web.pages.rendering import install_templates

    csrf = CSRFProtect(app)
    csrf.exempt(api_blueprint)  # the API authenticates with a bearer header, which no other site can send
    app.register_blueprint(api_blueprint)
    app.register_blueprint(pages_blueprint)
    install_templates(app)
    register_error_handlers(app)

    @app.get("/health")
    def health():
        """Liveness, for the container's health check: the process serves and reaches its database."""
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return jsonify(status="ok")

    @app.get("/ready")
    def ready():
        """Readiness, for a load balancer: database, schema revision and storage, each named (no secret)."""
        checks = {"database": _probe(lambda: _select_one(engine)),
                  "schema": _probe(lambda: require_current_schema(engine)),
                  "storage": _probe(lambda: _probe_store(app.extensions["consigne"].store))}
        ready = all(value == "ok" for value in checks.values())
        return jsonify(status="ready" if ready else "not_ready", revision=head_revision(), **checks), \
            200 if ready else 503

    @app.after_request
    def security_headers(response):
        from web.errors import is_api_request

        # Papers and tokens must not stay in a shared computer's cache or leak through referrers.
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        policy = API_POLICY if is_api_request() else PAGE_POLICY
        response.headers.setdefault("Content-Security-Policy", policy)
        return response

    return app


# A prefix no blob ever has (blobs live under blobs/): listing it reads nothing, and tells "reachable"
# (an empty list) from "down, refusing or bucket gone" (StorageUnavailable). A HEAD of a missing object
# cannot tell: S3 answers 404 without a body for a missing key and for a missing bucket alike.
STORE_PROBE = "health/"


def _probe(check: Callable[[], None]) -> str:
    try:
        check()
    except SchemaNotCurrent:
        return "outdated"
    except Exception:  # noqa: BLE001 - any failure means "not ready"; the log has the details
        logging.getLogger(__name__).warning("readiness check failed", exc_info=True)
        return "unavailable"
    return "ok"


def _select_one(engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def _probe_store(store: BlobStore) -> None:
    next(iter(store.list(STORE_PROBE)), None)


# No inline script or style anywhere: the pages load one stylesheet and one script from our origin.
PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
               "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
               "base-uri 'none'; manifest-src 'self'")
API_POLICY = "default-src 'none'; frame-ancestors 'none'; sandbox"


def _flask_secret(settings: Settings) -> bytes:
    return hmac.new(settings.app_keys.current.secret, b"consigne:subkey:flask-forms", hashlib.sha256).digest()


def services() -> Services:
    from flask import current_app

    return current_app.extensions["consigne"]
