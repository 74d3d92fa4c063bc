from __future__ import annotations

import enum
import hashlib
import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    and_,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cacnet.core.db import TimestampMixin, UTCDateTime, db, str_enum, utcnow


class UserRole(enum.StrEnum):
    DELEGATE = "delegate"
    CITY_ADMIN = "city_admin"
    SECRETARIAT = "secretariat"
    ADMIN = "admin"


CITY_ROLES = (UserRole.DELEGATE, UserRole.CITY_ADMIN)
STAFF_ROLES = (UserRole.SECRETARIAT, UserRole.ADMIN)


class TokenPurpose(enum.StrEnum):
    VERIFY_APPLICATION = "verify_application"
    RESET_PASSWORD = "reset_password"  # noqa: S105 - a purpose name, not a secret


def new_token() -> tuple[str, str]:
    """A fresh URL-safe secret and the SHA-256 we store in its place."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        CheckConstraint("locale IN ('en', 'ko')", name="locale_known"),
        CheckConstraint(
            "role NOT IN ('secretariat', 'admin') OR city_id IS NULL", name="staff_have_no_city"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    role: Mapped[UserRole] = mapped_column(
        str_enum(UserRole, "role"), nullable=False, default=UserRole.DELEGATE
    )
    city_id: Mapped[int | None] = mapped_column(
        ForeignKey("cities.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    locale: Mapped[str] = mapped_column(String(5), nullable=False, default="en")
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Bumped whenever the password changes: sessions and remember-me cookies carry it, so
    # changing or resetting a password signs out every other device.
    session_version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    city = relationship("City", foreign_keys=[city_id], back_populates="users")
    signing_authority = relationship(
        "SigningAuthority",
        primaryjoin=lambda: and_(
            SigningAuthority.user_id == User.id, SigningAuthority.revoked_at.is_(None)
        ),
        viewonly=True,
        uselist=False,
    )

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"

    # Flask-Login
    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_secretariat(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role == UserRole.ADMIN

    @property
    def is_city_admin(self) -> bool:
        return self.role == UserRole.CITY_ADMIN and self.city_id is not None

    @property
    def is_signatory(self) -> bool:
        return self.signing_authority is not None

    @property
    def acts_for_active_city(self) -> bool:
        """A member of an approved city; delegates of suspended or withdrawn cities can only look."""
        return self.city is not None and self.city.is_active_member


class ActionToken(db.Model):
    """A single-use secret sent by e-mail (application verification, password reset)."""

    __tablename__ = "action_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purpose: Mapped[TokenPurpose] = mapped_column(str_enum(TokenPurpose, "purpose"), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    membership_id: Mapped[int | None] = mapped_column(
        ForeignKey("memberships.id", ondelete="CASCADE"), nullable=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    user = relationship("User")
    membership = relationship("Membership")


class Invitation(db.Model):
    """A city admin's invitation of a colleague to join the city's delegation."""

    __tablename__ = "invitations"
    __table_args__ = (
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        CheckConstraint("role IN ('delegate', 'city_admin')", name="city_role"),
        # One open invitation per person and city.
        Index(
            "uq_invitations_open_city_email",
            "city_id",
            "email",
            unique=True,
            sqlite_where=text("accepted_at IS NULL AND revoked_at IS NULL"),
            postgresql_where=text("accepted_at IS NULL AND revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    city_id: Mapped[int] = mapped_column(
        ForeignKey("cities.id", ondelete="CASCADE"), nullable=False, index=True
    )
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    role: Mapped[UserRole] = mapped_column(
        str_enum(UserRole, "role"), nullable=False, default=UserRole.DELEGATE
    )
    invited_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    locale: Mapped[str] = mapped_column(String(5), nullable=False, default="en")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    accepted_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    city = relationship("City")
    invited_by = relationship("User", foreign_keys=[invited_by_id])

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > utcnow()


class SigningAuthority(db.Model):
    """The secretariat's grant to a delegate to endorse the Statement on the city's behalf."""

    __tablename__ = "signing_authorities"
    __table_args__ = (
        Index(
            "uq_signing_authorities_active_user",
            "user_id",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    city_id: Mapped[int] = mapped_column(
        ForeignKey("cities.id", ondelete="CASCADE"), nullable=False, index=True
    )
    evidence: Mapped[str] = mapped_column(Text, nullable=False, default="")
    granted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )

    user = relationship("User", foreign_keys=[user_id])
