"""Forms of the alerts, and the labels of their choices."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    DateField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from cacnet.accounts.forms import REQUIRED
from cacnet.alerts.models import AckKind, AlertState, Severity, SignalType
from cacnet.core.forms import strip

SEVERITY_LABELS = {
    Severity.WATCH: lazy_pgettext("severity", "Watch"),
    Severity.WARNING: lazy_pgettext("severity", "Warning"),
    Severity.EMERGENCY: lazy_pgettext("severity", "Emergency"),
}
SEVERITY_HINTS = {
    Severity.WATCH: _l("Something to keep an eye on; no action asked of other cities yet."),
    Severity.WARNING: _l("Other cities should check for similar signals and prepare."),
    Severity.EMERGENCY: _l("Immediate risk to other cities; every city's primary focal point is "
                           "told."),
}  # fmt: skip
SIGNAL_LABELS = {
    SignalType.CLUSTER: _l("Cluster of cases"),
    SignalType.UNUSUAL_SEVERITY: _l("Unusual severity"),
    SignalType.NEW_VARIANT: _l("New variant or strain"),
    SignalType.HEALTH_SYSTEM_STRAIN: _l("Strain on the health system"),
    SignalType.IMPORTED_CASES: _l("Imported cases"),
    SignalType.OTHER: lazy_pgettext("signal", "Other"),
}
STATE_LABELS = {
    AlertState.DRAFT: lazy_pgettext("alert", "draft"),
    AlertState.PUBLISHED: lazy_pgettext("alert", "open"),
    AlertState.CLOSED: lazy_pgettext("alert", "closed"),
}
ACK_LABELS = {
    AckKind.SEEN: _l("Seen"),
    AckKind.CHECKING: _l("We are checking"),
    AckKind.SIMILAR: _l("We have similar signals"),
}

COUNT_HINT = _l("Leave empty if not known.")


def _count_field(label):
    return StringField(label, validators=[Optional(), Length(max=15)], filters=[strip],
                       description=COUNT_HINT, render_kw={"inputmode": "numeric"})  # fmt: skip


class AlertForm(FlaskForm):
    what = StringField(
        _l("What (pathogen or syndrome)"),
        validators=[Length(max=200)],
        filters=[strip],
        description=_l("For example: Influenza A(H5N1), measles, severe acute respiratory "
                       "infection. Choose a suggestion or write your own."),
        render_kw={"list": "what-suggestions", "autocomplete": "off"},
    )  # fmt: skip
    signal_type = SelectField(
        _l("Type of signal"), choices=[(s.value, label) for s, label in SIGNAL_LABELS.items()]
    )
    severity = RadioField(
        _l("Severity"),
        choices=[(s.value, label) for s, label in SEVERITY_LABELS.items()],
        default=Severity.WATCH.value,
        validators=[DataRequired(REQUIRED)],
    )
    district = StringField(
        _l("District or area (optional)"),
        validators=[Length(max=200)],
        filters=[strip],
        description=_l("Where in the city, if it is not the whole city."),
    )
    first_observed_on = DateField(_l("First observed on"), validators=[Optional()])
    cases = _count_field(_l("Cases"))
    deaths = _count_field(_l("Deaths"))
    actions = TextAreaField(
        _l("What the city is doing"),
        validators=[Length(max=10000)],
        description=_l("Measures taken, investigations under way, advice to the public."),
        render_kw={"rows": 5},
    )
    sources = TextAreaField(
        _l("Sources (links)"),
        validators=[Length(max=12000)],
        description=_l("Web addresses of reports or announcements, one per line."),
        render_kw={"rows": 3},
    )
    documents = MultipleFileField(
        _l("Documents (optional)"),
        description=_l("PDF documents or PNG, JPEG or WebP images, at most 10 MB each."),
        render_kw={"accept": "application/pdf,image/png,image/jpeg,image/webp"},
    )
    contact_id = SelectField(_l("Who to contact"), coerce=int, validators=[Optional()])
    contact_text = TextAreaField(
        _l("Or: who to contact (name, e-mail, phone)"),
        validators=[Length(max=500)],
        filters=[strip],
        description=_l("Use this when the person is not one of your city's contacts."),
        render_kw={"rows": 2},
    )


class AcknowledgeForm(FlaskForm):
    kind = RadioField(
        _l("Your city's answer"),
        choices=[(k.value, label) for k, label in ACK_LABELS.items()],
        validators=[DataRequired(_l("Choose how your city answers."))],
    )
    note = TextAreaField(_l("Note (optional)"), validators=[Length(max=2000)],
                         render_kw={"rows": 3})  # fmt: skip
    similar_alert = SelectField(
        _l("Your city's alert about these signals (optional)"),
        validators=[Optional()],
        description=_l("Links the two alerts, for 'we have similar signals'."),
    )


class UpdateForm(FlaskForm):
    body = TextAreaField(
        _l("Update"),
        validators=[DataRequired(_l("Write the update.")), Length(max=5000)],
        description=_l("New counts, measures taken, what is known now."),
        render_kw={"rows": 5},
    )
    cases = _count_field(_l("Cases now"))
    deaths = _count_field(_l("Deaths now"))


class CloseForm(FlaskForm):
    summary = TextAreaField(
        _l("Closing summary"),
        validators=[
            DataRequired(_l("Write a closing summary: what happened, and what was done.")),
            Length(max=5000),
        ],
        render_kw={"rows": 5},
    )


class EscalateForm(FlaskForm):
    severity = SelectField(_l("New severity"), choices=[])
    reason = TextAreaField(
        _l("Reason"),
        validators=[DataRequired(_l("Give the reason for the escalation; members read it.")),
                    Length(max=2000)],
        filters=[strip],
        render_kw={"rows": 4},
    )  # fmt: skip


class PublicNoticeForm(FlaskForm):
    reason = TextAreaField(_l("Note for the audit log (optional)"), validators=[Length(max=2000)],
                           render_kw={"rows": 2})  # fmt: skip


class SubscriptionForm(FlaskForm):
    contacts = SelectMultipleField(_l("Focal points who receive alerts"), coerce=int,
                                   validators=[Optional()])  # fmt: skip
