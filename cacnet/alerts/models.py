"""Early warning between member cities: an alert a city raises (a draft until it publishes it),
the updates it posts, the other cities' acknowledgements, links between related alerts, the
documents attached to an alert, and which focal points of a city receive alert mail.

Who sees what is decided in ``visibility``; every change goes through ``services``.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cacnet.core.db import TimestampMixin, UTCDateTime, UUIDMixin, db, str_enum, utcnow
from cacnet.core.uploads import StoredDocumentMixin, document_checks


class AlertState(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"


class SignalType(enum.StrEnum):
    CLUSTER = "cluster"
    UNUSUAL_SEVERITY = "unusual_severity"
    NEW_VARIANT = "new_variant"
    HEALTH_SYSTEM_STRAIN = "health_system_strain"
    IMPORTED_CASES = "imported_cases"
    OTHER = "other"


class Severity(enum.StrEnum):
    WATCH = "watch"
    WARNING = "warning"
    EMERGENCY = "emergency"


SEVERITY_RANK = {Severity.WATCH: 0, Severity.WARNING: 1, Severity.EMERGENCY: 2}
# 'emergency' < 'warning' < 'watch' alphabetically: ordering by the column puts the most severe
# first, so lists sort by severity without a CASE.
assert sorted(Severity, key=lambda s: s.value) == sorted(Severity, key=lambda s: -SEVERITY_RANK[s])


class Alert(UUIDMixin, TimestampMixin, db.Model):
    """One early warning raised by a member city. ``what`` and ``first_observed_on`` may be empty
    in a draft; a published or closed alert has them (the database checks it)."""

    __tablename__ = "alerts"
    __table_args__ = (
        CheckConstraint("cases IS NULL OR cases >= 0", name="cases_not_negative"),
        CheckConstraint("deaths IS NULL OR deaths >= 0", name="deaths_not_negative"),
        CheckConstraint("state = 'draft' OR what <> ''", name="published_has_what"),
        CheckConstraint(
            "state = 'draft' OR first_observed_on IS NOT NULL", name="published_has_date"
        ),
        CheckConstraint("state = 'draft' OR published_at IS NOT NULL", name="published_at_set"),
        CheckConstraint(
            "state <> 'closed' OR (closed_at IS NOT NULL AND closing_summary <> '')",
            name="closed_has_summary",
        ),
        CheckConstraint("NOT is_public_notice OR state <> 'draft'", name="notice_not_draft"),
        Index("ix_alerts_city_state", "city_id", "state"),
        Index("ix_alerts_state_severity_published", "state", "severity", "published_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    city_id: Mapped[int] = mapped_column(
        ForeignKey("cities.id", ondelete="RESTRICT"), nullable=False
    )
    raised_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    state: Mapped[AlertState] = mapped_column(
        str_enum(AlertState, "state"), nullable=False, default=AlertState.DRAFT
    )
    what: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    signal_type: Mapped[SignalType] = mapped_column(
        str_enum(SignalType, "signal_type"), nullable=False, default=SignalType.OTHER
    )
    severity: Mapped[Severity] = mapped_column(
        str_enum(Severity, "severity"), nullable=False, default=Severity.WATCH
    )
    district: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    first_observed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    cases: Mapped[int | None] = mapped_column(Integer, nullable=True)
    deaths: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actions: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # Links to sources, one http(s) address per line (checked by the service).
    sources: Mapped[str] = mapped_column(Text, nullable=False, default="")
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), nullable=True
    )
    contact_text: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    is_public_notice: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    public_notice_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closing_summary: Mapped[str] = mapped_column(Text, nullable=False, default="")
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    city = relationship("City")
    raised_by = relationship("User", foreign_keys=[raised_by_id])
    contact = relationship("Contact")
    updates = relationship("AlertUpdate", back_populates="alert", order_by="AlertUpdate.id")
    acknowledgements = relationship(
        "AlertAcknowledgement",
        back_populates="alert",
        order_by="AlertAcknowledgement.id",
        foreign_keys="AlertAcknowledgement.alert_id",
    )
    documents = relationship("AlertDocument", back_populates="alert", order_by="AlertDocument.id")

    def __repr__(self) -> str:
        return f"<Alert {self.id} {self.state} {self.severity}>"

    @property
    def is_open(self) -> bool:
        return self.state == AlertState.PUBLISHED

    @property
    def source_links(self) -> list[str]:
        return [line.strip() for line in self.sources.splitlines() if line.strip()]


# The public notices, newest first (the public page and /alerts.atom walk this index).
Index(
    "ix_alerts_public_notice",
    Alert.published_at.desc(),
    postgresql_where=text("is_public_notice"),
    sqlite_where=text("is_public_notice"),
)


class UpdateKind(enum.StrEnum):
    UPDATE = "update"
    ESCALATION = "escalation"
    CLOSURE = "closure"


class AlertUpdate(db.Model):
    """What happened next: the raising city's update (new counts, measures), the secretariat's
    escalation of the severity, or the closing summary."""

    __tablename__ = "alert_updates"
    __table_args__ = (
        CheckConstraint("body <> ''", name="body_given"),
        CheckConstraint("cases IS NULL OR cases >= 0", name="cases_not_negative"),
        CheckConstraint("deaths IS NULL OR deaths >= 0", name="deaths_not_negative"),
        CheckConstraint(
            "kind <> 'escalation' OR (severity_from IS NOT NULL AND severity_to IS NOT NULL)",
            name="escalation_has_severities",
        ),
        Index("ix_alert_updates_alert_id", "alert_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False
    )
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    # The author's city; None when the secretariat wrote it.
    city_id: Mapped[int | None] = mapped_column(
        ForeignKey("cities.id", ondelete="RESTRICT"), nullable=True
    )
    kind: Mapped[UpdateKind] = mapped_column(str_enum(UpdateKind, "kind"), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    cases: Mapped[int | None] = mapped_column(Integer, nullable=True)
    deaths: Mapped[int | None] = mapped_column(Integer, nullable=True)
    severity_from: Mapped[Severity | None] = mapped_column(
        str_enum(Severity, "severity_from"), nullable=True
    )
    severity_to: Mapped[Severity | None] = mapped_column(
        str_enum(Severity, "severity_to"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    alert = relationship("Alert", back_populates="updates")
    author = relationship("User")
    city = relationship("City")


class AckKind(enum.StrEnum):
    SEEN = "seen"
    CHECKING = "checking"
    SIMILAR = "similar"


class AlertAcknowledgement(db.Model):
    """A member city's answer to another city's alert: once per city and alert."""

    __tablename__ = "alert_acknowledgements"
    __table_args__ = (
        UniqueConstraint("alert_id", "city_id"),
        CheckConstraint("similar_alert_id IS NULL OR kind = 'similar'", name="similar_has_kind"),
        CheckConstraint(
            "similar_alert_id IS NULL OR similar_alert_id <> alert_id", name="not_itself"
        ),
        Index("ix_alert_acknowledgements_city_id", "city_id", "alert_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False
    )
    city_id: Mapped[int] = mapped_column(
        ForeignKey("cities.id", ondelete="RESTRICT"), nullable=False
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    kind: Mapped[AckKind] = mapped_column(str_enum(AckKind, "kind"), nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # For "we have similar signals": the acknowledging city's own alert about them, if any.
    similar_alert_id: Mapped[int | None] = mapped_column(
        ForeignKey("alerts.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    alert = relationship("Alert", back_populates="acknowledgements", foreign_keys=[alert_id])
    similar_alert = relationship("Alert", foreign_keys=[similar_alert_id])
    city = relationship("City")
    user = relationship("User")


class AlertLink(db.Model):
    """Two related alerts (one city's similar signals to another's alert). Stored once per pair,
    the lower id first, so the link has no direction and cannot be made twice."""

    __tablename__ = "alert_links"
    __table_args__ = (
        UniqueConstraint("alert_id", "other_alert_id"),
        CheckConstraint("alert_id < other_alert_id", name="ordered_pair"),
        Index("ix_alert_links_other_alert_id", "other_alert_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False
    )
    other_alert_id: Mapped[int] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class AlertDocument(StoredDocumentMixin, db.Model):
    """A document attached to an alert (a PDF or an image, checked by its content), stored under
    the uploads folder by its SHA-256."""

    __tablename__ = "alert_documents"
    __table_args__ = (UniqueConstraint("alert_id", "sha256"), *document_checks())

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False, index=True
    )
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )

    alert = relationship("Alert", back_populates="documents")


class AlertSubscription(db.Model):
    """A city administrator's choice for one focal point: alert mail or not. A contact without a
    row follows the default: the primary focal point receives alert mail, the others do not."""

    __tablename__ = "alert_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    subscribed: Mapped[bool] = mapped_column(Boolean, nullable=False)
    changed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow
    )

    contact = relationship("Contact")
