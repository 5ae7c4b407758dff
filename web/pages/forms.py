"""The pages' forms (WTForms through Flask-WTF, which adds the CSRF token to each)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import FieldList, PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional


class SignInForm(FlaskForm):
    username = StringField(validators=[DataRequired(), Length(max=64)])
    password = PasswordField(validators=[DataRequired(), Length(max=1024)])
    # Shown when the account is protected after too many tries: the password and one of these get in now.
    otp = StringField(validators=[Optional(), Length(max=16)])
    recovery_code = StringField(validators=[Optional(), Length(max=64)])


class SecondStepForm(FlaskForm):
    """The sign-in's second page: a code from the app, or one recovery code."""

    otp = StringField(validators=[Optional(), Length(max=16)])
    recovery_code = StringField(validators=[Optional(), Length(max=64)])


# --- the person's pages (enrolment, papers). Rules beyond "present and not absurdly long" live in the
# vault services, whose errors come back in words through call.on_error (web/pages/problems.py).
class EnrolForm(FlaskForm):
    username = StringField(validators=[DataRequired(), Length(max=64)])
    password = PasswordField(validators=[DataRequired(), Length(max=1024)])


class RecoverySheetForm(FlaskForm):
    """The codes come back from the page that showed them (POSTed, never in a URL) to print the sheet."""

    code = FieldList(StringField(validators=[Length(max=64)]), min_entries=0, max_entries=10)


class PaperDetailsForm(FlaskForm):
    """Kind, title and expiry date: the fields of a new paper and of « change the details »."""

    kind = StringField(validators=[DataRequired(), Length(max=40)])
    title = StringField(validators=[Optional(), Length(max=400)])
    expires_on_day = StringField(validators=[Optional(), Length(max=4)])
    expires_on_month = StringField(validators=[Optional(), Length(max=4)])
    expires_on_year = StringField(validators=[Optional(), Length(max=8)])


class ConfirmForm(FlaskForm):
    """A form whose only field is the CSRF token (delete, sign out)."""


# --- settings: every change asks for the current password again (vault/reauthentication.py) ----------
class CurrentPasswordForm(FlaskForm):
    current_password = PasswordField(validators=[DataRequired(), Length(max=1024)])


class NewPasswordForm(FlaskForm):
    current_password = PasswordField(validators=[DataRequired(), Length(max=1024)])
    new_password = PasswordField(validators=[DataRequired(), Length(max=1024)])


class TwoStepCodeForm(FlaskForm):
    """The first code from the app, which turns two-step sign-in on."""

    code = StringField(validators=[DataRequired(), Length(max=16)])
