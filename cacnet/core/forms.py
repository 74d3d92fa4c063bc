"""Field helpers shared by every form."""

from __future__ import annotations

from functools import lru_cache

from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from wtforms import StringField
from wtforms.validators import URL, Email, Length, ValidationError
from wtforms.widgets import Select, html_params

_CONTROL = {chr(c) for c in range(32)} - {"\n", "\r", "\t"}


def plain_text(form, field) -> None:
    """Refuse control characters and markup in a one-line text field."""
    value = field.data or ""
    if any(c in _CONTROL for c in value) or "<" in value or ">" in value:
        raise ValidationError(_l("Use plain text, without < or > or control characters."))


def strip(value):
    return value.strip() if isinstance(value, str) else value


def email_field(label, autocomplete: str = "email", **kwargs) -> StringField:
    return StringField(
        label,
        validators=[Length(max=254), Email(message=_l("Enter a valid e-mail address."))],
        filters=[strip],
        render_kw={"autocomplete": autocomplete, "type": "email", "inputmode": "email"},
        **kwargs,
    )


def http_url(form, field) -> None:
    if not field.data:
        return
    if not field.data.lower().startswith(("http://", "https://")):
        raise ValidationError(_l("Enter a web address starting with http:// or https://."))
    URL(require_tld=True, message=_l("Enter a valid web address."))(form, field)


@lru_cache(maxsize=128)
def _rendered_options(choices: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    return tuple(
        f'<option value="{escape(value)}">{escape(label)}</option>' for value, label in choices
    )


class CachedSelect(Select):
    """A <select> whose options are rendered once per list and language, then reused.

    WTForms renders each option through html_params; for the country (250), language (180) and
    time-zone (400) lists that was most of a page's time. Output is the same markup.
    """

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        if self.multiple:
            kwargs["multiple"] = True
        if field.flags.required and "required" not in kwargs:
            kwargs["required"] = True
        choices = tuple((str(value), str(label)) for value, label, *_ in field.iter_choices())
        data = field.data if self.multiple else [field.data]
        selected = {str(v) for v in (data or []) if v is not None}
        options = _rendered_options(choices)
        parts = [
            option.replace("<option ", "<option selected ", 1) if value in selected else option
            for (value, _), option in zip(choices, options, strict=True)
        ]
        html = f"<select {html_params(name=field.name, **kwargs)}>{''.join(parts)}</select>"
        return Markup(html)  # noqa: S704 - every value and label was escaped above
