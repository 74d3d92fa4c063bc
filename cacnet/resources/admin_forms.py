"""Forms of the exchange's subscriptions and of the secretariat's moderation page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from cacnet.accounts.forms import REQUIRED
from cacnet.core.forms import plain_text, strip
from cacnet.resources.models import UNITS, CategoryGroup

GROUP_LABELS = {
    CategoryGroup.STAFF: _l("Staff and expertise"),
    CategoryGroup.SUPPLIES: _l("Supplies"),
    CategoryGroup.KNOWHOW: _l("Know-how"),
}


class CheckboxesField(SelectMultipleField):
    """Several choices as a list of checkboxes (the template lays them out by group)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CategorySubscribeForm(FlaskForm):
    categories = CheckboxesField(_l("Categories"), coerce=int, validators=[Optional()])


class PostHideForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason"),
        validators=[DataRequired(_l("Give the reason for hiding the post; the poster is told.")),
                    Length(max=2000)],
        filters=[strip],
        description=_l("Sent to the city that posted it, and kept in the audit log."),
        render_kw={"rows": 4},
    )  # fmt: skip


class CategoryAddForm(FlaskForm):
    slug = StringField(
        _l("Identifier"),
        validators=[DataRequired(REQUIRED), Length(max=60)],
        filters=[strip],
        description=_l("Lowercase letters, digits and hyphens, for example field-hospitals. "
                       "It appears in links and exports and cannot be changed."),
    )  # fmt: skip
    group = SelectField(
        _l("Group"), choices=[(g.value, label) for g, label in GROUP_LABELS.items()]
    )
    name_en = StringField(
        _l("Name in English"),
        validators=[DataRequired(REQUIRED), Length(max=120), plain_text],
        filters=[strip],
    )
    name_ko = StringField(
        _l("Name in Korean"), validators=[Length(max=120), plain_text], filters=[strip]
    )
    default_unit = SelectField(_l("Usual unit"), choices=[(u, u) for u in UNITS])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from cacnet.resources.forms import UNIT_LABELS

        self.default_unit.choices = [(u, UNIT_LABELS.get(u, u)) for u in UNITS]
