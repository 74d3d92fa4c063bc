"""The exchange's rules in the service layer: bad input is refused with a clear message and
changes nothing; expiry and reminders follow a frozen clock."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from cacnet.core.db import db
from cacnet.core.errors import PermissionDenied, ServiceError, StateConflict
from cacnet.resources import services
from cacnet.resources.models import PostState, ResourcePost, ResourceResponse, ResponseState
from tests.conftest import login, submit
from tests.resources.conftest import category_id, user

TODAY = date(2026, 11, 21)


def _data(**changes):
    values = {"kind": "request", "category_id": category_id("masks"), "title_en": "Masks",
              "quantity": "500", "unit": "pieces", "expires_on": TODAY + timedelta(days=30)}  # fmt: skip
    values.update(changes)
    return services.PostData(**values)


def _post(uuid: str) -> ResourcePost:
    return db.session.scalar(select(ResourcePost).where(ResourcePost.uuid == uuid))


def _count(model) -> int:
    return db.session.scalar(select(func.count(model.id)))


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"quantity": "0"}, "quantity", "more than zero"),
        ({"quantity": "-5"}, "quantity", "positive number"),
        ({"quantity": "1e9"}, "quantity", "positive number"),
        ({"quantity": "1.234"}, "quantity", "two decimals"),
        ({"quantity": "abc"}, "quantity", "positive number"),
        ({"title_en": "", "title_ko": ""}, "title_en", "English or in Korean"),
        ({"unit": "tons of fun"}, "unit", "Choose a unit"),
        ({"kind": "gift"}, "kind", "offer or request"),
        ({"category_id": 999999}, "category_id", "Choose a category"),
        ({"available_from": TODAY + timedelta(days=9), "needed_by": TODAY + timedelta(days=2)},
         "available_from", "must come before"),
        ({"needed_by": TODAY - timedelta(days=1)}, "needed_by", "past"),
        ({"expires_on": TODAY - timedelta(days=1)}, "expires_on", "past"),
        ({"expires_on": TODAY + timedelta(days=400)}, "expires_on", "at most a year"),
        ({"contact_id": 999999}, "contact_id", "your city's contacts"),
    ],
)  # fmt: skip
def test_bad_posts_are_refused_and_nothing_is_stored(app, exchange, changes, field, message):
    with app.test_request_context():
        with pytest.raises(ServiceError) as refused:
            services.create_post(user(exchange["Seoul"]["delegate"]), _data(**changes), today=TODAY)
        assert refused.value.field == field and message in str(refused.value.message)
        db.session.rollback()
        assert _count(ResourcePost) == 0


def test_quantities_are_decimals_never_floats(app, exchange):
    with app.test_request_context():
        post = services.create_post(user(exchange["Seoul"]["delegate"]),
                                    _data(quantity="1,250.50"), today=TODAY)  # fmt: skip
        db.session.commit()
        assert db.session.get(ResourcePost, post.id).quantity == Decimal("1250.50")


def test_responses_that_are_refused(app, exchange, make_post):
    uuid = make_post(exchange["Seoul"]["delegate"], quantity="100")
    with app.test_request_context():
        post = _post(uuid)
        seoul, london = user(exchange["Seoul"]["delegate"]), user(exchange["London"]["delegate"])
        with pytest.raises(PermissionDenied, match="your own city"):
            services.respond(seoul, post, "10")
        with pytest.raises(ServiceError, match="Only 100 kits are left"):
            services.respond(london, post, "101")
        with pytest.raises(ServiceError, match="more than zero"):
            services.respond(london, post, "0")
        with pytest.raises(ServiceError, match="past"):
            services.respond(london, post, "5", proposed_date=date.today() - timedelta(days=1))
        services.respond(london, post, "10")
        db.session.commit()
        with pytest.raises(StateConflict, match="already has a response waiting"):
            services.respond(london, post, "5")
        db.session.rollback()
        assert _count(ResourceResponse) == 1

        response = db.session.scalar(select(ResourceResponse))
        jakarta = user(exchange["Jakarta"]["delegate"])
        with pytest.raises(PermissionDenied, match="Only the city that posted"):
            services.accept(london, response)  # the responder cannot accept its own response
        with pytest.raises(PermissionDenied, match="Only the city that posted"):
            services.accept(jakarta, response)
        with pytest.raises(ServiceError, match="at most the 10 kits"):
            services.accept(seoul, response, "11")
        with pytest.raises(PermissionDenied, match="Only the two cities"):
            services.post_message(jakarta, response, "Hello")
        with pytest.raises(ServiceError, match="Write a message"):
            services.post_message(london, response, "   ")
        db.session.rollback()
        assert db.session.get(ResourceResponse, response.id).state == ResponseState.PENDING

        services.withdraw_response(london, response)
        db.session.commit()
        with pytest.raises(StateConflict, match="already been answered or withdrawn"):
            services.accept(seoul, response)
        db.session.rollback()

        services.close_post(seoul, post)
        db.session.commit()
        with pytest.raises(StateConflict, match="no longer takes responses"):
            services.respond(jakarta, post, "1")


def test_a_suspended_city_can_look_but_not_act(app, exchange, make_post, secretariat):
    from cacnet.accounts.models import User
    from cacnet.membership import services as membership
    from cacnet.membership.models import Membership

    uuid = make_post(exchange["Seoul"]["delegate"])
    with app.test_request_context():
        officer = db.session.scalar(select(User).where(User.email == secretariat))
        london_membership = db.session.scalar(
            select(Membership).where(Membership.city_id == exchange["London"]["city_id"])
        )
        membership.suspend(officer, london_membership, "Dues unpaid")
        db.session.commit()
        london = user(exchange["London"]["delegate"])
        assert services.board_select(london, services.BoardQuery()) is not None  # may look
        with pytest.raises(PermissionDenied, match="not active"):
            services.respond(london, _post(uuid), "10")
        with pytest.raises(PermissionDenied, match="not active"):
            services.create_post(london, _data(), today=TODAY)


def test_a_forged_or_hidden_post_is_not_found(app, client, exchange, make_post):
    uuid = make_post(exchange["Seoul"]["delegate"])
    login(client, exchange["London"]["delegate"])
    assert client.get("/resources/00000000-0000-0000-0000-000000000000").status_code == 404
    assert client.get("/resources/responses/nope/accept").status_code == 405
    forged = submit(client, "/resources/responses/00000000-0000-0000-0000-000000000000/accept",
                    {}, page=f"/resources/{uuid}")  # fmt: skip
    assert forged.status_code == 404
    with app.app_context():
        from cacnet.core.db import utcnow

        post = _post(uuid)
        post.hidden_at, post.hidden_reason = utcnow(), "Duplicate"
        db.session.commit()
    assert client.get(f"/resources/{uuid}").status_code == 404


def test_posts_expire_with_the_clock_and_posters_are_reminded_once(
    app, exchange, make_post, outbox
):
    expires = date.today() + timedelta(days=5)
    uuid = make_post(exchange["Seoul"]["delegate"], expires_on=expires)
    london_uuid = make_post(exchange["London"]["delegate"], kind="offer",
                            expires_on=date.today() + timedelta(days=60))  # fmt: skip
    with app.test_request_context(base_url="http://localhost"):
        assert services.send_expiry_reminders(today=expires - timedelta(days=4)) == 0  # too early
        assert services.send_expiry_reminders(today=expires - timedelta(days=3)) == 1
        db.session.commit()
        assert services.send_expiry_reminders(today=expires - timedelta(days=2)) == 0  # only once
        db.session.commit()
    assert len(outbox.to(exchange["Seoul"]["delegate"], "expires soon")) == 1

    with app.test_request_context(base_url="http://localhost"):
        london = user(exchange["London"]["delegate"])
        # the board hides it from the day after expiry, before the clock job has run
        on_expiry_day = services.board_select(london, services.BoardQuery(), today=expires)
        assert uuid in {p.uuid for p in db.session.scalars(on_expiry_day)}
        after = services.board_select(
            london, services.BoardQuery(), today=expires + timedelta(days=1)
        )
        assert uuid not in {p.uuid for p in db.session.scalars(after)}
        expired_view = services.board_select(london, services.BoardQuery(status="expired"),
                                             today=expires + timedelta(days=1))  # fmt: skip
        assert uuid in {p.uuid for p in db.session.scalars(expired_view)}

        services.respond(london, _post(uuid), "5", today=expires)
        db.session.commit()
        assert services.expire_posts(today=expires + timedelta(days=1)) == 1
        db.session.commit()
        post = _post(uuid)
        assert post.state == PostState.EXPIRED
        assert [r.state for r in post.responses] == [ResponseState.DECLINED]
        assert _post(london_uuid).state == PostState.OPEN
        with pytest.raises(StateConflict, match="no longer takes responses"):
            services.respond(london, post, "1")


def test_the_clock_work_runs_by_itself_and_from_the_command_line(app, client, exchange, make_post):
    from cacnet.resources import views

    uuid = make_post(exchange["Seoul"]["delegate"], expires_on=date.today() + timedelta(days=2))
    with app.app_context():
        _post(uuid).expires_on = date.today() - timedelta(days=1)  # as if time had passed
        db.session.commit()
    app.config["RESOURCES_AUTO_TICK"] = True
    views._next_check = 0.0
    try:
        assert (
            client.get("/").status_code == 200
        )  # any page: the hourly tick is queued (inline here)
    finally:
        app.config["RESOURCES_AUTO_TICK"] = False
    with app.app_context():
        assert _post(uuid).state == PostState.EXPIRED
    assert client.get("/").status_code == 200  # not again within the hour
    result = app.test_cli_runner().invoke(args=["resources", "tick"])
    assert result.exit_code == 0 and "expired 0" in result.output


def test_a_post_past_its_date_expires_when_viewed_and_accepts_nothing(
    app, client, exchange, make_post
):
    uuid = make_post(exchange["Seoul"]["delegate"], quantity="100")
    with app.test_request_context():
        response = services.respond(user(exchange["London"]["delegate"]), _post(uuid), "10")
        db.session.commit()
        _post(uuid).expires_on = date.today() - timedelta(days=1)
        db.session.commit()
        with pytest.raises(StateConflict, match="has expired"):
            services.accept(user(exchange["Seoul"]["delegate"]), response)
        db.session.rollback()
    login(client, exchange["London"]["delegate"])
    assert client.get(f"/resources/{uuid}").status_code == 200
    with app.app_context():
        assert _post(uuid).state == PostState.EXPIRED


def test_the_board_lists_the_most_urgent_first_then_the_newest(app, exchange, make_post):
    for title, urgency in (("normal one", "normal"), ("critical one", "critical"),
                           ("high one", "high"), ("second critical", "critical")):  # fmt: skip
        make_post(exchange["Seoul"]["delegate"], title_en=title, urgency=urgency)
    with app.test_request_context():
        london = user(exchange["London"]["delegate"])
        titles = [
            p.title
            for p in db.session.scalars(services.board_select(london, services.BoardQuery()))
        ]
    assert titles == ["second critical", "critical one", "high one", "normal one"]


def test_the_board_count_stops_at_its_cap(app, client, exchange, make_post, monkeypatch):
    for n in range(3):
        make_post(exchange["Seoul"]["delegate"], title_en=f"Post {n}")
    login(client, exchange["London"]["delegate"])
    assert "3 posts" in client.get("/resources/").get_data(as_text=True)
    monkeypatch.setattr(services, "COUNT_CAP", 2)
    page = client.get("/resources/").get_data(as_text=True)
    assert "More than 2 posts: narrow the search to see them all." in page
    assert page.count("/resources/") and "Post 0" in page and "Post 2" in page
