"""The secretariat's directory tools in Chromium: a CSV import whose progress bar moves while the
background worker checks the rows, then the preview, the confirmation and the result; and the
merge of a duplicate city. Every page is checked with axe-core and under the real CSP."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from cacnet.cities import imports
from tests.browser.conftest import axe_check
from tests.browser.test_journey import sign_in

pytestmark = pytest.mark.browser

HEADER = "name,country,population,latitude,longitude,website"


@pytest.fixture(autouse=True)
def _no_rows_files_left(app):
    yield
    shutil.rmtree(Path(app.instance_path) / "imports", ignore_errors=True)


def test_import_with_a_moving_progress_bar_then_preview_and_confirm(
    page, live_server, secretariat, monkeypatch, tmp_path
):
    # Slow the worker down so that the bar is seen moving: 4 batches of 2 rows, 0.6 s each.
    monkeypatch.setattr(imports, "BATCH_ROWS", 2)
    real_parse = imports._parse_batch

    def slow_parse(rows):
        time.sleep(0.6)
        return real_parse(rows)

    monkeypatch.setattr(imports, "_parse_batch", slow_parse)
    rows = [f"Town {n},KR,{1000 + n},35.{n},129.{n},https://town{n}.example" for n in range(8)]
    csv_file = tmp_path / "towns.csv"
    csv_file.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")

    sign_in(page, live_server, secretariat)
    page.get_by_role("link", name="Import cities").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import cities")
    axe_check(page)
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Check the file").click()

    # The status page: the script polls and moves the bar, then reloads into the preview.
    expect(page.get_by_role("heading", level=2, name="Checking the rows")).to_be_visible()
    progress = page.locator("progress#import-progress")
    axe_check(page)
    expect(page.get_by_role("status")).to_contain_text(" of 8 rows.")
    values = set()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and page.locator("progress").count():
        try:
            value = progress.evaluate("p => p.value") if progress.count() else None
        except PlaywrightError:  # the page is reloading into the preview right now
            value = None
        if value is not None:
            values.add(value)
        page.wait_for_timeout(200)
    assert values & {2, 4, 6}, values  # seen part-way, without reloading the page by hand

    expect(page.get_by_role("heading", name="What the file would change")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("8 new cities")
    axe_check(page)
    page.get_by_role("button", name="Write these changes to the directory").click()
    expect(page.get_by_role("heading", name="The import is done")).to_be_visible(timeout=20_000)
    expect(page.get_by_role("main")).to_contain_text("8 new cities")
    axe_check(page)


def test_merge_preview_and_confirm(page, live_server, secretariat, create_member_city):
    create_member_city("Seoul", "KR")
    create_member_city("Seoul City", "KR", admin_email="admin@seoulcity.example")
    sign_in(page, live_server, secretariat)
    page.get_by_role("link", name="Merge duplicates").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Merge duplicate cities")
    axe_check(page)
    page.get_by_label("Duplicate city").fill("seoul-city-kr")
    page.get_by_label("City to keep").fill("seoul-kr")
    page.get_by_role("button", name="Show what the merge would do").click()
    expect(page.get_by_role("heading", name="What the merge would do")).to_be_visible()
    axe_check(page)
    page.get_by_role("button", name="Merge seoul-city-kr into seoul-kr").click()
    expect(page.get_by_role("status")).to_contain_text("seoul-city-kr was merged into seoul-kr.")


def test_without_javascript_the_status_page_refreshes_itself(
    open_page, live_server, secretariat, monkeypatch, tmp_path
):
    monkeypatch.setattr(imports, "BATCH_ROWS", 1)
    real_parse = imports._parse_batch

    def slow_parse(rows):
        time.sleep(1)
        return real_parse(rows)

    monkeypatch.setattr(imports, "_parse_batch", slow_parse)
    csv_file = tmp_path / "two.csv"
    csv_file.write_text(
        f"{HEADER}\nBusan,KR,3400000,35.1796,129.0756,https://www.busan.go.kr\n"
        "Daegu,KR,2400000,35.8714,128.6014,https://www.daegu.go.kr\n",
        encoding="utf-8",
    )
    page = open_page(java_script_enabled=False)
    sign_in(page, live_server, secretariat)
    page.goto(live_server.url("/secretariat/cities/import"))
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", level=2, name="Checking the rows")).to_be_visible()
    # No script runs; the <meta> refresh in <noscript> reloads the page until the preview shows.
    expect(page.get_by_role("main")).to_contain_text("2 new cities", timeout=15_000)
