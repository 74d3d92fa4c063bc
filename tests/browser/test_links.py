# ruff: noqa: F811 - the fixtures imported from tests.links.conftest are parameters here
"""The cities network in Chromium: a city administrator lists the city's pages (a javascript:
address refused on its field), the secretariat adds WHO in Korean, the checker flags a dead page
on the manage page; the public page passes axe-core on a desktop and a phone, in both languages."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_check
from tests.browser.test_journey import sign_in
from tests.links.conftest import (  # noqa: F401 - fixtures
    add_link,
    add_organisation,
    checking,
    network,
    site,
)

pytestmark = pytest.mark.browser


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width


def test_a_city_admin_lists_pages_and_the_public_reads_them_by_region(
    page,
    phone_page,
    live_server,
    network,
    add_organisation,
    add_link,  # noqa: F811
):
    who = add_organisation()
    add_link(("organisation", who), "https://www.who.int/emergencies/diseases/novel-coronavirus-2019",
             "Coronavirus disease (COVID-19) pandemic")  # fmt: skip
    seoul = network["Seoul"]
    sign_in(page, live_server, seoul["admin"])
    page.goto(live_server.url(f"/cities/{seoul['slug']}"))
    page.get_by_role("link", name="Manage links").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Links of Seoul")
    axe_check(page)

    page.get_by_label("Web address").fill("javascript:alert(1)")
    page.get_by_label("Title").fill("Seoul COVID-19 updates")
    page.get_by_label("Language of the page").select_option("en")
    page.get_by_role("button", name="Add the link").click()
    expect(page.get_by_label("Web address")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#url-error")).to_have_text(
        "Enter a web address starting with http:// or https://."
    )
    axe_check(page)
    page.get_by_label("Web address").fill("https://english.seoul.go.kr/covid")
    page.get_by_role("button", name="Add the link").click()
    expect(page.get_by_role("status")).to_contain_text("The link has been added.")
    page.get_by_label("Web address").fill("https://www.seoul.go.kr/coronaV/coronaStatus.do")
    page.get_by_label("Title").fill("서울시 코로나19 발생동향")
    page.get_by_label("Language of the page").select_option("ko")
    page.get_by_role("button", name="Add the link").click()
    expect(page.get_by_role("status")).to_contain_text("The link has been added.")
    expect(page.get_by_text("Not checked yet")).to_have_count(2)
    axe_check(page)

    page.goto(live_server.url("/cities/"))
    page.get_by_role("link", name="The official pandemic pages of the member cities").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cities network")
    headings = page.get_by_role("heading", level=2)
    expect(headings).to_have_text(["International organisations", "Asia"])
    korean = page.get_by_role("link", name="서울시 코로나19 발생동향")
    expect(korean).to_have_attribute("hreflang", "ko")
    expect(korean).to_have_attribute("lang", "ko")
    axe_check(page)

    phone_page.goto(live_server.url("/cities/network"))
    expect(phone_page.get_by_role("heading", level=2, name="Asia")).to_be_visible()
    axe_check(phone_page)
    _no_sideways_scroll(phone_page)


def test_in_korean_the_secretariat_adds_who_and_sees_a_dead_page_flagged(
    app,
    page,
    phone_page,
    live_server,
    network,
    checking,
    site,
    add_link,  # noqa: F811
):
    from cacnet.links import checker

    sign_in(page, live_server, network["secretariat"])
    page.get_by_role("group", name="Language").get_by_role("button", name="한국어").click()
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    page.goto(live_server.url("/secretariat/links"))
    axe_check(page)
    page.locator("#name_en").fill("World Health Organization")
    page.locator("#name_ko").fill("세계보건기구")
    page.locator("#acronym").fill("WHO")
    page.locator("#website").fill("https://www.who.int")
    page.locator("form:has(#name_en) button[type=submit]").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("세계보건기구")
    page.locator("#link-url").fill(site.url("/missing"))
    page.locator("#link-title").fill("코로나바이러스감염증-19")
    page.locator("#link-language").select_option("ko")
    page.locator("form:has(#link-url) button[type=submit]").click()
    expect(page.get_by_role("link", name="코로나바이러스감염증-19", exact=True)).to_have_attribute(
        "lang", "ko"
    )

    # Two failed checks in a row: broken, flagged on the manage page and the public page.
    with app.test_request_context(base_url=live_server.url("")):
        checker.run_checks()
        checker.run_checks()
    page.reload()
    expect(page.locator(".state-broken")).to_have_count(1)
    axe_check(page)
    page.goto(live_server.url("/secretariat/links"))
    expect(page.locator("#broken-heading + .table-scroll tbody tr")).to_have_count(1)
    axe_check(page)

    phone_page.goto(live_server.url("/language/ko"))
    phone_page.goto(live_server.url("/cities/network"))
    expect(phone_page.locator("html")).to_have_attribute("lang", "ko")
    expect(phone_page.get_by_role("heading", level=3)).to_have_text(["세계보건기구 (WHO)"])
    expect(phone_page.locator(".link-broken")).to_have_count(1)
    axe_check(phone_page)
    _no_sideways_scroll(phone_page)
