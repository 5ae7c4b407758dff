"""The worker's consent pages: ask a following person for papers, approve side by side, papers shared
with me and the time left.

Side by side, the person types their own password (and their two-step code when they use one) on the
worker's screen; the worker never approves for them. The links to the papers point at
``/work/shared/<share_id>/<document_id>``, where ``web/pages/copies.py`` serves the marked duplicate.
"""

from __future__ import annotations

from flask import Response, redirect, request, url_for

from vault import access_requests as request_service
from vault import share_choices
from vault import shares as share_service
from vault.closing import list_closed_shares
from vault.errors import InvalidInput, VaultError
from vault.i18n import N_
from vault.kinds import KINDS, kind_for
from vault.purposes import PurposeChoice, registered_purposes
from vault.reminders import expiry_at
from web.pages.cookies import attempt_of
from web.pages.forms import ConfirmForm
from web.pages.problems import Problem, problems_for, reauthentication_problems, sign_in_problems, translate
from web.pages.registry import page
from web.pages.rendering import confirm, render_page
from web.pages.shares import purpose_from_value, purpose_value
from web.pipeline import Call

DURATION_DAYS = ((1, N_("One day"), "clock"), (7, N_("One week"), "timer"), (30, N_("One month"), "history"))


def _request_problems(error: VaultError) -> list[Problem]:
    field = error.details.get("field")
    if error.code == "person_not_found":
        return [Problem("person", translate(type(error).message))]
    if error.code in ("unknown_document_kind",) or field == "kinds":
        return [Problem("kinds", translate(N_("Choose at least one kind of paper.")))]
    if error.code == "purpose_not_registered" or field in ("purpose", "purpose_text"):
        return [Problem("purpose", translate(N_("Choose a reason your organisation registered.")))]
    if field == "duration_days":
        return [Problem("duration_days", translate(N_("Choose for how long.")))]
    if field == "organisation":
        return [Problem("organisation", translate(N_("Choose the organisation you ask for.")))]
    return problems_for(error)


@page("/work/requests", methods=("GET", "POST"))
def work_requests(call: Call):
    actor = call.current.actor
    people = request_service.followers(call.session, actor=actor)
    organisations = share_choices.staff_organisations(call.session, actor.account_id)
    purposes = [(purpose_value(choice), choice.label(call.gettext), place.id, place.name)
                for place in organisations for choice in registered_purposes(call.session, place.id)]
    form = ConfirmForm()
    kinds = [(kind.code, call.gettext(kind.label), kind.pictogram) for kind in KINDS]

    def again(problems, status=422):
        sent = request_service.list_requests(call.session, actor=actor)
        html = render_page("work/requests.html", people=people, purposes=purposes, kinds=kinds, form=form,
                           durations=[(str(days), call.gettext(label), icon) for days, label, icon in DURATION_DAYS],
                           sent=sent, values=request.form, problems=problems,
                           errors={p.field: p.message for p in problems if p.field},
                           kind_label=lambda code: call.gettext(kind_for(code).label),
                           purpose_label=lambda view: view.purpose.label(call.gettext))
        return Response(html, status=status, mimetype="text/html")

    call.on_error = lambda error: again(_request_problems(error))
    if request.method == "GET":
        return again([], status=200)
    if not form.validate_on_submit():
        raise InvalidInput(field="csrf_token")
    purpose_field = request.form.get("purpose") or ""
    value, _, organisation_id = purpose_field.rpartition("@")
    duration = request.form.get("duration_days") or ""
    view = request_service.create_request(
        call.session, actor=actor, person=(request.form.get("person") or "").strip(),
        kinds=request.form.getlist("kinds"), purpose=purpose_from_value(value),
        duration_days=int(duration) if duration.isdigit() else None, now=call.now,
        organisation_id=organisation_id or None)
    confirm(N_("Your request is sent. The person answers at their next sign-in, or here, side by side."))
    return redirect(url_for("pages.work_requests", _anchor=f"request-{view.id}"), code=303)


@page("/work/requests/<request_id>/side-by-side", methods=("GET", "POST"))
def side_by_side(call: Call, request_id: str):
    actor = call.current.actor
    view = request_service.get_request(call.session, actor=actor, request_id=request_id)
    form = ConfirmForm()

    def again(problems, status=422):
        html = render_page("work/side_by_side.html", item=view, form=form, problems=problems,
                           errors={p.field: p.message for p in problems if p.field},
                           kind_label=lambda code: call.gettext(kind_for(code).label),
                           purpose_label=view.purpose.label(call.gettext))
        return Response(html, status=status, mimetype="text/html")

    def on_error(error: VaultError):
        if error.code == "second_factor_required":
            return again([Problem("otp", translate(N_("Type the code from your phone's app.")))])
        if error.code == "second_factor_failed":
            return again(sign_in_problems(error))
        problems = reauthentication_problems(error, field="password")
        if error.code == "invalid_input" and error.details.get("field") == "password":
            problems = [Problem("password", translate(N_("Type a password.")))]
        if error.code == "wrong_password":
            problems = [Problem("password", translate(N_("This is not the right password. Type the password you "
                                                         "use to sign in to Consigne.")))]
        return again(problems or problems_for(error))

    call.on_error = on_error
    if request.method == "GET" or view.status != request_service.WAITING:
        return again([], status=200)
    if not form.validate_on_submit():
        raise InvalidInput(field="csrf_token")
    # The papers: every paper of the requested kinds, or the kinds the person ticked (their own choice).
    share = request_service.approve_side_by_side(
        call.uow, actor=actor, keys=call.services.keys, attempt=attempt_of(call), request_id=request_id,
        password=request.form.get("password"), otp=request.form.get("otp") or None,
        document_ids=None, kinds=request.form.getlist("kinds"), now=call.now)
    confirm(N_("The person said yes. Their papers are in « Shared with me »."))
    return redirect(url_for("pages.work_shared", _anchor=f"share-{share.id}"), code=303)


@page("/work/shared")
def work_shared(call: Call):
    views = share_service.list_shares(call.session, actor=call.current.actor, identity=call.current.identity,
                                      now=call.now)
    # Shares of lockers their people closed (vault.closing): the worker reads that the papers are gone.
    closed = list_closed_shares(call.session, grantee_id=call.current.account.id)
    return render_page("work/shared.html", active=[view for view in views if view.active],
                       ended=[view for view in views if not view.active], closed=closed,
                       closed_purpose=lambda row: PurposeChoice(row.purpose_code).label(call.gettext),
                       kind_label=lambda code: call.gettext(kind_for(code).label),
                       purpose_label=lambda view: view.purpose.label(call.gettext),
                       expiry=lambda paper: expiry_at(paper.expires_on, now=call.now))
