"""Templates: the language, its direction and the signed-in account are in every page's context."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, g, redirect, render_template, request, url_for

from vault.errors import SessionExpired, VaultError
from vault.i18n import LANGUAGE_NAMES, LANGUAGES, text_direction


def install_templates(app: Flask) -> None:
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(gettext=_gettext, ngettext=_ngettext, newstyle=True)
    app.jinja_env.globals.update(language_links=language_links, LANGUAGE_NAMES=LANGUAGE_NAMES)


def render_page(template: str, **context) -> str:
    language = getattr(g, "language", "fr")
    return render_template(template, lang=language, dir=text_direction(language),
                           current=getattr(g, "current", None), **context)


def page_for_error(error: VaultError):
    """The answer a page gives instead of an error page, or None: signed out → the sign-in page."""
    if isinstance(error, SessionExpired):
        target = url_for("pages.sign_in")
        if request.method == "GET" and request.path != target:
            target += "?" + urlencode({"next": request.full_path.rstrip("?")})
        return redirect(target, code=303)
    return None


def language_links() -> list[dict]:
    """The current page in each language (the choice is then remembered in a cookie)."""
    arguments = {key: value for key, value in request.args.items() if key != "lang"}
    return [{"code": code, "name": LANGUAGE_NAMES[code], "current": code == getattr(g, "language", "fr"),
             "href": request.path + "?" + urlencode({**arguments, "lang": code})} for code in LANGUAGES]


def _gettext(message: str) -> str:
    # Jinja's new-style gettext then fills the %(name)s placeholders, escaping the values.
    from web.app import services

    return services().translator.translate(getattr(g, "language", "fr"), message)


def _ngettext(singular: str, plural: str, count: int) -> str:
    from web.app import services

    return services().translator.catalogues[getattr(g, "language", "fr")].ngettext(singular, plural, count)
