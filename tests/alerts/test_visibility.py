"""Who sees which alert, for every role, on every surface: the alert page, the members' list, the
public notices, the Atom feed, the exports and the city page. The public sees public notices
only, and of them never the counts or who acknowledged; delegates of suspended cities read like
other members; drafts stay with their city."""

from __future__ import annotations

import csv
import io
import re

import pytest

from cacnet.alerts import services
from cacnet.core.db import db
from tests.alerts.conftest import alert_by_uuid, user
from tests.conftest import login

ROLES = ["anonymous", "delegate", "suspended", "city_admin", "secretariat", "admin"]
MEMBERS = {"delegate", "suspended", "city_admin", "secretariat", "admin"}
STAFF = {"secretariat", "admin"}


@pytest.fixture
def alerts(app, network, make_alert):
    """Hanoi's public notice (Cholera, 555 cases, acknowledged by Seoul with a note), its
    members-only alert (Measles, 777 cases) and its draft (Mpox)."""
    public = make_alert(network["Hanoi"]["delegate"], what="Cholera", cases="555")
    members = make_alert(network["Hanoi"]["delegate"], what="Measles", cases="777")
    draft = make_alert(network["Hanoi"]["delegate"], what="Mpox", publish=False)
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        services.acknowledge(user(network["Seoul"]["delegate"]), alert_by_uuid(public), "checking",
                             "Our port authority is checking arrivals.")  # fmt: skip
        services.set_public_notice(user(network["secretariat"]), alert_by_uuid(public), True)
        db.session.commit()
    return {"public": public, "members": members, "draft": draft}


def _client(app, network, role):
    client = app.test_client()
    email = {"delegate": network["London"]["delegate"],
             "suspended": network["Budapest"]["delegate"],
             "city_admin": network["London"]["admin"],
             "secretariat": network["secretariat"], "admin": network["admin"]}.get(role)  # fmt: skip
    if email:
        assert login(client, email).status_code == 302
    return client


def _to_login(response) -> bool:
    return response.status_code == 302 and "/auth/login" in response.headers["Location"]


def _main(response) -> str:
    """The page's own content: <main> without the members' banner (which lists open alerts on
    every page) and without the header and footer."""
    html = response.get_data(as_text=True)
    main = html[html.index("<main") : html.index("</main>")]
    return re.sub(r'<aside class="alert-banner".*?</aside>', "", main, flags=re.S)


def _has_number(text: str, number: int) -> bool:
    """The count as a number of its own, not three digits inside a uuid or a form token."""
    return re.search(rf"(?<![\w-]){number}(?![\w-])", text) is not None


def _csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


@pytest.mark.parametrize("role", ROLES)
def test_the_visibility_matrix(app, network, alerts, role):
    client = _client(app, network, role)
    member = role in MEMBERS

    # the alert pages
    public_page = client.get(f"/alerts/{alerts['public']}")
    assert public_page.status_code == 200
    html = _main(public_page)
    assert "Cholera" in html
    assert _has_number(html, 555) is member
    assert ("Seoul" in html) is member  # who acknowledged
    assert ("Our port authority" in html) is (role in STAFF)  # the note: the two cities, staff
    members_page = client.get(f"/alerts/{alerts['members']}")
    if member:
        assert members_page.status_code == 200 and _has_number(_main(members_page), 777)
    else:
        assert _to_login(members_page)
    draft_page = client.get(f"/alerts/{alerts['draft']}")
    assert _to_login(draft_page) if not member else draft_page.status_code == 404
    unknown = client.get("/alerts/00000000-0000-4000-8000-000000000000")
    assert _to_login(unknown) if not member else unknown.status_code == 404

    # the members' list
    listing = client.get("/alerts/?state=all")
    if member:
        text = _main(listing)
        assert "Cholera" in text and "Measles" in text and "Mpox" not in text
    else:
        assert _to_login(listing)

    # the public notices and the feed: the same for everyone
    notices = _main(client.get("/alerts/public"))
    assert "Cholera" in notices and "Measles" not in notices and "Mpox" not in notices
    feed = client.get("/alerts.atom").get_data(as_text=True)
    assert "Cholera" in feed and "Measles" not in feed and not _has_number(feed, 555)
    assert "Seoul" not in feed

    # the export: public fields of the public notices, or every shared alert with its counts
    rows = _csv(client.get("/alerts/export.csv"))
    assert {r["what"] for r in rows} == ({"Cholera", "Measles"} if member else {"Cholera"})
    assert ("cases" in rows[0]) is member and ("acknowledgements" in rows[0]) is member
    history = client.get("/secretariat/alerts/export.csv")
    if role in STAFF:
        assert {r["what"] for r in _csv(history)} == {"Cholera", "Measles"}
    elif role == "anonymous":
        assert _to_login(history)
    else:
        assert history.status_code == 403
    dashboard = client.get("/secretariat/alerts/")
    assert dashboard.status_code == (200 if role in STAFF else 302 if not member else 403)

    # the city page
    city_page = _main(client.get("/cities/hanoi-vn"))
    assert "Cholera" in city_page
    assert ("Measles" in city_page) is member and "Mpox" not in city_page


def test_the_raising_city_sees_its_draft_and_who_has_not_answered(app, network, alerts):
    hanoi = _client(app, network, "anonymous")
    login(hanoi, network["Hanoi"]["delegate"])
    assert "Mpox" in hanoi.get("/alerts/?state=drafts").get_data(as_text=True)
    page = hanoi.get(f"/alerts/{alerts['public']}").get_data(as_text=True)
    assert "Our port authority is checking arrivals." in page
    assert "Not acknowledged yet" in page and "London" in page
    seoul = _client(app, network, "anonymous")
    login(seoul, network["Seoul"]["delegate"])
    page = seoul.get(f"/alerts/{alerts['public']}").get_data(as_text=True)
    assert "Our port authority is checking arrivals." in page  # its own note
    assert "Not acknowledged yet" not in page


def test_a_signed_in_non_member_is_treated_as_the_public(app, network, alerts):
    from cacnet.accounts import services as accounts
    from cacnet.core.db import utcnow
    from tests.conftest import PASSWORD

    with app.test_request_context():
        accounts.register_applicant("applicant@example.org", name="A", title="", password=PASSWORD,
                                    locale="en").email_verified_at = utcnow()  # fmt: skip
        db.session.commit()
    client = app.test_client()
    login(client, "applicant@example.org")
    assert client.get(f"/alerts/{alerts['members']}").status_code == 404
    assert client.get("/alerts/").status_code == 403
    html = client.get(f"/alerts/{alerts['public']}").get_data(as_text=True)
    assert "Cholera" in html and not _has_number(html, 555)
    assert {r["what"] for r in _csv(client.get("/alerts/export.csv"))} == {"Cholera"}
