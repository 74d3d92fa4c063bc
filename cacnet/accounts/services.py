"""Every change to accounts: sign-in bookkeeping, passwords, invitations, signing authority.

Each function checks who may act, validates, changes, audits and queues mail; the caller commits.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from cacnet.accounts.models import (
    CITY_ROLES,
    ActionToken,
    Invitation,
    SigningAuthority,
    TokenPurpose,
    User,
    UserRole,
    hash_token,
    new_token,
)
from cacnet.core import audit
from cacnet.core.db import db, utcnow
from cacnet.core.errors import PermissionDenied, ServiceError, StateConflict
from cacnet.core.mail import queue_mail
from cacnet.core.permissions import require_city_admin, require_secretariat
from cacnet.core.security import (
    hash_password,
    needs_rehash,
    password_problems,
    verify_password,
)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def get_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def check_new_password(password: str, email: str, city=None, extra_names=()) -> None:
    """Raise a ServiceError on the ``password`` field when the policy refuses the password."""
    names = [*extra_names]
    if city is not None:
        names += [city.name_en, city.name_local]
    problems = password_problems(password, email, [n for n in names if n])
    if problems:
        raise ServiceError(problems[0], field="password")


# --- sign-in ---------------------------------------------------------------------------------


def authenticate(email: str, password: str) -> User | None:
    """The active user with this e-mail and password, or None (same time and answer either way)."""
    user = get_user_by_email(email)
    if not verify_password(user.password_hash if user else None, password):
        if user is not None:
            audit.record("login_failed", user, object_type="user")
        return None
    if not user.is_active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def record_login(user: User, method: str = "password") -> None:
    user.last_login_at = utcnow()
    audit.record("login", user, actor=user, details={"method": method})


# --- passwords -------------------------------------------------------------------------------


def _issue_token(user: User, purpose: TokenPurpose, hours: int, membership=None) -> str:
    token, digest = new_token()
    db.session.add(
        ActionToken(
            purpose=purpose,
            token_hash=digest,
            user=user,
            membership=membership,
            expires_at=utcnow() + timedelta(hours=hours),
        )
    )
    return token


def issue_email_token(user: User, membership) -> str:
    return _issue_token(
        user,
        TokenPurpose.VERIFY_APPLICATION,
        current_app.config["EMAIL_TOKEN_HOURS"],
        membership=membership,
    )


def find_token(token: str, purpose: TokenPurpose) -> ActionToken | None:
    """The unused, unexpired token of this purpose, or None."""
    row = db.session.scalar(
        select(ActionToken).where(
            ActionToken.token_hash == hash_token(token), ActionToken.purpose == purpose
        )
    )
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    return row


def consume_token(row: ActionToken) -> None:
    """Mark the token used; refuse if another request used it first (single use, race-free)."""
    result = db.session.execute(
        update(ActionToken)
        .where(ActionToken.id == row.id, ActionToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if result.rowcount != 1:
        raise StateConflict(_l("This link has already been used."))


def request_password_reset(email: str) -> None:
    """Mail a single-use reset link if an active account has this address; say nothing either way."""
    user = get_user_by_email(email)
    if user is None or not user.is_active:
        return
    token = _issue_token(user, TokenPurpose.RESET_PASSWORD, current_app.config["RESET_TOKEN_HOURS"])
    audit.record("password_reset_requested", user, object_type="user")
    queue_mail(
        user.email,
        "accounts/emails/reset_password.txt",
        user.locale,
        user=user,
        link=url_for("accounts.reset_password", token=token, _external=True),
        hours=current_app.config["RESET_TOKEN_HOURS"],
    )


def _set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    user.session_version += 1


def reset_password(token: str, password: str) -> User:
    """Set a new password with a reset link; the link dies, and so do the user's other sessions."""
    row = find_token(token, TokenPurpose.RESET_PASSWORD)
    if row is None:
        raise StateConflict(_l("This link has expired or has already been used."))
    user = row.user
    check_new_password(password, user.email, user.city)
    consume_token(row)
    _set_password(user, password)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()  # they read mail sent to this address
    audit.record("password_reset", user, actor=user)
    queue_mail(user.email, "accounts/emails/password_changed.txt", user.locale, user=user)
    return user


def change_password(user: User, current_password: str, new_password: str) -> None:
    if not verify_password(user.password_hash, current_password):
        raise ServiceError(_l("Your current password is not right."), field="current_password")
    check_new_password(new_password, user.email, user.city)
    _set_password(user, new_password)
    audit.record("password_changed", user, actor=user)
    queue_mail(user.email, "accounts/emails/password_changed.txt", user.locale, user=user)


def update_profile(user: User, *, name: str, title: str, locale: str) -> None:
    if locale not in current_app.config["LANGUAGES"]:
        raise ServiceError(_l("Choose English or Korean."), field="locale")
    before = {"name": user.name, "title": user.title, "locale": user.locale}
    user.name, user.title, user.locale = name.strip(), title.strip(), locale
    after = {"name": user.name, "title": user.title, "locale": user.locale}
    if before != after:
        audit.record(
            "profile_updated", user, actor=user, details={"before": before, "after": after}
        )


# --- invitations -----------------------------------------------------------------------------


def invite_colleague(actor: User, email: str, role: UserRole, locale: str) -> Invitation:
    """A city admin of an active member city invites a colleague by e-mail."""
    require_city_admin(actor)
    if role not in CITY_ROLES:
        raise ServiceError(_l("Choose delegate or city administrator."), field="role")
    email = normalise_email(email)
    if get_user_by_email(email) is not None:
        raise ServiceError(_l("This person already has an account."), field="email")
    open_invitation = db.session.scalar(
        select(Invitation).where(
            Invitation.city_id == actor.city_id,
            Invitation.email == email,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
    )
    if open_invitation is not None:
        if open_invitation.expires_at > utcnow():
            raise ServiceError(_l("This person has already been invited."), field="email")
        open_invitation.revoked_at = utcnow()  # expired: make room for a fresh one
    token, digest = new_token()
    invitation = Invitation(
        city_id=actor.city_id,
        email=email,
        role=role,
        invited_by=actor,
        token_hash=digest,
        locale=locale,
        expires_at=utcnow() + timedelta(days=current_app.config["INVITATION_DAYS"]),
    )
    db.session.add(invitation)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise ServiceError(_l("This person has already been invited."), field="email")
    audit.record("invitation_sent", invitation, actor=actor, details={"email": email, "role": role})
    queue_mail(
        email,
        "accounts/emails/invitation.txt",
        locale,
        invitation=invitation,
        inviter=actor,
        city=actor.city,
        link=url_for("accounts.accept_invitation", token=token, _external=True),
        days=current_app.config["INVITATION_DAYS"],
    )
    return invitation


def find_invitation(token: str) -> Invitation | None:
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.token_hash == hash_token(token))
    )
    return invitation if invitation is not None and invitation.is_open else None


def accept_invitation(token: str, *, name: str, title: str, password: str, locale: str) -> User:
    """Create the invitee's account in the inviting city; the link works once."""
    invitation = find_invitation(token)
    if invitation is None:
        raise StateConflict(_l("This invitation has expired, was withdrawn or has been used."))
    if not invitation.city.is_active_member:
        raise StateConflict(_l("This city's membership is not active; the invitation is void."))
    if get_user_by_email(invitation.email) is not None:
        raise ServiceError(_l("An account with this e-mail address already exists."))
    check_new_password(password, invitation.email, invitation.city)
    result = db.session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None))
        .values(accepted_at=utcnow())
    )
    if result.rowcount != 1:
        raise StateConflict(_l("This invitation has already been used."))
    user = User(
        email=invitation.email,
        name=name.strip(),
        title=title.strip(),
        role=invitation.role,
        city_id=invitation.city_id,
        locale=locale,
        password_hash=hash_password(password),
        email_verified_at=utcnow(),
    )
    db.session.add(user)
    db.session.flush()
    invitation.accepted_user_id = user.id
    audit.record("invitation_accepted", invitation, actor=user)
    if invitation.invited_by is not None:
        queue_mail(
            invitation.invited_by.email,
            "accounts/emails/invitation_accepted.txt",
            invitation.invited_by.locale,
            user=user,
            city=invitation.city,
        )
    return user


def revoke_invitation(actor: User, invitation: Invitation) -> None:
    require_city_admin(actor)
    if invitation.city_id != actor.city_id:
        raise PermissionDenied(_l("This invitation belongs to another city."))
    if not invitation.is_open:
        raise StateConflict(_l("This invitation is no longer open."))
    invitation.revoked_at = utcnow()
    audit.record("invitation_revoked", invitation, actor=actor)


# --- signing authority -----------------------------------------------------------------------


def grant_signing_authority(actor: User | None, user: User, evidence: str) -> SigningAuthority:
    """The secretariat lets a delegate of an approved city endorse on the city's behalf."""
    if actor is not None:  # None only from the operator's command line
        require_secretariat(actor)
    if user.city is None or not user.city.is_active_member:
        raise ServiceError(_l("Only a delegate of an approved member city can be a signatory."))
    if user.is_signatory:
        raise StateConflict(_l("This delegate is already a signatory."))
    grant = SigningAuthority(
        user_id=user.id,
        city_id=user.city_id,
        evidence=evidence.strip(),
        granted_by_id=getattr(actor, "id", None),
    )
    db.session.add(grant)
    db.session.flush()
    db.session.expire(user, ["signing_authority"])
    audit.record("signing_authority_granted", grant, actor=actor, reason=evidence)
    queue_mail(user.email, "accounts/emails/signing_authority_granted.txt", user.locale, user=user)
    return grant


def revoke_signing_authority(actor: User, user: User, reason: str) -> None:
    require_secretariat(actor)
    grant = user.signing_authority
    if grant is None:
        raise StateConflict(_l("This delegate is not a signatory."))
    if not reason.strip():
        raise ServiceError(_l("Give a reason."), field="reason")
    grant.revoked_at = utcnow()
    grant.revoked_by_id = actor.id
    db.session.flush()
    db.session.expire(user, ["signing_authority"])
    audit.record("signing_authority_revoked", grant, actor=actor, reason=reason)


# --- registration ----------------------------------------------------------------------------


def register_applicant(
    email: str, *, name: str, title: str, password: str, locale: str, extra_names=()
) -> User:
    """A new account for someone applying for their city; the e-mail is not yet verified."""
    email = normalise_email(email)
    check_new_password(password, email, extra_names=extra_names)
    user = User(
        email=email,
        name=name.strip(),
        title=title.strip(),
        role=UserRole.DELEGATE,
        locale=locale,
        password_hash=hash_password(password),
    )
    db.session.add(user)
    return user


# --- operator --------------------------------------------------------------------------------


def create_user(
    email: str,
    *,
    name: str,
    role: UserRole,
    password: str,
    city=None,
    title: str = "",
    locale: str = "en",
    check_password: bool = True,
) -> User:
    """An account made by the operator (command line) or the demo seed; the e-mail counts as checked."""
    email = normalise_email(email)
    if get_user_by_email(email) is not None:
        raise ServiceError(_l("An account with this e-mail address already exists."))
    if role in CITY_ROLES and city is None:
        raise ServiceError(_l("A delegate needs a city."))
    if role not in CITY_ROLES and city is not None:
        raise ServiceError(_l("Secretariat and admin accounts belong to no city."))
    if check_password:
        check_new_password(password, email, city)
    user = User(
        email=email,
        name=name,
        title=title,
        role=role,
        city=city,
        locale=locale,
        password_hash=hash_password(password),
        email_verified_at=utcnow(),
    )
    db.session.add(user)
    db.session.flush()
    audit.record("user_created", user, details={"role": role.value})
    return user
