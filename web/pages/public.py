"""Pages anyone can open: welcome, sign in, sign out."""

from __future__ import annotations

import math
from datetime import timedelta

from babel.dates import format_timedelta
from flask import Response, g, redirect, request, url_for

from vault import sessions as session_service
from vault import sign_in as sign_in_service
from vault.errors import AccountLocked, SessionExpired, SignInBusy, TooManyAttempts, VaultError
from vault.sessions import PENDING_SECOND_FACTOR_SECONDS
from vault.sign_in import MAX_DEVICE_TOKENS, SecondStepNeeded, SignIn
from vault.throttle import Attempt
from web.pages.forms import SecondStepForm, SignInForm
from web.pages.registry import blueprint, page
from web.pages.rendering import render_page
from web.pipeline import LANGUAGE_COOKIE, Call, session_cookie_name

LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600
# The known-device cookie lives as long as browsers let a cookie live; it holds a few device tokens.
DEVICE_COOKIE_SECONDS = 400 * 24 * 3600
DEVICE_TOKEN_SEPARATOR = "|"  # outside base64url and allowed in a cookie value unquoted


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
        call.session, keys=call.services.keys, timeouts=call.services.settings.timeouts, attempt=_attempt(call),
        username=form.username.data, password=form.password.data, otp=form.otp.data or None,
        recovery_code=form.recovery_code.data or None, now=call.now, allow_pending=True)
    target = _safe_next(request.args.get("next"))
    if isinstance(result, SecondStepNeeded):
        arguments = {"next": request.args["next"]} if target == request.args.get("next") else {}
        response = redirect(url_for("pages.sign_in_second_step", **arguments), code=303)
        _set_cookie(response, call, _second_step_cookie(call), result.token,
                    max_age=PENDING_SECOND_FACTOR_SECONDS)
        return response
    return _signed_in(call, result, target)


@page("/sign-in/second-step", methods=("GET", "POST"), auth="none")
def sign_in_second_step(call: Call):
    """The code from the app, or a recovery code, after a right password (five minutes at most)."""
    token = request.cookies.get(_second_step_cookie(call))
    if not token:
        return redirect(url_for("pages.sign_in"), code=303)
    form = SecondStepForm()
    call.on_error = lambda error: _second_step_page(call, form, error=error)
    if not form.validate_on_submit():
        if request.method == "GET":
            session_service.open_pending(call.session, token=token, now=call.now)  # SessionExpired → sign-in
        return _second_step_page(call, form, error=None, incomplete=form.is_submitted())
    result = sign_in_service.complete_second_factor(
        call.session, keys=call.services.keys, timeouts=call.services.settings.timeouts, attempt=_attempt(call),
        token=token, otp=form.otp.data or None, recovery_code=form.recovery_code.data or None, now=call.now)
    response = _signed_in(call, result, _safe_next(request.args.get("next")))
    _delete_cookie(response, call, _second_step_cookie(call))
    return response


@page("/sign-out", methods=("POST",), auth="required")
def sign_out(call: Call):
    session_service.sign_out(call.session, current=call.current, now=call.now)
    response = redirect(url_for("pages.signed_out"), code=303)
    _delete_cookie(response, call, session_cookie_name(call.services.settings))
    # Not "cookies": the device cookie stays, so that this browser is still known at the next sign-in
    # (it opens nothing by itself).
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
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


def device_cookie_name(settings) -> str:
    return "__Host-consigne-devices" if settings.base_url.startswith("https://") else "consigne-devices"


def _second_step_cookie(call: Call) -> str:
    secure = call.services.settings.base_url.startswith("https://")
    return "__Host-consigne-second-step" if secure else "consigne-second-step"


def _attempt(call: Call) -> Attempt:
    return Attempt(throttle_sessions=call.services.session_factory, address=request.remote_addr,
                   device_tokens=_device_tokens(call))


def _device_tokens(call: Call) -> tuple[str, ...]:
    """The device tokens this browser keeps (one per account signed in from it, newest first)."""
    raw = request.cookies.get(device_cookie_name(call.services.settings), "")
    return tuple(token for token in raw.split(DEVICE_TOKEN_SEPARATOR) if token)[:MAX_DEVICE_TOKENS]


def _signed_in(call: Call, result: SignIn, target: str) -> Response:
    settings = call.services.settings
    response = redirect(target, code=303)
    _set_cookie(response, call, session_cookie_name(settings), result.token, max_age=settings.timeouts.absolute_seconds)
    kept = [token for token in _device_tokens(call) if token != result.replaces]
    tokens = [result.device_token, *kept][:MAX_DEVICE_TOKENS]
    _set_cookie(response, call, device_cookie_name(settings), DEVICE_TOKEN_SEPARATOR.join(tokens),
                max_age=DEVICE_COOKIE_SECONDS)
    return response


def _set_cookie(response: Response, call: Call, name: str, value: str, *, max_age: int) -> None:
    # HttpOnly: no script ever reads a token; SameSite=Strict: no other site's page sends it; Secure (and
    # the __Host- prefix in the name, which pins it to this host and path) whenever the site is on TLS.
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="Strict",
                        secure=call.services.settings.base_url.startswith("https://"))


def _delete_cookie(response: Response, call: Call, name: str) -> None:
    response.delete_cookie(name, path="/", httponly=True, samesite="Strict",
                           secure=call.services.settings.base_url.startswith("https://"))


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
        _delete_cookie(response, call, _second_step_cookie(call))
        return response
    wait = wait_in_words(error.details.get("retry_after_seconds", 60), call.language) if isinstance(
        error, (TooManyAttempts, SignInBusy)) else None
    return render_page("sign_in_second_step.html", form=form, error=error, wait=wait, incomplete=incomplete)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to somebody else's page."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("pages.welcome")
