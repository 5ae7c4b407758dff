"""Marked copies: the person's own copy, the register, deletion requests, and the public verification."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Literal

from flask import Response, request
from pydantic import Field

from vault.duplicates import service as duplicate_service
from vault.errors import InvalidInput
from vault.policies import actor_for
from vault.purposes import check_purpose_choice
from web.api.accounts import attempt_of
from web.api.registry import Call, endpoint
from web.api.schemas import ContentQuery, Strict
from web.uploads import held_bytes

# The words written on every copy: French, whatever the reader's language (the copies go to French
# offices, landlords and employers).
COPY_LANGUAGE = "fr"


class DuplicateCreate(Strict):
    purpose: str = Field(max_length=40, description="A preset purpose code (see the purposes), or \"other\"")
    purpose_text: str | None = Field(default=None, max_length=400, description="The purpose in words, for \"other\"")


class DuplicateOut(Strict):
    """One copy in a register: the person's (every copy of their papers) or a worker's (the copies received)."""

    ref: str
    document_id: str | None
    kind: str
    issued_at: datetime
    holder_name: str | None = Field(description="Who received the copy; null for the person's own copy")
    organisation: str | None
    purpose: str
    purpose_text: str | None
    status: Literal["own_copy", "share_active", "share_ended", "share_expired"]
    share_id: str | None
    deletion_requested_at: datetime | None
    deletion_answer: Literal["deleted", "kept"] | None
    deletion_answered_at: datetime | None


class DuplicateList(Strict):
    items: list[DuplicateOut]


class DeletionAnswer(Strict):
    answer: Literal["deleted", "kept"]


class PublicDuplicate(Strict):
    """What anyone may learn from a reference: never the person, never the paper."""

    ref: str
    issued_at: datetime
    organisation: str | None = Field(description="Who received the copy; null when the person made it for themselves")
    purpose: str
    purpose_text: str | None
    kind: str
    status: Literal["own_copy", "share_active", "share_ended", "share_expired"]


class DuplicateCheckUpload(Strict):
    """The file to compare with the copy issued under this reference (its exact bytes)."""


class CheckResult(Strict):
    matches: bool


class SigningKeyOut(Strict):
    id: str = Field(description="The key id printed in statements: 16 hex digits of SHA-256(public key)")
    algorithm: Literal["Ed25519"]
    public_key: str = Field(description="The 32-byte public key, base64")
    created_at: str | None = Field(description="The day the key was made (YYYY-MM-DD), when known")


class SigningKeys(Strict):
    keys: list[SigningKeyOut]


def entry_out(entry: duplicate_service.DuplicateEntry) -> DuplicateOut:
    return DuplicateOut(ref=entry.ref, document_id=entry.document_id, kind=entry.kind, issued_at=entry.issued_at,
                        holder_name=entry.holder_name, organisation=entry.organisation, purpose=entry.purpose.code,
                        purpose_text=entry.purpose.text, status=entry.status, share_id=entry.share_id,
                        deletion_requested_at=entry.deletion_requested_at, deletion_answer=entry.deletion_answer,
                        deletion_answered_at=entry.deletion_answered_at)


def copy_response(issued: duplicate_service.IssuedDuplicate, disposition: str = "attachment") -> Response:
    filename = f"copie-{issued.kind}-{issued.ref}.pdf"
    return Response(issued.pdf, mimetype="application/pdf", headers={
        "Consigne-Duplicate": issued.ref,
        "Content-Length": str(len(issued.pdf)),
        "Content-Disposition": f"{disposition}; filename=\"{filename}\"",
    })


def issue_own(call: Call, document_id: str, purpose: str | None, purpose_text: str | None):
    """Shared by the API and the page: the person's own marked copy of one of their papers."""
    return duplicate_service.issue_own_duplicate(
        call.uow, current=call.current, document_id=document_id, purpose=check_purpose_choice(purpose, purpose_text),
        now=call.now, signing=call.services.settings.signing_keys, base_url=call.services.settings.base_url,
        words=call.services.translator.for_language(COPY_LANGUAGE), gate=call.services.gates.media)


def issue_shared(call: Call, share_id: str, document_id: str, *, inline: bool):
    """Shared by the API and the worker's page: the grantee's marked copy through an active share."""
    return duplicate_service.issue_shared_duplicate(
        call.uow, current=call.current, share_id=share_id, document_id=document_id,
        disposition="view" if inline else "download", now=call.now, signing=call.services.settings.signing_keys,
        base_url=call.services.settings.base_url, words=call.services.translator.for_language(COPY_LANGUAGE),
        gate=call.services.gates.media)


@endpoint("GET", "/shares/{share_id}/documents/{document_id}/content",
          summary="A paper shared with me, as a marked and signed copy (PDF); the person sees it in their activity",
          tag="duplicates", query=ContentQuery, content=("application/pdf",), download=True,
          errors=(403, 404, 410, 422, 503))
def get_shared_document(call: Call, share_id: str, document_id: str) -> Response:
    disposition = call.query.disposition
    issued = issue_shared(call, share_id, document_id, inline=disposition == "inline")
    return copy_response(issued, disposition)


def register(call: Call) -> list[duplicate_service.DuplicateEntry]:
    return duplicate_service.list_duplicates(call.session, actor=actor_for(call.session, call.current.account),
                                             now=call.now)


@endpoint("POST", "/documents/{document_id}/duplicates", summary="Make a marked, verifiable copy of my paper (PDF)",
          tag="duplicates", body=DuplicateCreate, content=("application/pdf",), download=True,
          errors=(403, 404, 503))
def create_duplicate(call: Call, document_id: str) -> Response:
    return copy_response(issue_own(call, document_id, call.body.purpose, call.body.purpose_text))


@endpoint("GET", "/duplicates", summary="The copies of my papers (or, for a worker, the copies I received)",
          tag="duplicates", response=DuplicateList)
def list_duplicates(call: Call) -> DuplicateList:
    return DuplicateList(items=[entry_out(entry) for entry in register(call)])


@endpoint("POST", "/duplicates/{ref}/deletion-request", summary="Ask whoever holds this copy to delete it",
          tag="duplicates", response=DuplicateOut, status=201, errors=(403, 404, 409))
def ask_deletion(call: Call, ref: str) -> DuplicateOut:
    actor = actor_for(call.session, call.current.account)
    duplicate = duplicate_service.ask_deletion(call.session, actor=actor, ref=ref, now=call.now)
    return _one(call, duplicate.ref)


@endpoint("POST", "/duplicates/{ref}/deletion-answer", summary="Say whether I deleted a copy I was asked to delete",
          tag="duplicates", body=DeletionAnswer, response=DuplicateOut, errors=(403, 404, 409))
def answer_deletion(call: Call, ref: str) -> DuplicateOut:
    actor = actor_for(call.session, call.current.account)
    duplicate = duplicate_service.answer_deletion(call.session, actor=actor, ref=ref, answer=call.body.answer,
                                                  now=call.now)
    return _one(call, duplicate.ref)


@endpoint("GET", "/duplicates/{ref}", summary="Check a copy's reference: when, by whom, why, still valid (public)",
          tag="verification", response=PublicDuplicate, auth="none", errors=(404, 429))
def look_up(call: Call, ref: str) -> PublicDuplicate:
    found = duplicate_service.look_up(call.session, keys=call.services.keys, attempt=attempt_of(call), ref=ref,
                                      now=call.now)
    return PublicDuplicate(ref=found.ref, issued_at=found.issued_at, organisation=found.organisation,
                           purpose=found.purpose.code, purpose_text=found.purpose.text, kind=found.kind,
                           status=found.status)


@endpoint("POST", "/duplicates/{ref}/check", summary="Is this file exactly the copy issued under this reference? (public)",
          tag="verification", multipart=DuplicateCheckUpload, response=CheckResult, auth="none", errors=(404, 429))
def check(call: Call, ref: str) -> CheckResult:
    uploads = request.files.getlist("file")
    if len(uploads) != 1:
        raise InvalidInput(field="file")
    matches = duplicate_service.check_copy(call.session, keys=call.services.keys, attempt=attempt_of(call), ref=ref,
                                           data=held_bytes(uploads[0]), now=call.now)
    return CheckResult(matches=matches)


@endpoint("GET", "/signing-keys", summary="The public keys that sign the copies' QR codes (public)",
          tag="verification", response=SigningKeys, auth="none")
def signing_keys(call: Call) -> SigningKeys:
    return SigningKeys(keys=[SigningKeyOut(id=key.key_id, algorithm="Ed25519",
                                           public_key=base64.b64encode(key.public_bytes).decode(), created_at=created)
                             for key, created in call.services.settings.signing_keys.public_keys()])


def _one(call: Call, ref: str) -> DuplicateOut:
    return entry_out(next(entry for entry in register(call) if entry.ref == ref))
