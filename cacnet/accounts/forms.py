from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length

from cacnet.core.forms import email_field, plain_text, strip
from cacnet.core.security import MAX_PASSWORD_LENGTH

REQUIRED = _l("This field is required.")
TOO_LONG = _l("Use at most %(max)d characters.")


def new_password_fields():
    password = PasswordField(
        _l("New password"),
        validators=[InputRequired(REQUIRED), Length(max=MAX_PASSWORD_LENGTH, message=TOO_LONG)],
        description=_l("At least 12 characters. A few unrelated words make a strong password."),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[
            InputRequired(REQUIRED),
            EqualTo("password", _l("The passwords do not match.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    return password, confirm


def name_field(label=None, required=True):
    validators = [Length(max=200), plain_text]
    if required:
        validators.insert(0, DataRequired(REQUIRED))
    return StringField(label or _l("Your name"), validators=validators, filters=[strip])


class LoginForm(FlaskForm):
    email = email_field(_l("E-mail address"), autocomplete="username")
    password = PasswordField(
        _l("Password"),
        validators=[InputRequired(REQUIRED), Length(max=MAX_PASSWORD_LENGTH, message=TOO_LONG)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Keep me signed in on this device"))
    next = HiddenField()


class PasswordResetRequestForm(FlaskForm):
    email = email_field(_l("E-mail address"))


class PasswordResetForm(FlaskForm):
    password, confirm = new_password_fields()


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[InputRequired(REQUIRED), Length(max=MAX_PASSWORD_LENGTH, message=TOO_LONG)],
        render_kw={"autocomplete": "current-password"},
    )
    password, confirm = new_password_fields()


class ProfileForm(FlaskForm):
    name = name_field()
    title = name_field(_l("Title or position"), required=False)
    locale = SelectField(
        _l("Language of pages and e-mails"), choices=[("en", "English"), ("ko", "한국어")]
    )


class InvitationCreateForm(FlaskForm):
    email = email_field(_l("Colleague's e-mail address"))
    role = SelectField(
        _l("Role"),
        choices=[("delegate", _l("Delegate")), ("city_admin", _l("City administrator"))],
        default="delegate",
    )
    locale = SelectField(
        _l("Language of the invitation"), choices=[("en", "English"), ("ko", "한국어")]
    )


class InvitationAcceptForm(FlaskForm):
    name = name_field()
    title = name_field(_l("Title or position"), required=False)
    password, confirm = new_password_fields()


class ConfirmForm(FlaskForm):
    """A button and its CSRF token: for actions that must be a POST."""


class SignatoryGrantForm(FlaskForm):
    evidence = StringField(
        _l("Evidence of authority (letter, title)"),
        validators=[DataRequired(REQUIRED), Length(max=1000), plain_text],
        filters=[strip],
    )


class ReasonForm(FlaskForm):
    reason = StringField(
        _l("Reason"), validators=[DataRequired(REQUIRED), Length(max=2000)], filters=[strip]
    )


def code_field(label=None):
    return StringField(
        label or _l("Code from your authenticator app, or a recovery code"),
        validators=[InputRequired(REQUIRED), Length(max=32, message=TOO_LONG)],
        filters=[strip],
        render_kw={
            "autocomplete": "one-time-code",
            "autocapitalize": "none",
            "spellcheck": "false",
        },
    )


class TwoFactorForm(FlaskForm):
    """The second step of signing in."""

    code = code_field()


class TwoFactorSetupForm(FlaskForm):
    code = code_field(_l("The six-digit code your app shows now"))


class TwoFactorCodeForm(FlaskForm):
    """A change that needs a current code (new recovery codes)."""

    code = code_field()


class TwoFactorDisableForm(FlaskForm):
    password = PasswordField(
        _l("Your password"),
        validators=[InputRequired(REQUIRED), Length(max=MAX_PASSWORD_LENGTH, message=TOO_LONG)],
        render_kw={"autocomplete": "current-password"},
    )
    code = code_field()


class ApiTokenCreateForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(REQUIRED), Length(max=100, message=TOO_LONG), plain_text],
        filters=[strip],
        description=_l("What the token is for, so that you recognise it later."),
    )
    scope = SelectField(
        _l("Access"),
        choices=[
            ("read", _l("Read only")),
            ("write", _l("Read, and post and answer in the resource exchange for your city")),
        ],
        default="read",
    )
    expires = SelectField(
        _l("Expires after"),
        coerce=int,
        choices=[(days, _l("%(num)d days", num=days)) for days in (30, 90, 180, 365)],
        default=90,
    )
