"""Forms of the secretariat's directory tools: the CSV import and the merge of duplicates."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from cacnet.accounts.forms import REQUIRED
from cacnet.core.forms import strip


class CityImportForm(FlaskForm):
    file = FileField(
        _l("CSV file (UTF-8, at most 5 MB and 20,000 rows)"),
        validators=[FileRequired(_l("Choose a CSV file."))],
        render_kw={"accept": ".csv,text/csv"},
    )


def _city_field(label, description):
    return StringField(
        label,
        validators=[DataRequired(REQUIRED), Length(max=300)],
        filters=[strip],
        description=description,
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )


class CityMergeForm(FlaskForm):
    duplicate = _city_field(
        _l("Duplicate city (it disappears from the directory)"),
        _l("Its short name from the address of its page, e.g. seoul-kr, or the whole address."),
    )
    keep = _city_field(
        _l("City to keep"),
        _l("Its short name from the address of its page, e.g. seoul-kr, or the whole address."),
    )
