"""Fixtures of the news: member cities with a delegate each (Seoul's delegate reads Korean;
Budapest suspended), the secretariat and an admin, images and a factory for items made through
the service."""

from __future__ import annotations

import io

import pytest

from cacnet.core.db import db
from tests.conftest import PASSWORD
from tests.helpers import user  # noqa: F401 - the modules of this folder import it from here

CITIES = (("Hanoi", "VN"), ("Seoul", "KR"), ("London", "GB"), ("Budapest", "HU"))


@pytest.fixture
def network(app, make_network):
    """{"Seoul": {"city_id", "admin", "delegate", "slug"}, …, "secretariat", "admin", "reader"}:
    four member cities, Budapest suspended; each has a delegate <city>.delegate@cities.example
    (Seoul's in Korean), and "reader" is an account without a city."""
    found = make_network(CITIES, suspended="Budapest", delegate_locales={"Seoul": "ko"})
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        # An account without a city (an applicant): signed in, not a member of the alliance.
        from cacnet.accounts import services as accounts
        from cacnet.core.db import utcnow

        reader = accounts.register_applicant("reader@example.org", name="Public Reader",
                                             title="Journalist", password=PASSWORD, locale="en")  # fmt: skip
        reader.email_verified_at = utcnow()
        db.session.commit()
    found["reader"] = "reader@example.org"
    return found


def png_bytes(size=(4, 3)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def make_item(app):
    """make_item(email, action="publish", **fields) -> id, written through the service as that
    user and committed."""
    from cacnet.news import services

    def _make(email, action="publish", **fields):
        with app.test_request_context(base_url=app.config["BASE_URL"]):
            values = dict(fields)
            if not (values.get("title_en") or values.get("title_ko")):
                values["title_en"] = "A news item"
            if not (values.get("body_en") or values.get("body_ko")):
                values["body_en"] = "Some **text**."
            item = services.save_item(user(email), services.NewsData(**values), None, action)
            db.session.commit()
            return item.id

    return _make


def item_by_id(item_id: int):
    from cacnet.news.models import NewsItem

    db.session.expire_all()
    return db.session.get(NewsItem, item_id)
