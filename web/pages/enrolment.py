"""Enrolment in at most three steps: choose a username and a password → the recovery codes, shown once,
with the sheet to print → my papers. The person is signed in at the end of the first step.

No email, no phone number: the username is suggested (and can be changed), a passphrase of simple words
is suggested, and the person types their own password. The codes are never stored in clear and never
put in a URL: the page that shows them posts them back to print the sheet.
"""

from __future__ import annotations

from flask import Response, g, request

from vault import accounts as account_service
from vault import sign_in as sign_in_service
from vault.errors import InvalidInput
from vault.sheets import render_recovery_sheet
from web.pages.cookies import attempt_of, remember_sign_in
from web.pages.forms import EnrolForm, RecoverySheetForm
from web.pages.problems import by_field, form_problems, problems_for
from web.pages.registry import page
from web.pages.rendering import render_page
from web.pipeline import Call

SHEET_FILE_NAME = "consigne-recovery-sheet.pdf"


@page("/enrol", methods=("GET", "POST"), auth="none")
def enrol(call: Call):
    form = EnrolForm()
    suggestion = account_service.suggest_username(call.session)
    if request.method == "GET":
        form.username.data = suggestion

    def again(problems, status=422):
        # A fresh suggestion and passphrase each time; what the person typed as username is kept.
        html = render_page("enrol.html", form=form, problems=problems, errors=by_field(problems),
                           passphrase=account_service.suggest_passphrase(), username_suggestion=suggestion)
        return Response(html, status=status, mimetype="text/html")

    call.on_error = lambda error: again(problems_for(error, suggestion=suggestion))
    if not form.validate_on_submit():
        if request.method == "POST":
            return again(form_problems(form, order=["username", "password"]))
        return again([], status=200)
    settings = call.services.settings
    enrolment = account_service.enrol_person(call.session, keys=call.services.keys, username=form.username.data,
                                             password=form.password.data, now=call.now, attempt=attempt_of(call))
    signed_in = sign_in_service.sign_in_enrolled(call.session, keys=call.services.keys, timeouts=settings.timeouts,
                                                 enrolment=enrolment, now=call.now)
    g.current = call.current = signed_in.current
    g.idle_seconds = signed_in.current.session.idle_seconds
    # Shown in this answer and nowhere else: reloading cannot show them again, and they are not kept.
    html = render_page("enrol_codes.html", username=enrolment.account.username, codes=enrolment.recovery_codes,
                       sheet_form=RecoverySheetForm())
    response = Response(html, status=201, mimetype="text/html")
    remember_sign_in(response, settings, signed_in)
    return response


@page("/recovery-sheet", methods=("POST",))
def recovery_sheet(call: Call):
    """The printable sheet (PDF, in the page's language) for codes the page posts back."""
    form = RecoverySheetForm()
    codes = [entry.data for entry in form.code.entries if entry.data] if form.validate_on_submit() else []
    account = call.current.account
    if not codes or not account_service.current_codes_match(call.session, keys=call.services.keys,
                                                            account=account, codes=codes):
        raise InvalidInput(field="recovery_codes")
    pdf = render_recovery_sheet(username=account.username, sign_in_url=call.services.settings.base_url,
                                recovery_codes=codes, issued_on=call.now.date(), language=call.language,
                                translator=call.services.translator)
    # Inline: the browser's viewer opens it with its print button, and no copy is left in the
    # downloads folder of a shared computer. no-store (the default) keeps it out of the cache.
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{SHEET_FILE_NAME}"'})
