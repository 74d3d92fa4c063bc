"""Who sees which item, for every role, on the list, the item's page, its image, the feed, the
city page and the header search: public items for everyone, members-only items for members of
the alliance (delegates of member cities, suspended ones included, and the secretariat), and
unpublished items only for the secretariat and the story's own city."""

from __future__ import annotations

import pytest

from cacnet.core.text import search_key
from cacnet.search.registry import PROVIDERS
from tests.conftest import login
from tests.news.conftest import png_bytes, user

ROLES = ("anonymous", "reader", "london_delegate", "budapest_delegate", "london_admin",
         "hanoi_delegate", "secretariat", "admin")  # fmt: skip
MEMBERS = {"london_delegate", "budapest_delegate", "london_admin", "hanoi_delegate",
           "secretariat", "admin"}  # fmt: skip
HANOI_DRAFT_READERS = {"hanoi_delegate", "secretariat", "admin"}


def _email(network, role):
    return {
        "reader": network["reader"],
        "london_delegate": network["London"]["delegate"],
        "budapest_delegate": network["Budapest"]["delegate"],
        "london_admin": network["London"]["admin"],
        "hanoi_delegate": network["Hanoi"]["delegate"],
        "secretariat": network["secretariat"],
        "admin": network["admin"],
    }.get(role)


@pytest.fixture
def items(network, make_item):
    officer = network["secretariat"]
    return {
        "public": make_item(
            officer, title_en="Zebrafish public bulletin", image=png_bytes(), image_alt_en="A chart"
        ),  # fmt: skip
        "members": make_item(
            officer,
            title_en="Zebrafish members memo",
            visibility="members",
            image=png_bytes((5, 5)),
            image_alt_en="A table",
        ),  # fmt: skip
        "submitted": make_item(
            network["Hanoi"]["delegate"], action="submit", title_en="Zebrafish Hanoi story"
        ),  # fmt: skip
        "draft": make_item(officer, action="save", title_en="Zebrafish secretariat draft"),
    }


@pytest.mark.parametrize("role", ROLES)
def test_visibility_of_each_item_for_each_role(app, network, items, role):
    client = app.test_client()
    email = _email(network, role)
    if email:
        login(client, email)
    member = role in MEMBERS
    listing = client.get("/news/").get_data(as_text=True)
    assert "Zebrafish public bulletin" in listing
    assert ("Zebrafish members memo" in listing) == member
    assert client.get(f"/news/{items['public']}").status_code == 200
    assert client.get(f"/news/{items['public']}/image").status_code == 200
    assert client.get(f"/news/{items['members']}").status_code == (200 if member else 404)
    assert client.get(f"/news/{items['members']}/image").status_code == (200 if member else 404)
    sees_hanoi = role in HANOI_DRAFT_READERS
    assert client.get(f"/news/{items['submitted']}").status_code == (200 if sees_hanoi else 404)
    sees_draft = role in ("secretariat", "admin")
    assert client.get(f"/news/{items['draft']}").status_code == (200 if sees_draft else 404)
    # Unpublished items are never in the published list (only under "not published yet").
    published = listing.split('id="published-heading"')[1]
    assert (
        "Zebrafish Hanoi story" not in published and "Zebrafish secretariat draft" not in published
    )
    # The feed is the same for everyone: public items only.
    feed = client.get("/news.atom").get_data(as_text=True)
    assert "Zebrafish public bulletin" in feed
    assert "Zebrafish members memo" not in feed and "Zebrafish Hanoi story" not in feed

    # The header search's provider applies the same rule.
    with app.test_request_context():
        from flask_login import AnonymousUserMixin

        viewer = user(email) if email else AnonymousUserMixin()
        hits = PROVIDERS["news"].find(search_key("ZEBRAFISH"), viewer, 10)
        titles = {h.title for h in hits}
    assert "Zebrafish public bulletin" in titles
    assert ("Zebrafish members memo" in titles) == member
    assert "Zebrafish Hanoi story" not in titles and "Zebrafish secretariat draft" not in titles
    assert str(PROVIDERS["news"].label) == "News"


def test_the_moderation_queue_is_the_secretariats(app, network, items):
    for email in (network["London"]["delegate"], network["London"]["admin"], network["reader"]):
        client = app.test_client()
        login(client, email)
        assert client.get("/secretariat/news").status_code == 403
    assert app.test_client().get("/secretariat/news").status_code == 302  # sign in first
    for email in (network["secretariat"], network["admin"]):
        client = app.test_client()
        login(client, email)
        assert "Zebrafish Hanoi story" in client.get("/secretariat/news").get_data(as_text=True)


def test_writing_is_for_the_secretariat_and_delegates_of_approved_cities(app, network):
    from tests.conftest import submit

    for email in (network["Budapest"]["delegate"], network["reader"]):
        client = app.test_client()
        login(client, email)
        response = client.get("/news/new")
        assert response.status_code == 302 and response.headers["Location"].endswith("/news/")
        response = submit(client, "/news/new", {"title_en": "Sneaky", "category": "news",
                                                "visibility": "public", "action": "submit"},
                          page="/news/")  # fmt: skip
        assert response.status_code == 302
    assert "Sneaky" not in app.test_client().get("/news/").get_data(as_text=True)
    from sqlalchemy import func, select

    from cacnet.core.db import db
    from cacnet.news.models import NewsItem

    with app.app_context():
        assert db.session.scalar(select(func.count(NewsItem.id))) == 0
    # London's delegate cannot approve its own story, nor touch Hanoi's.
    london = app.test_client()
    login(london, network["London"]["delegate"])
    response = submit(london, "/news/new", {"title_en": "London story", "category": "news",
                                            "visibility": "public", "action": "submit"})  # fmt: skip
    story = int(response.headers["Location"].rsplit("/", 1)[1])
    response = submit(london, f"/news/{story}/approve", {}, page=f"/news/{story}")
    assert response.status_code == 403
    hanoi = app.test_client()
    login(hanoi, network["Hanoi"]["delegate"])
    assert hanoi.get(f"/news/{story}").status_code == 404
