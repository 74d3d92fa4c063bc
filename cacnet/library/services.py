"""Every change of the countermeasure library, each one function that checks who acts, validates,
changes, writes an audit record and commits; and the one rule of who sees which case, used by
the list, the detail, the attachments, the export, the search and the city page.

Who acts: delegates of a member city whose membership is approved (the acting delegates) write
and unpublish their own city's cases; the secretariat writes, and unpublishes, any member city's.
Who sees: a published public case, anyone; a published members-only case, the members of the
alliance (``is_network_member``); a draft, its city's delegates and the secretariat.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select, true
from sqlalchemy.orm import joinedload, selectinload

from cacnet.areas.models import Area
from cacnet.cities.models import City
from cacnet.core import audit, uploads
from cacnet.core.db import db, utcnow
from cacnet.core.errors import PermissionDenied, ServiceError, StateConflict
from cacnet.core.permissions import is_network_member, require_acting_delegate
from cacnet.core.text import search_key
from cacnet.library.models import (
    LANGUAGES,
    TEXT_FIELDS,
    CaseAttachment,
    CaseLink,
    CaseState,
    CaseVisibility,
    LibraryCase,
    case_search_text,
)

MAX_TITLE = 200
MAX_SUMMARY = 2000
MAX_BODY = 20000
MAX_RESULTS = 10000
MAX_ATTACHMENTS = 10
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_LINKS = 10
MAX_URL = 500
PER_PAGE = 20
UPLOAD_FOLDER = "library"
ATTACHMENT_TYPES = frozenset(uploads.DOCUMENT_TYPES)
SORTS = ("newest", "oldest", "published", "published-oldest")

_CONTROL = {chr(c) for c in range(32)} - {"\n", "\r", "\t"}
_URL = re.compile(r"https?://[^\s/?#<>\"']+\.[^\s/?#<>\"']+(?:[/?#][^\s<>\"'\\]*)?", re.IGNORECASE)
LIMITS = {"summary": MAX_SUMMARY, "body": MAX_BODY, "results": MAX_RESULTS}


# --- who may act -------------------------------------------------------------------------------


def require_writer(actor) -> None:
    """Writing a case acts for a city: an acting delegate, or the secretariat for any city."""
    if actor is not None and getattr(actor, "is_authenticated", False) and actor.is_secretariat:
        return
    require_acting_delegate(
        actor,
        _l("Only delegates of member cities and the secretariat can write library cases."),
        _l("Only delegates of a member city can write library cases."),
    )


def require_editor(actor, case: LibraryCase) -> None:
    require_writer(actor)
    if not actor.is_secretariat and actor.city_id != case.city_id:
        raise PermissionDenied(_l("Only the city that published this case can change it."))


def can_write(viewer) -> bool:
    try:
        require_writer(viewer)
    except PermissionDenied:
        return False
    return True


def can_edit(viewer, case: LibraryCase) -> bool:
    try:
        require_editor(viewer, case)
    except PermissionDenied:
        return False
    return True


def visible_condition(viewer):
    """The cases ``viewer`` may see, as a condition on LibraryCase."""
    published = LibraryCase.state == CaseState.PUBLISHED
    if is_network_member(viewer):
        seen = published
    else:
        seen = and_(published, LibraryCase.visibility == CaseVisibility.PUBLIC)
    if viewer is not None and getattr(viewer, "is_authenticated", False):
        if viewer.is_secretariat:
            return true()
        if viewer.city_id is not None:
            return or_(seen, LibraryCase.city_id == viewer.city_id)
    return seen


def published_condition(viewer):
    """The published cases ``viewer`` may see (the export, the search, the city page)."""
    condition = LibraryCase.state == CaseState.PUBLISHED
    if not is_network_member(viewer):
        condition = and_(condition, LibraryCase.visibility == CaseVisibility.PUBLIC)
    return condition


def sees(viewer, case: LibraryCase) -> bool:
    if case.state == CaseState.PUBLISHED:
        return case.visibility == CaseVisibility.PUBLIC or is_network_member(viewer)
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return False
    return viewer.is_secretariat or (viewer.city_id is not None and viewer.city_id == case.city_id)


def visible_case(viewer, case_id: int) -> LibraryCase | None:
    case = db.session.get(LibraryCase, case_id)
    return case if case is not None and sees(viewer, case) else None


# --- validation --------------------------------------------------------------------------------


@dataclass
class CaseData:
    area_id: int | None
    started_on: date | None
    title_en: str = ""
    title_ko: str = ""
    summary_en: str = ""
    summary_ko: str = ""
    body_en: str = ""
    body_ko: str = ""
    results_en: str = ""
    results_ko: str = ""
    ended_on: date | None = None
    visibility: str = CaseVisibility.PUBLIC.value
    city_id: int | None = None  # the secretariat's choice; a delegate writes for their city


def _one_line(value: str | None, limit: int, field: str) -> str:
    value = " ".join((value or "").split()) if value else ""
    if "<" in value or ">" in value or any(c in _CONTROL for c in value):
        raise ServiceError(_l("Use plain text, without < or > or control characters."),
                           field=field)  # fmt: skip
    if len(value) > limit:
        raise ServiceError(_l("At most %(max)d characters.", max=limit), field=field)
    return value


def _long_text(value: str | None, limit: int, field: str) -> str:
    value = (value or "").replace("\r\n", "\n").strip()
    if any(c in _CONTROL for c in value):
        raise ServiceError(_l("Remove the control characters from this text."), field=field)
    if len(value) > limit:
        raise ServiceError(_l("At most %(max)d characters.", max=limit), field=field)
    return value


def _member_city(city_id) -> City | None:
    city = db.session.get(City, city_id) if city_id else None
    return city if city is not None and city.active_membership is not None else None


def _validate(actor, data: CaseData, today: date) -> dict:
    values: dict = {}
    for lang in LANGUAGES:
        values[f"title_{lang}"] = _one_line(
            getattr(data, f"title_{lang}"), MAX_TITLE, f"title_{lang}"
        )
        for field in TEXT_FIELDS:
            name = f"{field}_{lang}"
            values[name] = _long_text(getattr(data, name), LIMITS[field], name)
    if not values["title_en"] and not values["title_ko"]:
        raise ServiceError(_l("Give the case a title in English or in Korean (or both)."),
                           field="title_en")  # fmt: skip
    for lang in LANGUAGES:
        if values[f"title_{lang}"]:
            continue
        for field in TEXT_FIELDS:
            if values[f"{field}_{lang}"]:
                message = (
                    _l("Text in English needs an English title.")
                    if lang == "en"
                    else _l("Text in Korean needs a Korean title.")
                )
                raise ServiceError(message, field=f"title_{lang}")
    area = db.session.get(Area, data.area_id) if data.area_id else None
    if area is None:
        raise ServiceError(_l("Choose the area of the case."), field="area_id")
    values["area_id"] = area.id
    if data.started_on is None:
        raise ServiceError(_l("Enter the date the measure started."), field="started_on")
    if data.started_on > today:
        raise ServiceError(_l("The start cannot be in the future."), field="started_on")
    if data.ended_on is not None and data.ended_on < data.started_on:
        raise ServiceError(_l("The end cannot be before the start."), field="ended_on")
    values["started_on"], values["ended_on"] = data.started_on, data.ended_on
    try:
        values["visibility"] = CaseVisibility(data.visibility)
    except ValueError:
        raise ServiceError(_l("Choose who may see the case."), field="visibility") from None
    if actor.is_secretariat:
        city = _member_city(data.city_id or actor.city_id)
        if city is None:
            raise ServiceError(_l("Choose a member city."), field="city_id")
    else:
        if data.city_id and data.city_id != actor.city_id:
            raise PermissionDenied(_l("You can only write cases for your own city."))
        city = actor.city
    values["city_id"] = city.id
    values["search_text"] = case_search_text(
        values["title_en"], values["title_ko"], values["summary_en"], values["summary_ko"], city
    )
    return values


# --- writing -----------------------------------------------------------------------------------


def create_case(actor, data: CaseData, *, publish: bool = False,
                today: date | None = None) -> LibraryCase:  # fmt: skip
    """An acting delegate (for their city) or the secretariat (for any member city) writes a
    case: a draft, or published at once. Audited; committed."""
    require_writer(actor)
    values = _validate(actor, data, today or date.today())
    case = LibraryCase(author_id=actor.id, state=CaseState.DRAFT, **values)
    db.session.add(case)
    db.session.flush()
    audit.record("library_case_created", case, actor=actor, to_state=CaseState.DRAFT,
                 details={"city": case.city_id, "area": case.area_id})  # fmt: skip
    if publish:
        _publish(actor, case)
    db.session.commit()
    return case


def update_case(actor, case: LibraryCase, data: CaseData, today: date | None = None) -> None:
    """The case's city (or the secretariat) changes it; a published case stays published."""
    require_editor(actor, case)
    if not actor.is_secretariat or not data.city_id:
        data.city_id = case.city_id
    values = _validate(actor, data, today or date.today())
    changed = sorted(k for k, v in values.items() if getattr(case, k) != v and k != "search_text")
    for key, value in values.items():
        setattr(case, key, value)
    audit.record("library_case_changed", case, actor=actor, details={"fields": changed})
    db.session.commit()


def _publish(actor, case: LibraryCase) -> None:
    case.state = CaseState.PUBLISHED
    case.published_at = utcnow()
    audit.record("library_case_published", case, actor=actor, from_state=CaseState.DRAFT,
                 to_state=CaseState.PUBLISHED)  # fmt: skip


def publish_case(actor, case: LibraryCase) -> None:
    require_editor(actor, case)
    if case.state == CaseState.PUBLISHED:
        raise StateConflict(_l("This case is already published."))
    _publish(actor, case)
    db.session.commit()


def unpublish_case(actor, case: LibraryCase, reason: str = "") -> None:
    """Back to a draft: only its city and the secretariat see it again."""
    require_editor(actor, case)
    if case.state != CaseState.PUBLISHED:
        raise StateConflict(_l("This case is not published."))
    case.state = CaseState.DRAFT
    case.published_at = None
    audit.record("library_case_unpublished", case, actor=actor, from_state=CaseState.PUBLISHED,
                 to_state=CaseState.DRAFT, reason=reason[:500])  # fmt: skip
    db.session.commit()


# --- attachments -------------------------------------------------------------------------------


def add_attachment(actor, case: LibraryCase, filename: str, data: bytes) -> CaseAttachment:
    """A PDF or an image, judged by its content; at most 10 per case, 10 MB each."""
    require_editor(actor, case)
    if not data:
        raise ServiceError(_l("The file is empty."), field="file")
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise ServiceError(_l("An attachment may be at most 10 MB."), field="file")
    count = db.session.scalar(
        select(func.count(CaseAttachment.id)).where(CaseAttachment.case_id == case.id)
    )
    if count >= MAX_ATTACHMENTS:
        raise ServiceError(
            _l("A case can have at most %(max)d attachments.", max=MAX_ATTACHMENTS), field="file"
        )
    content_type = uploads.sniff_document(data, ATTACHMENT_TYPES)
    if content_type is None:
        raise ServiceError(
            _l("This file is not a PDF document or a PNG, JPEG or WebP image (whatever its name "
               "says). Attach a PDF or an image."),
            field="file",
        )  # fmt: skip
    extension = uploads.DOCUMENT_TYPES[content_type]
    digest = uploads.store(data, UPLOAD_FOLDER, extension)
    existing = db.session.scalar(
        select(CaseAttachment).where(
            CaseAttachment.case_id == case.id, CaseAttachment.sha256 == digest
        )
    )
    if existing is not None:
        return existing
    name = uploads.safe_filename(filename, extension)
    attachment = CaseAttachment(case_id=case.id, sha256=digest, filename=name,
                                content_type=content_type, size=len(data),
                                uploaded_by_id=actor.id)  # fmt: skip
    db.session.add(attachment)
    db.session.flush()
    audit.record("library_attachment_added", case, actor=actor,
                 details={"attachment": attachment.id, "sha256": digest, "filename": name})  # fmt: skip
    db.session.commit()
    return attachment


def remove_attachment(actor, attachment: CaseAttachment) -> None:
    case = attachment.case
    require_editor(actor, case)
    audit.record("library_attachment_removed", case, actor=actor,
                 details={"attachment": attachment.id, "sha256": attachment.sha256})  # fmt: skip
    db.session.delete(attachment)
    db.session.commit()


# --- links -------------------------------------------------------------------------------------


def add_link(actor, case: LibraryCase, title: str, url: str) -> CaseLink:
    """A web page about the case: a title and an http(s) address; at most 10 per case."""
    require_editor(actor, case)
    title = _one_line(title, MAX_TITLE, "title")
    if not title:
        raise ServiceError(_l("Give the link a title."), field="title")
    url = (url or "").strip()
    if not url.lower().startswith(("http://", "https://")) or not _URL.fullmatch(url):
        raise ServiceError(_l("Enter a web address starting with http:// or https://."),
                           field="url")  # fmt: skip
    if len(url) > MAX_URL:
        raise ServiceError(_l("At most %(max)d characters.", max=MAX_URL), field="url")
    count = db.session.scalar(select(func.count(CaseLink.id)).where(CaseLink.case_id == case.id))
    if count >= MAX_LINKS:
        raise ServiceError(_l("A case can have at most %(max)d links.", max=MAX_LINKS),
                           field="url")  # fmt: skip
    link = CaseLink(case_id=case.id, title=title, url=url)
    db.session.add(link)
    db.session.flush()
    audit.record("library_link_added", case, actor=actor,
                 details={"link": link.id, "url": url})  # fmt: skip
    db.session.commit()
    return link


def remove_link(actor, link: CaseLink) -> None:
    case = link.case
    require_editor(actor, case)
    audit.record("library_link_removed", case, actor=actor,
                 details={"link": link.id, "url": link.url})  # fmt: skip
    db.session.delete(link)
    db.session.commit()


# --- reading -----------------------------------------------------------------------------------


@dataclass
class CaseQuery:
    q: str = ""
    area: str = ""
    city: str = ""
    country: str = ""
    sort: str = "newest"
    page: int = 1


def search_condition(folded: str):
    """Every word of an already folded query in the search text (LIKE, escaped)."""
    words = folded.split()[:8]
    return and_(*[LibraryCase.search_text.contains(w, autoescape=True) for w in words])


def list_select(viewer, query: CaseQuery):
    stmt = (
        select(LibraryCase)
        .join(City, City.id == LibraryCase.city_id)
        .where(visible_condition(viewer))
        .options(joinedload(LibraryCase.city), joinedload(LibraryCase.area))
    )
    folded = search_key(query.q[:200])
    if folded:
        stmt = stmt.where(search_condition(folded))
    if query.area:
        stmt = stmt.join(Area, Area.id == LibraryCase.area_id).where(Area.slug == query.area)
    if query.city:
        stmt = stmt.where(City.slug == query.city)
    if query.country:
        stmt = stmt.where(City.country_code == query.country.upper()[:2])
    if query.sort == "oldest":
        order = (LibraryCase.started_on.asc(), LibraryCase.id.asc())
    elif query.sort == "published":
        order = (LibraryCase.published_at.desc(), LibraryCase.id.desc())
    elif query.sort == "published-oldest":
        order = (LibraryCase.published_at.asc(), LibraryCase.id.asc())
    else:
        order = (LibraryCase.started_on.desc(), LibraryCase.id.desc())
    return stmt.order_by(*order)


def list_page(viewer, query: CaseQuery):
    return db.paginate(list_select(viewer, query), page=max(query.page, 1), per_page=PER_PAGE,
                       error_out=False, count=True)  # fmt: skip


def filter_cities(viewer) -> list[City]:
    """Cities with a case the viewer may see (the city filter's choices)."""
    ids = select(LibraryCase.city_id).where(visible_condition(viewer)).distinct()
    return list(db.session.scalars(select(City).where(City.id.in_(ids)).order_by(City.name_en)))


def member_cities() -> list[City]:
    """The cities the secretariat may write for: current members (approved or suspended)."""
    from cacnet.membership.models import CURRENT_MEMBER_STATES, Membership

    ids = select(Membership.city_id).where(Membership.state.in_(list(CURRENT_MEMBER_STATES)))
    return list(db.session.scalars(select(City).where(City.id.in_(ids)).order_by(City.name_en)))


def exported_cases(viewer, limit: int = 5000) -> list[LibraryCase]:
    """The published cases the viewer may see, newest publication first (the open-data export)."""
    return list(
        db.session.scalars(
            select(LibraryCase)
            .where(published_condition(viewer))
            .options(
                joinedload(LibraryCase.city),
                joinedload(LibraryCase.area),
                selectinload(LibraryCase.links),
                selectinload(LibraryCase.attachments),
            )
            .order_by(LibraryCase.published_at.desc(), LibraryCase.id.desc())
            .limit(limit)
        )
    )


def city_cases(viewer, city: City, limit: int = 20) -> tuple[list[LibraryCase], int]:
    """The city's published cases the viewer may see (newest start first) and how many."""
    condition = and_(LibraryCase.city_id == city.id, published_condition(viewer))
    total = db.session.scalar(select(func.count(LibraryCase.id)).where(condition)) or 0
    rows = db.session.scalars(
        select(LibraryCase)
        .where(condition)
        .options(joinedload(LibraryCase.area))
        .order_by(LibraryCase.started_on.desc(), LibraryCase.id.desc())
        .limit(limit)
    )
    return list(rows), total


def search(folded: str, viewer, limit: int) -> list[LibraryCase]:
    return list(
        db.session.scalars(
            select(LibraryCase)
            .where(published_condition(viewer), search_condition(folded))
            .options(joinedload(LibraryCase.city))
            .order_by(LibraryCase.published_at.desc(), LibraryCase.id.desc())
            .limit(limit)
        )
    )
