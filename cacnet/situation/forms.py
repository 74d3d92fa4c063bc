from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from cacnet.core.forms import strip
from cacnet.situation.models import MAX_NOTE
from cacnet.situation.services import MEASURE_HINTS, MEASURE_LABELS


def _count(measure: str) -> StringField:
    # Text, not IntegerField: the service reads "12,345" and says what is wrong in its own words.
    return StringField(
        MEASURE_LABELS[measure],
        validators=[Length(max=20)],
        filters=[strip],
        description=MEASURE_HINTS[measure],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )


class SituationDayForm(FlaskForm):
    # Optional here: the service names a missing or wrong date in its own words.
    day = DateField(_l("Date"), validators=[Optional()])
    new_cases = _count("new_cases")
    active_cases = _count("active_cases")
    hospitalised = _count("hospitalised")
    tests_done = _count("tests_done")
    vaccinated = _count("vaccinated")
    note = TextAreaField(
        _l("Note (optional)"),
        validators=[Length(max=MAX_NOTE)],
        render_kw={"rows": 2},
        description=_l(
            "What readers should know about these figures, e.g. fewer tests on a holiday."
        ),
    )


class SituationUploadForm(FlaskForm):
    file = FileField(
        _l("CSV file (UTF-8, at most 2 MB and 1,100 days)"),
        validators=[FileRequired(_l("Choose a CSV file."))],
        render_kw={"accept": ".csv,text/csv"},
    )
