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


def is_network_member(viewer) -> bool:
    """Delegates of a current member city (approved or suspended) and the secretariat: who may see
    what the members share among themselves (the resource exchange, alerts)."""
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return False
    if viewer.is_secretariat:
        return True
    return viewer.city is not None and viewer.city.active_membership is not None


def require_network_member(viewer, message) -> None:
    if not is_network_member(viewer):
        raise PermissionDenied(message)


def require_acting_delegate(actor, member_message, no_city_message) -> None:
    """Acting for a city (posting, raising an alert, acknowledging) needs a delegate of a city
    whose membership is approved; a suspended city's delegates may only look."""
    require_network_member(actor, member_message)
    if actor.city is None:
        raise PermissionDenied(no_city_message)
    if not actor.acts_for_active_city:
        raise PermissionDenied(
            _l("Your city's membership is not active, so you cannot act for the city.")
        )
