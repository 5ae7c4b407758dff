"""The JSON API under /api/v1: a public contract for the pages, mobile apps and partners' software."""

from flask import jsonify

from web.api import (  # noqa: F401 - registers the endpoints
    accounts, assisted_recovery, deposits, documents, duplicates, leaving, organisations, recovery, shares,
)
from web.api.openapi import build_openapi
from web.api.registry import blueprint


@blueprint.get("/openapi.json")
def openapi_document():
    return jsonify(build_openapi())


__all__ = ["blueprint"]
