"""Pages anyone can open: the welcome page, and the language switch kept for the next pages."""

from __future__ import annotations

from flask import Response, g, request

from web.pages.cookies import clear_session_cookie, remember_language, signed_in_softly
from web.pages.registry import blueprint, page
from web.pages.rendering import render_page
from web.pipeline import Call, cookie_token


@blueprint.after_request
def keep_the_chosen_language(response: Response) -> Response:
    """A language chosen with the switch (``?lang=``) is kept for the next pages."""
    chosen = request.args.get("lang")
    if chosen and chosen == getattr(g, "language", None):
        from web.app import services

        remember_language(response, services().settings, chosen)
    return response


@page("/", auth="none")
def welcome(call: Call):
    # A public page: a stale or expired cookie must never keep anyone out, so the cookie is only
    # looked at softly, to offer « my papers » instead of « sign in » to someone signed in.
    g.current = call.current = signed_in_softly(call)
    if call.current is not None:
        g.idle_seconds = call.current.session.idle_seconds
    response = Response(render_page("welcome.html"), mimetype="text/html")
    if call.current is None and cookie_token(call.services) is not None:
        # A session that ended (time-out, signed out elsewhere): its cookie is dropped, and with it
        # whatever the browser kept of the signed-in pages.
        clear_session_cookie(response, call.services.settings)
    return response
