"""Alerts in Chromium, the journey of issue 8: Hanoi raises a warning through the form, Seoul
acknowledges it with similar signals, Hanoi posts an update that reaches Seoul, the secretariat
escalates it and makes it a public notice (in the feed), Hanoi closes it; axe-core on the alert
form, the alert page (both sides), the update and escalation forms, the list, the dashboard and
the public notice."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.alerts.conftest import make_alert, network  # noqa: F401 - fixtures
from tests.browser.conftest import axe_check, wait_for_mail
from tests.browser.test_journey import sign_in, sign_out

pytestmark = pytest.mark.browser


def test_hanoi_raises_a_warning_and_seoul_acknowledges(page, live_server, network, smtp_server):  # noqa: F811
    sign_in(page, live_server, network["Hanoi"]["delegate"])
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Alerts").click()
    page.get_by_role("link", name="Raise an alert").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Raise an alert")
    axe_check(page)

    # Publishing an incomplete alert is refused, and the form says why.
    page.get_by_role("button", name="Publish the alert").click()
    expect(page.locator("#what-error")).to_contain_text("Say what the alert is about")
    axe_check(page)

    page.get_by_label("What (pathogen or syndrome)").fill(
        "Severe acute respiratory infection (SARI)"
    )
    page.get_by_label("Type of signal").select_option(label="Cluster of cases")
    page.get_by_label("Warning", exact=True).check()
    page.get_by_label("District or area (optional)").fill("Dong Da")
    page.get_by_label("First observed on").fill((date.today() - timedelta(days=3)).isoformat())
    page.get_by_label("Cases", exact=True).fill("23")
    page.get_by_label("What the city is doing").fill("Case finding in schools and markets.")
    page.get_by_label("Sources (links)").fill("https://example.org/hanoi/report-1")
    page.get_by_label("Or: who to contact (name, e-mail, phone)").fill("Hanoi health office")
    page.get_by_role("button", name="Publish the alert").click()
    expect(page.get_by_role("status")).to_contain_text("The alert is published")
    alert_url = page.url
    axe_check(page)
    wait_for_mail(smtp_server, network["Seoul"]["focal"])
    sign_out(page)

    sign_in(page, live_server, network["Seoul"]["delegate"])
    banner = page.get_by_role("complementary", name="Alerts waiting for your city")
    expect(banner).to_contain_text("Severe acute respiratory infection (SARI)")
    banner.get_by_role("link", name="Severe acute respiratory infection (SARI)").click()
    expect(page).to_have_url(alert_url)
    axe_check(page)
    page.get_by_label("We have similar signals").check()
    page.get_by_label("Note (optional)").fill("Seven severe cases this week.")
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_role("status")).to_contain_text("acknowledgement is recorded")
    expect(page.get_by_role("table", name="1 city acknowledged this alert")).to_contain_text(
        "Seoul"
    )
    expect(page.get_by_role("complementary", name="Alerts waiting for your city")).to_have_count(0)
    axe_check(page)
    page.goto(live_server.url("/alerts/"))
    axe_check(page)
    sign_out(page)

    # Hanoi posts an update, which reaches Seoul.
    sign_in(page, live_server, network["Hanoi"]["delegate"])
    page.goto(alert_url)
    expect(page.get_by_role("table", name="1 city acknowledged this alert")).to_contain_text(
        "Seven severe cases this week."
    )
    page.get_by_role("link", name="Post an update").click()
    page.get_by_label("Update", exact=True).fill("Sequencing points to influenza A(H3N2).")
    page.get_by_label("Cases now").fill("31")
    axe_check(page)
    page.get_by_role("button", name="Post the update").click()
    expect(page.get_by_role("status")).to_contain_text("The update is posted")
    [update_mail] = wait_for_mail(smtp_server, network["Seoul"]["focal"], count=2)[1:]
    assert "Hanoi 경보 후속 보고" in update_mail["Subject"]  # Seoul's focal point reads Korean
    sign_out(page)

    # The secretariat escalates it and makes it a public notice; it is in the feed.
    sign_in(page, live_server, network["secretariat"])
    page.goto(alert_url)
    page.get_by_role("link", name="Escalate the severity").click()
    page.get_by_label("New severity").select_option(label="Emergency")
    page.get_by_label("Reason").fill("Spread to two more districts.")
    axe_check(page)
    page.get_by_role("button", name="Escalate").click()
    expect(page.get_by_role("status")).to_contain_text("The alert is escalated")
    page.get_by_role("button", name="Make it a public notice").click()
    expect(page.get_by_role("status")).to_contain_text("The alert is now a public notice")
    feed = page.request.get(live_server.url("/alerts.atom")).text()
    assert alert_url.rsplit("/", 1)[1] in feed
    page.goto(live_server.url("/secretariat/alerts/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Alerts dashboard")
    axe_check(page)
    sign_out(page)

    # Hanoi closes it.
    sign_in(page, live_server, network["Hanoi"]["delegate"])
    page.goto(alert_url)
    page.get_by_role("link", name="Close the alert").click()
    page.get_by_label("Closing summary").fill("No new cases for 14 days.")
    page.get_by_role("button", name="Close the alert").click()
    expect(page.get_by_role("status")).to_contain_text("The alert is closed.")
    expect(page.get_by_role("region", name="Closing summary")).to_contain_text("No new cases")


def test_a_public_notice_for_the_public(page, live_server, network, make_alert):  # noqa: F811
    from cacnet.alerts import services
    from cacnet.core.db import db
    from tests.alerts.conftest import alert_by_uuid, user

    uuid = make_alert(network["Hanoi"]["delegate"], what="Cholera", cases="555")
    with live_server.app.test_request_context(base_url=live_server.app.config["BASE_URL"]):
        services.set_public_notice(user(network["secretariat"]), alert_by_uuid(uuid), True)
        db.session.commit()
    page.goto(live_server.url("/alerts/public"))
    page.get_by_role("link", name="Cholera").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Cholera")
    expect(page.locator("main")).not_to_contain_text("555")
    axe_check(page)
