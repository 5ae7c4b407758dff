"""One decorator for every JSON endpoint: parse and validate, authenticate, run in one transaction,
serialise — and record the route so the OpenAPI document is generated from the same schemas."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from flask import Blueprint, Response, g, request
from pydantic import BaseModel
from werkzeug.exceptions import BadRequest

from vault.db import UnitOfWork
from vault.errors import SessionExpired, VaultError
from vault.sessions import CurrentAccount, authenticate
from web.app import Services, services
from web.i18n import negotiate_language

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


@dataclass
class Call:
    """What a view receives: the transaction, the caller, the time and the language of this request."""

    uow: UnitOfWork
    current: CurrentAccount | None
    now: datetime
    language: str
    services: Services
    body: Any = None
    form: Any = None

    @property
    def session(self):
        return self.uow.session


ROUTES: list[RouteSpec] = []
blueprint = Blueprint("api", __name__, url_prefix=API_PREFIX)


def endpoint(method: str, path: str, *, summary: str, tag: str, body: type[BaseModel] | None = None,
             response: type[BaseModel] | None = None, status: int = 200, auth: str = "required",
             multipart: type[BaseModel] | None = None, content: str | None = None,
             errors: tuple[int, ...] = ()) -> Callable:
    spec = RouteSpec(method, path, summary, body, response, status, auth, tag, multipart, content, errors)
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
    svc = services()
    g.language = negotiate_language(request.accept_languages, request.args.get("lang"))
    uow = UnitOfWork(svc.session_factory(), svc.store)
    try:
        call = Call(uow=uow, current=None, now=svc.clock(), language=g.language, services=svc)
        call.current = _authenticate(spec, call)
        if spec.body is not None:
            call.body = spec.body.model_validate(_json_body())
        if spec.multipart is not None:
            call.form = spec.multipart.model_validate(_form_fields())
        result = view(call, **path_params)
        uow.commit()
    except VaultError as error:
        uow.commit() if error.keeps_changes else uow.rollback()
        raise
    except BaseException:
        uow.rollback()
        raise
    finally:
        uow.close()
    return _respond(spec, result)


def _authenticate(spec: RouteSpec, call: Call) -> CurrentAccount | None:
    header = request.headers.get("Authorization", "")
    if not header:
        if spec.auth == "required":
            raise SessionExpired()
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise SessionExpired()
    return authenticate(call.session, token=token.strip(), timeouts=call.services.settings.timeouts, now=call.now)


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
