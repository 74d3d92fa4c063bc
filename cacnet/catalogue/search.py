"""The header search's "Products": vetted products of vetted companies, for everyone."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cacnet.catalogue.models import Company, EntryState, Product
from cacnet.core.db import db
from cacnet.core.i18n import current_language
from cacnet.search.registry import SearchHit, SearchProvider, register_provider


def find(folded_query: str, viewer, limit: int) -> list[SearchHit]:
    """Only what the public catalogue shows: the header search never lists an entry waiting for
    vetting, even to its own city (the catalogue page does)."""
    products = db.session.scalars(
        select(Product).join(Product.company)
        .where(Product.state == EntryState.VETTED, Company.state == EntryState.VETTED,
               Product.search_text.contains(folded_query, autoescape=True))
        .options(selectinload(Product.company))
        .order_by(Product.vetted_at.desc(), Product.id.desc()).limit(limit)
    )  # fmt: skip
    language = current_language()
    hits = []
    for p in products:
        title = p.name(language)
        in_other = (language == "ko" and not p.name_ko) or (language == "en" and not p.name_en)
        hits.append(SearchHit(
            title=title,
            url=url_for("catalogue.product_page", product_id=p.id),
            summary=p.company.name(language),
            when=p.vetted_at,
            lang=("en" if language == "ko" else "ko") if in_other else None,
        ))  # fmt: skip
    return hits


def register() -> None:
    register_provider(SearchProvider(kind="product", label=_l("Products"), find=find, position=60))
