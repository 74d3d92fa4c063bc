"""Fixtures of the events: a small network (Seoul, London, Toronto as members, Budapest
suspended), the secretariat and an admin, the demo summit, and a factory for events made
through the service."""

from __future__ import annotations

from datetime import datetime

import pytest

from cacnet.core.db import db
from tests.helpers import user  # noqa: F401 - the modules of this folder import it from here

CITIES = (("Seoul", "KR"), ("London", "GB"), ("Toronto", "CA"), ("Budapest", "HU"))


@pytest.fixture
def network(make_network, areas):
    """{"Seoul": {"city_id", "admin", "delegate", "slug"}, …, "secretariat", "admin", "areas"};
    Budapest is suspended."""
    found = make_network(CITIES, suspended="Budapest")
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
