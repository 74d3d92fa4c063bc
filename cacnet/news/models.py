"""A news item (in English and/or Korean), and who asked for the weekly digest and which digests
ran. Who sees what is decided in ``services.visible_clause``; every change goes through
``services``."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cacnet.core.db import TimestampMixin, UTCDateTime, UUIDMixin, db, str_enum, utcnow
from cacnet.core.i18n import bilingual
from cacnet.core.text import search_key


class NewsCategory(enum.StrEnum):
    NEWS = "news"
    ANNOUNCEMENT = "announcement"
    # The alliance's leadership speaks through the secretariat (the chair's office is the
    # secretariat), so only the secretariat may use this category.
    CHAIR_NOTE = "chair_note"


class NewsVisibility(enum.StrEnum):
    PUBLIC = "public"
    MEMBERS = "members"


class NewsState(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"  # a member city's story awaiting the secretariat's moderation
    PUBLISHED = "published"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


IMAGE_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
MAX_SEARCH_TEXT = 20000


class NewsItem(UUIDMixin, TimestampMixin, db.Model):
    """One news item. The database checks that it has a title in at least one language, that an
    image has alt text, that a published item has its date, a rejected one its reason, and that a
    note from the chair is not a city's story."""

    __tablename__ = "news_items"
    __table_args__ = (
        CheckConstraint("title_en <> '' OR title_ko <> ''", name="has_title"),
        CheckConstraint("(image_sha256 IS NULL) = (image_type IS NULL)", name="image_has_type"),
        CheckConstraint(
            "image_type IS NULL OR image_type IN ('image/png', 'image/jpeg', 'image/webp')",
            name="image_type_known",
        ),
        CheckConstraint(
            "image_sha256 IS NULL OR image_alt_en <> '' OR image_alt_ko <> ''",
            name="image_has_alt",
        ),
        CheckConstraint(
            "state NOT IN ('published', 'withdrawn') OR published_at IS NOT NULL",
            name="published_at_set",
        ),
        CheckConstraint(
            "state <> 'rejected' OR rejection_reason <> ''", name="rejected_has_reason"
        ),
        CheckConstraint("category <> 'chair_note' OR city_id IS NULL", name="chair_note_no_city"),
        Index("ix_news_items_state_published_at", "state", "published_at"),
        Index("ix_news_items_city_id_state", "city_id", "state"),
        # Search is a substring match (LIKE '%…%'): a trigram GIN index on PostgreSQL (pg_trgm,
        # migration 0004); elsewhere a plain index.
        Index(
            "ix_news_items_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title_en: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    title_ko: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    summary_en: Mapped[str] = mapped_column(String(1000), nullable=False, default="")
    summary_ko: Mapped[str] = mapped_column(String(1000), nullable=False, default="")
    body_en: Mapped[str] = mapped_column(Text, nullable=False, default="")
    body_ko: Mapped[str] = mapped_column(Text, nullable=False, default="")
    category: Mapped[NewsCategory] = mapped_column(
        str_enum(NewsCategory, "category"), nullable=False, default=NewsCategory.NEWS
    )
    visibility: Mapped[NewsVisibility] = mapped_column(
        str_enum(NewsVisibility, "visibility"), nullable=False, default=NewsVisibility.PUBLIC
    )
    state: Mapped[NewsState] = mapped_column(
        str_enum(NewsState, "state"), nullable=False, default=NewsState.DRAFT
    )
    city_id: Mapped[int | None] = mapped_column(
        ForeignKey("cities.id", ondelete="RESTRICT"), nullable=True
    )
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    image_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    image_type: Mapped[str | None] = mapped_column(String(20), nullable=True)
    image_alt_en: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    image_alt_ko: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    rejection_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    search_text: Mapped[str] = mapped_column(Text, nullable=False, default="")

    city = relationship("City")
    author = relationship("User", foreign_keys=[author_id])

    def __repr__(self) -> str:
        return f"<NewsItem {self.id} {self.state} {self.category}>"

    @property
    def is_public(self) -> bool:
        return self.visibility == NewsVisibility.PUBLIC

    @property
    def image_extension(self) -> str | None:
        return IMAGE_TYPES.get(self.image_type or "")

    def title_for(self, locale: str) -> tuple[str, str]:
        """(title, its language) in ``locale`` when there is one, else in the other language."""
        return bilingual(self.title_en, self.title_ko, locale)

    def summary_for(self, locale: str) -> tuple[str, str]:
        return bilingual(self.summary_en, self.summary_ko, locale)

    def body_for(self, locale: str) -> tuple[str, str]:
        return bilingual(self.body_en, self.body_ko, locale)

    def alt_for(self, locale: str) -> tuple[str, str]:
        return bilingual(self.image_alt_en, self.image_alt_ko, locale)


@event.listens_for(NewsItem, "before_insert")
@event.listens_for(NewsItem, "before_update")
def _refresh_search_text(mapper, connection, item: NewsItem) -> None:
    item.search_text = search_key(
        item.title_en, item.title_ko, item.summary_en, item.summary_ko, item.body_en, item.body_ko
    )[:MAX_SEARCH_TEXT]


class NewsDigestSubscription(db.Model):
    """A signed-in user asked for the weekly news digest (off unless this row exists)."""

    __tablename__ = "news_digest_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    user = relationship("User")


class NewsDigestRun(db.Model):
    """One digest period (an ISO week, ``2026-W47``) and the window of publication it covers:
    from the previous run's end to this run's. Running the period again reuses its window, and
    the deliveries' keys (per user and period) make sure nobody gets it twice."""

    __tablename__ = "news_digest_runs"
    __table_args__ = (CheckConstraint("window_end > window_start", name="window_ordered"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(16), nullable=False, unique=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
