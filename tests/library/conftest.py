"""Fixtures of the library: member cities Seoul and Hanoi with a delegate each, Budapest
suspended, the secretariat and an admin, the default areas, and a factory for cases made through
the service."""

from __future__ import annotations

from datetime import date

import pytest

from cacnet.core.db import db
from tests.helpers import user  # noqa: F401 - the modules of this folder import it from here

CITIES = (("Seoul", "KR"), ("Hanoi", "VN"), ("Budapest", "HU"))


@pytest.fixture
def network(app, make_network, areas):
    """{"Seoul": {"city_id", "admin", "delegate", "slug"}, …, "secretariat", "admin", "areas"};
    Budapest is suspended, Seoul's local name is 서울."""
    from cacnet.cities.models import City

    found = make_network(CITIES, suspended="Budapest")
    with app.app_context():
        db.session.get(City, found["Seoul"]["city_id"]).name_local = "서울"
        db.session.commit()
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
