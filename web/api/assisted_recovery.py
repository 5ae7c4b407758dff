"""Assisted recovery: the person's opt-in, and a recovery in person by two staff of one organisation.

The staff endpoints act for one organisation (``?organisation=`` for staff of several). An admin calling
``GET /organisation/recoveries`` (or confirming, or finishing) is one of the moments the organisation's
recovery key is made, or handed to admins who lack it (``vault.assisted_recovery``).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from vault import assisted_recovery as assisted_service
from vault import recovery_in_person as recovery_service
from vault.policies import Role
from web.api.accounts import attempt_of
from web.api.organisations import OrganisationQuery, _organisation
from web.api.registry import Call, endpoint
from web.api.schemas import Strict


# --- schemas -------------------------------------------------------------------------------------------
class AssistedRecoveryChoice(Strict):
    organisation: str = Field(max_length=36, description="The id of an organisation that follows the person")
    enabled: bool = Field(description="True: two of its staff, one a manager, can let the person back in")
    password: str = Field(max_length=1024, description="The person's current password")


class AssistedRecoveryItem(Strict):
    organisation_id: str
    organisation: str = Field(description="The organisation's name")
    enabled: bool
    possible: bool = Field(description="False while the organisation has no recovery key yet")


class AssistedRecoveryList(Strict):
    items: list[AssistedRecoveryItem]


class RecoveryStart(Strict):
    person: str = Field(max_length=64, description="The person's username")
    password: str = Field(max_length=1024, description="The staff member's own current password")


class RecoveryConfirm(Strict):
    password: str = Field(max_length=1024, description="The confirming staff member's own current password: "
                                                       "they checked the person's identity in person")


class RecoveryComplete(Strict):
    new_password: str = Field(max_length=1024, description="Typed by the person, on the admin's screen")


class RecoveryCreated(Strict):
    id: str
    expires_at: datetime


class RecoveryItem(Strict):
    id: str
    person: str = Field(description="The person's username")
    started_by: str
    confirmed_by: str | None
    confirmed: bool
    expires_at: datetime


class RecoveryList(Strict):
    items: list[RecoveryItem]


class RecoveryDone(Strict):
    recovery_codes: list[str] = Field(description="Ten new codes, shown once (print them with "
                                                  "POST /me/recovery-sheet or the staff screen's sheet)")


# --- the person ---------------------------------------------------------------------------------------------
@endpoint("GET", "/me/assisted-recovery", summary="For each organisation that follows the person: whether it "
          "can help them back in", tag="recovery", response=AssistedRecoveryList)
def my_assisted_recovery(call: Call) -> AssistedRecoveryList:
    choices = assisted_service.assisted_choices(call.session, actor=call.current.actor)
    return AssistedRecoveryList(items=[AssistedRecoveryItem(organisation_id=item.organisation_id,
                                                            organisation=item.organisation, enabled=item.enabled,
                                                            possible=item.possible) for item in choices])


@endpoint("PUT", "/me/assisted-recovery", summary="Opt in or out of assisted recovery with one organisation "
          "(needs the password)", tag="recovery", body=AssistedRecoveryChoice, status=204, errors=(403, 404, 409))
def set_assisted_recovery(call: Call) -> None:
    body = call.body
    assisted_service.set_assisted_recovery(call.session, keys=call.services.keys, attempt=attempt_of(call),
                                           current=call.current, organisation_id=body.organisation,
                                           enabled=body.enabled, password=body.password, now=call.now)


# --- staff -------------------------------------------------------------------------------------------------
@endpoint("GET", "/organisation/recoveries", summary="The organisation's recoveries in person still open (staff)",
          tag="recovery", response=RecoveryList, query=OrganisationQuery, errors=(403, 422))
def list_recoveries(call: Call) -> RecoveryList:
    views = recovery_service.open_recoveries(call.session, actor=call.current.actor,
                                             organisation_id=_organisation(call), now=call.now)
    _keep_key(call)
    return RecoveryList(items=[RecoveryItem(id=view.id, person=view.person, started_by=view.started_by,
                                            confirmed_by=view.confirmed_by, confirmed=view.confirmed,
                                            expires_at=view.expires_at) for view in views])


@endpoint("POST", "/organisation/recoveries", summary="Start a recovery in person for a person who opted in "
          "(staff; a second staff member confirms)", tag="recovery", body=RecoveryStart, response=RecoveryCreated,
          status=201, query=OrganisationQuery, errors=(403, 404))
def start_recovery(call: Call) -> RecoveryCreated:
    view = recovery_service.start_recovery(call.session, keys=call.services.keys, attempt=attempt_of(call),
                                           current=call.current, organisation_id=_organisation(call),
                                           person=call.body.person, password=call.body.password, now=call.now)
    return RecoveryCreated(id=view.id, expires_at=view.expires_at)


@endpoint("POST", "/organisation/recoveries/{recovery_id}/confirm", summary="Confirm, as a second staff member, "
          "that you checked the person's identity in person", tag="recovery", body=RecoveryConfirm, status=204,
          errors=(403, 404))
def confirm_recovery(call: Call, recovery_id: str) -> None:
    recovery_service.confirm_recovery(call.session, keys=call.services.keys, attempt=attempt_of(call),
                                      current=call.current, recovery_id=recovery_id, password=call.body.password,
                                      now=call.now)


@endpoint("POST", "/organisation/recoveries/{recovery_id}/complete", summary="Finish a confirmed recovery with "
          "the person's new password (the admin of the two, with their session)", tag="recovery",
          body=RecoveryComplete, response=RecoveryDone, status=201, errors=(403, 404, 409))
def complete_recovery(call: Call, recovery_id: str) -> RecoveryDone:
    done = recovery_service.complete_recovery(call.session, keys=call.services.keys, current=call.current,
                                              recovery_id=recovery_id, new_password=call.body.new_password,
                                              now=call.now)
    return RecoveryDone(recovery_codes=done.recovery_codes)


def _keep_key(call: Call) -> None:
    actor = call.current.actor
    for organisation_id, role in actor.memberships.items():
        if role is Role.ADMIN and organisation_id == (_organisation(call) or organisation_id):
            assisted_service.keep_organisation_key(call.session, current=call.current,
                                                   organisation_id=organisation_id, now=call.now)
