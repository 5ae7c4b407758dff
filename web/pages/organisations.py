"""Staff joining with an invitation, and the admins' pages: staff, invite, deactivate, purposes, counts.

Joining: the code, a username, the name people will read, a password → the QR code and key for the app
(shown in that answer only) with a box for the first code. Joining opens the sign-in's second step (a
pending session, five minutes), so that first code is typed into the ordinary second step: it proves the
app works and signs the new staff member in, on their way to the staff home.

An invitation code is shown once, big, with its expiry, in the answer to « invite » (never in a URL, never
in a notice cookie).
"""

from __future__ import annotations

import base64

from flask import Response, redirect, request, url_for
from flask_wtf import FlaskForm
from wtforms import FieldList, PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional

from vault import accounts as account_service
from vault import assisted_recovery
from vault import organisations as organisation_service
from vault import sessions as session_service
from vault.errors import InvalidInput, NotAllowed, OrganisationRequired, StaffNotFound
from vault.i18n import N_
from vault.models import Organisation
from vault.policies import Role
from vault.purposes import OTHER, PRESETS, check_purpose_choice
from vault.sessions import PENDING_SECOND_FACTOR_SECONDS
from web.pages.cookies import attempt_of, second_step_cookie_name, set_cookie
from web.pages.forms import ConfirmForm
from web.pages.problems import Problem, by_field, form_problems, problems_for, translate
from web.pages.registry import page
from web.pages.rendering import confirm, render_page
from web.pages.settings import SECRET_GROUP, ShownSetup
from web.pipeline import Call

STAFF_DEACTIVATED = N_("%(name)s can no longer sign in. Every paper shared with them has stopped at once.")
PURPOSES_SAVED = N_("The purposes are saved.")
INVITATION_MISSING = N_("Type the invitation code your organisation gave you.")
OTHER_TEXT_NEEDED = N_("For « Other », write the purpose in a few words (at most 200 characters).")


class JoinForm(FlaskForm):
    invitation = StringField(validators=[DataRequired(), Length(max=64)])
    username = StringField(validators=[DataRequired(), Length(max=64)])
    display_name = StringField(validators=[Optional(), Length(max=200)])
    password = PasswordField(validators=[DataRequired(), Length(max=1024)])


class InviteForm(FlaskForm):
    role = StringField(validators=[DataRequired(), Length(max=16)])


class PurposesForm(FlaskForm):
    purpose = FieldList(StringField(validators=[Length(max=40)]), min_entries=0, max_entries=len(PRESETS))
    other_text = StringField(validators=[Optional(), Length(max=400)])


def organisation_for_page(call: Call) -> Organisation:
    """The organisation this page acts for: ``?organisation=``, or the only one (see acting_organisation)."""
    return organisation_service.acting_organisation(call.session, call.current.actor,
                                                    request.args.get("organisation") or None)


def choose_organisation_page(call: Call, target: str) -> Response:
    """For staff of several organisations: which one, as links (no dead end)."""
    ids = list(call.current.actor.memberships)
    places = sorted((call.session.get(Organisation, id_) for id_ in ids), key=lambda place: place.name)
    html = render_page("staff/choose_organisation.html", places=places, target=target)
    return Response(html, mimetype="text/html")


def _shown_setup(setup) -> ShownSetup:
    return ShownSetup(qr_code="data:image/svg+xml;base64," + base64.b64encode(setup.qr_svg.encode()).decode(),
                      secret_groups=[setup.secret[start:start + SECRET_GROUP]
                                     for start in range(0, len(setup.secret), SECRET_GROUP)])


# --- joining -------------------------------------------------------------------------------------------------
@page("/staff/join", methods=("GET", "POST"), auth="none")
def staff_join(call: Call):
    form = JoinForm()
    if request.method == "GET" and request.args.get("code"):
        form.invitation.data = None  # a code never travels in a URL: typed only

    def again(problems, status=422):
        html = render_page("staff/join.html", form=form, problems=problems, errors=by_field(problems))
        return Response(html, status=status, mimetype="text/html")

    call.on_error = lambda error: again(problems_for(error, suggestion=account_service.suggest_username(call.session)))
    if not form.validate_on_submit():
        if request.method == "POST":
            problems = form_problems(form, order=["invitation", "username", "password"])
            return again([Problem("invitation", translate(INVITATION_MISSING)) if problem.field == "invitation"
                          else problem for problem in problems])
        return again([], status=200)
    joined = organisation_service.redeem_invitation(
        call.session, keys=call.services.keys, attempt=attempt_of(call), code=form.invitation.data,
        username=form.username.data, password=form.password.data, display_name=form.display_name.data or None,
        now=call.now)
    token, _row = session_service.open_pending_session(call.session, joined.account, joined.identity, now=call.now)
    html = render_page("staff/join_app.html", setup=_shown_setup(joined.otp), organisation=joined.organisation.name,
                       username=joined.account.username, form=ConfirmForm(formdata=None),
                       minutes=PENDING_SECOND_FACTOR_SECONDS // 60)
    response = Response(html, status=201, mimetype="text/html")
    settings = call.services.settings
    set_cookie(response, settings, second_step_cookie_name(settings), token, max_age=PENDING_SECOND_FACTOR_SECONDS)
    return response


# --- the admins' pages -----------------------------------------------------------------------------------------
@page("/organisation")
def organisation_home(call: Call):
    try:
        place = organisation_for_page(call)
    except OrganisationRequired:
        return choose_organisation_page(call, "pages.organisation_home")
    members = organisation_service.list_staff(call.session, actor=call.current.actor, organisation_id=place.id)
    # An admin's visit is one of the moments the recovery key is made or handed to admins who lack it.
    assisted_recovery.keep_organisation_key(call.session, current=call.current, organisation_id=place.id, now=call.now)
    counts = organisation_service.organisation_counts(call.session, actor=call.current.actor,
                                                      organisation_id=place.id, now=call.now)
    purposes = organisation_service.organisation_purposes(call.session, actor=call.current.actor,
                                                          organisation_id=place.id)
    return render_page("organisation/home.html", place=place, members=members, counts=counts,
                       purposes=[(choice.label(call.gettext), _pictogram_of(choice.code)) for choice in purposes],
                       invite_form=InviteForm(formdata=None), me=call.current.account.id,
                       roles=[("worker", call.gettext(N_("Worker")), "users"),
                              ("admin", call.gettext(N_("Admin")), "shield-check")])


@page("/organisation/invite", methods=("POST",))
def organisation_invite(call: Call):
    """The code in this answer only: big, with its expiry, never in a URL or a notice."""
    form = InviteForm()
    place = organisation_for_page(call)
    if not form.validate_on_submit():
        raise InvalidInput(field="role")
    issued = organisation_service.invite(call.session, actor=call.current.actor, keys=call.services.keys,
                                         organisation_id=place.id, role=form.role.data, now=call.now)
    html = render_page("organisation/invited.html", place=place, code=issued.code, role=issued.role,
                       expires_at=issued.expires_at)
    return Response(html, status=201, mimetype="text/html")


@page("/organisation/staff/<staff_id>/deactivate", methods=("GET", "POST"))
def organisation_deactivate(call: Call, staff_id: str):
    place = organisation_for_page(call)
    members = {member.id: member for member in organisation_service.list_staff(
        call.session, actor=call.current.actor, organisation_id=place.id) if member.active}
    member = members.get(staff_id)
    if member is None:
        raise StaffNotFound()
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        organisation_service.deactivate_staff(call.session, actor=call.current.actor, organisation_id=place.id,
                                              staff_id=staff_id, now=call.now,
                                              identity=call.current.identity)
        confirm(STAFF_DEACTIVATED, name=member.name)
        return redirect(url_for("pages.organisation_home", **_keep_organisation()), code=303)
    return render_page("organisation/deactivate.html", place=place, member=member, form=form)


@page("/organisation/purposes", methods=("GET", "POST"))
def organisation_purposes(call: Call):
    place = organisation_for_page(call)
    actor = call.current.actor
    form = PurposesForm()
    registered = organisation_service.organisation_purposes(call.session, actor=actor, organisation_id=place.id)
    if not (actor.role_in(place.id) is Role.ADMIN):
        raise NotAllowed()

    def again(problems, status=422, checked=None, other_text=None):
        html = render_page("organisation/purposes.html", place=place, form=form, problems=problems,
                           errors=by_field(problems), presets=[
                               (preset.code, call.gettext(preset.label), preset.pictogram) for preset in PRESETS],
                           checked=checked, other_text=other_text)
        return Response(html, status=status, mimetype="text/html")

    if request.method == "GET" or not form.validate_on_submit():
        checked = {choice.code for choice in registered}
        other = next((choice.text for choice in registered if choice.code == OTHER), "")
        if request.method == "POST":
            return again(form_problems(form, order=["purpose", "other_text"]))
        return again([], status=200, checked=checked, other_text=other)
    codes = [entry.data for entry in form.purpose.entries if entry.data]
    call.on_error = lambda error: again([Problem("other_text", translate(OTHER_TEXT_NEEDED))], checked=set(codes),
                                        other_text=form.other_text.data)
    choices = [check_purpose_choice(code, form.other_text.data if code == OTHER else None) for code in codes]
    organisation_service.set_purposes(call.session, actor=actor, organisation_id=place.id, choices=choices,
                                      now=call.now)
    confirm(PURPOSES_SAVED)
    return redirect(url_for("pages.organisation_home", **_keep_organisation()), code=303)


def _keep_organisation() -> dict:
    chosen = request.args.get("organisation")
    return {"organisation": chosen} if chosen else {}


def _pictogram_of(code: str) -> str:
    return next((preset.pictogram for preset in PRESETS if preset.code == code), "file")
