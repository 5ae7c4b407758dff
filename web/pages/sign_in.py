"""Signing in and out: the password page, the second step on its own page, sign out, signed out.

The password first; a second page asks for the app code or a recovery code when one is needed. Under an
account-wide lock the page says how long the wait really is, and offers to get in now with the password
and a recovery code (or a code from the app): nobody who only knows a username can keep its owner out.
Every cookie goes through web/pages/cookies.py.
"""

from __future__ import annotations

from flask import Response, redirect, request, url_for

from vault import sessions as session_service
from vault import sign_in as sign_in_service
from vault.errors import AccountLocked, SessionExpired, VaultError
from vault.i18n import N_, N_plural
from vault.sessions import PENDING_SECOND_FACTOR_SECONDS
from vault.sign_in import SecondStepNeeded, SignIn
from web.pages.cookies import (
    attempt_of,
    clear_session_cookie,
    delete_cookie,
    remember_sign_in,
    second_step_cookie_name,
    second_step_token,
    set_cookie,
)
from web.pages.forms import SecondStepForm, SignInForm
from web.pages.problems import Problem, by_field, sign_in_problems, translate
from web.pages.registry import page
from web.pages.recovery import after_sign_in
from web.pages.rendering import confirm, render_page, safe_next
from web.pipeline import Call

INCOMPLETE = N_("Type your username and your password.")
INCOMPLETE_SECOND_STEP = N_("Type the code from your app, or a recovery code.")
SECOND_STEP_OVER = N_("The time to type the code is over. Please sign in again.")
CODES_LEFT = N_plural(
    "You are in with a recovery code. It will not work again: %(num)s code is left on your sheet.",
    "You are in with a recovery code. It will not work again: %(num)s codes are left on your sheet.")


@page("/sign-in", methods=("GET", "POST"), auth="none")
def sign_in(call: Call):
    form = SignInForm()

    def on_error(error: VaultError) -> Response:
        # Under a lock, and after a refused code typed there, the boxes for getting in now stay.
        typed = _code_field(form)
        return _sign_in_page(form, problems=sign_in_problems(error, code_field=typed or "otp"),
                             locked=isinstance(error, AccountLocked) or typed is not None)

    call.on_error = on_error
    if not form.validate_on_submit():
        if form.is_submitted():
            # Said as one line, tied to the first box left empty.
            empty = "username" if not (form.username.data or "").strip() else "password"
            return _sign_in_page(form, problems=[Problem(empty, translate(INCOMPLETE))])
        return _sign_in_page(form, problems=[])
    result = sign_in_service.sign_in(
        call.session, keys=call.services.keys, timeouts=call.services.settings.timeouts, attempt=attempt_of(call),
        username=form.username.data, password=form.password.data, otp=form.otp.data or None,
        recovery_code=form.recovery_code.data or None, now=call.now, allow_pending=True)
    target = safe_next(request.args.get("next"))
    if isinstance(result, SecondStepNeeded):
        arguments = {"next": request.args["next"]} if target == request.args.get("next") else {}
        response = redirect(url_for("pages.sign_in_second_step", **arguments), code=303)
        set_cookie(response, call.services.settings, second_step_cookie_name(call.services.settings), result.token,
                   max_age=PENDING_SECOND_FACTOR_SECONDS)
        return response
    return _signed_in(call, result, target)


@page("/sign-in/second-step", methods=("GET", "POST"), auth="none")
def sign_in_second_step(call: Call):
    """The code from the app, or a recovery code, after a right password (five minutes at most)."""
    settings = call.services.settings
    token = second_step_token(settings)
    if not token:
        return redirect(url_for("pages.sign_in"), code=303)
    form = SecondStepForm()
    call.on_error = lambda error: _second_step_page(call, form, error=error)
    if not form.validate_on_submit():
        if request.method == "GET":
            session_service.open_pending(call.session, token=token, now=call.now)  # SessionExpired → sign-in
            return _second_step_page(call, form, error=None)
        return _second_step_page(call, form, error=None, incomplete=form.is_submitted())
    result = sign_in_service.complete_second_factor(
        call.session, keys=call.services.keys, timeouts=settings.timeouts, attempt=attempt_of(call),
        token=token, otp=form.otp.data or None, recovery_code=form.recovery_code.data or None, now=call.now)
    response = _signed_in(call, result, safe_next(request.args.get("next")))
    delete_cookie(response, settings, second_step_cookie_name(settings))
    return response


@page("/sign-out", methods=("POST",), auth="required")
def sign_out(call: Call):
    session_service.sign_out(call.session, current=call.current, now=call.now)
    response = redirect(url_for("pages.signed_out"), code=303)
    clear_session_cookie(response, call.services.settings)
    return response


@page("/signed-out", auth="none")
def signed_out(call: Call):
    return render_page("signed_out.html")


def _signed_in(call: Call, result: SignIn, target: str) -> Response:
    if result.second_factor == "recovery_code" and result.recovery_codes_left is not None:
        # That code is spent: say so, with what is left, so that a new sheet is printed in time.
        singular, plural = CODES_LEFT
        confirm(singular, plural=plural, num=result.recovery_codes_left)
    # A code stood in for a lost phone's: the next page offers a new phone, or two-step sign-in off.
    response = redirect(after_sign_in(result, target), code=303)
    remember_sign_in(response, call.services.settings, result)
    return response


def _code_field(form: SignInForm | SecondStepForm) -> str | None:
    """The box a code was typed in, if any: a refused code is said on that box."""
    if (form.otp.data or "").strip():
        return "otp"
    if (form.recovery_code.data or "").strip():
        return "recovery_code"
    return None


def _sign_in_page(form: SignInForm, *, problems: list[Problem], locked: bool = False,
                  status: int = 200) -> Response:
    html = render_page("sign_in.html", form=form, problems=problems, errors=by_field(problems), locked=locked)
    return Response(html, status=status, mimetype="text/html")


def _second_step_page(call: Call, form: SecondStepForm, *, error: VaultError | None, incomplete: bool = False):
    settings = call.services.settings
    if isinstance(error, SessionExpired):
        # The five minutes are over (or the step was completed elsewhere): start again from the password.
        over = [Problem("username", translate(SECOND_STEP_OVER))]
        response = _sign_in_page(SignInForm(formdata=None), problems=over)
        delete_cookie(response, settings, second_step_cookie_name(settings))
        return response
    problems = sign_in_problems(error, code_field=_code_field(form) or "otp") if error is not None else []
    if incomplete:
        problems = [Problem("otp", translate(INCOMPLETE_SECOND_STEP))]
    html = render_page("sign_in_second_step.html", form=form, problems=problems, errors=by_field(problems),
                       minutes=PENDING_SECOND_FACTOR_SECONDS // 60)
    return Response(html, mimetype="text/html")
