"""Every change of an alert, each one function that checks who acts, validates, changes, writes
an audit record, and queues its notifications for after the commit. The pages call these; the
caller commits.

Notifications are never sent from here: a change that tells other cities (publishing, an update,
an escalation, closing) queues one background job, ``cacnet.alerts.fanout.fan_out``, after the
commit; the job finds the recipients and queues one delivery each (``cacnet.core.deliveries``).

A change of an alert's state first takes the alert's row lock (``SELECT … FOR UPDATE`` on
PostgreSQL; on SQLite a write to the row, which takes the database's write lock), then reads the
state again, so two requests closing (or updating and closing) the same alert run one after the
other and the second sees the first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from cacnet.alerts import visibility
from cacnet.alerts.models import (
    SEVERITY_RANK,
    AckKind,
    Alert,
    AlertAcknowledgement,
    AlertDocument,
    AlertLink,
    AlertState,
    AlertSubscription,
    AlertUpdate,
    Severity,
    SignalType,
    UpdateKind,
)
from cacnet.cities.models import City, Contact
from cacnet.core import audit, uploads
from cacnet.core.cache import delete_after_commit
from cacnet.core.db import db, utcnow
from cacnet.core.errors import PermissionDenied, ServiceError, StateConflict
from cacnet.core.jobs import enqueue_after_commit
from cacnet.core.permissions import (
    require_acting_delegate,
    require_city_admin,
    require_network_member,
    require_secretariat,
)

MAX_WHAT = 200
MAX_DISTRICT = 200
MAX_TEXT = 10000
MAX_NOTE = 2000
MAX_UPDATE = 5000
MAX_SOURCES = 20
MAX_URL = 500
MAX_CONTACT_TEXT = 500
MAX_COUNT = 100_000_000
MAX_DOCUMENTS = 5
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
BANNER_DAYS = 14
BANNER_SIZE = 5
FEED_CACHE_KEY = "alerts:public"

_URL = re.compile(r"https?://[^\s/?#<>\"']+\.[^\s/?#<>\"']+(?:[/?#][^\s<>\"']*)?", re.IGNORECASE)
_CONTROL = {chr(c) for c in range(32)} - {"\n", "\r", "\t"}

# Suggestions for "what" (pathogens and syndromes), as cities name them in reports. Data, not
# interface: an alert's "what" reads the same for every member, so these are not translated.
WHAT_SUGGESTIONS = (
    "COVID-19", "SARS-CoV-2 variant", "Influenza A(H5N1)", "Influenza A(H1N1)",
    "Influenza-like illness (ILI)", "Severe acute respiratory infection (SARI)", "MERS-CoV",
    "Measles", "Mpox", "Cholera", "Acute watery diarrhoea", "Dengue", "Zika", "Chikungunya",
    "Malaria", "Tuberculosis (MDR/XDR)", "Ebola virus disease", "Marburg virus disease",
    "Lassa fever", "Meningococcal disease", "Diphtheria", "Pertussis", "Hepatitis A",
    "Typhoid fever", "Legionellosis", "Food poisoning", "Unexplained fever",
    "Unexplained deaths", "Acute flaccid paralysis",
)  # fmt: skip


# --- who may act -------------------------------------------------------------------------------


MEMBERS_ONLY = _l("Alerts are for delegates of member cities.")


def require_member(viewer) -> None:
    require_network_member(viewer, MEMBERS_ONLY)


def require_active_delegate(actor) -> None:
    """Raising, acknowledging and updating act for the city."""
    require_acting_delegate(actor, MEMBERS_ONLY, _l("Only delegates of a member city can do this."))


def require_raising_city(actor, alert: Alert) -> None:
    require_active_delegate(actor)
    if actor.city_id != alert.city_id:
        raise PermissionDenied(_l("Only the city that raised this alert can do that."))


def can_raise(viewer) -> bool:
    return visibility.is_member(viewer) and bool(
        viewer.city_id is not None and viewer.acts_for_active_city
    )


def can_acknowledge(viewer, alert: Alert) -> bool:
    return (
        can_raise(viewer)
        and alert.state == AlertState.PUBLISHED
        and viewer.city_id != alert.city_id
    )


# --- validation --------------------------------------------------------------------------------


def parse_count(value, field: str) -> int | None:
    """A count of people: empty (not known) or a whole number from 0 up."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ServiceError(_l("Give a whole number of 0 or more."), field=field)
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip().replace(",", "").replace(" ", "")
        if not text:
            return None
        if text.startswith("-") and text[1:].isdigit():
            raise ServiceError(_l("A count cannot be negative."), field=field)
        if not text.isdigit() or not text.isascii():
            raise ServiceError(_l("Give a whole number of 0 or more."), field=field)
        number = int(text)
    if number < 0:
        raise ServiceError(_l("A count cannot be negative."), field=field)
    if number > MAX_COUNT:
        raise ServiceError(_l("That number is too large."), field=field)
    return number


def _plain(text: str | None, limit: int, field: str, *, one_line: bool = False) -> str:
    value = (text or "").strip()
    if len(value) > limit:
        raise ServiceError(_l("Use at most %(max)d characters.", max=limit), field=field)
    bad = _CONTROL | ({"\n", "\r"} if one_line else set())
    if any(c in bad for c in value) or (one_line and ("<" in value or ">" in value)):
        raise ServiceError(_l("Use plain text, without < or > or control characters."), field=field)
    return value


def parse_sources(text: str | None) -> str:
    """Links to sources, one http(s) address per line; returned one per line, blank lines out."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if len(lines) > MAX_SOURCES:
        raise ServiceError(_l("Give at most %(max)d links.", max=MAX_SOURCES), field="sources")
    for line in lines:
        if len(line) > MAX_URL or not _URL.fullmatch(line):
            raise ServiceError(
                _l("Each line must be one web address starting with http:// or https://: "
                   "%(line)s", line=line[:80]),
                field="sources",
            )  # fmt: skip
    return "\n".join(lines)


@dataclass
class AlertData:
    what: str = ""
    signal_type: str = ""
    severity: str = ""
    district: str = ""
    first_observed_on: date | None = None
    cases: object = None
    deaths: object = None
    actions: str = ""
    sources: str = ""
    contact_id: int | None = None
    contact_text: str = ""


def _validate(actor, data: AlertData, today: date) -> dict:
    """Everything a draft must already get right (what may still be missing is checked on
    publishing): known choices, no future date, counts that are whole numbers from 0, links."""
    try:
        signal_type = SignalType(data.signal_type) if data.signal_type else SignalType.OTHER
    except ValueError:
        raise ServiceError(_l("Choose the type of signal."), field="signal_type")
    try:
        severity = Severity(data.severity) if data.severity else Severity.WATCH
    except ValueError:
        raise ServiceError(_l("Choose the severity."), field="severity")
    if data.first_observed_on is not None and data.first_observed_on > today:
        raise ServiceError(
            _l("The date first observed cannot be in the future."), field="first_observed_on"
        )
    if data.first_observed_on is not None and data.first_observed_on < date(2000, 1, 1):
        raise ServiceError(_l("Check the date first observed."), field="first_observed_on")
    contact = None
    if data.contact_id:
        contact = db.session.get(Contact, data.contact_id)
        if contact is None or contact.city_id != actor.city_id:
            raise ServiceError(_l("Choose one of your city's contacts."), field="contact_id")
    return {
        "what": _plain(data.what, MAX_WHAT, "what", one_line=True),
        "signal_type": signal_type,
        "severity": severity,
        "district": _plain(data.district, MAX_DISTRICT, "district", one_line=True),
        "first_observed_on": data.first_observed_on,
        "cases": parse_count(data.cases, "cases"),
        "deaths": parse_count(data.deaths, "deaths"),
        "actions": _plain(data.actions, MAX_TEXT, "actions"),
        "sources": parse_sources(data.sources),
        "contact_id": contact.id if contact else None,
        "contact_text": _plain(data.contact_text, MAX_CONTACT_TEXT, "contact_text"),
    }


def _check_publishable(alert: Alert, today: date) -> None:
    if not alert.what:
        raise ServiceError(
            _l("Say what the alert is about: a pathogen or a syndrome."), field="what"
        )
    if alert.first_observed_on is None:
        raise ServiceError(_l("Give the date it was first observed."), field="first_observed_on")
    if alert.first_observed_on > today:
        raise ServiceError(
            _l("The date first observed cannot be in the future."), field="first_observed_on"
        )
    if not (alert.contact_id or alert.contact_text):
        raise ServiceError(
            _l("Say who other cities should contact: one of your contacts, or a name and "
               "an address."),
            field="contact_id",
        )  # fmt: skip


def _lock(alert: Alert) -> None:
    """Serialize the changes of one alert (see the module docstring)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(Alert.id).where(Alert.id == alert.id).with_for_update())
    else:
        db.session.execute(
            update(Alert)
            .where(Alert.id == alert.id)
            .values(updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    db.session.refresh(alert)


def _fan_out(alert: Alert, update_id: int = 0) -> None:
    enqueue_after_commit("cacnet.alerts.fanout.fan_out", alert.id, update_id)


def alert_link(alert: Alert) -> str:
    return url_for("alerts.alert_page", uuid=alert.uuid, _external=True)


# --- raising -----------------------------------------------------------------------------------


def create_alert(actor, data: AlertData, *, publish: bool = False,
                 today: date | None = None) -> Alert:  # fmt: skip
    """A delegate of an approved city raises an alert for the city: saved as a draft (only the
    city sees it), or published at once when ``publish`` (then complete, or nothing is saved)."""
    require_active_delegate(actor)
    today = today or date.today()
    values = _validate(actor, data, today)
    alert = Alert(city_id=actor.city_id, raised_by_id=actor.id, state=AlertState.DRAFT, **values)
    if publish:
        _check_publishable(alert, today)
    db.session.add(alert)
    db.session.flush()
    audit.record("alert_drafted", alert, actor=actor, to_state=AlertState.DRAFT.value)
    if publish:
        _publish(actor, alert)
    return alert


def update_draft(actor, alert: Alert, data: AlertData, today: date | None = None) -> None:
    """The raising city changes its draft. A published alert is not edited: it takes updates."""
    require_raising_city(actor, alert)
    _lock(alert)
    if alert.state != AlertState.DRAFT:
        raise StateConflict(_l("A published alert cannot be changed; post an update instead."))
    for key, value in _validate(actor, data, today or date.today()).items():
        setattr(alert, key, value)
    audit.record("alert_draft_saved", alert, actor=actor)


def publish(actor, alert: Alert, today: date | None = None) -> None:
    """The raising city publishes its draft: every member city sees it, and the subscribed focal
    points of the others are e-mailed (in the background, after the commit)."""
    require_raising_city(actor, alert)
    _lock(alert)
    if alert.state != AlertState.DRAFT:
        raise StateConflict(_l("This alert is already published."))
    _check_publishable(alert, today or date.today())
    _publish(actor, alert)


def _publish(actor, alert: Alert) -> None:
    alert.state = AlertState.PUBLISHED
    alert.published_at = utcnow()
    db.session.flush()
    audit.record("alert_published", alert, actor=actor, from_state=AlertState.DRAFT.value,
                 to_state=AlertState.PUBLISHED.value,
                 details={"severity": alert.severity.value, "what": alert.what})  # fmt: skip
    _fan_out(alert)


def discard_draft(actor, alert: Alert) -> None:
    """The raising city throws its draft away (it was never seen by anyone else)."""
    require_raising_city(actor, alert)
    _lock(alert)
    if alert.state != AlertState.DRAFT:
        raise StateConflict(_l("Only a draft can be discarded."))
    audit.record("alert_draft_discarded", alert, actor=actor, from_state=AlertState.DRAFT.value)
    for document in list(alert.documents):
        db.session.delete(document)
    db.session.delete(alert)


# --- documents ---------------------------------------------------------------------------------


def _document_type(data: bytes) -> str:
    kind = uploads.sniff_document(data)
    if kind is None:
        raise ServiceError(_l("Attach a PDF document or a PNG, JPEG or WebP image."),
                           field="documents")  # fmt: skip
    return kind


def add_document(actor, alert: Alert, filename: str, data: bytes) -> AlertDocument:
    """The raising city attaches a document to its open alert or draft."""
    require_raising_city(actor, alert)
    if alert.state == AlertState.CLOSED:
        raise StateConflict(_l("This alert is closed."))
    if not data:
        raise ServiceError(_l("The file is empty."), field="documents")
    if len(data) > MAX_DOCUMENT_BYTES:
        raise ServiceError(_l("A document may be at most 10 MB."), field="documents")
    count = db.session.scalar(
        select(func.count(AlertDocument.id)).where(AlertDocument.alert_id == alert.id)
    )
    if count >= MAX_DOCUMENTS:
        raise ServiceError(
            _l("An alert can have at most %(max)d documents.", max=MAX_DOCUMENTS),
            field="documents",
        )
    content_type = _document_type(data)
    extension = uploads.DOCUMENT_TYPES[content_type]
    name = uploads.safe_filename(filename, extension)
    digest = uploads.store(data, "alerts", extension)
    existing = db.session.scalar(
        select(AlertDocument).where(
            AlertDocument.alert_id == alert.id, AlertDocument.sha256 == digest
        )  # fmt: skip
    )
    if existing is not None:
        return existing
    document = AlertDocument(alert_id=alert.id, sha256=digest, filename=name,
                             content_type=content_type, size=len(data),
                             uploaded_by_id=actor.id)  # fmt: skip
    db.session.add(document)
    db.session.flush()
    audit.record("alert_document_added", alert, actor=actor,
                 details={"document": document.id, "sha256": digest, "filename": name})  # fmt: skip
    return document


def remove_document(actor, document: AlertDocument) -> None:
    alert = document.alert
    require_raising_city(actor, alert)
    if alert.state == AlertState.CLOSED:
        raise StateConflict(_l("This alert is closed."))
    audit.record("alert_document_removed", alert, actor=actor,
                 details={"document": document.id, "sha256": document.sha256})  # fmt: skip
    db.session.delete(document)


# --- acknowledging -----------------------------------------------------------------------------


def acknowledge(actor, alert: Alert, kind: str, note: str = "",
                similar_alert: Alert | None = None) -> AlertAcknowledgement:  # fmt: skip
    """Another member city answers the alert, once: seen, we are checking, or we have similar
    signals (optionally naming its own alert about them, which links the two alerts)."""
    require_active_delegate(actor)
    if alert.city_id == actor.city_id:
        raise StateConflict(_l("Your city raised this alert; other cities acknowledge it."))
    if alert.state != AlertState.PUBLISHED:
        raise StateConflict(_l("This alert is closed; it no longer takes acknowledgements."))
    try:
        ack_kind = AckKind(kind)
    except ValueError:
        raise ServiceError(_l("Choose how your city answers."), field="kind")
    text = _plain(note, MAX_NOTE, "note")
    if similar_alert is not None:
        if ack_kind != AckKind.SIMILAR:
            raise ServiceError(_l("Link an alert of your city only with 'we have similar "
                                  "signals'."), field="similar_alert")  # fmt: skip
        if similar_alert.city_id != actor.city_id or similar_alert.state == AlertState.DRAFT:
            raise ServiceError(_l("Choose a published alert of your city."),
                               field="similar_alert")  # fmt: skip
    earlier = _acknowledgement_of(alert, actor.city_id)
    if earlier is not None:
        raise StateConflict(_already(earlier))
    ack = AlertAcknowledgement(alert_id=alert.id, city_id=actor.city_id, user_id=actor.id,
                               kind=ack_kind, note=text,
                               similar_alert_id=similar_alert.id if similar_alert else None)  # fmt: skip
    try:
        with db.session.begin_nested():
            db.session.add(ack)
    except IntegrityError:  # another delegate of the city acknowledged at the same moment
        raise StateConflict(_already(_acknowledgement_of(alert, actor.city_id)))
    if similar_alert is not None:
        link_alerts(actor, alert, similar_alert)
    audit.record("alert_acknowledged", alert, actor=actor, to_state=ack_kind.value,
                 details={"city_id": actor.city_id})  # fmt: skip
    return ack


def _acknowledgement_of(alert: Alert, city_id: int) -> AlertAcknowledgement | None:
    return db.session.scalar(
        select(AlertAcknowledgement).where(
            AlertAcknowledgement.alert_id == alert.id, AlertAcknowledgement.city_id == city_id
        )
    )


def _already(ack: AlertAcknowledgement | None):
    if ack is None:
        return _l("Your city has already acknowledged this alert.")
    return _l("Your city already acknowledged this alert on %(date)s.",
              date=ack.created_at.date().isoformat())  # fmt: skip


def link_alerts(actor, one: Alert, other: Alert) -> None:
    """Record that two alerts are related (once per pair, in either direction)."""
    low, high = sorted((one.id, other.id))
    if low == high:
        return
    known = db.session.scalar(
        select(AlertLink.id).where(AlertLink.alert_id == low, AlertLink.other_alert_id == high)
    )
    if known is None:
        try:
            with db.session.begin_nested():
                db.session.add(AlertLink(alert_id=low, other_alert_id=high,
                                         created_by_id=getattr(actor, "id", None)))  # fmt: skip
        except IntegrityError:
            pass  # made by a concurrent request: the pair is linked either way


def related_alerts(viewer, alert: Alert) -> list[Alert]:
    """The alerts linked to ``alert`` that ``viewer`` may see."""
    ids = db.session.execute(
        select(AlertLink.alert_id, AlertLink.other_alert_id).where(
            (AlertLink.alert_id == alert.id) | (AlertLink.other_alert_id == alert.id)
        )
    ).all()
    others = {b if a == alert.id else a for a, b in ids}
    if not others:
        return []
    return list(
        db.session.scalars(
            select(Alert)
            .where(Alert.id.in_(others), visibility.visible_condition(viewer))
            .options(selectinload(Alert.city))
            .order_by(Alert.published_at.desc())
        )
    )


# --- updates, closing --------------------------------------------------------------------------


def post_update(actor, alert: Alert, body: str, cases=None, deaths=None) -> AlertUpdate:
    """The raising city tells what happened next (new counts, measures). New counts replace the
    alert's; the cities that acknowledged the alert are e-mailed."""
    require_raising_city(actor, alert)
    text = _plain(body, MAX_UPDATE, "body")
    if not text:
        raise ServiceError(_l("Write the update."), field="body")
    new_cases, new_deaths = parse_count(cases, "cases"), parse_count(deaths, "deaths")
    _lock(alert)
    if alert.state != AlertState.PUBLISHED:
        raise StateConflict(_l("Only an open alert takes updates."))
    entry = AlertUpdate(alert_id=alert.id, author_id=actor.id, city_id=actor.city_id,
                        kind=UpdateKind.UPDATE, body=text, cases=new_cases, deaths=new_deaths)  # fmt: skip
    db.session.add(entry)
    if new_cases is not None:
        alert.cases = new_cases
    if new_deaths is not None:
        alert.deaths = new_deaths
    db.session.flush()
    audit.record("alert_updated", alert, actor=actor,
                 details={"update": entry.id, "cases": new_cases, "deaths": new_deaths})  # fmt: skip
    _fan_out(alert, entry.id)
    return entry


def close_alert(actor, alert: Alert, summary: str) -> AlertUpdate:
    """The raising city (or the secretariat) closes the alert with a summary; the cities that
    acknowledged it are e-mailed."""
    if not (getattr(actor, "is_authenticated", False) and actor.is_secretariat):
        require_raising_city(actor, alert)
    text = _plain(summary, MAX_UPDATE, "summary")
    if not text:
        raise ServiceError(_l("Write a closing summary: what happened, and what was done."),
                           field="summary")  # fmt: skip
    _lock(alert)
    if alert.state != AlertState.PUBLISHED:
        raise StateConflict(
            _l("This alert is already closed.")
            if alert.state == AlertState.CLOSED
            else _l("A draft cannot be closed; discard it instead.")
        )
    alert.state = AlertState.CLOSED
    alert.closed_at = utcnow()
    alert.closing_summary = text
    entry = AlertUpdate(alert_id=alert.id, author_id=actor.id, city_id=actor.city_id,
                        kind=UpdateKind.CLOSURE, body=text)  # fmt: skip
    db.session.add(entry)
    db.session.flush()
    audit.record("alert_closed", alert, actor=actor, from_state=AlertState.PUBLISHED.value,
                 to_state=AlertState.CLOSED.value, reason=text)  # fmt: skip
    if alert.is_public_notice:
        delete_after_commit(FEED_CACHE_KEY)
    _fan_out(alert, entry.id)
    return entry


# --- the secretariat ---------------------------------------------------------------------------


def escalate(actor, alert: Alert, severity: str, reason: str) -> AlertUpdate:
    """The secretariat raises an open alert's severity, with a reason. Every member city hears
    of it as of a new alert (an emergency reaches every city's primary focal point)."""
    require_secretariat(actor)
    try:
        target = Severity(severity)
    except ValueError:
        raise ServiceError(_l("Choose the severity."), field="severity")
    text = _plain(reason, MAX_NOTE, "reason")
    if not text:
        raise ServiceError(_l("Give the reason for the escalation; members read it."),
                           field="reason")  # fmt: skip
    _lock(alert)
    if alert.state != AlertState.PUBLISHED:
        raise StateConflict(_l("Only an open alert can be escalated."))
    if SEVERITY_RANK[target] <= SEVERITY_RANK[alert.severity]:
        raise ServiceError(_l("Choose a severity higher than the alert's present one."),
                           field="severity")  # fmt: skip
    previous = alert.severity
    alert.severity = target
    alert.escalated_at = utcnow()
    entry = AlertUpdate(alert_id=alert.id, author_id=actor.id, city_id=None,
                        kind=UpdateKind.ESCALATION, body=text, severity_from=previous,
                        severity_to=target)  # fmt: skip
    db.session.add(entry)
    db.session.flush()
    audit.record("alert_escalated", alert, actor=actor, from_state=previous.value,
                 to_state=target.value, reason=text)  # fmt: skip
    if alert.is_public_notice:
        delete_after_commit(FEED_CACHE_KEY)
    _fan_out(alert, entry.id)
    return entry


def set_public_notice(actor, alert: Alert, public: bool, reason: str = "") -> None:
    """The secretariat makes a published (or closed) alert a public notice, or takes it back:
    it then appears, with its public fields only, on /alerts/public and in /alerts.atom."""
    require_secretariat(actor)
    _lock(alert)
    if alert.state == AlertState.DRAFT:
        raise StateConflict(_l("A draft cannot be a public notice."))
    if alert.is_public_notice == public:
        raise StateConflict(
            _l("This alert is already a public notice.")
            if public
            else _l("This alert is not a public notice.")
        )
    alert.is_public_notice = public
    alert.public_notice_at = utcnow() if public else None
    audit.record("alert_public_notice" if public else "alert_public_notice_withdrawn", alert,
                 actor=actor, reason=_plain(reason, MAX_NOTE, "reason") or None)  # fmt: skip
    delete_after_commit(FEED_CACHE_KEY)


# --- subscriptions -----------------------------------------------------------------------------


@dataclass
class SubscriptionRow:
    contact: Contact
    subscribed: bool
    explicit: bool  # chosen by a city administrator, not the default


def subscription_rows(viewer, city: City) -> list[SubscriptionRow]:
    """The city's contacts, and whether each receives alert mail."""
    require_member(viewer)
    if not viewer.is_secretariat and viewer.city_id != city.id:
        raise PermissionDenied(_l("Only your own city's alert mail can be seen here."))
    rows = db.session.execute(
        select(Contact, AlertSubscription.subscribed)
        .outerjoin(AlertSubscription, AlertSubscription.contact_id == Contact.id)
        .where(Contact.city_id == city.id)
        .order_by(Contact.position, Contact.id)
    ).all()
    return [
        SubscriptionRow(
            contact, contact.is_primary if chosen is None else chosen, chosen is not None
        )
        for contact, chosen in rows
    ]


def set_subscriptions(actor, city: City, contact_ids) -> list[SubscriptionRow]:
    """A city administrator chooses which of the city's focal points receive alert mail (none is
    allowed: then only emergencies reach the primary focal point)."""
    require_city_admin(actor)
    if actor.city_id != city.id:
        raise PermissionDenied(_l("Only your own city's alert mail can be changed here."))
    try:
        wanted = {int(i) for i in contact_ids or ()}
    except (TypeError, ValueError):
        raise ServiceError(_l("Choose contacts from the list."), field="contacts")
    contacts = {
        c.id: c for c in db.session.scalars(select(Contact).where(Contact.city_id == city.id))
    }
    if not wanted <= set(contacts):
        raise ServiceError(_l("Choose contacts from the list."), field="contacts")
    if any(not contacts[i].email for i in wanted):
        raise ServiceError(_l("A contact without an e-mail address cannot receive alerts."),
                           field="contacts")  # fmt: skip
    existing = {
        s.contact_id: s
        for s in db.session.scalars(
            select(AlertSubscription).where(AlertSubscription.contact_id.in_(list(contacts)))
        )
    }
    changed = {}
    for contact_id in contacts:
        subscribed = contact_id in wanted
        row = existing.get(contact_id)
        if row is None:
            db.session.add(AlertSubscription(contact_id=contact_id, subscribed=subscribed,
                                             changed_by_id=actor.id))  # fmt: skip
            changed[contact_id] = subscribed
        elif row.subscribed != subscribed:
            row.subscribed = subscribed
            row.changed_by_id = actor.id
            changed[contact_id] = subscribed
    db.session.flush()
    audit.record("alert_subscriptions_changed", city, actor=actor,
                 details={"subscribed": sorted(wanted),
                          "changed": {str(k): v for k, v in changed.items()}})  # fmt: skip
    return subscription_rows(actor, city)


# --- reading -----------------------------------------------------------------------------------


def visible_alert(viewer, uuid: str) -> Alert | None:
    alert = db.session.scalar(
        select(Alert).where(Alert.uuid == uuid).options(selectinload(Alert.city))
    )
    if alert is None or not visibility.can_see(viewer, alert):
        return None
    return alert


LIST_STATES = ("open", "closed", "drafts", "all")


@dataclass
class AlertQuery:
    severity: str = ""
    state: str = "open"
    city: str = ""  # a slug
    page: int = 1
    per_page: int = 25


def list_select(viewer, query: AlertQuery):
    """The alerts a list shows ``viewer``: open ones by default, most severe and newest first."""
    stmt = select(Alert).where(visibility.visible_condition(viewer))
    state = query.state if query.state in LIST_STATES else "open"
    if state == "open":
        stmt = stmt.where(Alert.state == AlertState.PUBLISHED)
    elif state == "closed":
        stmt = stmt.where(Alert.state == AlertState.CLOSED)
    elif state == "drafts":
        stmt = stmt.where(Alert.state == AlertState.DRAFT)
    if query.severity in {s.value for s in Severity}:
        stmt = stmt.where(Alert.severity == Severity(query.severity))
    if query.city:
        stmt = stmt.join(City, City.id == Alert.city_id).where(City.slug == query.city[:120])
    return stmt.order_by(
        case(
            (Alert.state == AlertState.PUBLISHED, 0), (Alert.state == AlertState.CLOSED, 1), else_=2
        ),
        Alert.severity,  # most severe first (see models.SEVERITY_RANK)
        Alert.published_at.desc().nulls_last(),
        Alert.id.desc(),
    )


def list_page(viewer, query: AlertQuery):
    require_member(viewer)
    stmt = list_select(viewer, query).options(selectinload(Alert.city))
    return db.paginate(stmt, page=max(query.page, 1), per_page=query.per_page, error_out=False)


def public_notices(limit: int = 50, page: int = 1):
    stmt = (
        select(Alert)
        .where(visibility.public_condition())
        .options(selectinload(Alert.city))
        .order_by(Alert.published_at.desc(), Alert.id.desc())
    )
    return db.paginate(stmt, page=max(page, 1), per_page=limit, error_out=False)


def alert_cities(viewer) -> list[City]:
    """The cities with alerts ``viewer`` may see (the list's city filter)."""
    return list(
        db.session.scalars(
            select(City)
            .where(exists().where(Alert.city_id == City.id, visibility.visible_condition(viewer)))
            .order_by(City.name_en)
        )
    )


def acknowledgements(alert: Alert) -> list[AlertAcknowledgement]:
    return list(
        db.session.scalars(
            select(AlertAcknowledgement)
            .where(AlertAcknowledgement.alert_id == alert.id)
            .options(
                selectinload(AlertAcknowledgement.city),
                selectinload(AlertAcknowledgement.user),
                selectinload(AlertAcknowledgement.similar_alert),
            )
            .order_by(AlertAcknowledgement.created_at, AlertAcknowledgement.id)
        )
    )


def _approved_city_ids():
    from cacnet.membership.models import Membership, MembershipState

    return select(Membership.city_id).where(Membership.state == MembershipState.APPROVED)


def missing_acknowledgements(alert: Alert, limit: int = 500) -> tuple[list[City], int]:
    """Approved member cities (other than the raising one) that have not acknowledged the alert:
    the first ``limit`` by name, and how many there are."""
    condition = and_(
        City.id.in_(_approved_city_ids()),
        City.id != alert.city_id,
        ~exists().where(
            AlertAcknowledgement.alert_id == alert.id, AlertAcknowledgement.city_id == City.id
        ),
    )
    total = db.session.scalar(select(func.count(City.id)).where(condition))
    cities = list(
        db.session.scalars(select(City).where(condition).order_by(City.name_en).limit(limit))
    )
    return cities, total


def updates(alert: Alert) -> list[AlertUpdate]:
    return list(
        db.session.scalars(
            select(AlertUpdate)
            .where(AlertUpdate.alert_id == alert.id)
            .options(selectinload(AlertUpdate.author), selectinload(AlertUpdate.city))
            .order_by(AlertUpdate.id)
        )
    )


def own_alerts(viewer, exclude: Alert | None = None) -> list[Alert]:
    """The viewer's city's published alerts (to name one as 'similar signals')."""
    if viewer.city_id is None:
        return []
    stmt = select(Alert).where(
        Alert.city_id == viewer.city_id, Alert.state.in_(visibility.SHARED_STATES)
    )
    if exclude is not None:
        stmt = stmt.where(Alert.id != exclude.id)
    return list(db.session.scalars(stmt.order_by(Alert.published_at.desc()).limit(50)))


def what_suggestions() -> list[str]:
    """Suggestions for 'what': the usual names, then what recent alerts named."""
    recent = db.session.scalars(
        select(Alert.what)
        .where(Alert.state != AlertState.DRAFT)
        .group_by(Alert.what)
        .order_by(func.max(Alert.published_at).desc())
        .limit(30)
    )
    seen = {s.casefold() for s in WHAT_SUGGESTIONS}
    extra = [w for w in recent if w and w.casefold() not in seen]
    return [*WHAT_SUGGESTIONS, *extra]


def banner_alerts(viewer, today: date | None = None) -> list[Alert]:
    """Open warnings and emergencies of the last ``BANNER_DAYS`` days that the viewer's city has
    not acknowledged (and did not raise); for the secretariat, all of them. One query, up to
    ``BANNER_SIZE + 1`` rows (the extra one says 'and more')."""
    if not visibility.is_member(viewer):
        return []
    since = utcnow() - timedelta(days=BANNER_DAYS)
    stmt = select(Alert).where(
        Alert.state == AlertState.PUBLISHED,
        Alert.severity.in_((Severity.WARNING, Severity.EMERGENCY)),
        Alert.published_at >= since,
    )
    if viewer.city_id is not None:
        stmt = stmt.where(
            Alert.city_id != viewer.city_id,
            ~exists().where(
                AlertAcknowledgement.alert_id == Alert.id,
                AlertAcknowledgement.city_id == viewer.city_id,
            ),
        )
    return list(
        db.session.scalars(
            stmt.options(joinedload(Alert.city))
            .order_by(Alert.severity, Alert.published_at.desc())
            .limit(BANNER_SIZE + 1)
        )
    )


# --- the secretariat's dashboard ---------------------------------------------------------------

AGE_BUCKETS = ((1, _l("under a day")), (7, _l("1 to 7 days")), (30, _l("7 to 30 days")),
               (None, _l("over 30 days")))  # fmt: skip
QUIET_DAYS = 365


@dataclass
class OpenAlertRow:
    alert: Alert
    age_days: int
    acknowledged: int
    asked: int

    @property
    def rate(self) -> float | None:
        return self.acknowledged / self.asked if self.asked else None


def overview(actor, now=None) -> dict:
    """The secretariat's dashboard: open alerts by severity and age, each open alert's
    acknowledgement rate (acknowledging cities over approved member cities other than the raising
    one), and the approved member cities that acknowledged none of the alerts other cities
    published in the last ``QUIET_DAYS`` days."""
    require_secretariat(actor)
    now = now or utcnow()
    approved = _approved_city_ids()
    approved_total = db.session.scalar(select(func.count()).select_from(approved.subquery()))
    open_alerts = list(
        db.session.scalars(
            select(Alert)
            .where(Alert.state == AlertState.PUBLISHED)
            .options(selectinload(Alert.city).selectinload(City.active_membership))
            .order_by(Alert.severity, Alert.published_at)
        )
    )
    ack_counts = dict(
        db.session.execute(
            select(AlertAcknowledgement.alert_id, func.count(AlertAcknowledgement.id))
            .where(AlertAcknowledgement.alert_id.in_([a.id for a in open_alerts]))
            .group_by(AlertAcknowledgement.alert_id)
        ).all()
    ) if open_alerts else {}  # fmt: skip
    rows = []
    grid = {s: [0] * len(AGE_BUCKETS) for s in Severity}
    for alert in open_alerts:
        age = max((now - alert.published_at).days, 0)
        bucket = next(i for i, (limit, _label) in enumerate(AGE_BUCKETS)
                      if limit is None or age < limit)  # fmt: skip
        grid[alert.severity][bucket] += 1
        asked = max(approved_total - (1 if alert.city.is_active_member else 0), 0)
        rows.append(OpenAlertRow(alert, age, ack_counts.get(alert.id, 0), asked))
    since = now - timedelta(days=QUIET_DAYS)
    asked_of = (
        select(Alert.id)
        .where(Alert.state.in_(visibility.SHARED_STATES), Alert.published_at >= since,
               Alert.city_id != City.id)
    )  # fmt: skip
    quiet = and_(
        City.id.in_(approved),
        exists(asked_of),
        ~exists().where(
            AlertAcknowledgement.city_id == City.id,
            AlertAcknowledgement.alert_id.in_(asked_of),
        ),
    )
    quiet_total = db.session.scalar(select(func.count(City.id)).where(quiet))
    quiet_cities = list(
        db.session.scalars(select(City).where(quiet).order_by(City.name_en).limit(200))
    )
    return {
        "open_rows": rows,
        "grid": [(s, grid[s]) for s in sorted(Severity, key=lambda s: -SEVERITY_RANK[s])],
        "buckets": [label for _limit, label in AGE_BUCKETS],
        "open_total": len(open_alerts),
        "approved_total": approved_total,
        "quiet_cities": quiet_cities,
        "quiet_total": quiet_total,
        "quiet_days": QUIET_DAYS,
        "closed_recently": list(
            db.session.scalars(
                select(Alert)
                .where(Alert.state == AlertState.CLOSED)
                .options(selectinload(Alert.city))
                .order_by(Alert.closed_at.desc())
                .limit(10)
            )
        ),
    }
