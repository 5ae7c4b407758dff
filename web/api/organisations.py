"""Organisations, staff and follows: joining with an invitation, the admins' endpoints, follows.

Every ``/organisation/...`` endpoint acts for one organisation: the caller's only one, or the one named
in ``?organisation=`` (a staff member of several must name it: ``organisation_required``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from vault import follows as follow_service
from vault import organisations as organisation_service
from vault.purposes import check_purpose_choice
from web.api.accounts import attempt_of
from web.api.registry import Call, endpoint
from web.api.schemas import Strict


# --- schemas -------------------------------------------------------------------------------------------
class OrganisationQuery(Strict):
    organisation: str | None = Field(default=None, max_length=36,
                                     description="The organisation acted for; needed only by staff of several")


class StaffCreate(Strict):
    invitation: str = Field(max_length=64, description="The invitation code, as given (spaces and dashes allowed)")
    username: str = Field(max_length=64, description="3-32 of a-z 0-9 . _ -")
    password: str = Field(max_length=1024)
    display_name: str | None = Field(default=None, max_length=200,
                                     description="The name people read in their activity, e.g. « Marie L. » "
                                                 "(1-80 characters); the username if absent")


class StaffCreated(Strict):
    id: str
    username: str
    otp_secret: str = Field(description="Two-step sign-in is on from the start: add this to an authenticator app")
    otp_uri: str = Field(description="The same secret as an otpauth:// URI (for a QR code)")


class InvitationCreate(Strict):
    role: Literal["worker", "admin"]


class InvitationOut(Strict):
    code: str = Field(description="Shown once: only its HMAC is kept")
    role: Literal["worker", "admin"]
    expires_at: datetime


class StaffItem(Strict):
    id: str
    name: str
    username: str
    role: Literal["worker", "admin"]
    active: bool


class StaffList(Strict):
    items: list[StaffItem]


class PurposeItem(Strict):
    code: str = Field(max_length=40, description="caf_rsa, domiciliation, prefecture, france_travail, health, "
                                                 "housing or other")
    text: str | None = Field(default=None, max_length=400, description="For « other » only: the organisation's words")


class PurposeOut(Strict):
    code: str
    text: str | None
    label: str = Field(description="The purpose in the request's language")


class PurposesIn(Strict):
    items: list[PurposeItem] = Field(max_length=50)


class PurposesOut(Strict):
    items: list[PurposeOut]


class CountsOut(Strict):
    """Numbers only: never a list of people or papers."""

    people_following: int
    active_shares: int
    requests_waiting: int
    requests_answered: int
    duplicates_this_month: int


class OrganisationItem(Strict):
    id: str
    name: str


class OrganisationList(Strict):
    items: list[OrganisationItem]


class FollowCreate(Strict):
    organisation: str = Field(max_length=36, description="The organisation's id (GET /organisations)")


class FollowOut(Strict):
    id: str
    organisation_id: str
    organisation: str = Field(description="The organisation's name")
    since: datetime


class FollowList(Strict):
    items: list[FollowOut]


class FollowerItem(Strict):
    username: str


class FollowerList(Strict):
    items: list[FollowerItem]


def _organisation(call: Call) -> str | None:
    return call.query.organisation if call.query is not None else None


def _purposes_out(call: Call, choices) -> PurposesOut:
    return PurposesOut(items=[PurposeOut(code=choice.code, text=choice.text, label=choice.label(call.gettext))
                              for choice in choices])


# --- joining and the admins' endpoints -------------------------------------------------------------------
@endpoint("POST", "/staff", summary="Join an organisation's staff with an invitation code (two-step sign-in on "
          "from the start)", tag="staff", body=StaffCreate, response=StaffCreated, status=201, auth="none",
          errors=(409,))
def join_staff(call: Call) -> StaffCreated:
    body = call.body
    joined = organisation_service.redeem_invitation(
        call.session, keys=call.services.keys, attempt=attempt_of(call), code=body.invitation,
        username=body.username, password=body.password, display_name=body.display_name, now=call.now)
    return StaffCreated(id=joined.account.id, username=joined.account.username, otp_secret=joined.otp.secret,
                        otp_uri=joined.otp.uri)


@endpoint("POST", "/organisation/invitations", summary="Invite a worker or an admin (admins): a one-time code, "
          "valid 7 days", tag="organisation", body=InvitationCreate, response=InvitationOut, status=201,
          query=OrganisationQuery, errors=(403,))
def create_invitation(call: Call) -> InvitationOut:
    issued = organisation_service.invite(call.session, actor=call.current.actor, keys=call.services.keys,
                                         organisation_id=_organisation(call), role=call.body.role, now=call.now)
    return InvitationOut(code=issued.code, role=issued.role.value, expires_at=issued.expires_at)


@endpoint("GET", "/organisation/staff", summary="The organisation's staff (admins)", tag="organisation",
          response=StaffList, query=OrganisationQuery, errors=(403, 422))
def list_staff(call: Call) -> StaffList:
    members = organisation_service.list_staff(call.session, actor=call.current.actor,
                                              organisation_id=_organisation(call))
    return StaffList(items=[StaffItem(id=m.id, name=m.name, username=m.username, role=m.role.value, active=m.active)
                            for m in members])


@endpoint("DELETE", "/organisation/staff/{staff_id}", summary="Deactivate a staff member (admins): every share "
          "they hold for the organisation ends at once", tag="organisation", status=204, query=OrganisationQuery,
          errors=(403, 404, 409, 422))
def deactivate_staff(call: Call, staff_id: str) -> None:
    organisation_service.deactivate_staff(call.session, actor=call.current.actor, organisation_id=_organisation(call),
                                          staff_id=staff_id, now=call.now, identity=call.current.identity)


@endpoint("GET", "/organisation/purposes", summary="The purposes the organisation may ask papers for (staff)",
          tag="organisation", response=PurposesOut, query=OrganisationQuery, errors=(403, 422))
def get_purposes(call: Call) -> PurposesOut:
    return _purposes_out(call, organisation_service.organisation_purposes(
        call.session, actor=call.current.actor, organisation_id=_organisation(call)))


@endpoint("PUT", "/organisation/purposes", summary="Register exactly these purposes (admins)", tag="organisation",
          body=PurposesIn, response=PurposesOut, query=OrganisationQuery, errors=(403,))
def put_purposes(call: Call) -> PurposesOut:
    choices = [check_purpose_choice(item.code, item.text if item.code == "other" else None)
               for item in call.body.items]
    return _purposes_out(call, organisation_service.set_purposes(
        call.session, actor=call.current.actor, organisation_id=_organisation(call), choices=choices, now=call.now))


@endpoint("GET", "/organisation/counts", summary="Aggregate counts for the organisation (admins): numbers only",
          tag="organisation", response=CountsOut, query=OrganisationQuery, errors=(403, 422))
def counts(call: Call) -> CountsOut:
    figures = organisation_service.organisation_counts(call.session, actor=call.current.actor,
                                                       organisation_id=_organisation(call), now=call.now)
    return CountsOut(**vars(figures))


@endpoint("GET", "/organisation/people", summary="The people who follow the organisation (staff): usernames only",
          tag="organisation", response=FollowerList, query=OrganisationQuery, errors=(403, 422))
def list_people(call: Call) -> FollowerList:
    followers = follow_service.list_followers(call.session, actor=call.current.actor,
                                              organisation_id=_organisation(call))
    return FollowerList(items=[FollowerItem(username=item.username) for item in followers])


# --- follows -------------------------------------------------------------------------------------------------
@endpoint("GET", "/organisations", summary="Every organisation (to start a follow)", tag="follows",
          response=OrganisationList)
def list_organisations(call: Call) -> OrganisationList:
    items = follow_service.list_organisations(call.session, actor=call.current.actor)
    return OrganisationList(items=[OrganisationItem(id=item.id, name=item.name) for item in items])


@endpoint("POST", "/follows", summary="Let an organisation follow me (it can find me and ask for papers; it sees "
          "no paper without my consent)", tag="follows", body=FollowCreate, response=FollowOut, status=201,
          errors=(403, 404))
def start_follow(call: Call) -> FollowOut:
    follow = follow_service.start_follow(call.session, actor=call.current.actor, organisation_id=call.body.organisation,
                                         now=call.now)
    return FollowOut(**vars(follow))


@endpoint("GET", "/follows", summary="The organisations that follow me", tag="follows", response=FollowList,
          errors=(403,))
def list_follows(call: Call) -> FollowList:
    return FollowList(items=[FollowOut(**vars(item))
                             for item in follow_service.list_follows(call.session, actor=call.current.actor)])


@endpoint("DELETE", "/follows/{follow_id}", summary="End a follow (the shares already given stay until I end them)",
          tag="follows", status=204, errors=(404,))
def end_follow(call: Call, follow_id: str) -> None:
    follow_service.end_follow(call.session, actor=call.current.actor, follow_id=follow_id, now=call.now)

