"""Getting back in without the password: a forgotten password reset with one recovery code."""

from __future__ import annotations

from pydantic import Field

from vault.recovery import reset_password_with_code
from web.api.accounts import attempt_of
from web.api.registry import Call, endpoint
from web.api.schemas import AccountBrief, SessionCreated, Strict


class RecoveryCreate(Strict):
    username: str = Field(max_length=64)
    recovery_code: str = Field(max_length=64, description="One unused code of the printed recovery sheet")
    new_password: str = Field(max_length=1024)
    device_token: str | None = Field(
        default=None, max_length=200,
        description="As at sign-in: a known device is throttled on its own budget only")


class RecoveryCreated(SessionCreated):
    recovery_codes_left: int = Field(description="Unused codes left on the sheet: print a new one when few are left")


@endpoint("POST", "/recovery", summary="A forgotten password: reset it with the username and one recovery code "
          "(every session ends, two-step sign-in is turned off), and sign in", tag="sessions", body=RecoveryCreate,
          response=RecoveryCreated, status=201, auth="none", errors=(401,))
def create_recovery(call: Call) -> RecoveryCreated:
    body = call.body
    result = reset_password_with_code(
        call.session, keys=call.services.keys, timeouts=call.services.settings.timeouts,
        attempt=attempt_of(call, body.device_token), username=body.username, recovery_code=body.recovery_code,
        new_password=body.new_password, now=call.now)
    account = result.current.account
    return RecoveryCreated(token=result.token, expires_at=result.current.session.expires_at,
                           account=AccountBrief(id=account.id, username=account.username, kind=account.kind),
                           device_token=result.device_token, recovery_codes_left=result.recovery_codes_left)
