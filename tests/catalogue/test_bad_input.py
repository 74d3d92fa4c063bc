"""Bad input is refused with a clear message and nothing is stored: a certification issued in
the future or expiring before its issue, markup in names, a javascript: website, a product sheet
that is really an image or text, a product named on a request or an unvetted one."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from cacnet.catalogue import services
from cacnet.catalogue.models import Certification, Company, Product
from cacnet.core.db import db
from cacnet.core.errors import ServiceError
from cacnet.resources.models import ResourceCategory, ResourcePost
from tests.catalogue.conftest import user
from tests.conftest import csrf_token, login, submit


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(model.id)))


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, "PNG")
    return buffer.getvalue()


GOOD_COMPANY = {"name_en": "Example Medical Co.", "country_code": "KR"}


@pytest.mark.parametrize("field, value, message", [
    ("name_en", "<script>alert(1)</script>", "Use plain text"),
    ("name_ko", "<b>예시</b>", "Use plain text"),
    ("city", "Seoul<img src=x>", "Use plain text"),
    ("contact_name", "<a href=x>Lee</a>", "Use plain text"),
    ("contact_phone", "<svg onload=x>", "Use plain text"),
    ("website", "javascript:alert(1)", "http:// or https://"),
    ("contact_email", "not an address", "valid e-mail"),
    ("country_code", "XX", "Not a valid choice"),
    ("name_en", "", "This field is required"),
])  # fmt: skip
def test_bad_company_fields_are_refused(app, client, network, field, value, message):
    login(client, network["Seoul"]["delegate"])
    response = submit(client, "/catalogue/companies/new", {**GOOD_COMPANY, field: value})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _count(app, Company) == 0


def test_markup_in_descriptions_is_shown_as_text(app, client, network):
    login(client, network["Seoul"]["delegate"])
    response = submit(client, "/catalogue/companies/new", {
        **GOOD_COMPANY, "description_en": "<script>alert(1)</script> see https://ok.example"})  # fmt: skip
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page
    assert '<a href="https://ok.example"' in page


@pytest.mark.parametrize("kind, issued, expires, message", [
    ("mfds_approval", 1, None, "cannot be in the future"),
    ("export_permission", -10, -20, "must come after the date of issue"),
    ("export_permission", -10, -10, "must come after the date of issue"),
    ("ce_ivd", -10, None, None),  # authority missing, below
    ("nonsense", -10, None, "Not a valid choice"),
])  # fmt: skip
def test_bad_certifications_are_refused(app, client, network, make_product, kind, issued,
                                        expires, message):  # fmt: skip
    _, product_id = make_product(vetted=False)
    before = _count(app, Certification)
    login(client, network["Seoul"]["delegate"])
    today = date.today()
    data = {"kind": kind, "reference": "R-1", "issuing_authority": "MFDS",
            "issued_on": (today + timedelta(days=issued)).isoformat(),
            "expires_on": (today + timedelta(days=expires)).isoformat() if expires else ""}  # fmt: skip
    if message is None:
        data["issuing_authority"], message = "", "This field is required"
    response = submit(client, f"/catalogue/products/{product_id}/certifications/new", data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _count(app, Certification) == before


def test_the_service_refuses_a_future_issue_and_the_database_an_early_expiry(app, network,
                                                                            make_product):  # fmt: skip
    _, product_id = make_product(vetted=False)
    with app.test_request_context():
        product = db.session.get(Product, product_id)
        actor = user(network["Seoul"]["delegate"])
        with pytest.raises(ServiceError, match="future"):
            services.add_certification(actor, product, services.CertificationData(
                kind="who_eul", issuing_authority="WHO",
                issued_on=date.today() + timedelta(days=1)))  # fmt: skip
        db.session.rollback()
        from sqlalchemy.exc import IntegrityError

        db.session.add(Certification(product_id=product_id, kind="who_eul",
                                     issuing_authority="WHO", issued_on=date(2021, 5, 1),
                                     expires_on=date(2021, 4, 1)))  # fmt: skip
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


@pytest.mark.parametrize("name, data, message", [
    ("a PNG", _png(), "must be a PDF"),
    ("text", b"%PDF-1.4 this is only text pretending", "must be a PDF"),
    ("plain text", b"hello, I am a product sheet", "must be a PDF"),
])  # fmt: skip
def test_a_product_sheet_that_is_not_a_pdf_is_refused(app, client, network, make_product, name,
                                                      data, message):  # fmt: skip
    company_id, _ = make_product()
    before = _count(app, Product)
    login(client, network["Seoul"]["delegate"])
    url = f"/catalogue/companies/{company_id}/products/new"
    response = client.post(url, data={
        "csrf_token": csrf_token(client.get(url).get_data(as_text=True)),
        "name_en": "Lying sheet kit", "product_type": "ppe",
        "sheet": (io.BytesIO(data), "sheet.pdf")}, content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _count(app, Product) == before


def test_a_product_needs_a_name_and_a_type_and_plain_names(app, client, network, make_product):
    company_id, _ = make_product()
    before = _count(app, Product)
    login(client, network["Seoul"]["delegate"])
    url = f"/catalogue/companies/{company_id}/products/new"
    for data, message in (({"product_type": "ppe"}, "at least one"),
                          ({"name_en": "<i>Mask</i>", "product_type": "ppe"}, "Use plain text"),
                          ({"name_en": "Mask", "product_type": "toy"}, "Not a valid choice")):  # fmt: skip
        response = submit(client, url, data)
        assert response.status_code == 422
        if message == "at least one":
            message = "name in English or in Korean."
        assert message in response.get_data(as_text=True), data
    assert _count(app, Product) == before


def _post(product_id, kind="offer"):
    today = date.today()
    return {"kind": kind, "title_en": "Swab kits", "quantity": "100", "unit": "kits",
            "urgency": "normal", "conditions": "free", "contact_id": "0",
            "expires_on": (today + timedelta(days=30)).isoformat(),
            "product_id": str(product_id)}  # fmt: skip


def _category(app) -> int:
    with app.app_context():
        return db.session.scalar(
            select(ResourceCategory.id).where(ResourceCategory.slug == "test-kits")
        )


def test_a_request_cannot_name_a_product(app, client, network, make_product):
    _, product_id = make_product()
    login(client, network["London"]["delegate"])
    response = submit(client, "/resources/new",
                      {**_post(product_id, "request"), "category_id": _category(app)})  # fmt: skip
    assert response.status_code == 422
    assert "Only an offer can name a product" in response.get_data(as_text=True)
    assert _count(app, ResourcePost) == 0


def test_an_unvetted_or_unknown_product_cannot_be_named(app, client, network, make_product):
    _, pending_id = make_product(vetted=False, company="Pending Co.")
    login(client, network["Seoul"]["delegate"])  # even by the city that submitted it
    form = client.get("/resources/new").get_data(as_text=True)
    choices = form[form.index('name="product_id"') :].split("</select>")[0]
    assert "Pending Co." not in choices and "Example Bio Co." not in choices
    for product_id in (pending_id, 999999):
        response = submit(client, "/resources/new",
                          {**_post(product_id), "category_id": _category(app)})  # fmt: skip
        assert response.status_code == 422
        assert "Choose a vetted product from the catalogue." in response.get_data(as_text=True)
    assert _count(app, ResourcePost) == 0
