"""A city's delegate publishes the figures of a day by hand, corrects and deletes them; bad
figures are refused with a message on the field and nothing stored; only the city's own
delegates, while the city is an approved member, may publish. Anyone may read."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from cacnet.cities.models import City
from cacnet.core.audit import AuditEvent
from cacnet.core.db import db
from cacnet.core.errors import PermissionDenied
from cacnet.situation import services
from tests.conftest import csrf_token, login, submit
from tests.situation.conftest import DAY, stored, user


def edit_url(slug: str) -> str:
    return f"/cities/{slug}/situation/edit"


def test_a_delegate_publishes_a_day_then_corrects_it(app, client, cities):
    seoul = cities["Seoul"]
    login(client, seoul["delegate"])
    response = submit(client, edit_url(seoul["slug"]), {
        "day": DAY.isoformat(), "new_cases": "1,204", "active_cases": "15 300",
        "tests_done": "52000", "note": "Weekend: fewer tests.",
    })  # fmt: skip
    assert response.status_code == 302
    assert stored(app, seoul["city_id"]) == [{
        "date": "2021-03-01", "new_cases": 1204, "active_cases": 15300, "hospitalised": None,
        "tests_done": 52000, "vaccinated": None, "note": "Weekend: fewer tests.",
    }]  # fmt: skip
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The figures of Mar 1, 2021 are published." in page

    # The form opens on the day's figures; saving replaces them all.
    form = client.get(edit_url(seoul["slug"]) + "?day=2021-03-01").get_data(as_text=True)
    assert 'value="1204"' in form and "Weekend: fewer tests." in form
    submit(client, edit_url(seoul["slug"]), {"day": "2021-03-01", "new_cases": "1210",
                                             "hospitalised": "88"})  # fmt: skip
    [day] = stored(app, seoul["city_id"])
    assert (day["new_cases"], day["active_cases"], day["hospitalised"], day["note"]) == (
        1210,
        None,
        88,
        "",
    )
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "situation_day_recorded")
            .order_by(AuditEvent.id)
        ).all()  # fmt: skip
        assert [e.object_id for e in events] == [seoul["city_id"]] * 2
        assert events[1].details["old"]["new_cases"] == 1204
        assert events[1].details["new"]["new_cases"] == 1210
        assert events[1].actor.email == seoul["delegate"]

    # Anyone reads them.
    public = app.test_client().get(f"/cities/{seoul['slug']}/situation")
    assert public.status_code == 200
    assert "1,210" in public.get_data(as_text=True)


def test_a_delegate_deletes_a_day(app, client, cities):
    seoul = cities["Seoul"]
    login(client, seoul["delegate"])
    for offset in (0, 1):
        day = DAY + timedelta(days=offset)
        submit(client, edit_url(seoul["slug"]), {"day": day.isoformat(), "new_cases": "5"})
    response = submit(client, f"/cities/{seoul['slug']}/situation/2021-03-01/delete",
                      page=edit_url(seoul["slug"]))  # fmt: skip
    assert response.status_code == 302
    assert [d["date"] for d in stored(app, seoul["city_id"])] == ["2021-03-02"]
    again = submit(client, f"/cities/{seoul['slug']}/situation/2021-03-01/delete",
                   page=edit_url(seoul["slug"]), follow_redirects=True)  # fmt: skip
    assert "There are no figures for that day." in again.get_data(as_text=True)
    with app.app_context():
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "situation_day_deleted")
        )
        assert event.details == {"day": "2021-03-01", "old": {
            "new_cases": 5, "active_cases": None, "hospitalised": None, "tests_done": None,
            "vaccinated": None, "note": ""}}  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"new_cases": "-3"}, "new_cases", "A count cannot be negative."),
        ({"new_cases": "many"}, "new_cases", "Enter a whole number, such as 1250."),
        ({"tests_done": "12.5"}, "tests_done", "Enter a whole number without decimals"),
        ({"vaccinated": "1.234"}, "vaccinated", "Enter a whole number without decimals"),
        ({"hospitalised": "12,34"}, "hospitalised", "Enter a whole number without decimals"),
        ({"hospitalised": "1,2345"}, "hospitalised", "Enter a whole number"),
        ({"active_cases": "2000000000"}, "active_cases", "That number is too large"),
        ({"day": "", "new_cases": "4"}, "day", "Give the date of the figures."),
        (
            {"new_cases": "", "note": "Nothing yet"},
            "new_cases",
            "Give at least one figure for the day.",
        ),
        (
            {"day": (date.today() + timedelta(days=2)).isoformat()},
            "day",
            "The date is in the future",
        ),
        ({"day": "1999-12-31"}, "day", "Give a date from 1 January 2000 on."),
        ({"note": "x" * 1001}, "note", "1000 characters"),
    ],
)
def test_bad_figures_are_refused_on_their_field_and_nothing_is_stored(
    app, client, cities, fields, field, message
):
    seoul = cities["Seoul"]
    login(client, seoul["delegate"])
    data = {"day": DAY.isoformat(), "new_cases": "10", **fields}
    response = submit(client, edit_url(seoul["slug"]), data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html
    assert message in html.split(f'id="{field}-error"', 1)[1].split("</p>", 1)[0]
    assert stored(app, seoul["city_id"]) == []


def test_every_wrong_field_is_named_at_once(app, client, cities):
    seoul = cities["Seoul"]
    login(client, seoul["delegate"])
    response = submit(client, edit_url(seoul["slug"]), {
        "day": DAY.isoformat(), "new_cases": "-1", "tests_done": "ten", "vaccinated": "5"})  # fmt: skip
    html = response.get_data(as_text=True)
    assert 'id="new_cases-error"' in html and 'id="tests_done-error"' in html
    assert stored(app, seoul["city_id"]) == []


def test_today_in_the_city_is_accepted_tomorrow_is_not(app, cities):
    from datetime import UTC, datetime

    with app.test_request_context():
        city = db.session.get(City, cities["Seoul"]["city_id"])
        city.timezone = "Asia/Seoul"
        # 23:30 UTC on 1 March is already 2 March in Seoul.
        now = datetime(2021, 3, 1, 23, 30, tzinfo=UTC)
        assert services.city_today(city, now) == date(2021, 3, 2)
        city.timezone = ""
        assert services.city_today(city, now) == date(2021, 3, 2)  # UTC+14: the earliest
        city.timezone = "America/Los_Angeles"
        assert services.city_today(city, now) == date(2021, 3, 1)
        actor = user(cities["Seoul"]["delegate"])
        city.timezone = "Asia/Seoul"
        today = services.city_today(city, now)
        assert services.record_day(actor, city, services.DayFigures(day=today, new_cases=1),
                                   today=today) == "created"  # fmt: skip
        with pytest.raises(services.FiguresRefused):
            services.record_day(actor, city, services.DayFigures(
                day=today + timedelta(days=1), new_cases=1), today=today)  # fmt: skip
        db.session.rollback()


# --- who may publish -------------------------------------------------------------------------

PUBLISHING = [
    ("get", "/cities/{slug}/situation/edit"),
    ("post", "/cities/{slug}/situation/edit"),
    ("post", "/cities/{slug}/situation/upload"),
    ("post", "/cities/{slug}/situation/2021-03-01/delete"),
]


@pytest.mark.parametrize(("method", "url"), PUBLISHING)
def test_anonymous_visitors_are_sent_to_sign_in(client, cities, method, url):
    token = csrf_token(client.get("/auth/login").get_data(as_text=True))
    data = {"csrf_token": token, "day": "2021-03-01", "new_cases": "1"}
    response = getattr(client, method)(url.format(slug=cities["Seoul"]["slug"]), data=data)
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize(("method", "url"), PUBLISHING)
def test_another_citys_delegate_may_not_publish(app, client, cities, method, url):
    login(client, cities["London"]["delegate"])
    token = csrf_token(client.get("/situation/compare").get_data(as_text=True))
    data = {"csrf_token": token, "day": "2021-03-01", "new_cases": "1"}
    response = getattr(client, method)(url.format(slug=cities["Seoul"]["slug"]), data=data)
    assert response.status_code == 403
    assert stored(app, cities["Seoul"]["city_id"]) == []


def test_the_secretariat_does_not_publish_for_a_city(client, cities, secretariat):
    login(client, secretariat)
    assert client.get(edit_url(cities["Seoul"]["slug"])).status_code == 403


def test_a_suspended_citys_delegates_may_only_look(app, client, cities, secretariat):
    from cacnet.accounts.models import User
    from cacnet.membership import services as membership
    from cacnet.membership.models import Membership

    seoul = cities["Seoul"]
    with app.test_request_context():
        actor = user(seoul["delegate"])
        city = db.session.get(City, seoul["city_id"])
        services.record_day(actor, city, services.DayFigures(day=DAY, new_cases=7))
        officer = db.session.scalar(select(User).where(User.email == secretariat))
        m = db.session.scalar(select(Membership).where(Membership.city_id == seoul["city_id"]))
        membership.suspend(officer, m, "Dues unpaid")
        db.session.commit()
    login(client, seoul["delegate"])
    response = client.get(edit_url(seoul["slug"]))
    assert response.status_code == 403
    assert "membership is not active" in response.get_data(as_text=True)
    with app.test_request_context():
        with pytest.raises(PermissionDenied):
            services.record_day(user(seoul["delegate"]), db.session.get(City, seoul["city_id"]),
                                services.DayFigures(day=DAY, new_cases=8))  # fmt: skip
        db.session.rollback()
    # The figures stay public, and the page offers no way to change them.
    page = client.get(f"/cities/{seoul['slug']}/situation").get_data(as_text=True)
    assert "Publish figures" not in page
    assert stored(app, seoul["city_id"])[0]["new_cases"] == 7


def test_my_city_leads_a_delegate_to_the_form(client, cities):
    login(client, cities["London"]["delegate"])
    response = client.get("/situation/mine")
    assert response.headers["Location"].endswith(
        f"/cities/{cities['London']['slug']}/situation/edit"
    )


def test_the_city_page_shows_the_latest_figures_and_invites_its_delegates(app, client, cities):
    seoul, london = cities["Seoul"], cities["London"]
    city_page = f"/cities/{seoul['slug']}"
    assert "city-situation-heading" not in client.get(city_page).get_data(as_text=True)  # none yet
    login(client, seoul["delegate"])
    html = client.get(city_page).get_data(as_text=True)
    assert "has not published any figures yet" in html and "Publish figures" in html
    submit(client, edit_url(seoul["slug"]), {"day": DAY.isoformat(), "new_cases": "31",
                                             "vaccinated": "1200"})  # fmt: skip
    client = app.test_client()
    login(client, london["delegate"])
    html = client.get(city_page).get_data(as_text=True)
    assert 'id="city-situation-chart-title"' in html
    assert "Latest figures: Mar 1, 2021." in html
    assert "Publish figures" not in html
    assert f"/cities/{seoul['slug']}/situation" in html
