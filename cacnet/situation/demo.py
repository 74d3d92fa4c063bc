"""Six weeks of figures for a few founding cities (seed-demo), so that their pages show charts
and the comparison has something to compare. Uploaded through the real import, as each city's
administrator (<city>@cities.example); a city that already has figures is left alone."""

from __future__ import annotations

import math
from datetime import timedelta

from sqlalchemy import select

from cacnet.accounts.models import User
from cacnet.core.db import db
from cacnet.situation import imports, services
from cacnet.situation.models import SituationDay

DAYS = 42
# (administrator, peak of new cases, day of the peak, share of tests positive, vaccinations a day)
DEMO_CITIES = [
    ("seoul", 420, 24, 0.02, 45_000),
    ("london", 610, 30, 0.04, 38_000),
    ("jakarta", 1300, 16, 0.09, 60_000),
    ("toronto", 180, 35, 0.03, 12_000),
]
NOTES = {6: "Public holiday: fewer tests.", 20: "New testing sites opened in every district."}


def _figures(peak: int, peak_day: int, positive: float, vaccinations: int) -> list[str]:
    """CSV rows of a wave: new cases rise and fall around the peak, with fewer reports at the
    weekends; active cases are about ten days of new cases; one in ten active cases is in
    hospital."""
    rows = []
    history: list[int] = []
    for i in range(DAYS):
        weekend = 0.75 if i % 7 in (5, 6) else 1.0
        wave = peak * math.exp(-(((i - peak_day) / 11) ** 2)) + peak * 0.12
        new = round(wave * weekend)
        history.append(new)
        active = sum(history[-10:])
        rows.append(
            f"{i},{new},{active},{round(active * 0.1)},{round(new / positive)},"
            f"{round(vaccinations * weekend * (1 + i / 60))},{NOTES.get(i, '')}"
        )
    return rows


def seed_situation() -> int:
    """Upload the demo figures; returns how many cities got some."""
    seeded = 0
    for slug, peak, peak_day, positive, vaccinations in DEMO_CITIES:
        admin = db.session.scalar(select(User).where(User.email == f"{slug}@cities.example"))
        if admin is None or not admin.acts_for_active_city:
            continue
        city = admin.city
        if db.session.scalar(select(SituationDay.id).where(SituationDay.city_id == city.id)):
            continue
        last = services.city_today(city) - timedelta(days=1)
        first = last - timedelta(days=DAYS - 1)
        lines = [",".join(imports.COLUMNS)]
        for row in _figures(peak, peak_day, positive, vaccinations):
            offset, rest = row.split(",", 1)
            lines.append(f"{(first + timedelta(days=int(offset))).isoformat()},{rest}")
        data = ("\n".join(lines) + "\n").encode("utf-8")
        imports.import_figures(admin, city, data, filename="demo.csv")
        seeded += 1
    return seeded
