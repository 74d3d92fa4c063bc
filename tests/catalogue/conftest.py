"""Fixtures of the supplier catalogue: member cities with a delegate each (Seoul, London;
Budapest suspended), the secretariat, an admin, and builders of entries made through the
services."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from cacnet.core.db import db
from tests.helpers import user  # noqa: F401 - the modules of this folder import it from here


@pytest.fixture
def network(app, make_network):
    """{"Seoul": {"city_id", "admin", "delegate", "slug"}, "London": …, "Budapest": …
    (suspended), "secretariat": e-mail, "admin": e-mail}, with the exchange's categories."""
    from cacnet.resources.taxonomy import ensure_taxonomy

    found = make_network((("Seoul", "KR"), ("London", "GB"), ("Budapest", "HU")), "Budapest")
    with app.app_context():
        ensure_taxonomy()
        db.session.commit()
    return found


@pytest.fixture
def make_product(app, network):
    """make_product(by=e-mail, vetted=True, **fields) -> (company_id, product_id): a company with
    one product, an MFDS approval and an export permission, made through the services (vetted by
    the secretariat unless vetted=False)."""
    from cacnet.catalogue import services

    def _make(by: str | None = None, vetted: bool = True, company="Example Bio Co.",
              product="Example nasopharyngeal swab kit", product_ko="예시 비인두 검체 채취 키트",
              product_type="specimen_collection_kit", country="KR"):  # fmt: skip
        with app.test_request_context(base_url=app.config["BASE_URL"]):
            actor = user(by or network["Seoul"]["delegate"])
            officer = user(network["secretariat"])
            c = services.create_company(actor, services.CompanyData(
                name_en=company, country_code=country, contact_name="Lee Min-jun",
                contact_email="sales@examplebio.example", contact_phone="+82 2 555 0100",
                website="https://examplebio.example"))  # fmt: skip
            p = services.create_product(actor, c, services.ProductData(
                name_en=product, name_ko=product_ko, product_type=product_type))  # fmt: skip
            today = date.today()
            services.add_certification(actor, p, services.CertificationData(
                kind="mfds_approval", reference="MFDS-20-001",
                issuing_authority="Ministry of Food and Drug Safety",
                issued_on=today - timedelta(days=300)))  # fmt: skip
            services.add_certification(actor, p, services.CertificationData(
                kind="export_permission", reference="EXP-20-114",
                issuing_authority="Ministry of Food and Drug Safety",
                issued_on=today - timedelta(days=200), expires_on=today + timedelta(days=165)))  # fmt: skip
            if vetted:
                if c.state.value != "vetted":
                    services.vet(officer, c)
                if p.state.value != "vetted":
                    services.vet(officer, p)
            db.session.commit()
            return c.id, p.id

    return _make
