from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cacnet.core.db import TimestampMixin, UTCDateTime, UUIDMixin, db, str_enum


class MembershipState(enum.StrEnum):
    PENDING_VERIFICATION = "pending_verification"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"


# A city is a member (acting or suspended) while it has a membership in one of these states.
CURRENT_MEMBER_STATES = (MembershipState.APPROVED, MembershipState.SUSPENDED)
# States that hold the city's name: a second application for the same city is refused.
OPEN_STATES = (MembershipState.SUBMITTED, *CURRENT_MEMBER_STATES)


@dataclass(frozen=True)
class Transition:
    name: str
    source: MembershipState
    target: MembershipState
    reason_required: bool


S = MembershipState
TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        Transition("verify", S.PENDING_VERIFICATION, S.SUBMITTED, False),
        Transition("approve", S.SUBMITTED, S.APPROVED, False),
        Transition("reject", S.SUBMITTED, S.REJECTED, True),
        Transition("suspend", S.APPROVED, S.SUSPENDED, True),
        Transition("reinstate", S.SUSPENDED, S.APPROVED, False),
        Transition("withdraw", S.APPROVED, S.WITHDRAWN, True),
    )
}


def city_name_key(name: str) -> str:
    """Compare city names ignoring case, accents-as-typed variants and spacing."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def _states_sql(states) -> str:
    return "state IN ({})".format(", ".join(f"'{s.value}'" for s in states))


class Membership(UUIDMixin, TimestampMixin, db.Model):
    """An application for membership and, once approved, the membership itself."""

    __tablename__ = "memberships"
    __table_args__ = (
        CheckConstraint("population IS NULL OR population >= 0", name="population_positive"),
        CheckConstraint("length(country_code) = 2", name="country_code_alpha2"),
        CheckConstraint(
            "state NOT IN ('rejected', 'suspended', 'withdrawn') OR reason <> ''",
            name="reason_given",
        ),
        CheckConstraint(
            "state NOT IN ('approved', 'suspended', 'withdrawn') OR city_id IS NOT NULL",
            name="member_has_city",
        ),
        # One open application or membership per city name and country.
        Index(
            "uq_memberships_open_city",
            "city_name_key",
            "country_code",
            unique=True,
            sqlite_where=text(_states_sql(OPEN_STATES)),
            postgresql_where=text(_states_sql(OPEN_STATES)),
        ),
        # One current membership per city.
        Index(
            "uq_memberships_current_city",
            "city_id",
            unique=True,
            sqlite_where=text(_states_sql(CURRENT_MEMBER_STATES)),
            postgresql_where=text(_states_sql(CURRENT_MEMBER_STATES)),
        ),
        Index("ix_memberships_state_submitted_at", "state", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[MembershipState] = mapped_column(
        str_enum(MembershipState, "state"),
        nullable=False,
        default=MembershipState.PENDING_VERIFICATION,
    )
    city_name_en: Mapped[str] = mapped_column(String(200), nullable=False)
    city_name_local: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    city_name_key: Mapped[str] = mapped_column(String(200), nullable=False)
    country_code: Mapped[str] = mapped_column(String(2), nullable=False, index=True)
    region: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    population: Mapped[int | None] = mapped_column(Integer, nullable=True)
    website: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    applicant_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    letter_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    letter_filename: Mapped[str | None] = mapped_column(String(255), nullable=True)
    letter_size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    city_id: Mapped[int | None] = mapped_column(
        ForeignKey("cities.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    # Optimistic locking: two officers acting on one application at once cannot both win.
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}

    applicant = relationship("User", foreign_keys=[applicant_id], lazy="joined")
    decided_by = relationship("User", foreign_keys=[decided_by_id])
    city = relationship("City", back_populates="memberships", foreign_keys=[city_id])

    def __repr__(self) -> str:
        return f"<Membership {self.id} {self.city_name_en} {self.state}>"

    def allowed_transitions(self) -> list[Transition]:
        return [t for t in TRANSITIONS.values() if t.source == self.state]
