"""The pages' forms (WTForms through Flask-WTF, which adds the CSRF token to each)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
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
