"""The events' pages: the list (upcoming and past, as an agenda by day), an event, the
secretariat's forms and registrations, the viewer's time zone, and the iCalendar files. Thin:
rules are in ``services``; times are shown through ``timeview``."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from flask import (
    Blueprint,
    Response,
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
from flask_login import current_user
from sqlalchemy import select

from cacnet.areas import services as areas
from cacnet.cities.models import City
from cacnet.core.db import db
from cacnet.core.errors import ServiceError
from cacnet.core.i18n import country_choices, language_name
from cacnet.core.security import is_safe_redirect
from cacnet.core.text import render_markdown
from cacnet.core.web import show_service_error, staff_required
from cacnet.events import ical, services, timeview
from cacnet.events.forms import KIND_LABELS, STATE_LABELS, VISIBILITY_LABELS, CancelForm, EventForm
from cacnet.events.models import Event, EventState

bp = Blueprint("events", __name__)
bp.after_app_request(timeview.after_request)

YEAR = 365 * 24 * 3600


@bp.app_context_processor
def _event_helpers():
    return {
        "event_when": timeview.when,
        "event_day": timeview.day_heading,
        "event_labels": {
            "kinds": KIND_LABELS,
            "states": STATE_LABELS,
            "visibility": VISIBILITY_LABELS,
        },
        "language_name": language_name,
    }


def _event_or_404(event_id: int) -> Event:
    event = services.visible_event(current_user, event_id)
    if event is None:
        abort(404)
    return event


def _zone_form_context() -> dict:
    return {
        "viewer_zone": timeview.viewer_zone_name(),
        "zone_choices": services.timezones(),
    }


@bp.get("/events/")
def event_list():
    query = services.EventQuery(
        area=(request.args.get("area") or "")[:60],
        kind=(request.args.get("kind") or "")[:20],
        past=request.args.get("when") == "past",
    )
    if query.area and areas.by_slug(query.area) is None:
        query.area = ""
    events = services.list_events(current_user, query)
    zone = timeview.viewer_zone()
    return render_template(
        "events/list.html",
        days=services.by_local_day(events, zone),
        query=query,
        area_choices=areas.slug_choices(_("Any area")),
        **_zone_form_context(),
    )


@bp.get("/events/timezone")
def set_timezone():
    """The "Times shown in" form: remembers the choice in a cookie (and the session when signed
    in); an unknown zone is refused with a message."""
    name = (request.args.get("tz") or "")[:100]
    target = request.args.get("next")
    response = redirect(target if is_safe_redirect(target) else url_for("events.event_list"))
    if name != timeview.EVENT_ZONE and services.zone_or_none(name) is None:
        flash(_("Choose a time zone from the list."), "error")
        return response
    response.set_cookie(timeview.COOKIE, name, max_age=YEAR, samesite="Lax", path="/")
    if current_user.is_authenticated:
        session[timeview.SESSION_KEY] = name
    return response


@bp.get("/events/<int:event_id>")
def detail(event_id: int):
    event = _event_or_404(event_id)
    sessions = services.visible_sessions(current_user, event)
    description, description_lang = event.description()
    registration = services.registration_of(current_user, event)
    return render_template(
        "events/detail.html",
        event=event,
        description=render_markdown(description),
        description_lang=description_lang,
        days=services.by_local_day(sessions, timeview.viewer_zone()),
        registration=registration if registration and not registration.cancelled else None,
        can_register=services.can_register(current_user),
        is_staff=current_user.is_authenticated and current_user.is_secretariat,
        count=services.registration_counts([event.id]).get(event.id, 0),
        cancel_form=CancelForm(),
        **_zone_form_context(),
    )


def _ics_response(body: bytes, filename: str) -> Response:
    response = Response(body, content_type="text/calendar; charset=utf-8")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@bp.get("/events.ics")
def calendar_feed():
    events = services.feed_events(current_user)
    return _ics_response(ical.calendar(events, "CAAP events"), "caap-events.ics")


@bp.get("/events/<int:event_id>.ics")
def event_ics(event_id: int):
    event = _event_or_404(event_id)
    if event.state == EventState.DRAFT:
        abort(404)
    return _ics_response(
        ical.calendar([event], event.title_en or event.title_ko), f"caap-event-{event.id}.ics"
    )


# --- registrations ----------------------------------------------------------------------------


@bp.post("/events/<int:event_id>/register")
def register(event_id: int):
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    event = _event_or_404(event_id)
    CancelForm().validate_on_submit() or abort(400)
    try:
        services.register(current_user, event)
        flash(_("You are registered. Add the event to your calendar."), "success")
    except ServiceError as error:
        show_service_error(None, error)
    return redirect(url_for("events.detail", event_id=event.id))


@bp.post("/events/<int:event_id>/unregister")
def unregister(event_id: int):
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    event = _event_or_404(event_id)
    CancelForm().validate_on_submit() or abort(400)
    try:
        services.cancel_registration(current_user, event)
        flash(_("Your registration is cancelled."), "success")
    except ServiceError as error:
        show_service_error(None, error)
    return redirect(url_for("events.detail", event_id=event.id))


@bp.get("/events/<int:event_id>/registrations")
@staff_required
def registrations(event_id: int):
    event = _event_or_404(event_id)
    return render_template(
        "events/registrations.html",
        event=event,
        registrations=services.registrations(current_user, event),
    )


@bp.get("/events/<int:event_id>/registrations.csv")
@staff_required
def registrations_csv(event_id: int):
    from cacnet.situation.exports import guard_cell

    event = _event_or_404(event_id)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["name", "email", "city", "country", "registered_at", "cancelled_at"])
    for r in services.registrations(current_user, event):
        city = r.user.city
        writer.writerow(
            [
                guard_cell(r.user.name or ""),
                guard_cell(r.user.email),
                guard_cell(city.name_en if city else ""),
                city.country_code if city else "",
                r.created_at.isoformat(),
                r.cancelled_at.isoformat() if r.cancelled_at else "",
            ]
        )
    response = Response("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="event-{event.id}-registrations.csv"'
    )
    return response


# --- the secretariat's forms ------------------------------------------------------------------


def _prepare(form: EventForm, event: Event | None) -> None:
    form.parent_id.choices = [("", _("None"))] + [
        (str(s.id), s.title()) for s in services.summits() if event is None or s.id != event.id
    ]
    form.area_id.choices = areas.choices(_("No area"))
    form.timezone.choices = [("", _("Choose a time zone"))] + [
        (tz, tz) for tz in services.timezones()
    ]
    form.interpretation.choices = [
        (code, language_name(code)) for code in services.INTERPRETATION_LANGUAGES
    ]
    form.countries.choices = country_choices()
    form.city_ids.choices = [
        (str(c.id), c.name_en)
        for c in db.session.scalars(
            select(City).where(City.merged_into_id.is_(None)).order_by(City.name_en)
        )
    ]


def _data(form: EventForm) -> services.EventData:
    def ids(values) -> list[int]:
        return [int(v) for v in values or [] if str(v).isdigit()]

    return services.EventData(
        kind=form.kind.data,
        title_en=form.title_en.data or "",
        title_ko=form.title_ko.data or "",
        description_en=form.description_en.data or "",
        description_ko=form.description_ko.data or "",
        start=datetime.combine(form.start_date.data, form.start_time.data),
        end=datetime.combine(form.end_date.data, form.end_time.data),
        timezone=form.timezone.data or "",
        parent_id=int(form.parent_id.data) if (form.parent_id.data or "").isdigit() else None,
        area_id=int(form.area_id.data) if (form.area_id.data or "").isdigit() else None,
        organiser=form.organiser.data or "",
        venue=form.venue.data or "",
        stream_url=form.stream_url.data or "",
        stream_url_ko=form.stream_url_ko.data or "",
        recording_url=form.recording_url.data or "",
        interpretation=list(form.interpretation.data or []),
        countries=list(form.countries.data or []),
        city_ids=ids(form.city_ids.data),
        speakers=services.parse_speakers(form.speakers.data or ""),
        visibility=form.visibility.data,
        publish=form.publish.data == "1",
    )


def _save(form: EventForm, event: Event | None):
    if form.validate_on_submit():
        try:
            data = _data(form)
            if event is None:
                event = services.create_event(current_user, data)
                flash(_("The event is saved."), "success")
            else:
                services.update_event(current_user, event, data)
                flash(_("The event is updated."), "success")
            return redirect(url_for("events.detail", event_id=event.id))
        except ServiceError as error:
            show_service_error(form, error)
    return None


@bp.route("/events/new", methods=["GET", "POST"])
@staff_required
def new():
    form = EventForm()
    _prepare(form, None)
    if request.method == "GET":
        form.timezone.data = request.args.get("timezone") or "Asia/Seoul"
        parent = request.args.get("parent", "")
        if parent.isdigit():
            form.parent_id.data = parent
            form.kind.data = "session"
    done = _save(form, None)
    if done is not None:
        return done
    return render_template("events/edit.html", form=form, event=None)


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(event_id: int):
    event = _event_or_404(event_id)
    form = EventForm(obj=None if request.method == "POST" else event)
    _prepare(form, event)
    if request.method == "GET":
        start_date, start_time, end_date, end_time = services.local_parts(event)
        form.start_date.data, form.start_time.data = start_date, start_time
        form.end_date.data, form.end_time.data = end_date, end_time
        form.kind.data = event.kind.value
        form.visibility.data = event.visibility.value
        form.parent_id.data = str(event.parent_id or "")
        form.area_id.data = str(event.area_id or "")
        form.city_ids.data = [str(c.id) for c in event.cities]
        form.speakers.data = services.speakers_text(event)
        form.publish.data = "0" if event.state == EventState.DRAFT else "1"
    done = _save(form, event)
    if done is not None:
        return done
    return render_template("events/edit.html", form=form, event=event)


@bp.post("/events/<int:event_id>/cancel")
@staff_required
def cancel(event_id: int):
    event = _event_or_404(event_id)
    form = CancelForm()
    if form.validate_on_submit():
        try:
            services.cancel_event(current_user, event, form.reason.data or "")
            flash(_("The event is cancelled."), "success")
        except ServiceError as error:
            show_service_error(form, error)
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
    return redirect(url_for("events.detail", event_id=event.id))
