"""Every change of the resource exchange, and who may see what.

Each mutation checks the actor, validates, changes, writes an audit record and queues its e-mail
for after the commit; the pages, the exports and the API call these functions. The caller commits.

Accepted quantities never exceed the posted quantity: ``accept`` (and everything else that changes
what counts against a post) first takes the post's row lock (``SELECT … FOR UPDATE`` on
PostgreSQL; on SQLite, which has no row locks, a write to the post row, which takes the database's
write lock before anything is read), then reads the accepted total, so two acceptances of the same
post run one after the other and the second sees the first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from cacnet.cities.models import City, Contact
from cacnet.core import audit
from cacnet.core.db import db, utcnow
from cacnet.core.errors import PermissionDenied, ServiceError, StateConflict
from cacnet.core.mail import queue_mail
from cacnet.core.permissions import (
    is_network_member,
    require_acting_delegate,
    require_network_member,
)
from cacnet.core.text import search_key
from cacnet.resources.models import (
    COUNTING_STATES,
    LIVE_POST_STATES,
    UNITS,
    Conditions,
    PostKind,
    PostState,
    ResourceCategory,
    ResourcePost,
    ResourceResponse,
    ResponseMessage,
    ResponseState,
    ThreadRead,
    Urgency,
)

UNIT_LABELS = {
    "people": _l("people"), "person_days": _l("person-days"), "pieces": _l("pieces"),
    "boxes": _l("boxes"), "kits": _l("kits"), "doses": _l("doses"), "litres": _l("litres"),
    "kilograms": _l("kilograms"), "cylinders": _l("cylinders"), "units": _l("units"),
    "documents": _l("documents"), "sessions": _l("sessions"),
}  # fmt: skip


def unit_label(unit: str) -> str:
    """The unit in the current language (e-mails render in the recipient's)."""
    return str(UNIT_LABELS.get(unit, unit))


MAX_QUANTITY = Decimal("1000000000")
MAX_EXPIRY_DAYS = 366
REMIND_DAYS_BEFORE = 3
MAX_MESSAGE = 5000


# --- who may do what ---------------------------------------------------------------------------


MEMBERS_ONLY = _l("The resource exchange is for delegates of member cities.")
is_member = is_network_member  # who sees the exchange


def require_member(viewer) -> None:
    require_network_member(viewer, MEMBERS_ONLY)


def require_active_delegate(actor) -> None:
    require_acting_delegate(
        actor, MEMBERS_ONLY, _l("Only delegates of a member city can post and respond.")
    )


def can_see_post(viewer, post: ResourcePost) -> bool:
    if not is_member(viewer):
        return False
    if post.hidden_at is not None:
        return viewer.is_secretariat or viewer.city_id == post.city_id
    return True


def require_poster(actor, post: ResourcePost) -> None:
    require_active_delegate(actor)
    if actor.city_id != post.city_id:
        raise PermissionDenied(_l("Only the city that posted this can do that."))


def is_side(viewer, response: ResourceResponse) -> bool:
    """The delegates of the two cities of a response (the poster's and the responder's)."""
    return getattr(viewer, "city_id", None) in (response.city_id, response.post.city_id)


# --- quantities --------------------------------------------------------------------------------


def parse_quantity(value, field: str = "quantity") -> Decimal:
    """A positive quantity with at most two decimals (no floats, no exponents)."""
    text = str(value if value is not None else "").strip().replace(",", "")
    if not re.fullmatch(r"\d{1,10}(\.\d{1,2})?", text):
        raise ServiceError(
            _l("Give a quantity as a positive number with at most two decimals."), field=field
        )
    try:
        quantity = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern already rules it out
        raise ServiceError(_l("Give a quantity as a number."), field=field)
    if quantity <= 0:
        raise ServiceError(_l("The quantity must be more than zero."), field=field)
    if quantity > MAX_QUANTITY:
        raise ServiceError(_l("That quantity is too large."), field=field)
    return quantity


def accepted_total(post_id: int) -> Decimal:
    """What the accepted (and delivered) responses take from the post."""
    total = db.session.scalar(
        select(func.coalesce(func.sum(ResourceResponse.accepted_quantity), 0)).where(
            ResourceResponse.post_id == post_id, ResourceResponse.state.in_(COUNTING_STATES)
        )
    )
    return Decimal(total).quantize(Decimal("0.01"))


def remaining(post: ResourcePost) -> Decimal:
    return max(post.quantity - accepted_total(post.id), Decimal("0"))


def accepted_totals(post_ids) -> dict[int, Decimal]:
    """Accepted totals of many posts in one grouped query (for lists)."""
    ids = list(post_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(ResourceResponse.post_id, func.sum(ResourceResponse.accepted_quantity))
        .where(ResourceResponse.post_id.in_(ids), ResourceResponse.state.in_(COUNTING_STATES))
        .group_by(ResourceResponse.post_id)
    )
    return {post_id: Decimal(total) for post_id, total in rows}


def _lock(post: ResourcePost) -> None:
    """Serialize every change of what counts against ``post`` (see the module docstring)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            select(ResourcePost.id).where(ResourcePost.id == post.id).with_for_update()
        )
    else:
        db.session.execute(
            update(ResourcePost)
            .where(ResourcePost.id == post.id)
            .values(updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    db.session.refresh(post)


def _recompute_state(post: ResourcePost) -> None:
    """open / partly met / met from the accepted total; closed, withdrawn, expired stay."""
    if post.state not in (*LIVE_POST_STATES, PostState.MET):
        return
    total = accepted_total(post.id)
    if total >= post.quantity:
        post.state = PostState.MET
    elif total > 0:
        post.state = PostState.PARTLY_MET
    else:
        post.state = PostState.OPEN


# --- mail --------------------------------------------------------------------------------------


def _recipients(city_id: int, preferred) -> list:
    """Who hears for a city: the delegate who acted for it (when still a delegate of it), else its
    city administrators."""
    from cacnet.accounts.models import User, UserRole

    if preferred is not None and preferred.city_id == city_id and preferred.is_active:
        return [preferred]
    return list(
        db.session.scalars(
            select(User).where(
                User.city_id == city_id,
                User.role == UserRole.CITY_ADMIN,
                User.disabled_at.is_(None),
            )
        )
    )


def _mail(city_id: int, preferred, template: str, **context) -> None:
    for user in _recipients(city_id, preferred):
        queue_mail(
            user.email, f"resources/emails/{template}.txt", user.locale, recipient=user, **context
        )


def _post_link(post: ResourcePost) -> str:
    return url_for("resources.post_page", uuid=post.uuid, _external=True)


# --- posts -------------------------------------------------------------------------------------


@dataclass
class PostData:
    kind: str
    category_id: int
    title_en: str = ""
    title_ko: str = ""
    description_en: str = ""
    description_ko: str = ""
    quantity: object = ""
    unit: str = ""
    urgency: str = Urgency.NORMAL.value
    available_from: date | None = None
    needed_by: date | None = None
    expires_on: date | None = None
    delivery_note: str = ""
    conditions: str = Conditions.FREE.value
    contact_id: int | None = None
    product_id: int | None = None  # a vetted product of the supplier catalogue (offers only)


def _clean(text: str | None, limit: int) -> str:
    return (text or "").strip()[:limit]


def _validate(actor, data: PostData, today: date) -> dict:
    try:
        kind = PostKind(data.kind)
    except ValueError:
        raise ServiceError(_l("Choose whether you offer or request."), field="kind")
    category = db.session.get(ResourceCategory, data.category_id) if data.category_id else None
    if category is None or not category.active:
        raise ServiceError(_l("Choose a category."), field="category_id")
    title_en, title_ko = _clean(data.title_en, 200), _clean(data.title_ko, 200)
    if not (title_en or title_ko):
        raise ServiceError(_l("Give a title in English or in Korean."), field="title_en")
    quantity = parse_quantity(data.quantity)
    if data.unit not in UNITS:
        raise ServiceError(_l("Choose a unit."), field="unit")
    try:
        urgency = Urgency(data.urgency)
        conditions = Conditions(data.conditions)
    except ValueError:
        raise ServiceError(_l("Choose the urgency and the conditions."), field="urgency")
    if data.available_from and data.needed_by and data.available_from > data.needed_by:
        raise ServiceError(
            _l("'Available from' must come before 'needed by'."), field="available_from"
        )
    if data.needed_by and data.needed_by < today:
        raise ServiceError(_l("'Needed by' cannot be in the past."), field="needed_by")
    expires_on = data.expires_on
    if expires_on is None:
        raise ServiceError(_l("Give the date the post expires."), field="expires_on")
    if expires_on < today:
        raise ServiceError(_l("The expiry date cannot be in the past."), field="expires_on")
    if expires_on > today + timedelta(days=MAX_EXPIRY_DAYS):
        raise ServiceError(_l("A post can stay up for at most a year."), field="expires_on")
    contact = None
    if data.contact_id:
        contact = db.session.get(Contact, data.contact_id)
        if contact is None or contact.city_id != actor.city_id:
            raise ServiceError(_l("Choose one of your city's contacts."), field="contact_id")
    product_id = None
    if data.product_id:
        if kind != PostKind.OFFER:
            raise ServiceError(
                _l("Only an offer can name a product from the catalogue."), field="product_id"
            )
        from cacnet.catalogue.services import linkable_product

        product_id = linkable_product(data.product_id).id
    return {
        "kind": kind,
        "category_id": category.id,
        "title_en": title_en,
        "title_ko": title_ko,
        "description_en": _clean(data.description_en, 10000),
        "description_ko": _clean(data.description_ko, 10000),
        "quantity": quantity,
        "unit": data.unit,
        "urgency": urgency,
        "available_from": data.available_from,
        "needed_by": data.needed_by,
        "expires_on": expires_on,
        "delivery_note": _clean(data.delivery_note, 2000),
        "conditions": conditions,
        "contact_id": contact.id if contact else None,
        "product_id": product_id,
    }


def _search_text(post: ResourcePost, category: ResourceCategory) -> str:
    parts = [post.title_en, post.title_ko, post.description_en, post.description_ko,
             category.name_en, category.name_ko]  # fmt: skip
    return search_key(" ".join(p for p in parts if p))


def create_post(actor, data: PostData, today: date | None = None) -> ResourcePost:
    """A delegate of an approved city posts an offer or a request for the city."""
    require_active_delegate(actor)
    values = _validate(actor, data, today or date.today())
    post = ResourcePost(city_id=actor.city_id, author_id=actor.id, state=PostState.OPEN, **values)
    db.session.add(post)
    db.session.flush()
    post.search_text = _search_text(post, db.session.get(ResourceCategory, post.category_id))
    audit.record("resource_post_created", post, actor=actor, to_state=PostState.OPEN.value,
                 details={"kind": post.kind.value, "quantity": str(post.quantity)})  # fmt: skip
    return post


def update_post(actor, post: ResourcePost, data: PostData, today: date | None = None) -> None:
    """The poster corrects a live post. The quantity cannot go below what was accepted."""
    require_poster(actor, post)
    if not post.is_live:
        raise StateConflict(_l("Only an open post can be changed."))
    values = _validate(actor, data, today or date.today())
    if values["kind"] != post.kind:
        raise ServiceError(_l("An offer cannot become a request; post a new one."), field="kind")
    _lock(post)
    if values["quantity"] < accepted_total(post.id):
        raise ServiceError(
            _l("The quantity cannot be less than what you have already accepted."),
            field="quantity",
        )
    for key, value in values.items():
        setattr(post, key, value)
    post.search_text = _search_text(post, db.session.get(ResourceCategory, post.category_id))
    _recompute_state(post)
    audit.record("resource_post_updated", post, actor=actor)


def _end_post(actor, post: ResourcePost, target: PostState, action: str, reason: str = "") -> None:
    _lock(post)
    if post.state not in (*LIVE_POST_STATES, PostState.MET):
        raise StateConflict(_l("This post is already closed."))
    previous = post.state
    post.state = target
    post.closed_at = utcnow()
    for response in post.responses:
        if response.state == ResponseState.PENDING:
            response.state = ResponseState.DECLINED
            response.decided_at = utcnow()
    audit.record(action, post, actor=actor, from_state=previous.value, to_state=target.value,
                 reason=reason or None)  # fmt: skip


def close_post(actor, post: ResourcePost) -> None:
    """The poster closes the post (done, or no more needed); pending responses are declined."""
    require_poster(actor, post)
    _end_post(actor, post, PostState.CLOSED, "resource_post_closed")


def withdraw_post(actor, post: ResourcePost) -> None:
    """The poster withdraws the post (posted by mistake, no longer valid)."""
    require_poster(actor, post)
    _end_post(actor, post, PostState.WITHDRAWN, "resource_post_withdrawn")


# --- responses ---------------------------------------------------------------------------------


def respond(actor, post: ResourcePost, quantity, message: str = "",
            proposed_date: date | None = None, today: date | None = None) -> ResourceResponse:  # fmt: skip
    """Another city pledges to a request or asks for part of an offer. Refused for one's own
    post, for a post that is not open (or has expired), beyond what is left, or a second pending
    response of the same city."""
    require_active_delegate(actor)
    today = today or date.today()
    if post.city_id == actor.city_id:
        raise PermissionDenied(_l("You cannot respond to your own city's post."))
    if not post.is_live or post.expires_on < today:
        raise StateConflict(_l("This post no longer takes responses."))
    amount = parse_quantity(quantity)
    left = remaining(post)
    if amount > left:
        raise ServiceError(
            _l(
                "Only %(left)s %(unit)s are left.",
                left=format_quantity(left),
                unit=unit_label(post.unit),
            ),
            field="quantity",
        )
    if proposed_date is not None and proposed_date < today:
        raise ServiceError(_l("The date cannot be in the past."), field="proposed_date")
    response = ResourceResponse(post_id=post.id, city_id=actor.city_id, author_id=actor.id,
                                quantity=amount, proposed_date=proposed_date,
                                state=ResponseState.PENDING)  # fmt: skip
    try:
        with db.session.begin_nested():
            db.session.add(response)
    except IntegrityError:
        raise StateConflict(
            _l(
                "Your city already has a response waiting on this post; change or withdraw it first."
            )
        )
    body = _clean(message, MAX_MESSAGE)
    if body:
        db.session.add(ResponseMessage(response_id=response.id, author_id=actor.id,
                                       city_id=actor.city_id, body=body))  # fmt: skip
    audit.record("resource_response_created", response, actor=actor,
                 to_state=ResponseState.PENDING.value,
                 details={"post_id": post.id, "quantity": str(amount)})  # fmt: skip
    _mail(post.city_id, post.author, "response_received", post=post, response=response,
          responder=actor.city, message=body, link=_post_link(post))  # fmt: skip
    return response


def format_quantity(quantity) -> str:
    """A quantity as people write it: 6000, 12.5 → 12.50 (no exponent, no float noise)."""
    value = Decimal(str(quantity))
    return f"{value.quantize(Decimal(1)):f}" if value == value.to_integral() else f"{value:.2f}"


def _pending_for_poster(actor, response: ResourceResponse) -> ResourcePost:
    """The poster's answer starts here: the poster's permission, the post's lock, and a response
    still waiting (read again under the lock). Returns the post."""
    post = response.post
    require_poster(actor, post)
    _lock(post)
    db.session.refresh(response)
    if response.state != ResponseState.PENDING:
        raise StateConflict(_l("This response has already been answered or withdrawn."))
    return post


def accept(actor, response: ResourceResponse, quantity=None, message: str = "") -> None:
    """The poster accepts a response in full or in part (a smaller quantity). Under the post's
    row lock: the accepted total never exceeds the posted quantity, whatever runs at once."""
    post = _pending_for_poster(actor, response)
    if post.expires_on < date.today():
        raise StateConflict(_l("This post has expired; change its expiry date to accept more."))
    if post.state == PostState.MET:
        raise StateConflict(_l("Nothing is left of this post to accept: it is fully met."))
    if not post.is_live:
        raise StateConflict(_l("This post no longer takes responses."))
    amount = response.quantity if quantity in (None, "") else parse_quantity(quantity)
    if amount > response.quantity:
        raise ServiceError(
            _l("You can accept at most the %(asked)s %(unit)s asked.",
               asked=format_quantity(response.quantity), unit=unit_label(post.unit)),
            field="quantity",
        )  # fmt: skip
    left = post.quantity - accepted_total(post.id)
    if amount > left:
        raise StateConflict(
            _l("Only %(left)s %(unit)s are left of this post; accept less, or decline.",
               left=format_quantity(max(left, Decimal(0))), unit=unit_label(post.unit))
        )  # fmt: skip
    response.state = ResponseState.ACCEPTED
    response.accepted_quantity = amount
    response.decided_at = utcnow()
    _add_message(actor, response, message)
    _recompute_state(post)
    audit.record("resource_response_accepted", response, actor=actor,
                 from_state=ResponseState.PENDING.value, to_state=ResponseState.ACCEPTED.value,
                 details={"post_id": post.id, "accepted": str(amount)})  # fmt: skip
    _mail(response.city_id, response.author, "response_accepted", post=post, response=response,
          message=_clean(message, MAX_MESSAGE), link=_post_link(post))  # fmt: skip


def decline(actor, response: ResourceResponse, message: str = "") -> None:
    """The poster declines a response that waits for an answer, with an optional message."""
    post = _pending_for_poster(actor, response)
    response.state = ResponseState.DECLINED
    response.decided_at = utcnow()
    _add_message(actor, response, message)
    audit.record("resource_response_declined", response, actor=actor,
                 from_state=ResponseState.PENDING.value, to_state=ResponseState.DECLINED.value)  # fmt: skip
    _mail(response.city_id, response.author, "response_declined", post=post, response=response,
          message=_clean(message, MAX_MESSAGE), link=_post_link(post))  # fmt: skip


def withdraw_response(actor, response: ResourceResponse) -> None:
    """The responding city takes back its response while it waits for an answer."""
    require_active_delegate(actor)
    if actor.city_id != response.city_id:
        raise PermissionDenied(_l("Only the city that responded can withdraw the response."))
    _lock(response.post)
    db.session.refresh(response)
    if response.state != ResponseState.PENDING:
        raise StateConflict(_l("Only a response that waits for an answer can be withdrawn."))
    response.state = ResponseState.WITHDRAWN
    audit.record("resource_response_withdrawn", response, actor=actor,
                 from_state=ResponseState.PENDING.value, to_state=ResponseState.WITHDRAWN.value)  # fmt: skip


def settle(actor, response: ResourceResponse, delivered: bool, message: str = "") -> None:
    """After acceptance either side records the outcome: delivered, or fell through (which gives
    the quantity back to the post)."""
    require_active_delegate(actor)
    if not is_side(actor, response):
        raise PermissionDenied(_l("Only the two cities of this exchange can record its outcome."))
    post = response.post
    _lock(post)
    db.session.refresh(response)
    if response.state != ResponseState.ACCEPTED:
        raise StateConflict(
            _l("Only an accepted response can be marked delivered or fallen through.")
        )
    target = ResponseState.DELIVERED if delivered else ResponseState.FELL_THROUGH
    response.state = target
    response.settled_at = utcnow()
    _add_message(actor, response, message)
    _recompute_state(post)
    audit.record(f"resource_response_{target.value}", response, actor=actor,
                 from_state=ResponseState.ACCEPTED.value, to_state=target.value)  # fmt: skip
    other_city = post.city_id if actor.city_id == response.city_id else response.city_id
    other_user = post.author if other_city == post.city_id else response.author
    _mail(other_city, other_user, "response_settled", post=post, response=response,
          delivered=delivered, link=_post_link(post))  # fmt: skip


# --- messages ----------------------------------------------------------------------------------


def _add_message(actor, response: ResourceResponse, body: str) -> ResponseMessage | None:
    body = _clean(body, MAX_MESSAGE)
    if not body:
        return None
    message = ResponseMessage(response_id=response.id, author_id=actor.id,
                              city_id=actor.city_id, body=body)  # fmt: skip
    db.session.add(message)
    db.session.flush()
    mark_read(actor, response, message.id)
    return message


def post_message(actor, response: ResourceResponse, body: str) -> ResponseMessage:
    """A delegate of either city writes in the response's thread; the other side is e-mailed."""
    require_active_delegate(actor)
    if not is_side(actor, response):
        raise PermissionDenied(_l("Only the two cities of this exchange can write here."))
    text = (body or "").strip()
    if not text:
        raise ServiceError(_l("Write a message."), field="body")
    if len(text) > MAX_MESSAGE:
        raise ServiceError(_l("Use at most %(max)d characters.", max=MAX_MESSAGE), field="body")
    message = _add_message(actor, response, text)
    post = response.post
    other_city = post.city_id if actor.city_id == response.city_id else response.city_id
    other_user = post.author if other_city == post.city_id else response.author
    _mail(other_city, other_user, "new_message", post=post, response=response, message=text,
          sender=actor, link=_post_link(post) + f"#response-{response.uuid}")  # fmt: skip
    return message


def mark_read(viewer, response: ResourceResponse, message_id: int | None = None) -> None:
    """Remember that ``viewer`` has read the thread up to ``message_id`` (the latest by default)."""
    if not getattr(viewer, "is_authenticated", False):
        return
    if message_id is None:
        message_id = db.session.scalar(
            select(func.max(ResponseMessage.id)).where(ResponseMessage.response_id == response.id)
        )
        if message_id is None:
            return
    read = db.session.scalar(
        select(ThreadRead).where(
            ThreadRead.user_id == viewer.id, ThreadRead.response_id == response.id
        )
    )
    if read is None:
        db.session.add(ThreadRead(user_id=viewer.id, response_id=response.id,
                                  last_read_message_id=message_id))  # fmt: skip
    elif read.last_read_message_id < message_id:
        read.last_read_message_id = message_id


def unread_count(viewer) -> int:
    """Messages from the other city in threads of the viewer's city that the viewer has not read."""
    if not getattr(viewer, "is_authenticated", False) or viewer.city_id is None:
        return 0
    from flask import g, has_request_context

    cached = g.get("cacnet_unread") if has_request_context() else None
    if cached is not None and cached[0] == viewer.id:
        return cached[1]
    city_id = viewer.city_id
    read_up_to = (
        select(ThreadRead.last_read_message_id)
        .where(
            ThreadRead.user_id == viewer.id, ThreadRead.response_id == ResponseMessage.response_id
        )
        .scalar_subquery()
    )
    count = db.session.scalar(
        select(func.count(ResponseMessage.id)).where(
            ResponseMessage.response_id.in_(_threads_of(city_id)),
            ResponseMessage.city_id != city_id,
            ResponseMessage.id > func.coalesce(read_up_to, 0),
        )
    )
    if has_request_context():
        g.cacnet_unread = (viewer.id, count)
    return count


def _threads_of(city_id: int):
    """Ids of the responses a city is a side of: its own, and those to its posts. A UNION of two
    index lookups; an OR across the join would scan every response and post."""
    return (
        select(ResourceResponse.id)
        .where(ResourceResponse.city_id == city_id)
        .union(
            select(ResourceResponse.id)
            .join(ResourcePost, ResourcePost.id == ResourceResponse.post_id)
            .where(ResourcePost.city_id == city_id)
        )
        .scalar_subquery()
    )


# --- time: expiry and reminders ----------------------------------------------------------------


def expire_posts(today: date | None = None) -> int:
    """Posts whose expiry date has passed become expired; their pending responses are declined.
    Returns how many expired. (The board hides them from the day after expiry even before this
    runs.)"""
    today = today or date.today()
    posts = db.session.scalars(
        select(ResourcePost).where(
            ResourcePost.state.in_((*LIVE_POST_STATES, PostState.MET)),
            ResourcePost.expires_on < today,
        )
    ).all()
    for post in posts:
        _end_post(None, post, PostState.EXPIRED, "resource_post_expired")
    return len(posts)


def send_expiry_reminders(today: date | None = None) -> int:
    """Remind posters, once, a few days before a live post expires."""
    today = today or date.today()
    posts = db.session.scalars(
        select(ResourcePost).where(
            ResourcePost.state.in_(LIVE_POST_STATES),
            ResourcePost.hidden_at.is_(None),
            ResourcePost.reminded_at.is_(None),
            ResourcePost.expires_on >= today,
            ResourcePost.expires_on <= today + timedelta(days=REMIND_DAYS_BEFORE),
        )
    ).all()
    for post in posts:
        post.reminded_at = utcnow()
        _mail(post.city_id, post.author, "expiry_reminder", post=post, link=_post_link(post),
              days=(post.expires_on - today).days)  # fmt: skip
    return len(posts)


def expire_if_due(post: ResourcePost, today: date | None = None) -> bool:
    """Expire one post whose date has passed (when it is viewed before the clock job ran)."""
    today = today or date.today()
    if post.state in (*LIVE_POST_STATES, PostState.MET) and post.expires_on < today:
        _end_post(None, post, PostState.EXPIRED, "resource_post_expired")
        return True
    return False


def tick(today: date | None = None) -> dict[str, int]:
    """The exchange's clock work, each step idempotent: expire posts, remind posters, send the
    daily digests. Commits after each step. Run by 'flask resources tick' (cron) and, at most
    hourly, queued by the app itself (see views.auto_tick)."""
    from cacnet.resources.digest import send_digests

    done = {"expired": expire_posts(today)}
    db.session.commit()
    done["reminded"] = send_expiry_reminders(today)
    db.session.commit()
    done["digests"] = send_digests()
    db.session.commit()
    return done


# --- the board ---------------------------------------------------------------------------------

SORTS = ("urgency", "newest", "needed_by")
STATUS_FILTERS = ("live", "open", "partly_met", "met", "closed", "withdrawn", "expired", "all")


@dataclass
class BoardQuery:
    q: str = ""
    kind: str = ""
    category: str = ""  # a slug
    country: str = ""
    region: str = ""
    urgency: str = ""
    status: str = "live"
    city_id: int | None = None
    sort: str = "urgency"
    page: int = 1
    per_page: int = 25


def board_select(viewer, query: BoardQuery, today: date | None = None):
    """The posts a board search finds for ``viewer``: live ones by default (open or partly met,
    not past their expiry date), hidden ones only for the secretariat and their own city."""
    from cacnet.cities.regions import countries_in

    require_member(viewer)
    today = today or date.today()
    stmt = select(ResourcePost)
    if query.country or query.region:
        stmt = stmt.join(City, City.id == ResourcePost.city_id)
    if not viewer.is_secretariat:
        stmt = stmt.where(
            or_(ResourcePost.hidden_at.is_(None), ResourcePost.city_id == viewer.city_id)
        )
    live = ResourcePost.state.in_(LIVE_POST_STATES) & (ResourcePost.expires_on >= today)
    status = query.status if query.status in STATUS_FILTERS else "live"
    if status == "live":
        stmt = stmt.where(live)
    elif status == "expired":
        stmt = stmt.where(
            (ResourcePost.state == PostState.EXPIRED)
            | (ResourcePost.state.in_(LIVE_POST_STATES) & (ResourcePost.expires_on < today))
        )
    elif status in ("open", "partly_met"):
        stmt = stmt.where(ResourcePost.state == PostState(status), ResourcePost.expires_on >= today)
    elif status != "all":
        stmt = stmt.where(ResourcePost.state == PostState(status))
    if query.kind in (PostKind.OFFER.value, PostKind.REQUEST.value):
        stmt = stmt.where(ResourcePost.kind == PostKind(query.kind))
    if query.category:
        stmt = stmt.join(ResourceCategory, ResourceCategory.id == ResourcePost.category_id).where(
            ResourceCategory.slug == query.category
        )
    if query.urgency in {u.value for u in Urgency}:
        stmt = stmt.where(ResourcePost.urgency == Urgency(query.urgency))
    if query.country:
        stmt = stmt.where(City.country_code == query.country.upper()[:2])
    if query.region:
        stmt = stmt.where(City.country_code.in_(countries_in(query.region)))
    if query.city_id:
        stmt = stmt.where(ResourcePost.city_id == query.city_id)
    if query.q:
        stmt = stmt.where(
            ResourcePost.search_text.contains(search_key(query.q[:200]), autoescape=True)
        )
    # 'critical' < 'high' < 'normal' alphabetically, so the column sorts by urgency itself and
    # ix_resource_posts_live_urgency serves the first pages without sorting every live post.
    order = {
        "urgency": (ResourcePost.urgency, ResourcePost.created_at.desc(), ResourcePost.id.desc()),
        "newest": (ResourcePost.created_at.desc(), ResourcePost.id.desc()),
        "needed_by": (ResourcePost.needed_by.asc().nulls_last(), ResourcePost.id),
    }[query.sort if query.sort in SORTS else "urgency"]
    return stmt.order_by(*order)


def board_page(viewer, query: BoardQuery, today: date | None = None):
    from sqlalchemy.orm import selectinload

    stmt = board_select(viewer, query, today).options(
        selectinload(ResourcePost.city), selectinload(ResourcePost.category)
    )
    per_page = query.per_page if query.per_page in (25, 50, 100) else 25
    pagination = db.paginate(
        stmt, page=max(query.page, 1), per_page=per_page, error_out=False, count=False
    )
    # Counting every live post costs more than the page itself at 100,000 posts: count up to
    # COUNT_CAP + 1 and say "more than" past it (the pages past the cap are reached by filtering).
    capped = stmt.order_by(None).with_only_columns(ResourcePost.id).limit(COUNT_CAP + 1).subquery()
    pagination.total = db.session.scalar(select(func.count()).select_from(capped))
    return pagination


COUNT_CAP = 1000


def visible_post(viewer, uuid: str) -> ResourcePost | None:
    post = db.session.scalar(select(ResourcePost).where(ResourcePost.uuid == uuid))
    if post is None or not can_see_post(viewer, post):
        return None
    return post


def visible_responses(viewer, post: ResourcePost) -> list[ResourceResponse]:
    """The poster's city and the secretariat see every response; another city sees its own."""
    from sqlalchemy.orm import selectinload

    stmt = (
        select(ResourceResponse)
        .where(ResourceResponse.post_id == post.id)
        .options(
            selectinload(ResourceResponse.city),
            selectinload(ResourceResponse.messages).selectinload(ResponseMessage.author),
            selectinload(ResourceResponse.messages).selectinload(ResponseMessage.city),
        )
        .order_by(ResourceResponse.id)
    )
    if not (viewer.is_secretariat or viewer.city_id == post.city_id):
        stmt = stmt.where(ResourceResponse.city_id == viewer.city_id)
    return list(db.session.scalars(stmt))


def dashboard(viewer, today: date | None = None) -> dict:
    """My city's exchange: its live posts, responses to them waiting for an answer, its own
    responses waiting, accepted exchanges not yet settled (both ways), and what is due within two
    weeks."""
    from sqlalchemy.orm import selectinload

    require_member(viewer)
    today = today or date.today()
    city_id = viewer.city_id
    if city_id is None:
        return {}
    posts = db.session.scalars(
        select(ResourcePost)
        .where(
            ResourcePost.city_id == city_id,
            ResourcePost.state.in_((*LIVE_POST_STATES, PostState.MET)),
        )
        .options(selectinload(ResourcePost.category))
        .order_by(ResourcePost.expires_on)
    ).all()
    responses = (
        select(ResourceResponse)
        .join(ResourcePost, ResourcePost.id == ResourceResponse.post_id)
        .options(
            selectinload(ResourceResponse.post).selectinload(ResourcePost.city),
            selectinload(ResourceResponse.city),
        )
    )
    waiting_for_us = db.session.scalars(
        responses.where(
            ResourcePost.city_id == city_id, ResourceResponse.state == ResponseState.PENDING
        ).order_by(ResourceResponse.created_at)
    ).all()
    our_pending = db.session.scalars(
        responses.where(
            ResourceResponse.city_id == city_id, ResourceResponse.state == ResponseState.PENDING
        ).order_by(ResourceResponse.created_at)
    ).all()
    accepted = db.session.scalars(
        responses.where(
            ResourceResponse.id.in_(_threads_of(city_id)),
            ResourceResponse.state == ResponseState.ACCEPTED,
        ).order_by(ResourceResponse.proposed_date.asc().nulls_last(), ResourceResponse.id)
    ).all()
    soon = today + timedelta(days=14)
    due = [
        r for r in accepted
        if (r.proposed_date and r.proposed_date <= soon)
        or (r.post.needed_by and r.post.needed_by <= soon)
    ]  # fmt: skip
    totals = accepted_totals(p.id for p in posts)
    return {
        "posts": posts,
        "totals": totals,
        "waiting_for_us": waiting_for_us,
        "our_pending": our_pending,
        "accepted": accepted,
        "due": due,
        "unread": unread_count(viewer),
    }
