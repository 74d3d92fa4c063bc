"""The rules of submitting and vetting, through the services: a delegate's change of a vetted
entry puts it back to pending (the secretariat's does not), removing a certification is a
change too, a suspended city's delegates cannot submit, and every change is audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cacnet.catalogue import services
from cacnet.catalogue.models import Company, EntryState, Product
from cacnet.core.audit import AuditEvent
from cacnet.core.db import db
from cacnet.core.errors import PermissionDenied, StateConflict
from tests.catalogue.conftest import user


def test_a_delegates_change_sends_a_vetted_company_back_and_hides_its_products(
    app, network, make_product
):
    company_id, product_id = make_product()
    with app.test_request_context():
        company = db.session.get(Company, company_id)
        data = services.CompanyData(name_en="Example Bio Co. Ltd", country_code="KR")
        services.update_company(user(network["secretariat"]), company, data)
        assert company.state == EntryState.VETTED
        services.update_company(user(network["Seoul"]["delegate"]), company, data)
        db.session.commit()
        assert company.state == EntryState.PENDING and company.vetted_at is None
        product = db.session.get(Product, product_id)
        assert product.state == EntryState.VETTED and not product.is_public
        assert services.can_see_product(user(network["London"]["delegate"]), product) is False
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.object_type == "catalogue_companies")
        ).all()
        assert actions.count("catalogue_company_updated") == 2


def test_removing_a_certification_is_a_change(app, network, make_product):
    _, product_id = make_product()
    with app.test_request_context():
        product = db.session.get(Product, product_id)
        cert = next(c for c in product.certifications if c.reference == "EXP-20-114")
        assert "exp-20-114" in product.search_text
        with pytest.raises(PermissionDenied):
            services.remove_certification(user(network["London"]["delegate"]), cert)
        services.remove_certification(user(network["Seoul"]["delegate"]), cert)
        db.session.commit()
        assert len(product.certifications) == 1
        assert product.state == EntryState.PENDING
        assert "exp-20-114" not in product.search_text  # the removed reference left the search
        assert "mfds-20-001" in product.search_text


def test_a_suspended_citys_delegate_cannot_submit_and_vetting_is_for_the_secretariat(
    app, network, make_product
):
    company_id, _ = make_product(vetted=False)
    with app.test_request_context():
        with pytest.raises(PermissionDenied):
            services.create_company(
                user(network["Budapest"]["delegate"]),
                services.CompanyData(name_en="Other Co.", country_code="HU"),
            )
        company = db.session.get(Company, company_id)
        for email in (network["Seoul"]["delegate"], network["Seoul"]["admin"]):
            with pytest.raises(PermissionDenied):
                services.vet(user(email), company)
        services.vet(user(network["admin"]), company)
        with pytest.raises(StateConflict):
            services.vet(user(network["secretariat"]), company)
        db.session.rollback()


def test_the_secretariats_entries_are_vetted_at_once(app, network):
    with app.test_request_context():
        officer = user(network["secretariat"])
        company = services.create_company(
            officer, services.CompanyData(name_en="Example Gloves Co.", country_code="MY")
        )
        product = services.create_product(
            officer, company, services.ProductData(name_ko="예시 장갑", product_type="ppe")
        )
        db.session.commit()
        assert company.state == product.state == EntryState.VETTED and product.is_public
        assert company.city_id is None and "장갑" in product.search_text
        assert "개인보호구" in product.search_text and "ppe" in product.search_text


def test_the_list_is_paginated(app, client, network):
    with app.test_request_context():
        officer = user(network["secretariat"])
        company = services.create_company(
            officer, services.CompanyData(name_en="Example Masks Co.", country_code="KR")
        )
        for i in range(services.PER_PAGE + 2):
            services.create_product(officer, company, services.ProductData(
                name_en=f"Mask model {i:02d}", product_type="ppe"))  # fmt: skip
        db.session.commit()
    first = client.get("/catalogue/?type=ppe").get_data(as_text=True)
    second = client.get("/catalogue/?type=ppe&page=2").get_data(as_text=True)
    assert "Mask model 00" in first and "Mask model 26" not in first
    assert "Mask model 26" in second and 'rel="prev"' in second and "type=ppe" in second
