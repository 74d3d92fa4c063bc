"""What news adds to the cities capability: a section of the city page with the city's latest
published stories the viewer may read (through cacnet.cities.hooks, so cities never imports us)."""

from __future__ import annotations

from cacnet.cities.hooks import CityPageSection, register_city_page_section
from cacnet.cities.models import City
from cacnet.news import services


def _city_section(city: City, viewer) -> dict | None:
    items = services.city_items(city, viewer)
    if not items:
        return None
    writer = services.can_write(viewer) and not viewer.is_secretariat and viewer.city_id == city.id
    return {"items": items, "can_write": writer}


def register() -> None:
    register_city_page_section(CityPageSection("news/_city_section.html", _city_section))
