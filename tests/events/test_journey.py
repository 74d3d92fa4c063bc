"""Journeys through the HTTP client: the secretariat adds an event held in Toronto, a viewer in
Seoul sees it at their time; delegates register and cancel; bad input is refused with a message
and nothing stored."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from cacnet.core.db import db
from cacnet.events.models import Event, EventRegistration
from tests.conftest import login, submit

FORM = {
    "kind": "webinar",
    "title_en": "Contact tracing across borders",
    "title_ko": "국경을 넘는 접촉자 추적",
    "description_en": "How member cities *share* contacts.",
    "description_ko": "회원 도시의 접촉자 정보 공유.",
    "timezone": "America/Toronto",
    "start_date": "2030-10-15",
    "start_time": "19:30",
    "end_date": "2030-10-15",
    "end_time": "21:00",
    "organiser": "Toronto Public Health",
    "venue": "Online",
    "stream_url": "https://www.youtube.com/seoulcityofficial",
    "recording_url": "",
    "interpretation": ["en", "ko"],
    "countries": ["CA", "KR"],
    "speakers": "Eileen de Villa | Medical Officer of Health | Toronto\nKim Ji-woo | Public Health Officer",
    "visibility": "public",
    "publish": "1",
}


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Event))


@pytest.mark.parametrize("language", ["en", "ko"])
def test_secretariat_adds_an_event_in_toronto_seen_from_seoul(app, client, network, language):
    client.get(f"/language/{language}")
    login(client, network["secretariat"])
    form = {**FORM, "city_ids": [str(network["Toronto"]["city_id"])],
            "area_id": str(network["areas"]["quarantine-measures"])}  # fmt: skip
    response = submit(client, "/events/new", form)
    assert response.status_code == 302, response.get_data(as_text=True)
    event_id = int(response.headers["Location"].rsplit("/", 1)[-1])
    with app.app_context():
        event = db.session.get(Event, event_id)
        assert event.timezone == "America/Toronto"
        assert event.starts_at.isoformat() == "2030-10-15T23:30:00+00:00"  # 19:30 EDT
        assert [s.name for s in event.speakers] == ["Eileen de Villa", "Kim Ji-woo"]
        assert event.speakers[0].city_id == network["Toronto"]["city_id"]
        assert [c.name_en for c in event.cities] == ["Toronto"]
    client = app.test_client()
    client.get(f"/language/{language}")
    client.set_cookie("tz", "Asia/Seoul")
    page = client.get(f"/events/{event_id}").get_data(as_text=True)
    if language == "ko":
        assert '<html lang="ko">' in page
        assert "국경을 넘는 접촉자 추적" in page
        assert "2030년 10월 16일 수요일, 08:30–10:00 KST" in page
    else:
        assert "Wednesday, October 16, 2030, 08:30–10:00 KST" in page
    assert "19:30–21:00 EDT" in page and "Toronto" in page
    assert "<em>share</em>" in page or "회원 도시의 접촉자 정보 공유." in page
    listing = client.get("/events/").get_data(as_text=True)
    assert f"/events/{event_id}" in listing
    assert "08:30–10:00 KST" in listing
    # The city page lists the event.
    with app.app_context():
        from cacnet.cities.models import City

        slug = db.session.get(City, network["Toronto"]["city_id"]).slug
    assert f"/events/{event_id}" in client.get(f"/cities/{slug}").get_data(as_text=True)


def test_a_delegate_registers_once_and_cancels(app, client, network, make_event):
    event_id = make_event("Webinar on school reopening")
    delegate = network["Seoul"]["delegate"]
    login(client, delegate)
    page = f"/events/{event_id}"
    response = submit(client, f"/events/{event_id}/register", page=page, follow_redirects=True)
    assert "You are registered" in response.get_data(as_text=True)
    response = submit(client, f"/events/{event_id}/register", page=page, follow_redirects=True)
    assert "You are already registered for this event." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(EventRegistration)) == 1
    response = submit(client, f"/events/{event_id}/unregister", page=page, follow_redirects=True)
    assert "Your registration is cancelled." in response.get_data(as_text=True)
    response = submit(client, f"/events/{event_id}/unregister", page=page, follow_redirects=True)
    assert "You are not registered for this event." in response.get_data(as_text=True)
    submit(client, f"/events/{event_id}/register", page=page)
    with app.app_context():
        (row,) = db.session.scalars(select(EventRegistration)).all()
        assert row.cancelled_at is None

    # Only the secretariat sees who registered.
    assert client.get(f"/events/{event_id}/registrations").status_code == 403
    assert client.get(f"/events/{event_id}/registrations.csv").status_code == 403
    client = app.test_client()
    login(client, network["secretariat"])
    page_html = client.get(f"/events/{event_id}/registrations").get_data(as_text=True)
    assert delegate in page_html
    response = client.get(f"/events/{event_id}/registrations.csv")
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["name", "email", "city"]
    assert rows[1][1] == delegate and rows[1][2] == "Seoul" and rows[1][5] == ""


def test_who_may_register(app, client, network, make_event, summit):
    event_id = make_event("Webinar on masks")
    page = f"/events/{event_id}"
    # Anonymous: asked to sign in.
    anonymous_page = client.get(page).get_data(as_text=True)
    assert "Sign in as a delegate to register" in anonymous_page
    response = submit(client, f"/events/{event_id}/register", page="/auth/login")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    # A suspended city's delegate, the secretariat: refused (403), nothing stored.
    for email in (network["Budapest"]["delegate"], network["secretariat"]):
        login(client, email)
        response = submit(client, f"/events/{event_id}/register", page=page)
        assert response.status_code == 403
        client = app.test_client()
    # A past event: closed.
    with app.app_context():
        mayoral = db.session.scalar(select(Event.id).where(Event.title_en == "Mayoral Meeting"))
    login(client, network["London"]["delegate"])
    response = submit(client, f"/events/{mayoral}/register", page=f"/events/{mayoral}",
                      follow_redirects=True)  # fmt: skip
    assert "This event is over." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(EventRegistration)) == 0


BAD = [
    ({"end_time": "18:00"}, "The event must end after it starts."),
    ({"end_date": "2030-10-14", "end_time": "23:00"}, "The event must end after it starts."),
    ({"timezone": "Mars/Olympus"}, "Choose a time zone from the list."),
    ({"title_en": "<script>alert(1)</script>"}, "Use plain text, without"),
    ({"title_ko": "<b>제목</b>"}, "Use plain text, without"),
    ({"organiser": "<img src=x onerror=alert(1)>"}, "Use plain text, without"),
    ({"venue": "Hall <script>"}, "Use plain text, without"),
    ({"stream_url": "javascript:alert(1)"}, "Enter a web address starting with http://"),
    ({"recording_url": "data:text/html,hi"}, "Enter a web address starting with http://"),
    ({"speakers": "<script>x</script> | role"}, "Use plain text, without"),
    ({"speakers": "Someone | role | Atlantis"}, "There is no city called Atlantis"),
    ({"title_en": "", "title_ko": ""}, "Give the title in English or in Korean."),
    # 02:30 on 10 March 2030 does not exist in Toronto: the clocks go from 02:00 to 03:00.
    (
        {
            "start_date": "2030-03-10",
            "start_time": "02:30",
            "end_date": "2030-03-10",
            "end_time": "04:00",
        },
        "does not exist in America/Toronto",
    ),
    ({"countries": ["XX"]}, "is not a valid choice"),
]


@pytest.mark.parametrize(("change", "message"), BAD)
def test_bad_input_is_refused_and_nothing_stored(app, client, network, change, message):
    login(client, network["secretariat"])
    response = submit(client, "/events/new", {**FORM, **change})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _count(app) == 0


def test_markdown_description_is_sanitised(app, client, network, make_event):
    event_id = make_event(
        "Webinar",
        description_en="<script>alert(1)</script> [x](javascript:alert(1)) **ok**",
    )
    page = client.get(f"/events/{event_id}").get_data(as_text=True)
    assert "<script>alert(1)" not in page and 'href="javascript' not in page
    assert "<strong>ok</strong>" in page


def test_changing_an_event_in_a_dst_gap_is_refused(app, client, network, make_event):
    event_id = make_event("Webinar", timezone="Europe/London")
    login(client, network["secretariat"])
    form = {**FORM, "timezone": "Europe/London", "start_date": "2030-03-31",
            "start_time": "01:30", "end_date": "2030-03-31", "end_time": "03:00"}  # fmt: skip
    response = submit(client, f"/events/{event_id}/edit", form)
    assert "does not exist in Europe/London" in response.get_data(as_text=True)
    with app.app_context():
        event = db.session.get(Event, event_id)
        assert event.title_en == "Webinar" and event.sequence == 0


def test_the_list_filters_and_the_past(app, client, summit):
    upcoming = client.get("/events/").get_data(as_text=True)
    assert "Early warning between cities" in upcoming and "Mayoral Meeting" not in upcoming
    past = client.get("/events/?when=past").get_data(as_text=True)
    assert "Mayoral Meeting" in past and "Early warning between cities" not in past
    sports = client.get("/events/?when=past&area=sports").get_data(as_text=True)
    assert "Discussion on Sports" in sports and "Discussion on Culture" not in sports
    summits = client.get("/events/?when=past&kind=summit").get_data(as_text=True)
    assert "CAC Global Summit 2020" in summits and "Discussion on Sports" not in summits
    assert client.get("/events/?area=nowhere&kind=<x>").status_code == 200
