"""Fixtures of situation updates: member cities with a delegate each (Seoul, London), their
populations set, and helpers to upload a CSV file and read the figures back."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from cacnet.cities.models import City
from cacnet.core.db import db
from cacnet.situation.models import SituationDay
from tests.conftest import csrf_token
from tests.helpers import user  # noqa: F401 - the modules of this folder import it from here

# A fixed past: the tests do not depend on today's date (the future-date rule has its own tests).
DAY = date(2021, 3, 1)


@pytest.fixture
def cities(app, create_member_city, create_user):
    """{"Seoul": {"city_id", "slug", "admin", "delegate"}, "London": …}."""
    found = {}
    for name, country, population in (("Seoul", "KR", 9_411_000), ("London", "GB", 8_982_000)):
        city_id, admin = create_member_city(name, country)
        delegate = f"{name.lower()}.delegate@cities.example"
        create_user(delegate, city_id=city_id, name=f"{name} Delegate")
        with app.app_context():
            city = db.session.get(City, city_id)
            city.population = population
            slug = city.slug
            db.session.commit()
        found[name] = {"city_id": city_id, "slug": slug, "admin": admin, "delegate": delegate}
    return found


def stored(app, city_id: int) -> list[dict]:
    """The city's days as {"date", five figures, "note"}, oldest first."""
    with app.app_context():
        rows = db.session.scalars(
            select(SituationDay).where(SituationDay.city_id == city_id).order_by(SituationDay.day)
        )
        return [{"date": r.day.isoformat(), **r.figures(), "note": r.note} for r in rows]


def csv_bytes(*rows: str, header: str = "date,new_cases", bom: bool = False) -> bytes:
    text = "\r\n".join([header, *rows]) + "\r\n"
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def days(n: int, start: date = DAY) -> list[date]:
    return [start + timedelta(days=i) for i in range(n)]


def upload(client, slug: str, content: bytes, filename: str = "figures.csv"):
    page = client.get(f"/cities/{slug}/situation/edit")
    assert page.status_code == 200, page.status_code
    return client.post(
        f"/cities/{slug}/situation/upload",
        data={"csrf_token": csrf_token(page.get_data(as_text=True)),
              "file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )  # fmt: skip
