"""The alerts as CSV.

``/alerts/export.csv`` serves whoever asks what ``visibility`` lets them see: the public notices'
public fields for the public; every published and closed alert with its counts and the number of
acknowledgements for members (never drafts). ``/secretariat/alerts/export.csv`` is the
secretariat's history: every alert ever published, with its acknowledgement rate, escalation and
deliveries. Alerts are read in batches, so a long history streams in bounded memory.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from cacnet.alerts import visibility
from cacnet.alerts.models import (
    AckKind,
    Alert,
    AlertAcknowledgement,
    AlertState,
    AlertUpdate,
    UpdateKind,
)
from cacnet.cities.models import City
from cacnet.core.db import db
from cacnet.core.permissions import require_secretariat

BATCH = 500

PUBLIC_COLUMNS = (
    "id", "url", "city", "country", "district", "what", "signal_type", "severity", "state",
    "first_observed_on", "published_at", "public_notice_at", "closed_at", "actions",
    "closing_summary",
)  # fmt: skip
MEMBER_COLUMNS = (
    *PUBLIC_COLUMNS, "public_notice", "cases", "deaths", "sources", "updates",
    "acknowledgements", "similar_signals",
)  # fmt: skip
HISTORY_COLUMNS = (
    *MEMBER_COLUMNS, "raised_by", "escalated_at", "escalations", "acknowledgement_rate",
    "deliveries",
)  # fmt: skip

# The public export carries nothing beyond the public fields (id, url and country derive from
# them).
assert set(PUBLIC_COLUMNS) - {"id", "url", "country"} <= set(visibility.PUBLIC_FIELDS)


def _iso(value) -> str:
    return value.isoformat() if value is not None else ""


def _counts(ids: list[int]) -> tuple[dict, dict, dict, dict]:
    """Per alert: updates, escalations, acknowledgements, similar-signal acknowledgements."""
    updates, escalations, acks, similar = {}, {}, {}, {}
    for alert_id, kind, count in db.session.execute(
        select(AlertUpdate.alert_id, AlertUpdate.kind, func.count(AlertUpdate.id))
        .where(AlertUpdate.alert_id.in_(ids))
        .group_by(AlertUpdate.alert_id, AlertUpdate.kind)
    ):
        if kind == UpdateKind.ESCALATION:
            escalations[alert_id] = count
        elif kind == UpdateKind.UPDATE:
            updates[alert_id] = count
    for alert_id, kind, count in db.session.execute(
        select(AlertAcknowledgement.alert_id, AlertAcknowledgement.kind,
               func.count(AlertAcknowledgement.id))
        .where(AlertAcknowledgement.alert_id.in_(ids))
        .group_by(AlertAcknowledgement.alert_id, AlertAcknowledgement.kind)
    ):  # fmt: skip
        acks[alert_id] = acks.get(alert_id, 0) + count
        if kind == AckKind.SIMILAR:
            similar[alert_id] = count
    return updates, escalations, acks, similar


def records(viewer, *, history: bool = False) -> tuple[tuple[str, ...], Iterator[dict]]:
    """(columns, records) of the alerts ``viewer`` may export. The check and the search run
    now; the alerts are read ``BATCH`` at a time as the records are consumed."""
    from cacnet.alerts.services import alert_link

    if history:
        require_secretariat(viewer)
        columns = HISTORY_COLUMNS
        condition = Alert.state.in_(visibility.SHARED_STATES)
    else:
        columns = MEMBER_COLUMNS if visibility.is_member(viewer) else PUBLIC_COLUMNS
        condition = visibility.visible_condition(viewer) & Alert.state.in_(visibility.SHARED_STATES)
    ids = list(
        db.session.scalars(
            select(Alert.id).where(condition).order_by(Alert.published_at.desc(), Alert.id.desc())
        )
    )
    eligible = _approved_count() if history else 0

    def generate() -> Iterator[dict]:
        from cacnet.core.i18n import country_name

        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            alerts = {
                a.id: a
                for a in db.session.scalars(
                    select(Alert)
                    .where(Alert.id.in_(chunk))
                    .options(
                        selectinload(Alert.city).selectinload(City.active_membership),
                        selectinload(Alert.raised_by),
                    )
                )
            }
            updates, escalations, acks, similar = _counts(chunk)
            for alert_id in chunk:
                alert = alerts.get(alert_id)
                if alert is None:
                    continue
                record = {
                    "id": alert.uuid,
                    "url": alert_link(alert),
                    "city": alert.city.name_en,
                    "country": country_name(alert.city.country_code, "en"),
                    "district": alert.district,
                    "what": alert.what,
                    "signal_type": alert.signal_type.value,
                    "severity": alert.severity.value,
                    "state": "open" if alert.state == AlertState.PUBLISHED else alert.state.value,
                    "first_observed_on": _iso(alert.first_observed_on),
                    "published_at": _iso(alert.published_at),
                    "public_notice_at": _iso(alert.public_notice_at),
                    "closed_at": _iso(alert.closed_at),
                    "actions": alert.actions,
                    "closing_summary": alert.closing_summary,
                    "public_notice": "yes" if alert.is_public_notice else "no",
                    "cases": "" if alert.cases is None else alert.cases,
                    "deaths": "" if alert.deaths is None else alert.deaths,
                    "sources": " ".join(alert.source_links),
                    "updates": updates.get(alert_id, 0),
                    "acknowledgements": acks.get(alert_id, 0),
                    "similar_signals": similar.get(alert_id, 0),
                }
                if history:
                    asked = max(eligible - (1 if alert.city.is_active_member else 0), 0)
                    record.update({
                        "raised_by": alert.raised_by.email if alert.raised_by else "",
                        "escalated_at": _iso(alert.escalated_at),
                        "escalations": escalations.get(alert_id, 0),
                        "acknowledgement_rate": (
                            f"{acks.get(alert_id, 0) / asked:.2f}" if asked else ""
                        ),
                        "deliveries": _format_summary(delivery_summary(alert_id)),
                    })  # fmt: skip
                yield {column: record[column] for column in columns}

    return columns, generate()


def _approved_count() -> int:
    from cacnet.membership.models import Membership, MembershipState

    return db.session.scalar(
        select(func.count(Membership.id)).where(Membership.state == MembershipState.APPROVED)
    )


def delivery_summary(alert_id: int) -> dict[str, int]:
    """How the alert's deliveries stand, by state (queued, sent, failed, …)."""
    from cacnet.core import deliveries

    return dict(deliveries.summary(topic="alert", object_type="alerts", object_id=alert_id))


def _format_summary(summary: dict[str, int]) -> str:
    return "; ".join(f"{state} {count}" for state, count in sorted(summary.items()) if count)


def _csv_line(values) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(values)
    return out.getvalue()


def csv_chunks(viewer, *, history: bool = False) -> Iterator[str]:
    """The CSV, piece by piece, with a byte-order mark (spreadsheets then read UTF-8)."""
    columns, rows = records(viewer, history=history)

    def generate() -> Iterator[str]:
        yield "\ufeff" + _csv_line(columns)
        for row in rows:
            yield _csv_line(row[c] for c in columns)

    return generate()
