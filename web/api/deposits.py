"""A worker deposits a newly issued paper into the vault of a person who follows their organisation.

``POST /people/{username}/documents``, multipart as ``POST /documents``. The answer tells the worker only
what they brought and what the server counted (id, kind, pages, date): the paper and its title are
encrypted to the person, and the worker cannot read them back (vault/deposits.py).
"""

from __future__ import annotations

from datetime import datetime

from flask import request

from vault import deposits as deposit_service
from vault.errors import InvalidInput
from vault.media import UploadedFile
from web.api.registry import Call, endpoint
from web.api.schemas import DocumentKind, DocumentUpload, Strict
from web.uploads import held_bytes


class DepositOut(Strict):
    """What the worker may see of a paper they deposited: never its title, never its content."""

    id: str
    kind: DocumentKind
    pages: int
    created_at: datetime


@endpoint("POST", "/people/{username}/documents",
          summary="Deposit a paper into the vault of a person who follows your organisation (staff); "
                  "it is encrypted to the person and you cannot open it",
          tag="deposits", multipart=DocumentUpload, response=DepositOut, status=201, errors=(403, 404, 503))
def deposit_document(call: Call, username: str) -> DepositOut:
    uploads = request.files.getlist("file")
    if not uploads:
        raise InvalidInput(field="file")
    files = [UploadedFile(data=held_bytes(upload), filename=upload.filename, release=upload.stream.close)
             for upload in uploads]
    receipt = deposit_service.deposit_document(call.uow, current=call.current, username=username, files=files,
                                               kind=call.form.kind, title=call.form.title,
                                               expires_on=call.form.expires_on,
                                               limits=call.services.settings.limits, now=call.now,
                                               gate=call.services.gates.media)
    return DepositOut(id=receipt.id, kind=receipt.kind, pages=receipt.pages, created_at=receipt.created_at)
