"""Figures uploaded as CSV: a downloaded file uploads again into another city with the same
figures; files with wrong columns, duplicate dates, too many rows, future dates or bad counts
are refused whole, with a message naming the row and column, and nothing is written."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from cacnet.cities.models import City
from cacnet.core.audit import AuditEvent
from cacnet.core.db import db
from cacnet.situation import imports, services
from cacnet.situation.models import SituationDay
from tests.conftest import login
from tests.situation.conftest import DAY, csv_bytes, days, stored, upload, user

FULL_HEADER = "date,new_cases,active_cases,hospitalised,tests_done,vaccinated,note"


def test_a_downloaded_file_uploads_into_another_city_with_the_same_figures(app, client, cities):
    seoul, london = cities["Seoul"], cities["London"]
    rows = [
        f'{d.isoformat()},{100 + i},{2000 + i},{i or ""},"{50_000 + i:,}",,{note}'
        for i, (d, note) in enumerate(zip(days(6), ["", "Holiday", '"Backlog, cleared"',
                                                     "=1+1", "한국어 메모", ""], strict=True))
    ]  # fmt: skip
    login(client, seoul["delegate"])
    response = upload(client, seoul["slug"], csv_bytes(*rows, header=FULL_HEADER, bom=True))
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    assert response.headers["Location"].endswith(f"/cities/{seoul['slug']}/situation")
    done = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The file is imported: 6 days from Mar 1, 2021 to Mar 6, 2021 (6 new" in done
    seoul_days = stored(app, seoul["city_id"])
    assert len(seoul_days) == 6
    assert seoul_days[0] == {"date": "2021-03-01", "new_cases": 100, "active_cases": 2000,
                             "hospitalised": None, "tests_done": 50000, "vaccinated": None,
                             "note": ""}  # fmt: skip
    assert [d["note"] for d in seoul_days] == ["", "Holiday", "Backlog, cleared", "=1+1",
                                               "한국어 메모", ""]  # fmt: skip

    download = client.get(f"/cities/{seoul['slug']}/situation.csv")
    assert download.status_code == 200
    assert download.mimetype == "text/csv"
    assert "attachment" in download.headers["Content-Disposition"]
    content = download.get_data()
    assert content.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert table[0] == FULL_HEADER.split(",")
    assert table[1] == ["2021-03-01", "100", "2000", "", "50000", "", ""]
    assert table[4][-1] == "'=1+1"  # a spreadsheet would run it as a formula

    client = app.test_client()
    login(client, london["delegate"])
    assert upload(client, london["slug"], content).status_code == 302
    assert stored(app, london["city_id"]) == seoul_days
    assert client.get(f"/cities/{london['slug']}/situation.csv").get_data() == content

    # The same file again changes nothing.
    again = upload(client, london["slug"], content)
    assert "(0 new, 0 changed, 6 unchanged)" in client.get(again.headers["Location"]).get_data(
        as_text=True
    )
    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "situation_imported")
            .order_by(AuditEvent.id)
        ).all()[1]  # fmt: skip
        assert event.object_id == london["city_id"]
        assert event.details["created"] == 6
        assert (event.details["first_day"], event.details["last_day"]) == (
            "2021-03-01",
            "2021-03-06",
        )


def test_a_file_replaces_only_its_own_columns_and_days(app, client, cities):
    seoul = cities["Seoul"]
    login(client, seoul["delegate"])
    upload(client, seoul["slug"], csv_bytes("2021-03-01,10,Start", "2021-03-02,12,",
                                            header="date,new_cases,note"))  # fmt: skip
    upload(client, seoul["slug"], csv_bytes("2021-03-02,5000", "2021-03-03,5100",
                                            header="date,vaccinated"))  # fmt: skip
    assert [(d["date"], d["new_cases"], d["vaccinated"], d["note"])
            for d in stored(app, seoul["city_id"])] == [
        ("2021-03-01", 10, None, "Start"),
        ("2021-03-02", 12, 5000, ""),
        ("2021-03-03", None, 5100, ""),
    ]  # fmt: skip


def test_korean_headers_semicolons_and_grouped_thousands_are_understood(app, client, cities):
    seoul = cities["Seoul"]
    login(client, seoul["delegate"])
    content = "날짜;신규 확진자;입원 환자;검사 건수;메모\n2021. 3. 1.;1 204;88;52,000;주말\n"
    response = upload(client, seoul["slug"], content.encode("utf-8"))
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    [day] = stored(app, seoul["city_id"])
    assert (day["new_cases"], day["hospitalised"], day["tests_done"], day["note"]) == (
        1204,
        88,
        52000,
        "주말",
    )


def _bad_files():
    today = date.today()
    ten_years = csv_bytes(*(f"{d.isoformat()},1" for d in days(3653, date(2010, 1, 1))))
    return [
        ("wrong columns", csv_bytes("2021-03-01,4", header="day_of_report,cases"),
         ["Unknown columns: day_of_report, cases.", "The column “date” is missing."]),
        ("no figure column", csv_bytes("2021-03-01,hello", header="date,note"),
         ["There is no column of figures."]),
        ("a column twice", csv_bytes("2021-03-01,4,5", header="date,new_cases,New Cases"),
         ["Columns named twice: New Cases."]),
        ("duplicate dates", csv_bytes("2021-03-01,4", "2021-03-02,5", "2021-03-01,6"),
         ["Row 4, column “date”: The date 2021-03-01 is also on row 2: give each day once."]),
        ("ten years of rows", ten_years,
         ["it has more than 1,100 rows. Upload at most 1,100 days"]),
        ("a date in the future",
         csv_bytes("2021-03-01,4", f"{(today + timedelta(days=3)).isoformat()},5"),
         ["Row 3, column “date”: The date is in the future"]),
        ("a day-first date", csv_bytes("01/03/2021,4"),
         ["Row 2, column “date”: Write the date as year-month-day, such as 2021-03-15."]),
        ("negative and not numbers",
         csv_bytes("2021-03-01,-4,3", "2021-03-02,four,3", "2021-03-03,4.5,x",
                   header="date,new_cases,tests_done"),
         ["Row 2, column “new_cases”: A count cannot be negative.",
          "Row 3, column “new_cases”: Enter a whole number, such as 1250.",
          "Row 4, column “new_cases”: Enter a whole number without decimals",
          "Row 4, column “tests_done”: Enter a whole number, such as 1250."]),
        ("a row without figures", csv_bytes("2021-03-01,4", "2021-03-02,"),
         ["Row 3: This row gives no figure."]),
        ("a row too long", csv_bytes("2021-03-01,4,5"),
         ["Row 2: This row has more cells than the header has columns."]),
        ("not UTF-8", "date,new_cases,note\n2021-03-01,4,Séoul\n".encode("latin-1"),
         ["it is not in UTF-8 (line 2 is not)"]),
        ("too large", csv_bytes(*(f"2021-03-01,{'1' * 9}" for _ in range(110_000))),
         ["it is larger than 2 MB."]),
        ("empty", b"", ["the file is empty."]),
        ("a header only", csv_bytes(), ["it has a header row but no days."]),
        ("a broken quotation", b'date,new_cases,note\n2021-03-01,4,"open\n',
         ["cannot be read as CSV"]),
    ]  # fmt: skip


@pytest.mark.parametrize(("content", "messages"), [(c, m) for _n, c, m in _bad_files()],
                         ids=[n for n, _c, _m in _bad_files()])  # fmt: skip
def test_bad_files_are_refused_whole_with_clear_messages(app, client, cities, content, messages):
    seoul = cities["Seoul"]
    login(client, seoul["delegate"])
    # What was published before stays exactly as it was.
    upload(client, seoul["slug"], csv_bytes("2021-02-01,7"))
    before = stored(app, seoul["city_id"])
    response = upload(client, seoul["slug"], content)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "The file was not imported" in html
    for message in messages:
        assert message in html, message
    assert stored(app, seoul["city_id"]) == before
    with app.app_context():
        assert (
            db.session.scalar(select(func.count()).where(AuditEvent.action == "situation_imported"))
            == 1
        )


def test_nothing_is_half_written_when_one_row_of_many_is_wrong(app, client, cities):
    seoul = cities["Seoul"]
    login(client, seoul["delegate"])
    rows = [f"{d.isoformat()},{i}" for i, d in enumerate(days(500))]
    rows[450] = rows[450].split(",")[0] + ",-1"
    response = upload(client, seoul["slug"], csv_bytes(*rows))
    assert response.status_code == 422
    assert "Row 452, column “new_cases”: A count cannot be negative." in response.get_data(
        as_text=True
    )
    assert stored(app, seoul["city_id"]) == []


def test_three_years_in_one_file_are_accepted(app, cities):
    with app.test_request_context():
        city = db.session.get(City, cities["Seoul"]["city_id"])
        content = csv_bytes(*(f"{d.isoformat()},{i % 90}" for i, d in enumerate(days(1100))))
        result = imports.import_figures(user(cities["Seoul"]["delegate"]), city, content)
        db.session.commit()
        assert (result.created, result.first, result.last) == (1100, DAY, DAY + timedelta(1099))
        assert db.session.scalar(select(func.count(SituationDay.id))) == 1100


def test_many_problems_are_listed_up_to_a_limit(app, cities):
    with app.test_request_context():
        city = db.session.get(City, cities["Seoul"]["city_id"])
        content = csv_bytes(*(f"{d.isoformat()},x" for d in days(300)))
        with pytest.raises(services.FiguresRefused) as refused:
            imports.import_figures(user(cities["Seoul"]["delegate"]), city, content)
        assert len(refused.value.problems) == services.MAX_PROBLEMS
        assert refused.value.more == 200
        db.session.rollback()
