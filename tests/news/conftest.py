"""Fixtures of the news: member cities with a delegate each (Seoul's delegate reads Korean;
Budapest suspended), the secretariat and an admin, images and a factory for items made through
the service."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from cacnet.accounts.models import User
from cacnet.core.db import db
from tests.conftest import PASSWORD

CITIES = (("Hanoi", "VN"), ("Seoul", "KR"), ("London", "GB"), ("Budapest", "HU"))


def user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


@pytest.fixture
def network(app, create_member_city, create_user, secretariat):
    """{"Seoul": {"city_id", "admin", "delegate"}, …, "secretariat", "admin"}: four member
    cities, Budapest suspended; each has a delegate <city>.delegate@cities.example (Seoul's in
    Korean)."""
    from cacnet.membership import services as membership
    from cacnet.membership.models import Membership, MembershipState

    found: dict = {}
    for name, country in CITIES:
        city_id, admin = create_member_city(name, country)
        delegate = f"{name.lower()}.delegate@cities.example"
        create_user(delegate, city_id=city_id, name=f"{name} Delegate",
                    locale="ko" if name == "Seoul" else "en")  # fmt: skip
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
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        # An account without a city (an applicant): signed in, not a member of the alliance.
        from cacnet.accounts import services as accounts
        from cacnet.core.db import utcnow

        reader = accounts.register_applicant("reader@example.org", name="Public Reader",
                                             title="Journalist", password=PASSWORD, locale="en")  # fmt: skip
        reader.email_verified_at = utcnow()
        db.session.commit()
    found["secretariat"] = secretariat
    found["admin"] = "root@caap.example"
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
