"""The secretariat's side of the alerts: the dashboard, the history export, escalating an
alert's severity and making it a public notice. Thin: the rules are in ``services``."""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from cacnet.alerts import exports, services
from cacnet.alerts.forms import SEVERITY_LABELS, EscalateForm, PublicNoticeForm
from cacnet.alerts.models import SEVERITY_RANK, Alert, Severity
from cacnet.core.db import db
from cacnet.core.errors import ServiceError
from cacnet.core.web import show_service_error, staff_required

bp = Blueprint("alerts_admin", __name__)


def _alert(uuid: str) -> Alert:
    alert = db.session.scalar(select(Alert).where(Alert.uuid == uuid))
    if alert is None:
        abort(404)
    return alert


@bp.get("/secretariat/alerts/")
@staff_required
def dashboard():
    summaries = {}
    overview = services.overview(current_user)
    for row in overview["open_rows"][:100]:
        summaries[row.alert.id] = exports.delivery_summary(row.alert.id)
    return render_template("alerts/admin/dashboard.html", deliveries=summaries, **overview)


@bp.get("/secretariat/alerts/export.csv")
@staff_required
def export_history():
    chunks = exports.csv_chunks(current_user, history=True)
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.charset = "utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="alert-history-{date.today().isoformat()}.csv"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/secretariat/alerts/<uuid>/escalate", methods=["GET", "POST"])
@staff_required
def escalate(uuid: str):
    alert = _alert(uuid)
    form = EscalateForm()
    form.severity.choices = [
        (s.value, SEVERITY_LABELS[s])
        for s in Severity
        if SEVERITY_RANK[s] > SEVERITY_RANK[alert.severity]
    ]
    if form.validate_on_submit():
        try:
            services.escalate(current_user, alert, form.severity.data, form.reason.data)
            db.session.commit()
        except ServiceError as error:
            show_service_error(form, error)
        else:
            flash(_("The alert is escalated; member cities are being told."), "success")
            return redirect(url_for("alerts.alert_page", uuid=alert.uuid))
    elif request.method == "POST":
        flash(_("Please correct the marked fields."), "error")
    status = 422 if request.method == "POST" else 200
    return render_template("alerts/admin/escalate.html", alert=alert, form=form), status


@bp.post("/secretariat/alerts/<uuid>/public-notice/<any(mark, withdraw):action>")
@staff_required
def public_notice(uuid: str, action: str):
    alert = _alert(uuid)
    form = PublicNoticeForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.set_public_notice(current_user, alert, action == "mark", form.reason.data or "")
        db.session.commit()
    except ServiceError as error:
        show_service_error(None, error)
    else:
        flash(_("The alert is now a public notice: anyone can read its public summary.")
              if action == "mark" else _("The alert is no longer a public notice."),
              "success")  # fmt: skip
    return redirect(url_for("alerts.alert_page", uuid=alert.uuid))
