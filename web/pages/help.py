"""Getting help and leaving safely: « I lost my access », the automatic sign-out after the idle time-out."""

from __future__ import annotations

from flask import Response, redirect, request

from web.pages.cookies import clear_session_cookie, signed_in_softly
from web.pages.registry import page
from web.pages.rendering import render_page, safe_next
from web.pipeline import Call


@page("/lost", auth="none")
def lost(call: Call):
    # Only what works today: the recovery journeys (a code alone to reset a forgotten password, help
    # from two staff members) come with the recovery issue.
    return render_page("lost.html")


@page("/timed-out", auth="none")
def timed_out(call: Call):
    """Where a signed-in page goes by itself once the idle time-out is reached (meta refresh or script).

    If the person was active meanwhile in another tab, the session is still alive: back to the page.
    Otherwise the server half is already expired (authenticate deletes it) and the cookie is cleared.
    """
    if signed_in_softly(call) is not None:
        return redirect(safe_next(request.args.get("next")), code=303)
    response = Response(render_page("timed_out.html", minutes=call.services.settings.timeouts.person_idle_seconds // 60),
                        mimetype="text/html")
    clear_session_cookie(response, call.services.settings)
    return response


@page("/still-here", methods=("POST",))
def still_here(call: Call):
    """« Stay signed in » in the time-out warning: signing in again is not needed, this request is enough."""
    return Response(status=204)
