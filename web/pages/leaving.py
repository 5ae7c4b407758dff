"""Leaving: take everything out (/settings/export), close the locker for good (/settings/delete).

Both ask for the current password (vault.reauthentication): a locker left open on a shelter computer
must not let the next person carry every paper away, nor erase them. The export answers the form's POST
with the ZIP itself (a download: the page stays where it is, with or without JavaScript). Closing ends
on a public page that says it is done and leads home: the session is gone, so nothing signed in follows.
"""

from __future__ import annotations

from flask import Response, redirect, request, url_for
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from vault.closing import close_vault
from vault.errors import VaultError
from vault.export import prepare_export
from vault.i18n import N_
from web.api.leaving import export_response
from web.pages.cookies import attempt_of, clear_session_cookie
from web.pages.problems import Problem, by_field, form_problems, problems_for, reauthentication_problems, translate
from web.pages.registry import page
from web.pages.rendering import render_page
from web.pipeline import Call

CHOOSE_FORMAT = N_("Choose what to take out: your papers as they are, or your papers still locked.")
TYPE_PASSPHRASE = N_("Choose a passphrase to protect your key: at least 8 characters, or a few simple words.")
CONFIRM_CLOSING = N_("Tick the box to say you understand that everything will be deleted for good.")


class ExportForm(FlaskForm):
    current_password = PasswordField(validators=[DataRequired(), Length(max=1024)])
    format = StringField(validators=[DataRequired(), AnyOf(["zip", "age"])])  # radios: vault.export.FORMATS
    passphrase = PasswordField(validators=[Optional(), Length(max=1024)])


class CloseForm(FlaskForm):
    current_password = PasswordField(validators=[DataRequired(), Length(max=1024)])
    understood = BooleanField(validators=[DataRequired()])


@page("/settings/export", methods=("GET", "POST"))
def export_everything(call: Call):
    form = ExportForm()

    def again(problems: list[Problem], status: int = 422):
        html = render_page("settings/export.html", form=form, problems=problems, errors=by_field(problems),
                           chosen=form.format.data if form.format.data in ("zip", "age") else "zip")
        return Response(html, status=status, mimetype="text/html")

    def on_error(error: VaultError):
        found = reauthentication_problems(error)
        if found is None:
            found = problems_for(error, field_ids={"password": "passphrase", "passphrase": "passphrase"})
        return again(found)

    call.on_error = on_error
    if request.method == "GET":
        return again([], status=200)
    if not form.validate_on_submit():
        return again(_export_problems(form))
    if form.format.data == "age" and not form.passphrase.data:
        return again([Problem("passphrase", translate(TYPE_PASSPHRASE))])
    export = prepare_export(call.uow, current=call.current, keys=call.services.keys, attempt=attempt_of(call),
                            password=form.current_password.data, export_format=form.format.data,
                            passphrase=form.passphrase.data if form.format.data == "age" else None,
                            words=call.words, now=call.now)
    return export_response(call, export)


@page("/settings/delete", methods=("GET", "POST"))
def close_locker(call: Call):
    form = CloseForm()

    def again(problems: list[Problem], status: int = 422):
        html = render_page("settings/delete.html", form=form, problems=problems, errors=by_field(problems),
                           is_person=call.current.actor.is_person)
        return Response(html, status=status, mimetype="text/html")

    call.on_error = lambda error: again(reauthentication_problems(error) or problems_for(error))
    if request.method == "GET":
        return again([], status=200)
    if not form.validate_on_submit():
        problems = form_problems(form, order=["current_password"])
        if form.understood.errors:
            problems.append(Problem("understood", translate(CONFIRM_CLOSING)))
        return again(problems)
    close_vault(call.uow, current=call.current, keys=call.services.keys, attempt=attempt_of(call),
                password=form.current_password.data, now=call.now)
    response = redirect(url_for("pages.locker_closed"), code=303)
    clear_session_cookie(response, call.services.settings)
    return response


@page("/closed", auth="none")
def locker_closed(call: Call):
    """Said once the locker is closed (public: the person has no session any more)."""
    return render_page("settings/closed.html")


def _export_problems(form: ExportForm) -> list[Problem]:
    problems = form_problems(form, order=["current_password"])
    if form.format.errors:
        problems.append(Problem("format", translate(CHOOSE_FORMAT)))
    if form.passphrase.errors:
        problems.append(Problem("passphrase", translate(TYPE_PASSPHRASE)))
    return problems
