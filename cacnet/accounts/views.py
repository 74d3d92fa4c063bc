"""Sign-in, sign-out, password reset, the account page, the city's colleagues and invitations."""

from __future__ import annotations

import time

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from cacnet.accounts import services
from cacnet.accounts import two_factor as second_factor
from cacnet.accounts.forms import (
    ConfirmForm,
    InvitationAcceptForm,
    InvitationCreateForm,
    LoginForm,
    PasswordChangeForm,
    PasswordResetForm,
    PasswordResetRequestForm,
    ProfileForm,
    TwoFactorCodeForm,
    TwoFactorDisableForm,
    TwoFactorForm,
    TwoFactorSetupForm,
)
from cacnet.accounts.models import Invitation, User, UserRole
from cacnet.core.db import db, utcnow
from cacnet.core.errors import ServiceError
from cacnet.core.security import is_safe_redirect
from cacnet.core.web import city_member_required, show_service_error
from cacnet.extensions import limiter

bp = Blueprint("accounts", __name__)


def _failed(response) -> bool:
    """Count only attempts that did not sign in (or send a reset) toward the limits."""
    return response.status_code != 302


def _form_email_key() -> str:
    return "account:" + services.normalise_email(request.form.get("email", ""))


def _landing_for(user: User) -> str:
    if user.needs_two_factor_enrolment:
        return url_for("accounts.two_factor_setup")
    if user.is_secretariat:
        return url_for("membership.queue")
    return url_for("accounts.account")


def _fresh_session() -> None:
    """Drop everything in the session (no fixation) but the chosen language."""
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale


def _start_session(user: User, remember: bool, method: str = "password") -> None:
    from cacnet.accounts import oidc

    pending_identity = session.get(oidc.PENDING_KEY)
    _fresh_session()
    if pending_identity:
        session[oidc.PENDING_KEY] = pending_identity
    login_user(user, remember=remember)
    services.record_login(user, method)
    oidc.link_pending_identity(user)  # an OpenID identity waiting to be linked, now proven


# Between the password (or an OpenID provider) and the second factor: who, for how long.
PENDING_KEY = "two_factor_pending"
PENDING_SECONDS = 300


def begin_sign_in(user: User, *, remember: bool, next_url: str | None, method: str):
    """Finish a first-factor sign-in (password or OpenID Connect): start the session, or, when
    the account has a second factor, remember who is half-way and ask for the code. Commits."""
    target = next_url if is_safe_redirect(next_url) else None
    if user.has_two_factor:
        from cacnet.accounts.oidc import PENDING_KEY as IDENTITY_KEY

        pending_identity = session.get(IDENTITY_KEY)
        _fresh_session()
        if pending_identity:
            session[IDENTITY_KEY] = pending_identity  # linked once the second step passes
        session[PENDING_KEY] = {
            "user": user.get_id(),
            "remember": remember,
            "next": target,
            "method": method,
            "at": int(time.time()),
        }
        db.session.commit()
        return redirect(url_for("accounts.two_factor"))
    _start_session(user, remember, method)
    db.session.commit()
    flash(_("Welcome, %(name)s.", name=user.name), "success")
    if user.needs_two_factor_enrolment:
        flash(
            _(
                "Secretariat and administrator accounts need two-step sign-in. Set it up now "
                "to continue."
            ),
            "info",
        )
    return redirect(target or _landing_for(user))


def _pending_user() -> tuple[User | None, dict]:
    pending = session.get(PENDING_KEY) or {}
    if not pending or int(time.time()) - int(pending.get("at", 0)) > PENDING_SECONDS:
        return None, {}
    user_id, _sep, version = str(pending.get("user", "")).partition(":")
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or not user.is_active or str(user.session_version) != version:
        return None, {}
    return user, pending


def _pending_key() -> str:
    return "two-factor:" + str((session.get(PENDING_KEY) or {}).get("user", request.remote_addr))


@bp.route("/auth/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"], deduct_when=_failed
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_form_email_key,
    methods=["POST"],
    deduct_when=_failed,
)
def login():
    if current_user.is_authenticated:
        return redirect(_landing_for(current_user))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is not None:
            return begin_sign_in(
                user, remember=bool(form.remember.data), next_url=form.next.data, method="password"
            )
        db.session.commit()  # keep the audit record of the failed attempt
        flash(_("The e-mail address or password is not right."), "error")
    return render_template("accounts/login.html", form=form)


@bp.route("/auth/two-factor", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_pending_key,
    methods=["POST"],
    deduct_when=_failed,
)
def two_factor():
    """The second step of signing in: a code from the app, or a recovery code."""
    if current_user.is_authenticated:
        return redirect(_landing_for(current_user))
    user, pending = _pending_user()
    if user is None:
        session.pop(PENDING_KEY, None)
        flash(_("Sign in again: the second step waits five minutes at most."), "info")
        return redirect(url_for("accounts.login"))
    form = TwoFactorForm()
    if form.validate_on_submit():
        kind = second_factor.check_code(user, form.code.data)
        if kind is not None:
            _start_session(user, bool(pending.get("remember")), pending.get("method", "password"))
            db.session.commit()
            flash(_("Welcome, %(name)s.", name=user.name), "success")
            if kind == "recovery":
                left = second_factor.recovery_codes_left(user)
                flash(
                    ngettext(
                        "You used a recovery code. %(num)d is left.",
                        "You used a recovery code. %(num)d are left.",
                        left,
                    ),
                    "warning" if left < 4 else "info",
                )
            return redirect(pending.get("next") or _landing_for(user))
        db.session.commit()  # keep the audit record of the failed attempt
        form.code.errors = [
            _("This code is not right or has already been used. Wait for the next one.")
        ]
    return render_template("accounts/two_factor.html", form=form)


@bp.route("/auth/logout", methods=["GET", "POST"])
def logout():
    form = ConfirmForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        logout_user()
        locale = session.get("locale")
        session.clear()
        if locale:
            session["locale"] = locale
        flash(_("You are signed out."), "info")
        return redirect(url_for("core.home"))
    return render_template("accounts/logout.html", form=form)


@bp.route("/auth/reset", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RESET_LIMIT_PER_IP"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["RESET_LIMIT_PER_ACCOUNT"],
    key_func=_form_email_key,
    methods=["POST"],
)
def request_reset():
    form = PasswordResetRequestForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        db.session.commit()
        # The same answer whether or not the address has an account.
        flash(
            _(
                "If an account uses this address, we have sent it a link to choose a new "
                "password. Check your inbox."
            ),
            "info",
        )
        return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_request.html", form=form)


@bp.route("/auth/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    from cacnet.accounts.models import TokenPurpose

    if services.find_token(token, TokenPurpose.RESET_PASSWORD) is None:
        return render_template("accounts/link_invalid.html"), 404
    form = PasswordResetForm()
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.password.data)
        except ServiceError as error:
            show_service_error(form, error)
        else:
            db.session.commit()
            logout_user()
            flash(_("Your password has been changed. Sign in with the new one."), "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_password.html", form=form)


@bp.route("/account/", methods=["GET", "POST"])
@login_required
def account():
    from cacnet.membership.models import Membership

    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        try:
            services.update_profile(
                current_user, name=form.name.data, title=form.title.data, locale=form.locale.data
            )
        except ServiceError as error:
            show_service_error(form, error)
        else:
            db.session.commit()
            session["locale"] = current_user.locale
            flash(_("Your profile has been saved."), "success")
            return redirect(url_for("accounts.account"))
    applications = db.session.scalars(
        select(Membership)
        .where(Membership.applicant_id == current_user.id)
        .order_by(Membership.created_at.desc())
    ).all()
    return render_template("accounts/account.html", form=form, applications=applications)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current_password.data, form.password.data)
        except ServiceError as error:
            show_service_error(form, error)
        else:
            db.session.commit()
            # The session version changed: sign in again here, keeping this device signed in.
            login_user(current_user._get_current_object(), remember=False)
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("accounts.account"))
    return render_template("accounts/change_password.html", form=form)


@bp.route("/account/city", methods=["GET", "POST"])
@city_member_required
def city_team():
    city = current_user.city
    form = InvitationCreateForm(locale=current_user.locale)
    if form.validate_on_submit():
        try:
            invitation = services.invite_colleague(
                current_user, form.email.data, UserRole(form.role.data), form.locale.data
            )
        except ServiceError as error:
            show_service_error(form, error)
        else:
            db.session.commit()
            flash(_("We have sent an invitation to %(email)s.", email=invitation.email), "success")
            return redirect(url_for("accounts.city_team"))
    elif request.method == "POST" and not current_user.is_city_admin:
        abort(403)
    colleagues = db.session.scalars(
        select(User).where(User.city_id == city.id).order_by(User.name)
    ).all()
    invitations = db.session.scalars(
        select(Invitation)
        .where(
            Invitation.city_id == city.id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > utcnow(),
        )
        .order_by(Invitation.created_at.desc())
    ).all()
    return render_template(
        "accounts/city_team.html",
        city=city,
        form=form,
        colleagues=colleagues,
        invitations=invitations,
        revoke_form=ConfirmForm(),
    )


@bp.post("/account/city/invitations/<int:invitation_id>/revoke")
@city_member_required
def revoke_invitation(invitation_id: int):
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None:
        abort(404)
    try:
        services.revoke_invitation(current_user, invitation)
    except ServiceError as error:
        show_service_error(None, error)
    else:
        db.session.commit()
        flash(_("The invitation has been withdrawn."), "success")
    return redirect(url_for("accounts.city_team"))


@bp.route("/auth/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    invitation = services.find_invitation(token)
    if invitation is None:
        return render_template("accounts/link_invalid.html"), 404
    if current_user.is_authenticated:
        flash(_("Sign out first to accept an invitation for another account."), "info")
        return redirect(url_for("accounts.account"))
    form = InvitationAcceptForm()
    if form.validate_on_submit():
        try:
            user = services.accept_invitation(
                token,
                name=form.name.data,
                title=form.title.data or "",
                password=form.password.data,
                locale=invitation.locale,
            )
        except ServiceError as error:
            show_service_error(form, error)
        else:
            _start_session(user, remember=False)
            db.session.commit()
            flash(_("Welcome to the delegation of %(city)s.", city=user.city.name_en), "success")
            return redirect(url_for("accounts.city_team"))
    return render_template("accounts/accept_invitation.html", form=form, invitation=invitation)


# --- two-step sign-in settings -----------------------------------------------------------------

SETUP_KEY = "two_factor_setup_secret"
CODES_KEY = "two_factor_new_codes"


@bp.route("/account/two-factor")
@login_required
def two_factor_settings():
    if not current_user.has_two_factor:
        return redirect(url_for("accounts.two_factor_setup"))
    return render_template(
        "accounts/two_factor_settings.html",
        left=second_factor.recovery_codes_left(current_user),
        codes_form=TwoFactorCodeForm(prefix="codes"),
        disable_form=TwoFactorDisableForm(prefix="disable"),
    )


@bp.route("/account/two-factor/setup", methods=["GET", "POST"])
@login_required
def two_factor_setup():
    """Scan the QR code (or type the key), confirm with a code, receive ten recovery codes."""
    if current_user.has_two_factor:
        return redirect(url_for("accounts.two_factor_settings"))
    secret = session.get(SETUP_KEY)
    if not secret:
        secret = session[SETUP_KEY] = second_factor.new_secret()
    form = TwoFactorSetupForm()
    if form.validate_on_submit():
        try:
            codes = second_factor.enable(current_user, secret, form.code.data)
        except ServiceError as error:
            db.session.commit()  # keep the audit record
            show_service_error(form, error)
        else:
            db.session.commit()
            session.pop(SETUP_KEY, None)
            session[CODES_KEY] = codes
            flash(_("Two-step sign-in is on."), "success")
            return redirect(url_for("accounts.recovery_codes"))
    uri = second_factor.provisioning_uri(current_user, secret)
    return render_template(
        "accounts/two_factor_setup.html",
        form=form,
        qr=second_factor.qr_svg_data_uri(uri),
        secret=second_factor.grouped(secret),
    )


@bp.route("/account/two-factor/recovery-codes")
@login_required
def recovery_codes():
    """The new recovery codes, shown once: the page forgets them as it shows them."""
    codes = session.pop(CODES_KEY, None)
    if not codes:
        return redirect(url_for("accounts.two_factor_settings"))
    response = current_app.make_response(
        render_template("accounts/recovery_codes.html", codes=codes)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/account/two-factor/recovery-codes")
@login_required
def renew_recovery_codes():
    form = TwoFactorCodeForm(prefix="codes")
    if form.validate_on_submit():
        try:
            codes = second_factor.regenerate_recovery_codes(current_user, form.code.data)
        except ServiceError as error:
            db.session.commit()
            show_service_error(None, error)
        else:
            db.session.commit()
            session[CODES_KEY] = codes
            return redirect(url_for("accounts.recovery_codes"))
    else:
        flash(_("Enter the code from your authenticator app."), "error")
    return redirect(url_for("accounts.two_factor_settings"))


@bp.post("/account/two-factor/disable")
@login_required
def disable_two_factor():
    form = TwoFactorDisableForm(prefix="disable")
    if form.validate_on_submit():
        try:
            second_factor.disable(current_user, form.password.data, form.code.data)
        except ServiceError as error:
            db.session.commit()
            show_service_error(None, error)
        else:
            db.session.commit()
            flash(_("Two-step sign-in is off."), "success")
            return redirect(url_for("accounts.account"))
    else:
        flash(_("Enter your password and a code."), "error")
    return redirect(url_for("accounts.two_factor_settings"))


# Where a secretariat or admin account without a second factor may go: enrolment, and out.
ENROLMENT_ENDPOINTS = frozenset(
    {
        "accounts.two_factor_setup",
        "accounts.recovery_codes",
        "accounts.logout",
        "core.set_language",
        "static",
    }
)


@bp.before_app_request
def enrolment_guard():
    """Secretariat and admin accounts can do nothing but enrol until they have a second factor.

    Checked for every request of a signed-in visitor (the API authenticates by token and checks
    the same property there); anonymous visitors without cookies are not loaded at all.
    """
    if (
        "_user_id" not in session
        and current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") not in request.cookies
    ):
        return None
    if request.endpoint in ENROLMENT_ENDPOINTS or request.path.startswith("/api/"):
        return None
    if not current_user.is_authenticated or not current_user.needs_two_factor_enrolment:
        return None
    if request.method == "GET":
        return redirect(url_for("accounts.two_factor_setup"))
    abort(403)


ROLE_LABELS = {
    UserRole.DELEGATE: _l("Delegate"),
    UserRole.CITY_ADMIN: _l("City administrator"),
    UserRole.SECRETARIAT: _l("Secretariat"),
    UserRole.ADMIN: _l("Administrator"),
}


def role_label(user: User) -> str:
    label = str(ROLE_LABELS[user.role])
    if user.is_signatory:
        label += " · " + _("Signatory")
    return label


@bp.app_context_processor
def _template_helpers():
    return {"role_label": role_label}
