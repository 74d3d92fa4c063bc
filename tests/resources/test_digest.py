"""A delegate follows categories and gets at most one digest a day of the new posts in them, with
a frozen clock: every timestamp below is set by hand and ``send_digests`` is told the time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from cacnet.core.audit import AuditEvent
from cacnet.core.db import db, utcnow
from cacnet.core.errors import PermissionDenied, ServiceError
from cacnet.resources import digest
from cacnet.resources.models import CategorySubscription, ResourcePost
from tests.conftest import body_of, login, submit
from tests.resources.conftest import category_id, user

BASE = (utcnow() - timedelta(days=10)).replace(hour=6, minute=0, second=0, microsecond=0)


def at(hours: float) -> object:
    return BASE + timedelta(hours=hours)


def posted_at(uuid: str, hours: float) -> None:
    db.session.execute(
        update(ResourcePost).where(ResourcePost.uuid == uuid).values(created_at=at(hours))
    )


def subscribed_at(email: str, slug: str, hours: float) -> None:
    db.session.execute(
        update(CategorySubscription)
        .where(
            CategorySubscription.user_id == user(email).id,
            CategorySubscription.category_id == category_id(slug),
        )
        .values(created_at=at(hours))
    )


def send(app, hours: float) -> int:
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        sent = digest.send_digests(now=at(hours))
        db.session.commit()
        return sent


def test_a_delegate_chooses_categories_on_the_subscriptions_page(app, client, exchange):
    seoul = exchange["Seoul"]["delegate"]
    login(client, seoul)
    page = client.get("/resources/subscriptions").get_data(as_text=True)
    assert "Test kits" in page and "Epidemiologists" in page
    with app.app_context():
        kits, masks = category_id("test-kits"), category_id("masks")
    response = submit(client, "/resources/subscriptions", {"categories": [kits, masks]})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your choice of categories is saved." in page
    assert f'value="{kits}" checked' in page and f'value="{masks}" checked' in page
    with app.app_context():
        assert [s.category.slug for s in digest.subscriptions(user(seoul))] == [
            "test-kits",
            "masks",
        ]
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "resource_subscriptions_changed")
        )
        assert event.details == {"added": sorted([kits, masks]), "removed": []}

    # Unchecking everything stops the digests.
    submit(client, "/resources/subscriptions", {})
    with app.app_context():
        assert digest.subscriptions(user(seoul)) == []


def test_subscriptions_are_for_members_and_known_categories(app, client, exchange, create_user):
    assert client.get("/resources/subscriptions").status_code == 302  # sign in first
    with app.test_request_context():
        seoul = user(exchange["Seoul"]["delegate"])
        for bad in ([999999], ["masks"], [None]):
            with pytest.raises(ServiceError):
                digest.subscribe(seoul, bad)
        from flask_login import AnonymousUserMixin

        with pytest.raises(PermissionDenied):
            digest.subscribe(AnonymousUserMixin(), [category_id("masks")])
        # Keeping a category keeps its history; the set is replaced.
        digest.subscribe(seoul, [category_id("masks"), category_id("gloves")])
        digest.subscribe(seoul, [category_id("gloves"), category_id("gowns")])
        assert [s.category.slug for s in digest.subscriptions(seoul)] == ["gowns", "gloves"]


def test_at_most_one_digest_a_day_with_only_what_is_new(app, exchange, make_post, outbox,
                                                        secretariat):  # fmt: skip
    seoul, london, jakarta = (exchange[c]["delegate"] for c in ("Seoul", "London", "Jakarta"))
    with app.test_request_context():
        digest.subscribe(user(seoul), [category_id("test-kits"), category_id("masks")])
        db.session.commit()
        subscribed_at(seoul, "test-kits", 0)
        subscribed_at(seoul, "masks", 0)
        db.session.commit()

    london_kits = make_post(london, "request", title_en="London needs PCR kits")
    jakarta_masks = make_post(jakarta, "offer", category="masks", quantity="5000",
                              unit="pieces", title_en="Masks from Jakarta")  # fmt: skip
    own = make_post(seoul, "offer", title_en="Seoul's own kits")
    other_category = make_post(london, "offer", category="vaccines", unit="doses",
                               title_en="Vaccines from London")  # fmt: skip
    hidden = make_post(jakarta, "offer", title_en="A hidden offer")
    before = make_post(london, "offer", title_en="Posted before subscribing")
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        from cacnet.resources import moderation

        moderation.hide_post(user(secretariat), db.session.scalar(
            select(ResourcePost).where(ResourcePost.uuid == hidden)), "Duplicate.")  # fmt: skip
        for uuid in (london_kits, jakarta_masks, own, other_category, hidden):
            posted_at(uuid, 1)
        posted_at(before, -1)
        db.session.commit()

    assert send(app, 2) == 1
    [first] = outbox.to(seoul, "new posts in the categories you follow")
    assert first["Subject"] == "2 new posts in the categories you follow"
    text = body_of(first)
    assert "London needs PCR kits" in text and "Masks from Jakarta" in text
    assert f"/resources/{london_kits}" in text
    for absent in ("Seoul's own kits", "Vaccines from London", "A hidden offer",
                   "Posted before subscribing"):  # fmt: skip
        assert absent not in text
    assert "/resources/subscriptions" in text

    # A new post two hours later waits for tomorrow: one digest a day.
    later = make_post(jakarta, "request", title_en="Jakarta needs kits too")
    with app.app_context():
        posted_at(later, 3)
        db.session.commit()
    assert send(app, 4) == 0
    assert send(app, 25) == 0  # 23 hours after the first digest
    assert send(app, 26) == 1
    second = outbox.to(seoul, "new post in the categories you follow")[-1]
    assert second["Subject"] == "1 new post in the categories you follow"
    assert "Jakarta needs kits too" in body_of(second)
    assert "London needs PCR kits" not in body_of(second)

    # Nothing new: no mail, and the window stays open from the last digest.
    assert send(app, 60) == 0
    assert len(outbox.to(seoul, "in the categories you follow")) == 2
    with app.app_context():
        times = set(db.session.scalars(select(CategorySubscription.last_digest_at)))
        assert times == {at(26)}


def test_a_category_followed_later_counts_from_when_it_was_followed(app, exchange, make_post,
                                                                   outbox):  # fmt: skip
    seoul, london = exchange["Seoul"]["delegate"], exchange["London"]["delegate"]
    with app.test_request_context():
        digest.subscribe(user(seoul), [category_id("test-kits")])
        db.session.commit()
        subscribed_at(seoul, "test-kits", 0)
        db.session.commit()
    kits = make_post(london, "offer", title_en="Kits from London")
    with app.app_context():
        posted_at(kits, 1)
        db.session.commit()
    assert send(app, 2) == 1

    old_vaccines = make_post(london, "offer", category="vaccines", unit="doses",
                             title_en="Vaccines posted before following")  # fmt: skip
    new_vaccines = make_post(london, "offer", category="vaccines", unit="doses",
                             title_en="Vaccines posted after following")  # fmt: skip
    with app.test_request_context():
        digest.subscribe(user(seoul), [category_id("test-kits"), category_id("vaccines")])
        db.session.commit()
        subscribed_at(seoul, "vaccines", 10)
        posted_at(old_vaccines, 9)
        posted_at(new_vaccines, 11)
        db.session.commit()
    assert send(app, 12) == 0  # still the same day for this subscriber
    assert send(app, 27) == 1
    text = body_of(outbox.to(seoul, "in the categories you follow")[-1])
    assert "Vaccines posted after following" in text
    assert "Vaccines posted before following" not in text
    assert "Kits from London" not in text


def test_the_digest_is_in_the_subscribers_language(app, exchange, make_post, outbox):
    jakarta, london = exchange["Jakarta"]["delegate"], exchange["London"]["delegate"]
    with app.test_request_context():
        delegate = user(jakarta)
        delegate.locale = "ko"
        digest.subscribe(delegate, [category_id("test-kits")])
        db.session.commit()
        subscribed_at(jakarta, "test-kits", 0)
        db.session.commit()
    kits = make_post(london, "offer", title_en="Kits from London")
    with app.app_context():
        posted_at(kits, 1)
        db.session.commit()
    assert send(app, 2) == 1
    [mail] = [m for m in outbox.messages if m["To"] == jakarta and "Kits from London" in body_of(m)]
    assert mail["Content-Language"] == "ko"
    assert "진단 키트" in body_of(mail)


def test_no_digest_for_a_disabled_account(app, exchange, make_post, outbox):
    seoul, london = exchange["Seoul"]["delegate"], exchange["London"]["delegate"]
    with app.test_request_context():
        digest.subscribe(user(seoul), [category_id("test-kits")])
        subscribed_at(seoul, "test-kits", 0)
        user(seoul).disabled_at = utcnow()
        db.session.commit()
    kits = make_post(london, "offer")
    with app.app_context():
        posted_at(kits, 1)
        db.session.commit()
    assert send(app, 2) == 0
    assert outbox.to(seoul, "in the categories you follow") == []
