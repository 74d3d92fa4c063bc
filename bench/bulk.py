"""Bulk loading for the benchmarks: COPY rows into a table, and member cities in one go.

``copy_rows`` streams tuples into PostgreSQL with ``COPY … FROM STDIN`` on the connection of a
SQLAlchemy ``Connection`` (so it joins that connection's transaction): hundreds of thousands of
rows in seconds, where executemany needs minutes. ``insert_member_cities`` inserts generated cities
(``bench.directory.generate``), an approved membership for each and, optionally, their contacts,
as ``bench.directory`` and ``bench.signatories`` do, and returns the new ids. ``reset_sequence``
moves a serial column's sequence past rows COPYed with explicit ids.

Used by ``bench.resources``; the older benchmarks keep their own loaders (unchanged).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any


def copy_rows(conn, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """COPY ``rows`` (tuples in the order of ``columns``) into ``table``; how many were sent."""
    from psycopg import sql

    raw = conn.connection.driver_connection  # the psycopg connection under SQLAlchemy's
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    )
    count = 0
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def reset_sequence(conn, table: str, column: str = "id") -> None:
    """After rows with explicit ids: the next default id follows the largest one."""
    from sqlalchemy import text

    conn.execute(
        text(
            f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "  # noqa: S608 - our names
            f"(SELECT coalesce(max({column}), 0) + 1 FROM {table}), false)"
        )
    )


def insert_member_cities(
    conn, city_rows: list[dict], applicant_id: int, contact_rows: list[list[dict]] | None = None
) -> tuple[list[int], list[list[int]]]:
    """Insert the cities, an approved membership each (applied for and decided by
    ``applicant_id``) and, when given, each city's contacts. Returns the city ids (in the order of
    ``city_rows``) and, per city, the ids of its contacts (empty lists without contacts)."""
    from sqlalchemy import insert

    import cacnet.cities.models as cities_models
    import cacnet.membership.models as membership_models

    cities_t = cities_models.City.__table__
    contacts_t = cities_models.Contact.__table__
    memberships_t = membership_models.Membership.__table__

    ids = conn.execute(
        insert(cities_t).returning(cities_t.c.id, sort_by_parameter_order=True), city_rows
    ).scalars().all()  # fmt: skip
    memberships = []
    for city_id, city in zip(ids, city_rows, strict=True):
        decided = city["created_at"]
        memberships.append(
            {
                "state": "approved",
                "city_name_en": city["name_en"],
                "city_name_local": city["name_local"],
                "city_name_key": membership_models.city_name_key(city["name_en"]),
                "country_code": city["country_code"],
                "region": city["region"],
                "population": city["population"],
                "website": city["website"],
                "applicant_id": applicant_id,
                "letter_sha256": None,
                "letter_filename": None,
                "letter_size": None,
                "reason": "",
                "submitted_at": decided - timedelta(days=3),
                "decided_at": decided,
                "decided_by_id": applicant_id,
                "city_id": city_id,
                "version": 1,
                "uuid": str(uuid.UUID(int=(city_id * 7919) << 64 | city_id, version=4)),
                "created_at": decided - timedelta(days=4),
                "updated_at": decided,
            }
        )
    conn.execute(insert(memberships_t), memberships)
    contact_ids: list[list[int]] = [[] for _ in ids]
    if contact_rows:
        flat = [
            (i, {"city_id": city_id, **contact})
            for i, (city_id, own) in enumerate(zip(ids, contact_rows, strict=True))
            for contact in own
        ]
        new = conn.execute(
            insert(contacts_t).returning(contacts_t.c.id, sort_by_parameter_order=True),
            [row for _, row in flat],
        ).scalars().all()  # fmt: skip
        for (i, _row), contact_id in zip(flat, new, strict=True):
            contact_ids[i].append(contact_id)
    return list(ids), contact_ids
