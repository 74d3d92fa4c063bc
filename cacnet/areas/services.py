"""Reading and adding areas. The ten of the CAC Global Summit 2020 are made by the migration
(and by ``ensure_defaults`` for the demo and the tests); the secretariat adds others."""

from __future__ import annotations

from flask_babel import gettext as _
from slugify import slugify
from sqlalchemy import func, select

from cacnet.areas.models import Area
from cacnet.core import audit
from cacnet.core.db import db
from cacnet.core.errors import ServiceError
from cacnet.core.permissions import require_secretariat

# (slug, English, Korean) in the summit's order; slugs are stable (links and filters use them).
DEFAULT_AREAS: tuple[tuple[str, str, str], ...] = (
    ("quarantine-measures", "Quarantine measures", "방역"),
    ("climate-environment", "Climate and environment", "기후·환경"),
    ("education", "Education", "교육"),
    ("urban-sharing", "Urban sharing", "도시 공유"),
    ("citizen-participation", "Citizen participation", "시민 참여"),
    ("culture", "Culture", "문화"),
    ("welfare", "Welfare", "복지"),
    ("public-transportation", "Public transportation", "대중교통"),
    ("smart-city", "Smart city", "스마트 시티"),
    ("sports", "Sports", "체육"),
)
MAX_NAME = 120


def ensure_defaults() -> None:
    """Make the ten default areas that are missing (idempotent; commits)."""
    have = set(db.session.scalars(select(Area.slug)))
    for position, (slug, name_en, name_ko) in enumerate(DEFAULT_AREAS, start=1):
        if slug not in have:
            db.session.add(Area(slug=slug, name_en=name_en, name_ko=name_ko, position=position))
    db.session.commit()


def all_areas() -> list[Area]:
    return list(db.session.scalars(select(Area).order_by(Area.position, Area.id)))


def by_slug(slug: str | None) -> Area | None:
    if not slug:
        return None
    return db.session.scalar(select(Area).where(Area.slug == slug[:60]))


def choices(blank_label: str | None = None) -> list[tuple[str, str]]:
    """(id as text, name in the current language) for a select field; a blank first if asked."""
    rows = [(str(a.id), a.name()) for a in all_areas()]
    return ([("", blank_label)] if blank_label is not None else []) + rows


def slug_choices(blank_label: str) -> list[tuple[str, str]]:
    """(slug, name) for a filter in a query string, with "any" first."""
    return [("", blank_label)] + [(a.slug, a.name()) for a in all_areas()]


def add_area(actor, name_en: str, name_ko: str) -> Area:
    """The secretariat adds an area after the existing ones (audited)."""
    require_secretariat(actor)
    name_en, name_ko = " ".join((name_en or "").split()), " ".join((name_ko or "").split())
    if not name_en:
        raise ServiceError(_("Enter the area's name in English."), field="name_en")
    if not name_ko:
        raise ServiceError(_("Enter the area's name in Korean."), field="name_ko")
    if len(name_en) > MAX_NAME or len(name_ko) > MAX_NAME:
        raise ServiceError(_("An area's name has at most 120 characters."), field="name_en")
    for column, value, field in (
        (Area.name_en, name_en, "name_en"),
        (Area.name_ko, name_ko, "name_ko"),
    ):
        if db.session.scalar(select(Area.id).where(func.lower(column) == value.lower())):
            raise ServiceError(_("There is already an area of that name."), field=field)
    slug = slugify(name_en, max_length=55) or "area"
    base, n = slug, 2
    while db.session.scalar(select(Area.id).where(Area.slug == slug)):
        slug, n = f"{base[:55]}-{n}", n + 1
    position = (db.session.scalar(select(func.max(Area.position))) or 0) + 1
    area = Area(slug=slug, name_en=name_en, name_ko=name_ko, position=position)
    db.session.add(area)
    db.session.flush()
    audit.record("area_added", area, actor=actor, details={"name_en": name_en, "name_ko": name_ko})
    db.session.commit()
    return area
