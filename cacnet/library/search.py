"""The library's part of the header search: published cases the viewer may see whose titles,
summaries or city names hold every word of the query (in either language)."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l

from cacnet.library import services
from cacnet.search.registry import SearchHit, SearchProvider, register_provider


def find(folded_query: str, viewer, limit: int) -> list[SearchHit]:
    hits = []
    for case in services.search(folded_query, viewer, limit):
        title, lang = case.localized("title")
        summary, summary_lang = case.localized("summary")
        hits.append(
            SearchHit(
                title=title,
                url=url_for("library.case_page", case_id=case.id),
                summary=(summary[:200] if summary_lang == lang else ""),
                when=case.published_at,
                lang=lang,
            )
        )
    return hits


def register() -> None:
    register_provider(
        SearchProvider(kind="case", label=_l("Library cases"), find=find, position=20)
    )
