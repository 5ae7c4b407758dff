"""Logs an operator can search: one JSON object per line, each carrying the request's id.

The request id comes from the proxy (nginx's ``$request_id``, sent as ``X-Request-Id`` and written in its
own access log) when Consigne sits behind a trusted proxy, else it is made here; it goes back to the
client in ``X-Request-Id``, so a person who reads it out to a helpdesk points at the exact lines. What a
log line never holds: a secret, a query string or a file name. The application logs only the method
and the path (ids, never names), and the engines hide SQL parameters in their errors
(``vault.db.make_engine``), so a database error cannot write a username or a sealed key to the log.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
from datetime import datetime, timezone

from flask import Flask, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-Id"
# nginx's $request_id: 32 lowercase hex digits. Anything else from a client is ignored, not echoed.
REQUEST_ID = re.compile(r"[0-9a-f]{32}")
_MARK = "_consigne_json_handler"


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", "request_id"?, "exception"?}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or _current_request_id()
        if request_id:
            entry["request_id"] = request_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def _current_request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


def install_json_logging(stream=None) -> None:
    """Route every logger through one JSON handler on the root logger (once per process)."""
    root = logging.getLogger()
    if any(getattr(handler, _MARK, False) for handler in root.handlers):
        return
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    setattr(handler, _MARK, True)
    root.addHandler(handler)
    if root.level == logging.WARNING:  # the default: keep warnings and errors, and the info of our own loggers
        root.setLevel(logging.INFO)


def install_request_ids(app: Flask, *, trust_proxy: bool) -> None:
    """Give every request an id (the proxy's when trusted and well-formed) and return it in a header."""

    @app.before_request
    def _request_id() -> None:
        offered = request.headers.get(REQUEST_ID_HEADER, "") if trust_proxy else ""
        g.request_id = offered if REQUEST_ID.fullmatch(offered) else secrets.token_hex(16)

    @app.after_request
    def _send_request_id(response):
        if "request_id" in g:
            response.headers[REQUEST_ID_HEADER] = g.request_id
        return response


__all__ = ["JsonFormatter", "REQUEST_ID_HEADER", "install_json_logging", "install_request_ids"]
