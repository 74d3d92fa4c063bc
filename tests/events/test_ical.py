"""The iCalendar files, parsed back with icalendar: the calendar of every event the viewer may
see and one event's file; stable UIDs, SEQUENCE and STATUS after changes."""

from __future__ import annotations

import icalendar

from tests.conftest import login, submit


def _calendar(client, url: str) -> icalendar.Calendar:
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.get_data()
    assert body.startswith(b"BEGIN:VCALENDAR\r\n")
    return icalendar.Calendar.from_ical(body)


def test_the_calendar_of_every_public_event(app, client, summit, make_event):
    members_only = make_event("Members' planning meeting", kind="meeting", visibility="members")
    draft = make_event("A draft webinar", publish=False)
    cal = _calendar(client, "/events.ics")
    assert str(cal["prodid"]).startswith("-//Cities Alliance Against Pandemic//")
    assert str(cal["version"]) == "2.0"
    assert str(cal["method"]) == "PUBLISH"
    assert str(cal["calscale"]) == "GREGORIAN"
    assert str(cal["x-wr-calname"]) == "CAAP events"
    events = cal.walk("VEVENT")
    assert len(events) == 17  # the summit, its 15 sessions and the 2027 webinar
    titles = {str(e["summary"]) for e in events}
    assert "Members' planning meeting" not in titles and "A draft webinar" not in titles
    for e in events:
        for key in ("uid", "dtstamp", "dtstart", "dtend", "summary", "description", "url",
                    "location", "sequence", "status"):  # fmt: skip
            assert key in e, key
        assert e.decoded("dtend") > e.decoded("dtstart")
    quarantine = next(e for e in events if str(e["summary"]) == "Discussion on Quarantine Measures")
    assert quarantine["categories"].cats == ["Quarantine measures"]
    assert "Citizens' Health Bureau" in str(quarantine["description"])
    assert str(quarantine["uid"]) == "cac-global-summit-2020-session-04@cacnet"

    # Members see the members-only meeting too; nobody's calendar has the draft.
    login(client, summit["Seoul"]["delegate"])
    titles = {str(e["summary"]) for e in _calendar(client, "/events.ics").walk("VEVENT")}
    assert "Members' planning meeting" in titles and "A draft webinar" not in titles
    assert len(titles) == 18
    assert _calendar(client, f"/events/{members_only}.ics").walk("VEVENT")
    assert client.get(f"/events/{draft}.ics").status_code == 404


def test_uids_stay_and_sequence_and_status_follow_changes(app, client, network, make_event):
    event_id = make_event("Webinar on vaccination logistics", area_id=network["areas"]["welfare"])
    first = _calendar(client, f"/events/{event_id}.ics").walk("VEVENT")[0]
    assert int(first["sequence"]) == 0 and str(first["status"]) == "CONFIRMED"
    assert first["categories"].cats == ["Welfare"]
    login(client, network["secretariat"])
    form = {
        "kind": "webinar", "title_en": "Webinar on vaccination logistics", "title_ko": "",
        "timezone": "Asia/Seoul", "start_date": "2030-05-01", "start_time": "11:00",
        "end_date": "2030-05-01", "end_time": "12:00", "visibility": "public", "publish": "1",
        "area_id": str(network["areas"]["welfare"]),
    }  # fmt: skip
    response = submit(client, f"/events/{event_id}/edit", form)
    assert response.status_code == 302
    submit(client, f"/events/{event_id}/cancel", {"reason": "Speaker unwell"},
           page=f"/events/{event_id}")  # fmt: skip
    client = app.test_client()
    second = _calendar(client, f"/events/{event_id}.ics").walk("VEVENT")[0]
    assert str(second["uid"]) == str(first["uid"])
    assert int(second["sequence"]) == 2
    assert str(second["status"]) == "CANCELLED"
    assert second.decoded("dtstart").hour == 2  # 11:00 KST = 02:00 UTC


def test_description_is_plain_text(app, client, network, make_event):
    event_id = make_event(
        "Webinar", description_en="**Bold** and a [link](https://example.org/x)\n\n<b>tag</b>"
    )
    e = _calendar(client, f"/events/{event_id}.ics").walk("VEVENT")[0]
    text = str(e["description"])
    assert "Bold and a link (https://example.org/x)" in text
    assert "**" not in text and "](" not in text
