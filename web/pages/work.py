"""The staff home and the assisted enrolment side by side, and the person's page of organisations.

Assisted enrolment, side by side (on the worker's screen, the worker signed in):
- the person types their own username choice and password, and ticks the follow box themselves (the
  worker never ticks consent for anyone; the box is unticked on every new page);
- the answer shows the person's recovery codes, once, with the sheet to print. No session is opened for
  the person on the worker's screen: the worker stays signed in as themselves, the person signs in later
  on their own device;
- the sheet is printed from the codes the page posts back (never a URL). The server checks they are
  exactly unused codes of an account this very worker enrolled, or let back in (assisted recovery,
  web/pages/recoveries.py), within the hour, so the worker's session cannot print anyone else's sheet. The codes are kept nowhere: once the worker leaves the page (« Done »),
  the worker's session has no way to see them again.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Response, redirect, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, FieldList, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from vault import accounts as account_service
from vault import assisted_recovery as assisted_service
from vault import follows as follow_service
from vault.errors import InvalidInput, NotAllowed, OrganisationRequired, VaultError
from vault.i18n import N_
from vault.models import Account, Event
from vault.policies import may_enrol_for, require
from vault.sheets import render_recovery_sheet
from web.pages.cookies import attempt_of
from web.pages.enrolment import SHEET_FILE_NAME
from web.pages.forms import ConfirmForm
from web.pages.organisations import choose_organisation_page, organisation_for_page
from web.pages.problems import Problem, by_field, form_problems, problems_for, translate
from web.pages.registry import page
from web.pages.rendering import confirm, render_page
from web.pipeline import Call

# How long after an assisted enrolment its worker may still print the person's sheet.
SHEET_WINDOW = timedelta(hours=1)
ASSISTED_NEEDS_FOLLOW = N_("To be helped back in by %(organisation)s, also tick « Be followed by "
                           "%(organisation)s ».")
FOLLOW_STARTED = N_("%(organisation)s now follows you.")
FOLLOW_ENDED = N_("%(organisation)s no longer follows you. The papers you shared stay shared until you end "
                  "each share.")


class AssistedEnrolForm(FlaskForm):
    username = StringField(validators=[DataRequired(), Length(max=64)])
    password = PasswordField(validators=[DataRequired(), Length(max=1024)])
    follow = BooleanField()
    assisted = BooleanField()  # assisted recovery with this organisation: only with the follow


class AssistedSheetForm(FlaskForm):
    username = StringField(validators=[DataRequired(), Length(max=64)])
    code = FieldList(StringField(validators=[Length(max=64)]), min_entries=0, max_entries=10)


class FollowForm(FlaskForm):
    organisation = StringField(validators=[DataRequired(), Length(max=36)])


# --- the staff home ---------------------------------------------------------------------------------------------
@page("/work")
def work(call: Call):
    if not call.current.actor.is_staff:
        return redirect(url_for("pages.home"), code=303)
    try:
        place = organisation_for_page(call)
    except OrganisationRequired:
        return choose_organisation_page(call, "pages.work")
    followers = follow_service.list_followers(call.session, actor=call.current.actor, organisation_id=place.id)
    return render_page("staff/work.html", place=place, followers=followers)


# --- assisted enrolment, side by side ----------------------------------------------------------------------------
@page("/work/enrol", methods=("GET", "POST"))
def work_enrol(call: Call):
    try:
        place = organisation_for_page(call)
    except OrganisationRequired:
        return choose_organisation_page(call, "pages.work_enrol")
    require(may_enrol_for(call.current.actor, place.id))
    form = AssistedEnrolForm()
    suggestion = account_service.suggest_username(call.session)
    if request.method == "GET":
        form.username.data = suggestion
        form.follow.data = False
        form.assisted.data = False

    def again(problems, status=422):
        form.follow.data = False  # consent is ticked again by the person, never carried over
        form.assisted.data = False
        html = render_page("staff/enrol.html", form=form, place=place, problems=problems, errors=by_field(problems),
                           passphrase=account_service.suggest_passphrase(),
                           assisted_possible=place.recovery_public_key is not None)
        return Response(html, status=status, mimetype="text/html")

    call.on_error = lambda error: again(problems_for(error, suggestion=suggestion))
    if not form.validate_on_submit():
        if request.method == "POST":
            return again(form_problems(form, order=["username", "password"]))
        return again([], status=200)
    if form.assisted.data and not form.follow.data:
        return again([Problem("assisted", translate(ASSISTED_NEEDS_FOLLOW, organisation=place.name))])
    enrolment = account_service.enrol_person(
        call.session, keys=call.services.keys, username=form.username.data, password=form.password.data,
        now=call.now, assisted_by=call.current.account, organisation_id=place.id,
        follow_organisation=bool(form.follow.data), attempt=attempt_of(call))
    if form.assisted.data:
        # The person just chose their password: their identity is in hand, no second ask.
        assisted_service.opt_in_at_enrolment(call.session, person=enrolment.account, identity=enrolment.identity,
                                             organisation_id=place.id, now=call.now)
    # Shown in this answer only. No session for the person is opened here.
    html = render_page("staff/enrol_codes.html", place=place, username=enrolment.account.username,
                       codes=enrolment.recovery_codes, followed=bool(form.follow.data),
                       assisted=bool(form.assisted.data),
                       sheet_form=AssistedSheetForm(formdata=None))
    return Response(html, status=201, mimetype="text/html")


@page("/work/enrol/sheet", methods=("POST",))
def work_enrol_sheet(call: Call):
    """The person's recovery sheet, printed on the worker's screen right after the assisted enrolment."""
    form = AssistedSheetForm()
    if not call.current.actor.is_staff:
        raise NotAllowed()
    codes = [entry.data for entry in form.code.entries if entry.data] if form.validate_on_submit() else []
    person = call.session.scalar(select(Account).where(Account.username == (form.username.data or "").strip().lower(),
                                                       Account.kind == "person")) if codes else None
    if person is None or not _helped_by(call, person) or not account_service.current_codes_match(
            call.session, keys=call.services.keys, account=person, codes=codes):
        raise InvalidInput(field="recovery_codes")
    pdf = render_recovery_sheet(username=person.username, sign_in_url=call.services.settings.base_url,
                                recovery_codes=codes, issued_on=call.now.date(), language=call.language,
                                translator=call.services.translator, helped_by=_helping_organisation(call))
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{SHEET_FILE_NAME}"'})


def _helping_organisation(call: Call) -> str | None:
    """The name of the organisation the worker acts for, printed on the sheet as « who helped »; None when
    the worker belongs to several and the page did not say which (the sheet is printed all the same)."""
    try:
        return organisation_for_page(call).name
    except VaultError:
        return None


def _helped_by(call: Call, person: Account) -> bool:
    """True when this staff member enrolled ``person`` side by side, or finished their assisted recovery,
    within ``SHEET_WINDOW``: the only two moments a staff screen prints a person's sheet."""
    return call.session.scalar(select(Event.id).where(
        Event.subject_id == person.id, Event.action.in_(("account.created", "assisted_recovery.completed")),
        Event.actor_id == call.current.account.id, Event.at >= call.now - SHEET_WINDOW).limit(1)) is not None


# --- the person's organisations -------------------------------------------------------------------------------
@page("/settings/organisations")
def my_organisations(call: Call):
    actor = call.current.actor
    if not actor.is_person:
        return redirect(url_for("pages.work"), code=303)
    follows = follow_service.list_follows(call.session, actor=actor)
    following = {item.organisation_id for item in follows}
    others = [item for item in follow_service.list_organisations(call.session, actor=actor) if item.id not in following]
    assisted = {item.organisation_id: item for item in assisted_service.assisted_choices(call.session, actor=actor)}
    return render_page("settings/organisations.html", follows=follows, others=others, form=ConfirmForm(formdata=None),
                       assisted=assisted)


@page("/settings/organisations/follow", methods=("POST",))
def start_follow(call: Call):
    form = FollowForm()
    if not form.validate_on_submit():
        raise InvalidInput(field="organisation")
    follow = follow_service.start_follow(call.session, actor=call.current.actor,
                                         organisation_id=form.organisation.data, now=call.now)
    confirm(FOLLOW_STARTED, organisation=follow.organisation)
    return redirect(url_for("pages.my_organisations"), code=303)


@page("/settings/organisations/<follow_id>/end", methods=("POST",))
def end_follow(call: Call, follow_id: str):
    form = ConfirmForm()
    if not form.validate_on_submit():
        raise InvalidInput()
    names = {item.id: item.organisation for item in follow_service.list_follows(call.session, actor=call.current.actor)}
    follow_service.end_follow(call.session, actor=call.current.actor, follow_id=follow_id, now=call.now)
    confirm(FOLLOW_ENDED, organisation=names.get(follow_id, ""))
    return redirect(url_for("pages.my_organisations"), code=303)
