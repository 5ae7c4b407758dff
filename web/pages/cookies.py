"""The pages' cookies, set, read and cleared here only, with the same attributes everywhere.

- the session (``__Host-consigne-session`` on TLS): the token, for the session's absolute time-out;
- the second step of a sign-in: a pending token for five minutes;
- known devices: a few device tokens, for as long as browsers keep a cookie (they open nothing by
  themselves; they only spare this browser the account-wide lock, see vault/sign_in.py);
- the language chosen with the switch (not a secret: a preference).

Every one is HttpOnly (no script ever reads a token) and, whenever the site runs on TLS, Secure. The
tokens are SameSite=Strict (no other site's page makes the browser send them) with the ``__Host-``
prefix on TLS (pinned to this host and path). The language is SameSite=Lax, so that a link from a
social worker's message opens in the language the person chose. (Flask's own signed cookie, for the
forms' CSRF token and the one-line notices, is configured in web/app.py.)
"""

from __future__ import annotations

from flask import Response, request

from vault.errors import SessionExpired
from vault.sessions import CurrentAccount, authenticate
from vault.settings import Settings
from vault.sign_in import MAX_DEVICE_TOKENS, SignIn
from vault.throttle import Attempt
from web.pipeline import LANGUAGE_COOKIE, Call, cookie_token, session_cookie_name

DEVICE_COOKIE_SECONDS = 400 * 24 * 3600  # as long as browsers let a cookie live
DEVICE_TOKEN_SEPARATOR = "|"  # outside base64url and allowed in a cookie value unquoted
LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600


def on_tls(settings: Settings) -> bool:
    return settings.base_url.startswith("https://")


def device_cookie_name(settings: Settings) -> str:
    return "__Host-consigne-devices" if on_tls(settings) else "consigne-devices"


def second_step_cookie_name(settings: Settings) -> str:
    return "__Host-consigne-second-step" if on_tls(settings) else "consigne-second-step"


def set_cookie(response: Response, settings: Settings, name: str, value: str, *, max_age: int,
               same_site: str = "Strict") -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite=same_site,
                        secure=on_tls(settings))


def delete_cookie(response: Response, settings: Settings, name: str) -> None:
    response.delete_cookie(name, path="/", httponly=True, samesite="Strict", secure=on_tls(settings))


def clear_session_cookie(response: Response, settings: Settings) -> None:
    delete_cookie(response, settings, session_cookie_name(settings))
    # Also drop whatever the browser kept of the signed-in pages (the back button on a shared computer).
    # Not "cookies": the device cookie stays, so that this browser is still known at the next sign-in.
    response.headers["Clear-Site-Data"] = '"cache", "storage"'


def signed_in_softly(call: Call) -> CurrentAccount | None:
    """Who is signed in, for a public page that offers « my papers » instead of « sign in ».

    A public page must never turn a person away: a stale, expired or made-up cookie counts as signed out
    (``authenticate`` has then already deleted an expired server half).
    """
    token = cookie_token(call.services)
    if token is None:
        return None
    try:
        return authenticate(call.session, token=token, timeouts=call.services.settings.timeouts, now=call.now)
    except SessionExpired:
        return None


def second_step_token(settings: Settings) -> str | None:
    return request.cookies.get(second_step_cookie_name(settings)) or None


def remember_language(response: Response, settings: Settings, language: str) -> None:
    set_cookie(response, settings, LANGUAGE_COOKIE, language, max_age=LANGUAGE_COOKIE_SECONDS, same_site="Lax")


def device_tokens(settings: Settings) -> tuple[str, ...]:
    """The device tokens this browser keeps (one per account signed in from it, newest first)."""
    raw = request.cookies.get(device_cookie_name(settings), "")
    return tuple(token for token in raw.split(DEVICE_TOKEN_SEPARATOR) if token)[:MAX_DEVICE_TOKENS]


def attempt_of(call: Call) -> Attempt:
    """Where this sign-in or enrolment comes from, for the throttle."""
    return Attempt(throttle_sessions=call.services.session_factory, address=request.remote_addr,
                   device_tokens=device_tokens(call.services.settings))


def remember_sign_in(response: Response, settings: Settings, result: SignIn) -> None:
    """The session cookie, and this browser's device token for the account in front of the others."""
    set_cookie(response, settings, session_cookie_name(settings), result.token,
               max_age=settings.timeouts.absolute_seconds)
    kept = [token for token in device_tokens(settings) if token != result.replaces]
    tokens = [result.device_token, *kept][:MAX_DEVICE_TOKENS]
    set_cookie(response, settings, device_cookie_name(settings), DEVICE_TOKEN_SEPARATOR.join(tokens),
               max_age=DEVICE_COOKIE_SECONDS)
