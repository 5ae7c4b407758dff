"""One decorator for every JSON endpoint: the shared request pipeline (transaction, clock, language,
bearer authentication), plus parsing, validation and serialisation — and the route is recorded so the
OpenAPI document is generated from the same schemas."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable

from flask import Blueprint, Response, request
from pydantic import BaseModel
from werkzeug.exceptions import BadRequest

from web.pipeline import API, Call, run

API_PREFIX = "/api/v1"


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
    content: str | None = None  # media type of a non-JSON answer
    errors: tuple[int, ...] = ()
    query: type[BaseModel] | None = None  # query parameters (a list's limit and cursor)


ROUTES: list[RouteSpec] = []
blueprint = Blueprint("api", __name__, url_prefix=API_PREFIX)


def endpoint(method: str, path: str, *, summary: str, tag: str, body: type[BaseModel] | None = None,
             response: type[BaseModel] | None = None, status: int = 200, auth: str = "required",
             multipart: type[BaseModel] | None = None, content: str | None = None,
             errors: tuple[int, ...] = (), query: type[BaseModel] | None = None) -> Callable:
    spec = RouteSpec(method, path, summary, body, response, status, auth, tag, multipart, content, errors, query)
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
    def prepare(call: Call) -> None:
        if spec.body is not None:
            call.body = spec.body.model_validate(_json_body())
        if spec.multipart is not None:
            call.form = spec.multipart.model_validate(_form_fields())
        if spec.query is not None:
            call.query = spec.query.model_validate(_query_fields(spec.query))

    return _respond(spec, run(API, spec.auth, view, path_params, prepare))


def _json_body() -> Any:
    if not request.is_json:
        raise BadRequest()
    return request.get_json()  # undecodable JSON raises BadRequest, answered as a 400 problem


def _form_fields() -> dict:
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


__all__ = ["API_PREFIX", "Call", "ROUTES", "blueprint", "endpoint"]
