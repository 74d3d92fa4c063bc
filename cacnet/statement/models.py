from __future__ import annotations

import enum
import hashlib
import json
from datetime import UTC, date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cacnet.core.db import TimestampMixin, UTCDateTime, UUIDMixin, db, str_enum


class StatementVersion(TimestampMixin, db.Model):
    """One version of the Statement's text, in English and Korean.

    A draft can be edited; publishing stamps ``published_at`` and the SHA-256 of the text, and from
    then on the row cannot change: a database trigger refuses any UPDATE of a published version
    (migration 0005), so no code path, present or future, can alter what cities endorsed.
    """

    __tablename__ = "statement_versions"
    __table_args__ = (
        CheckConstraint("number > 0", name="number_positive"),
        CheckConstraint(
            "(published_at IS NULL) = (text_sha256 IS NULL)", name="published_has_hash"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, nullable=False, unique=True)
    title_en: Mapped[str] = mapped_column(String(300), nullable=False)
    title_ko: Mapped[str] = mapped_column(String(300), nullable=False)
    body_en: Mapped[str] = mapped_column(Text, nullable=False)
    body_ko: Mapped[str] = mapped_column(Text, nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    published_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    text_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)

    published_by = relationship("User")

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    def canonical_text(self) -> bytes:
        return canonical_text(self.title_en, self.body_en, self.title_ko, self.body_ko)


def canonical_text(title_en: str, body_en: str, title_ko: str, body_ko: str) -> bytes:
    """The bytes a version's SHA-256 is taken over: a JSON object with sorted keys, no spaces,
    UTF-8, line endings normalised to LF. Documented so anyone can recompute the hash."""

    def norm(text: str) -> str:
        return text.replace("\r\n", "\n").replace("\r", "\n").strip()

    data = {"body_en": norm(body_en), "body_ko": norm(body_ko), "title_en": norm(title_en),
            "title_ko": norm(title_ko)}  # fmt: skip
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def text_sha256(version: StatementVersion) -> str:
    return hashlib.sha256(version.canonical_text()).hexdigest()


class EndorsementState(enum.StrEnum):
    SUBMITTED = "submitted"
    VERIFIED = "verified"
    RETURNED = "returned"
    WITHDRAWN = "withdrawn"


# A city has at most one endorsement in these states per version.
ACTIVE_ENDORSEMENT_STATES = (EndorsementState.SUBMITTED, EndorsementState.VERIFIED)


class Endorsement(UUIDMixin, TimestampMixin, db.Model):
    """A city's endorsement of one published version, signed by its signatory.

    ``text_sha256`` is the endorsed version's hash; ``record_sha256`` is the SHA-256 over the
    canonical form of everything signed (see ``canonical_record``), which documents print.
    """

    __tablename__ = "endorsements"
    __table_args__ = (
        CheckConstraint(
            "state NOT IN ('returned', 'withdrawn') OR reason <> ''", name="reason_given"
        ),
        CheckConstraint("signature_kind IN ('drawn', 'typed')", name="signature_kind_known"),
        Index(
            "uq_endorsements_active_city_version",
            "city_id",
            "version_id",
            unique=True,
            sqlite_where=text("state IN ('submitted', 'verified')"),
            postgresql_where=text("state IN ('submitted', 'verified')"),
        ),
        Index("ix_endorsements_version_state", "version_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    city_id: Mapped[int] = mapped_column(
        ForeignKey("cities.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    version_id: Mapped[int] = mapped_column(
        ForeignKey("statement_versions.id", ondelete="RESTRICT"), nullable=False
    )
    signer_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    state: Mapped[EndorsementState] = mapped_column(
        str_enum(EndorsementState, "state"), nullable=False, default=EndorsementState.SUBMITTED
    )
    signatory_name: Mapped[str] = mapped_column(String(200), nullable=False)
    signatory_title: Mapped[str] = mapped_column(String(200), nullable=False)
    place: Mapped[str] = mapped_column(String(200), nullable=False)
    signed_on: Mapped[date] = mapped_column(Date, nullable=False)
    signature_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    signature_kind: Mapped[str] = mapped_column(String(8), nullable=False)
    text_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    record_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    ip: Mapped[str] = mapped_column(String(45), nullable=False, default="")
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Optimistic locking: a verification and a withdrawal at once cannot both win.
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": lock_version}

    city = relationship("City")
    version = relationship("StatementVersion")
    signer = relationship("User", foreign_keys=[signer_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])


def canonical_record(
    *,
    city_slug: str,
    version_number: int,
    text_sha256: str,
    signatory_name: str,
    signatory_title: str,
    place: str,
    signed_on: date,
    signature_sha256: str,
    signer_email: str,
    signed_at: datetime,
    ip: str,
) -> bytes:
    """The bytes an endorsement's record SHA-256 is taken over: a JSON object with sorted keys,
    no spaces, UTF-8; dates in ISO 8601, the signing time in UTC to the second."""
    data = {
        "city": city_slug,
        "ip": ip,
        "place": place,
        "signature_sha256": signature_sha256,
        "signatory_name": signatory_name,
        "signatory_title": signatory_title,
        "signed_at": signed_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "signed_on": signed_on.isoformat(),
        "signer": signer_email,
        "text_sha256": text_sha256,
        "version": version_number,
    }
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


class DocumentKind(enum.StrEnum):
    DECLARATION = "declaration"
    CERTIFICATE = "certificate"


class DocumentState(enum.StrEnum):
    QUEUED = "queued"
    RENDERING = "rendering"
    ISSUED = "issued"
    FAILED = "failed"


class IssuedDocument(TimestampMixin, db.Model):
    """A sealed PDF the alliance issued (the declaration, or one city's endorsement certificate).

    Its ``document_id`` is derived from what it says (kind, order, version and the record hashes
    of its endorsements, in order: ``contents_sha256``), so asking again for unchanged contents
    finds the same row and the same stored file, and any change makes a new id. ``signatories``
    keeps the list as it was printed, for the verification page, whatever happens later. The file
    lives in ``<instance>/documents/<pdf_sha256>.pdf``.
    """

    __tablename__ = "issued_documents"
    __table_args__ = (
        CheckConstraint(
            "state <> 'issued' OR (pdf_sha256 IS NOT NULL AND issued_at IS NOT NULL)",
            name="issued_has_file",
        ),
        CheckConstraint(
            "kind <> 'certificate' OR endorsement_id IS NOT NULL",
            name="certificate_has_endorsement",
        ),
        CheckConstraint("sort_order IN ('date', 'city')", name="sort_order_known"),
        Index("ix_issued_documents_kind_state_issued_at", "kind", "state", "issued_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    kind: Mapped[DocumentKind] = mapped_column(str_enum(DocumentKind, "kind"), nullable=False)
    state: Mapped[DocumentState] = mapped_column(
        str_enum(DocumentState, "state"), nullable=False, default=DocumentState.QUEUED
    )
    version_id: Mapped[int] = mapped_column(
        ForeignKey("statement_versions.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    endorsement_id: Mapped[int | None] = mapped_column(
        ForeignKey("endorsements.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    sort_order: Mapped[str] = mapped_column(String(8), nullable=False, default="date")
    contents_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    signatory_count: Mapped[int] = mapped_column(Integer, nullable=False)
    # the list as printed: large (≈0.5 kB a signatory), read only to render and to verify
    signatories: Mapped[list] = mapped_column(db.JSON, nullable=False, deferred=True)
    pdf_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    pdf_size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    render_seconds: Mapped[float | None] = mapped_column(db.Float, nullable=True)
    error: Mapped[str] = mapped_column(Text, nullable=False, default="")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    version = relationship("StatementVersion")
    endorsement = relationship("Endorsement")
