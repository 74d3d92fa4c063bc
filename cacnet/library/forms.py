"""Forms of the countermeasure library."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from cacnet.accounts.forms import REQUIRED
from cacnet.core.forms import http_url, plain_text, strip
from cacnet.library.models import CaseVisibility
from cacnet.library.services import MAX_BODY, MAX_RESULTS, MAX_SUMMARY, MAX_TITLE, MAX_URL

VISIBILITY_LABELS = {
    CaseVisibility.PUBLIC: _l("Public: anyone can read it"),
    CaseVisibility.MEMBERS: _l("Members only: delegates of member cities and the secretariat"),
}
MARKDOWN_HINT = _l("Markdown: *emphasis*, lists, [links](https://…). No HTML.")
SORT_LABELS = {
    "newest": _l("Start date, newest first"),
    "oldest": _l("Start date, oldest first"),
    "published": _l("Publication, newest first"),
    "published-oldest": _l("Publication, oldest first"),
}


def _title(label):
    return StringField(label, validators=[Optional(), Length(max=MAX_TITLE), plain_text],
                       filters=[strip])  # fmt: skip


def _text(label, limit, rows=4, description=None):
    return TextAreaField(label, validators=[Optional(), Length(max=limit)], filters=[strip],
                         description=description, render_kw={"rows": rows})  # fmt: skip


class CaseForm(FlaskForm):
    city_id = SelectField(_l("City"), coerce=int, validators=[Optional()])
    area_id = SelectField(_l("Area"), validators=[DataRequired(message=REQUIRED)])
    title_en = _title(_l("Title in English"))
    title_ko = _title(_l("Title in Korean"))
    summary_en = _text(_l("Summary in English"), MAX_SUMMARY, 3)
    summary_ko = _text(_l("Summary in Korean"), MAX_SUMMARY, 3)
    body_en = _text(_l("Description in English"), MAX_BODY, 8, MARKDOWN_HINT)
    body_ko = _text(_l("Description in Korean"), MAX_BODY, 8, MARKDOWN_HINT)
    results_en = _text(_l("Results in English"), MAX_RESULTS, 4, MARKDOWN_HINT)
    results_ko = _text(_l("Results in Korean"), MAX_RESULTS, 4, MARKDOWN_HINT)
    started_on = DateField(_l("Started on"), validators=[InputRequired(message=REQUIRED)])
    ended_on = DateField(_l("Ended on (optional)"), validators=[Optional()],
                         description=_l("Leave empty while the measure goes on."))  # fmt: skip
    visibility = RadioField(
        _l("Who may read it"),
        choices=[(v.value, label) for v, label in VISIBILITY_LABELS.items()],
        default=CaseVisibility.PUBLIC.value,
        validators=[InputRequired(message=REQUIRED)],
    )


class AttachmentForm(FlaskForm):
    file = FileField(
        _l("File"),
        description=_l("A PDF document or a PNG, JPEG or WebP image, at most 10 MB."),
        render_kw={"accept": "application/pdf,image/png,image/jpeg,image/webp"},
    )


class LinkForm(FlaskForm):
    title = StringField(_l("Link title"), filters=[strip],
                        validators=[DataRequired(message=REQUIRED), Length(max=MAX_TITLE),
                                    plain_text])  # fmt: skip
    url = StringField(_l("Web address"), filters=[strip],
                      validators=[DataRequired(message=REQUIRED), Length(max=MAX_URL), http_url],
                      render_kw={"type": "url", "inputmode": "url"})  # fmt: skip


class ActionForm(FlaskForm):
    """Only the CSRF token: publish, unpublish, remove."""
