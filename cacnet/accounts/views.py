"""Sign-in, sign-out, password reset, the account page, the city's colleagues and invitations."""

from __future__ import annotations

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
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from cacnet.accounts import services
from cacnet.accounts.forms import (
    ConfirmForm,
    InvitationAcceptForm,
    InvitationCreateForm,
    LoginForm,
    PasswordChangeForm,
    PasswordResetForm,
    PasswordResetRequestForm,
    ProfileForm,
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
    if user.is_secretariat:
        return url_for("membership.queue")
    return url_for("accounts.account")


def _start_session(user: User, remember: bool) -> None:
    # A new session at sign-in (no fixation); only the chosen language survives.
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    login_user(user, remember=remember)
    services.record_login(user)


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
            _start_session(user, bool(form.remember.data))
            db.session.commit()
            flash(_("Welcome, %(name)s.", name=user.name), "success")
            target = form.next.data
            return redirect(target if is_safe_redirect(target) else _landing_for(user))
        db.session.commit()  # keep the audit record of the failed attempt
        flash(_("The e-mail address or password is not right."), "error")
    return render_template("accounts/login.html", form=form)


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
