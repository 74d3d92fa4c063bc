"""The secretariat's side of the exchange: hiding a post (with a reason the poster is told),
showing it again, extending the taxonomy, and the exchange's statistics."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select, text, union
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from cacnet.core import audit
from cacnet.core.db import db, utcnow
from cacnet.core.errors import ServiceError, StateConflict
from cacnet.core.permissions import require_secretariat
from cacnet.resources import services
from cacnet.resources.models import (
    COUNTING_STATES,
    LIVE_POST_STATES,
    UNITS,
    CategoryGroup,
    PostKind,
    PostState,
    ResourceCategory,
    ResourcePost,
    ResourceResponse,
    ResponseState,
)

MAX_REASON = 2000
ACTIVE_DAYS = 90
SLUG_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_CONTROL = {chr(c) for c in range(32)}


# --- hiding ------------------------------------------------------------------------------------


def hide_post(actor, post: ResourcePost, reason: str) -> None:
    """The secretariat takes a post off the exchange. The reason is required, kept on the post and
    in the audit log, and sent to the poster's city; the post's city and the secretariat still see
    it (greyed), others no longer do, and it takes no responses until it is shown again."""
    require_secretariat(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_l("Give the reason for hiding the post; the poster is told."),
                           field="reason")  # fmt: skip
    if len(reason) > MAX_REASON:
        raise ServiceError(_l("Use at most %(max)d characters.", max=MAX_REASON), field="reason")
    if post.hidden_at is not None:
        raise StateConflict(_l("This post is already hidden."))
    post.hidden_at = utcnow()
    post.hidden_reason = reason
    audit.record("resource_post_hidden", post, actor=actor, reason=reason)
    services._mail(post.city_id, post.author, "post_hidden", post=post, reason=reason,
                   link=services._post_link(post))  # fmt: skip


def unhide_post(actor, post: ResourcePost) -> None:
    """The secretariat shows a hidden post again (its state is what it was)."""
    require_secretariat(actor)
    if post.hidden_at is None:
        raise StateConflict(_l("This post is not hidden."))
    previous_reason = post.hidden_reason
    post.hidden_at = None
    post.hidden_reason = ""
    audit.record("resource_post_unhidden", post, actor=actor,
                 details={"hidden_reason": previous_reason})  # fmt: skip


def hidden_posts(actor, limit: int = 200) -> list[ResourcePost]:
    """The hidden posts, most recently hidden first (for the secretariat's page)."""
    require_secretariat(actor)
    return list(
        db.session.scalars(
            select(ResourcePost)
            .where(ResourcePost.hidden_at.is_not(None))
            .options(selectinload(ResourcePost.city), selectinload(ResourcePost.category))
            .order_by(ResourcePost.hidden_at.desc(), ResourcePost.id.desc())
            .limit(limit)
        )
    )


# --- the taxonomy ------------------------------------------------------------------------------


def _name(value: str | None, field_name: str, required: bool) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ServiceError(_l("Give the name in English."), field=field_name)
    if len(value) > 120:
        raise ServiceError(_l("Use at most %(max)d characters.", max=120), field=field_name)
    if any(c in _CONTROL for c in value) or "<" in value or ">" in value:
        raise ServiceError(
            _l("Use plain text, without < or > or control characters."), field=field_name
        )
    return value


def add_category(actor, slug: str, group: str, name_en: str, name_ko: str = "",
                 default_unit: str = "pieces") -> ResourceCategory:  # fmt: skip
    """The secretariat adds a category to the taxonomy, at the end of its group's list. The slug
    (lowercase letters, digits and hyphens) is unique; the English name is required."""
    require_secretariat(actor)
    slug = (slug or "").strip().lower()
    if not slug:
        raise ServiceError(_l("Give a short identifier, for example field-hospitals."),
                           field="slug")  # fmt: skip
    if len(slug) > 60 or not SLUG_RE.fullmatch(slug):
        raise ServiceError(
            _l("Use lowercase letters, digits and single hyphens (at most 60), for example "
               "field-hospitals."),
            field="slug",
        )  # fmt: skip
    try:
        category_group = CategoryGroup(group)
    except ValueError:
        raise ServiceError(_l("Choose a group."), field="group")
    name_en = _name(name_en, "name_en", required=True)
    name_ko = _name(name_ko, "name_ko", required=False)
    if default_unit not in UNITS:
        raise ServiceError(_l("Choose a unit."), field="default_unit")
    taken = _l("There is already a category with this identifier.")
    if db.session.scalar(select(ResourceCategory.id).where(ResourceCategory.slug == slug)):
        raise ServiceError(taken, field="slug")
    position = db.session.scalar(select(func.coalesce(func.max(ResourceCategory.position), -1)))
    category = ResourceCategory(
        slug=slug,
        group=category_group,
        name_en=name_en,
        name_ko=name_ko,
        default_unit=default_unit,
        position=position + 1,
        active=True,
    )
    try:
        with db.session.begin_nested():  # another officer added the same slug a moment ago
            db.session.add(category)
    except IntegrityError:
        raise ServiceError(taken, field="slug")
    details = {"slug": slug, "group": category_group.value, "name_en": name_en}
    audit.record("resource_category_added", category, actor=actor, details=details)
    return category


# --- statistics --------------------------------------------------------------------------------

STATE_ORDER = tuple(PostState)


@dataclass
class QuantityRow:
    """Quantities of one category in one unit (different units are never added up)."""

    category: ResourceCategory
    unit: str
    pledged: Decimal = Decimal(0)  # asked for in responses (withdrawn ones left out)
    accepted: Decimal = Decimal(0)  # accepted, including what has since been delivered
    delivered: Decimal = Decimal(0)


@dataclass
class CategoryRow:
    category: ResourceCategory
    offers: int = 0
    requests: int = 0
    by_state: dict[PostState, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.offers + self.requests


@dataclass
class ExchangeStatistics:
    categories: list[CategoryRow]
    quantities: list[QuantityRow]
    by_state: dict[PostState, int]
    posts: int
    offers: int
    requests: int
    hidden: int
    responses: int
    accepted_responses: int
    delivered_responses: int
    active_cities: int
    active_days: int = ACTIVE_DAYS


def statistics(today: date | None = None) -> ExchangeStatistics:
    """Posts by category and state (a live post past its expiry date counts as expired, as on the
    board), quantities pledged, accepted and delivered by category and unit, the number of cities
    with a post or a response in the last 90 days, and totals. A handful of grouped queries,
    whatever the size of the exchange."""
    today = today or date.today()
    group_order = list(CategoryGroup)
    categories = {
        c.id: c
        for c in sorted(
            db.session.scalars(select(ResourceCategory)),
            key=lambda c: (group_order.index(c.group), c.position, c.id),
        )
    }
    rows = {
        cid: CategoryRow(c, by_state=dict.fromkeys(STATE_ORDER, 0)) for cid, c in categories.items()
    }
    state = case(
        (
            ResourcePost.state.in_(LIVE_POST_STATES) & (ResourcePost.expires_on < today),
            PostState.EXPIRED.value,
        ),
        else_=ResourcePost.state,
    )
    by_state = dict.fromkeys(STATE_ORDER, 0)
    offers = requests = 0
    # Grouped by the output column's name: PostgreSQL would not see the CASE in GROUP BY as
    # the one in SELECT, their bound parameters being distinct.
    by_category_kind_state = select(
        ResourcePost.category_id, ResourcePost.kind, state.label("derived_state"), func.count()
    ).group_by(ResourcePost.category_id, ResourcePost.kind, text("derived_state"))
    for category_id, kind, post_state, count in db.session.execute(by_category_kind_state):
        row = rows[category_id]
        post_state = PostState(post_state)
        row.by_state[post_state] += count
        by_state[post_state] += count
        if PostKind(kind) == PostKind.OFFER:
            row.offers += count
            offers += count
        else:
            row.requests += count
            requests += count

    counting = ResourceResponse.state.in_(COUNTING_STATES)
    delivered = ResourceResponse.state == ResponseState.DELIVERED
    pledged = ResourceResponse.state != ResponseState.WITHDRAWN
    by_category_and_unit = (
        select(
            ResourcePost.category_id,
            ResourcePost.unit,
            func.count(),
            func.count(case((counting, 1))),
            func.count(case((delivered, 1))),
            func.sum(case((pledged, ResourceResponse.quantity))),
            func.sum(case((counting, ResourceResponse.accepted_quantity))),
            func.sum(case((delivered, ResourceResponse.accepted_quantity))),
        )
        .join(ResourcePost, ResourcePost.id == ResourceResponse.post_id)
        .group_by(ResourcePost.category_id, ResourcePost.unit)
    )
    quantities = []
    totals = {"responses": 0, "accepted": 0, "delivered": 0}
    for category_id, unit, n, n_accepted, n_delivered, *sums in db.session.execute(
        by_category_and_unit
    ):
        totals["responses"] += n
        totals["accepted"] += n_accepted
        totals["delivered"] += n_delivered
        quantities.append(QuantityRow(categories[category_id], unit, *map(_decimal, sums)))
    order = {cid: i for i, cid in enumerate(categories)}
    quantities.sort(key=lambda q: (order[q.category.id], q.unit))

    since = utcnow() - timedelta(days=ACTIVE_DAYS)
    active = union(
        select(ResourcePost.city_id).where(ResourcePost.created_at >= since),
        select(ResourceResponse.city_id).where(ResourceResponse.created_at >= since),
    ).subquery()
    active_cities = db.session.scalar(select(func.count()).select_from(active))
    hidden = db.session.scalar(
        select(func.count()).select_from(ResourcePost).where(ResourcePost.hidden_at.is_not(None))
    )
    return ExchangeStatistics(
        categories=[r for r in rows.values() if r.total or r.category.active],
        quantities=quantities,
        by_state=by_state,
        posts=offers + requests,
        offers=offers,
        requests=requests,
        hidden=hidden,
        responses=totals["responses"],
        accepted_responses=totals["accepted"],
        delivered_responses=totals["delivered"],
        active_cities=active_cities,
    )


def _decimal(value) -> Decimal:
    """A sum read as two-decimal fixed point (SQLite may hand NUMERIC sums back as floats); no
    rows to add up is zero."""
    if value is None:
        return Decimal("0.00")
    return Decimal(str(value)).quantize(Decimal("0.01"))
