"""Events: who sees which, the secretariat's changes, delegates' registrations, and the time
arithmetic (local time where an event is held <-> UTC <-> the viewer's zone).

Every change goes through one function here that checks the actor's role, validates, records
the audit event and commits; the views and the demo call these."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import cache
from itertools import groupby
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, true
from sqlalchemy.orm import selectinload

from cacnet.areas.models import Area
from cacnet.cities.models import City
from cacnet.core import audit
from cacnet.core.db import db, utcnow
from cacnet.core.errors import PermissionDenied, ServiceError, StateConflict
from cacnet.core.i18n import is_country_code
from cacnet.core.permissions import is_network_member, require_secretariat
from cacnet.core.text import search_key
from cacnet.events.models import (
    Event,
    EventKind,
    EventRegistration,
    EventSpeaker,
    EventState,
    EventVisibility,
)

MAX_TITLE = 200
MAX_DESCRIPTION = 20_000
MAX_SPEAKERS = 50
INTERPRETATION_LANGUAGES = ("en", "ko", "zh", "ja", "es", "fr", "ru", "ar", "id", "vi", "de")

# --- time zones -------------------------------------------------------------------------------


@cache
def timezones() -> tuple[str, ...]:
    """The IANA zones offered in the lists (Area/Location names, and UTC)."""
    names = {tz for tz in available_timezones() if "/" in tz and not tz.startswith("Etc/")}
    return ("UTC", *sorted(names))


def zone_or_none(name: str | None) -> ZoneInfo | None:
    """The zone of that IANA name, or None for anything unknown (never raises)."""
    if not name or len(name) > 64 or name not in timezones():
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def to_utc(local: datetime, zone_name: str, field_name: str) -> datetime:
    """A wall-clock time where the event is held -> UTC. A time that does not exist there (the
    hour skipped when clocks go forward) is refused; in the hour that happens twice, the first
    is meant."""
    zone = zone_or_none(zone_name)
    if zone is None:
        raise ServiceError(_l("Choose a time zone from the list."), field="timezone")
    aware = local.replace(tzinfo=zone, fold=0)
    back = aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if back != local.replace(tzinfo=None):
        raise ServiceError(
            _l(
                "%(time)s does not exist in %(zone)s: the clocks change then. Choose another time.",
                time=local.strftime("%Y-%m-%d %H:%M"),
                zone=zone_name,
            ),
            field=field_name,
        )
    return aware.astimezone(UTC)


def place_of(zone_name: str) -> str:
    """The place that names a zone ("Asia/Seoul" -> "Seoul")."""
    return zone_name.rsplit("/", 1)[-1].replace("_", " ")


# --- visibility -------------------------------------------------------------------------------


def visible_condition(viewer):
    """Events the viewer may see: published or cancelled ones (members-only ones for members of
    the alliance); drafts for the secretariat too."""
    staff = viewer is not None and getattr(viewer, "is_authenticated", False)
    staff = staff and viewer.is_secretariat
    if staff:
        return true()
    shown = Event.state.in_((EventState.PUBLISHED, EventState.CANCELLED))
    if is_network_member(viewer):
        return shown
    return shown & (Event.visibility == EventVisibility.PUBLIC)


def can_see(viewer, event: Event) -> bool:
    if viewer is not None and getattr(viewer, "is_authenticated", False) and viewer.is_secretariat:
        return True
    if event.state == EventState.DRAFT:
        return False
    return event.visibility == EventVisibility.PUBLIC or is_network_member(viewer)


def visible_event(viewer, event_id: int) -> Event | None:
    event = db.session.get(Event, event_id)
    return event if event is not None and can_see(viewer, event) else None


def _loaded(query):
    return query.options(
        selectinload(Event.area), selectinload(Event.cities), selectinload(Event.parent)
    )


@dataclass
class EventQuery:
    area: str = ""
    kind: str = ""
    past: bool = False


def list_events(viewer, query: EventQuery, limit: int = 200) -> list[Event]:
    """Upcoming (ending now or later, soonest first) or past (latest first) events."""
    now = utcnow()
    stmt = select(Event).where(visible_condition(viewer))
    if query.area:
        stmt = stmt.join(Area, Event.area_id == Area.id).where(Area.slug == query.area)
    if query.kind in {k.value for k in EventKind}:
        stmt = stmt.where(Event.kind == EventKind(query.kind))
    if query.past:
        stmt = stmt.where(Event.ends_at < now).order_by(Event.starts_at.desc(), Event.id)
    else:
        stmt = stmt.where(Event.ends_at >= now).order_by(Event.starts_at, Event.id)
    return list(db.session.scalars(_loaded(stmt).limit(limit)))


def feed_events(viewer) -> list[Event]:
    """Every event for the calendar feed: published and cancelled ones the viewer may see
    (drafts never: a calendar is not where a secretariat previews)."""
    stmt = (
        select(Event)
        .where(
            visible_condition(viewer), Event.state.in_((EventState.PUBLISHED, EventState.CANCELLED))
        )
        .order_by(Event.starts_at, Event.id)
    )
    return list(db.session.scalars(_loaded(stmt)))


def visible_sessions(viewer, event: Event) -> list[Event]:
    stmt = (
        select(Event)
        .where(Event.parent_id == event.id, visible_condition(viewer))
        .order_by(Event.starts_at, Event.id)
    )
    return list(db.session.scalars(_loaded(stmt)))


def city_events(viewer, city: City, limit: int = 10) -> list[Event]:
    stmt = (
        select(Event)
        .where(
            Event.cities.any(City.id == city.id),
            visible_condition(viewer),
            Event.state != EventState.DRAFT,
        )
        .order_by(Event.starts_at.desc(), Event.id)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def search(viewer, folded: str, limit: int) -> list[Event]:
    stmt = (
        select(Event)
        .where(
            visible_condition(viewer),
            Event.state != EventState.DRAFT,
            Event.search_text.contains(folded, autoescape=True),
        )
        .order_by(Event.starts_at.desc(), Event.id)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def by_local_day(events: list[Event], zone: ZoneInfo | None) -> list[tuple[date, list[Event]]]:
    """Events grouped by the day they start on in ``zone`` (each event's own zone if None)."""

    def day(event: Event) -> date:
        return event.starts_at.astimezone(zone or event.zone).date()

    return [(d, list(group)) for d, group in groupby(events, key=day)]


# --- the secretariat's changes ----------------------------------------------------------------


@dataclass
class SpeakerData:
    name: str
    role: str = ""
    city_id: int | None = None


@dataclass
class EventData:
    kind: str
    title_en: str
    title_ko: str
    start: datetime  # naive, wall-clock time where the event is held
    end: datetime
    timezone: str
    description_en: str = ""
    description_ko: str = ""
    parent_id: int | None = None
    area_id: int | None = None
    organiser: str = ""
    venue: str = ""
    stream_url: str = ""
    stream_url_ko: str = ""
    recording_url: str = ""
    interpretation: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    city_ids: list[int] = field(default_factory=list)
    speakers: list[SpeakerData] = field(default_factory=list)
    visibility: str = "public"
    publish: bool = True


def _plain(value: str, field_name: str, limit: int) -> str:
    value = " ".join((value or "").split())
    if "<" in value or ">" in value:
        raise ServiceError(_l("Use plain text, without < or > or control characters."), field_name)
    if len(value) > limit:
        raise ServiceError(_l("Use at most %(max)d characters.", max=limit), field=field_name)
    return value


def _url(value: str, field_name: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(value) > 500:
        raise ServiceError(
            _l("Enter a web address starting with http:// or https://."), field=field_name
        )
    return value


def parse_speakers(text: str) -> list[SpeakerData]:
    """One speaker a line: "Name | role, affiliation | city" (role and city optional; the city
    by its English name among the directory's cities)."""
    speakers = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        name = _plain(parts[0], "speakers", 200)
        role = _plain(parts[1], "speakers", 300) if len(parts) > 1 else ""
        city_id = None
        if len(parts) > 2 and parts[2]:
            found = db.session.scalars(
                select(City.id).where(
                    City.name_en.ilike(parts[2][:200]), City.merged_into_id.is_(None)
                )
            ).first()
            if found is None:
                raise ServiceError(
                    _l("There is no city called %(name)s in the directory.", name=parts[2][:200]),
                    field="speakers",
                )
            city_id = found
        if not name:
            raise ServiceError(_l("Give each speaker's name."), field="speakers")
        speakers.append(SpeakerData(name, role, city_id))
    if len(speakers) > MAX_SPEAKERS:
        raise ServiceError(_l("At most 50 speakers."), field="speakers")
    return speakers


def speakers_text(event: Event) -> str:
    lines = []
    for s in event.speakers:
        parts = [s.name, s.role, s.city.name_en if s.city else ""]
        while parts and not parts[-1]:
            parts.pop()
        lines.append(" | ".join(parts))
    return "\n".join(lines)


def _validate(data: EventData, event: Event | None) -> dict:
    try:
        kind = EventKind(data.kind)
    except ValueError:
        raise ServiceError(_l("Choose a kind of event from the list."), field="kind") from None
    try:
        visibility = EventVisibility(data.visibility)
    except ValueError:
        raise ServiceError(_l("Choose who may see the event."), field="visibility") from None
    title_en = _plain(data.title_en, "title_en", MAX_TITLE)
    title_ko = _plain(data.title_ko, "title_ko", MAX_TITLE)
    if not title_en and not title_ko:
        raise ServiceError(_l("Give the title in English or in Korean."), field="title_en")
    for name in ("description_en", "description_ko"):
        if len(getattr(data, name) or "") > MAX_DESCRIPTION:
            raise ServiceError(_l("Use at most %(max)d characters.", max=MAX_DESCRIPTION), name)
    if zone_or_none(data.timezone) is None:
        raise ServiceError(_l("Choose a time zone from the list."), field="timezone")
    starts_at = to_utc(data.start, data.timezone, "start_time")
    ends_at = to_utc(data.end, data.timezone, "end_time")
    if ends_at <= starts_at:
        raise ServiceError(_l("The event must end after it starts."), field="end_time")
    parent = None
    if data.parent_id:
        parent = db.session.get(Event, data.parent_id)
        if parent is None or parent.kind != EventKind.SUMMIT or (event and parent.id == event.id):
            raise ServiceError(_l("Choose a summit from the list."), field="parent_id")
        if kind == EventKind.SUMMIT:
            raise ServiceError(_l("A summit cannot be part of another."), field="parent_id")
    area = db.session.get(Area, data.area_id) if data.area_id else None
    if data.area_id and area is None:
        raise ServiceError(_l("Choose an area from the list."), field="area_id")
    languages = list(dict.fromkeys(data.interpretation))
    if any(code not in INTERPRETATION_LANGUAGES for code in languages):
        raise ServiceError(_l("Choose languages from the list."), field="interpretation")
    countries = list(dict.fromkeys(c.upper() for c in data.countries))
    if any(not is_country_code(c) for c in countries):
        raise ServiceError(_l("Choose countries from the list."), field="countries")
    cities = (
        list(db.session.scalars(select(City).where(City.id.in_(data.city_ids))))
        if data.city_ids
        else []
    )
    if len(cities) != len(set(data.city_ids)):
        raise ServiceError(_l("Choose cities from the list."), field="city_ids")
    speakers = [
        SpeakerData(_plain(s.name, "speakers", 200), _plain(s.role, "speakers", 300), s.city_id)
        for s in data.speakers
    ]
    if any(not s.name for s in speakers):
        raise ServiceError(_l("Give each speaker's name."), field="speakers")
    return {
        "kind": kind,
        "visibility": visibility,
        "title_en": title_en,
        "title_ko": title_ko,
        "description_en": (data.description_en or "").strip(),
        "description_ko": (data.description_ko or "").strip(),
        "timezone": data.timezone,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "parent_id": parent.id if parent else None,
        "area_id": area.id if area else None,
        "organiser": _plain(data.organiser, "organiser", 200),
        "venue": _plain(data.venue, "venue", 300),
        "stream_url": _url(data.stream_url, "stream_url"),
        "stream_url_ko": _url(data.stream_url_ko, "stream_url_ko"),
        "recording_url": _url(data.recording_url, "recording_url"),
        "interpretation": languages,
        "countries": countries,
        "_cities": cities,
        "_speakers": speakers,
    }


def _apply(event: Event, values: dict) -> list[str]:
    """Set the values; returns the names of the fields that changed."""
    changed = []
    for name, value in values.items():
        if name.startswith("_"):
            continue
        if getattr(event, name) != value:
            setattr(event, name, value)
            changed.append(name)
    if [c.id for c in event.cities] != [c.id for c in values["_cities"]]:
        event.cities = sorted(values["_cities"], key=lambda c: c.name_en)
        changed.append("cities")
    new_speakers = [(s.name, s.role, s.city_id) for s in values["_speakers"]]
    if [(s.name, s.role, s.city_id) for s in event.speakers] != new_speakers:
        event.speakers.clear()
        db.session.flush()
        for position, (name, role, city_id) in enumerate(new_speakers):
            event.speakers.append(
                EventSpeaker(position=position, name=name, role=role, city_id=city_id)
            )
        changed.append("speakers")
    event.search_text = search_key(
        event.title_en,
        event.title_ko,
        event.description_en,
        event.description_ko,
        event.organiser,
        event.venue,
        *(s.name for s in values["_speakers"]),
        *(c.name_en for c in values["_cities"]),
    )
    return changed


def create_event(actor, data: EventData, uid: str | None = None) -> Event:
    """The secretariat adds an event (a draft, or published at once). Times are converted to
    UTC from the local time where it is held; nothing is stored when any value is refused."""
    require_secretariat(actor)
    values = _validate(data, None)
    event = Event(
        created_by_id=getattr(actor, "id", None),
        state=EventState.PUBLISHED if data.publish else EventState.DRAFT,
    )
    if uid:
        event.uid = uid
    db.session.add(event)
    _apply(event, values)
    db.session.flush()
    audit.record(
        "event_created", event, actor=actor, to_state=event.state.value,
        details={"title": event.title("en"), "starts_at": event.starts_at.isoformat()},
    )  # fmt: skip
    db.session.commit()
    return event


def update_event(actor, event: Event, data: EventData) -> Event:
    """The secretariat changes an event; calendars see a higher SEQUENCE when anything shown in
    them changed. A draft may be published here; a cancelled event stays cancelled."""
    require_secretariat(actor)
    values = _validate(data, event)
    changed = _apply(event, values)
    if data.publish and event.state == EventState.DRAFT:
        event.state = EventState.PUBLISHED
        changed.append("state")
    if changed:
        event.sequence += 1
        audit.record("event_updated", event, actor=actor, details={"changed": changed})
    db.session.commit()
    return event


def cancel_event(actor, event: Event, reason: str = "") -> Event:
    """The secretariat cancels an event: it stays listed (and in calendars, as CANCELLED)."""
    require_secretariat(actor)
    if event.state == EventState.CANCELLED:
        raise StateConflict(_l("This event is already cancelled."))
    from_state = event.state.value
    event.state = EventState.CANCELLED
    event.sequence += 1
    audit.record(
        "event_cancelled", event, actor=actor, from_state=from_state, to_state="cancelled",
        reason=_plain(reason, "reason", 500) or None,
    )  # fmt: skip
    db.session.commit()
    return event


# --- registrations ----------------------------------------------------------------------------


def can_register(viewer) -> bool:
    """Delegates of an approved member city register their attendance."""
    return (
        viewer is not None
        and getattr(viewer, "is_authenticated", False)
        and not viewer.is_secretariat
        and viewer.city is not None
        and viewer.acts_for_active_city
    )


def registration_of(viewer, event: Event) -> EventRegistration | None:
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return None
    return db.session.scalar(
        select(EventRegistration).where(
            EventRegistration.event_id == event.id, EventRegistration.user_id == viewer.id
        )
    )


def register(actor, event: Event) -> EventRegistration:
    """A delegate of an approved member city registers for an event they can see that has not
    ended and is not cancelled; registering twice is refused."""
    if not can_register(actor):
        raise PermissionDenied(_l("Only delegates of member cities register for events."))
    if not can_see(actor, event) or event.state != EventState.PUBLISHED:
        raise StateConflict(_l("Registration is not open for this event."))
    if event.is_past:
        raise StateConflict(_l("This event is over."))
    registration = registration_of(actor, event)
    if registration is not None and not registration.cancelled:
        raise StateConflict(_l("You are already registered for this event."))
    if registration is None:
        registration = EventRegistration(event_id=event.id, user_id=actor.id)
        db.session.add(registration)
    else:
        registration.cancelled_at = None
        registration.created_at = utcnow()
    db.session.flush()
    audit.record("event_registered", event, actor=actor)
    db.session.commit()
    return registration


def cancel_registration(actor, event: Event) -> EventRegistration:
    """A delegate withdraws their registration (kept, marked cancelled)."""
    registration = registration_of(actor, event)
    if registration is None or registration.cancelled:
        raise StateConflict(_l("You are not registered for this event."))
    registration.cancelled_at = utcnow()
    audit.record("event_registration_cancelled", event, actor=actor)
    db.session.commit()
    return registration


def registrations(actor, event: Event) -> list[EventRegistration]:
    """The secretariat's list of an event's registrations, active first, then by date."""
    require_secretariat(actor)
    from cacnet.accounts.models import User

    stmt = (
        select(EventRegistration)
        .join(User, EventRegistration.user_id == User.id)
        .where(EventRegistration.event_id == event.id)
        .options(selectinload(EventRegistration.user).selectinload(User.city))
        .order_by(
            EventRegistration.cancelled_at.is_not(None), EventRegistration.created_at, User.id
        )
    )
    return list(db.session.scalars(stmt))


def registration_counts(event_ids: list[int]) -> dict[int, int]:
    from sqlalchemy import func

    if not event_ids:
        return {}
    rows = db.session.execute(
        select(EventRegistration.event_id, func.count())
        .where(EventRegistration.event_id.in_(event_ids), EventRegistration.cancelled_at.is_(None))
        .group_by(EventRegistration.event_id)
    )
    return dict(rows.all())


def summits() -> list[Event]:
    return list(
        db.session.scalars(
            select(Event).where(Event.kind == EventKind.SUMMIT).order_by(Event.starts_at.desc())
        )
    )


def local_parts(event: Event) -> tuple[date, time, date, time]:
    start = event.starts_at.astimezone(event.zone)
    end = event.ends_at.astimezone(event.zone)
    return (
        start.date(),
        start.time().replace(tzinfo=None),
        end.date(),
        end.time().replace(tzinfo=None),
    )
