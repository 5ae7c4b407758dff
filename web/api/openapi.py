"""The OpenAPI 3.1 document, generated from the routes and the pydantic schemas that validate them.

Partners generate clients from this document, so it must be exact: a status, a field or a media type
the server sends but the document omits breaks those clients. Hence:

- every status an operation can answer is listed. The ones the route's shape implies are derived here
  (401 wherever a token is read; 400, 413, 415 and 422 wherever a body is read; 429 wherever a password
  is checked); the others are declared on the route (``errors=``: 403, 404, 409, 503...);
- problem bodies are described field by field as ``web/errors.py`` sends them (the validation
  ``errors``, ``retry_after_seconds``...), with the headers that come with them;
- the kinds of papers are an enum, and the upload's form is one plain object a client can satisfy.

The fuzzing tests (tests/web/test_fuzz_api.py) hold the document to what the server really does.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from web.api.registry import API_PREFIX, ROUTES, RouteSpec
from web.api.schemas import DOCUMENT_KIND_SCHEMA
from web.errors import PUBLIC_DETAILS

COMPONENT = "#/components/schemas/{model}"
PROBLEM_MEDIA_TYPE = "application/problem+json"
# What each problem status means for a client, whatever the operation.
PROBLEM_STATUSES = {
    400: "The body cannot be read: not JSON, malformed, or nested too deep",
    401: "Not signed in, the session ended, or the credentials are wrong",
    403: "Signed in, but this account may not do this",
    404: "Not found, or not yours (the answer is the same)",
    409: "Conflicts with what exists (a username already taken)",
    410: "Gone for good: the person closed their locker (code vault_closed)",
    413: "Too large: the body, a file, the document, or the space left in the locker",
    415: "Not a media type this operation accepts (or a file that cannot be kept)",
    422: "Some fields are missing or not valid (``errors`` or ``field`` says which)",
    429: "Too many tries, or too many sign-ins at once: wait ``Retry-After`` seconds",
    503: "The papers store or the decoding capacity is busy or down; nothing was changed",
}
# The fields a problem may carry besides RFC 9457's (web/errors.py PUBLIC_DETAILS plus the validation
# list). Every public detail must be described here: a test checks it, so none reaches clients unseen.
PROBLEM_DETAILS: dict[str, dict[str, Any]] = {
    "errors": {"type": "array", "description": "Each field that is missing or not valid", "items": {
        "type": "object", "additionalProperties": False, "required": ["field", "problem"],
        "properties": {"field": {"type": "string", "description": "Dotted path of the field"},
                       "problem": {"type": "string", "description": "A stable code, e.g. missing"}}}},
    "field": {"type": "string", "description": "The field that is not valid"},
    "reason": {"type": "string", "description": "A stable code saying why (e.g. too_common, image_too_large)"},
    "file_index": {"type": ["integer", "null"], "minimum": 0, "description": "Which file of the upload"},
    "maximum": {"type": "integer"},
    "minimum": {"type": "integer"},
    "used": {"type": "integer", "description": "Bytes used in the locker"},
    "quota": {"type": "integer", "description": "Bytes allowed in the locker"},
    "kinds": {"type": "array", "items": DOCUMENT_KIND_SCHEMA},
    "retry_after_seconds": {"type": "integer", "minimum": 1, "description": "Same as the Retry-After header"},
    "suggested_passphrase": {"type": "string", "description": "With a weak password: simple words to offer instead"},
}
PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details; title and detail are in the request's language "
                   "(Content-Language), code is stable",
    "additionalProperties": False,
    "required": ["type", "title", "status", "detail", "code", "instance"],
    "properties": {
        "type": {"type": "string", "description": "urn:consigne:problem:<code>"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "A stable code for programs (e.g. session_expired)"},
        "instance": {"type": "string"},
        **PROBLEM_DETAILS,
    },
}
RETRY_AFTER = {"description": "Seconds to wait before trying again", "schema": {"type": "integer", "minimum": 1}}
HEADERS_BY_STATUS = {
    401: {"WWW-Authenticate": {"required": True, "schema": {"type": "string"}}},
    429: {"Retry-After": {**RETRY_AFTER, "required": True}},
    503: {"Retry-After": {**RETRY_AFTER, "required": False}},
}
DOWNLOAD_HEADERS = {"Content-Disposition": {"required": True, "schema": {"type": "string"},
                                            "description": "attachment (or inline when asked), with a file name"}}
UPLOAD_FILE_TYPES = "JPEG, PNG, WebP or HEIC photos, or PDF"


def documented_statuses(route: RouteSpec) -> set[int]:
    """Every status ``route`` can answer: its success, what its shape implies, and what it declares."""
    statuses = {route.status, *route.errors}
    if route.auth != "none":
        statuses.add(401)  # a missing, stale or malformed token; "optional" routes refuse a bad one too
    if route.body is not None or route.multipart is not None:
        statuses |= {400, 413, 415, 422}
    if route.body is not None and any("password" in name for name in route.body.model_fields):
        # A password is checked with Argon2id, which runs through the process's bounded queue
        # (vault/capacity.py): when it stays full, the answer is 429 with Retry-After (SignInBusy).
        statuses.add(429)
    return statuses


def build_openapi() -> dict[str, Any]:
    requests = {route.body for route in ROUTES if route.body}
    responses = {route.response for route in ROUTES if route.response}
    pairs = sorted({(model, "validation") for model in requests} | {(model, "serialization") for model in responses},
                   key=lambda pair: (pair[0].__name__, pair[1]))
    refs, top = models_json_schema(pairs, ref_template=COMPONENT)
    schemas = dict(top.get("$defs", {}))
    schemas["Problem"] = PROBLEM_SCHEMA
    paths: dict[str, dict] = {}
    for route in ROUTES:
        paths.setdefault(API_PREFIX + route.path, {})[route.method.lower()] = _operation(route, refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Consigne API", "version": "1",
                 "description": "Encrypted solidarity document locker. Errors are RFC 9457 problem JSON in the "
                                "request's language (Accept-Language or ?lang=fr|en|ar); JSON bodies are at "
                                "most 64 KiB."},
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "The token from POST /sessions"}},
        },
    }


def _operation(route: RouteSpec, refs: dict) -> dict:
    operation: dict[str, Any] = {"summary": route.summary, "tags": [route.tag], "operationId": _operation_id(route)}
    parameters = [{"name": name.strip("{}"), "in": "path", "required": True, "schema": {"type": "string"}}
                  for name in route.path.split("/") if name.startswith("{")]
    if route.query is not None:
        parameters += _query_parameters(route.query)
    if parameters:
        operation["parameters"] = parameters
    if route.body is not None:
        operation["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": refs[(route.body, "validation")]}}}
    if route.multipart is not None:
        operation["requestBody"] = {"required": True, "content": {"multipart/form-data": {
            "schema": upload_form_schema(route.multipart)}}}
    operation["responses"] = {str(status): _response(route, status, refs)
                              for status in sorted(documented_statuses(route))}
    if route.auth == "required":
        operation["security"] = [{"bearer": []}]
    elif route.auth == "optional":
        operation["security"] = [{}, {"bearer": []}]
    else:
        operation["security"] = []  # public: credentials, even stale ones, are ignored
    return operation


def _response(route: RouteSpec, status: int, refs: dict) -> dict:
    if status != route.status:
        answer: dict[str, Any] = {"description": PROBLEM_STATUSES[status], "content": {
            PROBLEM_MEDIA_TYPE: {"schema": {"$ref": COMPONENT.format(model="Problem")}}}}
        if status in HEADERS_BY_STATUS:
            answer["headers"] = copy.deepcopy(HEADERS_BY_STATUS[status])
        return answer
    if route.response is not None:
        return {"description": "OK", "content": {"application/json": {"schema": refs[(route.response, "serialization")]}}}
    if route.content:
        binary = {"schema": {"type": "string", "contentMediaType": "application/octet-stream"}}
        answer = {"description": "OK", "content": {media_type: copy.deepcopy(binary) for media_type in route.content}}
        if route.download:
            answer["headers"] = copy.deepcopy(DOWNLOAD_HEADERS)
        return answer
    return {"description": "Done, nothing to return"}


def upload_form_schema(model: type[BaseModel]) -> dict:
    """The multipart form as one object: the model's fields plus ``file``, repeated once per page.

    One object, not an ``allOf`` of the model (which forbids other properties) and the file part: no
    form could satisfy both. Form fields cannot be null, so optional fields are just not required.
    """
    schema = model.model_json_schema(ref_template=COMPONENT, mode="validation")
    properties = {name: _without_null(field) for name, field in schema["properties"].items()}
    for field in properties.values():
        field.pop("default", None)
    # The type of each file is read from its content, whatever the part's Content-Type says.
    properties["file"] = {"type": "array", "minItems": 1,
                          "description": f"One file per page, in page order: {UPLOAD_FILE_TYPES}",
                          "items": {"type": "string", "contentMediaType": "application/octet-stream"}}
    return {"type": "object", "description": model.__doc__.strip() if model.__doc__ else "",
            "additionalProperties": False, "required": [*schema.get("required", []), "file"],
            "properties": properties}


def _without_null(field: dict) -> dict:
    branches = [branch for branch in field.get("anyOf", []) if branch.get("type") != "null"]
    if len(branches) != 1:
        return dict(field)
    kept = {key: value for key, value in field.items() if key != "anyOf"}
    return {**branches[0], **kept}


def _query_parameters(model: type[BaseModel]) -> list[dict]:
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    parameters = []
    for name, property_schema in schema.get("properties", {}).items():
        parameter_schema = {key: value for key, value in property_schema.items() if key not in {"title", "description"}}
        # An optional parameter is absent, never null: keep the non-null alternative of "X | None".
        alternatives = [option for option in parameter_schema.pop("anyOf", []) if option.get("type") != "null"]
        if len(alternatives) == 1:
            parameter_schema = alternatives[0] | parameter_schema
        elif alternatives:
            parameter_schema["anyOf"] = alternatives
        if parameter_schema.get("default", 0) is None:
            del parameter_schema["default"]
        parameter = {"name": name, "in": "query", "required": name in required, "schema": parameter_schema}
        if property_schema.get("description"):
            parameter["description"] = property_schema["description"]
        parameters.append(parameter)
    return parameters


def _operation_id(route: RouteSpec) -> str:
    parts = route.path.strip("/").replace("{", "").replace("}", "").replace("-", "_").split("/")
    return route.method.lower() + "_" + "_".join(parts)


__all__ = ["PROBLEM_DETAILS", "build_openapi", "documented_statuses", "upload_form_schema"]
