"""What the alerts add to a city's page (through cacnet.cities.hooks, so cities never imports
us): the city's recent alerts that the viewer may see, the public notices for the public."""

from __future__ import annotations

from sqlalchemy import select

from cacnet.alerts import visibility
from cacnet.alerts.models import Alert
from cacnet.cities.hooks import CityPageSection, register_city_page_section
from cacnet.cities.models import City
from cacnet.core.db import db

SECTION_SIZE = 10


def _city_section(city: City, viewer) -> dict | None:
    alerts = list(
        db.session.scalars(
            select(Alert)
            .where(
                Alert.city_id == city.id,
                Alert.state.in_(visibility.SHARED_STATES),
                visibility.visible_condition(viewer),
            )
            .order_by(Alert.published_at.desc(), Alert.id.desc())
            .limit(SECTION_SIZE)
        )
    )
    if not alerts:
        return None
    return {"alerts": alerts, "city": city, "members": visibility.is_member(viewer)}


def register() -> None:
    register_city_page_section(CityPageSection("alerts/_city_section.html", _city_section))
