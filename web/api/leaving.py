"""Leaving: take everything out (export), close the locker for good (deletion). Both need the password."""

from __future__ import annotations

from typing import Literal

from flask import Response, stream_with_context
from pydantic import Field

from vault.closing import close_vault
from vault.export import prepare_export
from web.api.accounts import attempt_of
from web.api.registry import Call, endpoint
from web.api.schemas import CurrentPassword, Strict


class ExportRequest(Strict):
    """What to take out, after the current password."""

    password: str = Field(max_length=1024, description="The current password")
    format: Literal["zip", "age"] = Field(description="zip: every paper as it was given, readable at once; age: the "
                                                      "papers still encrypted, with the key under a passphrase")
    passphrase: str | None = Field(default=None, max_length=1024,
                                   description="age only: protects the key in the archive (8 to 256 characters)")


def export_response(call: Call, export) -> Response:
    """The ZIP, streamed as it is built (nothing on disk, one chunk in memory: vault/export.py).

    The file name is neutral (date and format, never the username): it lands in a shared computer's
    downloads folder, where a name would tell the next user whose papers these are.
    """
    store = call.services.store
    return Response(stream_with_context(export.chunks(store)), mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{export.file_name}"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    })


@endpoint("POST", "/me/export", summary="Everything in my locker as one ZIP, with the current password: my papers "
          "as I gave them (zip), or still encrypted with my key under a passphrase I choose (age)", tag="me",
          body=ExportRequest, content=("application/zip",), download=True, errors=(403,))
def export_everything(call: Call) -> Response:
    export = prepare_export(call.uow, current=call.current, keys=call.services.keys, attempt=attempt_of(call),
                            password=call.body.password, export_format=call.body.format,
                            passphrase=call.body.passphrase, words=call.words, now=call.now)
    return export_response(call, export)


@endpoint("DELETE", "/me", summary="Close my locker for good, with the current password: every paper, share, key and "
          "sign-in of mine is deleted; workers who held a share are told the locker was closed", tag="me",
          body=CurrentPassword, status=204, errors=(403, 410))
def close_my_vault(call: Call) -> None:
    close_vault(call.uow, current=call.current, keys=call.services.keys, attempt=attempt_of(call),
                password=call.body.password, now=call.now)
