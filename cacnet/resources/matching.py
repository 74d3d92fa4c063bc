"""Matching: the live offers that could meet a request, and the live requests an offer could serve.

The database narrows the field (same category and unit, the opposite kind, live, not hidden, not
past expiry, another city, dates that overlap) and hands back at most ``CANDIDATE_CAP`` of the most
recent candidates; what is left of each comes from one grouped query (``accepted_totals``); the
ranking happens in Python: by how much of this post's remaining quantity the other covers, then by
the distance between the two cities (unknown last), then newest first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import contains_eager, load_only

from cacnet.cities.models import City
from cacnet.core.db import db
from cacnet.core.errors import PermissionDenied
from cacnet.resources import services
from cacnet.resources.models import LIVE_POST_STATES, PostKind, ResourcePost

# Candidates ranked in Python at most; the most recent ones win a place. At 100,000 posts a
# category and kind rarely has this many live posts of the same unit from other cities.
CANDIDATE_CAP = 200
EARTH_RADIUS_KM = 6371.0088


@dataclass
class Match:
    post: ResourcePost
    remaining: Decimal
    coverage: Decimal  # 0..1: the share of the viewed post's remaining quantity this one covers
    distance_km: float | None


def haversine_km(a: City | None, b: City | None) -> float | None:
    """Great-circle distance between two cities, or None when either has no coordinates."""
    if a is None or b is None or not a.has_coordinates or not b.has_coordinates:
        return None
    lat1, lon1, lat2, lon2 = map(math.radians, (a.latitude, a.longitude, b.latitude, b.longitude))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def _candidates(post: ResourcePost, today: date) -> list[ResourcePost]:
    other = PostKind.OFFER if post.kind == PostKind.REQUEST else PostKind.REQUEST
    stmt = (
        select(ResourcePost)
        .join(City, City.id == ResourcePost.city_id)
        # Only what ranking and the list use: up to 200 candidates are built to keep a few, and
        # descriptions and search text are most of a post's bytes.
        .options(
            load_only(
                ResourcePost.id,
                ResourcePost.uuid,
                ResourcePost.kind,
                ResourcePost.title_en,
                ResourcePost.title_ko,
                ResourcePost.quantity,
                ResourcePost.unit,
                ResourcePost.created_at,
                ResourcePost.city_id,
                ResourcePost.state,
                ResourcePost.hidden_at,
                ResourcePost.expires_on,
            ),
            contains_eager(ResourcePost.city).load_only(
                City.id, City.slug, City.name_en, City.latitude, City.longitude
            ),
        )
        .where(
            ResourcePost.category_id == post.category_id,
            ResourcePost.kind == other,
            # Quantities in different units (boxes, pieces) cannot be compared.
            ResourcePost.unit == post.unit,
            ResourcePost.state.in_(LIVE_POST_STATES),
            ResourcePost.hidden_at.is_(None),
            ResourcePost.expires_on >= today,
            ResourcePost.city_id != post.city_id,
        )
    )
    # The dates overlap: the offer is available no later than the request is needed.
    if post.kind == PostKind.REQUEST and post.needed_by is not None:
        stmt = stmt.where(
            or_(
                ResourcePost.available_from.is_(None), ResourcePost.available_from <= post.needed_by
            )
        )
    elif post.kind == PostKind.OFFER and post.available_from is not None:
        stmt = stmt.where(
            or_(ResourcePost.needed_by.is_(None), ResourcePost.needed_by >= post.available_from)
        )
    stmt = stmt.order_by(ResourcePost.created_at.desc(), ResourcePost.id.desc()).limit(
        CANDIDATE_CAP
    )
    return list(db.session.scalars(stmt))


def matches_for(
    viewer, post: ResourcePost, limit: int = 5, today: date | None = None
) -> list[Match]:
    """For a request, the live offers of other cities that could meet it; for an offer, the live
    requests it could serve: same category and unit, something left on both sides, dates that
    overlap. At most ``limit``, best first: the largest share of this post's remaining quantity
    covered, then the nearest city (cities without coordinates last), then the newest post.
    A post that is not live, or has nothing left, has no matches."""
    services.require_member(viewer)
    if not services.can_see_post(viewer, post):
        raise PermissionDenied(_l("You cannot see this post."))
    today = today or date.today()
    if not post.is_live or post.expires_on < today or limit <= 0:
        return []
    own_left = services.remaining(post)
    if own_left <= 0:
        return []
    candidates = _candidates(post, today)
    totals = services.accepted_totals(c.id for c in candidates)
    matches = []
    for candidate in candidates:
        left = candidate.quantity - totals.get(candidate.id, Decimal(0))
        if left <= 0:
            continue
        matches.append(
            Match(
                post=candidate,
                remaining=left,
                coverage=min(left, own_left) / own_left,
                distance_km=haversine_km(post.city, candidate.city),
            )
        )
    matches.sort(
        key=lambda m: (
            -m.coverage,
            m.distance_km is None,
            m.distance_km or 0.0,
            -m.post.created_at.timestamp(),
            -m.post.id,
        )
    )
    return matches[:limit]
