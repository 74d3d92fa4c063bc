"""Role checks shared by every service function."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from cacnet.core.errors import PermissionDenied


def require_secretariat(actor) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_secretariat:
        raise PermissionDenied(_l("Only the secretariat can do this."))


def require_admin(actor) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_admin:
        raise PermissionDenied(_l("Only an administrator can do this."))


def require_city_admin(actor) -> None:
    """A city admin of a city that is currently an approved member."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_city_admin:
        raise PermissionDenied(_l("Only your city's administrators can do this."))
    if not actor.acts_for_active_city:
        raise PermissionDenied(
            _l("Your city's membership is not active, so you cannot act for the city.")
        )
