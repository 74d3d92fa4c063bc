"""Fixtures of the events: a small network (Seoul, London, Toronto as members, Budapest
suspended), the secretariat and an admin, the demo summit, and a factory for events made
through the service."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from cacnet.accounts.models import User
from cacnet.core.db import db

CITIES = (("Seoul", "KR"), ("London", "GB"), ("Toronto", "CA"), ("Budapest", "HU"))


def user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


@pytest.fixture
def network(app, create_member_city, create_user, secretariat, areas):
    """{"Seoul": {"city_id", "admin", "delegate"}, …, "secretariat", "admin", "areas"}."""
    from cacnet.membership import services as membership
    from cacnet.membership.models import Membership, MembershipState

    found: dict = {}
    for name, country in CITIES:
        city_id, admin = create_member_city(name, country)
        delegate = f"{name.lower()}.delegate@cities.example"
        create_user(delegate, city_id=city_id, name=f"{name} Delegate")
        found[name] = {"city_id": city_id, "admin": admin, "delegate": delegate}
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        row = db.session.scalar(
            select(Membership).where(
                Membership.city_id == found["Budapest"]["city_id"],
                Membership.state == MembershipState.APPROVED,
            )
        )
        membership.suspend(user(secretariat), row, "Dues unpaid for two years.")
        db.session.commit()
    create_user("root@caap.example", role="admin")
    found["secretariat"] = secretariat
    found["admin"] = "root@caap.example"
    found["areas"] = areas
    return found


@pytest.fixture
def summit(app, network):
    """The demo's CAC Global Summit 2020 with its sessions and the 2027 webinar."""
    from cacnet.events.demo import seed_events

    with app.test_request_context(base_url=app.config["BASE_URL"]):
        seed_events()
        db.session.commit()
    return network


@pytest.fixture
def make_event(app, network):
    """make_event(title_en=..., start="2030-05-01 10:00", end=..., timezone=..., **kw) -> id."""
    from cacnet.events import services

    def _make(title_en="Webinar on testing", start="2030-05-01 10:00", end="2030-05-01 11:30",
              timezone="Asia/Seoul", **kwargs):  # fmt: skip
        with app.test_request_context(base_url=app.config["BASE_URL"]):
            data = services.EventData(
                kind=kwargs.pop("kind", "webinar"),
                title_en=title_en,
                title_ko=kwargs.pop("title_ko", ""),
                start=datetime.strptime(start, "%Y-%m-%d %H:%M"),
                end=datetime.strptime(end, "%Y-%m-%d %H:%M"),
                timezone=timezone,
                **kwargs,
            )
            event = services.create_event(user(network["secretariat"]), data)
            return event.id

    return _make
