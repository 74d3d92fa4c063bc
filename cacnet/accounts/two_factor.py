"""The TOTP second factor (RFC 6238, with pyotp) and its single-use recovery codes.

Secretariat and admin accounts must enrol before they can do anything else (see
``enrolment_guard``); delegates may. A code is accepted once: the last accepted 30-second step is
stored and only later steps pass, so a code seen over a shoulder cannot be replayed. The shared
secret has to be read back to check codes, so it is stored encrypted (Fernet, with a key derived
from SECRET_KEY by HKDF); recovery codes are stored as SHA-256 only (80 random bits each).

Every change checks, changes, audits and queues the notice mail; the caller commits.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, or_, select, update

from cacnet.accounts.models import RecoveryCode, User
from cacnet.core import audit
from cacnet.core.db import db, utcnow
from cacnet.core.errors import PermissionDenied, ServiceError, StateConflict
from cacnet.core.mail import queue_mail
from cacnet.core.security import verify_password

ISSUER = "CAAP cacnet"
INTERVAL = 30
RECOVERY_CODE_COUNT = 10
# Unambiguous lower-case letters and digits: 16 of them carry ~79 bits.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


# --- the secret ------------------------------------------------------------------------------


def _fernet() -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"cacnet totp secret").derive(
        current_app.config["SECRET_KEY"].encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def new_secret() -> str:
    return pyotp.random_base32()


def _encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def _decrypt(stored: str) -> str | None:
    try:
        return _fernet().decrypt(stored.encode()).decode()
    except InvalidToken:  # SECRET_KEY changed: the user must be reset and enrol again
        current_app.logger.error("a TOTP secret cannot be decrypted (was SECRET_KEY changed?)")
        return None


def _is_base32(secret: str) -> bool:
    try:
        return len(secret) >= 16 and len(base64.b32decode(secret, casefold=False)) >= 10
    except (ValueError, TypeError):
        return False


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret, interval=INTERVAL).provisioning_uri(
        name=user.email, issuer_name=ISSUER
    )


def qr_svg_data_uri(uri: str) -> str:
    """The enrolment QR code as an SVG data URI (the page's CSP allows data: images)."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def current_step() -> int:
    return int(time.time()) // INTERVAL


def _normalise(code: str) -> str:
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())


def _matching_step(secret: str, code: str, after: int | None) -> int | None:
    """The step (now, or one either side for clock drift) whose code this is, if later than
    ``after``."""
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, interval=INTERVAL)
    now = current_step()
    for step in (now - 1, now, now + 1):
        if (after is None or step > after) and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


# --- recovery codes --------------------------------------------------------------------------


def _hash_code(code: str) -> str:
    return hashlib.sha256(_normalise(code).encode()).hexdigest()


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(16))
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash_code(c)) for c in codes)
    return codes


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )


def _use_recovery_code(user: User, code: str) -> bool:
    result = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash_code(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
    )
    return result.rowcount == 1


def _notify(user: User, change: str, left: int) -> None:
    """Tell the account's owner of every change to the second factor (queued after commit)."""
    queue_mail(
        user.email,
        "accounts/emails/two_factor_changed.txt",
        user.locale,
        user=user,
        change=change,
        left=left,
    )


# --- checking a code -------------------------------------------------------------------------


def check_code(user: User, code: str, *, purpose: str = "sign_in") -> str | None:
    """Accept a code from the user's app ("totp") or a recovery code ("recovery"), once.

    A failure is audited (the caller commits, so keep the record even when it refuses).
    """
    if user.totp_secret is None or user.totp_enabled_at is None:
        return None
    secret = _decrypt(user.totp_secret)
    normalised = _normalise(code)
    step = _matching_step(secret, normalised, user.totp_last_step) if secret else None
    if step is not None:
        # Conditional, so two requests racing with the same code cannot both pass.
        result = db.session.execute(
            update(User)
            .where(
                User.id == user.id,
                or_(User.totp_last_step.is_(None), User.totp_last_step < step),
            )
            .values(totp_last_step=step)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            user.totp_last_step = step
            return "totp"
    elif len(normalised) == 16 and _use_recovery_code(user, normalised):
        left = recovery_codes_left(user)
        audit.record(
            "recovery_code_used", user, actor=user, details={"purpose": purpose, "left": left}
        )
        _notify(user, "recovery_code_used", left)
        return "recovery"
    audit.record("two_factor_failed", user, actor=user, details={"purpose": purpose})
    return None


def require_code(user: User, code: str, *, purpose: str, field: str = "code") -> None:
    """Raise a form error unless ``code`` is good (for re-authentication before signing)."""
    if not user.has_two_factor:
        return
    if not _normalise(code):
        raise ServiceError(_l("Enter the code from your authenticator app."), field=field)
    if check_code(user, code, purpose=purpose) is None:
        raise ServiceError(
            _l("This code is not right or has already been used. Wait for the next one."),
            field=field,
        )


# --- enrolment and changes -------------------------------------------------------------------


def enable(user: User, secret: str, code: str) -> list[str]:
    """Turn the second factor on once the user proves their app has ``secret``; returns the ten
    recovery codes (shown once)."""
    if user.has_two_factor:
        raise StateConflict(_l("Two-step sign-in is already on for this account."))
    if not _is_base32(secret):
        raise ServiceError(_l("Start the set-up again."), field="code")
    step = _matching_step(secret, _normalise(code), None)
    if step is None:
        audit.record("two_factor_failed", user, actor=user, details={"purpose": "enrolment"})
        raise ServiceError(
            _l("This code is not right. Check the time on your phone and try the next code."),
            field="code",
        )
    user.totp_secret = _encrypt(secret)
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    codes = _new_recovery_codes(user)
    audit.record("two_factor_enabled", user, actor=user)
    _notify(user, "enabled", len(codes))
    return codes


def regenerate_recovery_codes(user: User, code: str) -> list[str]:
    """Ten fresh recovery codes for the current code; the old ones stop working."""
    if not user.has_two_factor:
        raise StateConflict(_l("Two-step sign-in is not on for this account."))
    require_code(user, code, purpose="recovery_codes")
    codes = _new_recovery_codes(user)
    audit.record("recovery_codes_renewed", user, actor=user)
    _notify(user, "recovery_codes_renewed", len(codes))
    return codes


def _turn_off(user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def disable(user: User, password: str, code: str) -> None:
    """A delegate turns the second factor off (password and a code); staff may not."""
    if not user.has_two_factor:
        raise StateConflict(_l("Two-step sign-in is not on for this account."))
    if user.is_staff:
        raise PermissionDenied(
            _l("Secretariat and administrator accounts must keep two-step sign-in.")
        )
    if not verify_password(user.password_hash, password or ""):
        audit.record("two_factor_failed", user, actor=user, details={"purpose": "disable"})
        raise ServiceError(_l("Your password is not right."), field="password")
    require_code(user, code, purpose="disable")
    _turn_off(user)
    audit.record("two_factor_disabled", user, actor=user)
    _notify(user, "disabled", 0)


def reset(actor: User | None, user: User, reason: str) -> None:
    """An administrator (or the operator's command line, ``actor`` None) clears a user's second
    factor after the device and the recovery codes are lost; the user enrols again."""
    if actor is not None and not actor.is_admin:
        raise PermissionDenied(_l("Only an administrator can do this."))
    if not reason.strip():
        raise ServiceError(_l("Give a reason."), field="reason")
    if not user.has_two_factor:
        raise StateConflict(_l("Two-step sign-in is not on for this account."))
    _turn_off(user)
    user.session_version += 1  # sign the account out everywhere
    audit.record("two_factor_reset", user, actor=actor, reason=reason)
    _notify(user, "reset", 0)
