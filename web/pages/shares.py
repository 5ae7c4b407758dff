"""The person's consent pages: « Partager », « Mes partages », « Demandes ».

Sharing takes three steps, each a plain form that works without JavaScript: pick the worker, pick the
papers, the purpose and the duration, then read in words what the worker will be able to do and until
when, and confirm. Nothing is written before that last POST. The same services as the API.
"""

from __future__ import annotations

from pathlib import Path

from flask import Response, redirect, request, url_for

from vault import access_requests as request_service
from vault import receipts
from vault.accounts import public_name
from vault import share_choices
from vault import shares as share_service
from vault.documents import list_documents, view_document
from vault.errors import InvalidInput, VaultError
from vault.i18n import N_
from vault.kinds import kind_for
from vault.purposes import PRESETS_BY_CODE, PurposeChoice, check_purpose_choice, registered_purposes
from web.pages.forms import ConfirmForm
from web.pages.papers import card_for
from web.pages.problems import Problem, problems_for, translate
from web.pages.registry import page
from web.pages.rendering import confirm, render_page
from web.pipeline import Call

ICONS = Path(__file__).resolve().parent.parent / "static" / "icons"
DURATION_CHOICES = (("day", N_("One day"), "clock"), ("week", N_("One week"), "timer"),
                    ("month", N_("One month"), "history"))
# The field an error belongs to on the sharing pages (the error summary links to it).
FIELDS = {"documents": "documents", "purpose": "purpose", "purpose_text": "purpose", "duration": "duration",
          "expires_at": "duration", "organisation": "worker", "grantee": "worker"}


def purpose_value(choice: PurposeChoice) -> str:
    """A purpose as one form value: the code, and for "other" its words after a bar."""
    return choice.code if not choice.text else f"{choice.code}|{choice.text}"


def purpose_from_value(value: str | None) -> PurposeChoice:
    code, _, text = (value or "").partition("|")
    return check_purpose_choice(code or None, text or None)


def _problems(error: VaultError) -> list[Problem]:
    field = FIELDS.get(error.details.get("field"), None)
    if error.code == "grantee_not_found":
        return [Problem("username", translate(type(error).message))]
    if error.code in ("document_not_found",):
        return [Problem("documents", translate(N_("Choose papers from your locker.")))]
    if error.code == "invalid_share_end":
        return [Problem("duration", translate(type(error).message))]
    if error.code == "purpose_not_registered":
        return [Problem("purpose", translate(type(error).message))]
    if error.code == "invalid_input" and field:
        messages = {"documents": N_("Choose at least one paper."), "purpose": N_("Choose why you share."),
                    "duration": N_("Choose for how long."), "worker": N_("Choose who can see your papers.")}
        return [Problem(field, translate(messages[field]))]
    return problems_for(error)


# --- « Partager »: step 1, who ---------------------------------------------------------------------------
@page("/shares/new")
def share_pick_worker(call: Call):
    workers = share_choices.workers_following(call.session, actor=call.current.actor)
    chosen, username = request.args.get("worker"), (request.args.get("username") or "").strip()

    def again(problems):
        html = render_page("shares/pick_worker.html", workers=workers, username=username, problems=problems,
                           errors={problem.field: problem.message for problem in problems if problem.field})
        return Response(html, status=422 if problems else 200, mimetype="text/html")

    if chosen:
        grantee_id, _, organisation_id = chosen.partition(":")
        return redirect(url_for("pages.share_choose", grantee_id=grantee_id, organisation=organisation_id), code=303)
    if username:
        try:
            grantee = share_service.find_grantee(call.session, username)
        except VaultError as error:
            return again(_problems(error))
        return redirect(url_for("pages.share_choose", grantee_id=grantee.id), code=303)
    if "username" in request.args:
        return again([Problem("worker", translate(N_("Choose who can see your papers.")))])
    return again([])


# --- step 2: which papers, why, how long -----------------------------------------------------------------
def _grantee_and_organisation(call: Call, grantee_id: str, organisation_id: str | None):
    grantee = share_service.find_grantee(call.session, grantee_id)
    organisations = share_choices.staff_organisations(call.session, grantee.id)
    if organisation_id:
        organisations = [place for place in organisations if place.id == organisation_id]
    return grantee, organisations


@page("/shares/new/<grantee_id>", methods=("GET", "POST"))
def share_choose(call: Call, grantee_id: str):
    organisation_id = request.values.get("organisation") or None
    grantee, organisations = _grantee_and_organisation(call, grantee_id, organisation_id)
    if len(organisations) != 1:  # several: the person picks the organisation first
        html = render_page("shares/pick_organisation.html", grantee=grantee, organisations=organisations)
        return Response(html, mimetype="text/html")
    organisation = organisations[0]
    papers = [card_for(view, call) for view in list_documents(call.session, current=call.current,
                                                               keys=call.services.keys).items]
    purposes = [(purpose_value(choice), choice.label(call.gettext), _pictogram(choice)) for choice in
                registered_purposes(call.session, organisation.id)]
    form = ConfirmForm()
    selected = request.form.getlist("documents")

    def again(problems, status=422):
        html = render_page("shares/choose.html", grantee=grantee, organisation=organisation, papers=papers,
                           purposes=purposes,
                           durations=[(code, call.gettext(label), icon) for code, label, icon in DURATION_CHOICES], form=form, selected=selected,
                           purpose=request.form.get("purpose"), duration=request.form.get("duration"),
                           problems=problems, errors={p.field: p.message for p in problems if p.field})
        return Response(html, status=status, mimetype="text/html")

    call.on_error = lambda error: again(_problems(error))
    if request.method == "GET":
        return again([], status=200)
    if not form.validate_on_submit():
        raise InvalidInput(field="documents")
    plan = share_service.plan_share(
        call.session, actor=call.current.actor, grantee_username_or_id=grantee.id, document_ids=selected,
        purpose=purpose_from_value(request.form.get("purpose")),
        expires_at=share_service.duration_end(call.now, request.form.get("duration") or ""), now=call.now,
        organisation_id=organisation.id)
    kinds = [call.gettext(kind_for(paper.kind).label) for paper in plan.papers]
    html = render_page("shares/confirm.html", plan=plan, grantee_name=public_name(grantee),
                       kinds=kinds, purpose_label=plan.purpose.label(call.gettext), form=form,
                       documents=selected, purpose=request.form.get("purpose"), duration=request.form.get("duration"))
    return Response(html, mimetype="text/html")


# --- step 3: confirmed -------------------------------------------------------------------------------------
@page("/shares/new/<grantee_id>/confirm", methods=("POST",))
def share_confirm(call: Call, grantee_id: str):
    form = ConfirmForm()
    if not form.validate_on_submit():
        raise InvalidInput(field="csrf_token")
    view = share_service.grant_share(
        call.uow, actor=call.current.actor, identity=call.current.identity, grantee_username_or_id=grantee_id,
        document_ids=request.form.getlist("documents"), purpose=purpose_from_value(request.form.get("purpose")),
        expires_at=share_service.duration_end(call.now, request.form.get("duration") or ""), now=call.now,
        organisation_id=request.form.get("organisation") or None)
    confirm(N_("Shared. You can stop it at any time here."))
    return redirect(url_for("pages.my_shares", _anchor=f"share-{view.id}"), code=303)


# --- « Mes partages » ------------------------------------------------------------------------------------
@page("/shares")
def my_shares(call: Call):
    actor = call.current.actor
    views = share_service.list_shares(call.session, actor=actor, identity=call.current.identity, now=call.now)
    return render_page("shares/mine.html", active=[view for view in views if view.active],
                       ended=[view for view in views if not view.active], kind_label=_kind_label(call),
                       purpose_label=lambda view: view.purpose.label(call.gettext))


@page("/shares/<share_id>/end", methods=("GET", "POST"))
def end_my_share(call: Call, share_id: str):
    view = share_service.get_share(call.session, actor=call.current.actor, identity=call.current.identity,
                                   share_id=share_id, now=call.now)
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        share_service.end_share(call.session, actor=call.current.actor, share_id=share_id, now=call.now)
        confirm(N_("The share is stopped. The worker can no longer open these papers."))
        target = "pages.my_shares" if call.current.actor.is_person else "pages.work_shared"
        return redirect(url_for(target), code=303)
    return render_page("shares/end.html", share=view, form=form, kind_label=_kind_label(call))


@page("/shares/<share_id>/receipt")
def share_receipt_page(call: Call, share_id: str):
    _view, pdf = receipts.share_receipt(call.session, actor=call.current.actor, identity=call.current.identity,
                                        share_id=share_id, now=call.now, language=call.language,
                                        translator=call.services.translator)
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": 'inline; filename="consigne-recu-de-partage.pdf"', "Cache-Control": "no-store"})


# --- « Demandes » ------------------------------------------------------------------------------------------
@page("/requests")
def my_requests(call: Call):
    actor = call.current.actor
    views = request_service.list_requests(call.session, actor=actor)
    waiting = [view for view in views if view.status == request_service.WAITING]
    papers = {view.id: [card_for(view_document(document, call.current.identity), call) for document in
                        request_service.papers_for_request(call.session, actor=actor, request_id=view.id)]
              for view in waiting}
    return render_page("shares/requests.html", waiting=waiting, papers=papers,
                       answered=[view for view in views if view.status != request_service.WAITING],
                       form=ConfirmForm(), kind_label=_kind_label(call),
                       purpose_label=lambda view: view.purpose.label(call.gettext))


@page("/requests/<request_id>/answer", methods=("POST",))
def answer_request(call: Call, request_id: str):
    form = ConfirmForm()
    if not form.validate_on_submit():
        raise InvalidInput(field="csrf_token")

    def again(error):
        return render_page("shares/answer_problem.html", problems=_problems(error))

    call.on_error = again
    if request.form.get("answer") == "decline":
        request_service.decline_request(call.session, actor=call.current.actor, request_id=request_id, now=call.now)
        confirm(N_("You said no. The worker sees your answer."))
        return redirect(url_for("pages.my_requests"), code=303)
    view = request_service.approve_request(call.uow, actor=call.current.actor, identity=call.current.identity,
                                           request_id=request_id, document_ids=request.form.getlist("documents"),
                                           now=call.now)
    confirm(N_("Shared. You can stop it at any time here."))
    return redirect(url_for("pages.my_shares", _anchor=f"share-{view.id}"), code=303)


def _pictogram(choice: PurposeChoice) -> str:
    # A preset's pictogram when it is vendored (ops/icons.py); « briefcase » is not yet: the lead adds it.
    preset = PRESETS_BY_CODE.get(choice.code)
    if preset and (ICONS / f"{preset.pictogram}.svg").is_file():
        return preset.pictogram
    return "file"


def _kind_label(call: Call):
    return lambda code: call.gettext(kind_for(code).label)


__all__ = ["purpose_from_value", "purpose_value"]
