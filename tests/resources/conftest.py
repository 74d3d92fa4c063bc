"""Fixtures of the resource exchange: three member cities with a delegate each, the taxonomy, and
a factory for posts made through the service."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from cacnet.core.db import db
from tests.helpers import user  # noqa: F401 - the modules of this folder import it from here


@pytest.fixture
def exchange(app, create_member_city, create_user):
    """{"Seoul": {"city_id", "admin", "delegate"}, "London": …, "Jakarta": …} with the taxonomy
    loaded. Each city's admin e-mail is <city>@cities.example, its delegate <city>.delegate@…"""
    from cacnet.resources.taxonomy import ensure_taxonomy

    cities = {}
    for name, country, lat, lon in (("Seoul", "KR", 37.5665, 126.978), ("London", "GB", 51.5072, -0.1276),
                                    ("Jakarta", "ID", -6.2088, 106.8456)):  # fmt: skip
        city_id, admin = create_member_city(name, country)
        delegate = f"{name.lower()}.delegate@cities.example"
        create_user(delegate, city_id=city_id, name=f"{name} Delegate")
        with app.app_context():
            from cacnet.cities.models import City

            city = db.session.get(City, city_id)
            city.latitude, city.longitude = lat, lon
            db.session.commit()
        cities[name] = {"city_id": city_id, "admin": admin, "delegate": delegate}
    with app.app_context():
        ensure_taxonomy()
        db.session.commit()
    return cities


def category_id(slug: str) -> int:
    from cacnet.resources.models import ResourceCategory

    return db.session.scalar(select(ResourceCategory.id).where(ResourceCategory.slug == slug))


@pytest.fixture
def make_post(app):
    """make_post(email, kind="request", category="test-kits", quantity="10000", **fields) -> uuid,
    made by the service as that delegate and committed."""
    from cacnet.resources import services

    def _make(email, kind="request", category="test-kits", quantity="10000", **fields):
        with app.test_request_context(base_url=app.config["BASE_URL"]):
            values = {
                "kind": kind,
                "category_id": category_id(category),
                "title_en": fields.pop("title_en", f"{kind.title()} of {category}"),
                "quantity": quantity,
                "unit": fields.pop("unit", "kits"),
                "expires_on": fields.pop("expires_on", date.today() + timedelta(days=30)),
                **fields,
            }
            post = services.create_post(user(email), services.PostData(**values))
            db.session.commit()
            return post.uuid

    return _make
