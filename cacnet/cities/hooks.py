"""Extension points for the capabilities built on cities.

The Statement (and later packages) sit above cities: they may import cities, never the reverse.
So the directory's extra filters (whether a city has endorsed the Statement) and the extra
sections of a city's page are registered here by those packages when they are imported, and
cities only walks the registries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement


@dataclass(frozen=True)
class DirectoryFacet:
    """A filter of the directory, the map and the GeoJSON: a select field named ``name`` whose
    chosen value becomes a condition on City (None: no condition)."""

    name: str
    label: Any  # a lazy string
    choices: Callable[[], list[tuple[str, Any]]]  # ("", "any") first
    condition: Callable[[str], ColumnElement[bool] | None]


@dataclass(frozen=True)
class CityPageSection:
    """A section of the public city page: ``context(city, viewer)`` returns the template's
    variables, or None to leave the section out."""

    template: str
    context: Callable[[Any, Any], dict | None]


DIRECTORY_FACETS: dict[str, DirectoryFacet] = {}
CITY_PAGE_SECTIONS: list[CityPageSection] = []


def register_directory_facet(facet: DirectoryFacet) -> None:
    from wtforms import SelectField
    from wtforms.validators import Optional

    from cacnet.cities.forms import DirectoryFilterForm

    DIRECTORY_FACETS[facet.name] = facet
    # WTForms' documented way to compose a form at run time: fields set on the class before any
    # instance is made.
    setattr(DirectoryFilterForm, facet.name, SelectField(facet.label, validators=[Optional()]))


def register_city_page_section(section: CityPageSection) -> None:
    if section not in CITY_PAGE_SECTIONS:
        CITY_PAGE_SECTIONS.append(section)


def facet_values(args) -> dict[str, str]:
    """The registered facets' values from a query string, each one of its choices or dropped."""
    values = {}
    for name, facet in DIRECTORY_FACETS.items():
        value = (args.get(name) or "")[:40]
        if value and value in {key for key, _label in facet.choices()}:
            values[name] = value
    return values
