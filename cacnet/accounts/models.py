from __future__ import annotations

import enum
import hashlib
import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
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
    # The TOTP second factor: the shared secret encrypted with a key derived from SECRET_KEY
    # (cacnet.accounts.two_factor), when it was confirmed, and the last 30-second step accepted
    # (a code is good once: an observed code cannot be replayed within its window).
    totp_secret: Mapped[str | None] = mapped_column(String(255), nullable=True)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

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

    @property
    def has_two_factor(self) -> bool:
        return self.totp_enabled_at is not None

    @property
    def needs_two_factor_enrolment(self) -> bool:
        """Secretariat and admin accounts must have a second factor before they can do anything."""
        return self.role in STAFF_ROLES and self.totp_enabled_at is None

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


class RecoveryCode(db.Model):
    """One of ten single-use codes that stand in for the TOTP device; only its SHA-256 is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class TokenScope(enum.StrEnum):
    READ = "read"
    WRITE = "write"  # read, and write the caller's city's resources


class ApiToken(db.Model):
    """A personal API token: shown once, kept as its SHA-256, named, scoped, expiring."""

    __tablename__ = "api_tokens"
    __table_args__ = (CheckConstraint("expires_at > created_at", name="expires_after_creation"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    # The first characters of the token ("cac_AbCd"), so its owner can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(16), nullable=False)
    scope: Mapped[TokenScope] = mapped_column(str_enum(TokenScope, "scope"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    user = relationship("User")

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None and self.expires_at > utcnow()

    @property
    def can_write(self) -> bool:
        return self.scope == TokenScope.WRITE


class OidcIdentity(db.Model):
    """An account at an OpenID Connect provider linked to a cacnet user (provider + subject)."""

    __tablename__ = "oidc_identities"
    __table_args__ = (UniqueConstraint("provider", "subject", name="uq_oidc_identities_subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    provider: Mapped[str] = mapped_column(String(64), nullable=False)
    subject: Mapped[str] = mapped_column(String(255), nullable=False)
    email: Mapped[str] = mapped_column(String(254), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    user = relationship("User")
