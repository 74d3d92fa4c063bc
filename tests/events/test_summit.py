"""The CAC Global Summit 2020 of the demo: its 15 sessions at the seeds' times, shown in each
viewer's zone on the page and in the iCalendar files."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
from sqlalchemy import select

from cacnet.core.db import db
from cacnet.events.demo import SESSIONS, SUMMIT_UID
from cacnet.events.models import Event, EventKind

KST = ZoneInfo("Asia/Seoul")

# The seeds' table "CAC Global Summit 2020: Topics by Session", as printed.
SEED_TABLE = [
    ("Jun. 1", "11:00–12:00", "Pre-Summit Day"),
    ("Jun. 2", "22:00–23:30", "Mayoral Meeting"),
    ("Jun. 3", "09:00–11:10", "Discussion on Climate and Environment"),
    ("Jun. 3", "13:00–14:30", "Discussion on Quarantine Measures"),
    ("Jun. 3", "15:30–17:00", "Discussion on Education"),
    ("Jun. 3", "18:00–19:30", "Discussion on Urban Sharing"),
    ("Jun. 3", "21:00–22:30", "Discussion on Citizen Participation"),
    ("Jun. 4", "08:00–09:30", "Conversation with Jared Diamond"),
    ("Jun. 4", "16:00–17:00", "Discussion on Culture"),
    ("Jun. 4", "18:00–19:30", "Discussion on Welfare"),
    ("Jun. 4", "23:00–24:30", "Discussion on Public Transportation"),
    ("Jun. 5", "07:45–09:00", "Discussion on Smart City"),
    ("Jun. 5", "10:00–11:00", "Global Summit Discussion Forum"),
    ("Jun. 5", "13:30–16:00", "Innovative Companies IR"),
    ("Jun. 5", "17:00–18:30", "Discussion on Sports"),
]


def _mayoral(app) -> int:
    with app.app_context():
        return db.session.scalar(select(Event.id).where(Event.title_en == "Mayoral Meeting"))


def test_the_fifteen_sessions_are_stored_at_the_seeds_times(app, summit):
    assert len(SESSIONS) == 15
    with app.app_context():
        parent = db.session.scalar(select(Event).where(Event.uid == SUMMIT_UID))
        sessions = list(
            db.session.scalars(
                select(Event).where(Event.parent_id == parent.id).order_by(Event.starts_at)
            )
        )
        assert len(sessions) == 15
        for session, (day, times, title) in zip(sessions, SEED_TABLE, strict=True):
            assert session.kind == EventKind.SESSION
            assert session.title_en == title and session.title_ko
            start = session.starts_at.astimezone(KST)
            end = session.ends_at.astimezone(KST)
            assert start.strftime("%b. %-d") == day
            first, last = times.split("–")
            assert start.strftime("%H:%M") == first
            # "24:30" is half past midnight the next day.
            hours, minutes = last.split(":")
            midnight = start.replace(hour=0, minute=0)
            expected_end = midnight + timedelta(hours=int(hours), minutes=int(minutes))
            assert end == expected_end
            assert session.timezone == "Asia/Seoul"
        public_transport = sessions[10]
        assert public_transport.ends_at.astimezone(KST) == datetime(2020, 6, 5, 0, 30, tzinfo=KST)
        quarantine = sessions[3]
        assert quarantine.area.slug == "quarantine-measures"
        assert quarantine.organiser == "Citizens' Health Bureau"
        assert quarantine.countries == ["US", "CN"]
        assert sessions[14].countries == ["TW", "US", "MY"]
        assert sessions[1].starts_at == datetime(2020, 6, 2, 13, 0, tzinfo=ZoneInfo("UTC"))


def test_seeding_again_adds_nothing(app, summit):
    from cacnet.events.demo import seed_events

    with app.test_request_context(base_url=app.config["BASE_URL"]):
        assert seed_events() == 0
        assert db.session.query(Event).count() == 17


def test_the_mayoral_meeting_in_london_and_toronto(app, client, summit):
    mayoral = _mayoral(app)
    client.set_cookie("tz", "Europe/London")
    page = client.get(f"/events/{mayoral}").get_data(as_text=True)
    assert "Tuesday, June 2, 2020, 14:00–15:30 BST" in page
    assert "22:00–23:30 KST in Seoul" in page

    client.set_cookie("tz", "America/Toronto")
    page = client.get(f"/events/{mayoral}").get_data(as_text=True)
    assert "Tuesday, June 2, 2020, 09:00–10:30 EDT" in page
    assert "22:00–23:30 KST in Seoul" in page

    # The summit's programme, grouped by day in the viewer's zone: Toronto is 13 hours behind, so
    # the Mayoral Meeting is under 2 June and the Jun. 3 09:00 KST session under 2 June too.
    summit_id = _summit_id(app)
    page = client.get(f"/events/{summit_id}").get_data(as_text=True)
    tuesday = page.index("Tuesday, June 2, 2020</h3>")
    wednesday = page.index("Wednesday, June 3, 2020</h3>")
    assert tuesday < page.index(">Mayoral Meeting<", tuesday) < wednesday
    assert tuesday < page.index(">Discussion on Climate and Environment<", tuesday) < wednesday


def _summit_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(Event.id).where(Event.uid == SUMMIT_UID))


def test_without_a_choice_times_are_where_the_event_is_held(app, client, summit):
    page = client.get(f"/events/{_mayoral(app)}").get_data(as_text=True)
    assert "Tuesday, June 2, 2020, 22:00–23:30 KST" in page
    assert "in Seoul)" not in page


def test_an_unknown_zone_is_ignored_with_a_message(app, client, summit):
    client.set_cookie("tz", "Mars/Olympus")
    response = client.get(f"/events/{_mayoral(app)}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "The time zone Mars/Olympus is unknown" in page
    assert "22:00–23:30 KST" in page
    assert "tz=;" in response.headers.get("Set-Cookie", "")  # the bad cookie is dropped
    response = client.get("/events/timezone?tz=Mars/Olympus&next=/events/", follow_redirects=True)
    assert response.status_code == 200
    assert "Choose a time zone from the list." in response.get_data(as_text=True)


def test_the_zone_form_remembers_the_choice(app, client, summit):
    mayoral = _mayoral(app)
    response = client.get(f"/events/timezone?tz=Europe/London&next=/events/{mayoral}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/events/{mayoral}")
    assert "14:00–15:30 BST" in client.get(f"/events/{mayoral}").get_data(as_text=True)
    client.get(f"/events/timezone?tz=event&next=/events/{mayoral}")
    assert "22:00–23:30 KST" in client.get(f"/events/{mayoral}").get_data(as_text=True)
    # An outside address is not followed.
    response = client.get("/events/timezone?tz=Asia/Seoul&next=https://evil.example/")
    assert response.headers["Location"].endswith("/events/")


def test_the_ics_converts_to_london_and_toronto(app, client, summit):
    mayoral = _mayoral(app)
    response = client.get(f"/events/{mayoral}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.get_data()
    assert b"\r\n" in body and b"\n" not in body.replace(b"\r\n", b"")
    cal = icalendar.Calendar.from_ical(body)
    (vevent,) = cal.walk("VEVENT")
    start = vevent.decoded("dtstart")
    end = vevent.decoded("dtend")
    assert start.astimezone(ZoneInfo("Europe/London")).strftime("%Y-%m-%d %H:%M") == (
        "2020-06-02 14:00"
    )
    assert start.astimezone(ZoneInfo("America/Toronto")).strftime("%Y-%m-%d %H:%M") == (
        "2020-06-02 09:00"
    )
    assert end.astimezone(KST).strftime("%H:%M") == "23:30"
    assert str(vevent["summary"]) == "Mayoral Meeting"


def test_the_korean_page(app, client, summit):
    client.get("/language/ko")
    client.set_cookie("tz", "Europe/London")
    page = client.get(f"/events/{_mayoral(app)}").get_data(as_text=True)
    assert '<html lang="ko">' in page
    assert "시장단 회의" in page
    assert "2020년 6월 2일 화요일, 14:00–15:30 BST" in page
    assert 'lang="en"' in page  # the English title shown beside the Korean one


def test_a_session_past_midnight_shows_both_days(app, client, summit):
    with app.app_context():
        transport = db.session.scalar(
            select(Event.id).where(Event.title_en == "Discussion on Public Transportation")
        )
    page = client.get(f"/events/{transport}").get_data(as_text=True)
    assert "Thursday, June 4, 2020, 23:00 – Friday, June 5, 2020, 00:30 KST" in page
    client.set_cookie("tz", "Europe/London")
    page = client.get(f"/events/{transport}").get_data(as_text=True)
    assert "Thursday, June 4, 2020, 15:00–16:30 BST" in page
    assert "23:00–00:30 (Jun 5, 2020) KST in Seoul" in page
