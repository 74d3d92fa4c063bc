"""Every change of a news item, each one function that checks who acts, validates, changes,
writes an audit record and queues its mail for after the commit; and the queries the pages, the
feed, the city page and the search share (one visibility rule: ``visible_clause``). The caller
commits.

Who may do what:

* The secretariat (the chair's office is the secretariat, so notes from the chair are theirs
  alone) writes items of every category, publishes directly, edits and withdraws any item, and
  moderates the member cities' stories: approve (publish) or reject with a reason, which is
  mailed to the author.
* A delegate of an approved member city writes its city's stories (news or announcements), saves
  drafts and submits them for moderation; the city's delegates may change a draft or a rejected
  story and withdraw the city's stories. Delegates of a suspended city may only read.
* Everyone sees published public items; members of the alliance (``is_network_member``) also the
  members-only ones; unpublished items are seen by the secretariat and their city's delegates.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, false, or_, select, true, update
from sqlalchemy.orm import joinedload

from cacnet.cities.models import City
from cacnet.core import audit, uploads
from cacnet.core.cache import delete_after_commit
from cacnet.core.db import db, utcnow
from cacnet.core.errors import PermissionDenied, ServiceError, StateConflict
from cacnet.core.mail import queue_mail
from cacnet.core.permissions import is_network_member, require_secretariat
from cacnet.news.models import (
    IMAGE_TYPES,
    NewsCategory,
    NewsDigestSubscription,
    NewsItem,
    NewsState,
    NewsVisibility,
)

MAX_TITLE = 200
MAX_SUMMARY = 1000
MAX_BODY = 50000
MAX_ALT = 300
MAX_REASON = 2000
MAX_IMAGE_BYTES = 5 * 1024 * 1024
PER_PAGE = 10
FEED_CACHE_KEY = "news:feed"

_CONTROL = {chr(c) for c in range(32)} - {"\n", "\r", "\t"}

CITY_CATEGORIES = (NewsCategory.NEWS, NewsCategory.ANNOUNCEMENT)
EDITABLE_BY_CITY = (NewsState.DRAFT, NewsState.REJECTED)


# --- who may act -------------------------------------------------------------------------------


def _signed_in(actor) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False)


def can_write(actor) -> bool:
    """The secretariat, or a delegate of an approved member city."""
    if not _signed_in(actor):
        return False
    return actor.is_secretariat or (actor.city_id is not None and actor.acts_for_active_city)


def require_writer(actor) -> None:
    if not _signed_in(actor):
        raise PermissionDenied(_l("Please sign in to write news."))
    if actor.is_secretariat:
        return
    if actor.city_id is None:
        raise PermissionDenied(
            _l("Only the secretariat and delegates of member cities write news.")
        )
    if not actor.acts_for_active_city:
        raise PermissionDenied(
            _l("Your city's membership is not active, so you cannot act for the city.")
        )


def is_city_of(actor, item: NewsItem) -> bool:
    return _signed_in(actor) and item.city_id is not None and actor.city_id == item.city_id


def can_edit(actor, item: NewsItem) -> bool:
    if not can_write(actor) or item.state == NewsState.WITHDRAWN:
        return False
    if actor.is_secretariat:
        return True
    return is_city_of(actor, item) and item.state in EDITABLE_BY_CITY


def can_withdraw(actor, item: NewsItem) -> bool:
    if not can_write(actor) or item.state == NewsState.WITHDRAWN:
        return False
    return actor.is_secretariat or is_city_of(actor, item)


def _require_edit(actor, item: NewsItem) -> None:
    require_writer(actor)
    if not can_edit(actor, item):
        if item.state == NewsState.WITHDRAWN:
            raise StateConflict(_l("This item is withdrawn."))
        if is_city_of(actor, item):
            raise StateConflict(
                _l("A submitted or published story cannot be changed; withdraw it, or ask the "
                   "secretariat.")
            )  # fmt: skip
        raise PermissionDenied(_l("Only the secretariat and the story's city can change it."))


# --- validation --------------------------------------------------------------------------------


def _plain(text: str | None, limit: int, field: str, *, one_line: bool = False) -> str:
    value = (text or "").strip()
    if len(value) > limit:
        raise ServiceError(_l("Use at most %(max)d characters.", max=limit), field=field)
    bad = _CONTROL | ({"\n", "\r"} if one_line else set())
    if any(c in bad for c in value) or "<" in value or ">" in value:
        raise ServiceError(_l("Use plain text, without < or > or control characters."), field=field)
    return value


def _markdown(text: str | None, field: str) -> str:
    """Markdown is stored as written and only ever shown through render_markdown."""
    value = (text or "").strip()
    if len(value) > MAX_BODY:
        raise ServiceError(_l("Use at most %(max)d characters.", max=MAX_BODY), field=field)
    if any(c in _CONTROL for c in value):
        raise ServiceError(_l("The text contains control characters."), field=field)
    return value


@dataclass
class NewsData:
    title_en: str = ""
    title_ko: str = ""
    summary_en: str = ""
    summary_ko: str = ""
    body_en: str = ""
    body_ko: str = ""
    category: str = "news"
    visibility: str = "public"
    city_id: int | None = None  # the secretariat's choice; a city's delegates write for theirs
    image: bytes | None = None  # a new image, or None to keep the current one
    remove_image: bool = False
    image_alt_en: str = ""
    image_alt_ko: str = ""


def _validate(actor, data: NewsData, item: NewsItem | None) -> dict:
    values = {
        "title_en": _plain(data.title_en, MAX_TITLE, "title_en", one_line=True),
        "title_ko": _plain(data.title_ko, MAX_TITLE, "title_ko", one_line=True),
        "summary_en": _plain(data.summary_en, MAX_SUMMARY, "summary_en"),
        "summary_ko": _plain(data.summary_ko, MAX_SUMMARY, "summary_ko"),
        "body_en": _markdown(data.body_en, "body_en"),
        "body_ko": _markdown(data.body_ko, "body_ko"),
        "image_alt_en": _plain(data.image_alt_en, MAX_ALT, "image_alt_en", one_line=True),
        "image_alt_ko": _plain(data.image_alt_ko, MAX_ALT, "image_alt_ko", one_line=True),
    }
    if not (values["title_en"] or values["title_ko"]):
        raise ServiceError(_l("Give a title in English or in Korean."), field="title_en")
    try:
        category = NewsCategory(data.category or "news")
    except ValueError:
        raise ServiceError(_l("Choose a category."), field="category")
    if category == NewsCategory.CHAIR_NOTE and not actor.is_secretariat:
        raise ServiceError(
            _l("Only the secretariat, the chair's office, publishes notes from the chair."),
            field="category",
        )
    try:
        visibility = NewsVisibility(data.visibility or "public")
    except ValueError:
        raise ServiceError(_l("Choose who may read it."), field="visibility")
    values["category"] = category
    values["visibility"] = visibility
    if actor.is_secretariat:
        city_id = data.city_id or None
        if city_id is not None:
            city = db.session.get(City, city_id)
            if city is None or city.active_membership is None:
                raise ServiceError(_l("Choose a member city."), field="city_id")
        if category == NewsCategory.CHAIR_NOTE:
            city_id = None
        values["city_id"] = city_id
    else:
        values["city_id"] = item.city_id if item is not None else actor.city_id
    return values


def _image(data: NewsData, values: dict, item: NewsItem | None) -> None:
    """Check and store a new image (by content: PNG, JPEG or WebP only), or drop the current one;
    an image needs alt text."""
    sha, kind = (item.image_sha256, item.image_type) if item is not None else (None, None)
    if data.remove_image:
        sha, kind = None, None
    if data.image:
        if len(data.image) > MAX_IMAGE_BYTES:
            raise ServiceError(_l("An image may be at most 5 MB."), field="image")
        kind = uploads.sniff_document(data.image, frozenset(IMAGE_TYPES))
        if kind is None:
            raise ServiceError(_l("Attach a PNG, JPEG or WebP image."), field="image")
        if not (values["image_alt_en"] or values["image_alt_ko"]):
            raise ServiceError(
                _l("Describe the image for people who cannot see it (alt text)."),
                field="image_alt_en",
            )
        sha = uploads.store(data.image, "news", IMAGE_TYPES[kind])
    elif sha and not (values["image_alt_en"] or values["image_alt_ko"]):
        raise ServiceError(
            _l("Describe the image for people who cannot see it (alt text)."), field="image_alt_en"
        )
    values["image_sha256"], values["image_type"] = sha, kind


# --- writing -----------------------------------------------------------------------------------

ACTIONS = ("save", "submit", "publish")


def save_item(
    actor, data: NewsData, item: NewsItem | None = None, action: str = "save"
) -> NewsItem:
    """Create (``item`` None) or change an item, then: ``save`` keeps it a draft (a published
    item stays published when the secretariat edits it), ``submit`` sends a city's story to the
    secretariat's moderation, ``publish`` (the secretariat only) publishes it. Nothing is stored
    when anything is refused."""
    require_writer(actor)
    if action not in ACTIONS:
        raise ServiceError(_l("Choose what to do with the item."))
    if item is not None:
        _require_edit(actor, item)
    values = _validate(actor, data, item)
    if action == "publish":
        require_secretariat(actor)
    if action == "submit" and values["city_id"] is None and not actor.is_secretariat:
        raise PermissionDenied(_l("Only delegates of member cities submit stories."))
    _image(data, values, item)
    if item is None:
        item = NewsItem(author_id=actor.id, state=NewsState.DRAFT, **values)
        db.session.add(item)
        db.session.flush()
        audit.record("news_drafted", item, actor=actor, to_state=NewsState.DRAFT.value)
    else:
        for key, value in values.items():
            setattr(item, key, value)
        db.session.flush()
        audit.record("news_changed", item, actor=actor)
    if action == "submit" and item.state != NewsState.PUBLISHED:
        _submit(actor, item)
    elif action == "publish" and item.state != NewsState.PUBLISHED:
        _publish(actor, item)
    if item.state == NewsState.PUBLISHED:
        delete_after_commit(FEED_CACHE_KEY)
    return item


def _submit(actor, item: NewsItem) -> None:
    before = item.state
    if before not in (NewsState.DRAFT, NewsState.REJECTED):
        raise StateConflict(_l("This story is already submitted."))
    if actor.is_secretariat:  # the secretariat does not moderate itself
        _publish(actor, item)
        return
    item.state = NewsState.SUBMITTED
    item.submitted_at = utcnow()
    item.rejection_reason = ""
    audit.record("news_submitted", item, actor=actor, from_state=before.value,
                 to_state=NewsState.SUBMITTED.value)  # fmt: skip
    from cacnet.membership.services import secretariat_addresses

    link = url_for("news.moderation", _external=True)
    for email, locale in secretariat_addresses():
        queue_mail(email, "news/emails/story_submitted.txt", locale if locale in ("en", "ko")
                   else "en", news_item=item, link=link)  # fmt: skip


def submit(actor, item: NewsItem) -> None:
    """A delegate of the story's (approved) city sends its draft or rejected story to the
    secretariat's moderation; the secretariat is told by e-mail."""
    require_writer(actor)
    _require_edit(actor, item)
    _submit(actor, item)


def _publish(actor, item: NewsItem) -> None:
    before = item.state
    item.state = NewsState.PUBLISHED
    item.published_at = item.published_at or utcnow()
    item.decided_by_id = actor.id
    item.rejection_reason = ""
    db.session.flush()
    audit.record("news_published", item, actor=actor, from_state=before.value,
                 to_state=NewsState.PUBLISHED.value)  # fmt: skip
    delete_after_commit(FEED_CACHE_KEY)


def approve(actor, item: NewsItem) -> None:
    """The secretariat publishes a submitted story (or its own draft)."""
    require_secretariat(actor)
    _lock(item)
    if item.state not in (NewsState.SUBMITTED, NewsState.DRAFT):
        raise StateConflict(_l("Only a submitted story or a draft can be published."))
    _publish(actor, item)


def reject(actor, item: NewsItem, reason: str) -> None:
    """The secretariat sends a submitted story back with a reason, which is mailed to its author
    (in the author's language); the city may change it and submit it again."""
    require_secretariat(actor)
    reason = _plain(reason, MAX_REASON, "reason")
    if not reason:
        raise ServiceError(_l("Say why the story is not published."), field="reason")
    _lock(item)
    if item.state != NewsState.SUBMITTED:
        raise StateConflict(_l("Only a submitted story can be rejected."))
    item.state = NewsState.REJECTED
    item.rejection_reason = reason
    item.decided_by_id = actor.id
    audit.record("news_rejected", item, actor=actor, from_state=NewsState.SUBMITTED.value,
                 to_state=NewsState.REJECTED.value, reason=reason)  # fmt: skip
    author = item.author
    if author is not None and author.is_active:
        queue_mail(author.email, "news/emails/story_rejected.txt", author.locale, news_item=item,
                   reason=reason, link=url_for("news.edit", item_id=item.id, _external=True))  # fmt: skip


def withdraw(actor, item: NewsItem) -> None:
    """The secretariat, or the story's city, takes an item down (it stays in the database, seen
    only by them)."""
    require_writer(actor)
    _lock(item)
    if not can_withdraw(actor, item):
        if item.state == NewsState.WITHDRAWN:
            raise StateConflict(_l("This item is withdrawn."))
        raise PermissionDenied(_l("Only the secretariat and the story's city can withdraw it."))
    before = item.state
    item.state = NewsState.WITHDRAWN
    item.withdrawn_at = utcnow()
    if item.published_at is None:
        item.published_at = item.withdrawn_at  # the check wants a date once it left the drafts
    audit.record("news_withdrawn", item, actor=actor, from_state=before.value,
                 to_state=NewsState.WITHDRAWN.value)  # fmt: skip
    delete_after_commit(FEED_CACHE_KEY)


def _lock(item: NewsItem) -> None:
    """Serialize state changes of one item (two officers deciding at once)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(NewsItem.id).where(NewsItem.id == item.id).with_for_update())
    else:
        db.session.execute(
            update(NewsItem)
            .where(NewsItem.id == item.id)
            .values(updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    db.session.refresh(item)


# --- the digest subscription ------------------------------------------------------------------


def is_subscribed(user) -> bool:
    if not _signed_in(user):
        return False
    return (
        db.session.scalar(
            select(NewsDigestSubscription.id).where(NewsDigestSubscription.user_id == user.id)
        )
        is not None
    )


def set_digest(actor, wanted: bool) -> None:
    """A signed-in user turns the weekly digest on or off (off until they ask)."""
    if not _signed_in(actor):
        raise PermissionDenied(_l("Please sign in."))
    _set_digest(actor, wanted)


def _set_digest(user, wanted: bool) -> None:
    row = db.session.scalar(
        select(NewsDigestSubscription).where(NewsDigestSubscription.user_id == user.id)
    )
    if wanted and row is None:
        db.session.add(NewsDigestSubscription(user_id=user.id))
        audit.record("news_digest_on", actor=user, object_type="users", details={"user": user.id})
    elif not wanted and row is not None:
        db.session.delete(row)
        audit.record("news_digest_off", actor=user, object_type="users", details={"user": user.id})


def unsubscribe_by_token(token: str) -> bool:
    """The digest's unsubscribe link, without signing in: the signed token names the user.
    Returns False for a token that is not ours."""
    from cacnet.accounts.models import User
    from cacnet.news.digest import read_unsubscribe_token

    user_id = read_unsubscribe_token(token)
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is None:
        return False
    _set_digest(user, False)
    return True


# --- reading -----------------------------------------------------------------------------------


def visible_clause(viewer):
    """Which items ``viewer`` may read: published ones (members-only only for members of the
    alliance), plus, unpublished, every item for the secretariat and the city's own items for its
    delegates."""
    member = is_network_member(viewer)
    published = and_(
        NewsItem.state == NewsState.PUBLISHED,
        true() if member else NewsItem.visibility == NewsVisibility.PUBLIC,
    )
    if not _signed_in(viewer):
        return published
    if viewer.is_secretariat:
        return true()
    if viewer.city_id is not None:
        return or_(published, NewsItem.city_id == viewer.city_id)
    return published


def published_clause(viewer):
    member = is_network_member(viewer)
    return and_(
        NewsItem.state == NewsState.PUBLISHED,
        true() if member else NewsItem.visibility == NewsVisibility.PUBLIC,
    )


def visible_item(viewer, item_id: int) -> NewsItem | None:
    return db.session.scalar(
        select(NewsItem)
        .options(joinedload(NewsItem.city))
        .where(NewsItem.id == item_id, visible_clause(viewer))
    )


def list_page(viewer, category: str = "", page: int = 1, per_page: int = PER_PAGE):
    """The published items the viewer may read, newest first, optionally of one category."""
    stmt = select(NewsItem).options(joinedload(NewsItem.city)).where(published_clause(viewer))
    if category:
        try:
            stmt = stmt.where(NewsItem.category == NewsCategory(category))
        except ValueError:
            stmt = stmt.where(false())
    stmt = stmt.order_by(NewsItem.published_at.desc(), NewsItem.id.desc())
    return db.paginate(stmt, page=max(page, 1), per_page=per_page, error_out=False)


def feed_items(limit: int = 50) -> list[NewsItem]:
    """The public published items for /news.atom, newest first, whoever asks."""
    return list(
        db.session.scalars(
            select(NewsItem)
            .options(joinedload(NewsItem.city), joinedload(NewsItem.author))
            .where(published_clause(None))
            .order_by(NewsItem.published_at.desc(), NewsItem.id.desc())
            .limit(limit)
        )
    )


def city_items(city: City, viewer, limit: int = 5) -> list[NewsItem]:
    return list(
        db.session.scalars(
            select(NewsItem)
            .where(NewsItem.city_id == city.id, published_clause(viewer))
            .order_by(NewsItem.published_at.desc(), NewsItem.id.desc())
            .limit(limit)
        )
    )


def own_items(viewer) -> list[NewsItem]:
    """The unpublished items the viewer works on: all for the secretariat, else the city's."""
    if not _signed_in(viewer) or not (viewer.is_secretariat or viewer.city_id):
        return []
    stmt = (
        select(NewsItem)
        .options(joinedload(NewsItem.city))
        .where(NewsItem.state.in_([NewsState.DRAFT, NewsState.SUBMITTED, NewsState.REJECTED]))
    )
    if not viewer.is_secretariat:
        stmt = stmt.where(NewsItem.city_id == viewer.city_id)
    return list(db.session.scalars(stmt.order_by(NewsItem.updated_at.desc()).limit(50)))


def moderation_queue(actor) -> list[NewsItem]:
    require_secretariat(actor)
    return list(
        db.session.scalars(
            select(NewsItem)
            .options(joinedload(NewsItem.city), joinedload(NewsItem.author))
            .where(NewsItem.state == NewsState.SUBMITTED)
            .order_by(NewsItem.submitted_at, NewsItem.id)
        )
    )


def search(folded_query: str, viewer, limit: int) -> list[NewsItem]:
    from cacnet.core.text import search_key

    key = search_key(folded_query)
    if not key:
        return []
    return list(
        db.session.scalars(
            select(NewsItem)
            .where(published_clause(viewer), NewsItem.search_text.contains(key, autoescape=True))
            .order_by(NewsItem.published_at.desc(), NewsItem.id.desc())
            .limit(limit)
        )
    )


def item_link(item: NewsItem) -> str:
    return url_for("news.detail", item_id=item.id, _external=True)


def member_cities() -> list[City]:
    from cacnet.membership.models import CURRENT_MEMBER_STATES, Membership

    return list(
        db.session.scalars(
            select(City)
            .where(
                City.id.in_(
                    select(Membership.city_id).where(Membership.state.in_(CURRENT_MEMBER_STATES))
                )
            )
            .order_by(City.name_en)
        )
    )
