"""Fixtures of the alerts: member cities with a delegate and a primary focal point each (Hanoi,
Seoul, London; Budapest suspended), the secretariat and an admin, and a factory for alerts made
through the service."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from cacnet.core.db import db
from tests.helpers import user  # noqa: F401 - the modules of this folder import it from here

# (name, country, focal point languages)
CITIES = (("Hanoi", "VN", ["en", "vi"]), ("Seoul", "KR", ["en", "ko"]),
          ("London", "GB", ["en"]), ("Budapest", "HU", ["en", "hu"]))  # fmt: skip


def focal_point(name: str) -> str:
    return f"focal@{name.lower()}.example"


@pytest.fixture
def network(app, create_member_city, create_user, secretariat):
    """{"Hanoi": {"city_id", "admin", "delegate", "focal"}, …, "secretariat", "admin"}: four
    member cities, Budapest suspended; each city has a primary focal point focal@<city>.example
    (in Korean for Seoul) and a delegate <city>.delegate@cities.example."""
    from cacnet.cities import services as cities
    from cacnet.cities.models import City
    from cacnet.membership import services as membership

    found: dict = {}
    for name, country, languages in CITIES:
        city_id, admin = create_member_city(name, country)
        delegate = f"{name.lower()}.delegate@cities.example"
        create_user(delegate, city_id=city_id, name=f"{name} Delegate")
        with app.test_request_context(base_url=app.config["BASE_URL"]):
            officer = user(secretariat)
            city = db.session.get(City, city_id)
            cities.add_contact(officer, city, cities.ContactData(
                name=f"{name} Focal Point", email=focal_point(name), languages=languages,
                is_primary=True, visibility="members"))  # fmt: skip
            db.session.commit()
        found[name] = {"city_id": city_id, "admin": admin, "delegate": delegate,
                       "focal": focal_point(name)}  # fmt: skip
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        from cacnet.membership.models import Membership, MembershipState

        membership_row = db.session.scalar(
            select(Membership).where(
                Membership.city_id == found["Budapest"]["city_id"],
                Membership.state == MembershipState.APPROVED,
            )
        )
        membership.suspend(user(secretariat), membership_row, "Dues unpaid for two years.")
        db.session.commit()
    create_user("root@caap.example", role="admin")
    found["secretariat"] = secretariat
    found["admin"] = "root@caap.example"
    return found


ALERT = {
    "what": "Severe acute respiratory infection (SARI)",
    "signal_type": "cluster",
    "severity": "warning",
    "district": "Dong Da",
    "cases": "23",
    "deaths": "1",
    "actions": "Case finding in schools and markets.",
    "sources": "https://example.org/hanoi/report-1",
    "contact_text": "Department of Health, +84 24 3998 5765",
}


def alert_form(**changes) -> dict:
    """The fields of /alerts/new for Hanoi's warning (first observed three days ago)."""
    form = {**ALERT, "first_observed_on": (date.today() - timedelta(days=3)).isoformat(),
            "contact_id": "0", "action": "publish"}  # fmt: skip
    form.update(changes)
    return form


@pytest.fixture
def make_alert(app):
    """make_alert(email, publish=True, **fields) -> uuid, raised through the service as that
    delegate and committed (so its fan-out runs)."""
    from cacnet.alerts import services

    def _make(email, publish=True, **fields):
        with app.test_request_context(base_url=app.config["BASE_URL"]):
            values = {**ALERT, "first_observed_on": date.today() - timedelta(days=3), **fields}
            alert = services.create_alert(user(email), services.AlertData(**values),
                                          publish=publish)  # fmt: skip
            db.session.commit()
            return alert.uuid

    return _make


def alert_by_uuid(uuid: str):
    from cacnet.alerts.models import Alert

    return db.session.scalar(select(Alert).where(Alert.uuid == uuid))
