"""The supplier catalogue's pages: the list (public: vetted products; members also their city's
entries waiting for vetting), a product, a company, the forms, the CSV export and the
secretariat's vetting queue. Thin: every rule is in ``services``."""

from __future__ import annotations

import csv
import io
from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from cacnet.catalogue import services
from cacnet.catalogue.forms import (
    KIND_LABELS,
    STATE_LABELS,
    TYPE_LABELS,
    ActionForm,
    CertificationForm,
    CompanyForm,
    ProductForm,
    RejectForm,
)
from cacnet.catalogue.models import Certification, Company, EntryState, Product
from cacnet.core.db import db
from cacnet.core.errors import ServiceError
from cacnet.core.i18n import country_choices, country_name
from cacnet.core.permissions import is_network_member
from cacnet.core.uploads import send_stored
from cacnet.core.web import redirect_back, show_service_error, staff_required
from cacnet.situation.exports import guard_cell

bp = Blueprint("catalogue", __name__)


@bp.app_context_processor
def _catalogue_labels():
    return {
        "catalogue_labels": {"types": TYPE_LABELS, "kinds": KIND_LABELS, "states": STATE_LABELS}
    }


def _query() -> services.CatalogueQuery:
    args = request.args
    return services.CatalogueQuery(
        q=args.get("q", "").strip()[:200],
        product_type=args.get("type", ""),
        country=args.get("country", "").strip()[:2],
        kind=args.get("kind", ""),
        export=args.get("export") == "1",
        page=args.get("page", 1, type=int) or 1,
    )


def _product_or_404(product_id: int) -> Product:
    product = db.session.get(Product, product_id)
    if product is None or not services.can_see_product(current_user, product):
        abort(404)
    return product


def _company_or_404(company_id: int) -> Company:
    company = db.session.get(Company, company_id)
    if company is None or not services.can_see_company(current_user, company):
        abort(404)
    return company


def _require_submitter():
    """Forms for those who may submit; others are sent to sign in or get a 403."""
    if not current_user.is_authenticated:
        from flask import current_app

        return current_app.login_manager.unauthorized()
    services.require_submitter(current_user)
    return None


# --- the list ----------------------------------------------------------------------------------


@bp.get("/catalogue/")
def product_list():
    query = _query()
    countries = [(code, country_name(code)) for code in services.country_codes_in_use(current_user)]
    return render_template(
        "catalogue/list.html",
        query=query,
        pagination=services.search_products(current_user, query),
        countries=sorted(countries, key=lambda c: c[1]),
        today=date.today(),
        can_submit=services.can_submit(current_user),
    )


CSV_COLUMNS = ("id", "url", "product_en", "product_ko", "type", "company_en", "company_ko",
               "country", "company_city", "website", "contact_name", "contact_email",
               "contact_phone", "certifications", "export_permission", "product_sheet",
               "state")  # fmt: skip


@bp.get("/catalogue.csv")
def export_csv():
    """What the viewer sees on the list, with the same filters (the public: vetted entries only).
    A cell a spreadsheet would read as a formula is escaped (situation.exports.guard_cell)."""
    query = _query()
    today = date.today()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for p in db.session.scalars(services.product_query(current_user, query, today)):
        c = p.company
        certs = "; ".join(
            f"{x.kind.value} {x.reference} ({x.issuing_authority}, {x.issued_on.isoformat()}"
            f"{' - ' + x.expires_on.isoformat() if x.expires_on else ''})"
            for x in p.certifications
        )
        row = [p.id, url_for("catalogue.product_page", product_id=p.id, _external=True),
               p.name_en, p.name_ko, p.product_type.value, c.name_en, c.name_ko, c.country_code,
               c.city, c.website, c.contact_name, c.contact_email, c.contact_phone, certs,
               "yes" if services.has_export_permission(p, today) else "no",
               url_for("catalogue.sheet", product_id=p.id, _external=True)
               if p.sheet_sha256 else "",
               p.state.value if c.state == EntryState.VETTED else c.state.value]  # fmt: skip
        writer.writerow(guard_cell(v) if isinstance(v, str) else v for v in row)
    response = Response("\ufeff" + out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = "attachment; filename=cacnet-catalogue.csv"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- a product and a company -------------------------------------------------------------------


@bp.get("/catalogue/products/<int:product_id>")
def product_page(product_id: int):
    product = _product_or_404(product_id)
    return render_template(
        "catalogue/product.html",
        product=product,
        company=product.company,
        today=date.today(),
        can_edit=services.can_edit(current_user, product),
        offers=services.offers_linking(current_user, product),
        is_member=is_network_member(current_user),
        action_form=ActionForm(),
        reject_form=RejectForm(),
    )


@bp.get("/catalogue/products/<int:product_id>/sheet")
def sheet(product_id: int):
    product = _product_or_404(product_id)
    if not product.sheet_sha256:
        abort(404)
    return send_stored(product.sheet_sha256, services.SHEET_FOLDER, "pdf", "application/pdf",
                       cache_control="private, max-age=3600",
                       download_name=product.sheet_filename, as_attachment=True)  # fmt: skip


@bp.get("/catalogue/companies/<int:company_id>")
def company_page(company_id: int):
    company = _company_or_404(company_id)
    return render_template(
        "catalogue/company.html",
        company=company,
        products=services.company_products(current_user, company),
        today=date.today(),
        can_edit=services.can_edit(current_user, company),
        can_add=services.can_submit(current_user)
        and (company.state == EntryState.VETTED or services.can_edit(current_user, company)),
        action_form=ActionForm(),
        reject_form=RejectForm(),
    )


# --- forms -------------------------------------------------------------------------------------


def _company_form(form: CompanyForm) -> CompanyForm:
    form.country_code.choices = [("", _("Choose a country"))] + country_choices()
    return form


def _company_data(form: CompanyForm) -> services.CompanyData:
    return services.CompanyData(**{k: getattr(form, k).data or "" for k in (
        "name_en", "name_ko", "country_code", "city", "website", "contact_name", "contact_email",
        "contact_phone", "description_en", "description_ko")})  # fmt: skip


def _render(template: str, status: int | None = None, **context):
    code = status or (422 if request.method == "POST" else 200)
    return render_template(template, **context), code


@bp.route("/catalogue/companies/new", methods=["GET", "POST"])
def new_company():
    if (refusal := _require_submitter()) is not None:
        return refusal
    form = _company_form(CompanyForm())
    if form.validate_on_submit():
        try:
            company = services.create_company(current_user, _company_data(form))
            db.session.commit()
        except ServiceError as error:
            show_service_error(form, error)
        else:
            flash(_("The company is added.") if company.state == EntryState.VETTED
                  else _("The company is added; the secretariat will vet it."), "success")  # fmt: skip
            return redirect(url_for("catalogue.company_page", company_id=company.id))
    elif request.method == "POST":
        flash(_("Please correct the marked fields."), "error")
    return _render("catalogue/company_edit.html", form=form, company=None)


@bp.route("/catalogue/companies/<int:company_id>/edit", methods=["GET", "POST"])
def edit_company(company_id: int):
    if (refusal := _require_submitter()) is not None:
        return refusal
    company = _company_or_404(company_id)
    services.require_editor(current_user, company)
    form = _company_form(CompanyForm(obj=company if request.method == "GET" else None))
    if form.validate_on_submit():
        try:
            services.update_company(current_user, company, _company_data(form))
            db.session.commit()
        except ServiceError as error:
            show_service_error(form, error)
        else:
            flash(_("The company is updated."), "success")
            return redirect(url_for("catalogue.company_page", company_id=company.id))
    elif request.method == "POST":
        flash(_("Please correct the marked fields."), "error")
    return _render("catalogue/company_edit.html", form=form, company=company)


def _product_data(form: ProductForm) -> services.ProductData:
    upload = form.sheet.data
    data, filename = None, ""
    if upload and getattr(upload, "filename", ""):
        data, filename = upload.read(), upload.filename
    return services.ProductData(
        name_en=form.name_en.data or "", name_ko=form.name_ko.data or "",
        product_type=form.product_type.data or "", description_en=form.description_en.data or "",
        description_ko=form.description_ko.data or "", sheet=data, sheet_filename=filename,
        remove_sheet=bool(form.remove_sheet.data),
    )  # fmt: skip


@bp.route("/catalogue/companies/<int:company_id>/products/new", methods=["GET", "POST"])
def new_product(company_id: int):
    if (refusal := _require_submitter()) is not None:
        return refusal
    company = _company_or_404(company_id)
    form = ProductForm()
    if form.validate_on_submit():
        try:
            product = services.create_product(current_user, company, _product_data(form))
            db.session.commit()
        except ServiceError as error:
            show_service_error(form, error)
        else:
            flash(_("The product is added. Add its certifications and export permissions."),
                  "success")  # fmt: skip
            return redirect(url_for("catalogue.product_page", product_id=product.id))
    elif request.method == "POST":
        flash(_("Please correct the marked fields."), "error")
    return _render("catalogue/product_edit.html", form=form, company=company, product=None)


@bp.route("/catalogue/products/<int:product_id>/edit", methods=["GET", "POST"])
def edit_product(product_id: int):
    if (refusal := _require_submitter()) is not None:
        return refusal
    product = _product_or_404(product_id)
    services.require_editor(current_user, product)
    form = ProductForm(obj=product if request.method == "GET" else None)
    if request.method == "GET":
        form.product_type.data = product.product_type.value
    if form.validate_on_submit():
        try:
            services.update_product(current_user, product, _product_data(form))
            db.session.commit()
        except ServiceError as error:
            show_service_error(form, error)
        else:
            flash(_("The product is updated."), "success")
            return redirect(url_for("catalogue.product_page", product_id=product.id))
    elif request.method == "POST":
        flash(_("Please correct the marked fields."), "error")
    return _render("catalogue/product_edit.html", form=form, company=product.company,
                   product=product)  # fmt: skip


@bp.route("/catalogue/products/<int:product_id>/certifications/new", methods=["GET", "POST"])
def new_certification(product_id: int):
    if (refusal := _require_submitter()) is not None:
        return refusal
    product = _product_or_404(product_id)
    services.require_editor(current_user, product)
    form = CertificationForm()
    if form.validate_on_submit():
        try:
            services.add_certification(current_user, product, services.CertificationData(
                kind=form.kind.data or "", reference=form.reference.data or "",
                issuing_authority=form.issuing_authority.data or "",
                issued_on=form.issued_on.data, expires_on=form.expires_on.data))  # fmt: skip
            db.session.commit()
        except ServiceError as error:
            show_service_error(form, error)
        else:
            flash(_("The certification is added."), "success")
            return redirect(url_for("catalogue.product_page", product_id=product.id)
                            + "#certifications")  # fmt: skip
    elif request.method == "POST":
        flash(_("Please correct the marked fields."), "error")
    return _render("catalogue/certification_edit.html", form=form, product=product)


@bp.post("/catalogue/certifications/<int:cert_id>/remove")
def remove_certification(cert_id: int):
    if (refusal := _require_submitter()) is not None:
        return refusal
    cert = db.session.get(Certification, cert_id)
    if cert is None:
        abort(404)
    product = _product_or_404(cert.product_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.remove_certification(current_user, cert)
        db.session.commit()
    except ServiceError as error:
        show_service_error(None, error)
    else:
        flash(_("The certification is removed."), "success")
    return redirect(url_for("catalogue.product_page", product_id=product.id) + "#certifications")


# --- vetting -----------------------------------------------------------------------------------


@bp.get("/secretariat/catalogue")
@staff_required
def queue():
    companies, products = services.pending_queue()
    return render_template("catalogue/queue.html", companies=companies, products=products,
                           action_form=ActionForm(), reject_form=RejectForm(),
                           today=date.today())  # fmt: skip


def _entry(kind: str, entry_id: int) -> Company | Product:
    model = {"company": Company, "product": Product}.get(kind)
    entry = db.session.get(model, entry_id) if model else None
    if entry is None:
        abort(404)
    return entry


@bp.post("/secretariat/catalogue/<kind>/<int:entry_id>/vet")
@staff_required
def vet(kind: str, entry_id: int):
    entry = _entry(kind, entry_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.vet(current_user, entry)
        db.session.commit()
    except ServiceError as error:
        show_service_error(None, error)
    else:
        flash(_("The entry is vetted and public."), "success")
    return redirect_back("catalogue.queue")


@bp.post("/secretariat/catalogue/<kind>/<int:entry_id>/reject")
@staff_required
def reject(kind: str, entry_id: int):
    entry = _entry(kind, entry_id)
    form = RejectForm()
    if form.validate_on_submit():
        try:
            services.reject(current_user, entry, form.reason.data)
            db.session.commit()
        except ServiceError as error:
            show_service_error(None, error)
        else:
            flash(_("The entry is rejected; its submitter is told why."), "success")
    else:
        flash(_("Say why the entry is rejected."), "error")
    return redirect_back("catalogue.queue")
