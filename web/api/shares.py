"""Shares and access requests: consent, given by the person, asked by a worker."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from flask import Response
from pydantic import AwareDatetime, Field

from vault import access_requests as request_service
from vault import receipts
from vault import shares as share_service
from vault.kinds import DOCUMENT_KINDS
from vault.purposes import PRESETS, check_purpose_choice
from web.api.accounts import attempt_of
from web.api.expiry import EXPIRY_FIELD, ExpiryOut, expiry_out
from web.api.registry import Call, endpoint
from web.api.schemas import DocumentKind, Strict

PURPOSE_CODES = tuple(preset.code for preset in PRESETS)
ID = Field(max_length=36)


# --- schemas -----------------------------------------------------------------------------------------
class ShareCreate(Strict):
    grantee: str = Field(max_length=64, description="The staff member: their username or id")
    documents: list[str] = Field(min_length=1, max_length=share_service.MAX_PAPERS_PER_SHARE,
                                 description="Ids of my papers to share")
    purpose: str = Field(max_length=40, description="A purpose the grantee's organisation registered: "
                                                    + ", ".join(PURPOSE_CODES))
    purpose_text: str | None = Field(default=None, max_length=400, description='The words of an "other" purpose')
    expires_at: AwareDatetime = Field(description="In the future, at most 90 days from now")
    organisation: str | None = Field(default=None, max_length=36,
                                     description="The organisation the grantee acts for here, if they have several")


class Named(Strict):
    id: str | None
    name: str | None


class SharedPaperOut(Strict):
    id: str
    kind: str
    title: str | None = Field(description="The owner's title; null for the grantee (titles are sealed to the owner)")
    expires_on: date | None = Field(default=None, description="The paper's expiry date; null for the grantee once "
                                                              "the share has ended")
    expiry: ExpiryOut | None = EXPIRY_FIELD


class ShareOut(Strict):
    id: str
    owner: Named = Field(description="The person who shares (their username)")
    grantee: Named = Field(description="The staff member (their display name)")
    organisation: Named
    documents: list[SharedPaperOut]
    purpose: str
    purpose_text: str | None
    purpose_label: str = Field(description="The purpose in the request's language")
    created_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    end_reason: Literal["owner", "grantee", "deactivated", "expired"] | None
    access_request: str | None
    active: bool
    seconds_left: int = Field(description="0 once ended or expired")


class ShareList(Strict):
    items: list[ShareOut]


class ReceiptQuery(Strict):
    language: Literal["fr", "en", "ar"] | None = Field(default=None, description="The receipt's language "
                                                       "(default: the request's)")


class AccessRequestCreate(Strict):
    person: str = Field(max_length=64, description="A person following my organisation: username or id")
    kinds: list[DocumentKind] = Field(min_length=1, max_length=len(DOCUMENT_KINDS))
    purpose: str = Field(max_length=40, description="A purpose my organisation registered")
    purpose_text: str | None = Field(default=None, max_length=400)
    duration_days: int = Field(description="1 to 90")
    organisation: str | None = Field(default=None, max_length=36,
                                     description="The organisation I ask for, if I work for several")


class AccessRequestOut(Strict):
    id: str
    person: Named
    organisation: Named
    requester: Named
    kinds: list[str]
    purpose: str
    purpose_text: str | None
    purpose_label: str
    duration_days: int
    created_at: datetime
    status: Literal["waiting", "approved", "declined"]
    answered_at: datetime | None
    share: str | None


class AccessRequestList(Strict):
    items: list[AccessRequestOut]


class Approval(Strict):
    documents: list[str] = Field(min_length=1, max_length=share_service.MAX_PAPERS_PER_SHARE,
                                 description="Ids of the person's papers, of the requested kinds")
    expires_at: AwareDatetime | None = Field(default=None, description="Sooner than the requested duration")
    password: str | None = Field(default=None, max_length=1024,
                                 description="Side by side, with a worker's token: the person types their password")
    otp: str | None = Field(default=None, max_length=16, description="Side by side: the person's two-step code")


def share_out(call: Call, view: share_service.ShareView) -> ShareOut:
    return ShareOut(
        id=view.id, owner=Named(id=view.owner_id, name=view.owner_name),
        grantee=Named(id=view.grantee_id, name=view.grantee_name),
        organisation=Named(id=view.organisation_id, name=view.organisation_name),
        documents=[SharedPaperOut(id=paper.id, kind=paper.kind, title=paper.title, expires_on=paper.expires_on,
                                  expiry=expiry_out(paper.expires_on, call.now)) for paper in view.documents],
        purpose=view.purpose.code, purpose_text=view.purpose.text, purpose_label=view.purpose.label(call.gettext),
        created_at=view.created_at, expires_at=view.expires_at, ended_at=view.ended_at, end_reason=view.end_reason,
        access_request=view.access_request_id, active=view.active, seconds_left=view.seconds_left)


def request_out(call: Call, view: request_service.RequestView) -> AccessRequestOut:
    return AccessRequestOut(
        id=view.id, person=Named(id=view.person_id, name=view.person_name),
        organisation=Named(id=view.organisation_id, name=view.organisation_name),
        requester=Named(id=view.requester_id, name=view.requester_name), kinds=list(view.kinds),
        purpose=view.purpose.code, purpose_text=view.purpose.text, purpose_label=view.purpose.label(call.gettext),
        duration_days=view.duration_days, created_at=view.created_at, status=view.status,
        answered_at=view.answered_at, share=view.share_id)


# --- shares ------------------------------------------------------------------------------------------
@endpoint("POST", "/shares", summary="Share some of my papers with one staff member, for a purpose, until a date",
          tag="shares", body=ShareCreate, response=ShareOut, status=201, errors=(403, 404, 503))
def create_share(call: Call) -> ShareOut:
    body = call.body
    view = share_service.grant_share(
        call.uow, actor=call.current.actor, identity=call.current.identity, grantee_username_or_id=body.grantee,
        document_ids=body.documents, purpose=check_purpose_choice(body.purpose, body.purpose_text),
        expires_at=body.expires_at, now=call.now, organisation_id=body.organisation)
    return share_out(call, view)


@endpoint("GET", "/shares", summary="The shares I gave (a person) or received (a staff member), active first",
          tag="shares", response=ShareList, errors=(403,))
def list_shares(call: Call) -> ShareList:
    views = share_service.list_shares(call.session, actor=call.current.actor, identity=call.current.identity,
                                      now=call.now)
    return ShareList(items=[share_out(call, view) for view in views])


@endpoint("GET", "/shares/{share_id}", summary="One share I gave or received (410 vault_closed: the person closed "
          "their locker)", tag="shares", response=ShareOut, errors=(404, 410))
def get_share(call: Call, share_id: str) -> ShareOut:
    return share_out(call, share_service.get_share(call.session, actor=call.current.actor,
                                                   identity=call.current.identity, share_id=share_id, now=call.now))


@endpoint("DELETE", "/shares/{share_id}", summary="End a share now (the person, or the worker giving it back)",
          tag="shares", status=204, errors=(404, 410))
def delete_share(call: Call, share_id: str) -> None:
    share_service.end_share(call.session, actor=call.current.actor, share_id=share_id, now=call.now)


@endpoint("GET", "/shares/{share_id}/receipt", summary="The printable consent receipt (PDF, one A4 page)",
          tag="shares", content=("application/pdf",), download=True, errors=(404, 410, 422), query=ReceiptQuery)
def share_receipt(call: Call, share_id: str) -> Response:
    _view, pdf = receipts.share_receipt(call.session, actor=call.current.actor, identity=call.current.identity,
                                        share_id=share_id, now=call.now,
                                        language=call.query.language or call.language,
                                        translator=call.services.translator)
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": 'attachment; filename="consigne-recu-de-partage.pdf"', "Cache-Control": "no-store"})


# --- access requests ---------------------------------------------------------------------------------
@endpoint("POST", "/access-requests", summary="Ask a person who follows my organisation for kinds of papers",
          tag="access-requests", body=AccessRequestCreate, response=AccessRequestOut, status=201,
          errors=(403, 404))
def create_access_request(call: Call) -> AccessRequestOut:
    body = call.body
    view = request_service.create_request(
        call.session, actor=call.current.actor, person=body.person, kinds=body.kinds,
        purpose=check_purpose_choice(body.purpose, body.purpose_text), duration_days=body.duration_days,
        now=call.now, organisation_id=body.organisation)
    return request_out(call, view)


@endpoint("GET", "/access-requests", summary="Requests for my papers (a person), or my organisation's (staff)",
          tag="access-requests", response=AccessRequestList, errors=(403,))
def list_access_requests(call: Call) -> AccessRequestList:
    return AccessRequestList(items=[request_out(call, view) for view in
                                    request_service.list_requests(call.session, actor=call.current.actor)])


@endpoint("POST", "/access-requests/{request_id}/approve",
          summary="Approve with some or all of the papers: with the person's token, or side by side with the "
                  "worker's token and the person's password", tag="access-requests", body=Approval,
          response=ShareOut, status=201, errors=(403, 404, 409, 429, 503))
def approve_access_request(call: Call, request_id: str) -> ShareOut:
    body, current = call.body, call.current
    if current.actor.is_staff:
        view = request_service.approve_side_by_side(
            call.uow, actor=current.actor, keys=call.services.keys, attempt=attempt_of(call), request_id=request_id,
            password=body.password, otp=body.otp, document_ids=body.documents, now=call.now,
            expires_at=body.expires_at)
    else:
        view = request_service.approve_request(call.uow, actor=current.actor, identity=current.identity,
                                               request_id=request_id, document_ids=body.documents, now=call.now,
                                               expires_at=body.expires_at)
    return share_out(call, view)


@endpoint("POST", "/access-requests/{request_id}/decline", summary="Decline a request (the person)",
          tag="access-requests", status=204, errors=(404, 409))
def decline_access_request(call: Call, request_id: str) -> None:
    request_service.decline_request(call.session, actor=call.current.actor, request_id=request_id, now=call.now)
