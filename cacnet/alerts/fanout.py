"""Telling the members: one background job per published alert, update, escalation or closing.

``services`` queues ``fan_out(alert_id, update_id)`` after the commit of the change (update_id 0
for the publication itself). The job finds who should hear, renders the message once per
language, and queues one delivery per recipient in ``cacnet.core.deliveries``, which sends them,
retries on SMTP failure with backoff, and records every attempt. Each delivery has the key
``alert:<alert id>:update:<update id or 0>:to:<e-mail>``, so running the job again (a retried
job, two workers) queues nobody twice.

Who hears what:

* **Publication and escalation**: the focal points of every current member city (approved or
  suspended; not the raising city) that receive alert mail (``AlertSubscription``; without a
  choice, the primary focal point), and for an emergency every city's primary focal point
  whatever the choice; the delegates who acknowledged the alert (after an escalation); and the
  secretariat.
* **Update and closing**: the cities that acknowledged the alert: their alert-mail focal points
  (and primary focal point, for an emergency), and the delegate who acknowledged.

A recipient's language: the language of the account with that address if there is one; else
Korean for a focal point who speaks Korean and not English, or Korean and English in a Korean
city; else English.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from flask import current_app
from sqlalchemy import func, or_, select

from cacnet.accounts.models import User
from cacnet.alerts.models import (
    Alert,
    AlertAcknowledgement,
    AlertState,
    AlertSubscription,
    AlertUpdate,
    Severity,
    UpdateKind,
)
from cacnet.cities.models import City, Contact
from cacnet.core.db import db
from cacnet.core.mail import render_mail

BATCH = 1000
MAX_KEY = 200
TOPIC = "alert"
OBJECT_TYPE = "alerts"

TEMPLATES = {
    None: "alerts/emails/alert_published.txt",
    UpdateKind.UPDATE: "alerts/emails/alert_update.txt",
    UpdateKind.ESCALATION: "alerts/emails/alert_escalated.txt",
    UpdateKind.CLOSURE: "alerts/emails/alert_closed.txt",
}


def fan_out(alert_id: int, update_id: int = 0) -> int:
    """The background job: queue the deliveries of one alert message. Returns how many new
    deliveries were queued (0 when run again, or when the alert is gone or still a draft)."""
    from cacnet.core import deliveries

    app = current_app._get_current_object()
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        rows = delivery_rows(alert_id, update_id)
        added = 0
        for start in range(0, len(rows), BATCH):
            added += deliveries.add_many(rows[start : start + BATCH])
        if added:
            deliveries.send_soon()
        db.session.commit()
        return added


def delivery_rows(alert_id: int, update_id: int = 0) -> list[dict]:
    """The deliveries of one message, one per recipient (needs a request context for links)."""
    from cacnet.alerts.services import alert_link

    alert = db.session.get(Alert, alert_id)
    if alert is None or alert.state == AlertState.DRAFT:
        return []
    update = None
    if update_id:
        update = db.session.get(AlertUpdate, update_id)
        if update is None or update.alert_id != alert.id:
            return []
    kind = update.kind if update is not None else None
    recipients = recipients_for(alert, kind)
    if not recipients:
        return []
    template = TEMPLATES[kind]
    link = alert_link(alert)
    rendered = {
        locale: render_mail(
            template, locale, alert=alert, update=update, city=alert.city, link=link
        )  # fmt: skip
        for locale in sorted(set(recipients.values()))
    }
    rows = []
    for email, locale in sorted(recipients.items()):
        subject, body = rendered[locale]
        rows.append({
            "key": delivery_key(alert.id, update_id, email),
            "recipient": email,
            "locale": locale,
            "subject": subject,
            "body": body,
            "topic": TOPIC,
            "object_type": OBJECT_TYPE,
            "object_id": alert.id,
        })  # fmt: skip
    return rows


def delivery_key(alert_id: int, update_id: int, email: str) -> str:
    key = f"alert:{alert_id}:update:{update_id or 0}:to:{email}"
    if len(key) > MAX_KEY:  # a very long address: its hash keeps the key unique and short
        key = f"alert:{alert_id}:update:{update_id or 0}:to:sha256:" + (
            hashlib.sha256(email.encode()).hexdigest()
        )
    return key


# --- who hears ---------------------------------------------------------------------------------


def recipients_for(alert: Alert, kind: UpdateKind | None) -> dict[str, str]:
    """{e-mail: locale} of everyone who hears of this message (see the module docstring)."""
    from cacnet.membership.models import CURRENT_MEMBER_STATES, Membership

    broad = kind in (None, UpdateKind.ESCALATION)
    acked_cities = select(AlertAcknowledgement.city_id).where(
        AlertAcknowledgement.alert_id == alert.id
    )
    if broad:
        cities = select(Membership.city_id).where(Membership.state.in_(CURRENT_MEMBER_STATES))
    else:
        cities = acked_cities
    contacts = _focal_points(alert, cities)
    people: dict[str, str] = {}  # address -> locale, from accounts
    if kind is not None:
        for email, locale in db.session.execute(
            select(User.email, User.locale)
            .join(AlertAcknowledgement, AlertAcknowledgement.user_id == User.id)
            .where(AlertAcknowledgement.alert_id == alert.id, User.disabled_at.is_(None))
        ):
            people[email] = locale
    if broad:
        from cacnet.membership.services import secretariat_addresses

        for email, locale in secretariat_addresses():
            people.setdefault(email.strip().lower(), locale)
    locales = _account_locales(email for email, _l, _c in contacts if email not in people)
    found = dict(people)
    for email, languages, country in contacts:
        if email in found:
            continue
        found[email] = locales.get(email) or contact_locale(languages, country)
    return {email: (locale if locale in ("en", "ko") else "en") for email, locale in found.items()}


def _focal_points(alert: Alert, city_ids) -> list[tuple[str, list, str]]:
    """(e-mail, languages, country) of the alert-mail focal points of ``city_ids``, the raising
    city left out."""
    chosen = func.coalesce(AlertSubscription.subscribed, Contact.is_primary)
    wanted = or_(chosen, Contact.is_primary) if alert.severity == Severity.EMERGENCY else chosen
    rows = db.session.execute(
        select(Contact.email, Contact.languages, City.country_code)
        .join(City, City.id == Contact.city_id)
        .outerjoin(AlertSubscription, AlertSubscription.contact_id == Contact.id)
        .where(
            Contact.city_id.in_(city_ids),
            Contact.city_id != alert.city_id,
            Contact.email != "",
            City.merged_into_id.is_(None),
            wanted,
        )
        .order_by(Contact.id)
    ).all()
    return [(email.lower(), languages or [], country) for email, languages, country in rows]


def _account_locales(emails: Iterable[str]) -> dict[str, str]:
    wanted = sorted(set(emails))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), BATCH):
        found.update(
            db.session.execute(
                select(User.email, User.locale).where(User.email.in_(wanted[start : start + BATCH]))
            ).all()
        )
    return found


def contact_locale(languages: list[str], country_code: str) -> str:
    """A focal point without an account: Korean if they speak it and not English, or speak both
    in a Korean city; else English."""
    spoken = set(languages or ())
    if "ko" in spoken and ("en" not in spoken or country_code == "KR"):
        return "ko"
    return "en"
