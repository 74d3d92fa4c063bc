from __future__ import annotations

from slugify import slugify
from sqlalchemy import CheckConstraint, Integer, String, or_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cacnet.core.db import TimestampMixin, UUIDMixin, db


class City(UUIDMixin, TimestampMixin, db.Model):
    """A member city. It exists from the secretariat's approval of its first application on; its
    membership state is that of its current membership (see ``membership.models.Membership``)."""

    __tablename__ = "cities"
    __table_args__ = (
        CheckConstraint("population IS NULL OR population >= 0", name="population_positive"),
        CheckConstraint("length(country_code) = 2", name="country_code_alpha2"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), nullable=False, unique=True)
    name_en: Mapped[str] = mapped_column(String(200), nullable=False)
    name_local: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    country_code: Mapped[str] = mapped_column(String(2), nullable=False, index=True)
    region: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    population: Mapped[int | None] = mapped_column(Integer, nullable=True)
    website: Mapped[str] = mapped_column(String(500), nullable=False, default="")

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


def _active_membership_join():
    from cacnet.membership.models import CURRENT_MEMBER_STATES, Membership

    return (Membership.city_id == City.id) & or_(
        *[Membership.state == s for s in CURRENT_MEMBER_STATES]
    )


def make_slug(name_en: str, country_code: str) -> str:
    """A stable slug from the English name and the country, e.g. ``seoul-kr``."""
    base = slugify(name_en, max_length=100) or "city"
    return f"{base}-{country_code.lower()}"
