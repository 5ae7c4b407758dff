"""Pages anyone can open: welcome, sign in, sign out."""

from __future__ import annotations

from flask import Response, g, redirect, request, url_for

from vault import sessions as session_service
from vault.errors import SessionExpired
from vault.sessions import authenticate
from web.pages.forms import SignInForm
from web.pages.registry import blueprint, page
from web.pages.rendering import render_page
from web.pipeline import LANGUAGE_COOKIE, Call, cookie_token, session_cookie_name

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
    form = SignInForm()
    call.on_error = lambda error: render_page("sign_in.html", form=form, error=error)
    if not form.validate_on_submit():
        return render_page("sign_in.html", form=form, error=None)
    result = session_service.sign_in(
        call.session, keys=call.services.keys, timeouts=call.services.settings.timeouts,
        username=form.username.data, password=form.password.data, otp=form.otp.data or None,
        recovery_code=form.recovery_code.data or None, now=call.now, address=request.remote_addr)
    response = redirect(_safe_next(request.args.get("next")), code=303)
    response.set_cookie(session_cookie_name(call.services.settings), result.token, httponly=True,
                        samesite="Strict", secure=call.services.settings.base_url.startswith("https://"),
                        max_age=call.services.settings.timeouts.absolute_seconds)
    return response


@page("/sign-out", methods=("POST",), auth="required")
def sign_out(call: Call):
    session_service.sign_out(call.session, current=call.current, now=call.now)
    response = redirect(url_for("pages.signed_out"), code=303)
    response.delete_cookie(session_cookie_name(call.services.settings), httponly=True, samesite="Strict",
                           secure=call.services.settings.base_url.startswith("https://"))
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@page("/signed-out", auth="none")
def signed_out(call: Call):
    return render_page("signed_out.html")


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to somebody else's page. By default, my papers."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("pages.home")
