"""The application form, the e-mail confirmation, and the secretariat's queue."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select
from sqlalchemy.orm.exc import StaleDataError

from cacnet.accounts import oidc
from cacnet.accounts import services as accounts
from cacnet.accounts.forms import ConfirmForm, ReasonForm, SignatoryGrantForm
from cacnet.accounts.models import User
from cacnet.core.audit import AuditEvent
from cacnet.core.db import db
from cacnet.core.errors import ServiceError
from cacnet.core.i18n import current_language
from cacnet.core.uploads import stored_path
from cacnet.core.web import show_service_error, staff_required
from cacnet.extensions import limiter
from cacnet.membership import services
from cacnet.membership.forms import ApplicationForm, DecisionForm, QueueFilterForm
from cacnet.membership.models import TRANSITIONS, Membership, MembershipState

bp = Blueprint("membership", __name__)

PAGE_SIZE = 50


@bp.route("/apply", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["APPLY_LIMIT_PER_IP"], methods=["POST"])
def apply():
    signed_in = current_user.is_authenticated
    if signed_in and not services.may_apply(current_user):
        flash(_("Your account already belongs to a city or the secretariat."), "info")
        return redirect(url_for("accounts.account"))
    form = ApplicationForm(signed_in=signed_in)
    identity = None if signed_in else oidc.pending_identity()
    if identity is not None and request.method == "GET":
        # Someone who came from an OpenID provider with an unknown e-mail address.
        form.applicant_name.data, form.email.data = identity.name, identity.email
    if signed_in and current_user.city is not None and request.method == "GET":
        city = current_user.city  # a withdrawn city applying to return
        form.process(
            obj=None,
            data={
                "city_name_en": city.name_en,
                "city_name_local": city.name_local,
                "country_code": city.country_code,
                "region": city.region,
                "population": city.population,
                "website": city.website,
            },
        )
    if form.validate_on_submit():
        letter = form.letter.data
        data = services.ApplicationData(
            city_name_en=form.city_name_en.data,
            city_name_local=form.city_name_local.data or "",
            country_code=form.country_code.data,
            region=form.region.data or "",
            population=form.population.data,
            website=form.website.data or "",
            letter=letter.read() if letter else None,
            letter_filename=letter.filename if letter else None,
        )
        applicant = (
            current_user._get_current_object()
            if signed_in
            else services.ApplicantData(
                name=form.applicant_name.data,
                title=form.applicant_title.data or "",
                email=form.email.data,
                password=form.password.data,
            )
        )
        try:
            membership = services.submit_application(data, applicant, current_language())
        except ServiceError as error:
            show_service_error(form, error)
        else:
            if identity is not None and membership is not None:
                oidc.link_pending_identity(membership.applicant, via="application")
            db.session.commit()
            if membership is not None and membership.state == MembershipState.SUBMITTED:
                flash(_("Your application has been sent to the secretariat."), "success")
                return redirect(url_for("accounts.account"))
            return redirect(url_for("membership.sent"))
    elif request.method == "POST":
        flash(_("Please correct the marked fields."), "error")
    return render_template("membership/apply.html", form=form, signed_in=signed_in)


@bp.get("/apply/sent")
def sent():
    return render_template("membership/sent.html")


@bp.route("/apply/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):
    """GET shows a button; only the POST confirms, so mail scanners that open links confirm nothing."""
    row = services.find_verification(token)
    if row is None or row.membership is None:
        return render_template("accounts/link_invalid.html"), 404
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            membership = services.confirm_application(token)
        except ServiceError as error:
            show_service_error(None, error)
        else:
            db.session.commit()
            return render_template("membership/confirmed.html", membership=membership)
    return render_template("membership/confirm.html", form=form, membership=row.membership)


@bp.post("/account/applications/<uuid>/resend")
@login_required
@limiter.limit("5 per hour")
def resend_verification(uuid: str):
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.resend_verification(current_user, _get_membership(uuid))
    except ServiceError as error:
        show_service_error(None, error)
    else:
        db.session.commit()
        flash(_("We have sent you a new confirmation link."), "success")
    return redirect(url_for("accounts.account"))


# --- the secretariat ---------------------------------------------------------------------------


@bp.get("/secretariat/")
@staff_required
def queue():
    form = QueueFilterForm(request.args, meta={"csrf": False})
    if not request.args:
        form.state.data = MembershipState.SUBMITTED.value
    form.validate()
    query = select(Membership).order_by(
        Membership.submitted_at.desc().nulls_last(), Membership.created_at.desc()
    )
    if form.state.data and not form.state.errors:
        query = query.where(Membership.state == MembershipState(form.state.data))
    else:
        # Unverified applications are not the secretariat's business yet.
        query = query.where(Membership.state != MembershipState.PENDING_VERIFICATION)
    if form.country.data and not form.country.errors:
        query = query.where(Membership.country_code == form.country.data)
    if form.submitted_from.data:
        start = datetime.combine(form.submitted_from.data, time.min, UTC)
        query = query.where(Membership.submitted_at >= start)
    if form.submitted_to.data:
        end = datetime.combine(form.submitted_to.data, time.min, UTC) + timedelta(days=1)
        query = query.where(Membership.submitted_at < end)
    if form.q.data:
        like = f"%{form.q.data.lower()}%"
        query = query.join(User, Membership.applicant_id == User.id).where(
            or_(
                Membership.city_name_key.like(like),
                func.lower(Membership.city_name_local).like(like),
                User.email.like(like),
                func.lower(User.name).like(like),
            )
        )
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    pagination = db.paginate(query, page=page, per_page=PAGE_SIZE, error_out=False)
    counts = dict(
        db.session.execute(select(Membership.state, func.count()).group_by(Membership.state)).all()
    )
    return render_template("membership/queue.html", form=form, pagination=pagination, counts=counts)


def _get_membership(uuid: str) -> Membership:
    membership = db.session.scalar(select(Membership).where(Membership.uuid == uuid))
    if membership is None:
        abort(404)
    return membership


@bp.get("/secretariat/applications/<uuid>")
@staff_required
def application(uuid: str):
    membership = _get_membership(uuid)
    history = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == "memberships", AuditEvent.object_id == membership.id)
        .order_by(AuditEvent.created_at)
    ).all()
    delegates = []
    if membership.city is not None:
        delegates = db.session.scalars(
            select(User).where(User.city_id == membership.city_id).order_by(User.name)
        ).all()
    return render_template(
        "membership/application.html",
        membership=membership,
        history=history,
        form=DecisionForm(),
        transitions=membership.allowed_transitions(),
        delegates=delegates,
        grant_form=SignatoryGrantForm(),
        revoke_form=ReasonForm(),
    )


@bp.post("/secretariat/applications/<uuid>/<action>")
@staff_required
def decide(uuid: str, action: str):
    if action not in services.ACTIONS:
        abort(404)
    membership = _get_membership(uuid)
    form = DecisionForm()
    if not form.validate_on_submit():
        flash(_("Please correct the marked fields."), "error")
        return redirect(url_for("membership.application", uuid=uuid))
    try:
        services.ACTIONS[action](current_user, membership, form.reason.data or "")
        db.session.commit()
    except ServiceError as error:
        show_service_error(None, error)
    except StaleDataError:
        # Another officer changed this application between our read and our write.
        db.session.rollback()
        flash(_("Someone else changed this application just now. Check it again."), "error")
    else:
        flash(
            _(
                "Done: the application is now %(state)s.",
                state=services.state_label(TRANSITIONS[action].target),
            ),
            "success",
        )
    return redirect(url_for("membership.application", uuid=uuid))


@bp.get("/secretariat/applications/<uuid>/letter.pdf")
@staff_required
def letter(uuid: str):
    membership = _get_membership(uuid)
    if not membership.letter_sha256:
        abort(404)
    path = stored_path(membership.letter_sha256, "letters", "pdf")
    if not path.exists():
        abort(404)
    return send_file(
        path,
        mimetype="application/pdf",
        as_attachment=True,
        download_name=membership.letter_filename or "letter.pdf",
    )


@bp.post("/secretariat/users/<int:user_id>/signatory")
@staff_required
def grant_signatory(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = SignatoryGrantForm()
    if form.validate_on_submit():
        try:
            accounts.grant_signing_authority(current_user, user, form.evidence.data)
            db.session.commit()
            flash(_("%(name)s may now sign for the city.", name=user.name), "success")
        except ServiceError as error:
            show_service_error(None, error)
    else:
        flash(_("Describe the evidence of signing authority."), "error")
    return _back_to_city(user)


@bp.post("/secretariat/users/<int:user_id>/signatory/revoke")
@staff_required
def revoke_signatory(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            accounts.revoke_signing_authority(current_user, user, form.reason.data)
            db.session.commit()
            flash(_("Signing authority revoked."), "success")
        except ServiceError as error:
            show_service_error(None, error)
    else:
        flash(_("Give a reason."), "error")
    return _back_to_city(user)


def _back_to_city(user: User):
    membership = user.city.active_membership if user.city else None
    if membership is None:
        return redirect(url_for("membership.queue"))
    return redirect(url_for("membership.application", uuid=membership.uuid))


@bp.get("/secretariat/audit")
@staff_required
def audit_log():
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    query = select(AuditEvent).order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    pagination = db.paginate(query, page=page, per_page=100, error_out=False)
    return render_template("membership/audit.html", pagination=pagination)


ACTION_LABELS = {
    "approve": _l("Approve"),
    "reject": _l("Reject"),
    "suspend": _l("Suspend"),
    "reinstate": _l("Reinstate"),
    "withdraw": _l("Record withdrawal"),
}


def _state_label_value(value: str) -> str:
    try:
        return services.state_label(MembershipState(value))
    except ValueError:
        return value


def _page_url(page: int) -> str:
    args = request.args.to_dict(flat=True)
    args["page"] = page
    return url_for(request.endpoint, **(request.view_args or {}), **args)


@bp.app_context_processor
def _template_helpers():
    return {
        "state_label": services.state_label,
        "state_label_value": _state_label_value,
        "state_labels": services.STATE_LABELS,
        "action_labels": ACTION_LABELS,
        "page_url": _page_url,
        "may_apply": services.may_apply,
    }
