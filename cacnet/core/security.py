"""Password hashing and policy, safe redirects."""

from __future__ import annotations

import contextlib
import re
from functools import cache
from urllib.parse import urlsplit

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import lazy_gettext as _l
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256

_COMMON_PASSWORDS = frozenset(FREQUENCY_LISTS["passwords"])


@cache
def _hasher_for(profile: str) -> tuple[PasswordHasher, str]:
    """The hasher for an argon2-cffi profile name, and a dummy hash made with it."""
    hasher = PasswordHasher.from_parameters(getattr(profiles, profile))
    return hasher, hasher.hash("cacnet-timing-equaliser")


def _hasher() -> tuple[PasswordHasher, str]:
    # RFC 9106's low-memory profile in production; tests choose CHEAPEST to stay fast.
    profile = (
        current_app.config.get("ARGON2_PROFILE", "RFC_9106_LOW_MEMORY")
        if current_app
        else "RFC_9106_LOW_MEMORY"
    )
    return _hasher_for(profile)


def hash_password(password: str) -> str:
    return _hasher()[0].hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    hasher, dummy = _hasher()
    if not password_hash:
        # Verify against a dummy so a login takes as long whether or not the account exists.
        with contextlib.suppress(VerificationError):
            hasher.verify(dummy, password)
        return False
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher()[0].check_needs_rehash(password_hash)


def _personal_words(email: str, names: list[str]) -> list[str]:
    words: list[str] = []
    local, _, domain = email.lower().partition("@")
    words += [local, *re.split(r"[._+\-]", local), *domain.split(".")[:-1]]
    for name in names:
        words += [name.lower(), *re.split(r"[\s\-']+", name.lower())]
    return [w for w in {w.strip() for w in words} if len(w) >= 4]


def password_problems(password: str, email: str = "", names: list[str] | None = None) -> list:
    """What is wrong with a new password, as messages for the user (empty when it is fine).

    Length 12 to 256; not one of the 30,000 most common passwords (zxcvbn's list); not built on
    the user's e-mail address or city name; and not otherwise easy to guess (zxcvbn score >= 3).
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return [_l("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)]
    if len(password) > MAX_PASSWORD_LENGTH:
        return [_l("Use at most %(n)d characters.", n=MAX_PASSWORD_LENGTH)]
    lowered = password.lower()
    stripped = re.sub(r"[\d\W_]+$", "", re.sub(r"^[\d\W_]+", "", lowered))
    if lowered in _COMMON_PASSWORDS or (len(stripped) >= 6 and stripped in _COMMON_PASSWORDS):
        return [_l("This password is one of the most common ones. Choose another.")]
    personal = _personal_words(email, names or [])
    if any(word in lowered for word in personal):
        return [_l("Do not build the password from your e-mail address or city name.")]
    # zxcvbn is slow on very long inputs and long passwords are strong anyway.
    if zxcvbn(password[:64], user_inputs=personal)["score"] < 3:
        return [_l("This password is too easy to guess. Add more words or characters.")]
    return []


def is_safe_redirect(target: str | None) -> bool:
    """Only a path on this site: ``/…``; no scheme, no host, no ``//host`` or ``/\\host`` tricks."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return False
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc
