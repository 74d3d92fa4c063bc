"""Personal API tokens: created by their owner, shown once, kept as a SHA-256, scoped, expiring,
revocable.

A token acts as its owner: the API calls the same service functions as the pages with the owner
as the actor, so every rule (membership, the city's ownership of a post) is checked there. The
token adds two limits of its own: its scope (``read`` cannot change anything) and its life.

Every function checks, changes and audits; the caller commits.
"""

from __future__ import annotations

import enum
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from cacnet.accounts.models import ApiToken, TokenScope, User, hash_token
from cacnet.core import audit
from cacnet.core.db import db, utcnow
from cacnet.core.errors import PermissionDenied, ServiceError, StateConflict

PLAINTEXT_PREFIX = "cac_"
PREFIX_LENGTH = 12  # "cac_" and 8 characters of the secret: enough to tell tokens apart
EXPIRY_DAYS = (30, 90, 180, 365)
MAX_EXPIRY_DAYS = 366
MAX_NAME = 100
MAX_LIVE_TOKENS = 20
# last_used_at is written at most this often per token: a busy client would otherwise turn every
# read into a write.
TOUCH_EVERY = timedelta(minutes=1)
_PLAINTEXT = re.compile(r"^cac_[A-Za-z0-9_-]{20,80}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f<>]")


class Refusal(enum.StrEnum):
    """Why a presented token does not authenticate (the API's error codes follow these)."""

    UNKNOWN = "unknown"
    EXPIRED = "expired"
    REVOKED = "revoked"
    ACCOUNT_DISABLED = "account_disabled"
    TWO_FACTOR_REQUIRED = "two_factor_required"


@dataclass(frozen=True)
class Authentication:
    """The outcome of presenting a token: the live token, or why it was refused (with the token
    row when one was found, for the audit record)."""

    token: ApiToken | None
    refusal: Refusal | None = None

    @property
    def ok(self) -> bool:
        return self.refusal is None


def token_state(token: ApiToken, now: datetime | None = None) -> str:
    """live, expired or revoked (for lists)."""
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at <= (now or utcnow()):
        return "expired"
    return "live"


def may_write(user: User) -> bool:
    """Write tokens act for the user's city, so only delegates of an active member city get one."""
    return user.city_id is not None and user.acts_for_active_city


def tokens_of(user: User) -> list[ApiToken]:
    """The user's tokens, newest first (revoked and expired ones too, for the record)."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def _expiry(expires_in_days: int | None, expires_on: date | None, now: datetime) -> datetime:
    if expires_on is not None:
        expires_at = datetime.combine(expires_on, time(23, 59, 59), tzinfo=UTC)
        if expires_at <= now:
            raise ServiceError(_l("The expiry date must be in the future."), field="expires")
        if expires_at > now + timedelta(days=MAX_EXPIRY_DAYS):
            raise ServiceError(_l("A token can last at most a year."), field="expires")
        return expires_at
    if expires_in_days not in EXPIRY_DAYS:
        raise ServiceError(_l("Not a valid choice."), field="expires")
    return now + timedelta(days=expires_in_days)


def create_token(
    actor: User,
    name: str,
    scope: str | TokenScope,
    expires_in_days: int | None = None,
    expires_on: date | None = None,
) -> tuple[ApiToken, str]:
    """A new token for ``actor`` (for themself only). Returns the row and the plaintext, which is
    never stored and cannot be shown again. A write token needs a delegate of an active member
    city; accounts that must enrol a second factor get no token at all."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied(_l("Please sign in to see this page."))
    if actor.needs_two_factor_enrolment:
        raise PermissionDenied(
            _l("Set up two-step sign-in for your account before you create API tokens.")
        )
    name = (name or "").strip()
    if not name:
        raise ServiceError(_l("This field is required."), field="name")
    if len(name) > MAX_NAME:
        raise ServiceError(_l("Use at most %(max)d characters.", max=MAX_NAME), field="name")
    if _CONTROL.search(name):
        raise ServiceError(
            _l("Use plain text, without < or > or control characters."), field="name"
        )
    try:
        scope = TokenScope(scope)
    except ValueError:
        raise ServiceError(_l("Not a valid choice."), field="scope")
    if scope == TokenScope.WRITE and not may_write(actor):
        raise ServiceError(
            _l("Only delegates of an active member city can create tokens that write."),
            field="scope",
        )
    now = utcnow()
    expires_at = _expiry(expires_in_days, expires_on, now)
    live = sum(1 for t in tokens_of(actor) if token_state(t, now) == "live")
    if live >= MAX_LIVE_TOKENS:
        raise StateConflict(
            _l("You have %(max)d live tokens; revoke one first.", max=MAX_LIVE_TOKENS)
        )
    plaintext = PLAINTEXT_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=actor.id,
        name=name,
        token_hash=hash_token(plaintext),
        prefix=plaintext[:PREFIX_LENGTH],
        scope=scope,
        created_at=now,
        expires_at=expires_at,
    )
    db.session.add(token)
    db.session.flush()
    audit.record(
        "api_token_created",
        token,
        actor=actor,
        details={
            "name": name,
            "scope": scope.value,
            "prefix": token.prefix,
            "expires_at": expires_at.isoformat(),
        },
    )
    return token, plaintext


def revoke_token(actor: User, token: ApiToken) -> None:
    """The owner revokes one of their tokens; it stops working at once."""
    if actor is None or getattr(actor, "id", None) != token.user_id:
        raise PermissionDenied(_l("You can only revoke your own tokens."))
    if token.revoked_at is not None:
        raise StateConflict(_l("This token is already revoked."))
    token.revoked_at = utcnow()
    audit.record("api_token_revoked", token, actor=actor, details={"prefix": token.prefix})


def authenticate(plaintext: str) -> Authentication:
    """Find the live token behind ``plaintext`` and note its use (at most once a minute).

    Refusals are audited (an unknown token with only the prefix it presented, never the rest).
    The caller commits, so that both the note of use and the audit record are kept.
    """
    plaintext = (plaintext or "").strip()
    token = None
    if _PLAINTEXT.match(plaintext):
        token = db.session.scalar(
            select(ApiToken).where(ApiToken.token_hash == hash_token(plaintext))
        )
    if token is None:
        shown = plaintext[:PREFIX_LENGTH] if plaintext.startswith(PLAINTEXT_PREFIX) else None
        audit.record(
            "api_token_refused",
            object_type="api_tokens",
            reason=Refusal.UNKNOWN.value,
            details={"prefix": shown},
        )
        return Authentication(None, Refusal.UNKNOWN)
    refusal = None
    if token.revoked_at is not None:
        refusal = Refusal.REVOKED
    elif token.expires_at <= utcnow():
        refusal = Refusal.EXPIRED
    elif not token.user.is_active:
        refusal = Refusal.ACCOUNT_DISABLED
    elif token.user.needs_two_factor_enrolment:
        refusal = Refusal.TWO_FACTOR_REQUIRED
    if refusal is not None:
        audit.record(
            "api_token_refused",
            token,
            actor=token.user,
            reason=refusal.value,
            details={"prefix": token.prefix},
        )
        return Authentication(token, refusal)
    _touch(token)
    return Authentication(token)


def _touch(token: ApiToken) -> None:
    now = utcnow()
    if token.last_used_at is not None and now - token.last_used_at < TOUCH_EVERY:
        return
    # Conditional, so that of many concurrent requests only one writes.
    db.session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token.id,
            or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - TOUCH_EVERY),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(token, "last_used_at", now)
