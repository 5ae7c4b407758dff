"""Assisted recovery pages: the staff screen of a recovery in person, and the person's choice per organisation.

The staff screen, ``/work/recoveries`` (no JavaScript needed):
1. a staff member types the person's username, ticks « I checked this person's identity in person » and types
   their own password: the recovery starts, for 15 minutes;
2. a second staff member of the organisation confirms with their own sign-in, on the same screen after the
   first signs out, or on another computer: they tick « I checked this person's identity in person » and type
   their own password. One of the two is a manager;
3. on the manager's screen (the manager is one of the two), the person types their new password;
4. the new sheet prints on that screen (``/work/enrol/sheet``, the same check as after an enrolment).

An admin opening this page is one of the moments the organisation's recovery key is made or handed to
admins who lack it (``vault.assisted_recovery``).
"""

from __future__ import annotations

import math

from flask import Response, redirect, request, url_for
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from vault import accounts as account_service
from vault import assisted_recovery as assisted_service
from vault import recovery_in_person as recovery_service
from vault.errors import FollowNotFound, InvalidInput, OrganisationRequired, VaultError
from vault.i18n import N_
from vault.policies import Role, may_start_recovery, require
from web.pages.cookies import attempt_of
from web.pages.organisations import choose_organisation_page, organisation_for_page
from web.pages.problems import Problem, by_field, form_problems, problems_for, reauthentication_problems, translate
from web.pages.registry import page
from web.pages.rendering import confirm, render_page
from web.pages.work import AssistedSheetForm
from web.pipeline import Call

CHECK_IN_PERSON = N_("Tick the box: you checked this person's identity in person.")
TYPE_YOUR_PASSWORD = N_("Type your own password: the one you use to sign in.")
TYPE_THE_USERNAME = N_("Type the username of the person in front of you.")
TYPE_NEW_PASSWORD = N_("The person types their new password.")
RECOVERY_STARTED = N_("The recovery has started. Now another staff member confirms with their own sign-in.")
RECOVERY_CONFIRMED = N_("You confirmed. The manager finishes with the person on their screen.")
ASSISTED_ON = N_("%(organisation)s can now help you get back in.")
ASSISTED_OFF = N_("%(organisation)s can no longer help you get back in. Its copy of your key is destroyed.")


class StartRecoveryForm(FlaskForm):
    person = StringField(validators=[DataRequired(), Length(max=64)])
    checked = BooleanField(validators=[DataRequired()])  # each of the two says so, with their own sign-in
    password = PasswordField(validators=[DataRequired(), Length(max=1024)])


class ConfirmRecoveryForm(FlaskForm):
    checked = BooleanField(validators=[DataRequired()])
    password = PasswordField(validators=[DataRequired(), Length(max=1024)])


class CompleteRecoveryForm(FlaskForm):
    new_password = PasswordField(validators=[DataRequired(), Length(max=1024)])


class AssistedChoiceForm(FlaskForm):
    enabled = StringField(validators=[DataRequired(), Length(max=3)])
    current_password = PasswordField(validators=[DataRequired(), Length(max=1024)])


# --- the staff screen -----------------------------------------------------------------------------------------
@page("/work/recoveries", methods=("GET", "POST"))
def work_recoveries(call: Call):
    try:
        place = organisation_for_page(call)
    except OrganisationRequired:
        return choose_organisation_page(call, "pages.work_recoveries")
    require(may_start_recovery(call.current.actor, place.id))
    form = StartRecoveryForm()
    call.on_error = lambda error: _screen(call, place, start_form=form, problems=_problems(error, "password"))
    if request.method == "GET":
        return _screen(call, place, start_form=StartRecoveryForm(formdata=None), problems=[], status=200)
    if not form.validate_on_submit():
        problems = []
        if not (form.person.data or "").strip():
            problems.append(Problem("person", translate(TYPE_THE_USERNAME)))
        if not form.checked.data:
            problems.append(Problem("start-checked", translate(CHECK_IN_PERSON)))
        if not form.password.data:
            problems.append(Problem("password", translate(TYPE_YOUR_PASSWORD)))
        return _screen(call, place, start_form=form, problems=problems or form_problems(form, order=["password"]))
    recovery_service.start_recovery(call.session, keys=call.services.keys, attempt=attempt_of(call),
                                    current=call.current, organisation_id=place.id, person=form.person.data,
                                    password=form.password.data, now=call.now)
    confirm(RECOVERY_STARTED)
    return redirect(_here(place), code=303)


@page("/work/recoveries/<recovery_id>/confirm", methods=("POST",))
def work_recovery_confirm(call: Call, recovery_id: str):
    place = organisation_for_page(call)
    form = ConfirmRecoveryForm()
    field = f"confirm-{recovery_id}"
    call.on_error = lambda error: _screen(call, place, problems=_problems(error, f"{field}-password"))
    if not form.validate_on_submit():
        problems = []
        if not form.checked.data:
            problems.append(Problem(f"{field}-checked", translate(CHECK_IN_PERSON)))
        if not form.password.data:
            problems.append(Problem(f"{field}-password", translate(TYPE_YOUR_PASSWORD)))
        return _screen(call, place, problems=problems or [Problem(None, translate(VaultError.message))])
    recovery_service.confirm_recovery(call.session, keys=call.services.keys, attempt=attempt_of(call),
                                      current=call.current, recovery_id=recovery_id, password=form.password.data,
                                      now=call.now)
    confirm(RECOVERY_CONFIRMED)
    return redirect(_here(place), code=303)


@page("/work/recoveries/<recovery_id>/complete", methods=("POST",))
def work_recovery_complete(call: Call, recovery_id: str):
    """The new password typed by the person on the manager's screen; the answer shows the new codes once."""
    place = organisation_for_page(call)
    form = CompleteRecoveryForm()
    field = f"complete-{recovery_id}-password"
    call.on_error = lambda error: _screen(call, place, problems=problems_for(error, field_ids={"password": field,
                                                                                             "new_password": field}))
    if not form.validate_on_submit():
        return _screen(call, place, problems=[Problem(field, translate(TYPE_NEW_PASSWORD))])
    done = recovery_service.complete_recovery(call.session, keys=call.services.keys, current=call.current,
                                              recovery_id=recovery_id, new_password=form.new_password.data,
                                              now=call.now)
    html = render_page("staff/recovery_done.html", place=place, username=done.person.username,
                       codes=done.recovery_codes, sheet_form=AssistedSheetForm(formdata=None))
    return Response(html, status=201, mimetype="text/html")


def _screen(call: Call, place, *, problems: list[Problem], start_form=None, status: int = 422) -> Response:
    actor = call.current.actor
    views = recovery_service.open_recoveries(call.session, actor=actor, organisation_id=place.id, now=call.now)
    state = None
    if actor.role_in(place.id) is Role.ADMIN:
        state = assisted_service.keep_organisation_key(call.session, current=call.current, organisation_id=place.id,
                                                       now=call.now)
    me_admin = actor.role_in(place.id) is Role.ADMIN
    items = []
    for view in views:
        mine = view.started_by_id == call.current.id
        if not view.confirmed:
            step = "wait_other" if mine else ("confirm" if (me_admin or view.starter_is_admin) else "need_admin")
        else:
            in_pair = call.current.id in (view.started_by_id, view.confirmed_by_id)
            step = "complete" if in_pair and me_admin else "wait_admin"
        items.append({"view": view, "step": step,
                      "minutes": max(1, math.ceil((view.expires_at - call.now).total_seconds() / 60))})
    html = render_page("staff/recoveries.html", place=place, items=items, key_state=state, me_admin=me_admin,
                       start_form=start_form or StartRecoveryForm(formdata=None),
                       confirm_form=ConfirmRecoveryForm(formdata=None),
                       complete_form=CompleteRecoveryForm(formdata=None), problems=problems,
                       errors=by_field(problems), passphrase=account_service.suggest_passphrase(),
                       organisation_arg=request.args.get("organisation"))
    return Response(html, status=status, mimetype="text/html")


def _here(place) -> str:
    organisation = request.args.get("organisation")
    return url_for("pages.work_recoveries", **({"organisation": organisation} if organisation else {}))


def _problems(error: VaultError, password_field: str) -> list[Problem]:
    found = reauthentication_problems(error, field=password_field)
    if found is not None:
        return found
    return problems_for(error, field_ids={"person": "person"})


# --- the person's choice ------------------------------------------------------------------------------------------
@page("/settings/organisations/<organisation_id>/help", methods=("GET", "POST"))
def assisted_choice(call: Call, organisation_id: str):
    """Opt in or out of assisted recovery with one organisation that follows the person (needs the password)."""
    actor = call.current.actor
    if not actor.is_person:
        return redirect(url_for("pages.work"), code=303)
    choices = {item.organisation_id: item for item in assisted_service.assisted_choices(call.session, actor=actor)}
    choice = choices.get(organisation_id)
    if choice is None:
        raise FollowNotFound()
    form = AssistedChoiceForm()

    def again(problems: list[Problem], status: int = 422):
        html = render_page("settings/assisted_recovery.html", choice=choice, form=form, problems=problems,
                           errors=by_field(problems))
        return Response(html, status=status, mimetype="text/html")

    call.on_error = lambda error: again(reauthentication_problems(error) or problems_for(error))
    if request.method == "GET":
        return again([], status=200)
    if not form.validate_on_submit() or form.enabled.data not in ("on", "off"):
        if form.enabled.data not in ("on", "off"):
            raise InvalidInput(field="enabled")
        return again(form_problems(form, order=["current_password"]))
    enabled = form.enabled.data == "on"
    assisted_service.set_assisted_recovery(call.session, keys=call.services.keys, attempt=attempt_of(call),
                                           current=call.current, organisation_id=organisation_id, enabled=enabled,
                                           password=form.current_password.data, now=call.now)
    confirm(ASSISTED_ON if enabled else ASSISTED_OFF, organisation=choice.organisation)
    return redirect(url_for("pages.my_organisations"), code=303)


__all__ = ["assisted_choice", "work_recoveries", "work_recovery_complete", "work_recovery_confirm"]
