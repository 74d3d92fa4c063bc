"""The countermeasure library in Chromium, in English and in Korean: Seoul's delegate writes a
case, attaches a PDF and a link, publishes it; a visitor finds it by search and by area, opens it
and sees it on Seoul's page. axe-core on the form, the list and the case, on a desktop and on a
phone. Fields are found by their ids, so the Korean journey holds once the interface is
translated."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_check
from tests.browser.test_journey import sign_in, sign_out
from tests.helpers import pdf_bytes
from tests.library.conftest import make_case, network  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser

TEXTS = {
    "en": {"title": "Walk-in screening booths", "summary": "A sample in one minute, no contact.",
           "query": "walk-in"},
    "ko": {"title": "워크스루 선별진료소", "summary": "1분 만에 비접촉으로 검체를 채취합니다.",
           "query": "선별진료소"},
}  # fmt: skip


@pytest.mark.parametrize("language", ["en", "ko"])
def test_seoul_publishes_a_case_and_a_visitor_finds_it(page, live_server, network, language):  # noqa: F811
    text = TEXTS[language]
    sign_in(page, live_server, network["Seoul"]["delegate"])
    page.goto(live_server.url(f"/language/{language}"))
    page.goto(live_server.url("/library/"))
    page.locator("main a[href='/library/new']").first.click()
    expect(page.locator("#title_en")).to_be_visible()
    page.locator("#area_id").select_option(value=str(network["areas"]["quarantine-measures"]))
    page.locator(f"#title_{language}").fill(text["title"])
    page.locator(f"#summary_{language}").fill(text["summary"])
    page.locator(f"#body_{language}").fill("**Seoul** 2020")
    page.locator("#started_on").fill("2020-03-16")
    # the end before the start: refused, the form says why
    page.locator("#ended_on").fill("2020-03-01")
    page.locator("button[name=action][value=draft]").click()
    expect(page.locator("#ended_on-error")).to_be_visible()
    axe_check(page)
    page.locator("#ended_on").fill("")
    page.locator("button[name=action][value=draft]").click()
    expect(page).to_have_url(re.compile(r"/library/\d+$"))
    case_url = page.url
    case_path = "/" + case_url.split("//", 1)[1].split("/", 1)[1]

    page.locator(f"a[href='{case_path}/attachments']").click()
    page.locator("#file").set_input_files(
        files=[{"name": "booths.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes()}]
    )
    page.locator("form[enctype='multipart/form-data'] button[type=submit]").click()
    expect(page.locator("main a", has_text="booths.pdf")).to_be_visible()
    page.locator("#link-title").fill("Seoul Metropolitan Government")
    page.locator("#link-url").fill("https://english.seoul.go.kr/")
    page.locator(f"form[action='{case_path}/links'] button[type=submit]").click()
    expect(page.locator("main a", has_text="Seoul Metropolitan Government")).to_have_attribute(
        "rel", "nofollow noopener noreferrer"
    )
    axe_check(page)
    page.goto(case_url)
    page.locator(f"form[action='{case_path}/publish'] button").click()
    expect(page.locator(f"form[action='{case_path}/unpublish']")).to_be_visible()
    page.goto(live_server.url("/language/en"))  # the helper signs out by the English button
    sign_out(page)
    page.goto(live_server.url(f"/language/{language}"))

    # a visitor searches, filters by area, opens the case and Seoul's page
    page.goto(live_server.url("/library/"))
    page.locator("#q").fill(text["query"])
    page.locator("main form[role=search] button[type=submit]").click()
    expect(page.locator(".case-card h3 a")).to_have_text([text["title"]])
    page.goto(live_server.url("/library/?area=quarantine-measures"))
    card = page.locator(".case-card h3 a", has_text=text["title"])
    expect(card).to_be_visible()
    if language == "en":
        expect(card).not_to_have_attribute("lang", "ko")
    axe_check(page)
    card.click()
    expect(page.locator("h1")).to_have_text(text["title"])
    expect(page.locator(".markdown strong")).to_have_text("Seoul")
    axe_check(page)
    page.locator("main a[href='/cities/seoul-kr']").first.click()
    expect(page.locator("#city-library-heading")).to_be_visible()
    expect(page.locator(".city-library a", has_text=text["title"])).to_be_visible()


def test_library_pages_on_a_phone(phone_page, live_server, network, make_case):  # noqa: F811
    make_case(network["Seoul"]["delegate"], title_en="Drive-through screening centres",
              title_ko="드라이브스루 선별진료소", summary_en="Tested in the car.")  # fmt: skip
    korean_only = make_case(network["Hanoi"]["delegate"], title_en="", title_ko="쌀 ATM",
                            summary_ko="무료로 쌀을 나눠 줍니다.", area="welfare")  # fmt: skip
    members = make_case(network["Seoul"]["delegate"], title_en="Contact tracing",
                        visibility="members")  # fmt: skip
    for language in ("en", "ko"):
        phone_page.goto(live_server.url(f"/language/{language}"))
        phone_page.goto(live_server.url("/library/"))
        expect(phone_page.locator(f"a[href='/library/{members}']")).to_have_count(0)
        if language == "en":
            expect(phone_page.locator(f"a[href='/library/{korean_only}']")).to_have_attribute(
                "lang", "ko"
            )
        axe_check(phone_page)
        phone_page.goto(live_server.url(f"/library/{korean_only}"))
        expect(phone_page.locator("h1")).to_have_text("쌀 ATM")
        axe_check(phone_page)
    phone_page.goto(live_server.url("/language/en"))
    sign_in(phone_page, live_server, network["Hanoi"]["delegate"])
    phone_page.goto(live_server.url(f"/library/{members}"))
    expect(phone_page.locator(".badge-members")).to_be_visible()
    axe_check(phone_page)
