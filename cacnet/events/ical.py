"""iCalendar (RFC 5545) for one event and for the calendar of events a viewer may see.

DTSTART/DTEND are written in UTC ("…Z"). Every calendar program converts UTC to its user's zone
the same way, whereas a TZID needs a VTIMEZONE that some programs ignore and older Outlook
versions expect to carry Windows zone names; an event that does not repeat loses nothing by it.
Where it is held (zone and local time) goes into LOCATION/DESCRIPTION for the reader."""

from __future__ import annotations

from babel.dates import format_datetime
from flask import url_for
from icalendar import Calendar
from icalendar import Event as VEvent
from markdown_it import MarkdownIt

from cacnet.core.db import utcnow
from cacnet.events.models import Event, EventState
from cacnet.events.services import place_of

PRODID = "-//Cities Alliance Against Pandemic//cacnet events//EN"


def _plain(markdown: str) -> str:
    """Markdown reduced to its text for a plain DESCRIPTION (no HTML reaches a calendar)."""
    tokens = MarkdownIt("commonmark", {"html": False}).parse(markdown or "")
    lines, current, href = [], [], ""
    for token in tokens:
        if token.type == "inline":
            for child in token.children or []:
                if child.type in ("text", "code_inline"):
                    current.append(child.content)
                elif child.type in ("softbreak", "hardbreak"):
                    current.append(" ")
                elif child.type == "link_open":
                    href = str(child.attrs.get("href", ""))
                elif child.type == "link_close" and href:
                    current.append(f" ({href})")
        elif token.type.endswith("_close") and token.block and current:
            lines.append("".join(current).strip())
            current = []
    if current:
        lines.append("".join(current).strip())
    return "\n".join(line for line in lines if line)


def _vevent(event: Event, stamp) -> VEvent:
    vevent = VEvent()
    vevent.add("uid", event.uid)
    vevent.add("dtstamp", stamp)
    vevent.add("dtstart", event.starts_at)
    vevent.add("dtend", event.ends_at)
    vevent.add("summary", event.title_en or event.title_ko)
    local = event.starts_at.astimezone(event.zone)
    held = format_datetime(local, "yyyy-MM-dd HH:mm", locale="en") + f" {local.tzname()}"
    parts = []
    if event.title_en and event.title_ko:
        parts.append(event.title_ko)
    description = _plain(event.description_en or event.description_ko)
    if description:
        parts.append(description)
    parts.append(f"Held at {held} ({event.timezone}).")
    if event.organiser:
        parts.append(f"Organiser: {event.organiser}")
    if event.speakers:
        parts.append("Speakers: " + "; ".join(
            s.name + (f" ({s.role})" if s.role else "") for s in event.speakers
        ))  # fmt: skip
    for label, link in (
        ("Stream", event.stream_url),
        ("Stream (Korean)", event.stream_url_ko),
        ("Recording", event.recording_url),
    ):
        if link:
            parts.append(f"{label}: {link}")
    vevent.add("description", "\n\n".join(parts))
    url = url_for("events.detail", event_id=event.id, _external=True)
    vevent.add("url", url)
    location = event.venue or place_of(event.timezone)
    vevent.add("location", location)
    vevent.add("sequence", event.sequence)
    vevent.add("status", "CANCELLED" if event.state == EventState.CANCELLED else "CONFIRMED")
    if event.area is not None:
        vevent.add("categories", [event.area.name_en])
    vevent.add("last-modified", event.updated_at)
    return vevent


def calendar(events: list[Event], name: str) -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    stamp = utcnow().replace(microsecond=0)
    for event in events:
        cal.add_component(_vevent(event, stamp))
    return cal.to_ical()
