"""News in Chromium: a city's delegate writes a story with an image and submits it, the
secretariat publishes it from the moderation queue, the public reads it, in English and in
Korean; the list and an item pass axe-core on a desktop and on a phone without scrolling
sideways."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_check
from tests.browser.test_journey import sign_in, sign_out
from tests.news.conftest import make_item, network, png_bytes  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width


def _image(tmp_path) -> str:
    path = tmp_path / "tent.png"
    path.write_bytes(png_bytes((64, 48)))
    return str(path)


def _approve_first_in_queue(page, live_server, officer: str, title: str) -> None:
    sign_in(page, live_server, officer)
    page.goto(live_server.url("/secretariat/news"))
    expect(page.get_by_role("heading", level=2, name=title)).to_be_visible()
    axe_check(page)
    page.locator("form[action$='/approve'] button").first.click()
    expect(page.get_by_role("status")).to_be_visible()
    sign_out(page)


def test_a_story_in_english_from_writing_to_the_public_page(page, live_server, network,  # noqa: F811
                                                            tmp_path):  # fmt: skip
    sign_in(page, live_server, network["London"]["delegate"])
    page.get_by_role("navigation", name="Main").get_by_role("link", name="News").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("News and announcements")
    page.get_by_role("link", name="Write news").click()
    axe_check(page)
    # Markup in a title is refused on its field.
    page.get_by_label("Title in English").fill("<b>Loud</b>")
    page.get_by_role("button", name="Submit to the secretariat").click()
    expect(page.get_by_label("Title in English")).to_have_attribute("aria-invalid", "true")
    axe_check(page)
    page.get_by_label("Title in English").fill("London opens walk-in testing in every borough")
    page.get_by_label("Summary in English (optional, plain text)").fill(
        "Thirty-two walk-in centres, open seven days a week."
    )
    page.get_by_label("Text in English").fill("The centres are **free** for everyone.")
    page.get_by_label("Image (optional: PNG, JPEG or WebP, at most 5 MB)").set_input_files(
        _image(tmp_path)
    )
    page.get_by_label("Image description in English (alt text)").fill("A walk-in testing tent")
    page.get_by_role("button", name="Submit to the secretariat").click()
    expect(page.get_by_role("status")).to_contain_text("sent to the secretariat")
    axe_check(page)
    sign_out(page)

    _approve_first_in_queue(page, live_server, network["secretariat"],
                            "London opens walk-in testing in every borough")  # fmt: skip

    page.goto(live_server.url("/news/"))
    page.get_by_role("link", name="London opens walk-in testing in every borough").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "London opens walk-in testing in every borough"
    )
    expect(page.get_by_role("img", name="A walk-in testing tent")).to_be_visible()
    expect(page.locator(".news-body strong")).to_have_text("free")
    axe_check(page)


def test_a_story_in_korean(page, live_server, network):  # noqa: F811
    sign_in(page, live_server, network["Seoul"]["delegate"])
    page.goto(live_server.url("/language/ko"))
    page.goto(live_server.url("/news/new"))
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    page.locator("#title_ko").fill("서울시, 감염병 대응 도시연대 창설 제안")
    page.locator("#summary_ko").fill("42개 도시가 서울 선언문에 뜻을 모았습니다.")
    page.locator("#body_ko").fill("**서울 선언문**을 공동으로 발표했습니다.")
    axe_check(page)
    page.locator("button[name=action][value=submit]").click()
    expect(page.get_by_role("status")).to_be_visible()
    sign_out_any(page)

    page.goto(live_server.url("/language/en"))  # the officer reads English
    sign_in(page, live_server, network["secretariat"])
    page.goto(live_server.url("/secretariat/news"))
    expect(page.get_by_text("서울시, 감염병 대응 도시연대 창설 제안")).to_be_visible()
    # On the officer's English page the Korean title says it is Korean.
    expect(page.locator("h2[lang=ko]")).to_have_text("서울시, 감염병 대응 도시연대 창설 제안")
    axe_check(page)
    page.locator("form[action$='/approve'] button").first.click()
    sign_out(page)

    page.goto(live_server.url("/language/ko"))
    page.goto(live_server.url("/news/"))
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    page.get_by_role("link", name="서울시, 감염병 대응 도시연대 창설 제안").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "서울시, 감염병 대응 도시연대 창설 제안"
    )
    expect(page.locator(".news-body strong")).to_have_text("서울 선언문")
    axe_check(page)


def sign_out_any(page) -> None:
    """Sign out whatever the page's language (the button is the navigation's only one)."""
    page.get_by_role("navigation").locator("form button[type=submit]").last.click()
    page.wait_for_load_state()


@pytest.mark.parametrize("device", ["page", "phone_page"])
def test_the_list_and_an_item_on_a_desktop_and_a_phone(request, live_server, network,  # noqa: F811
                                                       make_item, device):  # noqa: F811  # fmt: skip
    page = request.getfixturevalue(device)
    officer = network["secretariat"]
    make_item(officer, title_en="A note from the chair: together we stand",
              title_ko="의장 메시지", category="chair_note",
              body_en="Cities share what works.\n\n- alerts\n- resources")  # fmt: skip
    item_id = make_item(officer, title_en="Seoul proposes an international organisation of "
                        "cities against pandemics with a rather long title to wrap on phones",
                        summary_en="Mayors and governors from 42 cities agreed.",
                        image=png_bytes((1200, 600)), image_alt_en="Mayors on a video wall",
                        city_id=network["Seoul"]["city_id"])  # fmt: skip
    make_item(officer, title_ko="회원 전용 공지", visibility="members", category="announcement")
    page.goto(live_server.url("/news/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("News and announcements")
    axe_check(page)
    _no_sideways_scroll(page)
    page.goto(live_server.url("/news/?category=chair_note"))
    expect(
        page.get_by_role("link", name="A note from the chair: together we stand")
    ).to_be_visible()
    page.goto(live_server.url(f"/news/{item_id}"))
    expect(page.get_by_role("img", name="Mayors on a video wall")).to_be_visible()
    axe_check(page)
    _no_sideways_scroll(page)
    page.goto(live_server.url("/language/ko"))
    page.goto(live_server.url("/news/"))
    axe_check(page)
    _no_sideways_scroll(page)
