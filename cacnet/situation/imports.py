"""A city's figures from a CSV file: every row checked first, then all written, or nothing.

The file has a header row naming its columns: ``date`` and any of ``new_cases``, ``active_cases``,
``hospitalised``, ``tests_done``, ``vaccinated`` and ``note`` (the names of the download, so a
downloaded file can be uploaded again), in any order; case, spaces and hyphens do not matter, and
the Korean names of ``HEADER_ALIASES`` are understood too. Commas, semicolons or tabs separate the
cells; the text is UTF-8, with or without a byte-order mark.

For each day of the file, the columns in the file replace what the city had for that day (an
empty cell: not reported); the columns not in the file, and the days not in the file, stay as
they were. So a city may upload its vaccinations and its cases as separate files.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from cacnet.cities.models import City
from cacnet.core import audit
from cacnet.core.db import db
from cacnet.situation import services
from cacnet.situation.models import MEASURES, SituationDay
from cacnet.situation.services import FiguresRefused, Problem

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ROWS = 1100  # days per file: three years

# Header spellings (lower case, without spaces, underscores and hyphens) -> column.
HEADER_ALIASES = {
    "date": "date", "day": "date", "날짜": "date", "일자": "date",
    "newcases": "new_cases", "신규확진자": "new_cases", "신규확진": "new_cases",
    "activecases": "active_cases", "치료중환자": "active_cases", "격리중환자": "active_cases",
    "격리중": "active_cases",
    "hospitalised": "hospitalised", "hospitalized": "hospitalised", "입원환자": "hospitalised",
    "입원": "hospitalised",
    "testsdone": "tests_done", "tests": "tests_done", "검사건수": "tests_done",
    "검사": "tests_done",
    "vaccinated": "vaccinated", "백신접종자": "vaccinated", "접종자": "vaccinated",
    "note": "note", "notes": "note", "메모": "note", "비고": "note",
}  # fmt: skip
# The Korean names the upload page documents (one per column).
KOREAN_HEADERS = {
    "date": "날짜",
    "new_cases": "신규 확진자",
    "active_cases": "치료 중 환자",
    "hospitalised": "입원 환자",
    "tests_done": "검사 건수",
    "vaccinated": "백신 접종자",
    "note": "메모",
}
COLUMNS = ("date", *MEASURES, "note")


def _header_key(cell: str) -> str:
    return "".join(ch for ch in cell.strip().lower() if ch not in " _-\u00a0")


def _delimiter(first_line: str) -> str:
    """Comma, unless the header is clearly separated by semicolons or tabs (spreadsheets in some
    languages save "CSV" with semicolons)."""
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] > counts[","] else ","


def _refuse(message, problems: list[Problem] | None = None) -> FiguresRefused:
    problems = problems or [Problem(str(message))]
    shown = problems[: services.MAX_PROBLEMS]
    return FiguresRefused(message, shown, more=len(problems) - len(shown))


def _file_problem(message) -> FiguresRefused:
    return _refuse(_l("The file was not imported: %(problem)s", problem=message),
                   [Problem(str(message))])  # fmt: skip


def _decode(data: bytes) -> str:
    if len(data) > MAX_FILE_BYTES:
        raise _file_problem(
            _l("it is larger than 2 MB. Upload at most %(max)s days at a time.", max="1,100")
        )
    if b"\x00" in data:
        raise _file_problem(
            _l("it is not a CSV text file. Save the sheet as “CSV UTF-8” and upload that file.")
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise _file_problem(
            _l(
                "it is not in UTF-8 (line %(line)d is not). Save it as “CSV UTF-8” and upload "
                "it again.",
                line=line,
            )
        )
    if not text.strip():
        raise _file_problem(_l("the file is empty."))
    return text


def _columns(header: list[str]) -> list[str | None]:
    """The column of each header cell (None for an empty trailing cell), or a refusal naming the
    unknown, repeated and missing columns."""
    columns: list[str | None] = []
    unknown, repeated = [], []
    for cell in header:
        key = _header_key(cell)
        if not key:
            columns.append(None)
            continue
        column = HEADER_ALIASES.get(key)
        if column is None:
            unknown.append(cell.strip()[:40])
        elif column in columns:
            repeated.append(cell.strip()[:40])
        columns.append(column)
    problems = []
    if unknown:
        problems.append(str(_l("Unknown columns: %(columns)s.", columns=", ".join(unknown))))
    if repeated:
        problems.append(str(_l("Columns named twice: %(columns)s.", columns=", ".join(repeated))))
    if "date" not in columns:
        problems.append(str(_l("The column “date” is missing.")))
    if not unknown and "date" in columns and not any(c in MEASURES for c in columns):
        problems.append(str(_l("There is no column of figures.")))
    if problems:
        problems.append(
            str(
                _l(
                    "The first row must name the columns: date, then any of %(columns)s.",
                    columns=", ".join((*MEASURES, "note")),
                )
            )
        )
        raise _refuse(
            _l("The file was not imported: its columns are not right."),
            [Problem(p, row=1) for p in problems],
        )
    return columns


@dataclass
class ParsedRow:
    row: int
    day: date
    figures: dict[str, int | None]  # the figure columns of the file
    note: str | None  # None when the file has no note column


def read_rows(data: bytes, today: date) -> tuple[list[str], list[ParsedRow]]:
    """The columns and the checked rows of an uploaded file, or ``FiguresRefused`` listing every
    problem (row and column) when anything is wrong."""
    text = _decode(data)
    delimiter = _delimiter(text.split("\n", 1)[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    problems: list[Problem] = []
    rows: list[ParsedRow] = []
    seen: dict[date, int] = {}
    days = 0
    try:
        columns = _columns(next(reader))
        for number, record in enumerate(reader, start=2):
            if not any(cell.strip() for cell in record):
                continue
            days += 1
            if days > MAX_ROWS:
                raise _file_problem(
                    _l(
                        "it has more than %(max)s rows. Upload at most %(max)s days (about three "
                        "years) at a time.",
                        max=f"{MAX_ROWS:,}",
                    )
                )
            parsed = _parse_row(number, columns, record, today, seen, problems)
            if parsed is not None:
                rows.append(parsed)
    except csv.Error:
        raise _file_problem(
            _l(
                "line %(line)d cannot be read as CSV. Check its quotation marks.",
                line=reader.line_num,
            )
        )
    if problems:
        count = len(problems)
        raise _refuse(
            _l(
                "The file was not imported: %(count)s problems were found (listed below). "
                "Nothing was changed.",
                count=count,
            )
            if count > 1
            else _l("The file was not imported: a problem was found (below). Nothing was changed."),
            problems,
        )
    if not rows:
        raise _file_problem(_l("it has a header row but no days."))
    return [c for c in columns if c], rows


def _parse_row(number, columns, record, today, seen, problems) -> ParsedRow | None:
    cells: dict[str, str] = {}
    before = len(problems)
    for column, cell in zip(columns, record, strict=False):
        if column is not None:
            cells[column] = cell.strip()
    if len(record) > len(columns) and any(c.strip() for c in record[len(columns) :]):
        problems.append(
            Problem(str(_l("This row has more cells than the header has columns.")), row=number)
        )
    day = None
    try:
        if not cells.get("date"):
            raise ValueError(_l("The date is missing."))
        day = services.parse_day(cells["date"])
        services.check_day(day, today)
    except ValueError as error:
        problems.append(Problem(str(error), row=number, column="date"))
        day = None
    if day is not None:
        if day in seen:
            problems.append(
                Problem(
                    str(
                        _l(
                            "The date %(day)s is also on row %(row)d: give each day once.",
                            day=day.isoformat(),
                            row=seen[day],
                        )
                    ),
                    row=number,
                    column="date",
                )
            )
        else:
            seen[day] = number
    figures: dict[str, int | None] = {}
    for measure in MEASURES:
        if measure not in columns:
            continue
        try:
            figures[measure] = services.parse_count(cells.get(measure, ""))
        except ValueError as error:
            problems.append(Problem(str(error), row=number, column=measure))
    note = None
    if "note" in columns:
        try:
            note = services.clean_note(_unguard(cells.get("note", "")))
        except ValueError as error:
            problems.append(Problem(str(error), row=number, column="note"))
    if not any(cells.get(m) for m in MEASURES):
        problems.append(Problem(str(_l("This row gives no figure.")), row=number))
    if len(problems) > before or day is None:
        return None
    return ParsedRow(number, day, figures, note)


def _unguard(note: str) -> str:
    """Undo the download's guard against spreadsheet formulas (see exports.guard_cell)."""
    if note[:1] == "'" and note[1:2] in ("=", "+", "-", "@"):
        return note[1:]
    return note


@dataclass
class ImportResult:
    created: int
    updated: int
    unchanged: int
    first: date
    last: date


def import_figures(
    actor, city: City, data: bytes, filename: str = "", today: date | None = None
) -> ImportResult:
    """A delegate of the city uploads figures as CSV. Every row is checked before anything is
    written (dates year first and not in the future, no day twice, whole numbers from 0, at most
    ``MAX_ROWS`` days, 2 MB); any problem refuses the whole file with a message per row and
    column, and nothing is written. Otherwise each day's columns in the file replace the city's
    figures of that day (see the module docstring), in the caller's transaction, with one audit
    record for the upload."""
    services.require_publisher(actor, city)
    columns, rows = read_rows(data, today or services.city_today(city))
    first, last = min(r.day for r in rows), max(r.day for r in rows)
    existing = {
        row.day: row
        for row in db.session.scalars(
            select(SituationDay).where(
                SituationDay.city_id == city.id, SituationDay.day.between(first, last)
            )
        )
    }
    created = updated = 0
    for parsed in rows:
        row = existing.get(parsed.day)
        if row is None:
            row = SituationDay(
                city_id=city.id, day=parsed.day, note=parsed.note or "", entered_by_id=actor.id,
                **parsed.figures,
            )  # fmt: skip
            db.session.add(row)
            created += 1
            continue
        new = dict(parsed.figures)
        if parsed.note is not None:
            new["note"] = parsed.note
        if all(getattr(row, name) == value for name, value in new.items()):
            continue
        for name, value in new.items():
            setattr(row, name, value)
        row.entered_by_id = actor.id
        updated += 1
    services._flush()
    unchanged = len(rows) - created - updated
    audit.record(
        "situation_imported",
        city,
        actor=actor,
        details={
            "filename": (filename or "")[:255],
            "columns": columns,
            "rows": len(rows),
            "created": created,
            "updated": updated,
            "unchanged": unchanged,
            "first_day": first.isoformat(),
            "last_day": last.isoformat(),
        },
    )
    return ImportResult(created, updated, unchanged, first, last)
