"""Marked copies in pages: « Faire une copie » of a paper, « Mes copies », and the public verification.

The same services as the API (vault/duplicates). Making a copy answers the POST with the PDF itself
(downloaded by the browser, with or without JavaScript): the copy is never stored, only its digest,
so there is nothing to fetch later. The verification pages are public: a landlord or an office types
the reference printed on the copy, and may send the file to see whether it is exactly the one issued.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Response, redirect, request, url_for

from vault import documents as document_service
from vault.duplicates import service as duplicate_service
from vault.duplicates.references import normalise_reference
from vault.errors import DuplicateNotFound, InvalidInput, TooManyAttempts, VaultError
from vault.i18n import N_
from vault.kinds import kind_for
from vault.policies import actor_for
from vault.purposes import PRESETS, PurposeChoice
from web.api.accounts import attempt_of
from web.api.duplicates import copy_response, issue_own, issue_shared, register
from web.pages.forms import ConfirmForm
from web.pages.papers import PAPER_POLICY, card_for
from web.pages.problems import Problem, by_field, problems_for, translate, wait_of
from web.pages.registry import page
from web.pages.rendering import confirm, render_page
from web.pipeline import Call
from web.uploads import held_bytes

STATUS_WORDS = {
    "own_copy": (N_("Your own copy"), "stamp", "tag--off"),
    "share_active": (N_("Still shared"), "circle-check", "tag--on"),
    "share_ended": (N_("Sharing ended"), "shield-off", "tag--expired"),
    "share_expired": (N_("Sharing expired"), "clock", "tag--expired"),
}
# What a stranger reads on the verification page: whether the copy is still backed by the person's consent.
PUBLIC_STATUS_WORDS = {
    "own_copy": (N_("Made by the person the paper belongs to, for themselves"), "stamp", "tag--off"),
    "share_active": (N_("Valid: the person still shares this paper"), "circle-check", "tag--on"),
    "share_ended": (N_("No longer valid: the person stopped sharing this paper"), "shield-off", "tag--expired"),
    "share_expired": (N_("No longer valid: the sharing of this paper has expired"), "clock", "tag--expired"),
}
PURPOSE_MISSING = N_("Choose why you need this copy.")
PURPOSE_TEXT_MISSING = N_("Write in a few words who the copy is for.")
REFERENCE_NOT_FOUND = N_("No copy has this reference. Check the letters and numbers on the copy, then try again.")
NO_FILE = N_("Choose the file of the copy you received.")


@dataclass(frozen=True)
class CopyLine:
    """One copy as the register shows it."""

    ref: str
    kind_label: str
    pictogram: str
    holder_name: str | None
    organisation: str | None
    purpose: str
    issued_at: datetime
    status: str
    status_label: str
    status_pictogram: str
    status_class: str
    deletion_requested_at: datetime | None
    deletion_answer: str | None
    can_ask_deletion: bool
    can_answer: bool


def purpose_choices() -> list[tuple[str, str, str]]:
    return [(preset.code, translate(preset.label), preset.pictogram) for preset in PRESETS]


def purpose_words(choice: PurposeChoice) -> str:
    return choice.label(translate)


# --- make a copy of one of my papers -----------------------------------------------------------------------
@page("/papers/<document_id>/copy", methods=("GET", "POST"))
def make_copy(call: Call, document_id: str):
    view = document_service.get_document(call.session, current=call.current, document_id=document_id)
    form = ConfirmForm()
    chosen = request.form.get("purpose") or None
    text = (request.form.get("purpose_text") or "").strip()

    def again(problems: list[Problem], status: int = 422):
        html = render_page("copies/make.html", paper=card_for(view, call), form=form, problems=problems,
                           errors=by_field(problems), purposes=purpose_choices(), chosen=chosen, text=text)
        return Response(html, status=status, mimetype="text/html")

    call.on_error = lambda error: again(_purpose_problems(error))
    if request.method == "GET" or not form.validate_on_submit():
        return again([], status=200 if request.method == "GET" else 422)
    issued = issue_own(call, document_id, chosen, text or None)
    return copy_response(issued)


def _purpose_problems(error: VaultError) -> list[Problem]:
    if isinstance(error, InvalidInput) and error.details.get("field") == "purpose":
        return [Problem("purpose", translate(PURPOSE_MISSING))]
    if isinstance(error, InvalidInput) and error.details.get("field") == "purpose_text":
        return [Problem("purpose_text", translate(PURPOSE_TEXT_MISSING))]
    return problems_for(error)


# --- my copies ---------------------------------------------------------------------------------------------
@page("/work/shared/<share_id>/<document_id>")
def shared_copy(call: Call, share_id: str, document_id: str):
    """The worker opens (or, with ``?download=1``, saves) a marked copy of a paper shared with them.

    Served like the person's own papers: a sandboxing policy, the exact type, never cached.
    """
    inline = request.args.get("download") != "1"
    response = copy_response(issue_shared(call, share_id, document_id, inline=inline),
                             "inline" if inline else "attachment")
    response.headers["Content-Security-Policy"] = PAPER_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


@page("/copies")
def copies(call: Call):
    actor = actor_for(call.session, call.current.account)
    lines = [_line(entry, actor.is_person) for entry in register(call)]
    return render_page("copies/register.html", lines=lines, form=ConfirmForm(), for_person=actor.is_person)


@page("/copies/<ref>/ask-deletion", methods=("POST",))
def ask_deletion(call: Call, ref: str):
    form = ConfirmForm()
    if form.validate_on_submit():
        duplicate = duplicate_service.ask_deletion(call.session, actor=actor_for(call.session, call.current.account),
                                                   ref=ref, now=call.now)
        confirm(N_("We asked %(organisation)s to delete the copy %(ref)s. Their answer will show here."),
                organisation=duplicate.organisation_name or "", ref=duplicate.ref)
    return redirect(url_for("pages.copies"), code=303)


@page("/copies/<ref>/answer", methods=("POST",))
def answer_deletion(call: Call, ref: str):
    form = ConfirmForm()
    if form.validate_on_submit():
        duplicate_service.answer_deletion(call.session, actor=actor_for(call.session, call.current.account), ref=ref,
                                          answer=request.form.get("answer", ""), now=call.now)
        confirm(N_("Your answer is sent to the person."))
    return redirect(url_for("pages.copies"), code=303)


def _line(entry: duplicate_service.DuplicateEntry, for_person: bool) -> CopyLine:
    kind = kind_for(entry.kind)
    label, picture, css = STATUS_WORDS[entry.status]
    return CopyLine(
        ref=entry.ref, kind_label=translate(kind.label), pictogram=kind.pictogram, holder_name=entry.holder_name,
        organisation=entry.organisation, purpose=purpose_words(entry.purpose), issued_at=entry.issued_at,
        status=entry.status, status_label=translate(label), status_pictogram=picture, status_class=css,
        deletion_requested_at=entry.deletion_requested_at, deletion_answer=entry.deletion_answer,
        can_ask_deletion=for_person and entry.status != "own_copy" and entry.deletion_requested_at is None,
        can_answer=not for_person and entry.deletion_requested_at is not None and entry.deletion_answer is None,
    )


# --- public verification -----------------------------------------------------------------------------------
@page("/verify", auth="none")
def verify_form(call: Call):
    typed = request.args.get("ref")
    if typed is None:
        return render_page("copies/verify_form.html", typed="", problems=[], errors={})
    normalised = normalise_reference(typed)
    if normalised is None:
        problems = [Problem("ref", translate(REFERENCE_NOT_FOUND))]
        html = render_page("copies/verify_form.html", typed=typed, problems=problems, errors=by_field(problems))
        return Response(html, status=404, mimetype="text/html")
    return redirect(url_for("pages.verify", ref=normalised), code=303)


@page("/verify/<ref>", methods=("GET", "POST"), auth="none")
def verify(call: Call, ref: str):
    form = ConfirmForm()

    def refused(error: VaultError):
        problems = [Problem("ref", translate(REFERENCE_NOT_FOUND))] if isinstance(error, DuplicateNotFound) else [
            Problem(None, translate(type(error).message) + (" " + wait_of(error) if isinstance(error, TooManyAttempts) else ""))]
        return render_page("copies/verify_form.html", typed=ref, problems=problems, errors=by_field(problems))

    call.on_error = refused
    found = duplicate_service.look_up(call.session, keys=call.services.keys, attempt=attempt_of(call), ref=ref,
                                      now=call.now)
    matches, problems = None, []
    if request.method == "POST" and form.validate_on_submit():
        uploads = [upload for upload in request.files.getlist("file") if upload.filename]
        if len(uploads) != 1:
            problems = [Problem("file", translate(NO_FILE))]
        else:
            matches = duplicate_service.check_copy(call.session, keys=call.services.keys, attempt=attempt_of(call),
                                                   ref=found.ref, data=held_bytes(uploads[0]), now=call.now)
    kind = kind_for(found.kind)
    label, picture, css = PUBLIC_STATUS_WORDS[found.status]
    html = render_page("copies/verify.html", found=found, kind_label=translate(kind.label), kind_pictogram=kind.pictogram,
                       purpose=purpose_words(found.purpose), status_label=translate(label), status_pictogram=picture,
                       status_class=css, matches=matches, form=form, problems=problems, errors=by_field(problems))
    return Response(html, status=422 if problems else 200, mimetype="text/html")
