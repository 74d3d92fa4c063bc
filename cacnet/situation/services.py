"""Every change of a city's situation figures, and the reads the pages, charts and downloads share.

A change is made only by a delegate of the city itself while its membership is approved (not
suspended); it checks the actor, validates everything before writing anything, writes, and adds an
audit record (on the city: a deleted day leaves no row to point at). The caller commits; a refused
change raises ``ServiceError`` and writes nothing, so the caller's rollback leaves no trace.

The figures are public, like the city page they belong to: anyone may read and download them.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from cacnet.cities.models import City
from cacnet.core import audit
from cacnet.core.db import db
from cacnet.core.errors import PermissionDenied, ServiceError, StateConflict
from cacnet.situation.models import MAX_COUNT, MAX_NOTE, MEASURES, SituationDay

MEASURE_LABELS = {
    "new_cases": _l("New cases"),
    "active_cases": _l("Active cases"),
    "hospitalised": _l("Hospitalised"),
    "tests_done": _l("Tests done"),
    "vaccinated": _l("Vaccinated"),
}
MEASURE_HINTS = {
    "new_cases": _l("People newly confirmed as infected on that day."),
    "active_cases": _l("People infected and not yet recovered at the end of the day."),
    "hospitalised": _l("People in hospital with the disease at the end of the day."),
    "tests_done": _l("Tests carried out on that day."),
    "vaccinated": _l("People vaccinated on that day."),
}
# The oldest day a city may report (a typo such as 0201 for 2021 is refused, not stored).
FIRST_DAY = date(2000, 1, 1)
# Where the day starts first: a city without a time zone is refused only days that have not yet
# begun anywhere.
EARLIEST_ZONE = timezone(timedelta(hours=14))
PER = 100_000  # the comparison's "per 100,000 inhabitants"


def measure_label(measure: str) -> str:
    return str(MEASURE_LABELS.get(measure, measure))


# --- who may do what ---------------------------------------------------------------------------


def can_publish(viewer, city: City) -> bool:
    """A delegate (or city admin) of ``city`` while it is an approved member."""
    return (
        viewer is not None
        and getattr(viewer, "is_authenticated", False)
        and viewer.city_id == city.id
        and city.merged_into_id is None
        and viewer.acts_for_active_city
    )


def require_publisher(actor, city: City) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise PermissionDenied(_l("Sign in as a delegate of the city to publish its figures."))
    if actor.city_id != city.id or city.merged_into_id is not None:
        raise PermissionDenied(
            _l("Only the delegates of %(city)s can publish its figures.", city=city.name_en)
        )
    if not actor.acts_for_active_city:
        raise PermissionDenied(
            _l("Your city's membership is not active, so you cannot act for the city.")
        )


# --- values ------------------------------------------------------------------------------------

_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]")
_GROUPED = re.compile(r"\d{1,3}(,\d{3})+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DAY = re.compile(r"(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})\.?")


def parse_count(value) -> int | None:
    """A count of people or tests: a whole number from 0 to 1,000,000,000, or None for an empty
    value. Thousands may be grouped with commas (12,345) or spaces (12 345); a point is refused,
    as 1.234 means a thousand in some countries and one in others. Raises ValueError with the
    message to show."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    else:
        text = _SPACES.sub("", str(value))
    if not text:
        return None
    if _GROUPED.fullmatch(text):
        text = text.replace(",", "")
    if re.fullmatch(r"-\s*[\d,.]+", text):
        raise ValueError(_l("A count cannot be negative."))
    if re.fullmatch(r"\+?\d+", text):
        number = int(text)
        if number > MAX_COUNT:
            raise ValueError(_l("That number is too large (at most 1,000,000,000)."))
        return number
    if re.fullmatch(r"\d+[.,]\d+", text):
        raise ValueError(
            _l("Enter a whole number without decimals; write a thousand as 1000 or 1,000.")
        )
    raise ValueError(_l("Enter a whole number, such as 1250."))


def parse_day(value) -> date:
    """A date written year first: 2021-03-15 (also 2021/03/15 or 2021. 3. 15.). Day-first and
    month-first dates are refused, as 03/04/2021 means different days in different countries."""
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    match = _DAY.fullmatch(text)
    if match:
        try:
            return date(*(int(part) for part in match.groups()))
        except ValueError:
            pass
    raise ValueError(_l("Write the date as year-month-day, such as 2021-03-15."))


def city_today(city: City, now: datetime | None = None) -> date:
    """Today in the city's time zone (in the earliest zone when the city has none)."""
    now = now or datetime.now(UTC)
    zone = EARLIEST_ZONE
    if city.timezone:
        with contextlib.suppress(ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo(city.timezone)
    return now.astimezone(zone).date()


def check_day(day: date, today: date) -> None:
    if day > today:
        raise ValueError(_l("The date is in the future: give figures only for days that are over."))
    if day < FIRST_DAY:
        raise ValueError(_l("Give a date from 1 January 2000 on."))


def clean_note(value) -> str:
    text = str(value or "").strip().replace("\r\n", "\n")
    if len(text) > MAX_NOTE:
        raise ValueError(_l("Keep the note to %(max)d characters.", max=MAX_NOTE))
    if _CONTROL.search(text):
        raise ValueError(_l("The note contains control characters; use plain text."))
    return text


# --- errors that name every wrong field --------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: ``row`` is the file's row (the header is row 1; None for
    the file as a whole or a form), ``column`` a field or CSV column (None for the whole row)."""

    message: str
    row: int | None = None
    column: str | None = None


class FiguresRefused(ServiceError):
    """The input has problems; ``problems`` lists every one (up to ``MAX_PROBLEMS``). Nothing
    was written."""

    def __init__(self, message, problems: list[Problem], more: int = 0):
        first = problems[0] if problems else None
        super().__init__(message, field=first.column if first and first.row is None else None)
        self.problems = problems
        self.more = more


MAX_PROBLEMS = 100


# --- one day by hand ---------------------------------------------------------------------------


@dataclass
class DayFigures:
    """What a delegate entered for a day: the figures as typed (text or numbers; empty for not
    reported) and a note."""

    day: date | str | None
    new_cases: object = None
    active_cases: object = None
    hospitalised: object = None
    tests_done: object = None
    vaccinated: object = None
    note: str = ""


def _validate_day(data: DayFigures, today: date) -> tuple[date, dict[str, int | None], str]:
    problems: list[Problem] = []
    day = None
    if data.day in (None, ""):
        problems.append(Problem(str(_l("Give the date of the figures.")), column="day"))
    else:
        try:
            day = parse_day(data.day)
            check_day(day, today)
        except ValueError as error:
            problems.append(Problem(str(error), column="day"))
    figures: dict[str, int | None] = {}
    for measure in MEASURES:
        try:
            figures[measure] = parse_count(getattr(data, measure))
        except ValueError as error:
            problems.append(Problem(str(error), column=measure))
    note = ""
    try:
        note = clean_note(data.note)
    except ValueError as error:
        problems.append(Problem(str(error), column="note"))
    if not any(p.column in MEASURES for p in problems) and all(v is None for v in figures.values()):
        problems.append(
            Problem(str(_l("Give at least one figure for the day.")), column=MEASURES[0])
        )
    if problems:
        raise FiguresRefused(_l("The figures were not saved. Correct the marked fields."), problems)
    return day, figures, note


def day_row(city: City, day: date) -> SituationDay | None:
    return db.session.scalar(
        select(SituationDay).where(SituationDay.city_id == city.id, SituationDay.day == day)
    )


def _flush() -> None:
    try:
        db.session.flush()
    except IntegrityError:
        # Another request stored the same city and day between our read and our write.
        raise StateConflict(
            _l("Someone else saved figures for the same day at the same moment. Try again.")
        )


def record_day(actor, city: City, data: DayFigures, today: date | None = None) -> str:
    """A delegate of the city sets its figures for one day: creates the day, or replaces all its
    figures and its note (a field left empty is then "not reported"). Refuses negative counts,
    text that is not a whole number, days in the future (in the city's time zone) and a day
    without any figure, naming every wrong field. Returns "created", "updated" or "unchanged"."""
    require_publisher(actor, city)
    day, figures, note = _validate_day(data, today or city_today(city))
    row = day_row(city, day)
    if row is None:
        row = SituationDay(city_id=city.id, day=day, note=note, entered_by_id=actor.id, **figures)
        db.session.add(row)
        _flush()
        audit.record("situation_day_recorded", city, actor=actor,
                     details={"day": day.isoformat(), "new": {**figures, "note": note}})  # fmt: skip
        return "created"
    old = {**row.figures(), "note": row.note}
    new = {**figures, "note": note}
    if old == new:
        return "unchanged"
    for name, value in new.items():
        setattr(row, name, value)
    row.entered_by_id = actor.id
    _flush()
    audit.record("situation_day_recorded", city, actor=actor,
                 details={"day": day.isoformat(), "old": old, "new": new})  # fmt: skip
    return "updated"


def delete_day(actor, city: City, day: date) -> None:
    """A delegate of the city takes a day's figures off (entered by mistake)."""
    require_publisher(actor, city)
    row = day_row(city, day)
    if row is None:
        raise StateConflict(_l("There are no figures for that day."))
    old = {**row.figures(), "note": row.note}
    db.session.delete(row)
    db.session.flush()
    audit.record("situation_day_deleted", city, actor=actor,
                 details={"day": day.isoformat(), "old": old})  # fmt: skip


# --- reading -----------------------------------------------------------------------------------


def days_between(city_id: int, start: date | None, end: date | None) -> list[SituationDay]:
    """The city's reported days from ``start`` to ``end`` (both included; None: no bound), oldest
    first."""
    query = select(SituationDay).where(SituationDay.city_id == city_id)
    if start is not None:
        query = query.where(SituationDay.day >= start)
    if end is not None:
        query = query.where(SituationDay.day <= end)
    return list(db.session.scalars(query.order_by(SituationDay.day)))


def reported_span(city_id: int) -> tuple[date | None, date | None]:
    """The first and the last day the city reported (None, None when it never did)."""
    first, last = db.session.execute(
        select(func.min(SituationDay.day), func.max(SituationDay.day)).where(
            SituationDay.city_id == city_id
        )
    ).one()
    return first, last


def measures_present(rows: list[SituationDay]) -> list[str]:
    return [m for m in MEASURES if any(getattr(r, m) is not None for r in rows)]


def cities_with_figures() -> list[City]:
    """Cities that have published figures (and are not merged into another), by name."""
    reporting = select(SituationDay.city_id).distinct().scalar_subquery()
    return list(
        db.session.scalars(
            select(City)
            .where(City.id.in_(reporting), City.merged_into_id.is_(None))
            .order_by(City.name_en, City.id)
        )
    )


# --- comparison --------------------------------------------------------------------------------


def per_100k(value: int | None, population: int) -> Decimal | None:
    """``value`` per 100,000 inhabitants, rounded half up to two decimals."""
    if value is None:
        return None
    return (Decimal(value) * PER / Decimal(population)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )


@dataclass
class ComparedCity:
    city: City
    # Every day of the period in order, with the figure per 100,000 (None: not reported).
    values: list[tuple[date, Decimal | None]] = field(default_factory=list)
    raw: dict[date, int] = field(default_factory=dict)


@dataclass
class Comparison:
    measure: str
    start: date
    end: date
    compared: list[ComparedCity]
    not_comparable: list[City]  # no population known


def compare(cities: list[City], measure: str, start: date, end: date) -> Comparison:
    """The figures of ``measure`` for each city per 100,000 of its population, day by day from
    ``start`` to ``end``. A city without a population (or a population of 0) cannot be compared
    and is listed apart."""
    if measure not in MEASURES:
        raise ServiceError(_l("Choose one of the figures."), field="measure")
    compared = [c for c in cities if c.population]
    not_comparable = [c for c in cities if not c.population]
    column = getattr(SituationDay, measure)
    rows = db.session.execute(
        select(SituationDay.city_id, SituationDay.day, column).where(
            SituationDay.city_id.in_([c.id for c in compared]),
            SituationDay.day.between(start, end),
            column.is_not(None),
        )
    ).all()
    raw: dict[int, dict[date, int]] = {c.id: {} for c in compared}
    for city_id, day, value in rows:
        raw[city_id][day] = value
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    result = []
    for city in compared:
        figures = raw[city.id]
        values = [(d, per_100k(figures.get(d), city.population)) for d in days]
        result.append(ComparedCity(city, values, figures))
    return Comparison(measure, start, end, result, not_comparable)
