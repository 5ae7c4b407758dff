"""One request pipeline for the pages and the JSON API.

Both surfaces run every request the same way: one transaction (a ``UnitOfWork``, committed when the
view succeeds, rolled back otherwise, committed anyway for errors whose record must stay, such as a
failed sign-in), the clock, the language, and the signed-in account read from the surface's own token
source: the ``Authorization: Bearer`` header for the API, the session cookie for the pages. Only the
rendering differs, and errors are answered per surface (problem JSON or an HTML page, in the person's
language): see ``web/errors.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Response, g, request

from vault.db import UnitOfWork
from vault.errors import SessionExpired, VaultError
from vault.i18n import BoundTranslator, pick_language
from vault.sessions import CurrentAccount, authenticate
from web.app import Services, services

LANGUAGE_COOKIE = "consigne-lang"


@dataclass(frozen=True)
class Surface:
    """Where a request comes from: how it carries its token and its language."""

    name: str  # "api" | "pages"
    read_token: Callable[[Services], str | None]
    choose_language: Callable[[], str]


def bearer_token(_services: Services) -> str | None:
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise SessionExpired()
    return token.strip()


def session_cookie_name(settings) -> str:
    """``__Host-`` cookies must be Secure, so the prefix is used exactly when the site runs on TLS."""
    return "__Host-consigne-session" if settings.base_url.startswith("https://") else "consigne-session"


def cookie_token(svc: Services) -> str | None:
    return request.cookies.get(session_cookie_name(svc.settings)) or None


def api_language() -> str:
    return pick_language(request.args.get("lang"), _accept_language())


def page_language() -> str:
    return pick_language(request.args.get("lang"), request.cookies.get(LANGUAGE_COOKIE), _accept_language())


def _accept_language() -> str | None:
    from vault.i18n import LANGUAGES

    return request.accept_languages.best_match(LANGUAGES)


API = Surface("api", bearer_token, api_language)
PAGES = Surface("pages", cookie_token, page_language)


@dataclass
class Call:
    """What a view receives: the transaction, the caller, the time and the language of this request."""

    uow: UnitOfWork
    current: CurrentAccount | None
    now: datetime
    language: str
    services: Services
    surface: Surface
    body: Any = None
    form: Any = None
    query: Any = None  # the validated query parameters, for endpoints that declare them
    # A page view that shows a form sets this: an error from a service is then answered by the same
    # form, re-rendered with the error in words, instead of a generic error page.
    on_error: Callable[[VaultError], Response | str] | None = None

    @property
    def session(self):
        return self.uow.session

    @property
    def words(self) -> BoundTranslator:
        return self.services.translator.for_language(self.language)

    def gettext(self, message: str, **params) -> str:
        return self.services.translator.translate(self.language, message, **params)


def run(surface: Surface, auth: str, view: Callable, path_params: dict,
        prepare: Callable[[Call], None] | None = None) -> Any:
    """Run ``view(call, **path_params)`` inside the pipeline; returns what the view returned.

    ``auth`` is "required", "optional" or "none". A "none" view never looks at credentials, so a stale
    cookie or token can never keep anyone out of a public page (sign-in, welcome, verification).
    """
    svc = services()
    g.surface = surface
    g.language = surface.choose_language()
    uow = UnitOfWork(svc.session_factory(), svc.store)
    call = Call(uow=uow, current=None, now=svc.clock(), language=g.language, services=svc, surface=surface)
    try:
        if auth != "none":
            token = surface.read_token(svc)
            if token is None:
                if auth == "required":
                    raise SessionExpired()
            else:
                call.current = authenticate(call.session, token=token, timeouts=svc.settings.timeouts, now=call.now)
        g.current = call.current
        if prepare is not None:
            prepare(call)
        result = view(call, **path_params)
        if request.method == "HEAD":
            # HEAD asks what a GET would answer, without its effects: no access is recorded (nothing
            # was sent), no deadline moves.
            uow.rollback()
        else:
            uow.commit()
    except VaultError as error:
        uow.commit() if error.keeps_changes else uow.rollback()
        if call.on_error is not None:
            from web.errors import status_for

            answer = call.on_error(error)
            response = answer if isinstance(answer, Response) else Response(answer, mimetype="text/html")
            response.status_code = status_for(error)
            if response.status_code == 429:
                response.headers["Retry-After"] = str(error.details.get("retry_after_seconds", 60))
            return response
        raise
    except BaseException:
        uow.rollback()
        raise
    finally:
        uow.close()
    return result


__all__ = ["API", "PAGES", "Call", "LANGUAGE_COOKIE", "Surface", "run", "session_cookie_name"]
