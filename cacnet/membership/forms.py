from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from cacnet.accounts.forms import REQUIRED, name_field, new_password_fields
from cacnet.core.forms import CachedSelect, email_field, http_url, plain_text, strip
from cacnet.core.i18n import country_choices
from cacnet.membership.models import MembershipState


class ApplicationForm(FlaskForm):
    city_name_en = StringField(
        _l("City name in English"),
        validators=[DataRequired(REQUIRED), Length(max=200), plain_text],
        filters=[strip],
    )
    city_name_local = StringField(
        _l("City name in the local language"),
        validators=[Optional(), Length(max=200), plain_text],
        filters=[strip],
        description=_l("For example 서울특별시 or Москва."),
    )
    country_code = SelectField(
        _l("Country"), validators=[DataRequired(REQUIRED)], widget=CachedSelect()
    )
    region = StringField(
        _l("Region, province or state"),
        validators=[Optional(), Length(max=200), plain_text],
        filters=[strip],
    )
    population = IntegerField(
        _l("Population"),
        validators=[
            Optional(),
            NumberRange(0, 100_000_000, _l("Enter a population between 0 and 100 million.")),
        ],
        render_kw={"inputmode": "numeric"},
    )
    website = StringField(
        _l("Official website"),
        validators=[Optional(), Length(max=500), http_url],
        filters=[strip],
        render_kw={"type": "url", "placeholder": "https://"},
    )
    letter = FileField(
        _l("Letter of intent (PDF, at most 10 MB, optional)"),
        validators=[FileAllowed(["pdf"], _l("The letter of intent must be a PDF document."))],
    )
    applicant_name = name_field()
    applicant_title = name_field(_l("Your title or position"), required=False)
    email = email_field(_l("Your e-mail address"))
    password, confirm = new_password_fields()

    def __init__(self, *args, signed_in: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.country_code.choices = [("", _l("Choose a country"))] + country_choices()
        if signed_in:
            # The signed-in applicant's account is used: no account fields.
            for name in ("applicant_name", "applicant_title", "email", "password", "confirm"):
                delattr(self, name)


class DecisionForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason (sent to the applicant)"),
        validators=[Optional(), Length(max=2000)],
        filters=[strip],
    )


class QueueFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    state = SelectField(_l("State"), validators=[Optional()], default="submitted")
    country = SelectField(_l("Country"), validators=[Optional()], widget=CachedSelect())
    submitted_from = DateField(_l("Submitted from"), validators=[Optional()])
    submitted_to = DateField(_l("Submitted until"), validators=[Optional()])
    q = StringField(
        _l("City or applicant"), validators=[Optional(), Length(max=200)], filters=[strip]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from cacnet.membership.services import STATE_LABELS

        self.state.choices = [("", _l("All states"))] + [
            (s.value, STATE_LABELS[s]) for s in MembershipState
        ]
        self.country.choices = [("", _l("All countries"))] + country_choices()
