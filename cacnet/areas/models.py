"""An area of work, named in English and Korean, in the order the secretariat gives it."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cacnet.core.db import TimestampMixin, db


class Area(TimestampMixin, db.Model):
    __tablename__ = "areas"
    __table_args__ = (
        CheckConstraint("length(trim(name_en)) > 0", name="name_en_present"),
        CheckConstraint("length(trim(name_ko)) > 0", name="name_ko_present"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True, nullable=False)
    name_en: Mapped[str] = mapped_column(String(120), unique=True, nullable=False)
    name_ko: Mapped[str] = mapped_column(String(120), unique=True, nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=100)

    def name(self, locale: str | None = None) -> str:
        if locale is None:
            from cacnet.core.i18n import current_language

            locale = current_language()
        return self.name_ko if locale == "ko" else self.name_en

    def __str__(self) -> str:
        return self.name()
