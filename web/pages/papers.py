"""The person's papers: my papers as tiles, add one, see it, change its details, delete it.

The same vault services as the API (vault/documents.py). Each task takes at most three steps and ends
with POST, redirect, then GET, where the next page says in words what was done. A paper itself is served
in a way that can never run in our origin: exact Content-Type, nosniff, a sandboxing CSP and a
Content-Disposition (see ``serve_paper``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import quote

from flask import Response, redirect, request, stream_with_context, url_for
from markupsafe import Markup, escape

from vault import documents as document_service
from vault.access_requests import count_waiting
from vault.activity_consent import WORKER_AT
from vault.documents import DocumentView
from vault.errors import InvalidDate, UnsupportedFile, VaultError
from vault.i18n import N_
from vault.kinds import kind_for
from vault.media import UploadedFile
from vault.policies import may_keep_papers
from vault.reminders import Expiry, expiry_at
from web.pages.forms import ConfirmForm, PaperDetailsForm
from web.pages.problems import Problem, by_field, choose_files_again, form_problems, problems_for
from web.pages.registry import page
from web.pages.recovery import recovery_notice_context
from web.pages.rendering import confirm, render_page
from web.uploads import held_bytes
from web.pipeline import Call

READ_SIZE = 64 * 1024
EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
# What the file chooser offers: photos (HEIC from iPhones too) and PDFs; vault.media decides by content.
ACCEPTED_FILES = "image/jpeg,image/png,image/webp,image/heic,image/heif,.heic,.heif,application/pdf"
# A paper is shown by the browser, never run: no script, no form, no plugin of its own, and an opaque
# origin where the browser applies the sandbox. Chromium (checked on Debian's 156) still shows a
# sandboxed PDF in its viewer, with its print and download buttons.
PAPER_POLICY = "sandbox; default-src 'none'; frame-ancestors 'none'"
FILE_FIELDS = ("file", "photo_front", "photo_back")


@dataclass(frozen=True)
class PaperCard:
    """A paper as the pages show it: its kind in words, its pictogram, where its expiry stands."""

    id: str
    kind: str
    kind_label: str
    pictogram: str
    title: str | None
    expiry: Expiry
    expires_on: date | None
    created_at: object
    pages: int
    size: int
    content_type: str
    has_thumbnail: bool = True
    added_by: Markup | None = None  # « Marie L. (Accueil de jour Les Lilas) » when a worker deposited it

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


def card_for(view: DocumentView, call: Call) -> PaperCard:
    kind = kind_for(view.kind)
    return PaperCard(id=view.id, kind=view.kind, kind_label=call.gettext(kind.label), pictogram=kind.pictogram,
                     title=view.title, expiry=expiry_at(view.expires_on, now=call.now),
                     expires_on=view.expires_on, created_at=view.created_at, pages=view.pages, size=view.size,
                     content_type=view.content_type, added_by=_added_by(view, call))


def _added_by(view: DocumentView, call: Call) -> Markup | None:
    """Who deposited the paper, each name isolated (<bdi>) so a Latin name keeps its order in Arabic."""
    if view.added_by is None:
        return None
    name = Markup("<bdi>{}</bdi>").format(view.added_by.name)
    if not view.added_by.organisation:
        return name
    organisation = Markup("<bdi>{}</bdi>").format(view.added_by.organisation)
    # The pattern is ours (translated); Markup's % escapes anything that is not already markup.
    return Markup(escape(call.gettext(WORKER_AT))) % {"name": name, "organisation": organisation}


# --- my papers ---------------------------------------------------------------------------------------------
@page("/papers")
def home(call: Call):
    if call.current.account.kind == "staff":
        # Staff keep no papers: their home is their work (web/pages/work.py), where a sign-in lands them.
        return redirect(url_for("pages.work"), code=303)
    page = document_service.list_documents(call.session, current=call.current, keys=call.services.keys,
                                           cursor=request.args.get("cursor") or None)
    papers = [card_for(view, call) for view in page.items]
    # Requests for papers are answered at the next sign-in: the home page says they are waiting.
    waiting = count_waiting(call.session, actor=call.current.actor)
    return render_page("papers/home.html", papers=papers, next_cursor=page.next_cursor,
                       first_page=not request.args.get("cursor"), waiting_requests=waiting,
                       recovery_notice=recovery_notice_context(call))


# --- add a paper -------------------------------------------------------------------------------------------
@dataclass
class PaperSent:
    """What the add-a-paper form sent, the files held in memory (never spooled to disk)."""

    files: list[UploadedFile]
    kind: str
    title: str | None
    expires_on: date | None


def paper_form(call: Call, template: str, **context) -> PaperSent | Response:
    """The add-a-paper form, shared by the person's « Add a paper » and a worker's deposit.

    On GET, or when something is missing or wrong, the form (again, with its problems in words); a
    service's refusal later in the request is answered the same way (``call.on_error``). Otherwise what
    was sent.
    """
    form = PaperDetailsForm()
    uploads = [upload for name in FILE_FIELDS for upload in request.files.getlist(name) if upload.filename]
    names = [upload.filename for upload in uploads]

    def again(problems: list[Problem], status: int = 422):
        if uploads and not any(problem.field == "file" for problem in problems):
            problems = [*problems, choose_files_again()]
        html = render_page(template, form=form, problems=problems, errors=by_field(problems), accept=ACCEPTED_FILES,
                           expiry=_date_parts(form), **context)
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
    return PaperSent(files=files, kind=form.kind.data, title=form.title.data or None, expires_on=expires_on)


@page("/papers/add", methods=("GET", "POST"))
def add_paper(call: Call):
    if not may_keep_papers(call.current.actor):
        return redirect(url_for("pages.work"), code=303)  # staff keep no papers (a deposit is /work/people/…)
    sent = paper_form(call, "papers/add.html")
    if isinstance(sent, Response):
        return sent
    view = document_service.add_document(call.uow, current=call.current, files=sent.files, kind=sent.kind,
                                         title=sent.title, expires_on=sent.expires_on,
                                         limits=call.services.settings.limits, now=call.now,
                                         gate=call.services.gates.media)
    confirm(N_("Your paper “%(kind)s” is saved. Only you can open it."), kind=view.kind)
    return redirect(url_for("pages.home"), code=303)


# --- one paper ---------------------------------------------------------------------------------------------
@page("/papers/<document_id>")
def paper(call: Call, document_id: str):
    view = document_service.get_document(call.session, current=call.current, document_id=document_id)
    return render_page("papers/paper.html", paper=card_for(view, call))


@page("/papers/<document_id>/thumbnail")
def paper_thumbnail(call: Call, document_id: str):
    reader = document_service.open_document_thumbnail(call.uow, current=call.current, document_id=document_id)
    return _stream_response(reader, "image/jpeg", disposition="inline", filename="thumbnail.jpg")


@page("/papers/<document_id>/see")
def see_paper(call: Call, document_id: str):
    """The paper shown by the browser (a picture, or a PDF in the browser's viewer)."""
    return serve_paper(call, document_id, inline=True)


@page("/papers/<document_id>/download")
def download_paper(call: Call, document_id: str):
    return serve_paper(call, document_id, inline=False)


def serve_paper(call: Call, document_id: str, *, inline: bool) -> Response:
    view, reader = document_service.open_document_content(call.uow, current=call.current, document_id=document_id,
                                                          now=call.now, inline=inline)
    filename = f"{view.kind}.{EXTENSIONS.get(view.content_type, 'bin')}"
    return _stream_response(reader, view.content_type, disposition="inline" if inline else "attachment",
                            filename=filename, size=view.size)


def _stream_response(reader, content_type: str, *, disposition: str, filename: str, size: int | None = None):
    def chunks():
        try:
            while chunk := reader.read(READ_SIZE):
                yield chunk
        finally:
            reader.close()

    headers = {
        "Content-Disposition": f"{disposition}; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}",
        "Content-Security-Policy": PAPER_POLICY,
        "X-Content-Type-Options": "nosniff",
        # A paper never stays in a shared computer's cache (the default for every answer, said again here).
        "Cache-Control": "no-store",
    }
    if size is not None:
        headers["Content-Length"] = str(size)
    return Response(stream_with_context(chunks()), mimetype=content_type, headers=headers)


# --- change the details --------------------------------------------------------------------------------------
@page("/papers/<document_id>/change", methods=("GET", "POST"))
def change_paper(call: Call, document_id: str):
    view = document_service.get_document(call.session, current=call.current, document_id=document_id)
    form = PaperDetailsForm()
    if request.method == "GET":
        form.kind.data, form.title.data = view.kind, view.title or ""
        if view.expires_on:
            form.expires_on_day.data = str(view.expires_on.day)
            form.expires_on_month.data = str(view.expires_on.month)
            form.expires_on_year.data = str(view.expires_on.year)

    def again(problems: list[Problem], status: int = 422):
        html = render_page("papers/change.html", form=form, paper=card_for(view, call), problems=problems,
                           errors=by_field(problems), expiry=_date_parts(form))
        return Response(html, status=status, mimetype="text/html")

    call.on_error = lambda error: again(problems_for(error))
    if request.method == "GET":
        return again([], status=200)
    if not form.validate_on_submit():
        return again(form_problems(form, order=["title", "kind"]))
    wanted = {"kind": form.kind.data, "title": document_service.check_title(form.title.data or None),
              "expires_on": _read_date(form)}
    changes = {name: value for name, value in wanted.items() if value != getattr(view, name)}
    if changes:
        updated = document_service.update_document(call.session, current=call.current, document_id=document_id,
                                                   changes=changes, now=call.now)
        confirm(N_("The details of your paper “%(kind)s” are saved."), kind=updated.kind)
    else:
        confirm(N_("Nothing was changed."))
    return redirect(url_for("pages.paper", document_id=document_id), code=303)


# --- delete ------------------------------------------------------------------------------------------------
@page("/papers/<document_id>/delete", methods=("GET", "POST"))
def delete_paper(call: Call, document_id: str):
    view = document_service.get_document(call.session, current=call.current, document_id=document_id)
    form = ConfirmForm()
    if request.method == "GET" or not form.validate_on_submit():
        return render_page("papers/delete.html", paper=card_for(view, call), form=form)
    document_service.delete_document(call.uow, current=call.current, document_id=document_id, now=call.now)
    confirm(N_("Your paper “%(kind)s” is deleted. Nobody can open it any more."), kind=view.kind)
    return redirect(url_for("pages.home"), code=303)


# --- dates in three boxes --------------------------------------------------------------------------------
def _date_parts(form: PaperDetailsForm) -> dict[str, str]:
    return {"day": form.expires_on_day.data or "", "month": form.expires_on_month.data or "",
            "year": form.expires_on_year.data or ""}


def _read_date(form: PaperDetailsForm) -> date | None:
    """None when the three boxes are empty; a real date when all three are; InvalidDate otherwise."""
    parts = [value.strip() for value in _date_parts(form).values()]
    if not any(parts):
        return None
    if not all(part.isdigit() for part in parts):
        raise InvalidDate(field="expires_on")
    day, month, year = (int(part) for part in parts)
    if not 1900 <= year <= 2200:
        raise InvalidDate(field="expires_on")
    try:
        return date(year, month, day)
    except ValueError:
        raise InvalidDate(field="expires_on") from None


def _no_files() -> VaultError:
    return UnsupportedFile(reason="no_files")
