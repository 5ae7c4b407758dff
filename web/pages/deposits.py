"""The worker's « Déposer un papier »: a newly issued paper into the locker of a person who follows us.

The same fields and components as the person's « Add a paper » (papers/fields.html) and the same vault
path (vault/deposits.py → vault/documents.store_new_document). The form says, before anything is sent,
that the worker will not be able to open the paper; the page after says it again. Every refusal about
the person (no such username, not following) is the same "not found" page, for the form as for the post.
"""

from __future__ import annotations

from flask import Response, redirect, url_for

from vault import deposits as deposit_service
from vault.i18n import N_
# The same form as « Add a paper »: fields, date boxes, the "no file" refusal, errors in words.
from web.pages.papers import paper_form
from web.pages.registry import page
from web.pages.rendering import confirm, render_page
from web.pipeline import Call

DEPOSITED = N_("The paper “%(kind)s” is deposited. Only the person can open it: you cannot.")


@page("/work/people/<username>/deposit", methods=("GET", "POST"))
def deposit_paper(call: Call, username: str):
    # Checked first, for the form as for the post: a worker sees the form only for a person they may reach.
    username = deposit_service.deposit_target(call.uow, current=call.current, username=username)
    sent = paper_form(call, "papers/deposit.html", username=username, back_href=url_for("pages.work"))
    if isinstance(sent, Response):
        return sent
    receipt = deposit_service.deposit_document(call.uow, current=call.current, username=username, files=sent.files,
                                               kind=sent.kind, title=sent.title,
                                               expires_on=sent.expires_on, limits=call.services.settings.limits,
                                               now=call.now, gate=call.services.gates.media)
    confirm(DEPOSITED, kind=receipt.kind)
    # Not back to the form's own address: the upload script tells success from a redirect elsewhere.
    return redirect(url_for("pages.paper_deposited", username=username), code=303)


@page("/work/people/<username>/added")
def paper_deposited(call: Call, username: str):
    username = deposit_service.deposit_target(call.uow, current=call.current, username=username)
    return render_page("papers/deposited.html", username=username, back_href=url_for("pages.work"))
