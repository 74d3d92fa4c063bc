"""Cursor pagination: ``?limit=`` (1 to 100, default 50) and an opaque ``?cursor=``.

A cursor is the base64url of a small JSON array: the name of the sort and the sort key of the last
row served. The next page is the rows after that key in the same order (a keyset query, which an
index serves at any depth, and which neither skips nor repeats a row when rows are added
meanwhile). Every order ends with the primary key, so keys are unique.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, or_

from cacnet.api.errors import ApiError
from cacnet.core.db import db

DEFAULT_LIMIT = 50
MAX_LIMIT = 100


@dataclass(frozen=True)
class SortKey:
    """One column of an order: the SQL expression, its direction, how to read it from a row, and
    the Python type of its values (int, str, date, datetime, or an enum class)."""

    column: Any
    read: Callable[[Any], Any]
    kind: type = str
    descending: bool = False


def invalid_cursor() -> ApiError:
    return ApiError(
        400,
        "invalid_cursor",
        _("This cursor is not valid: start again without one."),
        {"cursor": [_("This cursor is not valid: start again without one.")]},
    )


def _dump(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _load(value: Any, kind: type) -> Any:
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(value)
        return value
    if not isinstance(value, str):
        raise ValueError(value)
    if kind is datetime:
        loaded = datetime.fromisoformat(value)
        return loaded if loaded.tzinfo else loaded.replace(tzinfo=UTC)
    if kind is date:
        return date.fromisoformat(value)
    if issubclass(kind, enum.Enum):
        return kind(value)
    return value


def encode_cursor(sort: str, values: Sequence[Any]) -> str:
    raw = json.dumps([sort, [_dump(v) for v in values]], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str, keys: Sequence[SortKey]) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        name, values = json.loads(raw)
        if name != sort or not isinstance(values, list) or len(values) != len(keys):
            raise ValueError(cursor)
        return [_load(v, k.kind) for v, k in zip(values, keys, strict=True)]
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError, RecursionError):
        raise invalid_cursor()


def _after(keys: Sequence[SortKey], values: Sequence[Any]):
    """Rows that come after ``values`` in the order of ``keys``."""
    alternatives = []
    for i, key in enumerate(keys):
        same = [k.column == v for k, v in zip(keys[:i], values[:i], strict=True)]
        beyond = key.column < values[i] if key.descending else key.column > values[i]
        alternatives.append(and_(*same, beyond))
    return or_(*alternatives)


def paginate(stmt, keys: Sequence[SortKey], args: dict, sort: str = "default"):
    """(rows, next_cursor) of the page ``args`` (the checked query parameters) asks for.
    ``stmt`` must already be ordered by ``keys``."""
    limit = args.get("limit", DEFAULT_LIMIT)
    if args.get("cursor"):
        stmt = stmt.where(_after(keys, decode_cursor(args["cursor"], sort, keys)))
    rows = list(db.session.scalars(stmt.limit(limit + 1)))
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(sort, [key.read(rows[-1]) for key in keys])


def page_body(data: list, next_cursor: str | None, **extra) -> dict:
    return {"data": data, "next_cursor": next_cursor, **extra}
