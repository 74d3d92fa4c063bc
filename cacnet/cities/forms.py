from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DecimalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from cacnet.accounts.forms import REQUIRED
from cacnet.cities.models import ContactArea, Visibility
from cacnet.cities.regions import MACRO_REGIONS
from cacnet.cities.services import PAGE_SIZES, language_codes, timezones
from cacnet.core.forms import CachedSelect, email_field, http_url, plain_text, strip
from cacnet.core.i18n import country_choices, language_name

AREA_LABELS = {
    ContactArea.HEALTH: _l("Health"),
    ContactArea.QUARANTINE: _l("Quarantine"),
    ContactArea.SUPPLIES: _l("Supplies"),
    ContactArea.TRANSPORT: _l("Transport"),
    ContactArea.COMMUNICATIONS: _l("Communications"),
    ContactArea.OTHER: _l("Other"),
}
VISIBILITY_LABELS = {
    Visibility.PUBLIC: _l("Public: anyone"),
    Visibility.MEMBERS: _l("Members: delegates of member cities"),
    Visibility.SECRETARIAT: _l("Secretariat: only the secretariat and your city"),
}


def _text(label, max_length=200, required=False, **kwargs):
    validators = [Length(max=max_length), plain_text]
    validators.insert(0, DataRequired(REQUIRED) if required else Optional())
    return StringField(label, validators=validators, filters=[strip], **kwargs)


def _language_choices():
    named = [(code, language_name(code)) for code in language_codes()]
    return sorted(named, key=lambda item: item[1])


class CityProfileForm(FlaskForm):
    name_en = _text(_l("City name in English"), required=True)
    name_local = _text(_l("City name in the local language"))
    country_code = SelectField(
        _l("Country"), validators=[DataRequired(REQUIRED)], widget=CachedSelect()
    )
    region = _text(_l("Region, province or state"))
    population = IntegerField(
        _l("Population"),
        validators=[
            Optional(),
            NumberRange(0, 100_000_000, _l("Enter a population between 0 and 100 million.")),
        ],
    )
    latitude = DecimalField(
        _l("Latitude"),
        places=5,
        validators=[Optional(), NumberRange(-90, 90, _l("Latitude is between -90 and 90."))],
        description=_l("Decimal degrees, north positive, e.g. 37.56600."),
    )
    longitude = DecimalField(
        _l("Longitude"),
        places=5,
        validators=[Optional(), NumberRange(-180, 180, _l("Longitude is between -180 and 180."))],
        description=_l("Decimal degrees, east positive, e.g. 126.97840."),
    )
    mayor_name = _text(_l("Mayor's name"))
    mayor_title = _text(_l("Mayor's title"))
    website = StringField(
        _l("Official website"), validators=[Optional(), Length(max=500), http_url], filters=[strip]
    )
    response_page = StringField(
        _l("Pandemic-response page"),
        validators=[Optional(), Length(max=500), http_url],
        filters=[strip],
    )
    description = TextAreaField(
        _l("Short description"),
        validators=[Optional(), Length(max=5000)],
        description=_l("Plain text or Markdown: **bold**, *italic*, lists and links."),
        render_kw={"rows": 6},
    )
    languages = SelectMultipleField(
        _l("Languages spoken by the team"),
        validators=[Optional()],
        render_kw={"size": 6},
        widget=CachedSelect(multiple=True),
    )
    timezone = SelectField(_l("Time zone"), validators=[Optional()], widget=CachedSelect())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country_code.choices = [("", _l("Choose a country"))] + country_choices()
        self.languages.choices = _language_choices()
        self.timezone.choices = [("", _l("Choose a time zone"))] + [(tz, tz) for tz in timezones()]


class LogoForm(FlaskForm):
    logo = FileField(
        _l("Logo (PNG, JPEG or WebP, at most 2 MB)"),
        validators=[FileRequired(_l("Choose an image file."))],
        render_kw={"accept": "image/png,image/jpeg,image/webp"},
    )


class ContactForm(FlaskForm):
    name = _text(_l("Name"), required=True)
    title = _text(_l("Title or position"))
    department = _text(_l("Department"))
    email = email_field(_l("E-mail address"))
    phone = StringField(
        _l("Phone"),
        validators=[Optional(), Length(max=40)],
        filters=[strip],
        description=_l(
            "With the country code, e.g. +82 2 120; numbers without it are read as local to the city."
        ),
        render_kw={"type": "tel", "autocomplete": "tel"},
    )
    languages = SelectMultipleField(
        _l("Languages"),
        validators=[Optional()],
        render_kw={"size": 5},
        widget=CachedSelect(multiple=True),
    )
    area = SelectField(
        _l("Area of responsibility"), choices=[(a.value, label) for a, label in AREA_LABELS.items()]
    )
    visibility = SelectField(
        _l("Who may see this contact"),
        choices=[(v.value, label) for v, label in VISIBILITY_LABELS.items()],
        default=Visibility.MEMBERS.value,
    )
    is_primary = BooleanField(_l("Primary focal point of the city"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.email.validators = [Optional(), *self.email.validators]
        self.languages.choices = _language_choices()


class DirectoryFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    q = StringField(_l("Search by name"), validators=[Optional(), Length(max=200)], filters=[strip])
    country = SelectField(_l("Country"), validators=[Optional()], widget=CachedSelect())
    region = SelectField(_l("Region"), validators=[Optional()])
    status = SelectField(_l("Membership"), validators=[Optional()])
    sort = SelectField(
        _l("Sort by"),
        choices=[
            ("name", _l("Name")),
            ("country", _l("Country")),
            ("population", _l("Population")),
            ("newest", _l("Newest members")),
        ],
        default="name",
        validators=[Optional()],
    )
    per_page = SelectField(
        _l("Per page"),
        choices=[(str(n), str(n)) for n in PAGE_SIZES],
        default=str(PAGE_SIZES[0]),
        validators=[Optional()],
    )

    def __init__(self, *args, statuses=(), **kwargs):
        super().__init__(*args, **kwargs)
        from cacnet.membership.models import MembershipState

        self.country.choices = [("", _l("All countries"))] + country_choices()
        self.region.choices = [("", _l("All regions"))] + list(MACRO_REGIONS.items())
        labels = {
            MembershipState.APPROVED: _l("Members"),
            MembershipState.SUSPENDED: _l("Suspended"),
            MembershipState.WITHDRAWN: _l("Former members"),
        }
        self.status.choices = [("", _l("Current members"))] + [
            (s.value, labels[s]) for s in statuses
        ]
        from cacnet.cities.hooks import DIRECTORY_FACETS

        for name, facet in DIRECTORY_FACETS.items():
            self[name].choices = facet.choices()
