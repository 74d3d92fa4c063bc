"""Signing in with an OpenID Connect provider, and the page of a user's linked identities."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from cacnet.accounts import oidc
from cacnet.accounts.forms import ConfirmForm, LoginForm
from cacnet.accounts.models import OidcIdentity
from cacnet.accounts.views import begin_sign_in
from cacnet.core.db import db
from cacnet.core.errors import ServiceError
from cacnet.core.security import is_safe_redirect
from cacnet.core.web import show_service_error
from cacnet.extensions import limiter

bp = Blueprint("oidc", __name__)


def _provider_or_404(name: str) -> oidc.OidcProvider:
    provider = oidc.get_provider(name)
    if provider is None:
        abort(404)
    return provider


def _refused(provider: oidc.OidcProvider, refusal: oidc.SignInRefused):
    """Store nothing but the audit record, say why, and go back where the attempt started."""
    db.session.rollback()
    oidc.record_refusal(provider, refusal)
    db.session.commit()
    flash(refusal.message, "error")
    if current_user.is_authenticated:
        return redirect(url_for("oidc.identities"))
    return redirect(url_for("accounts.login"))


@bp.get("/auth/oidc/<name>")
def start(name: str):
    provider = _provider_or_404(name)
    next_url = request.args.get("next")
    # The callback must match the one registered at the provider to the letter; behind a load
    # balancer that ends TLS the request looks like http, so an https BASE_URL decides the scheme.
    scheme = "https" if current_app.config["BASE_URL"].startswith("https://") else None
    callback = url_for("oidc.callback", name=provider.name, _external=True, _scheme=scheme)
    try:
        return oidc.authorize_redirect(
            provider, callback, next_url if is_safe_redirect(next_url) else None
        )
    except oidc.SignInRefused as refusal:
        return _refused(provider, refusal)


def _was_refused(response) -> bool:
    return response.headers.get("Location", "").endswith(("/auth/login", "/account/identities"))


@bp.get("/auth/oidc/<name>/callback")
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], deduct_when=_was_refused)
def callback(name: str):
    provider = _provider_or_404(name)
    next_url = oidc.take_next_url()
    try:
        claims = oidc.fetch_verified_claims(provider)
        if current_user.is_authenticated:
            identity = oidc.link_to_signed_in_user(provider, current_user, claims)
            db.session.commit()
            if identity is None:
                flash(_("This %(provider)s account is linked already.", provider=provider.title))
            else:
                flash(
                    _("Your %(provider)s account is now linked.", provider=provider.title),
                    "success",
                )
            return redirect(url_for("oidc.identities"))
        outcome = oidc.complete_sign_in(provider, claims)
    except oidc.SignInRefused as refusal:
        return _refused(provider, refusal)
    except ServiceError as error:  # linked by a simultaneous request: try again
        show_service_error(None, error)
        return redirect(url_for("accounts.login"))
    if outcome.user is not None:
        response = begin_sign_in(
            outcome.user, remember=False, next_url=next_url, method=f"oidc:{provider.name}"
        )
        if outcome.linked:  # after begin_sign_in, which renews the session (and its messages)
            flash(
                _(
                    "Your %(provider)s account is now linked to your cacnet account.",
                    provider=provider.title,
                ),
                "success",
            )
        return response
    db.session.commit()  # the audit record of an unverified e-mail, if any
    if outcome.unverified_email:
        flash(
            _(
                "%(provider)s has not confirmed that this e-mail address is yours, so we cannot "
                "link your accounts on its word. Sign in with your password once to link them.",
                provider=provider.title,
            ),
            "warning",
        )
    return redirect(url_for("oidc.pending"))


@bp.get("/auth/oidc/continue")
def pending():
    """The next step for a verified identity that is linked to no account yet."""
    if current_user.is_authenticated:
        return redirect(url_for("oidc.identities"))
    identity = oidc.pending_identity()
    if identity is None:
        flash(_("Your sign-in with the provider has expired. Please start again."), "info")
        return redirect(url_for("accounts.login"))
    from cacnet.accounts.services import get_user_by_email

    account_exists = bool(identity.email) and get_user_by_email(identity.email) is not None
    form = LoginForm(email=identity.email if account_exists else "")
    return render_template(
        "accounts/oidc_continue.html",
        identity=identity,
        account_exists=account_exists,
        form=form,
    )


@bp.get("/account/identities")
@login_required
def identities():
    return render_template(
        "accounts/identities.html",
        identities=oidc.identities_of(current_user),
        providers=oidc.providers(),
        provider_title=oidc.provider_title,
        form=ConfirmForm(),
    )


@bp.post("/account/identities/<int:identity_id>/unlink")
@login_required
def unlink(identity_id: int):
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    identity = db.session.get(OidcIdentity, identity_id)
    if identity is None or identity.user_id != current_user.id:
        abort(404)
    title = oidc.provider_title(identity.provider)
    try:
        oidc.unlink_identity(current_user, identity)
    except ServiceError as error:
        show_service_error(None, error)
    else:
        db.session.commit()
        flash(_("Your %(provider)s account is no longer linked.", provider=title), "success")
    return redirect(url_for("oidc.identities"))


@bp.app_context_processor
def _template_helpers():
    return {
        "oidc_providers": oidc.providers,
        "oidc_pending_identity": oidc.pending_identity,
    }
