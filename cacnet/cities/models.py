from __future__ import annotations

import enum

from slugify import slugify
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    or_,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cacnet.core.db import TimestampMixin, UUIDMixin, db, str_enum
from cacnet.core.text import search_key


class City(UUIDMixin, TimestampMixin, db.Model):
    """A member city. It exists from the secretariat's approval of its first application on; its
    membership state is that of its current membership (see ``membership.models.Membership``)."""

    __tablename__ = "cities"
    __table_args__ = (
        CheckConstraint(
            "population IS NULL OR (population >= 0 AND population <= 100000000)",
            name="population_range",
        ),
        CheckConstraint("length(country_code) = 2", name="country_code_alpha2"),
        CheckConstraint(
            "latitude IS NULL OR (latitude >= -90 AND latitude <= 90)", name="latitude_range"
        ),
        CheckConstraint(
            "longitude IS NULL OR (longitude >= -180 AND longitude <= 180)", name="longitude_range"
        ),
        CheckConstraint("(latitude IS NULL) = (longitude IS NULL)", name="coordinates_paired"),
        # Name order with the id tie-break: the directory walks it for its first pages.
        Index("ix_cities_name_en_id", "name_en", "id"),
        # Search is a substring match (LIKE '%…%'): on PostgreSQL a trigram GIN index serves it
        # (the pg_trgm extension, created by migration 0004); elsewhere this is a plain index.
        Index(
            "ix_cities_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), nullable=False, unique=True)
    name_en: Mapped[str] = mapped_column(String(200), nullable=False)
    name_local: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    country_code: Mapped[str] = mapped_column(String(2), nullable=False, index=True)
    region: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    population: Mapped[int | None] = mapped_column(Integer, nullable=True)
    website: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    latitude: Mapped[float | None] = mapped_column(Numeric(8, 5, asdecimal=False), nullable=True)
    longitude: Mapped[float | None] = mapped_column(Numeric(8, 5, asdecimal=False), nullable=True)
    mayor_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    mayor_title: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    response_page: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    languages: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    logo_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Set when the secretariat merged this duplicate into another city; its page then redirects.
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("cities.id", ondelete="SET NULL"), nullable=True
    )
    # Both names folded (no accents, no case) for search in any script; kept by the model.
    search_text: Mapped[str] = mapped_column(String(420), nullable=False, default="")

    users = relationship("User", back_populates="city", foreign_keys="User.city_id")
    memberships = relationship(
        "Membership", back_populates="city", order_by="Membership.created_at"
    )
    active_membership = relationship(
        "Membership",
        primaryjoin=lambda: _active_membership_join(),
        viewonly=True,
        uselist=False,
    )
    contacts = relationship(
        "Contact",
        back_populates="city",
        order_by="Contact.position",
        cascade="all, delete-orphan",
    )

    def __repr__(self) -> str:
        return f"<City {self.slug}>"

    @property
    def is_active_member(self) -> bool:
        from cacnet.membership.models import MembershipState

        return (
            self.active_membership is not None
            and self.active_membership.state == MembershipState.APPROVED
        )

    @property
    def membership_state(self):
        """approved or suspended while a membership is current, else withdrawn."""
        from cacnet.membership.models import MembershipState

        if self.active_membership is not None:
            return self.active_membership.state
        return MembershipState.WITHDRAWN

    @property
    def has_coordinates(self) -> bool:
        return self.latitude is not None and self.longitude is not None


@db.event.listens_for(City, "before_insert")
@db.event.listens_for(City, "before_update")
def _refresh_search_text(mapper, connection, city: City) -> None:
    city.search_text = search_key(city.name_en, city.name_local)[:420]


def _active_membership_join():
    from cacnet.membership.models import CURRENT_MEMBER_STATES, Membership

    return (Membership.city_id == City.id) & or_(
        *[Membership.state == s for s in CURRENT_MEMBER_STATES]
    )


def make_slug(name_en: str, country_code: str) -> str:
    """A stable slug from the English name and the country, e.g. ``seoul-kr``."""
    base = slugify(name_en, max_length=100) or "city"
    return f"{base}-{country_code.lower()}"


class Visibility(enum.StrEnum):
    PUBLIC = "public"
    MEMBERS = "members"
    SECRETARIAT = "secretariat"


class ContactArea(enum.StrEnum):
    HEALTH = "health"
    QUARANTINE = "quarantine"
    SUPPLIES = "supplies"
    TRANSPORT = "transport"
    COMMUNICATIONS = "communications"
    OTHER = "other"


class Contact(TimestampMixin, db.Model):
    """A focal point of a city: who to call about what, seen by whom."""

    __tablename__ = "contacts"
    __table_args__ = (
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        CheckConstraint("phone = '' OR phone LIKE '+%'", name="phone_e164"),
        # One primary focal point per city.
        Index(
            "uq_contacts_primary_city",
            "city_id",
            unique=True,
            sqlite_where=text("is_primary"),
            postgresql_where=text("is_primary"),
        ),
        Index("ix_contacts_city_position", "city_id", "position"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    city_id: Mapped[int] = mapped_column(
        ForeignKey("cities.id", ondelete="CASCADE"), nullable=False
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    department: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    email: Mapped[str] = mapped_column(String(254), nullable=False, default="")
    phone: Mapped[str] = mapped_column(String(20), nullable=False, default="")
    languages: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    area: Mapped[ContactArea] = mapped_column(
        str_enum(ContactArea, "area"), nullable=False, default=ContactArea.HEALTH
    )
    visibility: Mapped[Visibility] = mapped_column(
        str_enum(Visibility, "visibility"), nullable=False, default=Visibility.MEMBERS
    )
    is_primary: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    city = relationship("City", back_populates="contacts")

    def __repr__(self) -> str:
        return f"<Contact {self.id} {self.name}>"
