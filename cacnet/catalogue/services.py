"""Every change to the supplier catalogue, and who sees what.

Who may submit: delegates of a member city whose membership is approved (the acting delegates)
and the secretariat. A delegate's company or product starts ``pending`` and only its city and the
secretariat see it; the secretariat's own entries are vetted at once. A delegate who changes a
vetted entry of the city (or its certifications or product sheet) puts it back to ``pending``:
the public sees only what the secretariat has vetted, as it is. The secretariat vets or rejects
(with a reason, mailed to the submitter). The public sees a product when both the product and its
company are vetted; members also see their own city's entries, marked with their state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, exists, false, or_, select, true
from sqlalchemy.orm import aliased, selectinload

from cacnet.catalogue.models import (
    Certification,
    CertificationKind,
    Company,
    EntryState,
    Product,
    ProductType,
)
from cacnet.core import audit, uploads
from cacnet.core.db import db, utcnow
from cacnet.core.errors import PermissionDenied, ServiceError, StateConflict
from cacnet.core.i18n import country_name, is_country_code
from cacnet.core.mail import queue_mail
from cacnet.core.permissions import is_network_member, require_secretariat
from cacnet.core.text import search_key

MAX_SHEET_BYTES = 10 * 1024 * 1024
PER_PAGE = 25
SHEET_FOLDER = "catalogue"

# The words a search for a type or a certification kind finds, in both languages (data, not
# interface: they go into search_text whatever the language of the page that saved the entry).
TYPE_WORDS = {
    ProductType.SPECIMEN_COLLECTION_KIT: "specimen collection kit swab 검체 채취 키트",
    ProductType.DIAGNOSTIC_REAGENT: "diagnostic reagent test kit 진단 시약 키트",
    ProductType.PPE: "ppe personal protective equipment mask gown gloves 개인보호구 마스크",
    ProductType.DEVICE: "device equipment 의료기기 장비",
    ProductType.OTHER: "other 기타",
}
KIND_WORDS = {
    CertificationKind.CE_IVD: "CE-IVD CE IVD",
    CertificationKind.FDA_EUA: "US FDA EUA emergency use authorization 미국 식품의약국 긴급사용승인",
    CertificationKind.MFDS_APPROVAL: "MFDS Korea approval 식품의약품안전처 식약처 허가",
    CertificationKind.WHO_EUL: "WHO EUL emergency use listing 세계보건기구 긴급사용목록",
    CertificationKind.ISO_13485: "ISO 13485",
    CertificationKind.EXPORT_PERMISSION: "export permission 수출 허가",
    CertificationKind.OTHER: "",
}

NOT_ALLOWED = _l("Only delegates of a member city and the secretariat can add to the catalogue.")


# --- who may do what ---------------------------------------------------------------------------


def _signed_in(viewer) -> bool:
    return viewer is not None and getattr(viewer, "is_authenticated", False)


def require_submitter(actor) -> None:
    """The secretariat, or a delegate of a city whose membership is approved."""
    if not _signed_in(actor):
        raise PermissionDenied(NOT_ALLOWED)
    if actor.is_secretariat:
        return
    if actor.city_id is None or not is_network_member(actor):
        raise PermissionDenied(NOT_ALLOWED)
    if not actor.acts_for_active_city:
        raise PermissionDenied(
            _l("Your city's membership is not active, so you cannot act for the city.")
        )


def can_submit(actor) -> bool:
    try:
        require_submitter(actor)
    except PermissionDenied:
        return False
    return True


def can_edit(actor, entry: Company | Product) -> bool:
    """The secretariat, or an acting delegate of the city that submitted the entry."""
    if not can_submit(actor):
        return False
    return actor.is_secretariat or (entry.city_id is not None and entry.city_id == actor.city_id)


def require_editor(actor, entry: Company | Product) -> None:
    require_submitter(actor)
    if not can_edit(actor, entry):
        raise PermissionDenied(_l("Only the city that submitted this entry and the secretariat "
                                  "can change it."))  # fmt: skip


def _own_city(viewer) -> int | None:
    """The city whose pending entries ``viewer`` sees: a member city's delegate's own."""
    if is_network_member(viewer) and not viewer.is_secretariat:
        return viewer.city_id
    return None


def company_clause(viewer):
    """SQL: the companies ``viewer`` may see."""
    if _signed_in(viewer) and viewer.is_secretariat:
        return true()
    city_id = _own_city(viewer)
    vetted = Company.state == EntryState.VETTED
    return or_(vetted, Company.city_id == city_id) if city_id else vetted


def product_clause(viewer):
    """SQL (with Company joined): the products ``viewer`` may see."""
    if _signed_in(viewer) and viewer.is_secretariat:
        return true()
    public = and_(Product.state == EntryState.VETTED, Company.state == EntryState.VETTED)
    city_id = _own_city(viewer)
    return or_(public, Product.city_id == city_id) if city_id else public


def can_see_company(viewer, company: Company) -> bool:
    if _signed_in(viewer) and viewer.is_secretariat:
        return True
    if company.state == EntryState.VETTED:
        return True
    return company.city_id is not None and company.city_id == _own_city(viewer)


def can_see_product(viewer, product: Product) -> bool:
    if _signed_in(viewer) and viewer.is_secretariat:
        return True
    if product.is_public:
        return True
    return product.city_id is not None and product.city_id == _own_city(viewer)


# --- input -------------------------------------------------------------------------------------


def _clean(text: str | None, limit: int) -> str:
    return (text or "").strip()[:limit]


def _one_line(text: str | None, limit: int, field_name: str) -> str:
    value = _clean(text, limit)
    if any(c in value for c in "<>") or any(ord(c) < 32 for c in value):
        raise ServiceError(_l("Use plain text, without < or > or control characters."),
                           field=field_name)  # fmt: skip
    return value


def _website(text: str | None) -> str:
    value = _clean(text, 500)
    if value and not value.lower().startswith(("http://", "https://")):
        raise ServiceError(_l("Enter a web address starting with http:// or https://."),
                           field="website")  # fmt: skip
    if any(c.isspace() or c in "<>\"'" for c in value):
        raise ServiceError(_l("Enter a valid web address."), field="website")
    return value


def _email(text: str | None) -> str:
    value = _clean(text, 254).lower()
    if value and (value.count("@") != 1 or "." not in value.split("@")[1] or " " in value
                  or any(c in value for c in "<>\"'")):  # fmt: skip
        raise ServiceError(_l("Enter a valid e-mail address."), field="contact_email")
    return value


@dataclass
class CompanyData:
    name_en: str = ""
    name_ko: str = ""
    country_code: str = ""
    city: str = ""
    website: str = ""
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    description_en: str = ""
    description_ko: str = ""


def _company_values(data: CompanyData) -> dict:
    name_en = _one_line(data.name_en, 200, "name_en")
    if not name_en:
        raise ServiceError(_l("Give the company's name in English."), field="name_en")
    country = (data.country_code or "").strip().upper()
    if not is_country_code(country):
        raise ServiceError(_l("Choose the company's country."), field="country_code")
    return {
        "name_en": name_en,
        "name_ko": _one_line(data.name_ko, 200, "name_ko"),
        "country_code": country,
        "city": _one_line(data.city, 120, "city"),
        "website": _website(data.website),
        "contact_name": _one_line(data.contact_name, 200, "contact_name"),
        "contact_email": _email(data.contact_email),
        "contact_phone": _one_line(data.contact_phone, 60, "contact_phone"),
        "description_en": _clean(data.description_en, 10000),
        "description_ko": _clean(data.description_ko, 10000),
    }


@dataclass
class ProductData:
    name_en: str = ""
    name_ko: str = ""
    product_type: str = ""
    description_en: str = ""
    description_ko: str = ""
    sheet: bytes | None = None
    sheet_filename: str = ""
    remove_sheet: bool = False


def _product_values(data: ProductData) -> dict:
    name_en = _one_line(data.name_en, 200, "name_en")
    name_ko = _one_line(data.name_ko, 200, "name_ko")
    if not (name_en or name_ko):
        raise ServiceError(_l("Give the product's name in English or in Korean."), field="name_en")
    try:
        product_type = ProductType(data.product_type)
    except ValueError:
        raise ServiceError(_l("Choose the type of product."), field="product_type") from None
    return {
        "name_en": name_en,
        "name_ko": name_ko,
        "product_type": product_type,
        "description_en": _clean(data.description_en, 10000),
        "description_ko": _clean(data.description_ko, 10000),
    }


def _store_sheet(product: Product, data: bytes, filename: str) -> None:
    if len(data) > MAX_SHEET_BYTES:
        raise ServiceError(_l("A product sheet may be at most 10 MB."), field="sheet")
    if uploads.sniff_document(data, frozenset({"application/pdf"})) != "application/pdf":
        raise ServiceError(_l("The product sheet must be a PDF document."), field="sheet")
    product.sheet_sha256 = uploads.store(data, SHEET_FOLDER, "pdf")
    product.sheet_filename = uploads.safe_filename(filename, "pdf", default="product-sheet")
    product.sheet_size = len(data)


# --- search text -------------------------------------------------------------------------------


def _company_search_text(company: Company) -> str:
    return search_key(company.name_en, company.name_ko, company.city, company.country_code,
                      country_name(company.country_code, "en"),
                      country_name(company.country_code, "ko"),
                      company.description_en, company.description_ko)  # fmt: skip


def refresh_product_search_text(product: Product) -> None:
    company = product.company or db.session.get(Company, product.company_id)
    parts = [product.name_en, product.name_ko, product.description_en, product.description_ko,
             TYPE_WORDS[product.product_type], company.name_en, company.name_ko]  # fmt: skip
    for cert in product.certifications:
        parts += [KIND_WORDS[cert.kind], cert.reference, cert.issuing_authority]
    product.search_text = search_key(*parts)


# --- companies ---------------------------------------------------------------------------------


def _initial_state(actor) -> dict:
    if actor.is_secretariat:
        return {"state": EntryState.VETTED, "vetted_by_id": actor.id, "vetted_at": utcnow()}
    return {"state": EntryState.PENDING}


def _back_to_pending(actor, entry: Company | Product) -> EntryState:
    """A delegate's change to a vetted (or rejected) entry sends it back to the secretariat."""
    previous = entry.state
    if not actor.is_secretariat and entry.state != EntryState.PENDING:
        entry.state = EntryState.PENDING
        entry.vetted_at = None
        entry.vetted_by_id = None
        entry.rejection_reason = ""
    return previous


def create_company(actor, data: CompanyData) -> Company:
    """A delegate (pending) or the secretariat (vetted at once) adds a company."""
    require_submitter(actor)
    values = _company_values(data)
    company = Company(**values, **_initial_state(actor), submitted_by_id=actor.id,
                      city_id=None if actor.is_secretariat else actor.city_id)  # fmt: skip
    company.search_text = _company_search_text(company)
    db.session.add(company)
    db.session.flush()
    audit.record("catalogue_company_added", company, actor=actor, to_state=company.state.value,
                 details={"name": company.name_en})  # fmt: skip
    return company


def update_company(actor, company: Company, data: CompanyData) -> None:
    """The submitting city or the secretariat corrects a company; a delegate's change of a vetted
    company puts it back to pending (its products leave the public catalogue until it is vetted
    again)."""
    require_editor(actor, company)
    values = _company_values(data)
    for key, value in values.items():
        setattr(company, key, value)
    previous = _back_to_pending(actor, company)
    company.search_text = _company_search_text(company)
    for product in company.products:
        refresh_product_search_text(product)
    audit.record("catalogue_company_updated", company, actor=actor, from_state=previous.value,
                 to_state=company.state.value)  # fmt: skip


# --- products ----------------------------------------------------------------------------------


def create_product(actor, company: Company, data: ProductData) -> Product:
    """Add a product to a company the actor can see (a vetted one, or the city's own)."""
    require_submitter(actor)
    if (
        not can_see_company(actor, company)
        or company.state == EntryState.REJECTED
        and not (can_edit(actor, company))
    ):
        raise PermissionDenied(_l("You cannot add products to this company."))
    values = _product_values(data)
    product = Product(company=company, **values, **_initial_state(actor),
                      submitted_by_id=actor.id,
                      city_id=None if actor.is_secretariat else actor.city_id)  # fmt: skip
    if data.sheet:
        _store_sheet(product, data.sheet, data.sheet_filename)
    db.session.add(product)
    db.session.flush()
    refresh_product_search_text(product)
    audit.record("catalogue_product_added", product, actor=actor, to_state=product.state.value,
                 details={"company": company.id, "sheet": product.sheet_sha256})  # fmt: skip
    return product


def update_product(actor, product: Product, data: ProductData) -> None:
    require_editor(actor, product)
    values = _product_values(data)
    for key, value in values.items():
        setattr(product, key, value)
    if data.sheet:
        _store_sheet(product, data.sheet, data.sheet_filename)
    elif data.remove_sheet:
        product.sheet_sha256, product.sheet_size, product.sheet_filename = None, None, ""
    previous = _back_to_pending(actor, product)
    refresh_product_search_text(product)
    audit.record("catalogue_product_updated", product, actor=actor, from_state=previous.value,
                 to_state=product.state.value, details={"sheet": product.sheet_sha256})  # fmt: skip


@dataclass
class CertificationData:
    kind: str = ""
    reference: str = ""
    issuing_authority: str = ""
    issued_on: date | None = None
    expires_on: date | None = None


def add_certification(actor, product: Product, data: CertificationData,
                      today: date | None = None) -> Certification:  # fmt: skip
    """A certification or export permission of a product: issued by a named authority, on a day
    not in the future, expiring (if at all) after that day."""
    require_editor(actor, product)
    today = today or date.today()
    try:
        kind = CertificationKind(data.kind)
    except ValueError:
        raise ServiceError(_l("Choose the kind of certification."), field="kind") from None
    authority = _one_line(data.issuing_authority, 200, "issuing_authority")
    if not authority:
        raise ServiceError(_l("Name the authority that issued it."), field="issuing_authority")
    reference = _one_line(data.reference, 120, "reference")
    if data.issued_on is None:
        raise ServiceError(_l("Give the date it was issued."), field="issued_on")
    if data.issued_on > today:
        raise ServiceError(_l("The date of issue cannot be in the future."), field="issued_on")
    if data.expires_on is not None and data.expires_on <= data.issued_on:
        raise ServiceError(_l("The expiry date must come after the date of issue."),
                           field="expires_on")  # fmt: skip
    cert = Certification(product=product, kind=kind, reference=reference,
                         issuing_authority=authority, issued_on=data.issued_on,
                         expires_on=data.expires_on, added_by_id=actor.id)  # fmt: skip
    db.session.add(cert)
    previous = _back_to_pending(actor, product)
    db.session.flush()
    refresh_product_search_text(product)
    audit.record("catalogue_certification_added", product, actor=actor,
                 from_state=previous.value, to_state=product.state.value,
                 details={"certification": cert.id, "kind": kind.value,
                          "issued_on": cert.issued_on.isoformat()})  # fmt: skip
    return cert


def remove_certification(actor, cert: Certification) -> None:
    product = cert.product
    require_editor(actor, product)
    audit.record("catalogue_certification_removed", product, actor=actor,
                 details={"certification": cert.id, "kind": cert.kind.value})  # fmt: skip
    product.certifications.remove(cert)
    _back_to_pending(actor, product)
    db.session.flush()
    refresh_product_search_text(product)


# --- vetting -----------------------------------------------------------------------------------


def _mail_submitter(entry: Company | Product, template: str, **context) -> None:
    user = entry.submitted_by
    if user is None or not user.email:
        return
    queue_mail(user.email, template, user.locale or "en", recipient=user, entry=entry, **context)


def vet(actor, entry: Company | Product) -> None:
    """The secretariat vets a pending (or rejected) entry. A product is vetted only after its
    company, so that nothing public hangs off an unvetted company."""
    require_secretariat(actor)
    if entry.state == EntryState.VETTED:
        raise StateConflict(_l("This entry is already vetted."))
    if isinstance(entry, Product) and entry.company.state != EntryState.VETTED:
        raise StateConflict(_l("Vet the company first."))
    previous = entry.state
    entry.state = EntryState.VETTED
    entry.vetted_by_id = actor.id
    entry.vetted_at = utcnow()
    entry.rejection_reason = ""
    audit.record(f"catalogue_{_kind(entry)}_vetted", entry, actor=actor,
                 from_state=previous.value, to_state=entry.state.value)  # fmt: skip


def reject(actor, entry: Company | Product, reason: str) -> None:
    """The secretariat rejects an entry with a reason, which is mailed to its submitter."""
    require_secretariat(actor)
    reason = _clean(reason, 2000)
    if not reason:
        raise ServiceError(_l("Say why the entry is rejected."), field="reason")
    if entry.state == EntryState.REJECTED:
        raise StateConflict(_l("This entry is already rejected."))
    previous = entry.state
    entry.state = EntryState.REJECTED
    entry.vetted_by_id = actor.id
    entry.vetted_at = None
    entry.rejection_reason = reason
    audit.record(f"catalogue_{_kind(entry)}_rejected", entry, actor=actor,
                 from_state=previous.value, to_state=entry.state.value, reason=reason)  # fmt: skip
    if isinstance(entry, Product):
        link = url_for("catalogue.product_page", product_id=entry.id, _external=True)
    else:
        link = url_for("catalogue.company_page", company_id=entry.id, _external=True)
    _mail_submitter(entry, "catalogue/emails/rejected.txt", reason=reason, link=link)


def _kind(entry) -> str:
    return "product" if isinstance(entry, Product) else "company"


def pending_queue() -> tuple[list[Company], list[Product]]:
    companies = db.session.scalars(
        select(Company).where(Company.state == EntryState.PENDING).order_by(Company.created_at)
    ).all()
    products = db.session.scalars(
        select(Product).where(Product.state == EntryState.PENDING)
        .options(selectinload(Product.company), selectinload(Product.certifications))
        .order_by(Product.created_at)
    ).all()  # fmt: skip
    return list(companies), list(products)


# --- reading -----------------------------------------------------------------------------------


@dataclass
class CatalogueQuery:
    q: str = ""
    product_type: str = ""
    country: str = ""
    kind: str = ""
    export: bool = False
    page: int = 1
    extra: dict = field(default_factory=dict)


def _has_certification(kind: CertificationKind, today: date, valid_only: bool):
    cert = aliased(Certification)
    conditions = [cert.product_id == Product.id, cert.kind == kind]
    if valid_only:
        conditions.append(or_(cert.expires_on.is_(None), cert.expires_on >= today))
    return exists().where(*conditions)


def product_query(viewer, query: CatalogueQuery, today: date | None = None) -> Select:
    """The products ``viewer`` may see that match ``query``, by company then product name."""
    today = today or date.today()
    stmt = select(Product).join(Product.company).where(product_clause(viewer))
    if query.q:
        stmt = stmt.where(Product.search_text.contains(search_key(query.q[:200]), autoescape=True))
    if query.product_type:
        try:
            stmt = stmt.where(Product.product_type == ProductType(query.product_type))
        except ValueError:
            stmt = stmt.where(false())
    if query.country:
        stmt = stmt.where(Company.country_code == query.country.upper()[:2])
    if query.kind:
        try:
            stmt = stmt.where(_has_certification(CertificationKind(query.kind), today, False))
        except ValueError:
            stmt = stmt.where(false())
    if query.export:
        # a current export permission: not expired today
        stmt = stmt.where(_has_certification(CertificationKind.EXPORT_PERMISSION, today, True))
    return stmt.options(
        selectinload(Product.company), selectinload(Product.certifications)
    ).order_by(Company.name_en, Product.name_en, Product.id)


def search_products(viewer, query: CatalogueQuery):
    return db.paginate(product_query(viewer, query), page=max(query.page, 1), per_page=PER_PAGE,
                       error_out=False)  # fmt: skip


def has_export_permission(product: Product, today: date) -> bool:
    return any(c.kind == CertificationKind.EXPORT_PERMISSION and not c.expired(today)
               for c in product.certifications)  # fmt: skip


def country_codes_in_use(viewer) -> list[str]:
    return list(db.session.scalars(
        select(Company.country_code).where(company_clause(viewer)).distinct()
        .order_by(Company.country_code)
    ))  # fmt: skip


def company_products(viewer, company: Company) -> list[Product]:
    return list(db.session.scalars(
        select(Product).join(Product.company)
        .where(Product.company_id == company.id, product_clause(viewer))
        .options(selectinload(Product.certifications)).order_by(Product.name_en, Product.id)
    ))  # fmt: skip


def public_products():
    """Vetted products of vetted companies (what the resource offer form may link)."""
    return list(db.session.scalars(
        select(Product).join(Product.company)
        .where(Product.state == EntryState.VETTED, Company.state == EntryState.VETTED)
        .options(selectinload(Product.company)).order_by(Company.name_en, Product.name_en)
    ))  # fmt: skip


def linkable_product(product_id: int | None) -> Product | None:
    """The vetted product an offer names, or a ServiceError (no unvetted product is linked)."""
    if not product_id:
        return None
    product = db.session.get(Product, product_id)
    if product is None or not product.is_public:
        raise ServiceError(_l("Choose a vetted product from the catalogue."), field="product_id")
    return product


def offers_linking(viewer, product: Product) -> list:
    """The live, visible offers that name ``product`` (members only)."""
    from cacnet.resources.models import LIVE_POST_STATES, PostKind, ResourcePost

    if not is_network_member(viewer):
        return []
    return list(db.session.scalars(
        select(ResourcePost).where(
            ResourcePost.product_id == product.id, ResourcePost.kind == PostKind.OFFER,
            ResourcePost.state.in_(LIVE_POST_STATES), ResourcePost.hidden_at.is_(None),
        ).options(selectinload(ResourcePost.city)).order_by(ResourcePost.created_at.desc())
    ))  # fmt: skip
