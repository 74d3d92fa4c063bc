"""/search: the header's one search, its hits grouped and labelled by kind."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from cacnet.core.text import search_key
from cacnet.search.registry import PROVIDERS, providers

bp = Blueprint("search", __name__)

MAX_QUERY = 100
PER_KIND = 5  # hits of each kind on the all-kinds page
ONE_KIND = 50  # hits when one kind is chosen


@bp.get("/search")
def search():
    raw = " ".join((request.args.get("q") or "").split())[:MAX_QUERY]
    kind = request.args.get("kind") or ""
    chosen = PROVIDERS.get(kind)
    folded = search_key(raw)
    groups = []
    if folded:
        for provider in [chosen] if chosen else providers():
            limit = ONE_KIND if chosen else PER_KIND
            hits = provider.find(folded, current_user, limit + 1)
            groups.append(
                {
                    "provider": provider,
                    "hits": hits[:limit],
                    "more": len(hits) > limit,
                    "more_url": provider.more_url(raw) if provider.more_url else None,
                }
            )
    total = sum(len(g["hits"]) for g in groups)
    return render_template(
        "search/results.html",
        q=raw,
        kind=chosen.kind if chosen else "",
        groups=groups,
        total=total,
        kinds=providers(),
    )
