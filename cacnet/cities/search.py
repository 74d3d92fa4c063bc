"""Cities in the header search: the directory's own search (English and local names), so the
search finds exactly the cities the directory lists for this viewer."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l

from cacnet.cities.services import DirectoryQuery, directory_select
from cacnet.core.db import db
from cacnet.core.i18n import country_name
from cacnet.search.registry import SearchHit, SearchProvider, register_provider


def find(folded: str, viewer, limit: int) -> list[SearchHit]:
    stmt = directory_select(viewer, DirectoryQuery(q=folded)).limit(limit)
    hits = []
    for city in db.session.scalars(stmt):
        local = city.name_local if city.name_local and city.name_local != city.name_en else ""
        hits.append(
            SearchHit(
                title=city.name_en + (f" ({local})" if local else ""),
                url=url_for("cities.city_page", slug=city.slug),
                summary=country_name(city.country_code),
            )
        )
    return hits


def register() -> None:
    register_provider(
        SearchProvider(
            kind="city",
            label=_l("Member cities"),
            find=find,
            position=10,
            more_url=lambda q: url_for("cities.directory", q=q),
        )
    )
