"""The secretariat's import of a list of cities from a CSV file.

An import goes through these states::

    validating --> ready --> applying --> done
         |           |           |
         +-----------+-----------+--> cancelled
    validating, applying --> failed   (an error in the worker; nothing written)

``start_import`` checks the file itself in the request (size, UTF-8, header, number of rows: a
refusal is immediate and writes nothing), stores its rows in ``<instance>/imports/<uuid>.json``
and records a ``CityImport``. After the caller's commit a worker thread (``run_import_job``) checks
every row with the profile's rules and matches it to the directory by its slug, committing its
progress every ``BATCH_ROWS`` rows, and leaves a preview. Nothing touches the cities until an
officer confirms (``confirm_import``); then the worker checks the rows again against the directory
as it is now (progress again) and writes every change in one transaction at the end, so an import
is applied entirely or not at all: a crash, a conflict or a cancel in the middle rolls it all back.
Changes are not written while any row has an error: the officer fixes the file and uploads it again.

The worker is a daemon thread with its own app context and database session. With
``CITY_IMPORT_SYNC = True`` (tests) the same work runs inline, right after the commit that started
it; ``wait_for`` joins a thread, for tests that run the real thing. A thread that dies with its
process leaves the import ``validating`` or ``applying`` with nothing written; it can be cancelled.
"""

from __future__ import annotations

import csv
import enum
import io
import json
import logging
import math
import os
import re
import threading
from dataclasses import fields as dataclass_fields
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import pycountry
from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Text,
    event,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from cacnet.cities.models import City, make_slug
from cacnet.cities.services import ProfileData, validate_profile
from cacnet.core import audit
from cacnet.core.db import UTCDateTime, UUIDMixin, db, str_enum, utcnow
from cacnet.core.errors import ServiceError, StateConflict
from cacnet.core.permissions import require_secretariat

log = logging.getLogger(__name__)

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 20_000
BATCH_ROWS = 500  # rows checked between two progress commits
PREVIEW_LIMIT = 200  # rows of each kind listed on the preview page

REQUIRED_COLUMNS = ("name", "country", "population", "latitude", "longitude", "website")
OPTIONAL_COLUMNS = ("name_local", "region")
# CSV column -> City / ProfileData attribute.
COLUMN_FIELDS = {
    "name": "name_en",
    "name_local": "name_local",
    "country": "country_code",
    "region": "region",
    "population": "population",
    "latitude": "latitude",
    "longitude": "longitude",
    "website": "website",
}
FIELD_COLUMNS = {f: c for c, f in COLUMN_FIELDS.items()}
TEXT_LIMITS = {"name": 200, "name_local": 200, "region": 200, "website": 500}


class ImportState(enum.StrEnum):
    VALIDATING = "validating"
    READY = "ready"
    APPLYING = "applying"
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"


# The worker is busy in these states; the status page polls.
RUNNING_STATES = (ImportState.VALIDATING, ImportState.APPLYING)
# An officer may still cancel in these (in ``applying`` too: the worker then rolls back).
CANCELLABLE_STATES = (ImportState.VALIDATING, ImportState.READY, ImportState.APPLYING)


class CityImport(UUIDMixin, db.Model):
    """One upload of a CSV list of cities and what became of it. The rows themselves live in a
    JSON file beside the instance (see ``rows_path``) until the import is done or cancelled."""

    __tablename__ = "city_imports"
    __table_args__ = (
        CheckConstraint("total_rows >= 0", name="total_rows_positive"),
        CheckConstraint(
            "processed_rows >= 0 AND processed_rows <= total_rows", name="processed_rows_range"
        ),
        Index("ix_city_imports_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_by_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    state: Mapped[ImportState] = mapped_column(
        str_enum(ImportState, "state"), nullable=False, default=ImportState.VALIDATING
    )
    total_rows: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    processed_rows: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # filename, columns, counts per action; after confirmation who confirmed; at the end results.
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    # Why the import failed, in the officer's language.
    error: Mapped[str] = mapped_column(Text, nullable=False, default="")

    created_by = relationship("User", foreign_keys=[created_by_id])

    def __repr__(self) -> str:
        return f"<CityImport {self.uuid} {self.state}>"

    @property
    def is_running(self) -> bool:
        return self.state in RUNNING_STATES

    @property
    def counts(self) -> dict[str, int]:
        return {"create": 0, "update": 0, "unchanged": 0, "error": 0} | dict(
            self.summary.get("counts") or {}
        )


# --- the file ----------------------------------------------------------------------------------


def _folder() -> Path:
    return Path(current_app.instance_path) / "imports"


def rows_path(job: CityImport) -> Path:
    return _path_for(job.uuid)


def _path_for(uuid: str) -> Path:
    return _folder() / f"{uuid}.json"


def _write_json(path: Path, content: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)


def _read_json(job: CityImport) -> dict:
    try:
        return json.loads(rows_path(job).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StateConflict(
            _l("The rows of this import are no longer on the server. Upload the file again.")
        )


def _delimiter(first_line: str) -> str:
    """Comma, unless the header is clearly separated by semicolons or tabs (spreadsheets in some
    languages save "CSV" with semicolons)."""
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] > counts[","] else ","


def _column_list(names) -> str:
    return ", ".join(names)


def read_csv(data: bytes) -> tuple[list[str], list[dict]]:
    """The columns and rows of an uploaded file, or a ServiceError (on the ``file`` field) saying
    what is wrong with the file as a whole. Rows are ``{"row": n, "cells": {column: text}}``, ``n``
    being the row number a spreadsheet shows (the header is row 1); empty rows are left out."""
    if len(data) > MAX_IMPORT_BYTES:
        raise ServiceError(
            _l("The file is larger than 5 MB. Split the list into smaller files."), field="file"
        )
    if b"\x00" in data:
        raise ServiceError(
            _l(
                "This is not a CSV text file. Export the list from your spreadsheet as "
                "“CSV UTF-8 (comma delimited)” and upload that file."
            ),
            field="file",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ServiceError(
            _l(
                "The file is not in UTF-8 (the first character that is not is on line "
                "%(line)d). Save it as “CSV UTF-8” and upload it again.",
                line=line,
            ),
            field="file",
        )
    if not text.strip():
        raise ServiceError(_l("The file is empty."), field="file")
    delimiter = _delimiter(text.split("\n", 1)[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
        columns = [c.strip().lower().replace(" ", "_") for c in header]
        _check_header(columns)
        rows: list[dict] = []
        for number, record in enumerate(reader, start=2):
            if not any(cell.strip() for cell in record):
                continue
            if len(rows) == MAX_IMPORT_ROWS:
                raise ServiceError(
                    _l(
                        "The file has more than %(max)s rows. Split the list into files of at "
                        "most %(max)s rows.",
                        max=f"{MAX_IMPORT_ROWS:,}",
                    ),
                    field="file",
                )
            cells = {c: v for c, v in zip(columns, record, strict=False) if c}
            row = {"row": number, "cells": cells}
            if len(record) > len(columns) and any(v.strip() for v in record[len(columns) :]):
                row["extra_cells"] = True
            rows.append(row)
    except csv.Error:
        raise ServiceError(
            _l(
                "Line %(line)d of the file cannot be read as CSV. Check its quotation marks.",
                line=reader.line_num,
            ),
            field="file",
        )
    if not rows:
        raise ServiceError(_l("The file has a header row but no cities."), field="file")
    return [c for c in columns if c], rows


def _check_header(columns: list[str]) -> None:
    known = (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    unknown = [c for c in columns if c and c not in known]
    repeated = sorted({c for c in columns if c and columns.count(c) > 1})
    if not (missing or unknown or repeated):
        return
    problems = []
    if missing:
        problems.append(str(_l("Missing columns: %(columns)s.", columns=_column_list(missing))))
    if unknown:
        problems.append(str(_l("Unknown columns: %(columns)s.", columns=_column_list(unknown))))
    if repeated:
        problems.append(
            str(_l("Columns named twice: %(columns)s.", columns=_column_list(repeated)))
        )
    problems.append(
        str(
            _l(
                "The first row must name the columns %(required)s; %(optional)s may be added.",
                required=_column_list(REQUIRED_COLUMNS),
                optional=_column_list(OPTIONAL_COLUMNS),
            )
        )
    )
    raise ServiceError(" ".join(problems), field="file")


# --- the rows ----------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f<>]")
_INTEGER = re.compile(r"[+-]?\d+")
_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")
# Stand-ins for fields that already have an error, so that validate_profile checks the others.
_STAND_INS = {
    "name_en": "-",
    "country_code": "KR",
    "population": None,
    "latitude": None,
    "longitude": None,
    "website": "",
}


@cache
def country_code_for(value: str) -> str | None:
    """ISO 3166-1 alpha-2 for an alpha-2 or alpha-3 code or an English name; None if unknown."""
    value = value.strip()
    if not value:
        return None
    try:
        return pycountry.countries.lookup(value).alpha_2
    except LookupError:
        return None


def _parse_row(row: dict) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The profile values a row gives (empty cells left out) and its errors as (field, message)."""
    cells = {c: (v or "").strip() for c, v in row["cells"].items()}
    values: dict[str, Any] = {}
    errors: list[tuple[str, str]] = []
    if row.get("extra_cells"):
        errors.append(("", str(_l("This row has more cells than the header row has columns."))))
    for column, text in cells.items():
        field = COLUMN_FIELDS[column]
        if not text:
            continue
        if column in TEXT_LIMITS:
            if len(text) > TEXT_LIMITS[column]:
                errors.append(
                    (field, str(_l("Use at most %(max)d characters.", max=TEXT_LIMITS[column])))
                )
                continue
            if column != "website" and _CONTROL.search(text):
                errors.append(
                    (field, str(_l("Use plain text, without < or > or control characters.")))
                )
                continue
            values[field] = text
        elif column == "country":
            code = country_code_for(text)
            if code is None:
                errors.append(
                    (
                        field,
                        str(
                            _l(
                                "Unknown country “%(value)s”: give its ISO code (KR or KOR) or "
                                "its English name.",
                                value=text[:60],
                            )
                        ),
                    )
                )
            else:
                values[field] = code
        elif column == "population":
            number = text.replace(",", "").replace("_", "").replace(" ", "")
            if _INTEGER.fullmatch(number):
                values[field] = int(number)
            else:
                errors.append((field, str(_l("Enter a whole number."))))
        else:  # latitude, longitude
            number = text.replace(",", ".") if _DECIMAL_COMMA.fullmatch(text) else text
            try:
                parsed = float(number)
            except ValueError:
                parsed = math.nan
            if math.isfinite(parsed):
                values[field] = round(parsed, 5)
            else:
                errors.append((field, str(_l("Enter a number in decimal degrees."))))
    for column in ("name", "country"):
        field = COLUMN_FIELDS[column]
        if not cells.get(column) and not any(f == field for f, _ in errors):
            errors.append((field, str(_l("This field is required."))))
    errors.extend(_profile_errors(values, {f for f, _ in errors}))
    return values, errors


def _profile_errors(values: dict[str, Any], failed: set[str]) -> list[tuple[str, str]]:
    """The profile's own rules (validate_profile), every failing field reported, not just the
    first: a field that fails is given a harmless stand-in and the check runs again."""
    data = ProfileData(name_en="")
    for name, value in values.items():
        setattr(data, name, value)
    for name in failed & set(_STAND_INS):
        setattr(data, name, _STAND_INS[name])
    errors = []
    for _attempt in range(len(dataclass_fields(ProfileData))):
        try:
            validate_profile(data)
            break
        except ServiceError as error:
            field = error.field or ""
            if field not in failed:
                errors.append((field, str(error.message)))
                failed.add(field)
            if field in ("latitude", "longitude"):
                data.latitude = data.longitude = None
            elif field in _STAND_INS:
                setattr(data, field, _STAND_INS[field])
            else:
                break
    return errors


def _error(field: str, message: str) -> dict:
    return {"column": FIELD_COLUMNS.get(field, field), "message": message}


class _Planner:
    """Decides what each row does to the directory: create, update, leave unchanged, or (error)
    nothing. Reads the directory a batch at a time; remembers the slugs it has seen in the file."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def plan(self, batch: list[dict]) -> list[dict]:
        """``batch``: ``{"row", "values", "errors"}`` with parsed values. Returns the plan rows."""
        from cacnet.membership.models import OPEN_STATES, Membership, city_name_key

        for item in batch:
            values = item["values"]
            if not item["errors"]:
                item["slug"] = make_slug(values["name_en"], values["country_code"])
        slugs = {item["slug"] for item in batch if "slug" in item}
        cities = {c.slug: c for c in db.session.scalars(select(City).where(City.slug.in_(slugs)))}
        keys = {
            city_name_key(item["values"]["name_en"])
            for item in batch
            if "slug" in item and item["slug"] not in cities
        }
        open_names = set(
            db.session.execute(
                select(Membership.city_name_key, Membership.country_code).where(
                    Membership.city_name_key.in_(keys), Membership.state.in_(OPEN_STATES)
                )
            ).all()
        )
        planned = []
        for item in batch:
            values = item["values"]
            entry = {
                "row": item["row"],
                "name": values.get("name_en", ""),
                "country": values.get("country_code", ""),
                "values": values,
                "errors": [_error(f, m) for f, m in item["errors"]],
            }
            slug = item.get("slug")
            if slug is None:
                entry["action"] = "error"
                planned.append(entry)
                continue
            entry["slug"] = slug
            if slug in self.seen:
                entry["errors"].append(
                    _error(
                        "name_en",
                        str(_l("Row %(row)d already lists this city.", row=self.seen[slug])),
                    )
                )
            else:
                self.seen[slug] = item["row"]
            city = cities.get(slug)
            if city is not None and city.merged_into_id is not None:
                kept = db.session.get(City, city.merged_into_id)
                entry["errors"].append(
                    _error(
                        "name_en",
                        str(
                            _l(
                                "This city was merged into %(city)s: use that city's name.",
                                city=kept.slug if kept else "?",
                            )
                        ),
                    )
                )
            elif city is None and (city_name_key(values["name_en"]), values["country_code"]) in (
                open_names
            ):
                entry["errors"].append(
                    _error(
                        "name_en",
                        str(
                            _l(
                                "An application under this name is waiting in the queue: "
                                "decide it first."
                            )
                        ),
                    )
                )
            if entry["errors"]:
                entry["action"] = "error"
            elif city is None:
                entry["action"] = "create"
            else:
                entry["city_id"] = city.id
                entry["changes"] = {
                    field: [getattr(city, field), value]
                    for field, value in values.items()
                    if getattr(city, field) != value
                }
                entry["action"] = "update" if entry["changes"] else "unchanged"
            planned.append(entry)
        return planned


def _parse_batch(rows: list[dict]) -> list[dict]:
    parsed = []
    for row in rows:
        values, errors = _parse_row(row)
        parsed.append({"row": row["row"], "values": values, "errors": errors})
    return parsed


# --- service functions -------------------------------------------------------------------------


def get_import(uuid: str) -> CityImport | None:
    return db.session.scalar(select(CityImport).where(CityImport.uuid == uuid))


def recent_imports(limit: int = 10) -> list[CityImport]:
    return list(
        db.session.scalars(
            select(CityImport)
            .order_by(CityImport.created_at.desc(), CityImport.id.desc())
            .limit(limit)
        )
    )


def start_import(actor, filename: str, data: bytes) -> CityImport:
    """Check an uploaded file as a whole and record an import of its rows, to be checked row by
    row by the worker, which starts when the caller commits. A refused file writes nothing."""
    require_secretariat(actor)
    columns, rows = read_csv(data)
    job = CityImport(
        created_by_id=actor.id,
        state=ImportState.VALIDATING,
        total_rows=len(rows),
        processed_rows=0,
        summary={"filename": (filename or "")[:255], "columns": columns},
    )
    db.session.add(job)
    db.session.flush()
    path = rows_path(job)
    _write_json(path, {"columns": columns, "rows": rows})
    _on_rollback(_delete_file, path)
    _after_commit(_launch, current_app._get_current_object(), job.uuid)
    return job


def confirm_import(actor, job: CityImport) -> None:
    """An officer's go-ahead for a checked import: the worker writes it after the caller's
    commit. Refused while any row has an error, or when there is nothing to change."""
    require_secretariat(actor)
    if job.state != ImportState.READY:
        raise StateConflict(_l("This import is not waiting for confirmation."))
    counts = job.counts
    if counts["error"]:
        raise StateConflict(_l("Some rows have errors. Correct the file and upload it again."))
    if not counts["create"] and not counts["update"]:
        raise StateConflict(_l("This file changes nothing in the directory."))
    summary = {**job.summary, "confirmed_by": actor.id}
    won = db.session.execute(
        update(CityImport)
        .where(CityImport.id == job.id, CityImport.state == ImportState.READY)
        .values(state=ImportState.APPLYING, processed_rows=0, summary=summary)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.expire(job)
    if won != 1:  # another officer confirmed or cancelled it just now
        raise StateConflict(_l("This import is not waiting for confirmation."))
    _after_commit(_launch, current_app._get_current_object(), job.uuid)


def cancel_import(actor, job: CityImport) -> None:
    """Discard an import that is not finished; nothing of it is written. Its rows file goes with
    the caller's commit. A worker still busy with it stops at its next step."""
    require_secretariat(actor)
    won = db.session.execute(
        update(CityImport)
        .where(CityImport.id == job.id, CityImport.state.in_(CANCELLABLE_STATES))
        .values(state=ImportState.CANCELLED)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.expire(job)
    if won != 1:
        raise StateConflict(_l("This import is finished and can no longer be cancelled."))
    audit.record(
        "city_import_cancelled",
        job,
        actor=actor,
        to_state=ImportState.CANCELLED,
        details={"filename": job.summary.get("filename", "")},
    )
    _after_commit(_delete_file, rows_path(job))


def run_import_job(uuid: str) -> None:
    """Do the worker's part of an import: check the rows of a ``validating`` import, or write the
    changes of an ``applying`` one; nothing in other states. Commits as it goes (progress, and the
    final result). Any error marks the import failed, with nothing of it written."""
    job = get_import(uuid)
    if job is None or not job.is_running:
        return
    officer_id = job.summary.get("confirmed_by") if job.state == ImportState.APPLYING else None
    officer = _user(officer_id or job.created_by_id)
    with force_locale(officer.locale if officer else "en"):
        try:
            if job.state == ImportState.VALIDATING:
                _check_rows(job)
            else:
                _apply(job, officer)
        except Exception as error:  # noqa: BLE001 - whatever happens, the import must end
            db.session.rollback()
            if isinstance(error, ServiceError):
                message = str(error.message)
            else:
                log.exception("city import %s failed", uuid)
                message = str(
                    _l("The import stopped because of an unexpected error. Nothing was written.")
                )
            _finish(uuid, ImportState.FAILED, error=message[:2000])


def preview(job: CityImport) -> dict:
    """What a ``ready`` import would do: counts, and the first rows of each kind."""
    plan = _read_json(job)["plan"]
    kinds: dict[str, list] = {"error": [], "create": [], "update": []}
    for entry in plan:
        listed = kinds.get(entry["action"])
        if listed is not None and len(listed) < PREVIEW_LIMIT:
            listed.append(entry)
    return {"counts": job.counts, "limit": PREVIEW_LIMIT, **kinds}


def status(job: CityImport) -> dict:
    """The import's progress, for the status page and its script."""
    return {
        "state": job.state.value,
        "running": job.is_running,
        "total": job.total_rows,
        "processed": job.processed_rows,
        "saving": job.state == ImportState.APPLYING and job.processed_rows >= job.total_rows,
        "label": progress_label(job),
    }


def progress_label(job: CityImport) -> str:
    if job.state == ImportState.VALIDATING:
        return str(
            _l(
                "Checked %(done)s of %(total)s rows.",
                done=f"{job.processed_rows:,}",
                total=f"{job.total_rows:,}",
            )
        )
    if job.state == ImportState.APPLYING:
        if job.processed_rows >= job.total_rows:
            return str(_l("Saving the changes to the directory…"))
        return str(
            _l(
                "Checked again %(done)s of %(total)s rows.",
                done=f"{job.processed_rows:,}",
                total=f"{job.total_rows:,}",
            )
        )
    return ""


def wait_for(uuid: str, timeout: float = 60) -> None:
    """Wait until the worker thread of an import (if this process started one) has finished."""
    thread = _threads.get(uuid)
    if thread is not None:
        thread.join(timeout)


# --- the worker ------------------------------------------------------------------------------

_threads: dict[str, threading.Thread] = {}


def _launch(app, uuid: str) -> None:
    if app.config.get("CITY_IMPORT_SYNC"):
        _work(app, uuid)
        return
    thread = threading.Thread(
        target=_work, args=(app, uuid), name=f"city-import-{uuid[:8]}", daemon=True
    )
    _threads[uuid] = thread
    thread.start()


def _work(app, uuid: str) -> None:
    # A fresh app context: its own database session (Flask-SQLAlchemy scopes sessions by context).
    with app.app_context():
        try:
            run_import_job(uuid)
        finally:
            db.session.remove()
            _threads.pop(uuid, None)


def _user(user_id: int | None):
    from cacnet.accounts.models import User

    return db.session.get(User, user_id) if user_id else None


def _progress(job: CityImport, state: ImportState, processed: int) -> bool:
    """Commit the number of rows done; False when the import left ``state`` (cancelled)."""
    won = db.session.execute(
        update(CityImport)
        .where(CityImport.id == job.id, CityImport.state == state)
        .values(processed_rows=processed)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return won == 1


def _finish(uuid: str, state: ImportState, **values) -> bool:
    """Move a running import to ``state`` (done or failed) unless an officer cancelled it
    meanwhile, and drop its rows file; commits. False when it had been cancelled (then nothing of
    this transaction is kept)."""
    won = db.session.execute(
        update(CityImport)
        .where(CityImport.uuid == uuid, CityImport.state.in_(RUNNING_STATES))
        .values(state=state, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if won != 1:
        db.session.rollback()
        return False
    _after_commit(_delete_file, _path_for(uuid))
    db.session.commit()
    return True


def _check_rows(job: CityImport) -> None:
    content = _read_json(job)
    rows = content["rows"]
    planner = _Planner()
    plan: list[dict] = []
    for start in range(0, len(rows), BATCH_ROWS):
        plan.extend(planner.plan(_parse_batch(rows[start : start + BATCH_ROWS])))
        if not _progress(job, ImportState.VALIDATING, len(plan)):
            return  # cancelled; _finish is not needed, the cancel removed the file
    counts = {"create": 0, "update": 0, "unchanged": 0, "error": 0}
    for entry in plan:
        counts[entry["action"]] += 1
    _write_json(rows_path(job), {"columns": content["columns"], "plan": plan})
    won = db.session.execute(
        update(CityImport)
        .where(CityImport.id == job.id, CityImport.state == ImportState.VALIDATING)
        .values(state=ImportState.READY, summary={**job.summary, "counts": counts})
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if won != 1:  # cancelled while the plan was being written: the cancel's clean-up came first
        _delete_file(rows_path(job))


class _DirectoryChanged(ServiceError):
    pass


def _apply(job: CityImport, officer) -> None:
    require_secretariat(officer)
    plan = [e for e in _read_json(job)["plan"] if e["action"] != "error"]
    uuid, job_id, officer_id = job.uuid, job.id, officer.id
    batches = [plan[i : i + BATCH_ROWS] for i in range(0, len(plan), BATCH_ROWS)]
    total = job.total_rows

    # 1. Check every row again against the directory as it is now, committing progress.
    planner = _Planner()
    done = total - len(plan)  # rows with errors are not in the plan (there are none when confirmed)
    for batch in batches:
        _raise_on_errors(planner.plan(_replan_input(batch)))
        done += len(batch)
        if not _progress(job, ImportState.APPLYING, done):
            return

    # 2. Write everything in one transaction: re-read, re-check, change; commit once at the end.
    planner = _Planner()
    result = {"created": 0, "updated": 0, "unchanged": 0}
    try:
        for batch in batches:
            entries = planner.plan(_replan_input(batch))
            _raise_on_errors(entries)
            creates = [e for e in entries if e["action"] == "create"]
            updates = [e for e in entries if e["action"] == "update"]
            result["created"] += _create_cities(officer, uuid, creates)
            result["updated"] += _update_cities(officer, uuid, updates)
            result["unchanged"] += len(entries) - len(creates) - len(updates)
            # Written (not committed): let the session forget them, or every later flush slows.
            db.session.flush()
            db.session.expunge_all()
            officer = db.session.get(type(officer), officer_id)
        job = db.session.get(CityImport, job_id)
        audit.record(
            "cities_imported",
            job,
            actor=officer,
            from_state=ImportState.APPLYING,
            to_state=ImportState.DONE,
            details={"filename": job.summary.get("filename", ""), "rows": total, **result},
        )
        summary = {**job.summary, "result": result}
        if not _finish(uuid, ImportState.DONE, summary=summary, processed_rows=total):
            log.info("city import %s was cancelled while being written; nothing kept", uuid)
    except IntegrityError:
        # Someone created or changed one of these cities between our check and our write.
        raise _DirectoryChanged(
            _l(
                "The directory changed while the import was being written. Nothing was "
                "written: upload the file again."
            )
        )


def _replan_input(batch: list[dict]) -> list[dict]:
    return [{"row": e["row"], "values": e["values"], "errors": []} for e in batch]


def _raise_on_errors(entries: list[dict]) -> None:
    wrong = [e for e in entries if e["action"] == "error"]
    if wrong:
        first = wrong[0]
        raise _DirectoryChanged(
            _l(
                "The directory changed since the check: row %(row)d: %(problem)s Nothing was "
                "written: upload the file again.",
                row=first["row"],
                problem=first["errors"][0]["message"],
            )
        )


def _create_cities(officer, uuid: str, entries: list[dict]) -> int:
    from cacnet.membership.services import record_membership

    cities = []
    for entry in entries:
        values = entry["values"]
        city = City(
            slug=entry["slug"],
            name_en=values["name_en"],
            name_local=values.get("name_local", ""),
            country_code=values["country_code"],
            region=values.get("region", ""),
            population=values.get("population"),
            website=values.get("website", ""),
            latitude=values.get("latitude"),
            longitude=values.get("longitude"),
        )
        db.session.add(city)
        cities.append((entry, city))
    db.session.flush()
    # record_membership flushes each membership (its audit record needs the id); what else is
    # pending here is only audit records, so its query need not flush them first.
    with db.session.no_autoflush:
        for entry, city in cities:
            audit.record(
                "city_created",
                city,
                actor=officer,
                details={"import": uuid, "row": entry["row"], "new": entry["values"]},
            )
            record_membership(officer, city)
    return len(cities)


def _update_cities(officer, uuid: str, entries: list[dict]) -> int:
    if not entries:
        return 0
    cities = {
        c.id: c
        for c in db.session.scalars(
            select(City).where(City.id.in_([e["city_id"] for e in entries]))
        )
    }
    for entry in entries:
        city = cities[entry["city_id"]]
        for field, (_old, new) in entry["changes"].items():
            setattr(city, field, new)
        audit.record(
            "city_profile_updated",
            city,
            actor=officer,
            details={
                "import": uuid,
                "row": entry["row"],
                "changes": {f: {"old": o, "new": n} for f, (o, n) in entry["changes"].items()},
            },
        )
    return len(entries)


# --- after the commit ------------------------------------------------------------------------

_AFTER_COMMIT = "cacnet_city_import_after_commit"
_ON_ROLLBACK = "cacnet_city_import_on_rollback"


def _after_commit(func, *args) -> None:
    db.session().info.setdefault(_AFTER_COMMIT, []).append((func, args))


def _on_rollback(func, *args) -> None:
    db.session().info.setdefault(_ON_ROLLBACK, []).append((func, args))


def _delete_file(path: Path) -> None:
    path.unlink(missing_ok=True)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a SAVEPOINT released: the real commit is still to come
        return
    session.info.pop(_ON_ROLLBACK, None)
    for func, args in session.info.pop(_AFTER_COMMIT, []):
        try:
            func(*args)
        except Exception:  # noqa: BLE001 - the commit stands; the job shows it did not start
            log.exception("after-commit step %s of a city import failed", func.__name__)


@event.listens_for(Session, "after_rollback")
def _run_on_rollback(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.info.pop(_AFTER_COMMIT, None)
    for func, args in session.info.pop(_ON_ROLLBACK, []):
        try:
            func(*args)
        except OSError:
            log.exception("could not clean up after a city import")
