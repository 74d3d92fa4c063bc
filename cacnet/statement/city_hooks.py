"""What the Statement adds to the cities capability: the directory's endorsement filter and the
Statement section of a city's page (through cacnet.cities.hooks, so cities never imports us)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select

from cacnet.cities.hooks import (
    CityPageSection,
    DirectoryFacet,
    register_city_page_section,
    register_directory_facet,
)
from cacnet.cities.models import City
from cacnet.core.db import db
from cacnet.statement.models import Endorsement, EndorsementState, StatementVersion


def _current_version_id():
    return (
        select(StatementVersion.id)
        .where(StatementVersion.published_at.is_not(None))
        .order_by(StatementVersion.number.desc())
        .limit(1)
        .scalar_subquery()
    )


def _verified(version_clause):
    return exists().where(
        Endorsement.city_id == City.id,
        Endorsement.state == EndorsementState.VERIFIED,
        version_clause,
    )


def _endorsement_choices():
    return [
        ("", _l("Any")),
        ("current", _l("Signatories of the current version")),
        ("earlier", _l("Signed an earlier version only")),
        ("none", _l("Not signatories")),
    ]


def _endorsement_condition(value: str):
    current = Endorsement.version_id == _current_version_id()
    if value == "current":
        return _verified(current)
    if value == "earlier":
        return _verified(~current) & ~_verified(current)
    if value == "none":
        return ~exists().where(
            Endorsement.city_id == City.id, Endorsement.state == EndorsementState.VERIFIED
        )
    return None


def _city_section(city: City, viewer) -> dict | None:
    """The city's public endorsements, newest version first: verified and withdrawn ones."""
    rows = db.session.execute(
        select(Endorsement, StatementVersion.number)
        .join(StatementVersion, StatementVersion.id == Endorsement.version_id)
        .where(
            Endorsement.city_id == city.id,
            Endorsement.state.in_((EndorsementState.VERIFIED, EndorsementState.WITHDRAWN)),
        )
        .order_by(StatementVersion.number.desc(), Endorsement.id.desc())
    ).all()
    from cacnet.statement.services import current_version

    version = current_version()
    if version is None:
        return None
    current = version.number
    signed_current = any(
        e.state == EndorsementState.VERIFIED and number == current for e, number in rows
    )
    return {
        "endorsements": rows,
        "current_number": current,
        "signed_current": signed_current,
        "city": city,
    }


def register() -> None:
    register_directory_facet(
        DirectoryFacet(
            name="endorsement",
            label=_l("Seoul Statement"),
            choices=_endorsement_choices,
            condition=_endorsement_condition,
        )
    )
    register_city_page_section(CityPageSection("statement/_city_section.html", _city_section))
