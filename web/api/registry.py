"""One decorator for every JSON endpoint: the shared request pipeline (transaction, clock, language,
bearer authentication), plus parsing, validation and serialisation — and the route is recorded so the
OpenAPI document is generated from the same schemas."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any, Callable

from flask import Blueprint, Response, request
from pydantic import BaseModel
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge, UnsupportedMediaType

from web.pipeline import API, Call, run

API_PREFIX = "/api/v1"
# The largest JSON body any endpoint needs is a few hundred bytes (a password of at most 1,024
# characters, ten recovery codes); 64 KiB leaves room and keeps a hostile body from costing memory.
JSON_BODY_LIMIT = 64 * 1024
# Our bodies nest two levels at most. Python's decoder recurses once per level and hits the
# interpreter's limit near 1,000 (a 500 before this check); anything deeper than this is not ours.
MAX_JSON_DEPTH = 8


@dataclass
class RouteSpec:
    method: str
    path: str
    summary: str
    body: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    auth: str  # "required" | "optional" | "none"
    tag: str
    multipart: type[BaseModel] | None = None
    content: tuple[str, ...] = ()  # media types of a non-JSON answer
    errors: tuple[int, ...] = ()  # statuses besides those the route's shape implies (web/api/openapi.py)
    query: type[BaseModel] | None = None  # validated query parameters (a list's limit and cursor…)
    download: bool = False  # the answer carries a Content-Disposition with a file name


ROUTES: list[RouteSpec] = []
blueprint = Blueprint("api", __name__, url_prefix=API_PREFIX)


def endpoint(method: str, path: str, *, summary: str, tag: str, body: type[BaseModel] | None = None,
             response: type[BaseModel] | None = None, status: int = 200, auth: str = "required",
             multipart: type[BaseModel] | None = None, content: tuple[str, ...] = (),
             errors: tuple[int, ...] = (), query: type[BaseModel] | None = None,
             download: bool = False) -> Callable:
    """Register a JSON API view; ``errors`` lists the statuses it answers that its shape does not imply."""
    spec = RouteSpec(method, path, summary, body, response, status, auth, tag, multipart, content, errors, query,
                     download)
    ROUTES.append(spec)
    flask_path = path.replace("{", "<").replace("}", ">")

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def handle(**path_params):
            return _handle(spec, view, path_params)

        blueprint.add_url_rule(flask_path, endpoint=view.__name__, view_func=handle, methods=[method])
        return view

    return decorate


def _handle(spec: RouteSpec, view: Callable, path_params: dict) -> Response:
    if spec.multipart is None:
        # Set before anything reads the body: Werkzeug then refuses a larger Content-Length at once
        # (413, nothing read) and stops reading a chunked body one byte past the limit (Werkzeug
        # returns a stream cut at the maximum without an error, so the extra byte is what tells a
        # body over the limit from one exactly at it: see _json_body). Only uploads keep the
        # application-wide limit, which is sized for a document.
        request.max_content_length = JSON_BODY_LIMIT + 1

    def prepare(call: Call) -> None:
        if spec.body is not None:
            # Strict: a JSON number is not a date, a string is not a boolean. What the OpenAPI document
            # promises is exactly what is accepted (lax parsing took 0 for 1970-01-01).
            call.body = spec.body.model_validate_json(_json_body(), strict=True)
        if spec.multipart is not None:
            call.form = spec.multipart.model_validate(_form_fields())
        if spec.query is not None:
            call.query = spec.query.model_validate(_query_fields(spec.query))

    return _respond(spec, run(API, spec.auth, view, path_params, prepare))


def _json_body() -> str:
    """The JSON body's text; 415 for another media type, 400 when it is not small, shallow JSON."""
    if request.mimetype != "application/json":
        raise UnsupportedMediaType()
    raw = request.get_data(cache=False)  # at most JSON_BODY_LIMIT + 1 bytes are read
    if len(raw) > JSON_BODY_LIMIT:
        raise RequestEntityTooLarge()
    try:
        text = raw.decode("utf-8")
        value = json.loads(text, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        # RecursionError: nesting deep enough to exhaust the decoder's recursion guard.
        raise BadRequest() from None
    if _nesting_depth(value) > MAX_JSON_DEPTH:
        raise BadRequest()
    return text


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # Python's decoder accepts NaN and Infinity; JSON does not


def _nesting_depth(value: Any) -> int:
    """How many arrays and objects deep ``value`` goes (iteratively: no recursion to exhaust)."""
    deepest = 0
    pending = [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            if deepest > MAX_JSON_DEPTH:
                break
            pending.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _form_fields() -> dict:
    if request.mimetype != "multipart/form-data":
        raise UnsupportedMediaType()
    # Repeated non-file fields are refused by the schema (a list is not a str), not silently truncated.
    fields: dict[str, Any] = {}
    for key in request.form:
        values = request.form.getlist(key)
        fields[key] = values[0] if len(values) == 1 else values
    return {key: (value if value != "" else None) for key, value in fields.items()}


def _query_fields(model: type[BaseModel]) -> dict:
    """The declared parameters only (others, such as ``lang``, are read elsewhere); a repeated one is
    passed as a list, which the schema refuses rather than silently keeping one."""
    fields: dict[str, Any] = {}
    for key in model.model_fields:
        values = request.args.getlist(key)
        if values:
            fields[key] = values[0] if len(values) == 1 else values
    return fields


def _respond(spec: RouteSpec, result: Any) -> Response:
    if isinstance(result, Response):
        return result
    if result is None:
        return Response(status=spec.status)
    if isinstance(result, BaseModel):
        payload = result.model_dump_json()
    else:
        payload = spec.response.model_validate(result).model_dump_json()
    return Response(payload, status=spec.status, mimetype="application/json")


__all__ = ["API_PREFIX", "Call", "JSON_BODY_LIMIT", "MAX_JSON_DEPTH", "ROUTES", "blueprint", "endpoint"]
