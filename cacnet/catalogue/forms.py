from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from cacnet.accounts.forms import REQUIRED
from cacnet.catalogue.models import CertificationKind, EntryState, ProductType
from cacnet.core.forms import CachedSelect, http_url, plain_text, strip

TYPE_LABELS = {
    ProductType.SPECIMEN_COLLECTION_KIT: _l("Specimen collection kit"),
    ProductType.DIAGNOSTIC_REAGENT: _l("Diagnostic reagent"),
    ProductType.PPE: _l("Personal protective equipment"),
    ProductType.DEVICE: _l("Medical device"),
    ProductType.OTHER: _l("Other product"),
}
KIND_LABELS = {
    CertificationKind.CE_IVD: "CE-IVD",
    CertificationKind.FDA_EUA: _l("US FDA emergency use authorization"),
    CertificationKind.MFDS_APPROVAL: _l("Korea MFDS approval"),
    CertificationKind.WHO_EUL: _l("WHO emergency use listing"),
    CertificationKind.ISO_13485: "ISO 13485",
    CertificationKind.EXPORT_PERMISSION: _l("Export permission"),
    CertificationKind.OTHER: _l("Other certification"),
}
STATE_LABELS = {
    EntryState.PENDING: _l("waiting for vetting"),
    EntryState.VETTED: _l("vetted"),
    EntryState.REJECTED: _l("rejected"),
}


class CompanyForm(FlaskForm):
    name_en = StringField(_l("Company name in English"), filters=[strip],
                          validators=[DataRequired(REQUIRED), Length(max=200), plain_text])  # fmt: skip
    name_ko = StringField(_l("Company name in Korean (optional)"), filters=[strip],
                          validators=[Length(max=200), plain_text])  # fmt: skip
    country_code = SelectField(_l("Country"), validators=[DataRequired(REQUIRED)],
                               widget=CachedSelect())  # fmt: skip
    city = StringField(_l("City (optional)"), filters=[strip],
                       validators=[Length(max=120), plain_text])  # fmt: skip
    website = StringField(_l("Website (optional)"), filters=[strip],
                          validators=[Length(max=500), http_url],
                          render_kw={"type": "url", "inputmode": "url"})  # fmt: skip
    contact_name = StringField(_l("Contact person (optional)"), filters=[strip],
                               validators=[Length(max=200), plain_text])  # fmt: skip
    contact_email = StringField(
        _l("Contact e-mail (optional)"),
        validators=[
            Optional(),
            Length(max=254),
            Email(message=_l("Enter a valid e-mail address.")),
        ],
        filters=[strip],
        render_kw={"type": "email", "inputmode": "email", "autocomplete": "off"},
    )
    contact_phone = StringField(_l("Contact telephone (optional)"), filters=[strip],
                                validators=[Length(max=60), plain_text],
                                render_kw={"type": "tel", "autocomplete": "off"})  # fmt: skip
    description_en = TextAreaField(_l("Description in English"), validators=[Length(max=10000)],
                                   render_kw={"rows": 4})  # fmt: skip
    description_ko = TextAreaField(_l("Description in Korean"), validators=[Length(max=10000)],
                                   render_kw={"rows": 4})  # fmt: skip


class ProductForm(FlaskForm):
    name_en = StringField(_l("Product name in English"), filters=[strip],
                          validators=[Length(max=200), plain_text])  # fmt: skip
    name_ko = StringField(_l("Product name in Korean"), filters=[strip],
                          validators=[Length(max=200), plain_text],
                          description=_l("Give the name in at least one of the two languages."))  # fmt: skip
    product_type = SelectField(_l("Type"), validators=[DataRequired(REQUIRED)],
                               choices=[("", _l("Choose a type"))]
                               + [(t.value, label) for t, label in TYPE_LABELS.items()])  # fmt: skip
    description_en = TextAreaField(_l("Description in English"), validators=[Length(max=10000)],
                                   render_kw={"rows": 4})  # fmt: skip
    description_ko = TextAreaField(_l("Description in Korean"), validators=[Length(max=10000)],
                                   render_kw={"rows": 4})  # fmt: skip
    sheet = FileField(_l("Product sheet (PDF, at most 10 MB, optional)"),
                      render_kw={"accept": "application/pdf,.pdf"})  # fmt: skip
    remove_sheet = BooleanField(_l("Remove the product sheet"))


class CertificationForm(FlaskForm):
    kind = SelectField(_l("Kind"), validators=[DataRequired(REQUIRED)],
                       choices=[("", _l("Choose a kind"))]
                       + [(k.value, label) for k, label in KIND_LABELS.items()])  # fmt: skip
    reference = StringField(_l("Reference number (optional)"), filters=[strip],
                            validators=[Length(max=120), plain_text])  # fmt: skip
    issuing_authority = StringField(_l("Issuing authority"), filters=[strip],
                                    validators=[DataRequired(REQUIRED), Length(max=200),
                                                plain_text])  # fmt: skip
    issued_on = DateField(
        _l("Issued on"), validators=[DataRequired(_l("Give the date it was issued."))]
    )
    expires_on = DateField(_l("Expires on (optional)"), validators=[Optional()])


class RejectForm(FlaskForm):
    reason = TextAreaField(_l("Why is it rejected?"), render_kw={"rows": 2},
                           validators=[DataRequired(_l("Say why the entry is rejected.")),
                                       Length(max=2000)])  # fmt: skip


class ActionForm(FlaskForm):
    """A button (vet, remove): only the CSRF token."""
