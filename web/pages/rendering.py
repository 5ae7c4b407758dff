"""Templates: the language, its direction and the signed-in account are in every page's context.

Also what every template may call: ``pictogram`` (an inline SVG from web/static/icons, so it takes the
text's colour, also in high-contrast modes), dates in the page's language (Babel), the kinds of papers
in words, and the confirmation notice left by the previous action (POST, redirect, then GET).
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time
from flask import Flask, flash, g, get_flashed_messages, redirect, render_template, request, url_for
from markupsafe import Markup, escape

from vault.errors import SessionExpired, VaultError
from vault.i18n import LANGUAGE_NAMES, LANGUAGES, text_direction
from vault.kinds import KINDS, kind_for

ICONS = Path(__file__).resolve().parent.parent / "static" / "icons"
# Papers and people are in France: dates and times are shown on French time, in the page's language.
DISPLAY_TIMEZONE = ZoneInfo("Europe/Paris")
# Babel's locale for each page language: British English writes « 1 September 2031 », like French.
DATE_LOCALES = {"fr": "fr_FR", "en": "en_GB", "ar": "ar"}


def install_templates(app: Flask) -> None:
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(gettext=_gettext, ngettext=_ngettext, newstyle=True)
    app.jinja_env.globals.update(language_links=language_links, LANGUAGE_NAMES=LANGUAGE_NAMES,
                                 pictogram=pictogram, kind_choices=kind_choices, kind_label=kind_label,
                                 notices=notices, example_code=example_code, suggestion=suggestion)
    app.jinja_env.filters.update(long_date=long_date, date_and_time=date_and_time, time_of_day=time_of_day)


def render_page(template: str, **context) -> str:
    if getattr(g, "language", None) is None:
        # A request that never reached a page view (unknown path, wrong method): its language still
        # comes from the switch, the cookie or the browser, like every page's.
        from web.pipeline import PAGES

        g.language = PAGES.choose_language()
    language = g.language
    current = getattr(g, "current", None)
    context.setdefault("problems", [])
    # The idle time-out, said in words on every signed-in page and acted on by the page itself.
    idle_seconds = (g.get("idle_seconds") or _default_idle_seconds()) if current is not None else 0
    return render_template(template, lang=language, dir=text_direction(language), current=current,
                           idle_seconds=idle_seconds, **context)


def _default_idle_seconds() -> int:
    from web.app import services

    return services().settings.timeouts.person_idle_seconds


def page_for_error(error: VaultError):
    """The answer a page gives instead of an error page, or None: signed out → the sign-in page."""
    if isinstance(error, SessionExpired):
        target = url_for("pages.sign_in")
        if request.method == "GET" and request.path != target:
            target += "?" + urlencode({"next": request.full_path.rstrip("?")})
        return redirect(target, code=303)
    return None


def safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to somebody else's page. By default, my papers.

    Browsers read a backslash as a slash and drop tabs and line breaks from a URL, so « /\\evil.example »
    or « /<tab>/evil.example » would become « //evil.example », another site: refused, like « // ».
    """
    if (target and target.startswith("/") and not target.startswith("//") and "\\" not in target
            and target.isprintable() and not any(character.isspace() for character in target)):
        return target
    return url_for("pages.home")


def suggestion(words: str) -> Markup:
    """A suggested passphrase inside a sentence: left to right in every language (its hyphens stay in
    place in Arabic), in a type where each letter is clear."""
    return Markup('<bdi class="suggestion" dir="ltr">{}</bdi>').format(words)


def example_code() -> Markup:
    """A made-up recovery code for a hint, kept whole and left to right inside any sentence."""
    return Markup('<span class="example-code" dir="ltr">K7QM-3XRT-9HPD-WB2N-F6CA</span>')


def language_links() -> list[dict]:
    """The current page in each language (the choice is then remembered in a cookie)."""
    arguments = {key: value for key, value in request.args.items() if key != "lang"}
    return [{"code": code, "name": LANGUAGE_NAMES[code], "current": code == getattr(g, "language", "fr"),
             "href": request.path + "?" + urlencode({**arguments, "lang": code})} for code in LANGUAGES]


# --- pictograms ----------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _svg(name: str) -> str:
    path = ICONS / f"{name}.svg"
    if not name.replace("-", "").isalnum() or not path.is_file():
        raise LookupError(f"no pictogram named {name!r} in web/static/icons (see ops/icons.py)")
    return path.read_text(encoding="utf-8").strip()


def pictogram(name: str, label: str | None = None, classes: str = "") -> Markup:
    """An inline SVG: decorative (hidden from screen readers) unless ``label`` says what it means."""
    svg = _svg(name)
    css = f"icon {classes}".strip()
    if label:
        accessible = f'role="img" aria-label="{escape(label)}"'
    else:
        accessible = 'aria-hidden="true"'
    svg = svg.replace(f'class="lucide lucide-{name}"', f'class="{css}" {accessible} focusable="false"', 1)
    return Markup(svg)


# --- words for dates and kinds -------------------------------------------------------------------------
def long_date(value: date | datetime | None) -> str:
    """« 23 novembre 2026 », « 23 November 2026 », « ٢٣ نوفمبر ٢٠٢٦ »."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(DISPLAY_TIMEZONE).date()
    return format_date(value, format="long", locale=_date_locale())


def date_and_time(value: datetime) -> str:
    return format_datetime(value, format="medium", tzinfo=DISPLAY_TIMEZONE, locale=_date_locale())


def time_of_day(value: datetime) -> str:
    """« 14:02 », « 2:02 PM », « 2:02 م »: the hour on French time, the way the page's language writes it
    (the same locale as the times inside the activity's sentences, vault/activity.py)."""
    return format_time(value, format="short", tzinfo=DISPLAY_TIMEZONE, locale=getattr(g, "language", "fr"))


def local_date(value: datetime) -> date:
    """The day ``value`` falls on in France."""
    return value.astimezone(DISPLAY_TIMEZONE).date()


def _date_locale() -> str:
    return DATE_LOCALES.get(getattr(g, "language", "fr"), "fr_FR")


def kind_label(code: str) -> str:
    return _gettext(kind_for(code).label)


def kind_choices() -> list[tuple[str, str, str]]:
    """(code, label in the page's language, pictogram) for each kind, in the usual order."""
    return [(kind.code, _gettext(kind.label), kind.pictogram) for kind in KINDS]


# --- confirmations carried over a redirect -------------------------------------------------------------
def confirm(message: str, *, plural: str | None = None, **params) -> None:
    """Leave a confirmation for the next page. Only an English message id and harmless values go into
    Flask's signed (not encrypted) cookie: never a title, a name or anything the person typed.

    With ``plural``, the message has plural forms chosen by the ``num`` parameter."""
    flash({"message": message, "plural": plural, "params": params}, "confirmation")


# Sent by the script for an upload with progress: it follows the redirect itself, then opens the page,
# so the confirmation must wait for that visit.
SCRIPT_HEADER = "X-Consigne-Script"


def notices() -> list[str]:
    if request.headers.get(SCRIPT_HEADER):
        return []
    messages = []
    for item in get_flashed_messages(category_filter=["confirmation"]):
        params = {key: (kind_label(value) if key == "kind" else value) for key, value in item["params"].items()}
        if item.get("plural"):
            words = _ngettext(item["message"], item["plural"], params["num"])
        else:
            words = _gettext(item["message"])
        messages.append(words % params if params else words)
    return messages


def _gettext(message: str) -> str:
    # Jinja's new-style gettext then fills the %(name)s placeholders, escaping the values.
    from web.app import services

    return services().translator.translate(getattr(g, "language", "fr"), message)


def _ngettext(singular: str, plural: str, count: int) -> str:
    from web.app import services

    return services().translator.catalogues[getattr(g, "language", "fr")].ngettext(singular, plural, count)
