"""Fixtures of the library: member cities Seoul and Hanoi with a delegate each, Budapest
suspended, the secretariat and an admin, the default areas, and a factory for cases made through
the service."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from cacnet.accounts.models import User
from cacnet.core.db import db

CITIES = (("Seoul", "KR"), ("Hanoi", "VN"), ("Budapest", "HU"))


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
        from cacnet.cities.models import City

        seoul = db.session.get(City, found["Seoul"]["city_id"])
        seoul.name_local = "서울"
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
def make_case(app, areas):
    """make_case(email, publish=True, **fields) -> case id, written through the service."""
    from cacnet.library import services

    def _make(email, publish=True, area="quarantine-measures", **fields):
        with app.test_request_context(base_url=app.config["BASE_URL"]):
            values = {"title_en": "Drive-through screening centres", "area_id": areas[area],
                      "started_on": date(2020, 2, 26), **fields}  # fmt: skip
            case = services.create_case(user(email), services.CaseData(**values), publish=publish)
            return case.id

    return _make
