"""The schemas that validate the API's input and shape its output (and generate its OpenAPI document)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from vault.documents import DOCUMENT_KINDS
from web.api.expiry import EXPIRY_FIELD, ExpiryOut

# A kind of paper. The OpenAPI document lists the kinds (an enum titled DocumentKind) so generated
# clients offer them; the service checks them itself, so an unknown kind gets its own problem
# (``unknown_document_kind``, with the list) rather than a bare validation error.
DOCUMENT_KIND_SCHEMA = {"title": "DocumentKind", "type": "string", "enum": list(DOCUMENT_KINDS),
                        "description": "A kind of paper (GET /document-kinds names each in the request's language)"}
DocumentKind = Annotated[str, Field(max_length=40), WithJsonSchema(DOCUMENT_KIND_SCHEMA)]
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date_text(value: object) -> object:
    # Pydantic also reads "0" or "1700000000" as a date (seconds since 1970); the document says
    # YYYY-MM-DD, so in a form field (always text) nothing else is a date.
    if isinstance(value, str) and not ISO_DATE.fullmatch(value):
        raise ValueError("a date is written YYYY-MM-DD")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date_text)]

from vault.activity import ACTIVITY_PER_PAGE, MAX_ACTIVITY_PER_PAGE
from vault.documents import DOCUMENTS_PER_PAGE
from vault.paging import MAX_CURSOR_LENGTH

NEXT_CURSOR = "Pass as `cursor` to get the next page; null on the last page"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class PersonCreate(Strict):
    username: str | None = Field(default=None, max_length=64, description="3-32 of a-z 0-9 . _ -; suggested if absent")
    password: str = Field(max_length=1024)
    organisation_id: str | None = Field(default=None, max_length=36)
    follow_organisation: bool = Field(default=False, description="Assisted enrolment: the person agrees to be followed")


class PersonCreated(Strict):
    id: str
    username: str
    recovery_codes: list[str]


class Suggestions(Strict):
    username: str
    passphrase: str


class SessionCreate(Strict):
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)
    otp: str | None = Field(default=None, max_length=16)
    recovery_code: str | None = Field(default=None, max_length=64)
    device_token: str | None = Field(
        default=None, max_length=200,
        description="The device_token this client received at its last sign-in to this account: a known device "
                    "is throttled on its own budget only, never stopped by the account-wide lock")


class AccountBrief(Strict):
    id: str
    username: str
    kind: Literal["person", "staff"]


class SessionCreated(Strict):
    token: str
    expires_at: datetime
    account: AccountBrief
    device_token: str = Field(description="Keep it (it opens nothing by itself) and send it at the next sign-in "
                                          "to this account, in place of the previous one")
    recovery_codes_left: int | None = Field(default=None, description="Set when a recovery code was used")


class Me(Strict):
    id: str
    username: str
    kind: Literal["person", "staff"]
    otp_enabled: bool
    recovery_codes_left: int
    recovery_notice_at: datetime | None = Field(
        default=None, description="When the password was last reset without the old one (a recovery code, or "
                                  "help in person), until the person says it was them; null otherwise")


class OtpSetupOut(Strict):
    secret: str
    otpauth_uri: str
    qr_svg: str


class CurrentPassword(Strict):
    """The current password, asked again before a change that could lock the owner out."""

    password: str = Field(max_length=1024)


class PasswordChange(Strict):
    password: str = Field(max_length=1024, description="The current password")
    new_password: str = Field(max_length=1024)


class OtpConfirm(Strict):
    code: str = Field(max_length=16)


class RecoveryCodesOut(Strict):
    recovery_codes: list[str]


class RecoverySheetRequest(Strict):
    recovery_codes: list[str] = Field(min_length=1, max_length=10)
    language: Literal["fr", "en", "ar"] = "fr"


class DocumentUpload(Strict):
    """The non-file fields of the multipart upload; ``file`` is repeated once per page, in order."""

    kind: DocumentKind
    title: str | None = Field(default=None, max_length=400)
    expires_on: IsoDate | None = None


class DocumentOut(Strict):
    id: str
    kind: DocumentKind
    title: str | None
    pages: int
    content_type: str
    size: int
    created_at: datetime
    updated_at: datetime
    expires_on: date | None
    expiry: ExpiryOut | None = EXPIRY_FIELD


class PageQuery(Strict):
    cursor: str | None = Field(default=None, min_length=1, max_length=MAX_CURSOR_LENGTH,
                               description="The `next_cursor` of the previous page; absent for the first page")


class DocumentListQuery(PageQuery):
    limit: int = Field(default=DOCUMENTS_PER_PAGE, ge=1, le=DOCUMENTS_PER_PAGE, description="Papers per page")


class ContentQuery(Strict):
    disposition: Literal["attachment", "inline"] = Field(
        default="attachment", description="inline to show the paper in the browser, attachment to save it")


class DocumentList(Strict):
    items: list[DocumentOut]
    next_cursor: str | None = Field(description=NEXT_CURSOR)


class DocumentPatch(Strict):
    title: str | None = Field(default=None, max_length=400)
    kind: DocumentKind | None = None
    expires_on: IsoDate | None = None


class ActivityQuery(PageQuery):
    limit: int = Field(default=ACTIVITY_PER_PAGE, ge=1, le=MAX_ACTIVITY_PER_PAGE, description="Lines per page")


class ActivityItem(Strict):
    at: datetime = Field(description="When it happened; for failed sign-ins, the first attempt")
    until: datetime | None = Field(description="For failed sign-ins close together: the last attempt")
    actor: str | None = Field(description="Username of who acted; null when unknown (a failed sign-in)")
    by_you: bool = Field(description="The signed-in person acted themself (the sentence says \"you\")")
    action: str
    document: str | None = Field(description="The paper's id")
    document_kind: str | None = Field(description="The paper's kind, when known (also for a deleted paper)")
    document_title: str | None = Field(description="The paper's title, while the paper exists")
    count: int = Field(description="1, or the number of failed sign-in attempts this line stands for")
    summary: str = Field(description="The action's short name, in the request's language")
    sentence: str = Field(description="The whole line in plain words, in the request's language")
    pictogram: str = Field(description="Name of the pictogram the pages show for this line")


class ActivityList(Strict):
    items: list[ActivityItem]
    next_cursor: str | None = Field(description=NEXT_CURSOR)


class DocumentKindLabel(Strict):
    kind: DocumentKind
    label: str = Field(description="The kind's name in the request's language")


class DocumentKinds(Strict):
    items: list[DocumentKindLabel]
