"""The exchange's default taxonomy (migration 0008 seeds a frozen copy of it)."""

from __future__ import annotations

from sqlalchemy import select

from cacnet.core.db import db
from cacnet.resources.models import CategoryGroup, ResourceCategory

TAXONOMY = [
    ("epidemiologists", "staff", "Epidemiologists", "역학조사관", "people"),
    ("contact-tracers", "staff", "Contact tracers", "접촉자 추적 요원", "people"),
    ("clinicians", "staff", "Clinicians", "임상 의사", "people"),
    ("nurses", "staff", "Nurses", "간호사", "people"),
    ("laboratory-staff", "staff", "Laboratory staff", "검사 인력", "people"),
    (
        "public-health-trainers",
        "staff",
        "Public-health trainers",
        "공중보건 교육 인력",
        "person_days",
    ),
    ("it-for-health", "staff", "IT for health", "보건 정보기술 인력", "person_days"),
    ("test-kits", "supplies", "Test kits", "진단 키트", "kits"),
    ("diagnostic-reagents", "supplies", "Diagnostic reagents", "진단 시약", "kits"),
    ("specimen-collection-kits", "supplies", "Specimen collection kits", "검체 채취 키트", "kits"),
    ("masks", "supplies", "Masks", "마스크", "pieces"),
    ("gowns", "supplies", "Gowns", "보호복", "pieces"),
    ("gloves", "supplies", "Gloves", "장갑", "boxes"),
    ("ventilators", "supplies", "Ventilators", "인공호흡기", "units"),
    ("oxygen", "supplies", "Oxygen", "산소", "cylinders"),
    ("medicines", "supplies", "Medicines", "의약품", "boxes"),
    ("vaccines", "supplies", "Vaccines", "백신", "doses"),
    ("policy-documents", "knowhow", "Policy documents", "정책 문서", "documents"),
    ("training", "knowhow", "Training", "교육 훈련", "sessions"),
    ("software", "knowhow", "Software", "소프트웨어", "units"),
]


def ensure_taxonomy() -> None:
    """Add the default categories that are missing (tests start from empty tables)."""
    known = set(db.session.scalars(select(ResourceCategory.slug)))
    for position, (slug, group, name_en, name_ko, unit) in enumerate(TAXONOMY):
        if slug not in known:
            db.session.add(
                ResourceCategory(
                    slug=slug, group=CategoryGroup(group), name_en=name_en, name_ko=name_ko,
                    default_unit=unit, position=position, active=True,
                )
            )  # fmt: skip
    db.session.flush()
