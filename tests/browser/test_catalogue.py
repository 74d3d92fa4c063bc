"""The supplier catalogue in Chromium, in English and in Korean: a delegate adds a company, a
product with its sheet and an export permission; the secretariat vets them; the public finds the
product. The list and the product page pass axe-core on a desktop and on a phone."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, axe_check
from tests.browser.test_journey import sign_in
from tests.catalogue.conftest import network  # noqa: F401 - fixture
from tests.helpers import pdf_bytes

pytestmark = pytest.mark.browser

NAMES = {
    "en": ("Example Bio Co.", "Example swab kit", "예시 검체 채취 키트"),
    "ko": ("Sample Diagnostics Ltd.", "", "샘플 RT-PCR 진단 시약"),
}


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width


@pytest.mark.parametrize("language", ["en", "ko"])
def test_a_delegate_adds_the_secretariat_vets_the_public_finds(
    page,
    phone_page,
    live_server,
    network,  # noqa: F811
    tmp_path,
    language,
):
    company, product_en, product_ko = NAMES[language]
    sheet = tmp_path / "sheet.pdf"
    sheet.write_bytes(pdf_bytes())
    sign_in(page, live_server, network["Seoul"]["delegate"])
    page.goto(live_server.url(f"/language/{language}"))
    expect(page.locator("html")).to_have_attribute("lang", language)
    # Fields and buttons by their ids: the labels follow the page's language.
    submit_button = "form.narrow button[type=submit]"
    page.goto(live_server.url("/catalogue/"))
    page.locator("main a[href$='/catalogue/companies/new']").click()
    page.locator("#name_en").fill(company)
    page.locator("#country_code").select_option("KR")
    page.locator("#website").fill("javascript:alert(1)")
    page.locator(submit_button).click()
    expect(page.locator("#website")).to_have_attribute("aria-invalid", "true")
    axe_check(page)
    page.locator("#website").fill("https://bio.example")
    page.locator("#contact_email").fill("sales@bio.example")
    page.locator(submit_button).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(company)
    expect(page.locator(".badge.catalogue-pending")).to_be_visible()

    page.locator("main a[href$='/products/new']").click()
    page.locator("#name_en").fill(product_en)
    page.locator("#name_ko").fill(product_ko)
    page.locator("#product_type").select_option("diagnostic_reagent")
    page.locator("#sheet").set_input_files(str(sheet))
    page.locator(submit_button).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(product_en or product_ko)

    page.locator("main a[href$='/certifications/new']").click()
    page.locator("#kind").select_option("export_permission")
    page.locator("#issuing_authority").fill("식품의약품안전처")
    page.locator("#issued_on").fill((date.today() + timedelta(days=3)).isoformat())
    page.locator(submit_button).click()
    expect(page.locator("#issued_on")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#issued_on-error")).to_be_visible()
    axe_check(page)
    page.locator("#issued_on").fill((date.today() - timedelta(days=30)).isoformat())
    page.locator(submit_button).click()
    expect(page.locator("#certifications")).to_contain_text("식품의약품안전처")
    product_url = page.url.split("#")[0]

    # the secretariat vets the company, then the product
    officer = page.context.browser.new_context(viewport=DESKTOP).new_page()
    sign_in(officer, live_server, network["secretariat"])
    officer.goto(live_server.url("/secretariat/catalogue"))
    axe_check(officer)
    for left in (1, 0):
        officer.locator("main form[action$='/vet'] button").first.click()
        expect(officer.locator("main form[action$='/vet']")).to_have_count(left)
    officer.context.close()

    # the public finds it and reads it, on a desktop and on a phone
    reader = page.context.browser.new_context(viewport=DESKTOP).new_page()
    reader.goto(live_server.url(f"/language/{language}"))
    reader.goto(live_server.url("/catalogue/"))
    reader.locator("#q").fill(product_ko.split()[0])
    reader.locator("#export").check()
    reader.locator("form.filters button[type=submit]").click()
    link = reader.locator("main table").get_by_role("link", name=product_en or product_ko)
    expect(link).to_be_visible()
    axe_check(reader)
    link.click()
    expect(reader.get_by_role("heading", level=1)).to_contain_text(product_en or product_ko)
    expect(reader.get_by_role("link", name="sales@bio.example")).to_be_visible()
    axe_check(reader)
    reader.context.close()

    for url in (live_server.url("/catalogue/"), product_url):
        phone_page.goto(live_server.url(f"/language/{language}"))
        phone_page.goto(url)
        axe_check(phone_page)
        _no_sideways_scroll(phone_page)
