"""Friendly error pages in the visitor's language; never a traceback."""

from __future__ import annotations

import math
import time

from flask import jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from cacnet.core.db import db
from cacnet.core.errors import PermissionDenied

MESSAGES = {
    400: (
        _l("Bad request"),
        _l("We could not understand this request. Please go back and try again."),
    ),
    403: (_l("Not allowed"), _l("Your account may not open this page or do this action.")),
    404: (
        _l("Page not found"),
        _l("There is no page at this address. It may have moved or never existed."),
    ),
    405: (_l("Not allowed"), _l("This page cannot be used this way.")),
    413: (_l("Too large"), _l("What you sent is too large. Files may be at most 10 MB.")),
    429: (_l("Too many attempts"), _l("Please wait a little before you try again.")),
    500: (
        _l("Something went wrong"),
        _l("An error occurred on our side. It has been logged; please try again later."),
    ),
    503: (
        _l("Temporarily unavailable"),
        _l("The service is briefly unavailable. Please try again in a few minutes."),
    ),
}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or (request.accept_mimetypes.best == "application/json")


JSON_CODES = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
              413: "too_large", 429: "rate_limited", 500: "server_error", 503: "unavailable"}  # fmt: skip


def render_error(code: int, detail: str | None = None):
    title, message = MESSAGES.get(code, MESSAGES[500])
    if _wants_json():
        body = {
            "code": JSON_CODES.get(code, str(code)),
            "message": str(detail or message),
            "fields": {},
        }
        return jsonify(error=body), code
    return render_template(
        "core/error.html", code=code, title=title, message=detail or message
    ), code


def _retry_after() -> int:
    """Seconds until the breached rate limit's window resets (Flask-Limiter's own reckoning,
    which it also writes into Retry-After when its headers are on); 60 when no limit is known."""
    from cacnet.extensions import limiter

    limit = limiter.current_limit
    if limit is None:
        return 60
    return max(1, math.ceil(limit.reset_at - time.time()))


def init_app(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(
            400,
            _l(
                "This form has expired or was not sent from our site. Reload the page and try again."
            ),
        )

    @app.errorhandler(PermissionDenied)
    def permission_denied(error):
        return render_error(403, error.message)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code in (301, 302, 303, 307, 308) or error.code is None:
            return error
        response = render_error(error.code if error.code in MESSAGES else 400)
        if error.code == 429:
            body, status = response
            return body, status, {"Retry-After": str(_retry_after())}
        return response

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError):
        # The database is down or unreachable: a temporary condition, not a bug in the page.
        db.session.rollback()
        app.logger.error("database unavailable on %s %s: %s", request.method, request.path, error)
        return render_error(503)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        # Leave the session usable for the error page, log the traceback, show none of it.
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(500)

    @app.errorhandler(InternalServerError)
    def internal_error(error):
        db.session.rollback()
        return render_error(500)
