"""The secretariat's page on the e-mail delivery queue, and its hourly safety net. Thin: the rules
are in ``cacnet.core.deliveries``."""

from __future__ import annotations

import time

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField

from cacnet.core import deliveries
from cacnet.core.db import db
from cacnet.core.deliveries import DeliveryFilter, DeliveryState
from cacnet.core.errors import ServiceError
from cacnet.core.web import show_service_error, staff_required

bp = Blueprint("deliveries", __name__)

STATE_LABELS = {
    DeliveryState.PENDING: _l("Waiting"),
    DeliveryState.SENDING: _l("Being sent"),
    DeliveryState.SENT: _l("Sent"),
    DeliveryState.FAILED: _l("Failed"),
}


class DeliveryRetryForm(FlaskForm):
    """The "retry now" button; the hidden fields carry the filter the page shows."""

    topic = HiddenField()
    object_type = HiddenField()
    object_id = HiddenField()


def _filter(values) -> DeliveryFilter:
    object_id = (values.get("object_id") or "").strip()
    if object_id and not object_id.isdigit():
        abort(400)
    return DeliveryFilter(
        topic=(values.get("topic") or "").strip()[:32] or None,
        object_type=(values.get("object_type") or "").strip()[:32] or None,
        object_id=int(object_id) if object_id else None,
    )


@bp.get("/secretariat/deliveries")
@staff_required
def secretariat_deliveries():
    filter_ = _filter(request.args)
    form = DeliveryRetryForm(
        formdata=None,
        topic=filter_.topic or "",
        object_type=filter_.object_type or "",
        object_id="" if filter_.object_id is None else str(filter_.object_id),
    )
    return render_template(
        "core/deliveries.html",
        filter=filter_,
        totals=deliveries.summary(filter_.topic, filter_.object_type, filter_.object_id),
        by_topic=deliveries.summary_by_topic(filter_),
        retrying=deliveries.retrying_count(filter_),
        troubled=deliveries.troubled(filter_),
        topics=deliveries.topics(),
        states=tuple(DeliveryState),
        state_labels=STATE_LABELS,
        retry_form=form,
    )


@bp.post("/secretariat/deliveries/retry")
@staff_required
def retry_deliveries():
    form = DeliveryRetryForm()
    if not form.validate_on_submit():
        abort(400)
    filter_ = _filter(form.data)
    try:
        done = deliveries.retry_now(current_user, filter_)
        db.session.commit()
    except ServiceError as error:
        show_service_error(None, error)
    else:
        if done["failed"] or done["waiting"]:
            flash(
                _(
                    "Sending again: %(failed)d failed and %(waiting)d waiting deliveries.",
                    failed=done["failed"],
                    waiting=done["waiting"],
                ),
                "success",
            )
        else:
            flash(_("Nothing to retry: no delivery has failed or waits for a retry."), "info")
    return redirect(url_for("deliveries.secretariat_deliveries", **filter_.as_dict()))


# --- the safety net ----------------------------------------------------------------------------

SAFETY_NET_EVERY = 3600  # seconds
_next_check = 0.0  # per process: look at the shared cache at most once a minute


@bp.before_app_request
def send_hourly():
    """Queue a run of the delivery queue at most once an hour across all app servers (an atomic
    add in the shared cache elects one request): retries whose scheduled run was lost (a restart
    without Redis, a worker without the scheduler) go out within the hour. Never inline
    (``JOBS_SYNC``): a visitor's request does not wait for SMTP."""
    global _next_check
    config = current_app.config
    if not config.get("DELIVERY_AUTO_SEND", True) or config.get("JOBS_SYNC"):
        return
    if request.endpoint == "static":
        return
    now = time.monotonic()
    if now < _next_check:
        return
    _next_check = now + 60
    from cacnet.core.cache import cache
    from cacnet.core.jobs import enqueue

    try:
        if cache.add("deliveries:safety-net", 1, timeout=SAFETY_NET_EVERY):
            enqueue(deliveries.SEND_DUE)
    except Exception:  # noqa: BLE001 - the queue's upkeep must never break a page
        current_app.logger.exception("could not queue the delivery queue's hourly run")
