"""Field helpers shared by every form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import URL, Email, Length, ValidationError

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
