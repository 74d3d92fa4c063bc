"""Adding, changing, ordering and removing network links and organisations; who may; and the
public page's grouping by region.

A city's links are managed by whoever may edit the city (``cacnet.cities.services.can_edit``: its
city administrators while the city is an active member, and the secretariat); organisations and
their links by the secretariat only. Every change is checked, validated, audited and committed
here; nothing is stored when a value is refused.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from cacnet.cities.models import City
from cacnet.cities.regions import MACRO_REGIONS, macro_region
from cacnet.cities.services import can_edit, language_codes
from cacnet.core import audit
from cacnet.core.db import db
from cacnet.core.errors import PermissionDenied, ServiceError
from cacnet.core.permissions import require_secretariat
from cacnet.links.models import (
    MAX_ACRONYM,
    MAX_NAME,
    MAX_TITLE,
    MAX_URL,
    LinkState,
    NetworkLink,
    Organisation,
)

MAX_LINKS_PER_OWNER = 50
_CONTROL = {chr(c) for c in range(32)} | {chr(127)}


@dataclass
class LinkData:
    url: str
    title: str
    language: str


@dataclass
class OrganisationData:
    name_en: str
    name_ko: str
    acronym: str = ""
    website: str = ""


# --- who may -----------------------------------------------------------------------------------


def can_manage(actor, owner) -> bool:
    """May ``actor`` change the links of ``owner`` (a City or an Organisation)?"""
    if isinstance(owner, City):
        return can_edit(actor, owner)
    return bool(getattr(actor, "is_authenticated", False) and actor.is_secretariat)


def require_manager(actor, owner) -> None:
    if isinstance(owner, City):
        from cacnet.cities.services import require_editor

        require_editor(actor, owner)
    elif not can_manage(actor, owner):
        raise PermissionDenied(_l("Only the secretariat can change an organisation's links."))


# --- checking what people type ---------------------------------------------------------------


def clean_url(value: str, field: str = "url", required: bool = True) -> str:
    """An http(s) address with a host, or a ServiceError naming ``field``."""
    url = (value or "").strip()
    if not url:
        if required:
            raise ServiceError(_l("Enter the page's web address."), field=field)
        return ""
    if len(url) > MAX_URL:
        raise ServiceError(_l("A web address has at most 500 characters."), field=field)
    if any(c in _CONTROL or c.isspace() for c in url):
        raise ServiceError(_l("Enter a valid web address."), field=field)
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise ServiceError(_l("Enter a valid web address."), field=field) from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ServiceError(
            _l("Enter a web address starting with http:// or https://."), field=field
        )
    if not _plausible_host(host):
        raise ServiceError(_l("Enter a valid web address."), field=field)
    return url


def _plausible_host(host: str) -> bool:
    if not host:
        return False
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    labels = host.rstrip(".").split(".")
    return len(labels) >= 2 and all(
        label and len(label) <= 63 and all(c.isalnum() or c == "-" for c in label)
        for label in labels
    )


def _plain(value: str, field: str, missing, limit: int, too_long) -> str:
    text = " ".join((value or "").split())
    if not text:
        if missing is None:
            return ""
        raise ServiceError(missing, field=field)
    if "<" in text or ">" in text or any(c in _CONTROL for c in text):
        raise ServiceError(_l("Use plain text, without < or > or control characters."), field=field)
    if len(text) > limit:
        raise ServiceError(too_long, field=field)
    return text


def _clean_link(data: LinkData) -> LinkData:
    url = clean_url(data.url)
    title = _plain(
        data.title,
        "title",
        _l("Enter the page's title."),
        MAX_TITLE,
        _l("A title has at most 200 characters."),
    )
    language = (data.language or "").strip()
    if language not in language_codes():
        raise ServiceError(_l("Choose the page's language from the list."), field="language")
    return LinkData(url=url, title=title, language=language)


def _owner_filter(owner):
    if isinstance(owner, City):
        return NetworkLink.city_id == owner.id
    return NetworkLink.organisation_id == owner.id


def _owner_label(owner) -> str:
    return owner.name_en


def _refuse_duplicate(owner, url: str, exclude_id: int | None = None) -> None:
    query = select(NetworkLink.id).where(_owner_filter(owner), NetworkLink.url == url)
    if exclude_id is not None:
        query = query.where(NetworkLink.id != exclude_id)
    if db.session.scalar(query) is not None:
        raise ServiceError(_l("This page is already in the list."), field="url")


# --- links -------------------------------------------------------------------------------------


def links_of(owner) -> list[NetworkLink]:
    return list(
        db.session.scalars(
            select(NetworkLink)
            .where(_owner_filter(owner))
            .order_by(NetworkLink.position, NetworkLink.id)
        )
    )


def add_link(actor, owner, data: LinkData) -> NetworkLink:
    """Add a link at the end of ``owner``'s list (unchecked until the checker's next run);
    audited and committed. Refuses a second copy of an address the owner already lists."""
    require_manager(actor, owner)
    data = _clean_link(data)
    _refuse_duplicate(owner, data.url)
    count, last = db.session.execute(
        select(func.count(NetworkLink.id), func.max(NetworkLink.position)).where(
            _owner_filter(owner)
        )
    ).one()
    if count >= MAX_LINKS_PER_OWNER:
        raise ServiceError(_l("A list has at most 50 links."), field="url")
    link = NetworkLink(
        url=data.url,
        title=data.title,
        language=data.language,
        position=(last or 0) + 1,
        state=LinkState.UNCHECKED,
    )
    if isinstance(owner, City):
        link.city_id = owner.id
    else:
        link.organisation_id = owner.id
    db.session.add(link)
    db.session.flush()
    audit.record(
        "network_link_added",
        link,
        actor=actor,
        details={
            "owner": _owner_label(owner),
            "url": data.url,
            "title": data.title,
            "language": data.language,
        },  # fmt: skip
    )
    db.session.commit()
    return link


def update_link(actor, link: NetworkLink, data: LinkData) -> dict:
    """Change a link's address, title or language (audited, committed). A new address starts
    unchecked again: the old one's results say nothing about it."""
    owner = link.owner
    require_manager(actor, owner)
    data = _clean_link(data)
    _refuse_duplicate(owner, data.url, exclude_id=link.id)
    changes = {
        name: {"old": getattr(link, name), "new": value}
        for name, value in (("url", data.url), ("title", data.title), ("language", data.language))
        if getattr(link, name) != value
    }
    if not changes:
        return changes
    if "url" in changes:
        reset_check(link)
    link.url, link.title, link.language = data.url, data.title, data.language
    audit.record("network_link_updated", link, actor=actor, details={"changes": changes})
    db.session.commit()
    return changes


def reset_check(link: NetworkLink) -> None:
    link.state = LinkState.UNCHECKED
    link.last_checked_at = None
    link.last_status_code = None
    link.last_error = ""
    link.failures = 0
    link.broken_since = None
    link.owner_notified_at = None


def remove_link(actor, link: NetworkLink) -> None:
    require_manager(actor, link.owner)
    audit.record(
        "network_link_removed",
        link,
        actor=actor,
        details={"owner": _owner_label(link.owner), "url": link.url, "title": link.title},
    )
    db.session.delete(link)
    db.session.commit()


def move_link(actor, link: NetworkLink, step: int) -> None:
    """Swap a link with its neighbour above (-1) or below (+1); the list is renumbered 1..n."""
    owner = link.owner
    require_manager(actor, owner)
    ordered = links_of(owner)
    i = ordered.index(link)
    j = i + (1 if step > 0 else -1)
    if 0 <= j < len(ordered):
        ordered[i], ordered[j] = ordered[j], ordered[i]
        for position, item in enumerate(ordered, start=1):
            item.position = position
        audit.record("network_link_moved", link, actor=actor, details={"step": step})
    db.session.commit()


# --- organisations -----------------------------------------------------------------------------


def organisations() -> list[Organisation]:
    return list(
        db.session.scalars(
            select(Organisation)
            .options(selectinload(Organisation.links))
            .order_by(Organisation.position, Organisation.name_en)
        )
    )


def _clean_organisation(data: OrganisationData, exclude_id: int | None = None) -> OrganisationData:
    too_long = _l("A name has at most 200 characters.")
    name_en = _plain(
        data.name_en, "name_en", _l("Enter the organisation's name in English."), MAX_NAME, too_long
    )
    name_ko = _plain(
        data.name_ko, "name_ko", _l("Enter the organisation's name in Korean."), MAX_NAME, too_long
    )
    acronym = _plain(
        data.acronym, "acronym", None, MAX_ACRONYM, _l("An acronym has at most 20 characters.")
    )
    website = clean_url(data.website, field="website", required=False)
    for column, value, field in (
        (Organisation.name_en, name_en, "name_en"),
        (Organisation.name_ko, name_ko, "name_ko"),
    ):
        query = select(Organisation.id).where(func.lower(column) == value.lower())
        if exclude_id is not None:
            query = query.where(Organisation.id != exclude_id)
        if db.session.scalar(query) is not None:
            raise ServiceError(_l("There is already an organisation of that name."), field=field)
    return OrganisationData(name_en, name_ko, acronym, website)


def add_organisation(actor, data: OrganisationData) -> Organisation:
    """The secretariat adds an international organisation (audited, committed)."""
    require_secretariat(actor)
    data = _clean_organisation(data)
    position = (db.session.scalar(select(func.max(Organisation.position))) or 0) + 1
    organisation = Organisation(
        name_en=data.name_en,
        name_ko=data.name_ko,
        acronym=data.acronym,
        website=data.website,
        position=position,
    )
    db.session.add(organisation)
    db.session.flush()
    audit.record("link_organisation_added", organisation, actor=actor, details=vars(data))
    db.session.commit()
    return organisation


def update_organisation(actor, organisation: Organisation, data: OrganisationData) -> dict:
    require_secretariat(actor)
    data = _clean_organisation(data, exclude_id=organisation.id)
    changes = {
        name: {"old": getattr(organisation, name), "new": value}
        for name, value in vars(data).items()
        if getattr(organisation, name) != value
    }
    if changes:
        for name, value in vars(data).items():
            setattr(organisation, name, value)
        audit.record(
            "link_organisation_updated", organisation, actor=actor, details={"changes": changes}
        )
        db.session.commit()
    return changes


def remove_organisation(actor, organisation: Organisation) -> None:
    """The secretariat removes an organisation and its links (audited, committed)."""
    require_secretariat(actor)
    audit.record(
        "link_organisation_removed",
        organisation,
        actor=actor,
        details={"name_en": organisation.name_en, "links": [x.url for x in organisation.links]},
    )
    db.session.delete(organisation)
    db.session.commit()


# --- the public page ---------------------------------------------------------------------------


@dataclass
class OwnerLinks:
    owner: object  # City or Organisation
    links: list[NetworkLink]

    @property
    def is_city(self) -> bool:
        return isinstance(self.owner, City)


@dataclass
class Group:
    key: str  # "organisations" or a macro-region of cacnet.cities.regions
    label: object
    owners: list[OwnerLinks]


def _listed_city_ids() -> set[int]:
    """Cities whose links the public page shows: current members (approved or suspended: the
    public sees a suspended city as a member, as in the directory), never a merged duplicate."""
    from cacnet.membership.models import CURRENT_MEMBER_STATES, Membership

    return set(
        db.session.scalars(
            select(City.id)
            .join(Membership, Membership.city_id == City.id)
            .where(Membership.state.in_(CURRENT_MEMBER_STATES), City.merged_into_id.is_(None))
        )
    )


def network_groups() -> list[Group]:
    """The international organisations first, then the member cities by UN M49 region (the
    regions in MACRO_REGIONS order, cities by name); owners without links are left out."""
    groups: list[Group] = []
    orgs = [OwnerLinks(o, list(o.links)) for o in organisations() if o.links]
    if orgs:
        groups.append(Group("organisations", _l("International organisations"), orgs))
    listed = _listed_city_ids()
    links = db.session.scalars(
        select(NetworkLink)
        .where(NetworkLink.city_id.in_(listed))
        .options(selectinload(NetworkLink.city))
        .order_by(NetworkLink.position, NetworkLink.id)
    ).all()
    by_city: dict[int, OwnerLinks] = {}
    for link in links:
        by_city.setdefault(link.city_id, OwnerLinks(link.city, [])).links.append(link)
    by_region: dict[str, list[OwnerLinks]] = {}
    for entry in by_city.values():
        region = macro_region(entry.owner.country_code) or "other"
        by_region.setdefault(region, []).append(entry)
    labels = {**MACRO_REGIONS, "other": _l("Other")}
    for key, label in labels.items():
        if key in by_region:
            owners = sorted(by_region[key], key=lambda e: e.owner.name_en.lower())
            groups.append(Group(key, label, owners))
    return groups


def broken_links() -> list[NetworkLink]:
    """Every broken link, longest broken first (the secretariat's overview)."""
    return list(
        db.session.scalars(
            select(NetworkLink)
            .where(NetworkLink.state == LinkState.BROKEN)
            .options(selectinload(NetworkLink.city), selectinload(NetworkLink.organisation))
            .order_by(NetworkLink.broken_since, NetworkLink.id)
        )
    )
