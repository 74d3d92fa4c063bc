"""The providers of the header search.

A capability registers one ``SearchProvider`` when its hooks are imported (as the city page
sections are). ``find(query, viewer, limit)`` gets the query already folded with
``cacnet.core.text.search_key`` (no case, no accents, Hangul whole; never empty) and returns at
most ``limit`` hits the viewer may see, best first. Visibility is the provider's own rule, the
same one its list pages use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class SearchHit:
    title: str
    url: str
    summary: str = ""
    when: datetime | None = None  # shown, and the order among hits of one kind
    lang: str | None = None  # the language of title/summary when it is not the page's


@dataclass(frozen=True)
class SearchProvider:
    kind: str  # stable key: "city", "case", "news", "event", "product"
    label: Any  # lazy string naming the kind, plural ("Library cases")
    find: Callable[[str, Any, int], list[SearchHit]]
    position: int = 100  # order of the groups on the results page
    # The capability's own list page searching the same words (raw query -> URL), for "see all".
    more_url: Callable[[str], str] | None = None


PROVIDERS: dict[str, SearchProvider] = {}


def register_provider(provider: SearchProvider) -> None:
    PROVIDERS[provider.kind] = provider


def providers() -> list[SearchProvider]:
    return sorted(PROVIDERS.values(), key=lambda p: (p.position, p.kind))
