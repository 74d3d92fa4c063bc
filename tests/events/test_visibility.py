"""Who sees which event, for every role, on the list, the page, both iCalendar files, the
header search and the city page: public events for everyone; members-only events for members of
the alliance (delegates of member cities, a suspended city's delegates included, the
secretariat); drafts for the secretariat only."""

from __future__ import annotations

import icalendar
import pytest

from cacnet.core.db import db
from tests.conftest import login
from tests.events.conftest import user

ROLES = ["anonymous", "delegate", "suspended", "city_admin", "secretariat", "admin"]
# role -> (sees members-only, sees drafts)
EXPECT = {
    "anonymous": (False, False),
    "delegate": (True, False),
    "suspended": (True, False),
    "city_admin": (True, False),
    "secretariat": (True, True),
    "admin": (True, True),
}


def _email(network, role):
    return {
        "delegate": network["Seoul"]["delegate"],
        "suspended": network["Budapest"]["delegate"],
        "city_admin": network["London"]["admin"],
        "secretariat": network["secretariat"],
        "admin": network["admin"],
    }.get(role)


@pytest.fixture
def three(make_event, network):
    toronto = [network["Toronto"]["city_id"]]
    return {
        "public": make_event("Zebrafish public webinar", city_ids=toronto),
        "members": make_event(
            "Zebrafish members meeting", kind="meeting", visibility="members", city_ids=toronto
        ),
        "draft": make_event("Zebrafish draft webinar", publish=False, city_ids=toronto),
    }


def _ics_titles(client, url):
    response = client.get(url)
    if response.status_code != 200:
        return response.status_code
    cal = icalendar.Calendar.from_ical(response.get_data())
    return {str(e["summary"]) for e in cal.walk("VEVENT")}


@pytest.mark.parametrize("role", ROLES)
def test_visibility_matrix(app, client, network, three, role):
    if role != "anonymous":
        login(client, _email(network, role))
    members, drafts = EXPECT[role]
    listing = client.get("/events/").get_data(as_text=True)
    assert "Zebrafish public webinar" in listing
    assert ("Zebrafish members meeting" in listing) == members
    assert ("Zebrafish draft webinar" in listing) == drafts

    assert client.get(f"/events/{three['public']}").status_code == 200
    assert client.get(f"/events/{three['members']}").status_code == (200 if members else 404)
    assert client.get(f"/events/{three['draft']}").status_code == (200 if drafts else 404)

    titles = _ics_titles(client, "/events.ics")
    assert "Zebrafish public webinar" in titles
    assert ("Zebrafish members meeting" in titles) == members
    assert "Zebrafish draft webinar" not in titles  # never in a calendar
    assert _ics_titles(client, f"/events/{three['public']}.ics") == {"Zebrafish public webinar"}
    assert _ics_titles(client, f"/events/{three['members']}.ics") == (
        {"Zebrafish members meeting"} if members else 404
    )
    assert _ics_titles(client, f"/events/{three['draft']}.ics") == 404

    with app.app_context():
        from cacnet.cities.models import City

        slug = db.session.get(City, network["Toronto"]["city_id"]).slug
    city_page = client.get(f"/cities/{slug}").get_data(as_text=True)
    assert "Zebrafish public webinar" in city_page
    assert ("Zebrafish members meeting" in city_page) == members
    assert "Zebrafish draft webinar" not in city_page

    # The header search's provider, with the same rule (drafts are not search results).
    from flask_login import login_user

    from cacnet.core.text import search_key
    from cacnet.search.registry import PROVIDERS

    provider = PROVIDERS["event"]
    assert str(provider.label) == "Events"
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        viewer = None
        if role != "anonymous":
            viewer = user(_email(network, role))
            login_user(viewer)
        from flask_login import current_user

        hits = provider.find(search_key("ZEBRAFISH"), current_user if viewer else None, 10)
        found = {h.title for h in hits}
        assert "Zebrafish public webinar" in found
        assert ("Zebrafish members meeting" in found) == members
        assert "Zebrafish draft webinar" not in found
        assert all(h.url.startswith("/events/") for h in hits)


def test_secretariat_pages_are_refused_to_others(app, client, network, three):
    event_id = three["public"]
    urls = ["/events/new", f"/events/{event_id}/edit", f"/events/{event_id}/registrations",
            f"/events/{event_id}/registrations.csv"]  # fmt: skip
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    for role in ("delegate", "suspended", "city_admin"):
        c = app.test_client()
        login(c, _email(network, role))
        for url in urls:
            assert c.get(url).status_code == 403, (role, url)
    c = app.test_client()
    login(c, network["admin"])
    for url in urls:
        assert c.get(url).status_code == 200, url


def test_search_finds_korean_titles_and_speakers(app, network, make_event):
    from cacnet.core.text import search_key
    from cacnet.events import search

    make_event("Webinar", title_ko="도시 방역 웨비나", speakers=[])
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        hits = search.find(search_key("방역"), None, 5)
        assert [h.title for h in hits] == ["Webinar"]
        assert search.find(search_key("100%"), None, 5) == []
