"""Errors mapped to HTTP once, answered per surface, in the request's language, never a stack trace.

The API answers RFC 9457 problem JSON; the pages answer an HTML page that says what happened and what
to do next. Which surface a request belongs to is set by the pipeline, or for requests that never
reached a view (unknown path, wrong method, body too large) read from the path.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, g, jsonify, request
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from vault.errors import VaultError
from vault.i18n import N_

log = logging.getLogger(__name__)

STATUS_BY_CATEGORY = {
    "invalid": 422,
    "unauthenticated": 401,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "gone": 410,
    "too_large": 413,
    "unsupported_media": 415,
    "rate_limited": 429,
    "unavailable": 503,
}
HTTP_MESSAGES = {
    400: ("bad_request", N_("The request is not understood.")),
    404: ("not_found", N_("Not found.")),
    405: ("method_not_allowed", N_("This action is not possible here.")),
    413: ("request_too_large", N_("What you sent is too large.")),
    415: ("unsupported_media", N_("This type of content is not accepted here.")),
    500: ("internal_error", N_("Something went wrong on our side. Nothing was changed; please try again.")),
}
# Details that may be shown to the client: never anything that could hold a secret.
# (A suggested passphrase is an offer made to everyone, not a secret of the person's until they choose it.)
PUBLIC_DETAILS = {"reason", "file_index", "maximum", "minimum", "used", "quota", "kinds", "field", "retry_after_seconds",
                  "suggested_passphrase"}


def status_for(error: VaultError) -> int:
    return STATUS_BY_CATEGORY.get(error.category, 400)


def is_api_request() -> bool:
    surface = getattr(g, "surface", None)
    if surface is not None:
        return surface.name == "api"
    return request.path == "/api" or request.path.startswith("/api/")


def request_language() -> str:
    language = getattr(g, "language", None)
    if language is None:
        from web.pipeline import API, PAGES

        language = (API if is_api_request() else PAGES).choose_language()
    return language


def translate(message: str) -> str:
    from web.app import services

    return services().translator.translate(request_language(), message)


def problem(status: int, code: str, message: str, **extra) -> Response:
    translated = translate(message)
    body = {"type": f"urn:consigne:problem:{code}", "title": translated, "status": status, "detail": translated,
            "code": code, "instance": request.path}
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.content_type = "application/problem+json"
    response.headers["Content-Language"] = request_language()
    return response


def error_page(status: int, code: str, message: str) -> Response:
    from web.pages.rendering import render_page

    response = Response(render_page("error.html", status=status, code=code, message=translate(message)),
                        status=status, mimetype="text/html")
    return response


def answer(status: int, code: str, message: str, **extra) -> Response:
    if is_api_request():
        return problem(status, code, message, **extra)
    return error_page(status, code, message)


def vault_error(error: VaultError) -> Response:
    status = status_for(error)
    if not is_api_request():
        from web.pages.rendering import page_for_error

        redirect = page_for_error(error)
        if redirect is not None:
            return redirect
    details = {key: value for key, value in error.details.items() if key in PUBLIC_DETAILS}
    response = answer(status, error.code, type(error).message, **details)
    if status == 429 or "retry_after_seconds" in error.details:  # 503 busy errors know their wait too
        response.headers["Retry-After"] = str(error.details.get("retry_after_seconds", 60))
    if status == 401 and is_api_request():
        response.headers["WWW-Authenticate"] = 'Bearer realm="consigne"'
    return response


def validation_error(error: ValidationError) -> Response:
    fields = [{"field": ".".join(str(part) for part in item["loc"]), "problem": item["type"]} for item in error.errors()]
    return answer(422, "invalid_input", "Some fields are missing or not valid.", errors=fields)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(VaultError, vault_error)
    app.register_error_handler(ValidationError, validation_error)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code, message = HTTP_MESSAGES.get(error.code, ("http_error", "The request is not understood."))
        response = answer(error.code or 400, code, message)
        # Keep the exception's own headers: a 405 must name the allowed methods (Allow, RFC 9110).
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        log.exception("unexpected error on %s %s", request.method, request.path)
        code, message = HTTP_MESSAGES[500]
        return answer(500, code, message)


__all__ = ["problem", "register_error_handlers", "status_for"]
