"""The alerts' pages: the members' list, raising an alert, an alert with its updates and
acknowledgements, the public notices and their Atom feed, the export, and a city's choice of who
receives alert mail. Thin: the rules are in ``services`` and ``visibility``."""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from cacnet.alerts import exports, services, visibility
from cacnet.alerts.forms import (
    ACK_LABELS,
    SEVERITY_HINTS,
    SEVERITY_LABELS,
    SIGNAL_LABELS,
    STATE_LABELS,
    AcknowledgeForm,
    AlertForm,
    CloseForm,
    PublicNoticeForm,
    SubscriptionForm,
    UpdateForm,
)
from cacnet.alerts.models import Alert, AlertDocument, AlertState, Severity
from cacnet.cities.models import City, Contact
from cacnet.core.cache import cache
from cacnet.core.db import db
from cacnet.core.errors import PermissionDenied, ServiceError
from cacnet.core.uploads import send_stored
from cacnet.core.web import members_only as web_members_only
from cacnet.core.web import show_service_error

bp = Blueprint("alerts", __name__)

FEED_TTL = 60  # seconds


members_only = web_members_only(services.MEMBERS_ONLY)


@bp.app_template_filter("alert_severity")
def _severity_label(value) -> str:
    return str(SEVERITY_LABELS.get(Severity(value), value)) if value else ""


@bp.app_template_filter("alert_signal")
def _signal_label(value) -> str:
    from cacnet.alerts.models import SignalType

    return str(SIGNAL_LABELS.get(SignalType(value), value)) if value else ""


@bp.app_context_processor
def _alert_helpers():
    def alert_banner() -> list[Alert]:
        """The banner's alerts, one query per request, none for visitors not signed in."""
        if not current_user.is_authenticated:
            return []
        if "cacnet_alert_banner" not in g:
            try:
                g.cacnet_alert_banner = services.banner_alerts(current_user)
            except Exception:  # noqa: BLE001 - a banner must never break a page
                current_app.logger.exception("could not load the alert banner")
                g.cacnet_alert_banner = []
        return g.cacnet_alert_banner

    return {
        "alert_labels": {
            "severities": SEVERITY_LABELS,
            "severity_hints": SEVERITY_HINTS,
            "signals": SIGNAL_LABELS,
            "states": STATE_LABELS,
            "acks": ACK_LABELS,
        },
        "alert_banner": alert_banner,
        "is_alert_member": lambda: visibility.is_member(current_user),
        "banner_size": services.BANNER_SIZE,
    }


def _alert_or_404(uuid: str) -> Alert:
    alert = services.visible_alert(current_user, uuid)
    if alert is None:
        abort(404)
    return alert


def _page_or_login(uuid: str) -> Alert:
    """The alert if the visitor may see it. A visitor who is not signed in is asked to sign in
    whether or not the alert exists (the links in alert mail lead here), so the answer tells
    nobody which alerts exist."""
    alert = services.visible_alert(current_user, uuid)
    if alert is None:
        if not current_user.is_authenticated:
            abort(current_app.login_manager.unauthorized())
        abort(404)
    return alert


def _flash_form_errors(form) -> None:
    for errors in form.errors.values():
        for message in errors:
            flash(str(message), "error")


# --- the list ----------------------------------------------------------------------------------


def _list_query() -> services.AlertQuery:
    args = request.args
    return services.AlertQuery(
        severity=args.get("severity") or "",
        state=args.get("state") or "open",
        city=(args.get("city") or "")[:120],
        page=args.get("page", 1, type=int) or 1,
    )


@bp.get("/alerts/")
@members_only
def alert_list():
    query = _list_query()
    pagination = services.list_page(current_user, query)
    return render_template(
        "alerts/list.html",
        pagination=pagination,
        query=query,
        cities=services.alert_cities(current_user),
        can_raise=services.can_raise(current_user),
    )


# --- raising -----------------------------------------------------------------------------------


def _alert_form(form: AlertForm) -> AlertForm:
    contacts = (
        db.session.scalars(
            select(Contact)
            .where(Contact.city_id == current_user.city_id)
            .order_by(Contact.position, Contact.id)
        ).all()
        if current_user.city_id
        else []
    )
    form.contact_id.choices = [(0, _("Someone else (write below)"))] + [
        (c.id, f"{c.name}{', ' + c.title if c.title else ''}") for c in contacts
    ]
    if request.method == "GET" and form.contact_id.data is None:
        primary = next((c for c in contacts if c.is_primary), None)
        form.contact_id.data = primary.id if primary else 0
    return form


def _alert_data(form: AlertForm) -> services.AlertData:
    return services.AlertData(
        what=form.what.data or "",
        signal_type=form.signal_type.data or "",
        severity=form.severity.data or "",
        district=form.district.data or "",
        first_observed_on=form.first_observed_on.data,
        cases=form.cases.data,
        deaths=form.deaths.data,
        actions=form.actions.data or "",
        sources=form.sources.data or "",
        contact_id=form.contact_id.data or None,
        contact_text=form.contact_text.data or "",
    )


def _uploads(field) -> list[tuple[str, bytes]]:
    files = []
    for storage in field.data or []:
        if storage and getattr(storage, "filename", ""):
            files.append((storage.filename, storage.read()))
    return files


def _render_form(form: AlertForm, alert: Alert | None, status: int = 200):
    return render_template(
        "alerts/edit.html", form=form, alert=alert, suggestions=services.what_suggestions()
    ), status


@bp.route("/alerts/new", methods=["GET", "POST"])
@members_only
def new_alert():
    form = _alert_form(AlertForm())
    if request.method == "GET":
        try:
            services.require_active_delegate(current_user)
        except PermissionDenied as error:
            flash(str(error.message), "error")
            return redirect(url_for("alerts.alert_list"))
        return _render_form(form, None)
    if form.validate_on_submit():
        publish = request.form.get("action") == "publish"
        try:
            alert = services.create_alert(current_user, _alert_data(form), publish=publish)
            for filename, data in _uploads(form.documents):
                services.add_document(current_user, alert, filename, data)
            db.session.commit()
        except ServiceError as error:
            show_service_error(form, error)
        else:
            if publish:
                flash(_("The alert is published; member cities are being told."), "success")
            else:
                flash(_("The draft is saved. Only your city sees it until you publish it."),
                      "success")  # fmt: skip
            return redirect(url_for("alerts.alert_page", uuid=alert.uuid))
    else:
        flash(_("Please correct the marked fields."), "error")
    return _render_form(form, None, 422)


@bp.route("/alerts/<uuid>/edit", methods=["GET", "POST"])
@members_only
def edit_alert(uuid: str):
    alert = _alert_or_404(uuid)
    if alert.state != AlertState.DRAFT or alert.city_id != current_user.city_id:
        flash(_("A published alert cannot be changed; post an update instead."), "error")
        return redirect(url_for("alerts.alert_page", uuid=alert.uuid))
    form = _alert_form(AlertForm(obj=alert if request.method == "GET" else None))
    if request.method == "GET":
        form.signal_type.data = alert.signal_type.value
        form.severity.data = alert.severity.value
        form.cases.data = "" if alert.cases is None else str(alert.cases)
        form.deaths.data = "" if alert.deaths is None else str(alert.deaths)
        form.contact_id.data = alert.contact_id or 0
        return _render_form(form, alert)
    if form.validate_on_submit():
        publish = request.form.get("action") == "publish"
        try:
            services.update_draft(current_user, alert, _alert_data(form))
            for filename, data in _uploads(form.documents):
                services.add_document(current_user, alert, filename, data)
            if publish:
                services.publish(current_user, alert)
            db.session.commit()
        except ServiceError as error:
            show_service_error(form, error)
        else:
            flash(_("The alert is published; member cities are being told.") if publish
                  else _("The draft is saved."), "success")  # fmt: skip
            return redirect(url_for("alerts.alert_page", uuid=alert.uuid))
    else:
        flash(_("Please correct the marked fields."), "error")
    return _render_form(form, alert, 422)


@bp.post("/alerts/<uuid>/<any(publish, discard):action>")
@members_only
def draft_action(uuid: str, action: str):
    alert = _alert_or_404(uuid)
    if not PublicNoticeForm().validate_on_submit():
        abort(400)
    try:
        if action == "publish":
            services.publish(current_user, alert)
        else:
            services.discard_draft(current_user, alert)
        db.session.commit()
    except ServiceError as error:
        show_service_error(None, error)
        if action == "publish" and error.field:
            return redirect(url_for("alerts.edit_alert", uuid=uuid))
        return redirect(url_for("alerts.alert_page", uuid=uuid))
    if action == "discard":
        flash(_("The draft is discarded."), "success")
        return redirect(url_for("alerts.alert_list"))
    flash(_("The alert is published; member cities are being told."), "success")
    return redirect(url_for("alerts.alert_page", uuid=uuid))


# --- an alert ----------------------------------------------------------------------------------


def _ack_form(alert: Alert) -> AcknowledgeForm:
    form = AcknowledgeForm()
    form.similar_alert.choices = [("", _("None"))] + [
        (a.uuid, f"{a.what} ({a.published_at.date().isoformat()})")
        for a in services.own_alerts(current_user, exclude=alert)
    ]
    return form


@bp.get("/alerts/<uuid>")
def alert_page(uuid: str):
    from cacnet.cities.services import contact_visibility

    alert = _page_or_login(uuid)
    if not visibility.sees_details(current_user, alert):
        return render_template("alerts/public_alert.html", alert=alert)
    acks = services.acknowledgements(alert)
    own_ack = next((a for a in acks if a.city_id == current_user.city_id), None)
    missing, missing_total = (
        services.missing_acknowledgements(alert)
        if visibility.sees_missing_acknowledgements(current_user, alert)
        else ([], 0)
    )
    contact = None
    if alert.contact_id:
        contact = db.session.scalar(
            select(Contact).where(Contact.id == alert.contact_id, contact_visibility(current_user))
        )
    is_raiser = visibility.is_raising_city(current_user, alert)
    deliveries = None
    if current_user.is_secretariat and alert.state != AlertState.DRAFT:
        deliveries = exports.delivery_summary(alert.id)
    return render_template(
        "alerts/alert.html",
        alert=alert,
        updates=services.updates(alert),
        acks=acks,
        own_ack=own_ack,
        sees_note=lambda ack: visibility.sees_note(current_user, alert, ack),
        missing=missing,
        missing_total=missing_total,
        sees_missing=visibility.sees_missing_acknowledgements(current_user, alert),
        related=services.related_alerts(current_user, alert),
        contact=contact,
        is_raiser=is_raiser,
        can_act=is_raiser and current_user.acts_for_active_city,
        can_acknowledge=services.can_acknowledge(current_user, alert) and own_ack is None,
        ack_form=_ack_form(alert),
        csrf_form=PublicNoticeForm(),
        deliveries=deliveries,
    )


@bp.post("/alerts/<uuid>/acknowledge")
@members_only
def acknowledge(uuid: str):
    alert = _alert_or_404(uuid)
    form = _ack_form(alert)
    back = url_for("alerts.alert_page", uuid=alert.uuid) + "#acknowledgements"
    if not form.validate_on_submit():
        _flash_form_errors(form)
        return redirect(back)
    similar = None
    if form.similar_alert.data:
        similar = services.visible_alert(current_user, form.similar_alert.data)
        if similar is None:
            flash(_("Choose a published alert of your city."), "error")
            return redirect(back)
    try:
        services.acknowledge(current_user, alert, form.kind.data, form.note.data or "", similar)
        db.session.commit()
    except ServiceError as error:
        show_service_error(None, error)
    else:
        flash(_("Your city's acknowledgement is recorded; %(city)s sees it.",
                city=alert.city.name_en), "success")  # fmt: skip
    return redirect(back)


@bp.route("/alerts/<uuid>/update", methods=["GET", "POST"])
@members_only
def post_update(uuid: str):
    alert = _alert_or_404(uuid)
    form = UpdateForm()
    if request.method == "GET":
        try:
            services.require_raising_city(current_user, alert)
        except PermissionDenied as error:
            flash(str(error.message), "error")
            return redirect(url_for("alerts.alert_page", uuid=alert.uuid))
    elif form.validate_on_submit():
        try:
            services.post_update(current_user, alert, form.body.data, form.cases.data,
                                 form.deaths.data)  # fmt: skip
            db.session.commit()
        except ServiceError as error:
            show_service_error(form, error)
        else:
            flash(_("The update is posted; the cities that acknowledged the alert are told."),
                  "success")  # fmt: skip
            return redirect(url_for("alerts.alert_page", uuid=alert.uuid) + "#updates")
    else:
        flash(_("Please correct the marked fields."), "error")
    status = 422 if request.method == "POST" else 200
    return render_template("alerts/update.html", alert=alert, form=form), status


@bp.route("/alerts/<uuid>/close", methods=["GET", "POST"])
@members_only
def close_alert(uuid: str):
    alert = _alert_or_404(uuid)
    form = CloseForm()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                services.close_alert(current_user, alert, form.summary.data)
                db.session.commit()
            except ServiceError as error:
                show_service_error(form, error)
            else:
                flash(_("The alert is closed."), "success")
                return redirect(url_for("alerts.alert_page", uuid=alert.uuid))
        else:
            flash(_("Please correct the marked fields."), "error")
    status = 422 if request.method == "POST" else 200
    return render_template("alerts/close.html", alert=alert, form=form), status


@bp.get("/alerts/<uuid>/documents/<int:document_id>")
def document(uuid: str, document_id: int):
    alert = _page_or_login(uuid)
    if not visibility.sees_details(current_user, alert):
        abort(404)
    found = db.session.get(AlertDocument, document_id)
    if found is None or found.alert_id != alert.id:
        abort(404)
    return send_stored(found.sha256, "alerts", found.extension, found.content_type,
                       cache_control="private, max-age=3600", download_name=found.filename,
                       as_attachment=found.content_type == "application/pdf")  # fmt: skip


@bp.post("/alerts/<uuid>/documents/<int:document_id>/remove")
@members_only
def remove_document(uuid: str, document_id: int):
    alert = _alert_or_404(uuid)
    found = db.session.get(AlertDocument, document_id)
    if found is None or found.alert_id != alert.id:
        abort(404)
    if not PublicNoticeForm().validate_on_submit():
        abort(400)
    try:
        services.remove_document(current_user, found)
        db.session.commit()
    except ServiceError as error:
        show_service_error(None, error)
    else:
        flash(_("The document is removed."), "success")
    return redirect(url_for("alerts.alert_page", uuid=alert.uuid) + "#documents")


# --- the public notices ------------------------------------------------------------------------


@bp.get("/alerts/public")
def public_notices():
    page = request.args.get("page", 1, type=int) or 1
    return render_template("alerts/public.html", pagination=services.public_notices(page=page))


@bp.get("/alerts.atom")
def feed():
    """The public notices, newest first (members-only alerts never appear here)."""
    body = cache.get(services.FEED_CACHE_KEY)
    if body is None:
        notices = services.public_notices(limit=50).items
        updated = max(
            [a.public_notice_at or a.published_at for a in notices if a.published_at]
            + [a.closed_at for a in notices if a.closed_at],
            default=None,
        )
        body = render_template("alerts/public.atom.xml", notices=notices, updated=updated)
        cache.set(services.FEED_CACHE_KEY, body, timeout=FEED_TTL)
    response = Response(body, mimetype="application/atom+xml")
    response.headers["Cache-Control"] = f"public, max-age={FEED_TTL}"
    return response


# --- export ------------------------------------------------------------------------------------


@bp.get("/alerts/export.csv")
def export_csv():
    """The alerts the visitor may see, as CSV: the public notices' public fields for everyone,
    every shared alert with its counts for members."""
    chunks = exports.csv_chunks(current_user)
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.charset = "utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="alerts-{date.today().isoformat()}.csv"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- alert mail --------------------------------------------------------------------------------


@bp.route("/alerts/subscriptions", methods=["GET", "POST"])
@members_only
def subscriptions():
    if current_user.city_id is None:
        return redirect(url_for("alerts.alert_list"))
    city = db.session.get(City, current_user.city_id)
    rows = services.subscription_rows(current_user, city)
    form = SubscriptionForm()
    form.contacts.choices = [(r.contact.id, r.contact.name) for r in rows]
    if form.validate_on_submit():
        try:
            rows = services.set_subscriptions(current_user, city, form.contacts.data or [])
            db.session.commit()
        except ServiceError as error:
            show_service_error(form, error)
        else:
            flash(_("Your city's choice of who receives alerts is saved."), "success")
            return redirect(url_for("alerts.subscriptions"))
    elif request.method == "POST":
        flash(_("Please correct the marked fields."), "error")
    can_change = current_user.is_city_admin and current_user.acts_for_active_city
    return render_template("alerts/subscriptions.html", rows=rows, form=form, city=city,
                           can_change=can_change)  # fmt: skip
