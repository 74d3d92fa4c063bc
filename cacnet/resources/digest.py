"""Category subscriptions and the daily digest of new posts.

A delegate subscribes to categories; ``send_digests`` (run by ``flask resources tick``) sends each
subscriber at most one e-mail a day listing the live posts of other cities in those categories
that appeared since the previous digest (or, for a category subscribed since, since subscribing).
When nothing is new, nothing is sent and the next run looks at the same window again.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from cacnet.accounts.models import User
from cacnet.cities.models import City
from cacnet.core import audit
from cacnet.core.db import db, utcnow
from cacnet.core.errors import ServiceError
from cacnet.core.mail import queue_mail
from cacnet.resources import services
from cacnet.resources.models import (
    LIVE_POST_STATES,
    CategorySubscription,
    ResourceCategory,
    ResourcePost,
)

DIGEST_INTERVAL = timedelta(days=1)
MAX_POSTS_PER_DIGEST = 50


def subscriptions(user) -> list[CategorySubscription]:
    """The user's subscriptions, in the taxonomy's order."""
    if user is None or getattr(user, "id", None) is None:
        return []
    return list(
        db.session.scalars(
            select(CategorySubscription)
            .join(ResourceCategory, ResourceCategory.id == CategorySubscription.category_id)
            .where(CategorySubscription.user_id == user.id)
            .options(selectinload(CategorySubscription.category))
            .order_by(ResourceCategory.group, ResourceCategory.position, ResourceCategory.id)
        )
    )


def subscribe(actor, category_ids) -> list[CategorySubscription]:
    """Replace the actor's subscriptions with ``category_ids`` (an empty list unsubscribes from
    everything). Members of the exchange only; every id must be an active category. Categories
    kept keep their digest history; the change is audited."""
    services.require_member(actor)
    try:
        wanted = {int(i) for i in category_ids or ()}
    except (TypeError, ValueError):
        raise ServiceError(_l("Choose categories from the list."), field="categories")
    if wanted:
        known = set(
            db.session.scalars(
                select(ResourceCategory.id).where(
                    ResourceCategory.id.in_(wanted), ResourceCategory.active.is_(True)
                )
            )
        )
        if known != wanted:
            raise ServiceError(_l("Choose categories from the list."), field="categories")
    current = {s.category_id: s for s in subscriptions(actor)}
    removed = sorted(set(current) - wanted)
    added = sorted(wanted - set(current))
    for category_id in removed:
        db.session.delete(current[category_id])
    now = utcnow()
    for category_id in added:
        db.session.add(CategorySubscription(user_id=actor.id, category_id=category_id,
                                            created_at=now))  # fmt: skip
    if added or removed:
        db.session.flush()
        audit.record("resource_subscriptions_changed", actor, actor=actor,
                     details={"added": added, "removed": removed})  # fmt: skip
    return subscriptions(actor)


@dataclass
class DigestItem:
    post: ResourcePost
    category: str  # in the recipient's language
    link: str


def _due_users(now: datetime) -> list[int]:
    """Subscribers whose last digest (the latest over their subscriptions) is a day old, or who
    never had one."""
    last = func.max(CategorySubscription.last_digest_at)
    return list(
        db.session.scalars(
            select(CategorySubscription.user_id)
            .group_by(CategorySubscription.user_id)
            .having((last.is_(None)) | (last <= now - DIGEST_INTERVAL))
        )
    )


def send_digests(now: datetime | None = None) -> int:
    """Send every due subscriber one e-mail with the live posts (open or partly met, not hidden,
    not past expiry, not from the subscriber's own city) created in their categories since their
    last digest, then record the digest time on all their subscriptions. At most one digest per
    subscriber per day; none when there is nothing new; none for disabled accounts or accounts
    no longer in the exchange. Returns the number of e-mails queued (sent after the commit)."""
    now = now or utcnow()
    today = now.date()
    sent = 0
    due = _due_users(now)
    for start in range(0, len(due), 500):
        user_ids = due[start : start + 500]
        # Every new post of the due subscribers' categories in one query: a post counts for a
        # subscription when it was created after that subscription's last digest (or start).
        since = func.coalesce(CategorySubscription.last_digest_at, CategorySubscription.created_at)
        rows = db.session.execute(
            select(CategorySubscription.user_id, ResourcePost)
            .join(ResourcePost, ResourcePost.category_id == CategorySubscription.category_id)
            .join(User, User.id == CategorySubscription.user_id)
            .where(
                CategorySubscription.user_id.in_(user_ids),
                ResourcePost.created_at > since,
                ResourcePost.created_at <= now,
                ResourcePost.state.in_(LIVE_POST_STATES),
                ResourcePost.hidden_at.is_(None),
                ResourcePost.expires_on >= today,
                (User.city_id.is_(None)) | (ResourcePost.city_id != User.city_id),
                User.disabled_at.is_(None),
            )
            .options(selectinload(ResourcePost.city), selectinload(ResourcePost.category))
            .order_by(ResourcePost.created_at.desc(), ResourcePost.id.desc())
        ).all()
        new_posts: dict[int, list[ResourcePost]] = defaultdict(list)
        for user_id, post in rows:
            new_posts[user_id].append(post)
        if not new_posts:
            continue
        users = db.session.scalars(
            select(User)
            .where(User.id.in_(new_posts))
            .options(selectinload(User.city).selectinload(City.active_membership))
        )
        for user in users:
            if not services.can_see_post(user, new_posts[user.id][0]):
                continue  # no longer a member of the exchange
            _send(user, new_posts[user.id])
            db.session.execute(
                CategorySubscription.__table__.update()
                .where(CategorySubscription.user_id == user.id)
                .values(last_digest_at=now)
            )
            sent += 1
    return sent


def _send(user: User, posts: list[ResourcePost]) -> None:
    def category_name(category: ResourceCategory) -> str:
        return category.name_ko if user.locale == "ko" and category.name_ko else category.name_en

    items = [
        DigestItem(post=post, category=category_name(post.category), link=services._post_link(post))
        for post in posts[:MAX_POSTS_PER_DIGEST]
    ]
    queue_mail(
        user.email,
        "resources/emails/digest.txt",
        user.locale,
        recipient=user,
        items=items,
        count=len(posts),
        more=max(len(posts) - len(items), 0),
        board_link=url_for("resources.board", _external=True),
        subscriptions_link=url_for("resources_admin.subscriptions", _external=True),
    )
