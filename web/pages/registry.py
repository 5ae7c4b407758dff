"""One decorator for every page: the shared request pipeline with the session cookie as token source."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable

from flask import Blueprint, g

from web.pipeline import PAGES, run

blueprint = Blueprint("pages", __name__)


def page(path: str, *, methods: Iterable[str] = ("GET",), auth: str = "required",
         name: str | None = None) -> Callable:
    """Register ``view(call, **path_params)`` for ``path``; ``auth`` as in ``web.pipeline.run``."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def handle(**path_params):
            return run(PAGES, auth, functools.partial(_remember_idle_time_out, view), path_params)

        blueprint.add_url_rule(path, endpoint=name or view.__name__, view_func=handle, methods=list(methods))
        return view

    return decorate


def _remember_idle_time_out(view: Callable, call, **path_params):
    # Read while the session row is loaded: an error page is rendered after the transaction has been
    # rolled back, when the row can no longer be read, and it still says and acts on the time-out.
    if call.current is not None:
        g.idle_seconds = call.current.session.idle_seconds
        # Which menu base.html shows (staff keep no papers; admins also see their organisation), read now
        # for the same reason.
        actor = call.current.actor
        g.navigation = ("person" if actor.is_person else
                        "admin" if "admin" in actor.memberships.values() else "staff")
    return view(call, **path_params)


__all__ = ["blueprint", "page"]
