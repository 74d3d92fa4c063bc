"""What every page shares: template helpers, the language in use, view decorators."""

from __future__ import annotations

from functools import wraps

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import format_date, format_datetime
from flask_login import current_user

from cacnet.core.db import db
from cacnet.core.errors import PermissionDenied, ServiceError
from cacnet.core.i18n import LANGUAGE_NAMES, country_name, current_language


def staff_required(view):
    """Signed-in secretariat (or admin) users only; others are sent to sign in or get a 403.

    This guards the page; the service functions check the role again for every change.
    """

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()
        if not current_user.is_secretariat:
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def city_member_required(view):
    """Signed-in delegates of a city (any membership state: suspended cities may still look)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()
        if current_user.city_id is None:
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def members_only(message):
    """A view for what the members share (the exchange, alerts): delegates of member cities and
    the secretariat; others are sent to sign in or get a 403 with ``message``. The service
    functions check again."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            from cacnet.core.permissions import is_network_member

            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            if not is_network_member(current_user):
                raise PermissionDenied(message)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def show_service_error(form, error: ServiceError) -> None:
    """Put a refused request's message on its form field (or flash it); a permission refusal is
    not a form problem, so it propagates and the visitor gets the 403 page."""
    db.session.rollback()
    if isinstance(error, PermissionDenied):
        raise error
    field = getattr(form, error.field, None) if (form is not None and error.field) else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        flash(str(error.message), "error")


def redirect_back(default_endpoint: str, **values):
    from cacnet.core.security import is_safe_redirect

    target = request.args.get("next") or request.form.get("next")
    if is_safe_redirect(target):
        return redirect(target)
    return redirect(url_for(default_endpoint, **values))


def init_app(app) -> None:
    app.jinja_env.globals.update(
        LANGUAGE_NAMES=LANGUAGE_NAMES,
        current_language=current_language,
        country_name=country_name,
    )
    app.jinja_env.filters["date"] = lambda value, fmt="medium": (
        format_date(value, fmt) if value else ""
    )
    app.jinja_env.filters["datetime"] = lambda value, fmt="medium": (
        format_datetime(value, fmt) if value else ""
    )
    from cacnet.core.text import plain_with_links

    app.jinja_env.filters["plain_with_links"] = plain_with_links
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
