"""Alerts for the demo (seed-demo): Hanoi raises a warning about a cluster of severe respiratory
infections, Seoul acknowledges it with similar signals of its own, Hanoi posts an update; Jakarta
has a draft. Made through the services, as the cities' administrators; skipped when there are
alerts already."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from cacnet.accounts.models import User
from cacnet.alerts import services
from cacnet.alerts.models import Alert
from cacnet.core.db import db


def _admin(slug: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == f"{slug}@cities.example"))


def seed_alerts() -> int:
    """Create the demo alerts (once); returns how many were made."""
    if db.session.scalar(select(func.count(Alert.id))):
        return 0
    hanoi, seoul, jakarta = _admin("hanoi"), _admin("seoul"), _admin("jakarta")
    if (
        hanoi is None
        or seoul is None
        or not (hanoi.acts_for_active_city and seoul.acts_for_active_city)
    ):
        return 0
    today = date.today()
    warning = services.create_alert(
        hanoi,
        services.AlertData(
            what="Severe acute respiratory infection (SARI)",
            signal_type="cluster",
            severity="warning",
            district="Dong Da",
            first_observed_on=today - timedelta(days=4),
            cases=23,
            deaths=1,
            actions="Case finding in the district's schools and markets; samples sent to the "
            "National Institute of Hygiene and Epidemiology for sequencing.",
            sources="https://hanoi.gov.vn/\nhttps://moh.gov.vn/",
            contact_text="Department of Health, Hanoi — +84 24 3998 5765",
        ),
        publish=True,
    )
    seoul_alert = services.create_alert(
        seoul,
        services.AlertData(
            what="Severe acute respiratory infection (SARI)",
            signal_type="unusual_severity",
            severity="watch",
            first_observed_on=today - timedelta(days=2),
            cases=7,
            actions="Enhanced surveillance in sentinel hospitals.",
            contact_text="Citizens' Health Bureau, Seoul — +82 2 2133 7500",
        ),
        publish=True,
    )
    services.acknowledge(seoul, warning, "similar",
                         "Seven severe cases in young adults this week; we are sequencing.",
                         similar_alert=seoul_alert)  # fmt: skip
    services.post_update(hanoi, warning, "Sequencing points to influenza A(H3N2); no new deaths.",
                         cases=31)  # fmt: skip
    made = 2
    if jakarta is not None and jakarta.acts_for_active_city:
        services.create_alert(
            jakarta,
            services.AlertData(what="Dengue", signal_type="cluster", severity="watch",
                               first_observed_on=today - timedelta(days=1)),
        )  # fmt: skip
        made += 1
    return made
