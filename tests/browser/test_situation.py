"""Situation updates in Chromium: a delegate publishes a day by hand and a month from a CSV file;
the city's situation page, its section on the city page and the comparison per 100,000
inhabitants pass axe-core, on a desktop and on a phone, without scrolling sideways."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_check
from tests.browser.test_journey import sign_in
from tests.situation.conftest import cities  # noqa: F401 - fixture

pytestmark = pytest.mark.browser

START = date.today() - timedelta(days=40)


def _csv(tmp_path) -> str:
    lines = ["date,new_cases,active_cases,hospitalised,tests_done,vaccinated,note"]
    for i in range(35):
        day = START + timedelta(days=i)
        wave = 400 + 30 * i - (i * i) // 2
        note = "Holiday: fewer tests" if i == 10 else ""
        lines.append(f"{day.isoformat()},{wave},{wave * 12},{wave // 8},{wave * 40},"
                     f"{1000 + 50 * i},{note}")  # fmt: skip
    path = tmp_path / "figures.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width


def test_a_delegate_publishes_figures_and_the_public_reads_the_charts(
    page,
    live_server,
    cities,  # noqa: F811
    tmp_path,
):
    seoul = cities["Seoul"]
    sign_in(page, live_server, seoul["delegate"])
    page.goto(live_server.url(f"/cities/{seoul['slug']}"))
    page.get_by_role("link", name="Publish figures").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Publish the figures of Seoul")
    axe_check(page)

    # A bad figure is named on its field; then corrected.
    yesterday = date.today() - timedelta(days=1)
    page.get_by_label("Date").fill(yesterday.isoformat())
    page.get_by_label("New cases").fill("-12")
    page.get_by_role("button", name="Save the figures").click()
    expect(page.get_by_label("New cases")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#new_cases-error")).to_have_text("A count cannot be negative.")
    axe_check(page)
    page.get_by_label("New cases").fill("1,204")
    page.get_by_label("Hospitalised").fill("88")
    page.get_by_role("button", name="Save the figures").click()
    expect(page.get_by_role("status")).to_contain_text("are published")

    # A month from a file; a broken file first.
    bad = tmp_path / "bad.csv"
    bad.write_text("date,cases\n2021-03-01,4\n", encoding="utf-8")
    page.get_by_label("CSV file (UTF-8, at most 2 MB and 1,100 days)").set_input_files(str(bad))
    page.get_by_role("button", name="Upload the figures").click()
    expect(page.get_by_role("alert")).to_contain_text("Unknown columns: cases.")
    axe_check(page)
    page.get_by_label("CSV file (UTF-8, at most 2 MB and 1,100 days)").set_input_files(
        _csv(tmp_path)
    )
    page.get_by_role("button", name="Upload the figures").click()
    expect(page.get_by_role("status")).to_contain_text("The file is imported: 35 days")
    expect(page.get_by_role("heading", level=1)).to_have_text("Situation in Seoul")

    # What anyone sees.
    reader = page.context.browser.new_context(viewport={"width": 1280, "height": 900})
    public = reader.new_page()
    try:
        public.goto(live_server.url(f"/cities/{seoul['slug']}/situation"))
        for measure in ("New cases", "Active cases", "Hospitalised", "Tests done", "Vaccinated"):
            expect(public.get_by_role("img", name=f"{measure} in Seoul")).to_be_visible()
        expect(public.get_by_role("table", name="Figures of Seoul")).to_contain_text("1,204")
        expect(public.get_by_role("table", name="Figures of Seoul")).to_contain_text(
            "Holiday: fewer tests"
        )
        axe_check(public)
        public.goto(live_server.url(f"/cities/{seoul['slug']}"))
        expect(public.get_by_role("img", name="New cases in Seoul")).to_be_visible()
        public.get_by_text("These figures as a table").click()
        expect(
            public.get_by_role("table", name="New cases in Seoul, newest first")
        ).to_contain_text("1,204")
        axe_check(public)
    finally:
        reader.close()


def _publish(app, city_id: int, email: str, scale: int) -> None:
    from cacnet.cities.models import City
    from cacnet.core.db import db
    from cacnet.situation import services
    from tests.situation.conftest import user

    with app.test_request_context():
        city = db.session.get(City, city_id)
        for i in range(30):
            services.record_day(user(email), city, services.DayFigures(
                day=START + timedelta(days=i), new_cases=scale * (20 + i), vaccinated=scale * 300,
            ))  # fmt: skip
        db.session.commit()


@pytest.mark.parametrize("device", ["page", "phone_page"])
def test_the_comparison_on_a_desktop_and_a_phone(request, live_server, cities, device):  # noqa: F811
    page = request.getfixturevalue(device)
    _publish(live_server.app, cities["Seoul"]["city_id"], cities["Seoul"]["delegate"], 10)
    _publish(live_server.app, cities["London"]["city_id"], cities["London"]["delegate"], 7)
    page.goto(live_server.url("/situation/compare"))
    axe_check(page)
    page.get_by_label("Seoul").check()
    page.get_by_label("London").check()
    page.get_by_label("Figure").select_option(label="New cases")
    page.get_by_role("button", name="Compare").click()
    chart = page.get_by_role("img", name="New cases per 100,000 inhabitants")
    expect(chart).to_be_visible()
    table = page.get_by_role("table", name="New cases per 100,000 inhabitants")
    # Seoul on its last day: 10 × 49 = 490 new cases for 9,411,000 people = 5.21 per 100,000.
    expect(table.get_by_role("row").nth(1)).to_contain_text("5.21 (490)")
    axe_check(page)
    _no_sideways_scroll(page)
    box = chart.bounding_box()
    assert box["width"] <= page.viewport_size["width"]

    page.goto(live_server.url(f"/cities/{cities['Seoul']['slug']}/situation?period=30"))
    expect(page.get_by_role("img", name="New cases in Seoul")).to_be_visible()
    axe_check(page)
    _no_sideways_scroll(page)
