"""The public signatory list and its open data (JSON, CSV, Atom): one query for all of them.

What the public sees is decided here: verified endorsements (and withdrawn ones, apart) with the
city, the signatory's name and title, place and date, hashes and the signature image — never an
e-mail address or an IP address.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import datetime

from flask import url_for
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from cacnet.cities.models import City
from cacnet.cities.regions import countries_in, macro_region
from cacnet.core.db import db
from cacnet.core.text import search_key
from cacnet.statement.models import Endorsement, EndorsementState, StatementVersion

PUBLIC_STATES = (EndorsementState.VERIFIED, EndorsementState.WITHDRAWN)
SORTS = ("date", "city", "name")


@dataclass
class SignatoryQuery:
    q: str = ""
    country: str = ""
    region: str = ""
    sort: str = "date"


FINGERPRINT_TTL = 30  # seconds; every endorsement change deletes it after commit anyway
BODY_TTL = 600


def _fingerprint_key(number: int | None) -> str:
    return f"signatories:fp:{number or 'current'}"


# A one-second memo in each process in front of the shared cache: the hottest path (a conditional
# GET answered 304) then costs a dict lookup instead of a cache round trip. Another app server may
# answer from its memo for up to a second after a change; the public list's max-age is 60 s anyway.
LOCAL_TTL = 1.0
_local: dict[str, tuple[float, tuple]] = {}


def forget_fingerprints(number: int) -> None:
    """After the commit, drop the cached fingerprints of version ``number`` and of "current":
    the next request sees the change (and gets a new ETag)."""
    from cacnet.core.cache import delete_after_commit

    _local.clear()
    delete_after_commit(_fingerprint_key(None), _fingerprint_key(number))


def cached_fingerprint(number: int | None):
    """(version id, version number, ETag base, last change) of the requested list, from the
    shared cache when it is there: a conditional GET then needs no database at all."""
    from cacnet.core.cache import cache
    from cacnet.statement import services

    key = _fingerprint_key(number)
    now = time.monotonic()
    memo = _local.get(key)
    if memo is not None and memo[0] > now:
        return memo[1]
    found = cache.get(key)
    if found is None:
        version = services.published_version(number) if number else services.current_version()
        if version is None:
            return None
        tag, last = fingerprint(version)
        found = (version.id, version.number, tag, last)
        cache.set(key, found, timeout=FINGERPRINT_TTL)
    _local[key] = (now + LOCAL_TTL, found)
    return found


def fingerprint(version: StatementVersion) -> tuple[str, datetime | None]:
    """An ETag and a Last-Modified for the version's public list, from one small aggregate query:
    a conditional GET is answered without loading a single row."""
    count, last = db.session.execute(
        select(func.count(Endorsement.id), func.max(Endorsement.updated_at)).where(
            Endorsement.version_id == version.id, Endorsement.state.in_(PUBLIC_STATES)
        )
    ).one()
    if isinstance(last, str):  # SQLite returns the aggregate as text
        last = datetime.fromisoformat(last)
    if last is not None and last.tzinfo is None:
        from datetime import UTC

        last = last.replace(tzinfo=UTC)
    last = max(filter(None, [last, version.published_at]))
    tag = hashlib.sha256(f"{version.id}:{count}:{last.isoformat()}".encode()).hexdigest()[:32]
    return tag, last


def _select(version: StatementVersion, query: SignatoryQuery, states=PUBLIC_STATES):
    stmt = (
        select(Endorsement)
        .join(City, City.id == Endorsement.city_id)
        .where(Endorsement.version_id == version.id, Endorsement.state.in_(states))
        .options(selectinload(Endorsement.city))
    )
    if query.q:
        folded = search_key(query.q)
        stmt = stmt.where(
            City.search_text.contains(folded, autoescape=True)
            | func.lower(Endorsement.signatory_name).contains(query.q.lower(), autoescape=True)
        )
    if query.country:
        stmt = stmt.where(City.country_code == query.country)
    if query.region:
        stmt = stmt.where(City.country_code.in_(countries_in(query.region)))
    order = {
        "date": (Endorsement.signed_on, Endorsement.id),
        "city": (City.name_en, Endorsement.id),
        "name": (Endorsement.signatory_name, Endorsement.id),
    }[query.sort if query.sort in SORTS else "date"]
    return stmt.order_by(*order)


def public_endorsements(version: StatementVersion, query: SignatoryQuery) -> list[Endorsement]:
    """Every public endorsement the query finds (for the open-data exports)."""
    return list(db.session.scalars(_select(version, query)))


def public_select(version: StatementVersion, query: SignatoryQuery):
    """The ordered select behind ``public_endorsements``, for callers that page through it (the
    API): the same rows, in the same order, as the open-data exports."""
    return _select(version, query)


def verified_page(version: StatementVersion, query: SignatoryQuery, page: int, per_page: int = 50):
    """One page of the verified endorsements, for the list page."""
    stmt = _select(version, query, (EndorsementState.VERIFIED,))
    return db.paginate(stmt, page=max(page, 1), per_page=per_page, error_out=False)


def withdrawn(version: StatementVersion, query: SignatoryQuery) -> list[Endorsement]:
    return list(db.session.scalars(_select(version, query, (EndorsementState.WITHDRAWN,))))


def verified_count(version: StatementVersion) -> int:
    return db.session.scalar(
        select(func.count(Endorsement.id)).where(
            Endorsement.version_id == version.id, Endorsement.state == EndorsementState.VERIFIED
        )
    )


def counts_by_region(version: StatementVersion) -> dict[str, int]:
    """Verified endorsements of the version per UN M49 region, from one grouped query."""
    counts: dict[str, int] = {}
    rows = db.session.execute(
        select(City.country_code, func.count())
        .join(Endorsement, Endorsement.city_id == City.id)
        .where(Endorsement.version_id == version.id, Endorsement.state == EndorsementState.VERIFIED)
        .group_by(City.country_code)
    )
    for country, count in rows:
        region = macro_region(country) or "other"
        counts[region] = counts.get(region, 0) + count
    return counts


def public_record(e: Endorsement, version: StatementVersion) -> dict:
    """One endorsement as open data."""
    return {
        "city": e.city.name_en,
        "city_local": e.city.name_local,
        "city_slug": e.city.slug,
        "city_url": url_for("cities.city_page", slug=e.city.slug, _external=True),
        "country": e.city.country_code,
        "region": macro_region(e.city.country_code),
        "signatory_name": e.signatory_name,
        "signatory_title": e.signatory_title,
        "place": e.place,
        "signed_on": e.signed_on.isoformat(),
        "state": e.state.value,
        "withdrawn_on": e.withdrawn_at.date().isoformat() if e.withdrawn_at else None,
        "withdrawal_reason": e.reason if e.state == EndorsementState.WITHDRAWN else None,
        "version": version.number,
        "text_sha256": e.text_sha256,
        "record_sha256": e.record_sha256,
        "signature_url": url_for("statement.signature", uuid=e.uuid, _external=True),
        "id": e.uuid,
    }


@dataclass(frozen=True)
class SignatoryMap:
    """Distinct positions on the members map (cacnet.cities.map's viewBox): member cities that
    have not endorsed the version, and the cities that have (verified)."""

    members: list[tuple[float, float]]
    signatories: list[tuple[float, float]]
    member_count: int
    signatory_count: int


def signatory_map(version: StatementVersion) -> SignatoryMap:
    """The members map with the version's signatories highlighted, from two narrow queries.

    Cities sharing a position (to a tenth of the viewBox) are drawn once, so the image stays
    small at 10,000 members; the counts are of cities, not of points.
    """
    from cacnet.cities.map import project
    from cacnet.cities.services import member_in
    from cacnet.membership.models import CURRENT_MEMBER_STATES

    signed = select(Endorsement.city_id).where(
        Endorsement.version_id == version.id, Endorsement.state == EndorsementState.VERIFIED
    )
    placed = City.latitude.is_not(None) & City.longitude.is_not(None)
    signatory_rows = db.session.execute(
        select(City.latitude, City.longitude).where(City.id.in_(signed), placed)
    ).all()
    member_rows = db.session.execute(
        select(City.latitude, City.longitude).where(
            City.merged_into_id.is_(None),
            member_in(*CURRENT_MEMBER_STATES),
            City.id.not_in(signed),
            placed,
        )
    ).all()
    signatory_points = sorted({project(lat, lon) for lat, lon in signatory_rows})
    taken = set(signatory_points)
    member_points = sorted({project(lat, lon) for lat, lon in member_rows} - taken)
    return SignatoryMap(member_points, signatory_points, len(member_rows), len(signatory_rows))
