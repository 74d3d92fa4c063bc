"""The supplier catalogue: companies that make what cities need against a pandemic (specimen
collection kits, diagnostic reagents, PPE, devices), their products, and each product's
certifications and export permissions with their dates and issuing authority.

Entries by delegates start ``pending``; the secretariat vets or rejects them. The public sees a
product only when both the product and its company are vetted (``visibility``). Export permission
is a certification ``kind`` of its own (``CertificationKind.EXPORT_PERMISSION``): it has the same
facts (reference, authority, dates) and the same life (it expires).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cacnet.core.db import TimestampMixin, UTCDateTime, db, str_enum, utcnow
from cacnet.core.i18n import bilingual


class EntryState(enum.StrEnum):
    PENDING = "pending"
    VETTED = "vetted"
    REJECTED = "rejected"


class ProductType(enum.StrEnum):
    SPECIMEN_COLLECTION_KIT = "specimen_collection_kit"
    DIAGNOSTIC_REAGENT = "diagnostic_reagent"
    PPE = "ppe"
    DEVICE = "device"
    OTHER = "other"


class CertificationKind(enum.StrEnum):
    CE_IVD = "ce_ivd"
    FDA_EUA = "fda_eua"
    MFDS_APPROVAL = "mfds_approval"
    WHO_EUL = "who_eul"
    ISO_13485 = "iso_13485"
    EXPORT_PERMISSION = "export_permission"
    OTHER = "other"


class Company(TimestampMixin, db.Model):
    """A maker or supplier. ``city_id`` is the member city whose delegate submitted it (None when
    the secretariat did): its delegates may change it and see it while it waits."""

    __tablename__ = "catalogue_companies"
    __table_args__ = (
        CheckConstraint("name_en <> ''", name="name_given"),
        CheckConstraint("length(country_code) = 2", name="country_code_length"),
        CheckConstraint("state <> 'vetted' OR vetted_at IS NOT NULL", name="vetted_has_date"),
        CheckConstraint(
            "state <> 'rejected' OR rejection_reason <> ''", name="rejected_has_reason"
        ),
        Index("ix_catalogue_companies_state_country", "state", "country_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name_en: Mapped[str] = mapped_column(String(200), nullable=False)
    name_ko: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    country_code: Mapped[str] = mapped_column(String(2), nullable=False)
    city: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    website: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    contact_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    contact_email: Mapped[str] = mapped_column(String(254), nullable=False, default="")
    contact_phone: Mapped[str] = mapped_column(String(60), nullable=False, default="")
    description_en: Mapped[str] = mapped_column(Text, nullable=False, default="")
    description_ko: Mapped[str] = mapped_column(Text, nullable=False, default="")
    state: Mapped[EntryState] = mapped_column(
        str_enum(EntryState, "state"), nullable=False, default=EntryState.PENDING
    )
    vetted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    vetted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    rejection_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    submitted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    city_id: Mapped[int | None] = mapped_column(
        ForeignKey("cities.id", ondelete="SET NULL"), nullable=True, index=True
    )
    search_text: Mapped[str] = mapped_column(Text, nullable=False, default="")

    submitted_by = relationship("User", foreign_keys=[submitted_by_id])
    vetted_by = relationship("User", foreign_keys=[vetted_by_id])
    submitting_city = relationship("City")
    products = relationship("Product", back_populates="company", order_by="Product.id")

    def name(self, language: str = "en") -> str:
        return bilingual(self.name_en, self.name_ko, language)[0]


class Product(TimestampMixin, db.Model):
    """One product of a company, with an optional product sheet (a PDF, stored by its SHA-256)."""

    __tablename__ = "catalogue_products"
    __table_args__ = (
        CheckConstraint("name_en <> '' OR name_ko <> ''", name="name_given"),
        CheckConstraint("state <> 'vetted' OR vetted_at IS NOT NULL", name="vetted_has_date"),
        CheckConstraint(
            "state <> 'rejected' OR rejection_reason <> ''", name="rejected_has_reason"
        ),
        CheckConstraint(
            "(sheet_sha256 IS NULL AND sheet_size IS NULL) OR "
            "(sheet_sha256 IS NOT NULL AND sheet_size > 0 AND sheet_size <= 10485760 "
            "AND sheet_filename <> '')",
            name="sheet_complete",
        ),
        Index("ix_catalogue_products_state_type", "state", "product_type"),
        # substring search (LIKE '%…%'): a trigram GIN index on PostgreSQL (pg_trgm, see 0004)
        Index(
            "ix_catalogue_products_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("catalogue_companies.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name_en: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    name_ko: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    product_type: Mapped[ProductType] = mapped_column(
        str_enum(ProductType, "product_type"), nullable=False
    )
    description_en: Mapped[str] = mapped_column(Text, nullable=False, default="")
    description_ko: Mapped[str] = mapped_column(Text, nullable=False, default="")
    sheet_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    sheet_filename: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    sheet_size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    state: Mapped[EntryState] = mapped_column(
        str_enum(EntryState, "state"), nullable=False, default=EntryState.PENDING
    )
    vetted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    vetted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    rejection_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    submitted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    city_id: Mapped[int | None] = mapped_column(
        ForeignKey("cities.id", ondelete="SET NULL"), nullable=True, index=True
    )
    search_text: Mapped[str] = mapped_column(Text, nullable=False, default="")

    company = relationship("Company", back_populates="products")
    submitted_by = relationship("User", foreign_keys=[submitted_by_id])
    vetted_by = relationship("User", foreign_keys=[vetted_by_id])
    submitting_city = relationship("City")
    certifications = relationship(
        "Certification",
        back_populates="product",
        order_by=lambda: (Certification.kind, Certification.issued_on),
        cascade="all, delete-orphan",
    )

    def name(self, language: str = "en") -> str:
        return bilingual(self.name_en, self.name_ko, language)[0]

    @property
    def is_public(self) -> bool:
        return self.state == EntryState.VETTED and self.company.state == EntryState.VETTED


class Certification(db.Model):
    """A certification or an export permission of a product. ``issued_on`` is never in the future
    (the service checks it: a CHECK cannot know today's date); ``expires_on``, when given, comes
    after it (the database checks that)."""

    __tablename__ = "catalogue_certifications"
    __table_args__ = (
        CheckConstraint("issuing_authority <> ''", name="authority_given"),
        CheckConstraint("expires_on IS NULL OR expires_on > issued_on", name="expires_after_issue"),
        Index("ix_catalogue_certifications_kind_product", "kind", "product_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("catalogue_products.id", ondelete="CASCADE"), nullable=False, index=True
    )
    kind: Mapped[CertificationKind] = mapped_column(
        str_enum(CertificationKind, "kind"), nullable=False
    )
    reference: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    issuing_authority: Mapped[str] = mapped_column(String(200), nullable=False)
    issued_on: Mapped[date] = mapped_column(Date, nullable=False)
    expires_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    added_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    product = relationship("Product", back_populates="certifications")

    def expired(self, today: date) -> bool:
        return self.expires_on is not None and self.expires_on < today
