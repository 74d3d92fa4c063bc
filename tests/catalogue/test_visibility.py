"""Who sees what: the public sees vetted products of vetted companies; a member city's delegates
and admins also see their own city's entries waiting for vetting; the secretariat and admins see
everything. The same rule on the list, the detail page, the product sheet, the CSV export and
the header search (which lists vetted products only, for everyone)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import select

from cacnet.catalogue import search, services
from cacnet.catalogue.models import Product
from cacnet.core.db import db
from cacnet.resources import services as resources
from cacnet.resources.models import ResourceCategory
from cacnet.search.registry import PROVIDERS
from tests.catalogue.conftest import user
from tests.conftest import login
from tests.helpers import pdf_bytes

# role -> (sees the pending entry of Seoul, is a member (sees linked offers), may add entries)
ROLES = {
    "anonymous": (False, False, False),
    "seoul_delegate": (True, True, True),
    "seoul_admin": (True, True, True),
    "london_delegate": (False, True, True),
    "london_admin": (False, True, True),
    "budapest_delegate": (False, True, False),  # suspended city: may look, not act
    "secretariat": (True, True, True),
    "admin": (True, True, True),
}


def _email(network, role: str) -> str | None:
    return {
        "anonymous": None,
        "seoul_delegate": network["Seoul"]["delegate"],
        "seoul_admin": network["Seoul"]["admin"],
        "london_delegate": network["London"]["delegate"],
        "london_admin": network["London"]["admin"],
        "budapest_delegate": network["Budapest"]["delegate"],
        "secretariat": network["secretariat"],
        "admin": network["admin"],
    }[role]


@pytest.fixture
def entries(app, network, make_product):
    """A vetted product (with a sheet, offered by London) and Seoul's pending one."""
    company_id, vetted_id = make_product()
    pending_company_id, pending_id = make_product(
        vetted=False, company="Waiting Reagents Co.", product="Waiting RT-PCR reagent",
        product_ko="대기 중 RT-PCR 시약", product_type="diagnostic_reagent")  # fmt: skip
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        officer = user(network["secretariat"])
        seoul = user(network["Seoul"]["delegate"])
        for product_id, actor in ((vetted_id, officer), (pending_id, seoul)):
            product = db.session.get(Product, product_id)
            services.update_product(actor, product, services.ProductData(
                name_en=product.name_en, name_ko=product.name_ko,
                product_type=product.product_type.value, sheet=pdf_bytes(),
                sheet_filename="sheet.pdf"))  # fmt: skip
        category = db.session.scalar(
            select(ResourceCategory.id).where(ResourceCategory.slug == "test-kits")
        )
        resources.create_post(user(network["London"]["delegate"]), resources.PostData(
            kind="offer", category_id=category, title_en="London's swab kit offer",
            quantity="50", unit="kits", expires_on=date.today() + timedelta(days=20),
            product_id=vetted_id))  # fmt: skip
        db.session.commit()
    return {"vetted": vetted_id, "pending": pending_id, "pending_company": pending_company_id,
            "company": company_id}  # fmt: skip


@pytest.mark.parametrize("role", list(ROLES))
def test_visibility_matrix(app, network, entries, role):
    sees_pending, member, may_add = ROLES[role]
    client = app.test_client()
    if _email(network, role):
        login(client, _email(network, role))
    vetted, pending = entries["vetted"], entries["pending"]

    listed = client.get("/catalogue/").get_data(as_text=True)
    assert f"/catalogue/products/{vetted}" in listed
    assert (f"/catalogue/products/{pending}" in listed) is sees_pending

    exported = client.get("/catalogue.csv").get_data(as_text=True)
    assert "Example nasopharyngeal swab kit" in exported
    assert ("Waiting RT-PCR reagent" in exported) is sees_pending

    detail = client.get(f"/catalogue/products/{vetted}")
    assert detail.status_code == 200
    page = detail.get_data(as_text=True)
    assert "sales@examplebio.example" in page  # a vetted company's contact is public
    assert ("London&#39;s swab kit offer" in page or "London's swab kit offer" in page) is member
    assert client.get(f"/catalogue/products/{vetted}/sheet").status_code == 200
    assert client.get(f"/catalogue/companies/{entries['company']}").status_code == 200

    expected = 200 if sees_pending else 404
    assert client.get(f"/catalogue/products/{pending}").status_code == expected
    assert client.get(f"/catalogue/products/{pending}/sheet").status_code == expected
    assert client.get(f"/catalogue/companies/{entries['pending_company']}").status_code == expected

    form = client.get("/catalogue/companies/new")
    if role == "anonymous":
        assert form.status_code == 302 and "/auth/login" in form.headers["Location"]
    else:
        assert form.status_code == (200 if may_add else 403)
    queue = client.get("/secretariat/catalogue")
    assert queue.status_code == (200 if role in ("secretariat", "admin") else
                                 302 if role == "anonymous" else 403)  # fmt: skip

    with app.test_request_context():
        viewer = user(_email(network, role)) if _email(network, role) else AnonymousUserMixin()
        hits = PROVIDERS["product"].find("rt-pcr", viewer, 10)
        assert hits == []  # the pending reagent is never in the header search
        hits = search.find("swab", viewer, 10)
        assert [h.url for h in hits] == [f"/catalogue/products/{vetted}"]


def test_only_the_submitting_city_and_the_secretariat_change_an_entry(app, network, entries):
    vetted = entries["vetted"]
    for email, status in ((network["London"]["delegate"], 403),
                          (network["Budapest"]["delegate"], 403),
                          (network["Seoul"]["delegate"], 200),
                          (network["secretariat"], 200)):  # fmt: skip
        client = app.test_client()
        login(client, email)
        assert client.get(f"/catalogue/products/{vetted}/edit").status_code == status, email
        assert client.get(f"/catalogue/companies/{entries['company']}/edit").status_code == status
        assert client.get(f"/catalogue/products/{vetted}/certifications/new").status_code == status


def test_the_search_provider_is_registered_as_products(app):
    provider = PROVIDERS["product"]
    with app.test_request_context():
        assert str(provider.label) == "Products"
