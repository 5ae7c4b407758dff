"""Settings: a new password, two-step sign-in on and off, a new recovery sheet, sign out everywhere.

Each change that could lock the person out or take their papers asks for the current password again
(vault/reauthentication.py), never a session alone: a shared computer left signed in must not let the
next person change the password, tie the account to their own phone or replace the printed sheet. The
services do the asking; these pages only say, in words, what was done or what to do next, the wait
included when the session's tries are spent or the server is busy. Turning a setting on and turning it
off are two addresses, so an old tab can never flip a setting the wrong way.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from flask import Response, redirect, request, url_for

from vault import accounts as account_service
from vault import sessions as session_service
from vault import two_factor
from vault.accounts import RECOVERY_CODE_COUNT
from vault.errors import VaultError
from vault.i18n import N_
from web.pages.cookies import attempt_of, clear_session_cookie
from web.pages.forms import ConfirmForm, CurrentPasswordForm, NewPasswordForm, RecoverySheetForm, TwoStepCodeForm
from web.pages.problems import Problem, by_field, form_problems, problems_for, reauthentication_problems, translate
from web.pages.registry import page
from web.pages.rendering import confirm, render_page
from web.pipeline import Call

SECRET_GROUP = 4  # the secret written in groups of four letters, to copy by hand into an app
WRONG_FIRST_CODE = N_("This code is not right. Type the code your app shows now for Consigne: 6 digits. If your "
                      "app shows no code for Consigne, start again.")


@dataclass(frozen=True)
class ShownSetup:
    """The two-step sign-in set-up as the page shows it (once, in the answer to the password)."""

    qr_code: str  # a data: URI of the SVG, for an <img> (the policy forbids inline styles, not images)
    secret_groups: list[str]


@page("/settings")
def settings(call: Call):
    account = call.current.account
    return render_page("settings/index.html", two_step_on=account.otp_enabled,
                       codes_left=account_service.recovery_codes_left(call.session, account),
                       codes_total=RECOVERY_CODE_COUNT)


# --- a new password ------------------------------------------------------------------------------------------
@page("/settings/password", methods=("GET", "POST"))
def change_password(call: Call):
    form = NewPasswordForm()

    def again(problems: list[Problem], status: int = 422):
        # A fresh suggestion of simple words each time, as at enrolment.
        html = render_page("settings/password.html", form=form, problems=problems, errors=by_field(problems),
                           passphrase=account_service.suggest_passphrase())
        return Response(html, status=status, mimetype="text/html")

    call.on_error = lambda error: again(_problems(error, new_password="new_password"))
    if request.method == "GET":
        return again([], status=200)
    if not form.validate_on_submit():
        return again(form_problems(form, order=["current_password", "new_password"]))
    account_service.change_password(call.session, keys=call.services.keys, attempt=attempt_of(call),
                                    current=call.current, password=form.current_password.data,
                                    new_password=form.new_password.data, now=call.now)
    confirm(N_("Your password is changed. Everywhere else you were signed in, you are now signed out."))
    return redirect(url_for("pages.settings"), code=303)


# --- two-step sign-in ------------------------------------------------------------------------------------------
@page("/settings/two-step")
def two_step(call: Call):
    return _two_step_page(call, CurrentPasswordForm(), [], status=200)


@page("/settings/two-step/on", methods=("POST",))
def two_step_on(call: Call):
    """The password, then the page with the QR code and the secret (shown in this answer only)."""
    form = CurrentPasswordForm()
    if call.current.account.otp_enabled:
        confirm(N_("Two-step sign-in is already on."))
        return redirect(url_for("pages.settings"), code=303)
    call.on_error = lambda error: _two_step_page(call, form, _problems(error))
    if not form.validate_on_submit():
        return _two_step_page(call, form, form_problems(form, order=["current_password"]))
    setup = two_factor.begin_setup(call.session, keys=call.services.keys, attempt=attempt_of(call),
                                   current=call.current, password=form.current_password.data, now=call.now)
    shown = ShownSetup(qr_code="data:image/svg+xml;base64," + base64.b64encode(setup.qr_svg.encode()).decode(),
                       secret_groups=[setup.secret[start:start + SECRET_GROUP]
                                      for start in range(0, len(setup.secret), SECRET_GROUP)])
    return _code_page(TwoStepCodeForm(formdata=None), [], setup=shown, status=200)


@page("/settings/two-step/confirm", methods=("GET", "POST"))
def two_step_confirm(call: Call):
    """The first code from the app turns it on. The QR code is not shown again: start again for a new one."""
    account = call.current.account
    if account.otp_enabled:
        return redirect(url_for("pages.settings"), code=303)
    if account.otp_secret_sealed is None:
        return redirect(url_for("pages.two_step"), code=303)
    form = TwoStepCodeForm()

    def on_error(error: VaultError):
        if error.code == "invalid_otp_code":
            return _code_page(form, [Problem("code", translate(WRONG_FIRST_CODE))])
        return _code_page(form, problems_for(error))

    call.on_error = on_error
    if request.method == "GET":
        return _code_page(form, [], status=200)
    if not form.validate_on_submit():
        return _code_page(form, form_problems(form, order=["code"]))
    two_factor.confirm_setup(call.session, keys=call.services.keys, attempt=attempt_of(call), current=call.current,
                             code=form.code.data, now=call.now)
    confirm(N_("Two-step sign-in is on. Each time you sign in, we will ask for the code from your app. If you "
               "lose your phone, a code from your recovery sheet lets you in."))
    return redirect(url_for("pages.settings"), code=303)


@page("/settings/two-step/off", methods=("POST",))
def two_step_off(call: Call):
    form = CurrentPasswordForm()
    if not call.current.account.otp_enabled:
        confirm(N_("Two-step sign-in is already off."))
        return redirect(url_for("pages.settings"), code=303)
    call.on_error = lambda error: _two_step_page(call, form, _problems(error))
    if not form.validate_on_submit():
        return _two_step_page(call, form, form_problems(form, order=["current_password"]))
    two_factor.disable(call.session, keys=call.services.keys, attempt=attempt_of(call), current=call.current,
                       password=form.current_password.data, now=call.now)
    confirm(N_("Two-step sign-in is off. Your password alone now opens your locker."))
    return redirect(url_for("pages.settings"), code=303)


# --- a new recovery sheet --------------------------------------------------------------------------------------
@page("/settings/recovery-codes", methods=("GET", "POST"))
def new_recovery_codes(call: Call):
    form = CurrentPasswordForm()

    def again(problems: list[Problem], status: int = 422):
        html = render_page("settings/recovery_codes.html", form=form, problems=problems, errors=by_field(problems))
        return Response(html, status=status, mimetype="text/html")

    call.on_error = lambda error: again(_problems(error))
    if request.method == "GET":
        return again([], status=200)
    if not form.validate_on_submit():
        return again(form_problems(form, order=["current_password"]))
    codes = account_service.renew_recovery_codes(call.session, keys=call.services.keys, attempt=attempt_of(call),
                                                 current=call.current, password=form.current_password.data,
                                                 now=call.now)
    # Shown in this answer and nowhere else, like at enrolment; the print button posts them back.
    return render_page("settings/recovery_codes_new.html", codes=codes, username=call.current.account.username,
                       sheet_form=RecoverySheetForm())


# --- sign out everywhere ----------------------------------------------------------------------------------------
@page("/settings/sign-out-everywhere", methods=("GET", "POST"))
def sign_out_everywhere(call: Call):
    """Every session of the account ends, this one too. Nothing can be lost by it: no password asked."""
    form = ConfirmForm()
    if request.method == "GET" or not form.validate_on_submit():
        return render_page("settings/sign_out_everywhere.html", form=form)
    session_service.sign_out_everywhere(call.session, current=call.current, now=call.now)
    confirm(N_("You are signed out everywhere: on this computer and on every other computer or phone."))
    response = redirect(url_for("pages.signed_out"), code=303)
    clear_session_cookie(response, call.services.settings)
    return response


# --- shared -------------------------------------------------------------------------------------------------------
def _problems(error: VaultError, **field_ids: str) -> list[Problem]:
    """The current password refused or not checkable now; otherwise the error in words, on its field."""
    found = reauthentication_problems(error)
    if found is not None:
        return found
    return problems_for(error, field_ids={"password": field_ids.get("new_password", "current_password")})


def _two_step_page(call: Call, form: CurrentPasswordForm, problems: list[Problem], status: int = 422):
    html = render_page("settings/two_step.html", form=form, problems=problems, errors=by_field(problems),
                       two_step_on=call.current.account.otp_enabled)
    return Response(html, status=status, mimetype="text/html")


def _code_page(form: TwoStepCodeForm, problems: list[Problem], *, setup: ShownSetup | None = None,
               status: int = 422):
    html = render_page("settings/two_step_code.html", form=form, setup=setup, problems=problems,
                       errors=by_field(problems))
    return Response(html, status=status, mimetype="text/html")
