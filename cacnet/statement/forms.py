from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from cacnet.accounts.forms import REQUIRED
from cacnet.core.forms import strip


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
