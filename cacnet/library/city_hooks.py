"""What the library adds to the cities capability: a section of the city page listing the city's
cases the viewer may see (through cacnet.cities.hooks, so cities never imports us)."""

from __future__ import annotations

from cacnet.cities.hooks import CityPageSection, register_city_page_section
from cacnet.cities.models import City
from cacnet.library import services


def _city_section(city: City, viewer) -> dict | None:
    """The section, when the city has cases the viewer may see or the viewer may write them."""
    cases, total = services.city_cases(viewer, city)
    can_add = services.can_write(viewer) and (viewer.is_secretariat or viewer.city_id == city.id)
    if not cases and not can_add:
        return None
    return {"city": city, "cases": cases, "total": total, "can_add": can_add}


def register() -> None:
    register_city_page_section(CityPageSection("library/_city_section.html", _city_section))
