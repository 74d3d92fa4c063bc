"""The header search's provider for news: published items the viewer may read (members-only
ones only for members of the alliance), matched in either language."""

from __future__ import annotations

from flask import url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from cacnet.news import services
from cacnet.search.registry import SearchHit, SearchProvider, register_provider


def find(folded_query: str, viewer, limit: int) -> list[SearchHit]:
    locale = str(get_locale() or "en")
    hits = []
    for item in services.search(folded_query, viewer, limit):
        title, lang = item.title_for(locale)
        summary, _summary_lang = item.summary_for(locale)
        hits.append(
            SearchHit(
                title=title,
                url=url_for("news.detail", item_id=item.id),
                summary=summary[:300],
                when=item.published_at,
                lang=lang if lang != locale else None,
            )
        )
    return hits


def register() -> None:
    register_provider(SearchProvider(kind="news", label=_l("News"), find=find, position=30))
