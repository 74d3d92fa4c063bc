"""The header search in Chromium: typed into the header on any page, the results page lists the
hits by kind in the page's language; axe-core on the results, on a desktop and on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_check
from tests.library.conftest import make_case, network  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_header_search_finds_a_city_and_a_case(page, live_server, network, make_case, language):  # noqa: F811
    make_case(network["Seoul"]["delegate"], title_en="Drive-through screening centres",
              title_ko="드라이브스루 선별진료소")  # fmt: skip
    page.goto(live_server.url(f"/language/{language}"))
    page.goto(live_server.url("/library/"))
    query = "서울" if language == "ko" else "seoul"
    page.locator("#header-search-q").fill("선별진료소" if language == "ko" else "drive-through")
    page.locator("#header-search-q").press("Enter")
    expect(page.locator("#search-kind-case")).to_be_visible()
    expect(page.locator(".search-hits a").first).to_contain_text(
        "드라이브스루" if language == "ko" else "Drive-through"
    )
    assert page.locator("html").get_attribute("lang") == language
    axe_check(page)
    page.locator("#header-search-q").fill(query if language == "en" else "seoul")
    page.locator("#header-search-q").press("Enter")
    expect(page.locator("#search-kind-city")).to_be_visible()


def test_the_results_page_on_a_phone(phone_page, live_server, network, make_case):  # noqa: F811
    make_case(network["Seoul"]["delegate"])
    phone_page.goto(live_server.url("/search?q=seoul"))
    expect(phone_page.locator("#search-kind-city")).to_be_visible()
    expect(phone_page.locator("#search-kind-case")).to_be_visible()
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= phone_page.viewport_size["width"] + 1
    axe_check(phone_page)
