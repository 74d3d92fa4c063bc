"""The resource exchange in Chromium: post a request, pledge, accept in full and in part, write;
axe-core on the board, a post and the dashboard; the board on a phone."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_check
from tests.browser.test_journey import sign_in, sign_out
from tests.resources.conftest import exchange, make_post  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser


def test_seoul_asks_london_and_jakarta_pledge_seoul_accepts(page, live_server, exchange):  # noqa: F811
    sign_in(page, live_server, exchange["Seoul"]["delegate"])
    page.goto(live_server.url("/resources/"))
    axe_check(page)
    page.get_by_role("link", name="Post a request").click()
    expect(page.get_by_label("Request")).to_be_checked()
    page.get_by_label("Category").select_option(label="Test kits")
    page.get_by_label("Title in English").fill("PCR test kits for the second wave")
    page.get_by_label("Quantity").fill("10000")
    page.get_by_label("Unit").select_option(label="kits")
    page.get_by_label("Urgency").select_option(label="Critical")
    page.get_by_label("Needed by").fill((date.today() + timedelta(days=10)).isoformat())
    axe_check(page)
    page.get_by_role("button", name="Post it").click()
    expect(page.get_by_role("status")).to_contain_text("Your post is on the board.")
    post_url = page.url
    axe_check(page)
    sign_out(page)

    for city, amount in (("London", "6000"), ("Jakarta", "6000")):
        sign_in(page, live_server, exchange[city]["delegate"])
        page.goto(post_url)
        page.get_by_label("Quantity").fill(amount)
        page.get_by_label("Message").fill(f"{city} can send {amount} kits.")
        page.get_by_role("button", name="Pledge").click()
        expect(page.get_by_role("status")).to_contain_text("Your response is sent")
        sign_out(page)

    sign_in(page, live_server, exchange["Seoul"]["delegate"])
    page.goto(live_server.url("/resources/mine"))
    expect(page.get_by_role("region", name="Responses waiting for your answer")).to_contain_text(
        "Jakarta"
    )
    axe_check(page)
    page.goto(post_url)
    page.get_by_role("button", name="Accept (London)").click()
    expect(page.get_by_role("status")).to_contain_text("The response is accepted.")
    page.get_by_label("Quantity to accept (Jakarta)").fill("4000")
    page.get_by_role("button", name="Accept (Jakarta)").click()
    expect(page.get_by_role("status")).to_contain_text("The response is accepted.")
    expect(page.locator("main")).to_contain_text("met")
    page.get_by_label("Write to London").fill("Thank you, London!")
    page.get_by_role("button", name="Send (London)").click()
    expect(page.locator(".thread").first).to_contain_text("Thank you, London!")
    axe_check(page)


def test_the_board_on_a_phone(phone_page, live_server, exchange, make_post):  # noqa: F811
    make_post(exchange["London"]["delegate"], kind="offer", category="masks", quantity="200000",
              unit="pieces", title_en="KF94 masks for any member city")  # fmt: skip
    sign_in(phone_page, live_server, exchange["Seoul"]["delegate"])
    phone_page.goto(live_server.url("/resources/"))
    expect(phone_page.get_by_role("link", name="KF94 masks for any member city")).to_be_visible()
    width = phone_page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1]
    axe_check(phone_page)
