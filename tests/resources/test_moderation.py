"""The secretariat moderates the exchange: hides a post with a reason (the poster is told), shows it
again, reads the statistics, and extends the taxonomy."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from cacnet.core.audit import AuditEvent
from cacnet.core.db import db, utcnow
from cacnet.core.errors import PermissionDenied, ServiceError, StateConflict
from cacnet.resources import moderation, services
from cacnet.resources.models import PostState, ResourceCategory, ResourcePost
from tests.conftest import body_of, login, submit
from tests.resources.conftest import user

TODAY = date.today()


def post(uuid: str) -> ResourcePost:
    return db.session.scalar(select(ResourcePost).where(ResourcePost.uuid == uuid))


# --- hiding ------------------------------------------------------------------------------------


def test_the_secretariat_hides_a_post_and_the_poster_is_told_why(
    app, client, exchange, make_post, secretariat, outbox
):
    seoul = exchange["Seoul"]["delegate"]
    uuid = make_post(seoul, "request", title_en="Test kits, wrongly priced")
    login(client, secretariat)
    page = client.get(f"/secretariat/resources/{uuid}/hide").get_data(as_text=True)
    assert "Test kits, wrongly priced" in page
    response = submit(client, f"/secretariat/resources/{uuid}/hide",
                      {"reason": "Offers of goods for sale are not allowed."})  # fmt: skip
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/secretariat/resources/")

    [mail] = outbox.to(seoul, "was hidden by the secretariat")
    assert "Offers of goods for sale are not allowed." in body_of(mail)
    assert f"/resources/{uuid}" in body_of(mail)
    with app.app_context():
        hidden = post(uuid)
        assert hidden.hidden_at is not None
        assert hidden.hidden_reason == "Offers of goods for sale are not allowed."
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "resource_post_hidden")
        )
        assert event.object_id == hidden.id
        assert event.reason == "Offers of goods for sale are not allowed."

    overview = client.get("/secretariat/resources/").get_data(as_text=True)
    assert "Test kits, wrongly priced" in overview
    assert "Offers of goods for sale are not allowed." in overview

    # Another city no longer sees it; its own city does.
    other = app.test_client()
    login(other, exchange["London"]["delegate"])
    assert other.get(f"/resources/{uuid}").status_code == 404
    own = app.test_client()
    login(own, seoul)
    assert own.get(f"/resources/{uuid}").status_code == 200

    # Shown again from the overview.
    response = submit(
        client, f"/secretariat/resources/{uuid}/unhide", page="/secretariat/resources/"
    )
    assert response.status_code == 302
    with app.app_context():
        assert post(uuid).hidden_at is None
        assert post(uuid).hidden_reason == ""
    assert other.get(f"/resources/{uuid}").status_code == 200


def test_hiding_needs_a_reason_and_the_secretariat(app, client, exchange, make_post, secretariat,
                                                   outbox):  # fmt: skip
    uuid = make_post(exchange["Seoul"]["delegate"])
    login(client, secretariat)
    response = submit(client, f"/secretariat/resources/{uuid}/hide", {"reason": "   "})
    assert response.status_code == 200
    assert "Give the reason for hiding the post" in response.get_data(as_text=True)
    with app.test_request_context():
        assert post(uuid).hidden_at is None
        with pytest.raises(ServiceError) as refused:
            moderation.hide_post(user(secretariat), post(uuid), "  ")
        assert refused.value.field == "reason"
        with pytest.raises(PermissionDenied):
            moderation.hide_post(user(exchange["London"]["admin"]), post(uuid), "Spam.")
        moderation.hide_post(user(secretariat), post(uuid), "Spam.")
        with pytest.raises(StateConflict):
            moderation.hide_post(user(secretariat), post(uuid), "Spam again.")
        db.session.rollback()
        with pytest.raises(StateConflict):
            moderation.unhide_post(user(secretariat), post(uuid))
    assert outbox.to(exchange["Seoul"]["delegate"], "hidden") == []

    delegate = app.test_client()
    login(delegate, exchange["London"]["delegate"])
    assert delegate.get(f"/secretariat/resources/{uuid}/hide").status_code == 403
    assert delegate.get("/secretariat/resources/").status_code == 403


def test_a_hidden_post_takes_no_responses(app, exchange, make_post, secretariat):
    uuid = make_post(exchange["Seoul"]["delegate"])
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        moderation.hide_post(user(secretariat), post(uuid), "Duplicate.")
        with pytest.raises(StateConflict):
            services.respond(user(exchange["London"]["delegate"]), post(uuid), "10")


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/secretariat/resources/"),
        ("get", "/secretariat/resources/00000000-0000-0000-0000-000000000000/hide"),
        ("post", "/secretariat/resources/00000000-0000-0000-0000-000000000000/hide"),
        ("post", "/secretariat/resources/00000000-0000-0000-0000-000000000000/unhide"),
        ("post", "/secretariat/resources/categories"),
    ],
)
def test_every_secretariat_page_demands_a_sign_in(app, client, exchange, method, url):
    # A POST carries a valid form token, so that only the sign-in is missing.
    response = submit(client, url, page="/auth/login") if method == "post" else client.get(url)
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]
    delegate = app.test_client()
    login(delegate, exchange["Seoul"]["admin"])
    response = submit(delegate, url, page="/resources/") if method == "post" else delegate.get(url)
    assert response.status_code == 403


# --- statistics --------------------------------------------------------------------------------


def test_statistics_count_posts_quantities_and_active_cities(
    app, client, exchange, make_post, secretariat, create_member_city
):
    seoul, london, jakarta = (exchange[c]["delegate"] for c in ("Seoul", "London", "Jakarta"))
    _, nairobi = create_member_city("Nairobi", "KE")
    kits = make_post(seoul, "request", quantity="10000")
    masks = make_post(london, "offer", category="masks", quantity="500", unit="pieces")
    make_post(jakarta, "offer", category="masks", quantity="20", unit="boxes",
              expires_on=TODAY + timedelta(days=1))  # fmt: skip
    old = make_post(nairobi, "request", category="nurses", quantity="4", unit="people")
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        from_london = services.respond(user(london), post(kits), "6000")
        from_jakarta = services.respond(user(jakarta), post(kits), "6000")
        withdrawn = services.respond(user(jakarta), post(masks), "100")
        db.session.flush()
        services.accept(user(seoul), from_london)
        services.accept(user(seoul), from_jakarta, "4000")
        services.settle(user(london), from_london, delivered=True)
        services.withdraw_response(user(jakarta), withdrawn)
        services.close_post(user(nairobi), post(old))
        # Nairobi's post is from long ago: Nairobi is not an active city.
        db.session.execute(
            update(ResourcePost)
            .where(ResourcePost.uuid == old)
            .values(created_at=utcnow() - timedelta(days=91))
        )
        db.session.commit()

        stats = moderation.statistics(today=TODAY + timedelta(days=2))
        rows = {r.category.slug: r for r in stats.categories}
        assert rows["test-kits"].requests == 1 and rows["test-kits"].offers == 0
        assert rows["test-kits"].by_state[PostState.MET] == 1
        assert rows["masks"].offers == 2
        assert rows["masks"].by_state[PostState.OPEN] == 1
        assert rows["masks"].by_state[PostState.EXPIRED] == 1  # past its date, not yet ticked
        assert rows["nurses"].by_state[PostState.CLOSED] == 1
        assert rows["vaccines"].total == 0  # every active category has a row
        assert stats.posts == 4 and stats.offers == 2 and stats.requests == 2
        assert stats.by_state[PostState.MET] == 1
        assert stats.by_state[PostState.EXPIRED] == 1
        assert stats.responses == 3
        assert stats.accepted_responses == 2
        assert stats.delivered_responses == 1
        assert stats.active_cities == 3

        quantities = {(q.category.slug, q.unit): q for q in stats.quantities}
        assert set(quantities) == {("test-kits", "kits"), ("masks", "pieces")}
        kits_row = quantities[("test-kits", "kits")]
        assert kits_row.pledged == Decimal("12000")
        assert kits_row.accepted == Decimal("10000")
        assert kits_row.delivered == Decimal("6000")
        assert quantities[("masks", "pieces")].pledged == Decimal(0)  # withdrawn

    login(client, secretariat)
    page = client.get("/secretariat/resources/").get_data(as_text=True)
    assert "Test kits" in page
    assert '<td class="number">12000</td>' in page
    assert "3 cities posted or responded in the last 90 days" in page


# --- the taxonomy ------------------------------------------------------------------------------


def test_the_secretariat_adds_a_category(app, client, exchange, secretariat):
    login(client, secretariat)
    form = {"slug": "field-hospitals", "group": "supplies", "name_en": "Field hospitals",
            "name_ko": "야전 병원", "default_unit": "units"}  # fmt: skip
    response = submit(client, "/secretariat/resources/categories", form,
                      page="/secretariat/resources/")  # fmt: skip
    assert response.status_code == 302
    with app.app_context():
        category = db.session.scalar(
            select(ResourceCategory).where(ResourceCategory.slug == "field-hospitals")
        )
        assert category.name_ko == "야전 병원"
        assert category.default_unit == "units"
        assert category.position > 0
        assert db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "resource_category_added")
        )
    assert "Field hospitals" in client.get("/secretariat/resources/").get_data(as_text=True)

    # The same identifier again, and a malformed one: clear messages, nothing stored.
    response = submit(client, "/secretariat/resources/categories", form,
                      page="/secretariat/resources/")  # fmt: skip
    assert "There is already a category with this identifier." in response.get_data(as_text=True)
    bad = {**form, "slug": "Field Hospitals!"}
    response = submit(client, "/secretariat/resources/categories", bad,
                      page="/secretariat/resources/")  # fmt: skip
    assert "Use lowercase letters, digits and single hyphens" in response.get_data(as_text=True)
    with app.app_context():
        assert len(db.session.scalars(
            select(ResourceCategory).where(ResourceCategory.name_en == "Field hospitals")
        ).all()) == 1  # fmt: skip


def test_adding_a_category_is_validated_in_the_service(app, exchange, secretariat):
    with app.test_request_context():
        officer = user(secretariat)
        cases = [
            (("", "supplies", "Tents", "", "units"), "slug"),
            (("tents", "shelter", "Tents", "", "units"), "group"),
            (("tents", "supplies", "", "", "units"), "name_en"),
            (("tents", "supplies", "<b>Tents</b>", "", "units"), "name_en"),
            (("tents", "supplies", "Tents", "", "barrels"), "default_unit"),
            (("test-kits", "supplies", "Test kits", "", "kits"), "slug"),
        ]
        for args, field in cases:
            with pytest.raises(ServiceError) as refused:
                moderation.add_category(officer, *args)
            assert refused.value.field == field
        with pytest.raises(PermissionDenied):
            moderation.add_category(user(exchange["Seoul"]["admin"]), "tents", "supplies",
                                    "Tents", "", "units")  # fmt: skip


@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_moderation_pages_show_in_both_languages(
    app, client, exchange, make_post, secretariat, language
):
    uuid = make_post(exchange["Seoul"]["delegate"], title_en="Kits to hide")
    hidden = make_post(exchange["London"]["delegate"], title_en="Already hidden")
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        moderation.hide_post(user(secretariat), post(hidden), "Spam.")
        db.session.commit()
    login(client, secretariat)
    client.get(f"/language/{language}")
    for url in ("/secretariat/resources/", f"/secretariat/resources/{uuid}/hide",
                f"/secretariat/resources/{hidden}/hide", "/resources/subscriptions"):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 200, url
        assert f'<html lang="{language}">' in response.get_data(as_text=True)
