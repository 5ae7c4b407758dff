"""The worker's « Déposer un papier »: a newly issued paper into the locker of a person who follows us.

The same fields and components as the person's « Add a paper » (papers/fields.html) and the same vault
path (vault/deposits.py → vault/documents.store_new_document). The form says, before anything is sent,
that the worker will not be able to open the paper; the page after says it again. Every refusal about
the person (no such username, not following) is the same "not found" page, for the form as for the post.
"""

from __future__ import annotations

from flask import Response, current_app, redirect, request, url_for

from vault import deposits as deposit_service
from vault.i18n import N_
from vault.media import UploadedFile
from web.pages.forms import PaperDetailsForm
# The date boxes and the "no file" refusal work exactly as on « Add a paper ».
from web.pages.papers import ACCEPTED_FILES, FILE_FIELDS, _date_parts, _no_files, _read_date
from web.pages.problems import Problem, by_field, choose_files_again, form_problems, problems_for
from web.pages.registry import page
from web.pages.rendering import confirm, render_page
from web.pipeline import Call
from web.uploads import held_bytes

DEPOSITED = N_("The paper “%(kind)s” is deposited. Only the person can open it: you cannot.")
# The staff home (built with the organisations' pages): linked back to when this instance has it.
WORK_HOME = "/work"


@page("/work/people/<username>/deposit", methods=("GET", "POST"))
def deposit_paper(call: Call, username: str):
    # Checked first, for the form as for the post: a worker sees the form only for a person they may reach.
    username = deposit_service.deposit_target(call.uow, current=call.current, username=username)
    form = PaperDetailsForm()
    uploads = [upload for name in FILE_FIELDS for upload in request.files.getlist(name) if upload.filename]
    names = [upload.filename for upload in uploads]

    def again(problems: list[Problem], status: int = 422):
        if uploads and not any(problem.field == "file" for problem in problems):
            problems = [*problems, choose_files_again()]
        html = render_page("papers/deposit.html", form=form, problems=problems, errors=by_field(problems),
                           accept=ACCEPTED_FILES, expiry=_date_parts(form), username=username,
                           back_href=_work_home())
        return Response(html, status=status, mimetype="text/html")

    call.on_error = lambda error: again(problems_for(error, file_names=names, limits=call.services.settings.limits))
    if request.method == "GET":
        return again([], status=200)
    if not form.validate_on_submit():
        problems = form_problems(form, order=["kind", "title"])
        if not uploads:
            problems.append(problems_for(_no_files(), limits=call.services.settings.limits)[0])
        return again(problems)
    if not uploads:
        raise _no_files()
    expires_on = _read_date(form)
    files = [UploadedFile(data=held_bytes(upload), filename=upload.filename, release=upload.stream.close)
             for upload in uploads]
    receipt = deposit_service.deposit_document(call.uow, current=call.current, username=username, files=files,
                                               kind=form.kind.data, title=form.title.data or None,
                                               expires_on=expires_on, limits=call.services.settings.limits,
                                               now=call.now, gate=call.services.gates.media)
    confirm(DEPOSITED, kind=receipt.kind)
    # Not back to the form's own address: the upload script tells success from a redirect elsewhere.
    return redirect(url_for("pages.paper_deposited", username=username), code=303)


@page("/work/people/<username>/added")
def paper_deposited(call: Call, username: str):
    username = deposit_service.deposit_target(call.uow, current=call.current, username=username)
    return render_page("papers/deposited.html", username=username, back_href=_work_home())


def _work_home() -> str | None:
    return WORK_HOME if any(rule.rule == WORK_HOME for rule in current_app.url_map.iter_rules()) else None
