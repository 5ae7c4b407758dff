"""The session cookie of the pages, set and cleared with the same attributes everywhere.

``__Host-`` prefixed and Secure on TLS, HttpOnly (no script reads it), SameSite=Strict (no other site
can make the browser send it), lasting no longer than the session's absolute time-out.
"""

from __future__ import annotations

from flask import Response

from vault.settings import Settings
from web.pipeline import session_cookie_name


def set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(session_cookie_name(settings), token, httponly=True, samesite="Strict",
                        secure=settings.base_url.startswith("https://"),
                        max_age=settings.timeouts.absolute_seconds)


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(session_cookie_name(settings), httponly=True, samesite="Strict",
                           secure=settings.base_url.startswith("https://"))
    # Also drop whatever the browser kept of the signed-in pages (back button on a shared computer).
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
