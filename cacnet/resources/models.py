"""The resource exchange: offers and requests of staff, supplies and know-how between member
cities, the responses to them, and the message thread of each response.

Quantities are fixed-point decimals (``Numeric(14, 2)``, Python ``Decimal``), never floats. What
is left of a post is derived from its accepted responses (``accepted`` and ``delivered``), never
stored: ``services.accepted_total``. The post's ``state`` is its life-cycle label, recomputed under
the post's row lock by every change of its responses.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cacnet.core.db import TimestampMixin, UTCDateTime, UUIDMixin, db, str_enum, utcnow

QUANTITY = Numeric(14, 2)


class CategoryGroup(enum.StrEnum):
    STAFF = "staff"
    SUPPLIES = "supplies"
    KNOWHOW = "knowhow"


class ResourceCategory(db.Model):
    """One entry of the taxonomy (seeded by migration 0008; the secretariat adds more)."""

    __tablename__ = "resource_categories"
    __table_args__ = (CheckConstraint("slug <> ''", name="slug_given"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), nullable=False, unique=True)
    group: Mapped[CategoryGroup] = mapped_column(str_enum(CategoryGroup, "group"), nullable=False)
    name_en: Mapped[str] = mapped_column(String(120), nullable=False)
    name_ko: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    default_unit: Mapped[str] = mapped_column(String(20), nullable=False, default="pieces")
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


class PostKind(enum.StrEnum):
    OFFER = "offer"
    REQUEST = "request"


class Urgency(enum.StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    NORMAL = "normal"


URGENCY_RANK = {Urgency.CRITICAL: 0, Urgency.HIGH: 1, Urgency.NORMAL: 2}


class Conditions(enum.StrEnum):
    FREE = "free"
    AT_COST = "at_cost"
    LOAN = "loan"


class PostState(enum.StrEnum):
    OPEN = "open"
    PARTLY_MET = "partly_met"
    MET = "met"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


# States in which a post takes responses (and shows on the board by default).
LIVE_POST_STATES = (PostState.OPEN, PostState.PARTLY_MET)

UNITS = ("people", "person_days", "pieces", "boxes", "kits", "doses", "litres", "kilograms",
         "cylinders", "units", "documents", "sessions")  # fmt: skip


class ResourcePost(UUIDMixin, TimestampMixin, db.Model):
    __tablename__ = "resource_posts"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "available_from IS NULL OR needed_by IS NULL OR available_from <= needed_by",
            name="dates_in_order",
        ),
        CheckConstraint("title_en <> '' OR title_ko <> ''", name="title_given"),
        CheckConstraint("hidden_at IS NULL OR hidden_reason <> ''", name="hidden_has_reason"),
        Index("ix_resource_posts_state_urgency", "state", "urgency", "created_at"),
        Index("ix_resource_posts_city_state", "city_id", "state"),
        Index("ix_resource_posts_category_kind_state", "category_id", "kind", "state"),
        Index("ix_resource_posts_expires_on", "expires_on"),
        # substring search (LIKE '%…%'): a trigram GIN index on PostgreSQL (pg_trgm, see 0004)
        Index(
            "ix_resource_posts_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    city_id: Mapped[int] = mapped_column(
        ForeignKey("cities.id", ondelete="RESTRICT"), nullable=False
    )
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    kind: Mapped[PostKind] = mapped_column(str_enum(PostKind, "kind"), nullable=False)
    category_id: Mapped[int] = mapped_column(
        ForeignKey("resource_categories.id", ondelete="RESTRICT"), nullable=False
    )
    title_en: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    title_ko: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    description_en: Mapped[str] = mapped_column(Text, nullable=False, default="")
    description_ko: Mapped[str] = mapped_column(Text, nullable=False, default="")
    quantity: Mapped[Decimal] = mapped_column(QUANTITY, nullable=False)
    unit: Mapped[str] = mapped_column(String(20), nullable=False)
    urgency: Mapped[Urgency] = mapped_column(
        str_enum(Urgency, "urgency"), nullable=False, default=Urgency.NORMAL
    )
    available_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    needed_by: Mapped[date | None] = mapped_column(Date, nullable=True)
    expires_on: Mapped[date] = mapped_column(Date, nullable=False)
    delivery_note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # An offer may name a vetted product of the supplier catalogue (see cacnet.catalogue).
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey("catalogue_products.id", ondelete="SET NULL"), nullable=True, index=True
    )
    conditions: Mapped[Conditions] = mapped_column(
        str_enum(Conditions, "conditions"), nullable=False, default=Conditions.FREE
    )
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), nullable=True
    )
    state: Mapped[PostState] = mapped_column(
        str_enum(PostState, "state"), nullable=False, default=PostState.OPEN
    )
    search_text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    hidden_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    city = relationship("City")
    author = relationship("User")
    category = relationship("ResourceCategory")
    contact = relationship("Contact")
    product = relationship("Product")
    responses = relationship(
        "ResourceResponse", back_populates="post", order_by="ResourceResponse.id"
    )

    @property
    def title(self) -> str:
        return self.title_en or self.title_ko

    @property
    def is_live(self) -> bool:
        return self.state in LIVE_POST_STATES and self.hidden_at is None


class ResponseState(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    DELIVERED = "delivered"
    FELL_THROUGH = "fell_through"


# Responses whose accepted quantity counts against the post.
COUNTING_STATES = (ResponseState.ACCEPTED, ResponseState.DELIVERED)


class ResourceResponse(UUIDMixin, TimestampMixin, db.Model):
    """A city's pledge to a request, or its claim on an offer."""

    __tablename__ = "resource_responses"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "accepted_quantity IS NULL OR (accepted_quantity > 0 AND accepted_quantity <= quantity)",
            name="accepted_within_asked",
        ),
        CheckConstraint(
            "state NOT IN ('accepted', 'delivered', 'fell_through') OR accepted_quantity IS NOT NULL",
            name="accepted_has_quantity",
        ),
        # One open (pending) response per city and post: a second one would be a duplicate.
        Index(
            "uq_resource_responses_pending_city_post",
            "post_id",
            "city_id",
            unique=True,
            sqlite_where=text("state = 'pending'"),
            postgresql_where=text("state = 'pending'"),
        ),
        Index("ix_resource_responses_post_state", "post_id", "state"),
        Index("ix_resource_responses_city_state", "city_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(
        ForeignKey("resource_posts.id", ondelete="CASCADE"), nullable=False
    )
    city_id: Mapped[int] = mapped_column(
        ForeignKey("cities.id", ondelete="RESTRICT"), nullable=False
    )
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    quantity: Mapped[Decimal] = mapped_column(QUANTITY, nullable=False)
    accepted_quantity: Mapped[Decimal | None] = mapped_column(QUANTITY, nullable=True)
    proposed_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    state: Mapped[ResponseState] = mapped_column(
        str_enum(ResponseState, "state"), nullable=False, default=ResponseState.PENDING
    )
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    post = relationship("ResourcePost", back_populates="responses")
    city = relationship("City")
    author = relationship("User")
    messages = relationship(
        "ResponseMessage", back_populates="response", order_by="ResponseMessage.id"
    )


class ResponseMessage(db.Model):
    """A message in a response's thread (the response's own message is the first one)."""

    __tablename__ = "resource_messages"
    __table_args__ = (
        CheckConstraint("body <> ''", name="body_given"),
        Index("ix_resource_messages_response_id", "response_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("resource_responses.id", ondelete="CASCADE"), nullable=False
    )
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    city_id: Mapped[int] = mapped_column(
        ForeignKey("cities.id", ondelete="RESTRICT"), nullable=False
    )
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    response = relationship("ResourceResponse", back_populates="messages")
    author = relationship("User")
    city = relationship("City")


class ThreadRead(db.Model):
    """How far a user has read a response's thread (for the unread count)."""

    __tablename__ = "resource_thread_reads"
    __table_args__ = (UniqueConstraint("user_id", "response_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("resource_responses.id", ondelete="CASCADE"), nullable=False
    )
    last_read_message_id: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class CategorySubscription(db.Model):
    """A delegate wants a daily digest of new posts in a category."""

    __tablename__ = "resource_subscriptions"
    __table_args__ = (UniqueConstraint("user_id", "category_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    category_id: Mapped[int] = mapped_column(
        ForeignKey("resource_categories.id", ondelete="CASCADE"), nullable=False
    )
    last_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    category = relationship("ResourceCategory")


# The board's first pages: live posts by urgency, newest first, walked in index order
# ('critical' < 'high' < 'normal' sort alphabetically, so no CASE is needed).
assert [u.value for u in Urgency] == sorted(u.value for u in Urgency)
_LIVE = "state IN ('open', 'partly_met')"
Index(
    "ix_resource_posts_live_urgency",
    ResourcePost.urgency,
    ResourcePost.created_at.desc(),
    ResourcePost.id.desc(),
    postgresql_where=text(_LIVE),
    sqlite_where=text(_LIVE),
)
# The board's count of live posts, answered from the index alone on PostgreSQL.
Index(
    "ix_resource_posts_live_expires_on",
    ResourcePost.expires_on,
    postgresql_include=["hidden_at", "city_id", "kind"],
    postgresql_where=text(_LIVE),
    sqlite_where=text(_LIVE),
)
