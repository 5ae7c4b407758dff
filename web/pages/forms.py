"""The pages' forms (WTForms through Flask-WTF, which adds the CSRF token to each)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional


class SignInForm(FlaskForm):
    username = StringField(validators=[DataRequired(), Length(max=64)])
    password = PasswordField(validators=[DataRequired(), Length(max=1024)])
    otp = StringField(validators=[Optional(), Length(max=16)])
    recovery_code = StringField(validators=[Optional(), Length(max=64)])
