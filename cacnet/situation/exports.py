"""A city's figures as data: ``/cities/<slug>/situation.csv`` and ``.json``.

The CSV has the columns the upload reads (``imports.COLUMNS``), so a downloaded file can be
uploaded again, one row per reported day, oldest first, with a byte-order mark so that
spreadsheets read it as UTF-8. An empty cell is a figure the city did not report. The JSON has the
same days as objects (``null`` for not reported) and says which city and what each figure means.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date

from cacnet.cities.models import City
from cacnet.situation.imports import COLUMNS
from cacnet.situation.models import MEASURES, SituationDay

# Data, not interface: the download reads the same in every language.
DEFINITIONS = {
    "new_cases": "People newly confirmed as infected on that day.",
    "active_cases": "People infected and not yet recovered at the end of the day.",
    "hospitalised": "People in hospital with the disease at the end of the day.",
    "tests_done": "Tests carried out on that day.",
    "vaccinated": "People vaccinated on that day.",
}


def guard_cell(text: str) -> str:
    """A note that a spreadsheet would run as a formula (it starts with = + - @) gets a leading
    apostrophe, which spreadsheets hide; the upload takes it off again."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _record(row: SituationDay) -> dict:
    return {"date": row.day.isoformat(), **row.figures(), "note": row.note}


def csv_text(rows: list[SituationDay]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        record = _record(row)
        record["note"] = guard_cell(record["note"])
        writer.writerow("" if record[c] is None else record[c] for c in COLUMNS)
    return "\ufeff" + out.getvalue()


def json_text(city: City, rows: list[SituationDay], start: date | None, end: date | None) -> str:
    document = {
        "city": {
            "slug": city.slug,
            "name": city.name_en,
            "name_local": city.name_local,
            "country": city.country_code,
            "population": city.population,
        },
        "from": start.isoformat() if start else None,
        "to": end.isoformat() if end else None,
        "definitions": {m: DEFINITIONS[m] for m in MEASURES},
        "days": [_record(row) for row in rows],
    }
    return json.dumps(document, ensure_ascii=False, indent=1) + "\n"
