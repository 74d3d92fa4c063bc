from __future__ import annotations

import hashlib
import json
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cacnet.core.db import TimestampMixin, UTCDateTime, db


class StatementVersion(TimestampMixin, db.Model):
    """One version of the Statement's text, in English and Korean.

    A draft can be edited; publishing stamps ``published_at`` and the SHA-256 of the text, and from
    then on the row cannot change: a database trigger refuses any UPDATE of a published version
    (migration 0005), so no code path, present or future, can alter what cities endorsed.
    """

    __tablename__ = "statement_versions"
    __table_args__ = (
        CheckConstraint("number > 0", name="number_positive"),
        CheckConstraint(
            "(published_at IS NULL) = (text_sha256 IS NULL)", name="published_has_hash"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, nullable=False, unique=True)
    title_en: Mapped[str] = mapped_column(String(300), nullable=False)
    title_ko: Mapped[str] = mapped_column(String(300), nullable=False)
    body_en: Mapped[str] = mapped_column(Text, nullable=False)
    body_ko: Mapped[str] = mapped_column(Text, nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    published_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    text_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)

    published_by = relationship("User")

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    def canonical_text(self) -> bytes:
        return canonical_text(self.title_en, self.body_en, self.title_ko, self.body_ko)


def canonical_text(title_en: str, body_en: str, title_ko: str, body_ko: str) -> bytes:
    """The bytes a version's SHA-256 is taken over: a JSON object with sorted keys, no spaces,
    UTF-8, line endings normalised to LF. Documented so anyone can recompute the hash."""

    def norm(text: str) -> str:
        return text.replace("\r\n", "\n").replace("\r", "\n").strip()

    data = {"body_en": norm(body_en), "body_ko": norm(body_ko), "title_en": norm(title_en),
            "title_ko": norm(title_ko)}  # fmt: skip
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def text_sha256(version: StatementVersion) -> str:
    return hashlib.sha256(version.canonical_text()).hexdigest()
