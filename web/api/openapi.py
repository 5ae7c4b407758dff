"""The OpenAPI 3.1 document, generated from the routes and the pydantic schemas that validate them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from web.api.registry import API_PREFIX, ROUTES, RouteSpec

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details; title and detail are in the request's language",
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "code": {"type": "string"}, "instance": {"type": "string"},
    },
    "required": ["type", "title", "status", "code"],
}


def build_openapi() -> dict[str, Any]:
    models = sorted({model for route in ROUTES for model in (route.body, route.response, route.multipart) if model},
                    key=lambda model: model.__name__)
    _, top = models_json_schema([(model, "validation") for model in models],
                                ref_template="#/components/schemas/{model}")
    schemas = dict(top.get("$defs", {}))
    schemas["Problem"] = PROBLEM_SCHEMA
    paths: dict[str, dict] = {}
    for route in ROUTES:
        paths.setdefault(API_PREFIX + route.path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Consigne API", "version": "1",
                 "description": "Encrypted solidarity document locker. Errors are RFC 9457 problem JSON."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _ref(model: type[BaseModel]) -> dict:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _operation(route: RouteSpec) -> dict:
    operation: dict[str, Any] = {"summary": route.summary, "tags": [route.tag], "operationId": _operation_id(route)}
    parameters = [{"name": name.strip("{}"), "in": "path", "required": True, "schema": {"type": "string"}}
                  for name in route.path.split("/") if name.startswith("{")]
    if route.query is not None:
        parameters += _query_parameters(route.query)
    if parameters:
        operation["parameters"] = parameters
    if route.body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(route.body)}}}
    if route.multipart is not None:
        form = {"allOf": [_ref(route.multipart), {"type": "object", "required": ["file"], "properties": {
            "file": {"type": "array", "items": {"type": "string", "format": "binary"},
                     "description": "One file per page, in page order (JPEG, PNG, WebP, HEIC or PDF)"}}}]}
        operation["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": form}}}
    responses: dict[str, Any] = {}
    if route.response is not None:
        responses[str(route.status)] = {"description": "OK",
                                        "content": {"application/json": {"schema": _ref(route.response)}}}
    elif route.content is not None:
        responses[str(route.status)] = {"description": "OK", "content": {
            route.content: {"schema": {"type": "string", "format": "binary"}}}}
    else:
        responses[str(route.status)] = {"description": "Done"}
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for status in sorted(set(route.errors) | ({401} if route.auth == "required" else set()) | {400}):
        responses[str(status)] = {"description": "Problem", "content": problem}
    operation["responses"] = responses
    if route.auth == "required":
        operation["security"] = [{"bearer": []}]
    elif route.auth == "optional":
        operation["security"] = [{}, {"bearer": []}]
    return operation


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
    parts = [part for part in route.path.strip("/").replace("{", "").replace("}", "").replace("-", "_").split("/")]
    return route.method.lower() + "_" + "_".join(parts)
