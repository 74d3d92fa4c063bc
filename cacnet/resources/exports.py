"""The exchange as data: ``/resources/export.csv`` (HXL hashtags on the second row, so that
humanitarian tools read it) and ``/resources/export.json`` (the same records as objects).

One record per post the viewer may see on the board with the same filters (every state unless the
query says otherwise). The contact who handles a post is filled in only when the viewer may see
that contact (``cities.services.contact_visibility``); otherwise those cells are empty. Posts are
read in batches, so an export of the whole exchange streams in bounded memory.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from datetime import date

import pycountry
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cacnet.cities.models import Contact
from cacnet.cities.regions import MACRO_REGIONS
from cacnet.cities.services import contact_visibility
from cacnet.core.db import db
from cacnet.resources import services
from cacnet.resources.models import LIVE_POST_STATES, PostKind, PostState, ResourcePost

BATCH = 500

# (column header, HXL hashtag). The header names are the JSON keys.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "#meta +id"),
    ("posted_on", "#date +reported"),
    ("available_from", "#date +start"),
    ("needed_by", "#date +end"),
    ("expires_on", "#date +expires"),
    ("city", "#org +name"),
    ("country", "#country +code +v_iso3"),
    ("location", "#loc +name"),
    ("latitude", "#geo +lat"),
    ("longitude", "#geo +lon"),
    ("sector", "#sector"),
    ("title", "#item +name"),
    ("category", "#item +type"),
    ("kind", "#meta +kind"),
    ("quantity_requested", "#item +num +requested"),
    ("quantity_offered", "#item +num +offered"),
    ("quantity_remaining", "#item +num +remaining"),
    ("unit", "#item +unit"),
    ("status", "#status"),
    ("urgency", "#severity"),
    ("conditions", "#meta +conditions"),
    ("description", "#description"),
    ("contact_name", "#contact +name"),
    ("contact_email", "#contact +email"),
    ("contact_phone", "#contact +phone"),
    ("url", "#meta +url"),
)
HEADERS = tuple(name for name, _ in COLUMNS)
HXL_TAGS = tuple(tag for _, tag in COLUMNS)

# Data, not interface: the export reads the same in every language.
SECTOR_NAMES = {"staff": "Staff and expertise", "supplies": "Supplies", "knowhow": "Know-how"}


def query_from_args(args: Mapping) -> services.BoardQuery:
    """The board's filters from a query string (q, kind, category, country, region, urgency,
    status, sort); unlike the board, every state by default, newest first."""

    def arg(name: str, limit: int) -> str:
        return str(args.get(name) or "")[:limit].strip()

    status = arg("status", 20)
    region = arg("region", 20)
    return services.BoardQuery(
        q=arg("q", 200),
        kind=arg("kind", 10),
        category=arg("category", 60),
        country=arg("country", 2).upper(),
        region=region if region in MACRO_REGIONS else "",
        urgency=arg("urgency", 10),
        status=status if status in services.STATUS_FILTERS else "all",
        sort=arg("sort", 20) if arg("sort", 20) in services.SORTS else "newest",
    )


def _iso3(alpha_2: str) -> str:
    country = pycountry.countries.get(alpha_2=alpha_2.upper()) if alpha_2 else None
    return country.alpha_3 if country else ""


def _status(post: ResourcePost, today: date) -> str:
    if post.hidden_at is not None:
        return "hidden"
    if post.state in LIVE_POST_STATES and post.expires_on < today:
        return PostState.EXPIRED.value
    return post.state.value


def _record(post: ResourcePost, left, contact: Contact | None, today: date) -> dict:
    quantity = services.format_quantity(post.quantity)
    city = post.city
    return {
        "id": post.uuid,
        "posted_on": post.created_at.date().isoformat(),
        "available_from": post.available_from.isoformat() if post.available_from else None,
        "needed_by": post.needed_by.isoformat() if post.needed_by else None,
        "expires_on": post.expires_on.isoformat(),
        "city": city.name_en,
        "country": _iso3(city.country_code),
        "location": city.name_en,
        "latitude": city.latitude,
        "longitude": city.longitude,
        "sector": SECTOR_NAMES.get(post.category.group.value, post.category.group.value),
        "title": post.title,
        "category": post.category.name_en,
        "kind": post.kind.value,
        "quantity_requested": quantity if post.kind == PostKind.REQUEST else None,
        "quantity_offered": quantity if post.kind == PostKind.OFFER else None,
        "quantity_remaining": services.format_quantity(max(left, 0)),
        "unit": post.unit,
        "status": _status(post, today),
        "urgency": post.urgency.value,
        "conditions": post.conditions.value,
        "description": post.description_en or post.description_ko,
        "contact_name": contact.name if contact else None,
        "contact_email": (contact.email or None) if contact else None,
        "contact_phone": (contact.phone or None) if contact else None,
        "url": services._post_link(post),
    }


def export_records(viewer, query: services.BoardQuery, today: date | None = None) -> Iterator[dict]:
    """The records of the posts ``viewer`` may see with ``query``'s filters, in its order.

    The permission check and the search run now (a non-member gets ``PermissionDenied`` here,
    before anything is sent); the posts are then read ``BATCH`` at a time as the records are
    consumed, each batch with its cities, categories, contacts and accepted totals."""
    today = today or date.today()
    # board_select checks that the viewer is a member of the exchange.
    stmt = services.board_select(viewer, query, today).with_only_columns(ResourcePost.id)
    ids = list(db.session.scalars(stmt))
    visible = contact_visibility(viewer)

    def generate() -> Iterator[dict]:
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            posts = {
                p.id: p
                for p in db.session.scalars(
                    select(ResourcePost)
                    .where(ResourcePost.id.in_(chunk))
                    .options(selectinload(ResourcePost.city), selectinload(ResourcePost.category))
                )
            }
            contact_ids = {p.contact_id for p in posts.values() if p.contact_id}
            contacts = (
                {
                    c.id: c
                    for c in db.session.scalars(
                        select(Contact).where(Contact.id.in_(contact_ids), visible)
                    )
                }
                if contact_ids
                else {}
            )
            totals = services.accepted_totals(chunk)
            for post_id in chunk:
                post = posts.get(post_id)
                if post is None:  # deleted in the meantime
                    continue
                left = post.quantity - totals.get(post_id, 0)
                yield _record(post, left, contacts.get(post.contact_id), today)

    return generate()


def _csv_line(values) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(values)
    return out.getvalue()


def csv_chunks(viewer, query: services.BoardQuery, today: date | None = None) -> Iterator[str]:
    """The CSV export, piece by piece: a byte-order mark (spreadsheets then read the Korean as
    UTF-8), the header row, the HXL hashtag row, one row per post."""
    records = export_records(viewer, query, today)

    def generate() -> Iterator[str]:
        yield "\ufeff" + _csv_line(HEADERS) + _csv_line(HXL_TAGS)
        for record in records:
            yield _csv_line("" if record[h] is None else record[h] for h in HEADERS)

    return generate()


def json_chunks(viewer, query: services.BoardQuery, today: date | None = None) -> Iterator[str]:
    """The JSON export, piece by piece: ``{"hxl": {column: hashtag}, "records": [...]}``."""
    records = export_records(viewer, query, today)

    def generate() -> Iterator[str]:
        yield '{"hxl": ' + json.dumps(dict(COLUMNS), ensure_ascii=False) + ', "records": ['
        for i, record in enumerate(records):
            yield ("," if i else "") + "\n" + json.dumps(record, ensure_ascii=False)
        yield "\n]}\n"

    return generate()
