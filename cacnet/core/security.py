"""Password hashing and policy, safe redirects."""

from __future__ import annotations

import contextlib
import re
from urllib.parse import urljoin, urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import request
from flask_babel import lazy_gettext as _l
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256

_hasher = PasswordHasher()
_COMMON_PASSWORDS = frozenset(FREQUENCY_LISTS["passwords"])
# A hash to verify against when no account matches, so a login takes as long either way.
_DUMMY_HASH = _hasher.hash("cacnet-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        _burn(password)
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _burn(password: str) -> None:
    with contextlib.suppress(VerificationError):
        _hasher.verify(_DUMMY_HASH, password)


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


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
    """Only paths on this site: no scheme, no other host, no protocol-relative ``//host``."""
    if not target:
        return False
    if "\\" in target or any(ord(c) < 32 for c in target):
        return False
    host_url = request.host_url
    joined = urlsplit(urljoin(host_url, target))
    return joined.scheme in ("http", "https") and joined.netloc == urlsplit(host_url).netloc
