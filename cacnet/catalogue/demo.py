"""A small supplier catalogue for the demo (seed-demo): fictional Korean companies (no real
company is named) with specimen collection kits, RT-PCR reagents and protective equipment, their
MFDS approvals, export permissions and CE-IVD marks, one entry waiting for vetting, and the
Jakarta mask offer linked to a product. Made through the services: Seoul's administrator submits,
the secretariat vets; skipped when the catalogue has companies."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from cacnet.accounts.models import User
from cacnet.catalogue import services
from cacnet.catalogue.models import Company
from cacnet.core.db import db

MFDS = "Ministry of Food and Drug Safety (MFDS), Republic of Korea"
NB = "Example Notified Body (EU)"

# (company en, company ko, city, products: [(name en, name ko, type, description,
#   [(kind, reference, authority, issued days ago, valid days or None)])], vetted)
DEMO_COMPANIES = [
    ("Example Bio Co.", "예시바이오", "Seoul", [
        ("Example nasopharyngeal swab kit", "예시 비인두 검체 채취 키트", "specimen_collection_kit",
         "Flocked swab with 3 ml viral transport medium, single use.",
         [("mfds_approval", "MFDS-EX-0001", MFDS, 400, None),
          ("export_permission", "EXP-EX-0114", MFDS, 380, 365),
          ("ce_ivd", "CE-EX-2020-07", NB, 390, None)]),
        ("Example RT-PCR reagent (3 genes)", "예시 RT-PCR 진단 시약(3유전자)", "diagnostic_reagent",
         "Real-time RT-PCR reagent detecting E, RdRp and N genes; 100 tests a kit.",
         [("mfds_approval", "MFDS-EX-0002", MFDS, 350, None),
          ("export_permission", "EXP-EX-0120", MFDS, 340, 365),
          ("ce_ivd", "CE-EX-2020-09", NB, 360, None)]),
    ], True),
    ("Sample Diagnostics Ltd.", "샘플진단", "Daejeon", [
        ("Sample rapid antigen test", "샘플 신속 항원 검사", "diagnostic_reagent",
         "Lateral-flow antigen test, result in 15 minutes.",
         [("ce_ivd", "CE-SD-2020-01", NB, 300, None),
          ("export_permission", "EXP-SD-0031", MFDS, 500, 365)]),  # expired export permission
    ], True),
    ("Demo Protective Gear Inc.", "데모보호구", "Incheon", [
        ("Demo KF94 mask", "데모 KF94 마스크", "ppe", "Four-layer KF94 filtering mask.",
         [("mfds_approval", "MFDS-DP-0007", MFDS, 600, None),
          ("export_permission", "EXP-DP-0002", MFDS, 200, 365)]),
        ("Demo isolation gown", "데모 격리 가운", "ppe", "Level 2 disposable isolation gown.",
         [("iso_13485", "ISO-DP-13485", "Example Certification Body", 700, 1095)]),
    ], True),
    ("Placeholder Medical Devices Co.", "플레이스홀더의료기기", "Wonju", [
        ("Placeholder portable PCR device", "플레이스홀더 휴대용 PCR 장비", "device",
         "Four-well portable real-time PCR device (entry waiting for vetting).",
         [("mfds_approval", "MFDS-PM-0100", MFDS, 90, None)]),
    ], False),
]  # fmt: skip


def _user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


def seed_catalogue() -> int:
    """Create the demo catalogue (once); returns how many products were made."""
    if db.session.scalar(select(func.count(Company.id))):
        return 0
    submitter = _user("seoul@cities.example")
    officer = _user("secretariat@caap.example")
    if submitter is None or officer is None or not submitter.acts_for_active_city:
        return 0
    today = date.today()
    made = 0
    first_product = None
    for name_en, name_ko, city, products, vetted in DEMO_COMPANIES:
        company = services.create_company(submitter, services.CompanyData(
            name_en=name_en, name_ko=name_ko, country_code="KR", city=city,
            website=f"https://{name_en.split()[0].lower()}.example",
            contact_name="Export sales desk",
            contact_email=f"export@{name_en.split()[0].lower()}.example",
            contact_phone="+82 2 555 0100",
            description_en="A fictional company for the demo of the CAAP supplier catalogue.",
            description_ko="감염병 대응 도시연대 공급업체 목록 시연용 가상 회사입니다."))  # fmt: skip
        if vetted:
            services.vet(officer, company)
        for p_en, p_ko, kind, description, certs in products:
            product = services.create_product(submitter, company, services.ProductData(
                name_en=p_en, name_ko=p_ko, product_type=kind, description_en=description))  # fmt: skip
            for cert_kind, reference, authority, ago, valid in certs:
                services.add_certification(submitter, product, services.CertificationData(
                    kind=cert_kind, reference=reference, issuing_authority=authority,
                    issued_on=today - timedelta(days=ago),
                    expires_on=today - timedelta(days=ago) + timedelta(days=valid)
                    if valid else None))  # fmt: skip
            if vetted:
                services.vet(officer, product)
                first_product = first_product or (product if kind == "ppe" else None)
            made += 1
    db.session.flush()
    _link_demo_offer(first_product)
    return made


def _link_demo_offer(product) -> None:
    """The demo's Jakarta offer of KF94 masks names the demo mask."""
    from cacnet.resources.models import ResourcePost

    if product is None:
        return
    post = db.session.scalar(select(ResourcePost).where(ResourcePost.title_en == "KF94 masks"))
    if post is not None and post.product_id is None:
        post.product_id = product.id
