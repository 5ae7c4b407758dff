"""Who has seen my papers: the person's activity in plain words, a day at a time, newest first, paged.

The same function as the API (``vault.activity.list_activity``), with the person's identity so that
their papers' titles show beside the sentences. The cursors in the links are authenticated and bound to
this account and this list (vault/paging.py): an altered one is refused, another person's opens nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from itertools import groupby

from flask import Response, request, url_for

from vault.activity import FAILED_SIGN_IN, ActivityItem, list_activity
from vault.errors import VaultError
from vault.i18n import N_
from web.pages.problems import translate
from web.pages.registry import page
from web.pages.rendering import local_date, long_date, render_page
from web.pipeline import Call

TODAY = N_("Today")
YESTERDAY = N_("Yesterday")
FIRST_PAGE = N_("Back to the newest lines")


@dataclass(frozen=True)
class Day:
    """The lines of one day (on French time), with the day said in words."""

    name: str
    day: date
    items: list[ActivityItem]


@page("/activity")
def activity(call: Call):
    call.on_error = _error_page
    page = list_activity(call.session, owner=call.current.account, words=call.words, keys=call.services.keys,
                         cursor=request.args.get("cursor") or None, identity=call.current.identity)
    today = local_date(call.now)
    days = [Day(_day_name(day, today), day, list(items))
            for day, items in groupby(page.items, key=lambda item: local_date(item.at))]
    refused = any(item.action == FAILED_SIGN_IN for item in page.items)
    return render_page("activity.html", days=days, refused=refused, failed_sign_in=FAILED_SIGN_IN,
                       older=page.next_cursor, newer=page.previous_cursor,
                       first_page=page.previous_cursor is None)


def _day_name(day: date, today: date) -> str:
    if day == today:
        return translate(TODAY)
    if day == today - timedelta(days=1):
        return translate(YESTERDAY)
    return long_date(day)


def _error_page(error: VaultError) -> Response:
    # A page link that is no longer valid (altered, or made before a key rotation): say so, and offer
    # the first page instead of a dead end.
    html = render_page("error.html", message=translate(type(error).message), back_href=url_for("pages.activity"),
                       back_text=translate(FIRST_PAGE))
    return Response(html, mimetype="text/html")
