from __future__ import annotations

from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from cacnet.accounts.forms import REQUIRED
from cacnet.core.forms import plain_text, strip
from cacnet.resources.models import UNITS, Conditions, PostKind, Urgency
from cacnet.resources.services import UNIT_LABELS  # noqa: F401 - the forms' unit choices

KIND_LABELS = {PostKind.OFFER: _l("Offer"), PostKind.REQUEST: _l("Request")}
URGENCY_LABELS = {Urgency.CRITICAL: _l("Critical"), Urgency.HIGH: _l("High"),
                  Urgency.NORMAL: _l("Normal")}  # fmt: skip
CONDITION_LABELS = {Conditions.FREE: _l("Free of charge"), Conditions.AT_COST: _l("At cost"),
                    Conditions.LOAN: _l("Loan")}  # fmt: skip

QUANTITY_HINT = _l("A whole number, or a number with up to two decimals.")


class PostForm(FlaskForm):
    kind = RadioField(
        _l("Do you offer or request?"),
        choices=[(k.value, label) for k, label in KIND_LABELS.items()],
        validators=[DataRequired(REQUIRED)],
    )
    category_id = SelectField(_l("Category"), coerce=int, validators=[DataRequired(REQUIRED)])
    title_en = StringField(_l("Title in English"), validators=[Length(max=200), plain_text],
                           filters=[strip])  # fmt: skip
    title_ko = StringField(_l("Title in Korean"), validators=[Length(max=200), plain_text],
                           filters=[strip],
                           description=_l("Give a title in at least one of the two languages."))  # fmt: skip
    description_en = TextAreaField(_l("Description in English"), validators=[Length(max=10000)],
                                   render_kw={"rows": 5})  # fmt: skip
    description_ko = TextAreaField(_l("Description in Korean"), validators=[Length(max=10000)],
                                   render_kw={"rows": 5})  # fmt: skip
    quantity = StringField(_l("Quantity"), validators=[DataRequired(REQUIRED), Length(max=20)],
                           filters=[strip], description=QUANTITY_HINT,
                           render_kw={"inputmode": "decimal"})  # fmt: skip
    unit = SelectField(_l("Unit"), choices=[(u, UNIT_LABELS[u]) for u in UNITS],
                       validators=[DataRequired(REQUIRED)])  # fmt: skip
    urgency = SelectField(_l("Urgency"), choices=[(u.value, label) for u, label in URGENCY_LABELS.items()],
                          default=Urgency.NORMAL.value)  # fmt: skip
    available_from = DateField(_l("Available from"), validators=[Optional()])
    needed_by = DateField(_l("Needed by"), validators=[Optional()])
    expires_on = DateField(
        _l("The post expires on"),
        validators=[DataRequired(_l("Give the date the post expires."))],
        default=lambda: date.today() + timedelta(days=30),
        description=_l("After this date the post leaves the board by itself."),
    )
    conditions = SelectField(_l("Conditions"),
                             choices=[(c.value, label) for c, label in CONDITION_LABELS.items()],
                             default=Conditions.FREE.value)  # fmt: skip
    delivery_note = TextAreaField(_l("Delivery note (optional)"), validators=[Length(max=2000)],
                                  render_kw={"rows": 2},
                                  description=_l("Where and how the goods or people travel."))  # fmt: skip
    contact_id = SelectField(_l("Who handles it"), coerce=int, validators=[Optional()])
    # The service checks the product (vetted, and only on an offer) and says why it refuses.
    product_id = SelectField(_l("Product from the catalogue (optional)"), coerce=int,
                             validators=[Optional()], validate_choice=False,
                             description=_l("For an offer: the vetted product of the supplier "
                                            "catalogue that you offer."))  # fmt: skip


class RespondForm(FlaskForm):
    quantity = StringField(_l("Quantity"), validators=[DataRequired(REQUIRED), Length(max=20)],
                           filters=[strip], render_kw={"inputmode": "decimal"})  # fmt: skip
    proposed_date = DateField(_l("Date (delivery or start)"), validators=[Optional()])
    message = TextAreaField(_l("Message"), validators=[Length(max=5000)], render_kw={"rows": 3})


class DecisionForm(FlaskForm):
    quantity = StringField(
        _l("Quantity to accept"),
        validators=[Optional(), Length(max=20)],
        filters=[strip],
        description=_l("Leave empty to accept all that was asked; give less to accept in part."),
        render_kw={"inputmode": "decimal"},
    )
    message = TextAreaField(_l("Message (optional)"), validators=[Length(max=5000)],
                            render_kw={"rows": 2})  # fmt: skip


class MessageForm(FlaskForm):
    body = TextAreaField(_l("Your message"), validators=[DataRequired(_l("Write a message.")),
                                                         Length(max=5000)],
                         render_kw={"rows": 3})  # fmt: skip


class SettleForm(FlaskForm):
    message = TextAreaField(_l("Message (optional)"), validators=[Length(max=5000)],
                            render_kw={"rows": 2})  # fmt: skip
