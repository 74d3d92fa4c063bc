"""Events the secretariat publishes: a summit and its sessions, webinars, meetings.

Times are stored in UTC (``starts_at``/``ends_at``) with the IANA name of the zone the event is
held in (``timezone``), so a page can show both the viewer's time and the local one. ``uid`` is
the stable iCalendar UID and ``sequence`` goes up with every change a calendar should pick up.
A delegate's registration is one row per event and person; cancelling keeps the row.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cacnet.core.db import TimestampMixin, UTCDateTime, db, str_enum, utcnow
from cacnet.core.i18n import bilingual, lang_attribute


class EventKind(enum.StrEnum):
    SUMMIT = "summit"
    SESSION = "session"
    WEBINAR = "webinar"
    MEETING = "meeting"


class EventVisibility(enum.StrEnum):
    PUBLIC = "public"
    MEMBERS = "members"


class EventState(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


def new_uid() -> str:
    return f"{uuid.uuid4()}@cacnet"


event_cities = Table(
    "event_cities",
    db.metadata,
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
    Column("city_id", ForeignKey("cities.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Event(TimestampMixin, db.Model):
    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("title_en <> '' OR title_ko <> ''", name="has_title"),
        CheckConstraint("sequence >= 0", name="sequence_not_negative"),
        CheckConstraint("timezone <> ''", name="timezone_present"),
        # Search is a substring match: a trigram GIN index on PostgreSQL, plain elsewhere.
        Index(
            "ix_events_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), nullable=True, index=True
    )
    kind: Mapped[EventKind] = mapped_column(str_enum(EventKind, "kind"), nullable=False)
    title_en: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    title_ko: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    description_en: Mapped[str] = mapped_column(Text, nullable=False, default="")
    description_ko: Mapped[str] = mapped_column(Text, nullable=False, default="")
    area_id: Mapped[int | None] = mapped_column(
        ForeignKey("areas.id", ondelete="SET NULL"), nullable=True, index=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)
    organiser: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    venue: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    stream_url: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    stream_url_ko: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    recording_url: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    interpretation: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    countries: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    visibility: Mapped[EventVisibility] = mapped_column(
        str_enum(EventVisibility, "visibility"), nullable=False, default=EventVisibility.PUBLIC
    )
    state: Mapped[EventState] = mapped_column(
        str_enum(EventState, "state"), nullable=False, default=EventState.DRAFT
    )
    search_text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    uid: Mapped[str] = mapped_column(String(120), nullable=False, unique=True, default=new_uid)
    sequence: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )

    parent = relationship("Event", remote_side=[id], back_populates="sessions")
    sessions = relationship(
        "Event", back_populates="parent", order_by="Event.starts_at", passive_deletes=True
    )
    area = relationship("Area")
    cities = relationship("City", secondary=event_cities, order_by="City.name_en")
    speakers = relationship(
        "EventSpeaker",
        back_populates="event",
        order_by="EventSpeaker.position",
        cascade="all, delete-orphan",
    )

    def __repr__(self) -> str:
        return f"<Event {self.id} {self.kind} {self.state}>"

    def title(self, locale: str | None = None) -> str:
        """The title in ``locale`` (the page's language), else the other one."""
        return bilingual(self.title_en, self.title_ko, locale)[0]

    def title_lang(self, locale: str | None = None) -> str | None:
        """The language of ``title()`` when it is not the page's (for a lang attribute)."""
        return lang_attribute(bilingual(self.title_en, self.title_ko, locale)[1], locale)

    def description(self, locale: str | None = None) -> tuple[str, str | None]:
        """(Markdown source, lang attribute or None) in the page's language when there is one."""
        text, language = bilingual(self.description_en, self.description_ko, locale)
        return text, (lang_attribute(language, locale) if text else None)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_cancelled(self) -> bool:
        return self.state == EventState.CANCELLED

    @property
    def is_past(self) -> bool:
        return self.ends_at <= utcnow()


class EventSpeaker(db.Model):
    __tablename__ = "event_speakers"
    __table_args__ = (CheckConstraint("length(trim(name)) > 0", name="name_present"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), nullable=False, index=True
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    role: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    city_id: Mapped[int | None] = mapped_column(
        ForeignKey("cities.id", ondelete="SET NULL"), nullable=True, index=True
    )

    event = relationship("Event", back_populates="speakers")
    city = relationship("City")


class EventRegistration(db.Model):
    """A delegate's attendance. One row per event and person (the database's unique rule);
    cancelling sets ``cancelled_at`` and registering again clears it."""

    __tablename__ = "event_registrations"
    __table_args__ = (UniqueConstraint("event_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    event = relationship("Event")
    user = relationship("User")

    @property
    def cancelled(self) -> bool:
        return self.cancelled_at is not None
