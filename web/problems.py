"""Errors mapped to HTTP once: RFC 9457 problem JSON, in the request's language, never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, g, jsonify, request
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from vault.errors import VaultError

log = logging.getLogger(__name__)

STATUS_BY_CATEGORY = {
    "invalid": 422,
    "unauthenticated": 401,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "too_large": 413,
    "unsupported_media": 415,
    "rate_limited": 429,
    "unavailable": 503,
}
HTTP_MESSAGES = {
    400: ("bad_request", "The request is not understood."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "This action is not possible here."),
    413: ("request_too_large", "What you sent is too large."),
    415: ("unsupported_media", "This type of content is not accepted here."),
    500: ("internal_error", "Something went wrong on our side. Nothing was changed; please try again."),
}
# Details that may be shown to the client: never anything that could hold a secret.
PUBLIC_DETAILS = {"reason", "file_index", "maximum", "minimum", "used", "quota", "kinds", "field", "retry_after_seconds"}


def problem(status: int, code: str, message: str, **extra):
    from web.app import services

    language = getattr(g, "language", None) or "fr"
    translated = services().translator.gettext(language, message)
    body = {"type": f"urn:consigne:problem:{code}", "title": translated, "status": status, "detail": translated,
            "code": code, "instance": request.path}
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.content_type = "application/problem+json"
    response.headers["Content-Language"] = language
    return response


def vault_problem(error: VaultError):
    status = STATUS_BY_CATEGORY.get(error.category, 400)
    details = {key: value for key, value in error.details.items() if key in PUBLIC_DETAILS}
    response = problem(status, error.code, type(error).message, **details)
    if status == 429:
        response.headers["Retry-After"] = str(error.details.get("retry_after_seconds", 60))
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="consigne"'
    return response


def validation_problem(error: ValidationError):
    fields = [{"field": ".".join(str(part) for part in item["loc"]), "problem": item["type"]} for item in error.errors()]
    return problem(422, "invalid_input", "Some fields are missing or not valid.", errors=fields)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(VaultError, vault_problem)
    app.register_error_handler(ValidationError, validation_problem)

    @app.errorhandler(HTTPException)
    def http_problem(error: HTTPException):
        code, message = HTTP_MESSAGES.get(error.code, ("http_error", "The request is not understood."))
        return problem(error.code or 400, code, message)

    @app.errorhandler(Exception)
    def unexpected_problem(error: Exception):
        log.exception("unexpected error on %s %s", request.method, request.path)
        code, message = HTTP_MESSAGES[500]
        return problem(500, code, message)
