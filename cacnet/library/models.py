"""A case study of the countermeasure library (a city's screening centres, contact tracing,
support for small businesses...), its attachments (PDF documents and images, checked by content)
and its links. Each language is optional, but a case has at least one title, and text in a
language needs that language's title (the database checks both).

Who sees what and every change are in ``services``.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    inspect,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cacnet.cities.models import City
from cacnet.core.db import TimestampMixin, UTCDateTime, db, str_enum, utcnow
from cacnet.core.text import search_key
from cacnet.core.uploads import StoredDocumentMixin, document_checks

LANGUAGES = ("en", "ko")
TEXT_FIELDS = ("summary", "body", "results")


class CaseState(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class CaseVisibility(enum.StrEnum):
    PUBLIC = "public"
    MEMBERS = "members"


def _language_checks() -> list[CheckConstraint]:
    checks = [CheckConstraint("title_en <> '' OR title_ko <> ''", name="some_title")]
    for field in TEXT_FIELDS:
        for lang in LANGUAGES:
            checks.append(
                CheckConstraint(
                    f"{field}_{lang} = '' OR title_{lang} <> ''",
                    name=f"{field}_{lang}_has_title",
                )
            )
    return checks


class LibraryCase(TimestampMixin, db.Model):
    """One countermeasure a member city took, told in English, Korean or both."""

    __tablename__ = "library_cases"
    __table_args__ = (
        *_language_checks(),
        CheckConstraint("ended_on IS NULL OR ended_on >= started_on", name="ends_after_start"),
        CheckConstraint("state = 'draft' OR published_at IS NOT NULL", name="published_at_set"),
        Index("ix_library_cases_state_published_at", "state", "published_at"),
        Index("ix_library_cases_state_started_on", "state", "started_on"),
        Index("ix_library_cases_city_id_state", "city_id", "state"),
        # Search is a substring match: a trigram GIN index on PostgreSQL (as for cities).
        Index(
            "ix_library_cases_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    city_id: Mapped[int] = mapped_column(
        ForeignKey("cities.id", ondelete="CASCADE"), nullable=False
    )
    area_id: Mapped[int] = mapped_column(
        ForeignKey("areas.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    state: Mapped[CaseState] = mapped_column(
        str_enum(CaseState, "state"), nullable=False, default=CaseState.DRAFT
    )
    visibility: Mapped[CaseVisibility] = mapped_column(
        str_enum(CaseVisibility, "visibility"), nullable=False, default=CaseVisibility.PUBLIC
    )
    title_en: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    title_ko: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    summary_en: Mapped[str] = mapped_column(Text, nullable=False, default="")
    summary_ko: Mapped[str] = mapped_column(Text, nullable=False, default="")
    body_en: Mapped[str] = mapped_column(Text, nullable=False, default="")
    body_ko: Mapped[str] = mapped_column(Text, nullable=False, default="")
    results_en: Mapped[str] = mapped_column(Text, nullable=False, default="")
    results_ko: Mapped[str] = mapped_column(Text, nullable=False, default="")
    started_on: Mapped[date] = mapped_column(Date, nullable=False)
    ended_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # search_key of both titles, both summaries and the city's names (kept by the services).
    search_text: Mapped[str] = mapped_column(Text, nullable=False, default="")

    city = relationship("City")
    area = relationship("Area")
    author = relationship("User")
    attachments = relationship(
        "CaseAttachment", back_populates="case", order_by="CaseAttachment.id",
        cascade="all, delete-orphan", passive_deletes=True,
    )  # fmt: skip
    links = relationship(
        "CaseLink", back_populates="case", order_by="CaseLink.id",
        cascade="all, delete-orphan", passive_deletes=True,
    )  # fmt: skip

    def __repr__(self) -> str:
        return f"<LibraryCase {self.id} {self.state}>"

    @property
    def is_published(self) -> bool:
        return self.state == CaseState.PUBLISHED

    @property
    def members_only(self) -> bool:
        return self.visibility == CaseVisibility.MEMBERS

    def localized(self, field: str, locale: str | None = None) -> tuple[str, str | None]:
        """``field`` ("title", "summary", "body", "results") in the page's language when there
        is one, else in the other: (text, the text's language when it is not the page's)."""
        from cacnet.core.i18n import bilingual, lang_attribute

        value, language = bilingual(
            getattr(self, f"{field}_en"), getattr(self, f"{field}_ko"), locale
        )
        return value, (lang_attribute(language, locale) if value else None)

    def title(self, locale: str | None = None) -> str:
        return self.localized("title", locale)[0]


class CaseAttachment(StoredDocumentMixin, db.Model):
    """A PDF document or an image of a case, stored under the uploads folder by its SHA-256."""

    __tablename__ = "library_attachments"
    __table_args__ = (UniqueConstraint("case_id", "sha256"), *document_checks())

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("library_cases.id", ondelete="CASCADE"), nullable=False, index=True
    )
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )

    case = relationship("LibraryCase", back_populates="attachments")

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class CaseLink(db.Model):
    """A web page about a case (the city's own page, a report, a video): http(s) only."""

    __tablename__ = "library_links"
    __table_args__ = (
        CheckConstraint("title <> ''", name="title_given"),
        CheckConstraint("url LIKE 'http://%' OR url LIKE 'https://%'", name="url_http"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("library_cases.id", ondelete="CASCADE"), nullable=False, index=True
    )
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    url: Mapped[str] = mapped_column(String(500), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    case = relationship("LibraryCase", back_populates="links")


@event.listens_for(City, "after_update")
def _city_renamed(mapper, connection, city: City) -> None:
    """A case's search text holds its city's names: refresh it when the city is renamed."""
    state = inspect(city)
    if not (
        state.attrs.name_en.history.has_changes() or state.attrs.name_local.history.has_changes()
    ):
        return
    table = LibraryCase.__table__
    rows = connection.execute(
        select(table.c.id, table.c.title_en, table.c.title_ko, table.c.summary_en,
               table.c.summary_ko).where(table.c.city_id == city.id)
    ).all()  # fmt: skip
    for row in rows:
        connection.execute(
            update(table)
            .where(table.c.id == row.id)
            .values(
                search_text=case_search_text(
                    row.title_en, row.title_ko, row.summary_en, row.summary_ko, city
                )
            )  # fmt: skip
        )


def case_search_text(title_en, title_ko, summary_en, summary_ko, city: City) -> str:
    """What the search matches: both titles, both summaries and the city's names, folded."""
    return search_key(title_en, title_ko, summary_en, summary_ko, city.name_en, city.name_local)
