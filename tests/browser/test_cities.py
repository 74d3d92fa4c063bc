"""A city admin keeps the city's page current in Chromium: edits the profile (coordinates looked
up), uploads a logo, adds contacts; the public page, the directory and the map show what they
should, and pass axe-core."""

from __future__ import annotations

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import axe_check
from tests.browser.test_journey import sign_in, sign_out

pytestmark = pytest.mark.browser


def test_city_admin_edits_profile_logo_and_contacts(
    page, live_server, create_member_city, tmp_path
):
    _, admin = create_member_city("Seoul", "KR", name_local="서울특별시")
    create_member_city("London", "GB")
    sign_in(page, live_server, admin)

    page.goto(live_server.url("/cities/seoul-kr"))
    page.get_by_role("link", name="Edit the profile").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit the profile of Seoul")
    axe_check(page)
    page.get_by_label("Mayor's name").fill("Oh Se-hoon")
    page.get_by_label("Pandemic-response page").fill("https://english.seoul.go.kr/covid")
    page.get_by_label("Short description").fill("Home of **S-quarantine**.")
    page.get_by_role("button", name="Look up the coordinates").click()
    expect(page.get_by_role("status")).to_contain_text("Coordinates found")
    expect(page.get_by_label("Latitude")).to_have_value("37.56600")
    page.get_by_role("button", name="Save the profile").click()
    expect(page.get_by_role("status")).to_contain_text("The profile has been saved.")

    logo = tmp_path / "seoul.png"
    Image.new("RGB", (300, 300), (200, 16, 46)).save(logo)
    page.goto(live_server.url("/cities/seoul-kr/edit"))
    page.get_by_label("Logo (PNG, JPEG or WebP, at most 2 MB)").set_input_files(str(logo))
    page.get_by_role("button", name="Upload the logo").click()
    expect(page.get_by_role("status")).to_contain_text("The logo has been saved.")

    page.get_by_role("link", name="Manage contacts").first.click()
    axe_check(page)
    for name, visibility in (("Na Baek-ju", "public"), ("Park Ji-hoon", "members")):
        page.get_by_label("Name", exact=True).fill(name)
        page.get_by_label("Phone").fill("02-2133-7500")
        page.get_by_label("Who may see this contact").select_option(visibility)
        page.get_by_role("button", name="Add the contact").click()
        expect(page.get_by_role("status")).to_contain_text("The contact has been added.")
    axe_check(page)

    # The public page shows the profile, the logo and only the public contact.
    sign_out(page)
    page.goto(live_server.url("/cities/seoul-kr"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Seoul")
    expect(page.get_by_role("img", name="Logo of Seoul")).to_be_visible()
    expect(page.get_by_text("Oh Se-hoon")).to_be_visible()
    expect(page.get_by_text("Na Baek-ju")).to_be_visible()
    expect(page.get_by_text("Park Ji-hoon")).to_have_count(0)
    expect(page.get_by_role("link", name="+82 2-2133-7500")).to_be_visible()
    axe_check(page)

    # The directory finds it in Korean and links to it; the map shows its point.
    page.goto(live_server.url("/cities/"))
    axe_check(page)
    page.get_by_label("Search by name").fill("서울")
    page.locator("main").get_by_role("button", name="Search").click()
    expect(page.get_by_role("table").get_by_role("link", name="Seoul")).to_be_visible()
    expect(page.get_by_role("table").get_by_role("link", name="London")).to_have_count(0)
    page.goto(live_server.url("/cities/map"))
    expect(page.locator("svg a[href='/cities/seoul-kr']")).to_have_count(1)
    axe_check(page)


def test_directory_and_city_page_on_a_phone(phone_page, live_server, create_member_city):
    create_member_city("Seoul", "KR", name_local="서울특별시")
    for path in ("/cities/", "/cities/seoul-kr", "/cities/map"):
        phone_page.goto(live_server.url(path))
        width = phone_page.evaluate(
            "() => [document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert width[0] <= width[1], (path, width)
        axe_check(phone_page)
