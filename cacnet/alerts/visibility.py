"""Who sees which alert, and how much of it: the one place that decides.

* **Members** (delegates of a current member city, approved or suspended, and the secretariat)
  see every published and closed alert in full: counts, updates, sources, documents, contact,
  and which cities acknowledged it.
* A **draft** is seen by the raising city's delegates only.
* A **public notice** (an alert the secretariat has marked so) is also seen by everyone else:
  the public, applicants, delegates of cities that left. They see its ``PUBLIC_FIELDS`` only:
  never the counts, the updates, the sources and documents, the contact, or who acknowledged.
* An acknowledgement's note is seen by the raising city, the acknowledging city and the
  secretariat; which cities have *not* acknowledged, by the raising city and the secretariat.

The pages, the lists, the feed, the exports and the city page all ask here.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, or_

from cacnet.alerts.models import Alert, AlertAcknowledgement, AlertState
from cacnet.core.permissions import is_network_member

# What of a public notice anyone may see (the page, the feed, the public export).
PUBLIC_FIELDS = (
    "uuid", "what", "signal_type", "severity", "city", "district", "first_observed_on",
    "actions", "state", "published_at", "public_notice_at", "closed_at", "closing_summary",
)  # fmt: skip

SHARED_STATES = (AlertState.PUBLISHED, AlertState.CLOSED)


def _signed_in(viewer) -> bool:
    return viewer is not None and getattr(viewer, "is_authenticated", False)


is_member = is_network_member  # members see every shared alert in full


def is_raising_city(viewer, alert: Alert) -> bool:
    return _signed_in(viewer) and viewer.city_id is not None and viewer.city_id == alert.city_id


def can_see(viewer, alert: Alert) -> bool:
    """Whether ``viewer`` may open the alert at all."""
    if alert.state == AlertState.DRAFT:
        return is_raising_city(viewer, alert) and is_member(viewer)
    if is_member(viewer):
        return True
    return alert.is_public_notice


def sees_details(viewer, alert: Alert) -> bool:
    """The full alert (counts, updates, sources, documents, contact, acknowledgements), not only
    its public fields."""
    return can_see(viewer, alert) and is_member(viewer)


def sees_note(viewer, alert: Alert, ack: AlertAcknowledgement) -> bool:
    if not sees_details(viewer, alert):
        return False
    return viewer.is_secretariat or viewer.city_id in (alert.city_id, ack.city_id)


def sees_missing_acknowledgements(viewer, alert: Alert) -> bool:
    """The raising city and the secretariat see which member cities have not answered."""
    if not sees_details(viewer, alert) or alert.state == AlertState.DRAFT:
        return False
    return viewer.is_secretariat or is_raising_city(viewer, alert)


def visible_condition(viewer) -> ColumnElement[bool]:
    """A SQL condition on ``Alert`` for the alerts ``viewer`` may see (lists, exports, feed)."""
    public = and_(Alert.is_public_notice.is_(True), Alert.state.in_(SHARED_STATES))
    if not is_member(viewer):
        return public
    shared = Alert.state.in_(SHARED_STATES)
    if viewer.city_id is None:  # the secretariat: every shared alert, nobody's drafts
        return shared
    return or_(shared, and_(Alert.state == AlertState.DRAFT, Alert.city_id == viewer.city_id))


def public_condition() -> ColumnElement[bool]:
    """The public notices (the public page and /alerts.atom), whoever asks."""
    return and_(Alert.is_public_notice.is_(True), Alert.state.in_(SHARED_STATES))
