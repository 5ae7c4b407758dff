"""People, sessions and the signed-in account."""

from __future__ import annotations

from flask import Response, request

from vault import accounts as account_service
from vault import sessions as session_service
from vault import sign_in as sign_in_service
from vault import two_factor
from vault.activity import list_activity
from vault.errors import InvalidInput, NotAllowed
from vault.sheets import render_recovery_sheet
from vault.throttle import Attempt
from web.api.registry import Call, endpoint
from web.api.schemas import (
    AccountBrief,
    ActivityItem,
    ActivityList,
    ActivityQuery,
    CurrentPassword,
    Me,
    OtpConfirm,
    OtpSetupOut,
    PasswordChange,
    PersonCreate,
    PersonCreated,
    RecoveryCodesOut,
    RecoverySheetRequest,
    SessionCreate,
    SessionCreated,
    Suggestions,
)


def attempt_of(call: Call, device_token: str | None = None) -> Attempt:
    """Where this request's attempts are reserved (a session of their own) and where it comes from."""
    return Attempt(throttle_sessions=call.services.session_factory, address=request.remote_addr,
                   device_tokens=(device_token,) if device_token else ())


@endpoint("GET", "/people/suggestions", summary="A free username and a passphrase of simple words to offer",
          tag="people", response=Suggestions, auth="none")
def suggest(call: Call) -> Suggestions:
    return Suggestions(username=account_service.suggest_username(call.session),
                       passphrase=account_service.suggest_passphrase())


@endpoint("POST", "/people", summary="Enrol a person (alone, or assisted with a staff token)", tag="people",
          body=PersonCreate, response=PersonCreated, status=201, auth="optional", errors=(403, 409))
def create_person(call: Call) -> PersonCreated:
    staff = call.current.account if call.current else None
    if staff is not None and staff.kind != "staff":
        raise NotAllowed()
    enrolment = account_service.enrol_person(
        call.session, keys=call.services.keys, username=call.body.username, password=call.body.password,
        now=call.now, assisted_by=staff, organisation_id=call.body.organisation_id,
        follow_organisation=call.body.follow_organisation, attempt=attempt_of(call))
    return PersonCreated(id=enrolment.account.id, username=enrolment.account.username,
                         recovery_codes=enrolment.recovery_codes)


@endpoint("POST", "/sessions", summary="Sign in", tag="sessions", body=SessionCreate, response=SessionCreated,
          status=201, auth="none", errors=(401,))
def create_session(call: Call) -> SessionCreated:
    body = call.body
    result = sign_in_service.sign_in(
        call.session, keys=call.services.keys, timeouts=call.services.settings.timeouts,
        attempt=attempt_of(call, body.device_token), username=body.username, password=body.password,
        otp=body.otp, recovery_code=body.recovery_code, now=call.now)
    account = result.current.account
    return SessionCreated(token=result.token, expires_at=result.current.session.expires_at,
                          account=AccountBrief(id=account.id, username=account.username, kind=account.kind),
                          device_token=result.device_token, recovery_codes_left=result.recovery_codes_left)


@endpoint("DELETE", "/sessions/current", summary="Sign out", tag="sessions", status=204)
def delete_current_session(call: Call) -> None:
    session_service.sign_out(call.session, current=call.current, now=call.now)


@endpoint("DELETE", "/sessions", summary="Sign out everywhere (every session of this account)", tag="sessions",
          status=204)
def delete_all_sessions(call: Call) -> None:
    session_service.sign_out_everywhere(call.session, current=call.current, now=call.now)


@endpoint("GET", "/me", summary="The signed-in account", tag="me", response=Me)
def me(call: Call) -> Me:
    account = call.current.account
    return Me(id=account.id, username=account.username, kind=account.kind, otp_enabled=account.otp_enabled,
              recovery_codes_left=account_service.recovery_codes_left(call.session, account),
              recovery_notice_at=account.recovery_notice_at)


@endpoint("POST", "/me/otp", summary="Start two-step sign-in (with the current password): a secret and its QR "
          "code for the app", tag="me", body=CurrentPassword, response=OtpSetupOut, status=201,
          errors=(403,))
def begin_otp(call: Call) -> OtpSetupOut:
    setup = two_factor.begin_setup(call.session, keys=call.services.keys, attempt=attempt_of(call),
                                   current=call.current, password=call.body.password, now=call.now)
    return OtpSetupOut(secret=setup.secret, otpauth_uri=setup.uri, qr_svg=setup.qr_svg)


@endpoint("POST", "/me/otp/confirm", summary="Turn two-step sign-in on with a first code", tag="me",
          body=OtpConfirm, status=204, errors=(403, 429))
def confirm_otp(call: Call) -> None:
    two_factor.confirm_setup(call.session, keys=call.services.keys, attempt=attempt_of(call), current=call.current,
                             code=call.body.code, now=call.now)


@endpoint("DELETE", "/me/otp", summary="Turn two-step sign-in off (with the current password)", tag="me",
          body=CurrentPassword, status=204, errors=(403,))
def disable_otp(call: Call) -> None:
    two_factor.disable(call.session, keys=call.services.keys, attempt=attempt_of(call), current=call.current,
                       password=call.body.password, now=call.now)


@endpoint("POST", "/me/recovery-codes", summary="Replace the recovery codes, with the current password (the old "
          "sheet stops working)", tag="me", body=CurrentPassword, response=RecoveryCodesOut, status=201,
          errors=(403,))
def renew_codes(call: Call) -> RecoveryCodesOut:
    codes = account_service.renew_recovery_codes(call.session, keys=call.services.keys, attempt=attempt_of(call),
                                                 current=call.current, password=call.body.password, now=call.now)
    return RecoveryCodesOut(recovery_codes=codes)


@endpoint("POST", "/me/password", summary="Change the password, with the current one (every other session ends)",
          tag="me", body=PasswordChange, status=204, errors=(403,))
def change_password(call: Call) -> None:
    account_service.change_password(call.session, keys=call.services.keys, attempt=attempt_of(call),
                                    current=call.current, password=call.body.password,
                                    new_password=call.body.new_password, now=call.now)


@endpoint("POST", "/me/recovery-sheet", summary="The printable recovery sheet (PDF) for current unused codes",
          tag="me", body=RecoverySheetRequest, content=("application/pdf",), download=True)
def recovery_sheet(call: Call) -> Response:
    account = call.current.account
    if not account_service.current_codes_match(call.session, keys=call.services.keys, account=account,
                                               codes=call.body.recovery_codes):
        raise InvalidInput(field="recovery_codes")
    pdf = render_recovery_sheet(username=account.username, sign_in_url=call.services.settings.base_url,
                                recovery_codes=call.body.recovery_codes, issued_on=call.now.date(),
                                language=call.body.language)
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": 'attachment; filename="consigne-feuille-de-secours.pdf"'})


@endpoint("GET", "/activity", summary="Everything that happened in my vault, in plain words, newest first, "
          "a page at a time", tag="me", response=ActivityList, query=ActivityQuery, errors=(422,))
def activity(call: Call) -> ActivityList:
    page = list_activity(call.session, owner=call.current.account, words=call.words, keys=call.services.keys,
                         limit=call.query.limit, cursor=call.query.cursor, identity=call.current.identity)
    return ActivityList(items=[
        ActivityItem(at=item.at, until=item.until, actor=item.actor, by_you=item.by_owner, action=item.action,
                     document=item.document_id, document_kind=item.document_kind, document_title=item.document_title,
                     count=item.count, summary=item.summary, sentence=item.sentence, pictogram=item.pictogram)
        for item in page.items
    ], next_cursor=page.next_cursor)
