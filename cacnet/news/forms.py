"""Forms of the news, and the labels of their choices."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from cacnet.core.forms import plain_text, strip
from cacnet.news.models import NewsCategory, NewsState, NewsVisibility

CATEGORY_LABELS = {
    NewsCategory.NEWS: lazy_pgettext("news category", "News"),
    NewsCategory.ANNOUNCEMENT: _l("Announcement"),
    NewsCategory.CHAIR_NOTE: _l("Note from the chair"),
}
VISIBILITY_LABELS = {
    NewsVisibility.PUBLIC: _l("Everyone (public)"),
    NewsVisibility.MEMBERS: _l("Members only: delegates of member cities and the secretariat"),
}
STATE_LABELS = {
    NewsState.DRAFT: lazy_pgettext("news", "draft"),
    NewsState.SUBMITTED: _l("awaiting moderation"),
    NewsState.PUBLISHED: lazy_pgettext("news", "published"),
    NewsState.REJECTED: lazy_pgettext("news", "rejected"),
    NewsState.WITHDRAWN: lazy_pgettext("news", "withdrawn"),
}

MARKDOWN_HINT = _l(
    "Markdown: **bold**, *italic*, lists, links such as [text](https://…). HTML is not shown."
)


class NewsForm(FlaskForm):
    title_en = StringField(_l("Title in English"), validators=[Length(max=200), plain_text],
                           filters=[strip])  # fmt: skip
    title_ko = StringField(_l("Title in Korean"), validators=[Length(max=200), plain_text],
                           filters=[strip], render_kw={"lang": "ko"})  # fmt: skip
    summary_en = TextAreaField(_l("Summary in English (optional, plain text)"),
                               validators=[Length(max=1000), plain_text], filters=[strip],
                               render_kw={"rows": 3})  # fmt: skip
    summary_ko = TextAreaField(_l("Summary in Korean (optional, plain text)"),
                               validators=[Length(max=1000), plain_text], filters=[strip],
                               render_kw={"rows": 3, "lang": "ko"})  # fmt: skip
    body_en = TextAreaField(_l("Text in English"), validators=[Length(max=50000)],
                            description=MARKDOWN_HINT, render_kw={"rows": 12})  # fmt: skip
    body_ko = TextAreaField(_l("Text in Korean"), validators=[Length(max=50000)],
                            description=MARKDOWN_HINT, render_kw={"rows": 12, "lang": "ko"})  # fmt: skip
    category = SelectField(_l("Category"), validators=[DataRequired()])
    visibility = RadioField(
        _l("Who may read it"),
        choices=[(v.value, label) for v, label in VISIBILITY_LABELS.items()],
        default=NewsVisibility.PUBLIC.value,
        validators=[DataRequired()],
    )
    city_id = SelectField(
        _l("City (for a member city's story)"), coerce=int, validators=[Optional()]
    )
    image = FileField(_l("Image (optional: PNG, JPEG or WebP, at most 5 MB)"))
    image_alt_en = StringField(_l("Image description in English (alt text)"),
                               validators=[Length(max=300), plain_text], filters=[strip],
                               description=_l("Required with an image: what it shows, for "
                                              "people who cannot see it."))  # fmt: skip
    image_alt_ko = StringField(_l("Image description in Korean (alt text)"),
                               validators=[Length(max=300), plain_text], filters=[strip],
                               render_kw={"lang": "ko"})  # fmt: skip
    remove_image = BooleanField(_l("Remove the current image"))


class RejectForm(FlaskForm):
    reason = TextAreaField(
        _l("Why it is not published (sent to the author)"),
        validators=[DataRequired(message=_l("Say why the story is not published.")),
                    Length(max=2000), plain_text],
        filters=[strip],
        render_kw={"rows": 3},
    )  # fmt: skip


class ActionForm(FlaskForm):
    """A button that changes an item (approve, submit, withdraw): only the CSRF token."""


class DigestForm(FlaskForm):
    weekly = BooleanField(_l("Send me the weekly news digest by e-mail"))
