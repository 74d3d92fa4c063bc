"""A city's situation: one row per city and day with whichever of the five figures the city
reports, and a note.

Every figure is optional (a city may report only new cases, or only vaccinations), but a day
without any figure is not stored. Counts are whole numbers of people or tests, never negative.
What each figure means is in ``MEASURES`` (the CSV header names are the column names).

There is no separate "publication" object: a day's note explains that day's figures (a change of
testing policy, a reporting backlog), and the audit log records each publication (who, when,
which days), by hand or by file.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cacnet.core.db import TimestampMixin, db

# The figures, in the order of the CSV columns, the table and the charts.
MEASURES = ("new_cases", "active_cases", "hospitalised", "tests_done", "vaccinated")
# Counts of a day (bars); the others are the state at the end of the day (lines).
DAILY_FLOWS = frozenset({"new_cases", "tests_done", "vaccinated"})
MAX_COUNT = 1_000_000_000
MAX_NOTE = 1000


def _checks() -> tuple:
    non_negative = tuple(
        CheckConstraint(f"{m} IS NULL OR ({m} >= 0 AND {m} <= {MAX_COUNT})", name=f"{m}_range")
        for m in MEASURES
    )
    some_figure = CheckConstraint(
        " OR ".join(f"{m} IS NOT NULL" for m in MEASURES), name="some_figure"
    )
    return (*non_negative, some_figure)


class SituationDay(TimestampMixin, db.Model):
    """What a city reported for one day. ``entered_by`` is who last changed it, ``updated_at``
    when."""

    __tablename__ = "situation_days"
    __table_args__ = (
        # Also the index of every read: a city's days in order, several cities over a period.
        UniqueConstraint("city_id", "day"),
        *_checks(),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    city_id: Mapped[int] = mapped_column(
        ForeignKey("cities.id", ondelete="CASCADE"), nullable=False
    )
    day: Mapped[date] = mapped_column(Date, nullable=False)
    new_cases: Mapped[int | None] = mapped_column(Integer, nullable=True)
    active_cases: Mapped[int | None] = mapped_column(Integer, nullable=True)
    hospitalised: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tests_done: Mapped[int | None] = mapped_column(Integer, nullable=True)
    vaccinated: Mapped[int | None] = mapped_column(Integer, nullable=True)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    entered_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )

    city = relationship("City")
    entered_by = relationship("User")

    def __repr__(self) -> str:
        return f"<SituationDay {self.city_id} {self.day}>"

    def figures(self) -> dict[str, int | None]:
        return {m: getattr(self, m) for m in MEASURES}
