"""The viewer's time zone and times shown in it.

The zone comes from the ``tz`` cookie that static/js/events.js sets from the browser
(Intl.DateTimeFormat) on the first visit, or that the "Times shown in" form sets; signed-in users'
choice is also kept in their session. ``event`` (or no choice) means: each event's own zone. An
unknown value is ignored with a message and the cookie is dropped, never an error."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from flask import flash, g, request, session
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from cacnet.core.i18n import current_language
from cacnet.events.services import place_of, zone_or_none

COOKIE = "tz"
SESSION_KEY = "events_tz"
EVENT_ZONE = "event"  # the explicit choice "where each event is held"


def _chosen_name() -> str:
    name = ""
    if current_user.is_authenticated:
        name = session.get(SESSION_KEY) or ""
    return name or request.cookies.get(COOKIE, "")


def viewer_zone() -> ZoneInfo | None:
    """The viewer's zone, or None to show each event in its own."""
    if "events_viewer_zone" in g:
        return g.events_viewer_zone
    name = _chosen_name()[:100]
    zone = None
    if name and name != EVENT_ZONE:
        zone = zone_or_none(name)
        if zone is None:
            flash(
                _l(
                    "The time zone %(zone)s is unknown: times are shown where each event is held.",
                    zone=name,
                ),
                "error",
            )
            g.events_drop_zone = True
            session.pop(SESSION_KEY, None)
    g.events_viewer_zone = zone
    return zone


def viewer_zone_name() -> str:
    zone = viewer_zone()
    return zone.key if zone is not None else ""


@dataclass
class When:
    """An event's times as shown: in the viewer's zone, and where it is held when different."""

    iso_start: str
    iso_end: str
    viewer: str
    local: str | None
    place: str


def _span(start: datetime, end: datetime, zone: ZoneInfo, locale: str) -> str:
    s, e = start.astimezone(zone), end.astimezone(zone)
    first = (
        f"{format_date(s.date(), 'full', locale=locale)}, {format_time(s, 'HH:mm', locale=locale)}"
    )
    if e.date() == s.date():
        return f"{first}–{format_time(e, 'HH:mm', locale=locale)} {e.tzname()}"
    last = (
        f"{format_date(e.date(), 'full', locale=locale)}, {format_time(e, 'HH:mm', locale=locale)}"
    )
    return f"{first} – {last} {e.tzname()}"


def _short(start: datetime, end: datetime, zone: ZoneInfo, locale: str) -> str:
    s, e = start.astimezone(zone), end.astimezone(zone)
    text = f"{format_time(s, 'HH:mm', locale=locale)}–{format_time(e, 'HH:mm', locale=locale)}"
    if e.date() != s.date():
        text += " (" + format_date(e.date(), "medium", locale=locale) + ")"
    return f"{text} {e.tzname()}"


def _same_clock(a: ZoneInfo, b: ZoneInfo, moment: datetime) -> bool:
    x, y = moment.astimezone(a), moment.astimezone(b)
    return x.utcoffset() == y.utcoffset() and x.tzname() == y.tzname()


def when(event, short: bool = False) -> When:
    locale = current_language()
    zone = viewer_zone() or event.zone
    fmt = _short if short else _span
    viewer = fmt(event.starts_at, event.ends_at, zone, locale)
    local = None
    if not _same_clock(zone, event.zone, event.starts_at):
        local = _short(event.starts_at, event.ends_at, event.zone, locale)
    return When(
        iso_start=event.starts_at.isoformat(),
        iso_end=event.ends_at.isoformat(),
        viewer=viewer,
        local=local,
        place=place_of(event.timezone),
    )


def day_heading(day) -> str:
    return format_date(day, "full", locale=current_language())


def after_request(response):
    if g.get("events_drop_zone"):
        response.delete_cookie(COOKIE, path="/")
    return response
