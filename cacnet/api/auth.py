"""Who calls the API: a personal token in ``Authorization: Bearer …``, and nothing else.

Session and remember-me cookies are ignored entirely (the blueprint is exempt from CSRF checks
because a cookie can never authorize anything here, so a page on another site cannot make a
signed-in browser write). The authenticated token and its owner are ``g.api_token`` and
``g.api_user``; the service functions then check the owner as they check a signed-in user.
"""

from __future__ import annotations

from functools import wraps

from flask import current_app, g, has_request_context, request
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address

from cacnet.accounts import api_tokens
from cacnet.accounts.api_tokens import Authentication, Refusal
from cacnet.api.errors import error_response, in_english
from cacnet.core import audit
from cacnet.core.db import db
from cacnet.extensions import limiter

REALM = 'Bearer realm="cacnet"'


def presented_token() -> str | None:
    """The bearer token of the request, if it sent one."""
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def authentication() -> Authentication | None:
    """The outcome of the request's token (None without one), worked out once per request."""
    if "api_auth" not in g:
        presented = presented_token()
        g.api_auth = api_tokens.authenticate(presented) if presented is not None else None
    return g.api_auth


# --- rate limits -------------------------------------------------------------------------------


def _token_limit() -> str:
    if has_request_context():
        found = authentication()
        if found is not None and found.ok:
            return current_app.config["API_LIMIT_TOKEN"]
    return current_app.config["API_LIMIT_PUBLIC"]


def _token_key() -> str:
    found = authentication()
    if found is not None and found.ok:
        return f"api-token:{found.token.id}"
    return f"api-anonymous:{get_remote_address()}"


# One budget per client address across the public endpoints, one per token across the others
# (a request without a valid token counts against its address, at the public rate).
public_limit = limiter.shared_limit(
    lambda: current_app.config["API_LIMIT_PUBLIC"], scope="api-public"
)
token_limit = limiter.shared_limit(_token_limit, scope="api-token", key_func=_token_key)


# --- the guard ---------------------------------------------------------------------------------

REFUSAL_MESSAGES = {
    Refusal.UNKNOWN: lambda: _("This API token is not valid."),
    Refusal.EXPIRED: lambda: _(
        "This API token has expired; create a new one on your account page."
    ),
    Refusal.REVOKED: lambda: _("This API token has been revoked."),
    Refusal.ACCOUNT_DISABLED: lambda: _("This API token's account is disabled."),
}


def _refused(found: Authentication):
    if found.refusal == Refusal.TWO_FACTOR_REQUIRED:
        message = _("Your account must set up two-step sign-in before its API tokens can be used.")
        return error_response(403, "two_factor_required", message)
    return error_response(
        401,
        "unauthorized",
        REFUSAL_MESSAGES[found.refusal](),
        headers={"WWW-Authenticate": f'{REALM}, error="invalid_token"'},
    )


def token_required(*, write: bool = False):
    """The view needs a live token (``write``: one with the write scope). Refusals are answered
    here, and audited when a token was presented; the per-token rate limit applies."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            found = authentication()
            if found is None:
                return error_response(
                    401,
                    "unauthorized",
                    _("Send a personal API token in the header Authorization: Bearer <token>."),
                    headers={"WWW-Authenticate": REALM},
                )
            db.session.commit()  # the note of the token's use, or the audit of its refusal
            if not found.ok:
                return _refused(found)
            g.api_token, g.api_user = found.token, found.token.user
            if write and not found.token.can_write:
                audit.record(
                    "api_scope_refused",
                    found.token,
                    actor=g.api_user,
                    reason="read token used to write",
                    details={
                        "endpoint": request.endpoint,
                        "method": request.method,
                        "path": request.path,
                    },
                )
                db.session.commit()
                return error_response(
                    403,
                    "insufficient_scope",
                    _("This token may only read. Create a token with write access to do this."),
                    headers={
                        "WWW-Authenticate": f'{REALM}, error="insufficient_scope", scope="write"'
                    },
                )
            return view(*args, **kwargs)

        return token_limit(wrapper)

    return decorator


def record_refusal(error, target=None) -> None:
    """Audit a service's refusal of the token's owner (another city's post, a suspended city…),
    after the request's changes were rolled back. The caller commits."""
    audit.record(
        "api_request_refused",
        target,
        actor=g.get("api_user"),
        object_type=None if target is not None else "system",
        reason=in_english(error.message),
        details={
            "endpoint": request.endpoint,
            "method": request.method,
            "path": request.path,
            "token_id": getattr(g.get("api_token"), "id", None),
        },
    )
