"""Pages anyone can open: welcome, sign in, sign out."""

from __future__ import annotations

import math
from datetime import timedelta

from babel.dates import format_timedelta
from flask import Response, g, redirect, request, url_for

from vault import sessions as session_service
from vault import sign_in as sign_in_service
from vault.errors import AccountLocked, SessionExpired, SignInBusy, TooManyAttempts, VaultError
from vault.sessions import PENDING_SECOND_FACTOR_SECONDS, authenticate
from vault.sign_in import SecondStepNeeded
from web.pages.cookies import (
    attempt_of,
    clear_session_cookie,
    delete_cookie,
    remember_sign_in,
    second_step_cookie_name,
    set_cookie,
)
from web.pages.forms import SecondStepForm, SignInForm
from web.pages.registry import blueprint, page
from web.pages.rendering import render_page
from web.pipeline import LANGUAGE_COOKIE, Call, cookie_token

LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600


@blueprint.after_request
def remember_language(response: Response) -> Response:
    """A language chosen with the switch (``?lang=``) is kept for the next pages."""
    chosen = request.args.get("lang")
    if chosen and chosen == getattr(g, "language", None):
        response.set_cookie(LANGUAGE_COOKIE, chosen, max_age=LANGUAGE_COOKIE_SECONDS, httponly=True,
                            samesite="Lax", secure=request.is_secure)
    return response


@page("/", auth="none")
def welcome(call: Call):
    # A public page: a stale or expired cookie must never keep anyone out, so the cookie is only
    # looked at softly, to offer « my papers » instead of « sign in » to someone signed in.
    token = cookie_token(call.services)
    if token is not None:
        try:
            g.current = authenticate(call.session, token=token, timeouts=call.services.settings.timeouts,
                                     now=call.now)
            g.idle_seconds = g.current.session.idle_seconds
        except SessionExpired:
            g.current = None
    return render_page("welcome.html")


@page("/sign-in", methods=("GET", "POST"), auth="none")
def sign_in(call: Call):
    """The password first; a second page asks for the app code or a recovery code when one is needed.

    Under an account-wide lock the page says how long the wait really is, and offers to get in now with
    the password and a recovery code (or a code from the app).
    """
    form = SignInForm()
    call.on_error = lambda error: _sign_in_page(call, form, error=error)
    if not form.validate_on_submit():
        return _sign_in_page(call, form, error=None, incomplete=form.is_submitted())
    result = sign_in_service.sign_in(
        call.session, keys=call.services.keys, timeouts=call.services.settings.timeouts, attempt=attempt_of(call),
        username=form.username.data, password=form.password.data, otp=form.otp.data or None,
        recovery_code=form.recovery_code.data or None, now=call.now, allow_pending=True)
    target = _safe_next(request.args.get("next"))
    if isinstance(result, SecondStepNeeded):
        arguments = {"next": request.args["next"]} if target == request.args.get("next") else {}
        response = redirect(url_for("pages.sign_in_second_step", **arguments), code=303)
        set_cookie(response, call.services.settings, second_step_cookie_name(call.services.settings), result.token,
                    max_age=PENDING_SECOND_FACTOR_SECONDS)
        return response
    response = redirect(target, code=303)
    remember_sign_in(response, call.services.settings, result)
    return response


@page("/sign-in/second-step", methods=("GET", "POST"), auth="none")
def sign_in_second_step(call: Call):
    """The code from the app, or a recovery code, after a right password (five minutes at most)."""
    token = request.cookies.get(second_step_cookie_name(call.services.settings))
    if not token:
        return redirect(url_for("pages.sign_in"), code=303)
    form = SecondStepForm()
    call.on_error = lambda error: _second_step_page(call, form, error=error)
    if not form.validate_on_submit():
        if request.method == "GET":
            session_service.open_pending(call.session, token=token, now=call.now)  # SessionExpired → sign-in
        return _second_step_page(call, form, error=None, incomplete=form.is_submitted())
    result = sign_in_service.complete_second_factor(
        call.session, keys=call.services.keys, timeouts=call.services.settings.timeouts, attempt=attempt_of(call),
        token=token, otp=form.otp.data or None, recovery_code=form.recovery_code.data or None, now=call.now)
    response = redirect(_safe_next(request.args.get("next")), code=303)
    remember_sign_in(response, call.services.settings, result)
    delete_cookie(response, call.services.settings, second_step_cookie_name(call.services.settings))
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


def wait_in_words(seconds: int, language: str) -> str:
    """The wait as a person says it (« 14 secondes », « 3 minutes »), never shorter than the real one."""
    if seconds < 60:
        return format_timedelta(timedelta(seconds=max(1, seconds)), granularity="second", threshold=1000,
                                locale=language)
    return format_timedelta(timedelta(minutes=math.ceil(seconds / 60)), granularity="minute", threshold=1000,
                            locale=language)
















def _sign_in_page(call: Call, form: SignInForm, *, error: VaultError | None, incomplete: bool = False):
    if isinstance(error, (TooManyAttempts, SignInBusy)):
        wait = wait_in_words(error.details.get("retry_after_seconds", 60), call.language)
    else:
        wait = None
    return render_page("sign_in.html", form=form, error=error, wait=wait, incomplete=incomplete,
                       locked=isinstance(error, AccountLocked))


def _second_step_page(call: Call, form: SecondStepForm, *, error: VaultError | None, incomplete: bool = False):
    if isinstance(error, SessionExpired):
        # The five minutes are over (or the step was completed elsewhere): start again from the password.
        response = Response(render_page("sign_in.html", form=SignInForm(formdata=None), error=None, wait=None,
                                        incomplete=False, locked=False, second_step_expired=True))
        delete_cookie(response, call.services.settings, second_step_cookie_name(call.services.settings))
        return response
    wait = wait_in_words(error.details.get("retry_after_seconds", 60), call.language) if isinstance(
        error, (TooManyAttempts, SignInBusy)) else None
    return render_page("sign_in_second_step.html", form=form, error=error, wait=wait, incomplete=incomplete)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to somebody else's page. By default, my papers."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("pages.home")
