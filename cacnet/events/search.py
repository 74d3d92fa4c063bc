"""The header search's "Events" group: events the viewer may see whose titles, descriptions,
organiser, venue, speakers or cities match."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l

from cacnet.events import services
from cacnet.search.registry import SearchHit, SearchProvider, register_provider


def find(folded: str, viewer, limit: int) -> list[SearchHit]:
    hits = []
    for event in services.search(viewer, folded, limit):
        hits.append(
            SearchHit(
                title=event.title(),
                url=url_for("events.detail", event_id=event.id),
                summary=event.organiser,
                when=event.starts_at,
                lang=event.title_lang(),
            )
        )
    return hits


def register() -> None:
    register_provider(SearchProvider(kind="event", label=_l("Events"), find=find, position=40))
