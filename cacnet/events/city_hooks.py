"""What events add to a city's page (through cacnet.cities.hooks, so cities never imports us):
the events the city takes part in that the viewer may see."""

from __future__ import annotations

from cacnet.cities.hooks import CityPageSection, register_city_page_section
from cacnet.cities.models import City
from cacnet.events import services


def _city_section(city: City, viewer) -> dict | None:
    events = services.city_events(viewer, city)
    return {"city": city, "events": events} if events else None


def register() -> None:
    register_city_page_section(CityPageSection("events/_city_section.html", _city_section))
