"""The cities network: links to official pandemic pages, each owned by a member city or by an
international organisation (WHO, UN-Habitat...) that the secretariat enters.

A link belongs to exactly one owner (``ck_network_links_one_owner``) and its address is unique per
owner. The link checker keeps the last result on the row: ``failures`` counts failed checks in a
row since ``broken_since`` (the first failure of the row), and a link is *broken* only after
``BROKEN_AFTER`` of them (one failed check is often a site being restarted; two a day apart are
not). ``owner_notified_at`` says the owner was told; a working check clears all three.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cacnet.core.db import TimestampMixin, UTCDateTime, db, str_enum

BROKEN_AFTER = 2  # failed checks in a row before a link counts as broken
MAX_URL = 500
MAX_TITLE = 200
MAX_NAME = 200
MAX_ACRONYM = 20
MAX_ERROR = 200


class LinkState(enum.StrEnum):
    UNCHECKED = "unchecked"
    OK = "ok"
    BROKEN = "broken"


class Organisation(TimestampMixin, db.Model):
    """An international organisation whose pandemic pages the network lists."""

    __tablename__ = "link_organisations"
    __table_args__ = (
        CheckConstraint("length(trim(name_en)) > 0", name="name_en_present"),
        CheckConstraint("length(trim(name_ko)) > 0", name="name_ko_present"),
        CheckConstraint(
            "website = '' OR website LIKE 'http://%' OR website LIKE 'https://%'",
            name="website_http",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name_en: Mapped[str] = mapped_column(String(MAX_NAME), unique=True, nullable=False)
    name_ko: Mapped[str] = mapped_column(String(MAX_NAME), unique=True, nullable=False)
    acronym: Mapped[str] = mapped_column(String(MAX_ACRONYM), nullable=False, default="")
    website: Mapped[str] = mapped_column(String(MAX_URL), nullable=False, default="")
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    links = relationship(
        "NetworkLink",
        back_populates="organisation",
        order_by="(NetworkLink.position, NetworkLink.id)",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    def __repr__(self) -> str:
        return f"<Organisation {self.acronym or self.name_en}>"

    def name(self, locale: str | None = None) -> str:
        if locale is None:
            from cacnet.core.i18n import current_language

            locale = current_language()
        return self.name_ko if locale == "ko" else self.name_en


class NetworkLink(TimestampMixin, db.Model):
    __tablename__ = "network_links"
    __table_args__ = (
        CheckConstraint(
            "(city_id IS NOT NULL AND organisation_id IS NULL)"
            " OR (city_id IS NULL AND organisation_id IS NOT NULL)",
            name="one_owner",
        ),
        CheckConstraint("url LIKE 'http://%' OR url LIKE 'https://%'", name="url_http"),
        CheckConstraint("length(trim(title)) > 0", name="title_present"),
        CheckConstraint("failures >= 0", name="failures_not_negative"),
        CheckConstraint("(failures = 0) = (broken_since IS NULL)", name="failing_has_since"),
        CheckConstraint("state <> 'broken' OR failures > 0", name="broken_is_failing"),
        CheckConstraint(
            "owner_notified_at IS NULL OR state = 'broken'", name="notified_only_broken"
        ),
        UniqueConstraint("city_id", "url"),
        UniqueConstraint("organisation_id", "url"),
        # The checker walks the links oldest-checked first.
        Index("ix_network_links_last_checked_at", "last_checked_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    city_id: Mapped[int | None] = mapped_column(
        ForeignKey("cities.id", ondelete="CASCADE"), nullable=True
    )
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("link_organisations.id", ondelete="CASCADE"), nullable=True
    )
    url: Mapped[str] = mapped_column(String(MAX_URL), nullable=False)
    title: Mapped[str] = mapped_column(String(MAX_TITLE), nullable=False)
    language: Mapped[str] = mapped_column(String(3), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    state: Mapped[LinkState] = mapped_column(
        str_enum(LinkState, "state"), nullable=False, default=LinkState.UNCHECKED
    )
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str] = mapped_column(String(MAX_ERROR), nullable=False, default="")
    failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    broken_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    owner_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    city = relationship("City")
    organisation = relationship("Organisation", back_populates="links")

    def __repr__(self) -> str:
        return f"<NetworkLink {self.id} {self.url}>"

    @property
    def owner(self):
        return self.city if self.city_id is not None else self.organisation

    @property
    def is_broken(self) -> bool:
        return self.state == LinkState.BROKEN
