from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from cacnet.cities.forms import _language_choices
from cacnet.core.forms import CachedSelect, http_url, plain_text, strip
from cacnet.links.models import MAX_ACRONYM, MAX_NAME, MAX_TITLE, MAX_URL


class LinkForm(FlaskForm):
    url = StringField(
        _l("Web address"),
        validators=[
            DataRequired(_l("Enter the page's web address.")),
            Length(max=MAX_URL),
            http_url,
        ],  # fmt: skip
        filters=[strip],
        description=_l("The page's full address, starting with https:// or http://."),
        render_kw={"type": "url", "inputmode": "url", "autocomplete": "url"},
    )
    title = StringField(
        _l("Title"),
        validators=[
            DataRequired(_l("Enter the page's title.")),
            Length(max=MAX_TITLE),
            plain_text,
        ],  # fmt: skip
        filters=[strip],
        description=_l("As the page names itself, in its own language."),
    )
    language = SelectField(
        _l("Language of the page"),
        validators=[DataRequired(_l("Choose the page's language from the list."))],
        widget=CachedSelect(),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = [("", _l("Choose a language"))] + _language_choices()


class OrganisationForm(FlaskForm):
    name_en = StringField(
        _l("Name in English"),
        validators=[
            DataRequired(_l("Enter the organisation's name in English.")),
            Length(max=MAX_NAME),
            plain_text,
        ],  # fmt: skip
        filters=[strip],
    )
    name_ko = StringField(
        _l("Name in Korean"),
        validators=[
            DataRequired(_l("Enter the organisation's name in Korean.")),
            Length(max=MAX_NAME),
            plain_text,
        ],  # fmt: skip
        filters=[strip],
        render_kw={"lang": "ko"},
    )
    acronym = StringField(
        _l("Acronym (optional)"),
        validators=[Length(max=MAX_ACRONYM), plain_text],
        filters=[strip],
        description=_l("For example WHO."),
    )
    website = StringField(
        _l("Website (optional)"),
        validators=[Length(max=MAX_URL), http_url],
        filters=[strip],
        render_kw={"type": "url", "inputmode": "url"},
    )
