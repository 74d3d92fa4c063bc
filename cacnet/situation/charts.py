"""Charts of figures per day, drawn on the server as SVG (no script, no chart service).

``build_chart`` turns a period and its series into plain geometry in a fixed viewBox that the
template ``situation/_chart.html`` draws; the SVG scales to the width of its container (phones
included), so the sizes here are in viewBox units, chosen so that the labels stay readable from a
phone's width (390 px: about 11 px text) to half a desktop page.

Counts of a day (new cases, tests, vaccinations) of one city are bars: a day without a figure has
no bar, a zero a thin one. States (active cases, people in hospital) and comparisons between
cities are lines joining the reported days, with a dot on each reported day when there are few
days or the reports are far apart. Every bar and dot carries a tooltip with its date and value; the
page puts the same numbers in a table beside the chart, which is the chart's text alternative.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from datetime import date, timedelta

from babel.dates import format_skeleton
from babel.numbers import format_compact_decimal, format_decimal
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

WIDTH, HEIGHT = 480, 280
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 14, 44
FONT_SIZE = 15
# (colour, dash pattern): every colour has at least 4.5:1 contrast on white, and the dashes tell
# the lines apart without colour.
STYLES = (
    ("#0b4f8a", ""),
    ("#b23c0b", "9 4"),
    ("#17633a", "2 3"),
    ("#7e3794", "12 3 3 3"),
    ("#1b1f24", "5 5"),
    ("#8a5a00", "1 3"),
)
MAX_SERIES = len(STYLES)
MARKERS_UP_TO = 45  # days: more, and the dots would merge into a thick line


def _locale() -> str:
    return str(get_locale() or "en")


def format_number(value: float | int, decimals: int = 0) -> str:
    if decimals:
        return format_decimal(value, format=f"#,##0.{'0' * decimals}", locale=_locale())
    return format_decimal(round(value), locale=_locale())


def format_day(day: date, with_year: bool = True) -> str:
    return format_skeleton("yMMMd" if with_year else "MMMd", day, locale=_locale())


def nice_step(raw: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten that is at least ``raw``."""
    if raw <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if factor * magnitude >= raw - 1e-12:
            return factor * magnitude
    return 10 * magnitude  # pragma: no cover - the loop always returns


def y_ticks(maximum: float, whole: bool, most: int = 6) -> list[float]:
    """Tick values from 0 to a round top at or above ``maximum``: the finest round step that
    needs at most ``most`` steps (whole steps for counts)."""
    if maximum <= 0:
        return [0, 1, 2, 3, 4] if whole else [0, 0.25, 0.5, 0.75, 1]
    step = nice_step(maximum / most)
    if whole:
        step = max(1.0, math.ceil(step))
    steps = max(1, math.ceil(maximum / step - 1e-9))
    return [round(i * step, 10) for i in range(steps + 1)]


def tick_label(value: float, step: float, compact: bool) -> str:
    """A tick's number: short (12K, 1.2만) on an axis that reaches ten thousand, so that the
    labels fit the margin; else in full, with as many decimals as the step needs."""
    if compact:
        return format_compact_decimal(value, fraction_digits=1, locale=_locale())
    decimals = 0 if float(step).is_integer() else (1 if float(step * 10).is_integer() else 2)
    return format_number(value, decimals)


def x_ticks(start: date, end: date, most: int = 5) -> list[tuple[date, str]]:
    """Dates to label along a period: every few days for up to two months, else first days of
    months (every 1, 2, 3, 6 or 12 months), at most ``most`` of them."""
    span = (end - start).days + 1
    if span <= 62:
        step = next((s for s in (1, 2, 3, 7, 14) if math.ceil(span / s) <= most), 14)
        days = [start + timedelta(days=i) for i in range(0, span, step)]
        return [(d, format_day(d, with_year=False)) for d in days]
    months = []
    cursor = date(start.year, start.month, 1)
    if cursor < start:
        cursor = _next_month(cursor)
    while cursor <= end:
        months.append(cursor)
        cursor = _next_month(cursor)
    every = next((s for s in (1, 2, 3, 6, 12, 24, 60) if math.ceil(len(months) / s) <= most), 120)
    chosen = [m for m in months if (m.year * 12 + m.month - 1) % every == 0] or months[:1]
    return [(m, format_skeleton("yMMM", m, locale=_locale())) for m in chosen]


def _next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


@dataclass
class Series:
    """One line or row of bars: ``values`` has an entry for every day of the chart's period
    (None: not reported); ``decimals`` says how to print them."""

    label: str
    values: list[float | None]
    decimals: int = 0

    def text(self, value: float) -> str:
        return format_number(value, self.decimals)


@dataclass
class Mark:
    x: float
    y: float
    width: float = 0
    height: float = 0
    tooltip: str = ""


@dataclass
class DrawnSeries:
    label: str
    colour: str
    dash: str
    path: str = ""
    bars: list[Mark] = field(default_factory=list)
    dots: list[Mark] = field(default_factory=list)


@dataclass
class Chart:
    id: str
    title: str
    description: str
    width: int
    height: int
    left: float
    top: float
    right: float
    bottom: float
    font_size: int
    x_ticks: list[tuple[float, str, str]]  # x, label, text-anchor
    y_ticks: list[tuple[float, str]]
    series: list[DrawnSeries]

    @property
    def title_id(self) -> str:
        return f"{self.id}-title"

    @property
    def desc_id(self) -> str:
        return f"{self.id}-desc"


def _summary(series: Series, days: list[date]) -> str:
    reported = [(d, v) for d, v in zip(days, series.values, strict=True) if v is not None]
    if not reported:
        return str(_l("%(series)s: no figures.", series=series.label))
    top_day, top = max(reported, key=lambda item: item[1])
    last_day, last = reported[-1]
    return str(
        _l(
            "%(series)s: highest %(top)s on %(top_day)s; latest %(last)s on %(last_day)s.",
            series=series.label,
            top=series.text(top),
            top_day=format_day(top_day),
            last=series.text(last),
            last_day=format_day(last_day),
        )
    )


def _anchored(x: float, text: str) -> tuple[float, str, str]:
    """A date label centred under its tick, unless that would cut it at an edge."""
    half = len(text) * FONT_SIZE * 0.3
    if x + half > WIDTH:
        return x, text, "end"
    if x - half < 0:
        return x, text, "start"
    return x, text, "middle"


def build_chart(
    chart_id: str,
    title: str,
    start: date,
    end: date,
    series: list[Series],
    bars: bool = False,
    table_note: str = "",
) -> Chart:
    """The geometry of a chart of ``series`` from ``start`` to ``end`` (one value per day).
    ``bars`` draws the first series as bars (one city's counts of a day); otherwise lines."""
    series = series[:MAX_SERIES]
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    n = len(days)
    left, top = LEFT, TOP
    right, bottom = WIDTH - RIGHT, HEIGHT - BOTTOM
    slot = (right - left) / n
    whole = all(s.decimals == 0 for s in series)
    maximum = max((v for s in series for v in s.values if v is not None), default=0)
    ticks = y_ticks(maximum, whole)
    scale_top = ticks[-1] or 1
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1

    def x_of(index: int) -> float:
        return round(left + (index + 0.5) * slot, 1)

    def y_of(value: float) -> float:
        return round(bottom - (value / scale_top) * (bottom - top), 1)

    drawn = []
    for number, s in enumerate(series):
        colour, dash = STYLES[number]
        out = DrawnSeries(s.label, colour, dash)
        reported = [(i, v) for i, v in enumerate(s.values) if v is not None]
        if bars and number == 0:
            width = round(slot * 0.8 if slot >= 3 else slot, 2)
            for i, v in reported:
                height = max(bottom - y_of(v), 1.5)
                out.bars.append(
                    Mark(
                        round(x_of(i) - width / 2, 2), round(bottom - height, 1), width,
                        round(height, 1), f"{format_day(days[i])}: {s.text(v)}",
                    )
                )  # fmt: skip
        else:
            out.path = " ".join(
                f"{'M' if k == 0 else 'L'}{x_of(i)} {y_of(v)}" for k, (i, v) in enumerate(reported)
            )
            # Reports far apart (weekly, say): the dots show which days the line joins.
            gaps = sum(1 for (a, _), (b, _) in itertools.pairwise(reported) if b - a > 1)
            if n <= MARKERS_UP_TO or gaps * 2 > len(reported) or len(reported) == 1:
                out.dots = [
                    Mark(x_of(i), y_of(v), tooltip=f"{s.label}, {format_day(days[i])}: {s.text(v)}")
                    for i, v in reported
                ]
        drawn.append(out)

    label_x = {d: i for i, d in enumerate(days)}
    description = " ".join(
        [
            str(
                _l(
                    "%(title)s from %(start)s to %(end)s.",
                    title=title,
                    start=format_day(start),
                    end=format_day(end),
                )
            ),
            *(_summary(s, days) for s in series),
            table_note,
        ]
    ).strip()
    return Chart(
        id=chart_id,
        title=title,
        description=description,
        width=WIDTH,
        height=HEIGHT,
        left=left,
        top=top,
        right=right,
        bottom=bottom,
        font_size=FONT_SIZE,
        x_ticks=[_anchored(x_of(label_x[d]), text) for d, text in x_ticks(start, end)],
        y_ticks=[(y_of(v), tick_label(v, step, scale_top >= 10_000)) for v in ticks],
        series=drawn,
    )


def measure_chart(city, measure: str, rows, start: date, end: date, chart_id: str) -> Chart:
    """The chart of one figure of a city (``rows``: its SituationDays of the period)."""
    from cacnet.situation.models import DAILY_FLOWS
    from cacnet.situation.services import measure_label

    by_day = {r.day: getattr(r, measure) for r in rows}
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    label = measure_label(measure)
    return build_chart(
        chart_id,
        str(_l("%(measure)s in %(city)s", measure=label, city=city.name_en)),
        start,
        end,
        [Series(label, [by_day.get(d) for d in days])],
        bars=measure in DAILY_FLOWS,
        table_note=str(_l("The figures are also in a table on this page.")),
    )
