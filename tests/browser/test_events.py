"""Events in Chromium: the browser's own time zone is detected (a viewer in London sees the
Mayoral Meeting of 2 June 2020 at 14:00, one in Toronto at 09:00), the "Times shown in" form
changes it, the secretariat adds an event and a delegate registers (in English and in Korean),
and the list and an event's page pass axe-core on a desktop and on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from cacnet.core.db import db
from cacnet.events.models import Event
from tests.browser.conftest import axe_check
from tests.conftest import PASSWORD, totp_code_for
from tests.events.conftest import make_event, network, summit  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser


def _mayoral(app) -> int:
    with app.app_context():
        return db.session.scalar(select(Event.id).where(Event.title_en == "Mayoral Meeting"))


@pytest.mark.parametrize(
    ("zone", "shown"),
    [("Europe/London", "14:00–15:30 BST"), ("America/Toronto", "09:00–10:30 EDT")],
)
def test_the_browser_zone_is_detected(open_page, live_server, summit, zone, shown):  # noqa: F811
    page = open_page(timezone_id=zone)
    mayoral = _mayoral(live_server.app)
    page.goto(live_server.url(f"/events/{mayoral}"))
    when = page.locator(".event-when")
    expect(when).to_contain_text(f"Tuesday, June 2, 2020, {shown}")
    expect(when).to_contain_text("22:00–23:30 KST in Seoul")
    expect(page.locator("#event-tz")).to_have_value(zone)

    # Changing the zone with the form.
    page.locator("#event-tz").select_option("Asia/Seoul")
    page.locator("form.event-zone button").click()
    expect(when).to_contain_text("Tuesday, June 2, 2020, 22:00–23:30 KST")
    expect(when).not_to_contain_text("in Seoul")
    page.locator("#event-tz").select_option("event")
    page.locator("form.event-zone button").click()
    expect(when).to_contain_text("22:00–23:30 KST")
    page.reload()  # the choice "where each event is held" stays; the script does not override it
    expect(page.locator("#event-tz")).to_have_value("event")


@pytest.mark.parametrize("language", ["en", "ko"])
def test_secretariat_adds_an_event_and_a_delegate_registers(
    open_page,
    live_server,
    network,  # noqa: F811
    language,
):
    page = open_page(timezone_id="America/Toronto")
    page.goto(live_server.url(f"/language/{language}"))
    _sign_in_any(page, live_server, network["secretariat"])
    page.goto(live_server.url("/events/new"))
    axe_check(page)
    page.locator("#kind").select_option("webinar")
    page.locator("#title_en").fill("Ventilation of schools")
    page.locator("#title_ko").fill("학교 환기 웨비나")
    page.locator("#timezone").select_option("America/Toronto")
    page.locator("#start_date").fill("2030-10-15")
    page.locator("#start_time").fill("19:30")
    page.locator("#end_date").fill("2030-10-15")
    page.locator("#end_time").fill("18:00")
    page.locator("#stream_url").fill("https://www.youtube.com/seoulcityofficial")
    page.locator("#interpretation").select_option(["en", "ko"])
    page.locator("#countries").select_option(["CA"])
    page.locator("form.narrow button[type=submit]").click()
    expect(page.locator("#end_time-error")).to_be_visible()  # ends before it starts
    page.locator("#end_time").fill("21:00")
    page.locator("form.narrow button[type=submit]").click()
    # The first page with times: the script notes the browser's zone and reloads once.
    expect(page.locator("#event-tz")).to_have_value("America/Toronto")
    expect(page.locator("h1")).to_have_text(
        "학교 환기 웨비나" if language == "ko" else "Ventilation of schools"
    )
    expect(page.locator(".event-when")).to_contain_text("19:30–21:00 EDT")
    axe_check(page)
    event_url = page.url

    delegate = open_page(timezone_id="Asia/Seoul")
    delegate.goto(live_server.url(f"/language/{language}"))
    _sign_in_any(delegate, live_server, network["Seoul"]["delegate"])
    delegate.goto(event_url)
    expect(delegate.locator("#event-tz")).to_have_value("Asia/Seoul")
    expect(delegate.locator("html")).to_have_attribute("lang", language)
    expected = "2030년 10월 16일 수요일, 08:30–10:00 KST" if language == "ko" else (
        "Wednesday, October 16, 2030, 08:30–10:00 KST")  # fmt: skip
    expect(delegate.locator(".event-when")).to_contain_text(expected)
    delegate.locator("form[action$='/register'] button").click()
    expect(delegate.locator("form[action$='/unregister'] button")).to_be_visible()
    axe_check(delegate)
    delegate.locator("form[action$='/unregister'] button").click()
    expect(delegate.locator("form[action$='/register'] button")).to_be_visible()


def _sign_in_any(page, live_server, email: str) -> None:
    """Sign in by the fields' ids (the labels are Korean once the translations are merged)."""
    page.goto(live_server.url("/auth/login"))
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()
    if page.url.endswith("/auth/two-factor"):
        page.locator("#code").fill(totp_code_for(live_server.app, email))
        page.locator("main form button[type=submit]").first.click()
    expect(page.locator(".flash")).to_be_visible()


def test_list_and_detail_pass_axe_on_desktop_and_phone(
    page,
    phone_page,
    live_server,
    summit,  # noqa: F811
):
    summit_id = _summit(live_server.app)
    for p in (page, phone_page):
        # A zone already chosen: the script has nothing to detect, no reload under axe's feet.
        p.context.add_cookies([{"name": "tz", "value": "Europe/London", "url": live_server}])
        p.goto(live_server.url("/events/"))
        expect(p.locator("h1")).to_have_text("Events")
        axe_check(p)
        p.goto(live_server.url("/events/?when=past"))
        expect(p.locator(".event-day").first).to_be_visible()
        axe_check(p)
        p.goto(live_server.url(f"/events/{summit_id}"))
        expect(p.locator(".event-day")).to_have_count(5)
        axe_check(p)
        width = p.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], width
        p.goto(live_server.url("/language/ko"))
        p.goto(live_server.url(f"/events/{summit_id}"))
        expect(p.locator("h1")).to_have_text("CAC 글로벌 서밋 2020")
        axe_check(p)


def _summit(app) -> int:
    from cacnet.events.demo import SUMMIT_UID

    with app.app_context():
        return db.session.scalar(select(Event.id).where(Event.uid == SUMMIT_UID))
