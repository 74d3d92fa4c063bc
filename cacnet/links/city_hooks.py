"""The city page's section listing the city's network links (through cacnet.cities.hooks)."""

from __future__ import annotations

from cacnet.cities.hooks import CityPageSection, register_city_page_section
from cacnet.cities.models import City
from cacnet.links import services


def _city_section(city: City, viewer) -> dict | None:
    """The section when the city lists links or the viewer may add them; else left out."""
    manager = services.can_manage(viewer, city)
    links = services.links_of(city)
    if not links and not manager:
        return None
    return {"city": city, "links": links, "can_manage": manager}


def register() -> None:
    register_city_page_section(CityPageSection("links/_city_section.html", _city_section))
