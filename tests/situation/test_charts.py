"""The charts: well-formed SVG with a title and a description, the same numbers as the table
beside them; the comparison per 100,000 inhabitants on a hand-computed example; the JSON
download."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest

from cacnet.cities.models import City
from cacnet.core.db import db
from cacnet.situation import charts, services
from tests.conftest import login
from tests.situation.conftest import DAY, csv_bytes, days, upload, user

SVG = "{http://www.w3.org/2000/svg}"


def svgs(html: str) -> list[ET.Element]:
    """Every <svg> of a page, parsed as XML (so each one must be well-formed on its own)."""
    return [ET.fromstring(m) for m in re.findall(r"<svg\b.*?</svg>", html, flags=re.S)]


def table_rows(html: str, caption_start: str) -> list[list[str]]:
    """The body rows of the table whose caption starts with ``caption_start``, as cell texts."""
    table = next(t for t in re.findall(r"<table\b.*?</table>", html, flags=re.S)
                 if re.search(r"<caption[^>]*>\s*" + re.escape(caption_start), t))  # fmt: skip
    body = table.split("<tbody>", 1)[1]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S)
        rows.append([re.sub(r"<[^>]+>", "", c).strip() for c in cells])
    return rows


@pytest.fixture
def seoul_figures(app, client, cities):
    """Ten days of Seoul: new cases every day but the 4th, active cases every second day."""
    rows = []
    for i, d in enumerate(days(10)):
        new = "" if i == 3 else str(1000 + 150 * i)
        active = str(20000 + 1000 * i) if i % 2 else ""
        rows.append(f"{d.isoformat()},{new},{active}")
    login(client, cities["Seoul"]["delegate"])
    response = upload(client, cities["Seoul"]["slug"],
                      csv_bytes(*rows, header="date,new_cases,active_cases"))  # fmt: skip
    assert response.status_code == 302
    return cities["Seoul"]


def test_each_chart_is_an_svg_image_with_a_title_a_description_and_the_tables_numbers(
    client, seoul_figures
):
    page = client.get(f"/cities/{seoul_figures['slug']}/situation?from=2021-03-01&to=2021-03-10")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    charts_found = [s for s in svgs(html) if s.get("role") == "img"]
    assert [s.get("aria-labelledby") for s in charts_found] == [
        "chart-new_cases-title chart-new_cases-desc",
        "chart-active_cases-title chart-active_cases-desc",
    ]  # only the figures Seoul reported
    new_cases, active = charts_found
    assert new_cases[0].tag == f"{SVG}title"
    assert new_cases[0].text == "New cases in Seoul"
    desc = new_cases.find(f"{SVG}desc").text
    assert desc.startswith("New cases in Seoul from Mar 1, 2021 to Mar 10, 2021.")
    assert "highest 2,350 on Mar 10, 2021; latest 2,350 on Mar 10, 2021." in desc
    assert new_cases.get("viewBox") == "0 0 480 280"

    # One bar per reported day (none for the 4th); its tooltip is the table's number.
    bars = {r.find(f"{SVG}title").text for r in new_cases.iter(f"{SVG}rect")}
    dots = {c.find(f"{SVG}title").text for c in active.iter(f"{SVG}circle")}
    rows = table_rows(html, "Figures of Seoul")
    assert [r[0] for r in rows] == [
        f"Mar {d.day}, 2021" for d in reversed(days(10))
    ]  # newest first
    from_table_new = {f"{r[0]}: {r[1]}" for r in rows if r[1] != "–not reported"}
    from_table_active = {f"Active cases, {r[0]}: {r[2]}" for r in rows if r[2] != "–not reported"}
    assert bars == from_table_new and len(bars) == 9
    assert dots == from_table_active and len(dots) == 5
    assert "Mar 4, 2021: " not in " ".join(bars)
    # Axis labels: round numbers from zero, and dates.
    labels = [t.text for t in new_cases.iter(f"{SVG}text")]
    assert labels[0] == "0" and "2,500" in labels
    assert "Mar 1" in labels


def test_a_chart_downloads_as_an_svg_file(client, seoul_figures):
    response = client.get(
        f"/cities/{seoul_figures['slug']}/situation/new_cases.svg?from=2021-03-01&to=2021-03-10"
    )
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    root = ET.fromstring(response.get_data())
    assert root.tag == f"{SVG}svg"
    assert root.find(f"{SVG}title").text == "New cases in Seoul"
    assert client.get(f"/cities/{seoul_figures['slug']}/situation/deaths.svg").status_code == 404


def test_the_json_download(client, seoul_figures):
    response = client.get(f"/cities/{seoul_figures['slug']}/situation.json?from=2021-03-09")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    data = json.loads(response.get_data())
    assert data["city"] == {"slug": "seoul-kr", "name": "Seoul", "name_local": "",
                            "country": "KR", "population": 9_411_000}  # fmt: skip
    assert data["from"] == "2021-03-09" and data["to"] is None
    assert set(data["definitions"]) == {"new_cases", "active_cases", "hospitalised",
                                        "tests_done", "vaccinated"}  # fmt: skip
    assert data["days"] == [
        {"date": "2021-03-09", "new_cases": 2200, "active_cases": None, "hospitalised": None,
         "tests_done": None, "vaccinated": None, "note": ""},
        {"date": "2021-03-10", "new_cases": 2350, "active_cases": 29000, "hospitalised": None,
         "tests_done": None, "vaccinated": None, "note": ""},
    ]  # fmt: skip
    everything = json.loads(client.get(f"/cities/{seoul_figures['slug']}/situation.json").data)
    assert len(everything["days"]) == 10


def test_the_period_links_and_a_city_without_figures(client, cities, seoul_figures):
    html = client.get(f"/cities/{seoul_figures['slug']}/situation?period=30").get_data(as_text=True)
    # 30 days to the last reported day, but not before the first
    assert "From Mar 1, 2021 to Mar 10, 2021." in html
    html = client.get(f"/cities/{seoul_figures['slug']}/situation?period=all").get_data(
        as_text=True
    )
    assert "From Mar 1, 2021 to Mar 10, 2021." in html
    html = client.get(f"/cities/{seoul_figures['slug']}/situation?from=2021-02-01").get_data(
        as_text=True
    )
    assert "From Feb 1, 2021 to Mar 10, 2021." in html  # dates chosen by hand are kept
    html = client.get(f"/cities/{seoul_figures['slug']}/situation?from=nonsense").get_data(
        as_text=True
    )
    assert "A date was not understood" in html
    for odd in ("to=0001-01-01", "from=9999-12-31", "to=9999-12-31&from=0001-01-01"):
        response = client.get(f"/cities/{seoul_figures['slug']}/situation?{odd}")
        assert response.status_code == 200
        assert "A date was not understood" in response.get_data(as_text=True)
        assert client.get(f"/situation/compare?city=seoul-kr&{odd}").status_code == 200
    london = client.get(f"/cities/{cities['London']['slug']}/situation")
    assert "London has not published any figures yet." in london.get_data(as_text=True)
    assert client.get("/cities/nowhere-xx/situation").status_code == 404


# --- comparison per 100,000 --------------------------------------------------------------------


def test_the_comparison_per_100000_on_a_hand_computed_example(app, client, create_member_city,
                                                             create_user):  # fmt: skip
    """A: 2,000,000 people, 50 new cases -> 2.5 per 100,000. B: 500,000 people, 10 -> 2.0.
    C has no population: not comparable."""
    made = {}
    for name, population, new_cases in (("Alpha", 2_000_000, 50), ("Beta", 500_000, 10),
                                         ("Gamma", None, 99)):  # fmt: skip
        city_id, admin = create_member_city(name, "KR")
        with app.test_request_context():
            city = db.session.get(City, city_id)
            city.population = population
            services.record_day(user(admin), city,
                                services.DayFigures(day=DAY, new_cases=new_cases))  # fmt: skip
            services.record_day(user(admin), city, services.DayFigures(
                day=DAY + timedelta(days=1), vaccinated=1000))  # fmt: skip
            db.session.commit()
            made[name] = city.slug
    with app.test_request_context():
        cities = [db.session.get(City, i) for i in (1, 2, 3)]
        result = services.compare(cities, "new_cases", DAY, DAY + timedelta(days=1))
        assert [c.city.name_en for c in result.compared] == ["Alpha", "Beta"]
        assert [c.name_en for c in result.not_comparable] == ["Gamma"]
        assert [v for _d, v in result.compared[0].values] == [services.Decimal("2.50"), None]
        assert [v for _d, v in result.compared[1].values] == [services.Decimal("2.00"), None]
        assert services.per_100k(1, 3) == services.Decimal("33333.33")

    query = "&".join(f"city={made[n]}" for n in ("Alpha", "Beta", "Gamma"))
    response = client.get(
        f"/situation/compare?{query}&measure=new_cases&from=2021-03-01&to=2021-03-02"
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    rows = table_rows(html, "New cases per 100,000 inhabitants")
    assert rows == [["Mar 1, 2021", "2.50 (50)", "2.00 (10)"]]  # the 2nd has no new cases
    [chart] = [s for s in svgs(html) if s.get("role") == "img"]
    assert chart.find(f"{SVG}title").text == "New cases per 100,000 inhabitants"
    assert "Alpha: highest 2.50 on Mar 1, 2021" in chart.find(f"{SVG}desc").text
    tips = sorted(c.find(f"{SVG}title").text for c in chart.iter(f"{SVG}circle"))
    assert tips == ["Alpha, Mar 1, 2021: 2.50", "Beta, Mar 1, 2021: 2.00"]
    assert "Not comparable" in html and "Gamma" in html.split("Not comparable", 1)[1]

    # The same cities on vaccinations.
    html = client.get(f"/situation/compare?{query}&measure=vaccinated&from=2021-03-01"
                      "&to=2021-03-02").get_data(as_text=True)  # fmt: skip
    assert table_rows(html, "Vaccinated per 100,000") == [
        ["Mar 2, 2021", "50.00 (1,000)", "200.00 (1,000)"]
    ]


def test_the_comparison_page_without_a_choice_and_with_too_many_cities(client, cities,
                                                                      seoul_figures):  # fmt: skip
    html = client.get("/situation/compare").get_data(as_text=True)
    assert "Choose one or more cities" in html
    assert 'value="seoul-kr"' in html  # Seoul published figures
    assert 'value="london-gb"' not in html  # London did not
    many = "&".join(f"city=c{i}" for i in range(8))
    html = client.get(f"/situation/compare?{many}&city=seoul-kr").get_data(as_text=True)
    assert "At most 6 cities can be compared at once" in html


# --- the chart geometry ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("maximum", "whole", "ticks"),
    [
        (2350, True, [0, 500, 1000, 1500, 2000, 2500]),
        (4, True, [0, 1, 2, 3, 4]),
        (1, True, [0, 1]),
        (0, True, [0, 1, 2, 3, 4]),
        (2.5, False, [0, 0.5, 1, 1.5, 2, 2.5]),
        (0.42, False, [0, 0.1, 0.2, 0.3, 0.4, 0.5]),
        (9_411_000, True, [0, 2_000_000, 4_000_000, 6_000_000, 8_000_000, 10_000_000]),
        (101, True, [0, 20, 40, 60, 80, 100, 120]),
    ],
)
def test_y_ticks_are_round(maximum, whole, ticks):
    assert charts.y_ticks(maximum, whole) == ticks


def test_x_ticks_label_days_or_months(app):
    with app.test_request_context():
        short = charts.x_ticks(date(2021, 3, 1), date(2021, 3, 30))
        assert [d.day for d, _ in short] == [1, 8, 15, 22, 29]
        assert short[0][1] == "Mar 1"
        year = charts.x_ticks(date(2021, 1, 15), date(2022, 1, 14))
        # quarters, on calendar quarters
        assert [d for d, _ in year] == [date(2021, 4, 1), date(2021, 7, 1), date(2021, 10, 1),
                                        date(2022, 1, 1)]  # fmt: skip
        assert year[0][1] == "Apr 2021"
        assert len(charts.x_ticks(date(2012, 1, 1), date(2021, 12, 31))) <= 5


def test_a_long_period_draws_without_dots_and_stays_in_the_frame(app):
    with app.test_request_context():
        start = date(2020, 1, 1)
        n = 1000
        end = start + timedelta(days=n - 1)
        daily = [float(i % 300) if i % 50 else None for i in range(n)]
        [series] = charts.build_chart("c", "Test", start, end, [charts.Series("A", daily)]).series
        assert series.path.startswith("M") and not series.dots
        points = [float(p) for p in re.findall(r"[\d.]+", series.path)]
        assert min(points) >= 0 and max(points) <= charts.WIDTH
        # Weekly reports: a dot on each reported day shows what the line joins.
        weekly = [float(i) if i % 7 == 0 else None for i in range(n)]
        [series] = charts.build_chart("c", "Test", start, end, [charts.Series("A", weekly)]).series
        assert len(series.dots) == len([v for v in weekly if v is not None])
