from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    PasswordField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from cacnet.accounts.forms import REQUIRED
from cacnet.core.forms import plain_text, strip


class StatementDraftForm(FlaskForm):
    title_en = StringField(
        _l("Title in English"),
        validators=[DataRequired(REQUIRED), Length(max=300)],
        filters=[strip],
    )
    body_en = TextAreaField(
        _l("Text in English"),
        validators=[DataRequired(REQUIRED), Length(max=20_000)],
        description=_l("Markdown: paragraphs, numbered lists, **bold**, *italic*."),
        render_kw={"rows": 16},
    )
    title_ko = StringField(
        _l("Title in Korean"), validators=[DataRequired(REQUIRED), Length(max=300)], filters=[strip]
    )
    body_ko = TextAreaField(
        _l("Text in Korean"),
        validators=[DataRequired(REQUIRED), Length(max=20_000)],
        render_kw={"rows": 16},
    )
    note = TextAreaField(
        _l("Note on this version (public)"),
        validators=[Optional(), Length(max=2000)],
        render_kw={"rows": 3},
    )


class EndorsementForm(FlaskForm):
    signatory_name = StringField(
        _l("Name of the signatory"),
        validators=[DataRequired(REQUIRED), Length(max=200), plain_text],
        filters=[strip],
    )
    signatory_title = StringField(
        _l("Title of the signatory"),
        validators=[DataRequired(REQUIRED), Length(max=200), plain_text],
        filters=[strip],
        description=_l("For example: Mayor of Seoul."),
    )
    place = StringField(
        _l("Place of signing"),
        validators=[DataRequired(REQUIRED), Length(max=200), plain_text],
        filters=[strip],
    )
    signed_on = DateField(_l("Date of signing"), validators=[InputRequired(REQUIRED)])
    signature = HiddenField()
    typed_signature = StringField(
        _l("Or type your name to sign"),
        validators=[Optional(), Length(max=80), plain_text],
        filters=[strip],
        description=_l("Leave empty if you drew your signature above."),
    )
    authorised = BooleanField(
        _l("I am authorised to commit my city to this Statement."),
        validators=[DataRequired(_l("Confirm that you are authorised to commit your city."))],
    )
    password = PasswordField(
        _l("Your password, to confirm it is you"),
        validators=[InputRequired(REQUIRED), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )
    # Shown (and required by the service) only when the signatory has a second factor.
    code = StringField(
        _l("Code from your authenticator app, or a recovery code"),
        validators=[Optional(), Length(max=32)],
        filters=[strip],
        render_kw={
            "autocomplete": "one-time-code",
            "autocapitalize": "none",
            "spellcheck": "false",
        },
    )


class EndorsementDecisionForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)], filters=[strip])
