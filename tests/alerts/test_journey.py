"""Issue 8's journey through the HTTP client, with the mail arriving at a real SMTP server on
loopback: Hanoi raises a warning; the focal points of the member cities get it; Seoul acknowledges
with 'we have similar signals'; Hanoi posts an update that reaches Seoul; the secretariat
escalates it and makes it a public notice, which appears in /alerts.atom; Hanoi closes it."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from cacnet.alerts.models import AlertState
from cacnet.core.db import db
from cacnet.core.deliveries import Delivery, DeliveryState
from tests.alerts.conftest import alert_by_uuid, alert_form
from tests.conftest import body_of, login, submit


def _uuid(response) -> str:
    return re.search(r"/alerts/([0-9a-f-]{36})$", response.headers["Location"]).group(1)


def test_hanoi_raises_seoul_acknowledges_the_secretariat_publishes_hanoi_closes(
    app, client, network, smtp_server
):
    hanoi, seoul, london, officer = (app.test_client() for _ in range(4))
    login(hanoi, network["Hanoi"]["delegate"])
    login(seoul, network["Seoul"]["delegate"])
    login(london, network["London"]["delegate"])
    login(officer, network["secretariat"])

    raised = submit(hanoi, "/alerts/new", alert_form())
    assert raised.status_code == 302, raised.get_data(as_text=True)[:3000]
    uuid = _uuid(raised)
    page = f"/alerts/{uuid}"

    # Every other member city's focal point is told at once, in its language; Hanoi's is not.
    subjects = {"Seoul": ("Hanoi 경보 발령", "[경계]")}  # Seoul's focal point reads Korean
    for name in ("Seoul", "London", "Budapest"):
        [mail] = smtp_server.to(network[name]["focal"])
        for words in subjects.get(name, ("Hanoi raised an alert", "Warning")):
            assert words in mail["Subject"]
        assert f"http://localhost{page}" in body_of(mail)
        assert ("확진자 수: 23" if name == "Seoul" else "Cases: 23") in body_of(mail)
    assert smtp_server.to(network["Seoul"]["focal"])[0]["Content-Language"] == "ko"
    assert smtp_server.to(network["London"]["focal"])[0]["Content-Language"] == "en"
    assert not smtp_server.to(network["Hanoi"]["focal"])
    assert smtp_server.to(network["secretariat"])
    with app.app_context():
        alert_id = alert_by_uuid(uuid).id
        states = dict(
            db.session.execute(
                select(Delivery.state, func.count())
                .where(Delivery.object_type == "alerts", Delivery.object_id == alert_id)
                .group_by(Delivery.state)
            ).all()
        )
        assert set(states) == {DeliveryState.SENT}

    # Members see it in the list and in the banner; London has not answered yet.
    listing = london.get("/alerts/").get_data(as_text=True)
    assert "Severe acute respiratory infection (SARI)" in listing
    assert "Alerts waiting for your city" in london.get("/cities/").get_data(as_text=True)

    # Seoul acknowledges with similar signals; a second acknowledgement is refused.
    form = {"kind": "similar", "note": "Seven severe cases in young adults this week."}
    done = submit(seoul, f"{page}/acknowledge", form, page=page, follow_redirects=True)
    text = done.get_data(as_text=True)
    assert "acknowledgement is recorded; Hanoi sees it" in text
    assert "Seven severe cases in young adults" in text
    again = submit(seoul, f"{page}/acknowledge", {"kind": "seen"}, page=page, follow_redirects=True)
    assert "already acknowledged this alert on" in again.get_data(as_text=True)
    assert "Alerts waiting for your city" not in seoul.get("/cities/").get_data(as_text=True)

    # The raising city sees who has not answered; London sees who did, without Seoul's note.
    hanoi_view = hanoi.get(page).get_data(as_text=True)
    assert "Not acknowledged yet" in hanoi_view and "London" in hanoi_view
    london_view = london.get(page).get_data(as_text=True)
    assert "We have similar signals" in london_view
    assert "Seven severe cases" not in london_view and "Not acknowledged yet" not in london_view

    # Hanoi posts an update: it reaches Seoul (its focal point and its delegate), not London.
    updated = submit(hanoi, f"{page}/update",
                     {"body": "Sequencing points to influenza A(H3N2).", "cases": "4271"})  # fmt: skip
    assert updated.status_code == 302
    [update_mail] = smtp_server.to(network["Seoul"]["focal"], "경보 후속 보고")  # in Korean
    assert "Sequencing points to influenza A(H3N2)." in body_of(update_mail)
    assert smtp_server.to(network["Seoul"]["delegate"], "Update on the alert")
    assert not smtp_server.to(network["London"]["focal"], "Update on the alert")
    with app.app_context():
        assert alert_by_uuid(uuid).cases == 4271

    # The secretariat escalates it to an emergency and makes it a public notice.
    escalated = submit(officer, f"/secretariat/alerts/{uuid}/escalate",
                       {"severity": "emergency", "reason": "Spread to two more districts."})  # fmt: skip
    assert escalated.status_code == 302
    assert smtp_server.to(network["London"]["focal"], "escalated")
    assert client.get("/alerts.atom").get_data(as_text=True).count("<entry>") == 0
    marked = submit(officer, f"/secretariat/alerts/{uuid}/public-notice/mark", {}, page=page)
    assert marked.status_code == 302
    feed = client.get("/alerts.atom")
    assert feed.mimetype == "application/atom+xml"
    xml = feed.get_data(as_text=True)
    assert f"urn:uuid:{uuid}" in xml and "Severe acute respiratory infection (SARI)" in xml
    assert "4271" not in xml and "Seoul" not in xml  # no counts, no acknowledgements
    public = client.get(page).get_data(as_text=True)
    assert "Case finding in schools and markets." in public
    assert "Seven severe cases" not in public and "Cases" not in public

    # Hanoi closes it with a summary; Seoul hears of it.
    closed = submit(hanoi, f"{page}/close", {"summary": "No new cases for 14 days."}, page=page)
    assert closed.status_code == 302
    assert smtp_server.to(network["Seoul"]["focal"], "경보 종료")
    with app.app_context():
        alert = alert_by_uuid(uuid)
        assert alert.state == AlertState.CLOSED and alert.closing_summary.startswith("No new")
    assert "No new cases for 14 days." in client.get(page).get_data(as_text=True)
    late = submit(london, f"{page}/acknowledge", {"kind": "seen"}, page=page, follow_redirects=True)
    assert "This alert is closed" in late.get_data(as_text=True)
