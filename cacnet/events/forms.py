"""The secretariat's event form, the viewer's time-zone choice, and the filters."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, Length, Optional

from cacnet.core.forms import CachedSelect, http_url, plain_text, strip

KIND_LABELS = {
    "summit": _l("Summit"),
    "session": _l("Session"),
    "webinar": _l("Webinar"),
    "meeting": _l("Meeting"),
}
STATE_LABELS = {
    "draft": _l("Draft"),
    "published": _l("Published"),
    "cancelled": _l("Cancelled"),
}
VISIBILITY_LABELS = {
    "public": _l("Public"),
    "members": _l("Members only"),
}


class EventForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=list(KIND_LABELS.items()))
    parent_id = SelectField(_l("Part of the summit"), validators=[Optional()])
    title_en = StringField(
        _l("Title in English"), validators=[Length(max=200), plain_text], filters=[strip]
    )
    title_ko = StringField(
        _l("Title in Korean"), validators=[Length(max=200), plain_text], filters=[strip]
    )
    description_en = TextAreaField(
        _l("Description in English (Markdown)"), validators=[Length(max=20_000)]
    )
    description_ko = TextAreaField(
        _l("Description in Korean (Markdown)"), validators=[Length(max=20_000)]
    )
    area_id = SelectField(_l("Area"), validators=[Optional()])
    timezone = SelectField(
        _l("Time zone where it is held"),
        validators=[DataRequired(message=_l("Choose a time zone from the list."))],
        widget=CachedSelect(),
        validate_choice=False,  # the service refuses unknown zones with its own message
    )
    start_date = DateField(_l("Start date"), validators=[DataRequired()])
    start_time = TimeField(_l("Start time"), validators=[DataRequired()])
    end_date = DateField(_l("End date"), validators=[DataRequired()])
    end_time = TimeField(_l("End time"), validators=[DataRequired()])
    organiser = StringField(
        _l("Organiser"), validators=[Length(max=200), plain_text], filters=[strip]
    )
    venue = StringField(
        _l("Venue or online"), validators=[Length(max=300), plain_text], filters=[strip]
    )
    stream_url = StringField(
        _l("Stream link"), validators=[Optional(), Length(max=500), http_url], filters=[strip]
    )
    stream_url_ko = StringField(
        _l("Stream link in Korean"),
        validators=[Optional(), Length(max=500), http_url],
        filters=[strip],
    )
    recording_url = StringField(
        _l("Recording link"), validators=[Optional(), Length(max=500), http_url], filters=[strip]
    )
    interpretation = SelectMultipleField(_l("Interpretation languages"), widget=CachedSelect(True))
    countries = SelectMultipleField(_l("Participating countries"), widget=CachedSelect(True))
    city_ids = SelectMultipleField(_l("Participating cities"), widget=CachedSelect(True))
    speakers = TextAreaField(
        _l("Speakers, one a line: name | role, affiliation | city"),
        validators=[Length(max=10_000)],
    )
    visibility = SelectField(_l("Who may see it"), choices=list(VISIBILITY_LABELS.items()))
    publish = SelectField(
        _l("Publish"),
        choices=[("1", _l("Publish now")), ("0", _l("Keep as a draft"))],
    )


class CancelForm(FlaskForm):
    reason = StringField(
        _l("Reason (optional)"), validators=[Length(max=500), plain_text], filters=[strip]
    )
