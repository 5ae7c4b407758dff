"""The person's papers."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from flask import Response, request, stream_with_context

from vault import documents as document_service
from vault.errors import InvalidInput
from vault.kinds import KINDS
from vault.media import UploadedFile
from web.api.expiry import expiry_out
from web.api.registry import Call, endpoint
from web.uploads import held_bytes
from web.api.schemas import (
    ContentQuery,
    DocumentKindLabel,
    DocumentKinds,
    DocumentList,
    DocumentListQuery,
    DocumentOut,
    DocumentPatch,
    DocumentUpload,
)

READ_SIZE = 64 * 1024
# The media types a stored paper can have once cleaned (vault.media), with the extension of its file name.
EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


def as_output(view: document_service.DocumentView, now: datetime) -> DocumentOut:
    return DocumentOut(id=view.id, kind=view.kind, title=view.title, pages=view.pages, content_type=view.content_type,
                       size=view.size, created_at=view.created_at, updated_at=view.updated_at,
                       expires_on=view.expires_on, expiry=expiry_out(view.expires_on, now))


@endpoint("GET", "/document-kinds", summary="The kinds of papers, with their names in the request's language",
          tag="documents", response=DocumentKinds, auth="none")
def document_kinds(call: Call) -> DocumentKinds:
    translate = call.services.translator.translate
    return DocumentKinds(items=[DocumentKindLabel(kind=kind.code, label=translate(call.language, kind.label))
                                for kind in KINDS])


@endpoint("POST", "/documents", summary="Add a paper: one or several files become its pages, in order",
          tag="documents", multipart=DocumentUpload, response=DocumentOut, status=201, errors=(403, 503))
def create_document(call: Call) -> DocumentOut:
    uploads = request.files.getlist("file")
    if not uploads:
        raise InvalidInput(field="file")
    files = [UploadedFile(data=held_bytes(upload), filename=upload.filename, release=upload.stream.close)
             for upload in uploads]
    view = document_service.add_document(call.uow, current=call.current, files=files, kind=call.form.kind,
                                         title=call.form.title, expires_on=call.form.expires_on,
                                         limits=call.services.settings.limits, now=call.now,
                                         gate=call.services.gates.media)
    return as_output(view, call.now)


@endpoint("GET", "/documents", summary="My papers, newest first, a page at a time", tag="documents",
          response=DocumentList, query=DocumentListQuery, errors=(403, 422))
def list_documents(call: Call) -> DocumentList:
    page = document_service.list_documents(call.session, current=call.current, keys=call.services.keys,
                                           limit=call.query.limit, cursor=call.query.cursor)
    return DocumentList(items=[as_output(view, call.now) for view in page.items], next_cursor=page.next_cursor)


@endpoint("GET", "/documents/{document_id}", summary="One paper's details", tag="documents", response=DocumentOut,
          errors=(403, 404))
def get_document(call: Call, document_id: str) -> DocumentOut:
    return as_output(document_service.get_document(call.session, current=call.current, document_id=document_id),
                     call.now)


@endpoint("GET", "/documents/{document_id}/content", summary="The paper itself, with its exact Content-Type",
          tag="documents", content=tuple(EXTENSIONS), download=True, errors=(403, 404, 422, 503),
          query=ContentQuery)
def get_document_content(call: Call, document_id: str) -> Response:
    disposition = call.query.disposition
    inline = disposition == "inline"
    view, reader = document_service.open_document_content(call.uow, current=call.current, document_id=document_id,
                                                          now=call.now, inline=inline)
    filename = f"{view.kind}.{EXTENSIONS.get(view.content_type, 'bin')}"
    return Response(stream_with_context(_stream(reader)), mimetype=view.content_type, headers={
        "Content-Length": str(view.size),
        "Content-Disposition": f"{disposition}; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}",
    })


@endpoint("GET", "/documents/{document_id}/thumbnail", summary="A small picture of the first page",
          tag="documents", content=("image/jpeg",), errors=(403, 404, 503))
def get_document_thumbnail(call: Call, document_id: str) -> Response:
    reader = document_service.open_document_thumbnail(call.uow, current=call.current, document_id=document_id)
    return Response(stream_with_context(_stream(reader)), mimetype="image/jpeg")


@endpoint("PATCH", "/documents/{document_id}", summary="Change the title, kind or expiry date", tag="documents",
          body=DocumentPatch, response=DocumentOut, errors=(403, 404))
def patch_document(call: Call, document_id: str) -> DocumentOut:
    changes = {name: getattr(call.body, name) for name in call.body.model_fields_set}
    if "kind" in changes and changes["kind"] is None:
        raise InvalidInput(field="kind")
    return as_output(document_service.update_document(call.session, current=call.current, document_id=document_id,
                                                      changes=changes, now=call.now), call.now)


@endpoint("DELETE", "/documents/{document_id}", summary="Delete a paper (its encrypted file too)",
          tag="documents", status=204, errors=(403, 404))
def delete_document(call: Call, document_id: str) -> None:
    document_service.delete_document(call.uow, current=call.current, document_id=document_id, now=call.now)


def _stream(reader):
    try:
        while chunk := reader.read(READ_SIZE):
            yield chunk
    finally:
        reader.close()
