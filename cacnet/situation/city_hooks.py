"""What situation updates add to the cities capability: a section of the city page with the
latest figures and a chart of the last 30 reported days (through cacnet.cities.hooks, so cities
never imports us)."""

from __future__ import annotations

from datetime import timedelta

from cacnet.cities.hooks import CityPageSection, register_city_page_section
from cacnet.cities.models import City
from cacnet.situation import charts, services
from cacnet.situation.models import MEASURES

SECTION_DAYS = 30


def _city_section(city: City, viewer) -> dict | None:
    """The section, when the city has figures or the viewer may publish them; else left out."""
    publisher = services.can_publish(viewer, city)
    _first, last = services.reported_span(city.id)
    if last is None:
        return {"city": city, "chart": None, "can_publish": True} if publisher else None
    start = last - timedelta(days=SECTION_DAYS - 1)
    rows = services.days_between(city.id, start, last)
    present = services.measures_present(rows)
    measure = "new_cases" if "new_cases" in present else present[0]
    latest_row = rows[-1]
    return {
        "city": city,
        "last": last,
        "measure": measure,
        "latest": [
            (m, getattr(latest_row, m)) for m in MEASURES if getattr(latest_row, m) is not None
        ],
        "chart": charts.measure_chart(city, measure, rows, start, last, "city-situation-chart"),
        "table": [(r.day, getattr(r, measure)) for r in reversed(rows)],
        "can_publish": publisher,
    }


def register() -> None:
    register_city_page_section(CityPageSection("situation/_city_section.html", _city_section))
