"""Getting back in: a forgotten password reset with a code, a new phone after a code, and the notice that
tells the person, at their next sign-ins, that their password was reset.

The forgotten-password page asks the username, one code of the printed sheet and a new password (with a
suggestion of simple words, as at enrolment); the service (vault/recovery.py) gives every refusal one
answer, so the page does too. After it, the person is signed in and offered a new sheet. After a sign-in
with a code instead of the phone's (two-step sign-in on), the sign-in lands on a page that offers to set
two-step sign-in up on a new phone, or to turn it off, both asking the password as the settings do.
"""

from __future__ import annotations

import base64
from datetime import datetime

from flask import Response, redirect, request, url_for
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from vault import accounts as account_service
from vault import two_factor
from vault.errors import RecoveryFailed, SignInBusy, TooManyAttempts, VaultError
from vault.i18n import N_
from vault.recovery import acknowledge_recovery_notice, recovery_notice, reset_password_with_code
from vault.sign_in import SignIn
from web.pages.cookies import attempt_of, remember_sign_in
from web.pages.forms import ConfirmForm, CurrentPasswordForm, TwoStepCodeForm
from web.pages.problems import (
    BUSY_SIGN_IN,
    TOO_MANY_TRIES,
    TRY_AGAIN_IN,
    Problem,
    by_field,
    missing,
    problems_for,
    reauthentication_problems,
    translate,
    wait_of,
)
from web.pages.registry import page
from web.pages.rendering import confirm, render_page
from web.pages.settings import SECRET_GROUP, ShownSetup, _code_page
from web.pipeline import Call

WRONG_USERNAME_OR_CODE = N_("This username and this recovery code do not go together, or the code was already "
                            "used. Check both and try again: each code works only once. Nothing was changed.")
MISSING_CODE = N_("Type one of the codes of your recovery sheet.")
PASSWORD_RESET = N_("Your new password is set. You are signed in.")
AGAIN_PASSWORD = "again-password"  # the id of the password box of « set up again » (the page has two)
NOTICE_ACKNOWLEDGED = N_("Thank you. This message will not be shown again.")


class ForgottenPasswordForm(FlaskForm):
    username = StringField(validators=[DataRequired(), Length(max=64)])
    recovery_code = StringField(validators=[DataRequired(), Length(max=64)])
    new_password = PasswordField(validators=[DataRequired(), Length(max=1024)])


# --- a forgotten password ---------------------------------------------------------------------------
@page("/lost/password", methods=("GET", "POST"), auth="none")
def forgotten_password(call: Call):
    form = ForgottenPasswordForm()

    def again(problems: list[Problem], status: int = 422) -> Response:
        # A fresh suggestion of simple words each time, as at enrolment and in the settings.
        html = render_page("recovery/forgotten_password.html", form=form, problems=problems,
                           errors=by_field(problems), passphrase=account_service.suggest_passphrase())
        return Response(html, status=status, mimetype="text/html")

    call.on_error = lambda error: again(_reset_problems(error))  # the status follows the error (web/pipeline.py)
    if request.method == "GET":
        return again([], status=200)
    if not form.validate_on_submit():
        return again(_missing(form))
    result = reset_password_with_code(
        call.session, keys=call.services.keys, timeouts=call.services.settings.timeouts, attempt=attempt_of(call),
        username=form.username.data, recovery_code=form.recovery_code.data, new_password=form.new_password.data,
        now=call.now)
    confirm(PASSWORD_RESET)
    response = redirect(url_for("pages.password_reset_done"), code=303)
    remember_sign_in(response, call.services.settings, result)
    return response


@page("/lost/password/done")
def password_reset_done(call: Call):
    """What the reset did, the codes left, and the way to a new sheet (the old one may be in a thief's hands)."""
    account = call.current.account
    return render_page("recovery/password_reset_done.html",
                       codes_left=account_service.recovery_codes_left(call.session, account))


# --- a new phone, after a sign-in with a code instead of the app's ------------------------------------
def after_sign_in(result: SignIn, target: str) -> str:
    """Where a sign-in lands: the new-phone page when a recovery code stood in for the app's code."""
    if result.second_factor == "recovery_code" and result.current.account.otp_enabled:
        return url_for("pages.new_phone")
    return target


@page("/settings/new-phone")
def new_phone(call: Call):
    return _new_phone_page(call, CurrentPasswordForm(formdata=None), [], status=200)


@page("/settings/new-phone/again", methods=("POST",))
def new_phone_again(call: Call):
    """The password once, then the app is set up afresh: the lost phone's secret is forgotten at once."""
    form = CurrentPasswordForm()
    call.on_error = lambda error: _new_phone_page(call, form, _reauthentication(error))
    if not form.validate_on_submit():
        return _new_phone_page(call, form, [Problem(AGAIN_PASSWORD, missing("current_password").message)])
    keys, attempt, password = call.services.keys, attempt_of(call), form.current_password.data
    if call.current.account.otp_enabled:
        two_factor.disable(call.session, keys=keys, attempt=attempt, current=call.current, password=password,
                           now=call.now)
    setup = two_factor.begin_setup(call.session, keys=keys, attempt=attempt, current=call.current,
                                   password=password, now=call.now)
    shown = ShownSetup(qr_code="data:image/svg+xml;base64," + base64.b64encode(setup.qr_svg.encode()).decode(),
                       secret_groups=[setup.secret[start:start + SECRET_GROUP]
                                      for start in range(0, len(setup.secret), SECRET_GROUP)])
    return _code_page(TwoStepCodeForm(formdata=None), [], setup=shown, status=200)


# --- the notice at the next sign-ins ----------------------------------------------------------------
def recovery_notice_context(call: Call) -> dict | None:
    """For the person's home: when the password was reset without the old one, and the codes left."""
    noticed: datetime | None = recovery_notice(call.current)
    if noticed is None:
        return None
    return {"at": noticed, "codes_left": account_service.recovery_codes_left(call.session, call.current.account),
            "form": ConfirmForm(formdata=None)}


@page("/recovery-notice/seen", methods=("POST",))
def recovery_notice_seen(call: Call):
    """« That was me »: the notice is not shown again."""
    form = ConfirmForm()
    if form.validate_on_submit():
        acknowledge_recovery_notice(call.session, current=call.current)
        confirm(NOTICE_ACKNOWLEDGED)
    return redirect(url_for("pages.home"), code=303)


# --- shared -------------------------------------------------------------------------------------------
def _reset_problems(error: VaultError) -> list[Problem]:
    if isinstance(error, (TooManyAttempts, SignInBusy)):
        message = BUSY_SIGN_IN if isinstance(error, SignInBusy) else TOO_MANY_TRIES
        return [Problem(None, translate(message)), Problem(None, translate(TRY_AGAIN_IN, wait=wait_of(error)))]
    if isinstance(error, RecoveryFailed):
        return [Problem("recovery_code", translate(WRONG_USERNAME_OR_CODE))]
    return problems_for(error, field_ids={"password": "new_password"})


def _missing(form: ForgottenPasswordForm) -> list[Problem]:
    found = []
    for name in ("username", "recovery_code", "new_password"):
        if not (getattr(form, name).data or "").strip():
            found.append(Problem(name, translate(MISSING_CODE)) if name == "recovery_code" else missing(name))
        elif getattr(form, name).errors:
            found.append(Problem(name, translate(VaultError.message)))
    return found or [Problem(None, translate(VaultError.message))]


def _reauthentication(error: VaultError) -> list[Problem]:
    return reauthentication_problems(error, field=AGAIN_PASSWORD) or problems_for(error)


def _new_phone_page(call: Call, form: CurrentPasswordForm, problems: list[Problem], status: int = 422):
    account = call.current.account
    html = render_page("recovery/new_phone.html", form=form, problems=problems, errors=by_field(problems),
                       two_step_on=account.otp_enabled,
                       codes_left=account_service.recovery_codes_left(call.session, account))
    return Response(html, status=status, mimetype="text/html")
