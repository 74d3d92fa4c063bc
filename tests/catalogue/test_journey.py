"""A delegate adds a company, a product with its sheet and certifications; the public cannot see
it until the secretariat vets it; then anyone finds it by search and filters, and a delegate
offers it on the resource exchange. In English and in Korean."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from cacnet.catalogue.models import Certification, Company, EntryState, Product
from cacnet.core.db import db
from cacnet.resources.models import ResourceCategory, ResourcePost
from tests.conftest import login, submit
from tests.helpers import pdf_bytes

COMPANY = {
    "en": {"name_en": "Example Bio Co.", "name_ko": "예시바이오", "city": "Seoul",
           "description_en": "Makes swabs and transport media."},
    "ko": {"name_en": "Sample Diagnostics Ltd.", "name_ko": "샘플진단", "city": "Daejeon",
           "description_ko": "진단 시약을 만듭니다."},
}  # fmt: skip
PRODUCT = {
    "en": {"name_en": "Example swab kit", "name_ko": "예시 검체 채취 키트",
           "product_type": "specimen_collection_kit"},
    "ko": {"name_en": "", "name_ko": "샘플 RT-PCR 진단 시약", "product_type": "diagnostic_reagent"},
}  # fmt: skip


def _id(response, pattern: str) -> int:
    return int(re.search(pattern, response.headers["Location"]).group(1))


@pytest.mark.parametrize("language", ["en", "ko"])
def test_delegate_adds_secretariat_vets_public_finds_delegate_offers(app, network, outbox,
                                                                   language):  # fmt: skip
    seoul, officer, public, london = (app.test_client() for _ in range(4))
    login(seoul, network["Seoul"]["delegate"])
    login(officer, network["secretariat"])
    login(london, network["London"]["delegate"])
    for client in (seoul, public, london):
        client.get(f"/language/{language}")
    today = date.today()

    added = submit(seoul, "/catalogue/companies/new", {
        **COMPANY[language], "country_code": "KR", "website": "https://bio.example",
        "contact_name": "Lee Min-jun", "contact_email": "Sales@Bio.example",
        "contact_phone": "+82 2 555 0100"})  # fmt: skip
    assert added.status_code == 302, added.get_data(as_text=True)[:3000]
    company_id = _id(added, r"/catalogue/companies/(\d+)")
    made = seoul.post(
        f"/catalogue/companies/{company_id}/products/new",
        data={**PRODUCT[language], "description_en": "Sterile flocked swab, 3 ml VTM.",
              "csrf_token": _token(seoul, f"/catalogue/companies/{company_id}/products/new"),
              "sheet": (io.BytesIO(pdf_bytes()), "sheet <1>.pdf")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert made.status_code == 302, made.get_data(as_text=True)[:3000]
    product_id = _id(made, r"/catalogue/products/(\d+)")
    page = f"/catalogue/products/{product_id}"
    for kind, ref, expires in (("mfds_approval", "MFDS-20-001", ""),
                               ("export_permission", "EXP-20-114",
                                (today + timedelta(days=100)).isoformat()),
                               ("ce_ivd", "CE-OLD-1", (today - timedelta(days=10)).isoformat())):  # fmt: skip
        cert = submit(seoul, f"{page}/certifications/new", {
            "kind": kind, "reference": ref, "issuing_authority": "식품의약품안전처 MFDS",
            "issued_on": (today - timedelta(days=400)).isoformat(), "expires_on": expires})  # fmt: skip
        assert cert.status_code == 302, cert.get_data(as_text=True)[:3000]

    # waiting: the city sees it marked, the public does not see it anywhere
    own = seoul.get(page).get_data(as_text=True)
    assert "MFDS-20-001" in own and "catalogue-pending" in own
    assert public.get(page).status_code == 404
    assert public.get(f"/catalogue/companies/{company_id}").status_code == 404
    assert public.get(f"{page}/sheet").status_code == 404
    assert PRODUCT[language]["name_ko"] not in public.get("/catalogue/?q=").get_data(as_text=True)
    assert PRODUCT[language]["name_ko"] not in public.get("/catalogue.csv").get_data(as_text=True)
    listed = seoul.get("/catalogue/").get_data(as_text=True)
    assert PRODUCT[language]["name_ko"] in listed and "catalogue-pending" in listed

    # the secretariat vets the company, then the product
    queue = officer.get("/secretariat/catalogue").get_data(as_text=True)
    assert COMPANY[language]["name_en"] in queue
    early = submit(officer, f"/secretariat/catalogue/product/{product_id}/vet", page=page)
    assert early.status_code == 302
    with app.app_context():
        assert db.session.get(Product, product_id).state == EntryState.PENDING  # company first
    for kind, entry in (("company", company_id), ("product", product_id)):
        vetted = submit(officer, f"/secretariat/catalogue/{kind}/{entry}/vet",
                        page="/secretariat/catalogue")  # fmt: skip
        assert vetted.status_code == 302

    # the public finds it by search in either language and by the filters
    detail = public.get(page).get_data(as_text=True)
    assert 'lang="ko"' in detail or language == "ko"
    assert "식품의약품안전처 MFDS" in detail and "sales@bio.example" in detail
    assert "catalogue-pending" not in detail
    assert re.search(r'<tr class="greyed">\s*<td>CE-IVD', detail)  # the expired mark
    for query in ("q=" + PRODUCT[language]["name_ko"].split()[0], "q=식품의약품안전처",
                  "q=" + COMPANY[language]["name_en"].split()[0].upper(),
                  f"type={PRODUCT[language]['product_type']}", "country=KR",
                  "kind=mfds_approval", "export=1", "q=export+permission"):  # fmt: skip
        found = public.get(f"/catalogue/?{query}").get_data(as_text=True)
        assert f"/catalogue/products/{product_id}" in found, query
    assert f"/catalogue/products/{product_id}" not in public.get("/catalogue/?type=ppe").get_data(
        as_text=True
    )
    assert f"/catalogue/products/{product_id}" not in public.get("/catalogue/?country=GB").get_data(
        as_text=True
    )
    sheet = public.get(f"{page}/sheet")
    assert sheet.status_code == 200 and sheet.data.startswith(b"%PDF")
    assert sheet.mimetype == "application/pdf"
    assert "sheet _1_.pdf" in sheet.headers["Content-Disposition"]
    exported = public.get("/catalogue.csv?export=1").get_data(as_text=True)
    assert PRODUCT[language]["name_ko"] in exported and "EXP-20-114" in exported

    # London offers the product on the resource exchange; the post and the product link each other
    with app.app_context():
        category = db.session.scalar(select(ResourceCategory.id).where(
            ResourceCategory.slug == "test-kits"))  # fmt: skip
    offered = submit(london, "/resources/new", {
        "kind": "offer", "category_id": category, "title_en": "Swab kits from our reserve",
        "quantity": "5000", "unit": "kits", "urgency": "normal", "conditions": "free",
        "expires_on": (today + timedelta(days=30)).isoformat(), "contact_id": "0",
        "product_id": str(product_id)})  # fmt: skip
    assert offered.status_code == 302, offered.get_data(as_text=True)[:3000]
    post_page = london.get(offered.headers["Location"]).get_data(as_text=True)
    assert f'href="/catalogue/products/{product_id}"' in post_page
    assert "Swab kits from our reserve" in london.get(page).get_data(as_text=True)
    assert "Swab kits from our reserve" not in public.get(page).get_data(as_text=True)

    # a delegate's change sends the vetted product back to the secretariat
    changed = submit(seoul, f"{page}/edit", {**PRODUCT[language], "name_en": "Example swab kit 2"})
    assert changed.status_code == 302
    assert public.get(page).status_code == 404
    with app.app_context():
        assert db.session.get(Product, product_id).state == EntryState.PENDING
        assert db.session.scalar(select(func.count(Certification.id))) == 3
        assert db.session.scalar(select(func.count(ResourcePost.id))) == 1

    # the secretariat rejects it with a reason, which is mailed to the submitter
    rejected = submit(officer, f"/secretariat/catalogue/product/{product_id}/reject",
                      {"reason": "The sheet is for another product."},
                      page="/secretariat/catalogue")  # fmt: skip
    assert rejected.status_code == 302
    mails = outbox.to(network["Seoul"]["delegate"])
    assert len(mails) == 1 and "The sheet is for another product." in mails[0].get_content()
    assert "The sheet is for another product." in seoul.get(page).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Company, company_id).state == EntryState.VETTED


def _token(client, url: str) -> str:
    from tests.conftest import csrf_token

    return csrf_token(client.get(url).get_data(as_text=True))
