"""Benchmark the signatory list and its open data with 10,000 verified endorsements, beside hello.

Run from the repository root, either way:

    .venv/bin/python -m bench.signatories [--duration 5] [--rounds 2] [--concurrency 8]
    .venv/bin/python bench/signatories.py ...
    .venv/bin/python -m bench.signatories --recreate-db   # drop the database and load it afresh
    .venv/bin/python -m bench.signatories --load-only     # load and count; no gunicorn, no profile
    .venv/bin/python -m bench.signatories --profile-only  # load, then profile in-process; no gunicorn
    .venv/bin/python -m bench.signatories --profile-path /signatories.json  # profile another page

It creates (if missing) the PostgreSQL database ``cacnet_bench_signatories`` on 127.0.0.1:5432
(``CACNET_BENCH_PG_URL`` for another server) and migrates it (migration 0005 seeds Statement
version 1). Unless the database already holds this very data set, it loads the 10,000 member
cities of ``bench.directory`` (same generator, same seed: Latin names with accents, Cyrillic and
Hangul, about 120 countries) with one approved membership each (no contacts), one bench user, and
one endorsement of version 1 per city in the state ``verified``: every NOT NULL column filled, a
typed signature (one small PNG shared by all), the version's ``text_sha256`` and a
``record_sha256`` computed by ``canonical_record`` as the app does. Bulk INSERTs (SQLAlchemy Core
executemany in one transaction), then VACUUM ANALYZE: about 10 s.

It serves the app with gunicorn (``bench.harness.serve``: a temporary instance folder, whose
``uploads/signatures/<sha256>.png`` gets the signature image, so the image route answers too),
requests every page once (status, size in bytes, number of rows, the ETag) and measures, beside
``/__bench/hello``:

* ``/signatories``: page 1 of all 10,000 (50 rows a page since commit 636a261; before it, the
  page rendered every verified row; the check before measuring accepts either and prints the
  page's size in bytes and rows);
* ``/signatories?q=brück``: a search matching a few dozen cities (36; the directory's search);
* ``/signatories?region=asia``: a region filter (4,075 rows);
* ``/signatories.json``: the open data of all 10,000 (about 6.6 MB);
* ``/signatories`` with ``If-None-Match: <the ETag of a first GET>``: a conditional GET (304).

It prints the table, then whether the issue's targets are met: the list pages (the first four) at
least 40 % of hello's throughput, the conditional GET at least 80 %. When a list page misses its
target it profiles, after gunicorn has stopped, one request in-process (the Flask test client
against the same database): ``/signatories`` when an HTML list misses, ``/signatories.json`` when
the JSON misses, the conditional GET when it misses (``--profile-path`` to choose): the request's
phases timed without a profiler (the ETag query, the rows, the counts, the template, ...), the SQL
it ran with the EXPLAIN ANALYZE of the slowest statement, cProfile's own time by package and the
top functions, and where the time goes with suggestions (printed; nothing is changed). Results
go to ``bench/results/signatories-<UTC timestamp>.json`` and ``signatories-latest.json`` (with the
page sizes, the counts and the profiles). About 2 minutes with ``--rounds 2``. gunicorn is stopped
at the end, on errors and on Ctrl-C. The JSON route takes about a second of CPU per request, so
with 8 clients its latency is several seconds and a 5 s measurement holds few requests; the
harness gives up on a request after 10 s (counted as an error).

The data is generated from fixed seeds, so every run measures the same rows. The database is
marked with a comment on the ``endorsements`` table; a database holding anything else is refused
(rerun with ``--recreate-db``).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import cProfile
import hashlib
import http.client
import os
import pstats
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

if __package__ in (None, ""):  # run as a file: make ``bench`` and ``cacnet`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.directory import (
    CITIES,
    FIRST_NAMES,
    LAST_NAMES,
    SEARCH,
    engine_for,
    generate,
)
from bench.directory import SEED as CITY_SEED
from bench.harness import (
    HELLO,
    Route,
    add_load_arguments,
    app_environment,
    compare,
    ensure_database,
    postgres_version,
    prepare_database,
    serve,
)

DATABASE = "cacnet_bench_signatories"
SEED = 20200605
VERSION_NUMBER = 1  # seeded by migration 0005; the current (only) version
# Bump when the generated data changes: an older database is then refused (--recreate-db).
DATA_MARKER = (
    f"bench.signatories data v1: cities of bench.directory (seed {CITY_SEED}, {CITIES} cities, "
    f"no contacts), {CITIES} verified endorsements of version {VERSION_NUMBER} (seed {SEED})"
)
BENCH_USER_EMAIL = "bench.signatories@bench.example"
FIRST_SIGNING_DAY = date(2020, 6, 5)  # the Statement's day; nobody signed before it
REGION = "asia"
SIGNATORY_TITLES = ["Mayor", "Governor", "Deputy Mayor", "Lord Mayor", "Mayor of the City",
                    "Metropolitan Mayor", "First Deputy Mayor", "Acting Mayor"]  # fmt: skip

# The targets, as a share of hello's req/s.
LIST_TARGET = 0.40
CONDITIONAL_TARGET = 0.80

# One typed-looking signature for every endorsement: a 120 x 40 1-bit PNG, 229 bytes, kept as
# bytes (not re-encoded at each run) so its SHA-256 never changes under another Pillow or zlib.
SIGNATURE_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAHgAAAAoAQAAAAAdkQOIAAAArElEQVR42uXRvU3DYACE4ftChAsQbum+jMAGYTNn"
    "g3S0jAKpvAaSKzpM5cLxQ0FA8gI0XPdKV9xPkZU2+Q+8++UiyflmWvGnduV/uj0kOR2SBOqyRyqCZa9l7voLz52e"
    "0Yh4MTHQmzuiGhktlUo8G5jMHaezOOqZuwkfRfSOqCM0YlDx2gCb3Nklebj/ydssj0nat0sBc/l2Shq2ubpOSpJI"
    "km3yXmK9xx/+8QX/2o/mQUHx4AAAAABJRU5ErkJggg=="
)
SIGNATURE_SHA256 = hashlib.sha256(SIGNATURE_PNG).hexdigest()


# --- the data ---------------------------------------------------------------------------------


def signature_path(instance: str | Path) -> Path:
    """Where the app looks for the image: ``UPLOAD_FOLDER`` defaults to ``<instance>/uploads``
    (cacnet/config.py) and ``stored_path(sha, "signatures", "png")`` adds the rest."""
    return Path(instance) / "uploads" / "signatures" / f"{SIGNATURE_SHA256}.png"


def write_signature(instance: str | Path) -> Path:
    path = signature_path(instance)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(SIGNATURE_PNG)
    return path


def endorsement_rows(
    rng, cities: list[dict], ids: list[int], version: Any, user: tuple[int, str], now: datetime
) -> list[dict]:
    """One verified endorsement of ``version`` per city, signed some time after the later of the
    Statement's publication and the city's joining, verified hours to days later."""
    from cacnet.statement.models import canonical_record

    user_id, user_email = user
    earliest = datetime.combine(FIRST_SIGNING_DAY, datetime.min.time(), tzinfo=UTC)
    rows = []
    for city_id, city in zip(ids, cities, strict=True):
        start = max(earliest, version.published_at, city["created_at"])
        span = (now - timedelta(hours=6) - start).total_seconds()
        signed_at = (start + timedelta(seconds=rng.uniform(0, max(span, 0)))).replace(microsecond=0)
        decided_at = min(signed_at + timedelta(hours=rng.uniform(1, 72)), now)
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        title = rng.choice(SIGNATORY_TITLES)
        place = city["name_en"]
        signed_on = max(signed_at.date(), FIRST_SIGNING_DAY)
        record = canonical_record(
            city_slug=city["slug"],
            version_number=version.number,
            text_sha256=version.text_sha256,
            signatory_name=name,
            signatory_title=title,
            place=place,
            signed_on=signed_on,
            signature_sha256=SIGNATURE_SHA256,
            signer_email=user_email,
            signed_at=signed_at,
            ip="",
        )
        rows.append(
            {
                "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "city_id": city_id,
                "version_id": version.id,
                "signer_id": user_id,
                "state": "verified",
                "signatory_name": name,
                "signatory_title": title,
                "place": place,
                "signed_on": signed_on,
                "signature_sha256": SIGNATURE_SHA256,
                "signature_kind": "typed",
                "text_sha256": version.text_sha256,
                "record_sha256": hashlib.sha256(record).hexdigest(),
                "signed_at": signed_at,
                "ip": "",
                "reason": "",
                "decided_at": decided_at,
                "decided_by_id": user_id,
                "withdrawn_at": None,
                "lock_version": 1,
                "created_at": signed_at,
                "updated_at": decided_at,
            }
        )
    return rows


def load(db_url: str) -> bool:
    """Load the data set unless the database holds it already (True when loaded now)."""
    import random

    from sqlalchemy import func, insert, select, text

    import cacnet.accounts.models as accounts
    import cacnet.cities.models as cities_models
    import cacnet.membership.models as membership_models
    import cacnet.statement.models as statement_models

    users = accounts.User.__table__
    cities_t = cities_models.City.__table__
    memberships_t = membership_models.Membership.__table__
    endorsements_t = statement_models.Endorsement.__table__
    versions_t = statement_models.StatementVersion.__table__

    engine = engine_for(db_url)
    try:
        with engine.begin() as conn:
            marker = conn.execute(
                text("SELECT obj_description('endorsements'::regclass, 'pg_class')")
            )
            if marker.scalar() == DATA_MARKER:
                print(f"{DATABASE} holds the data set already ({DATA_MARKER})", flush=True)
                return False
            held = {
                t.name: conn.execute(select(func.count()).select_from(t)).scalar()
                for t in (cities_t, memberships_t, endorsements_t, users)
            }
            if any(held.values()):
                raise SystemExit(
                    f"{DATABASE} holds other data ({held}); rerun with --recreate-db to drop it"
                )
            version = conn.execute(
                select(versions_t).where(versions_t.c.number == VERSION_NUMBER)
            ).one_or_none()
            if version is None or version.published_at is None or not version.text_sha256:
                raise SystemExit(
                    f"{DATABASE} has no published Statement version {VERSION_NUMBER} (migration "
                    "0005 seeds it); rerun with --recreate-db"
                )

            started = time.perf_counter()
            now = datetime.now(UTC)
            city_rows, _contacts = generate(random.Random(CITY_SEED), now)
            generated = time.perf_counter()
            user_id = conn.execute(
                insert(users).returning(users.c.id),
                {
                    "email": BENCH_USER_EMAIL,
                    "name": "Benchmark signatory",
                    "title": "",
                    "password_hash": None,
                    "role": "delegate",
                    "city_id": None,
                    "locale": "en",
                    "session_version": 0,
                    "created_at": now - timedelta(days=800),
                    "updated_at": now - timedelta(days=800),
                },
            ).scalar_one()
            ids = conn.execute(
                insert(cities_t).returning(cities_t.c.id, sort_by_parameter_order=True),
                city_rows,
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
                        "applicant_id": user_id,
                        "letter_sha256": None,
                        "letter_filename": None,
                        "letter_size": None,
                        "reason": "",
                        "submitted_at": decided - timedelta(days=3),
                        "decided_at": decided,
                        "decided_by_id": user_id,
                        "city_id": city_id,
                        "version": 1,
                        "uuid": str(uuid.uuid4()),
                        "created_at": decided - timedelta(days=4),
                        "updated_at": decided,
                    }
                )
            conn.execute(insert(memberships_t), memberships)
            endorsements = endorsement_rows(
                random.Random(SEED), city_rows, ids, version, (user_id, BENCH_USER_EMAIL), now
            )
            conn.execute(insert(endorsements_t), endorsements)
            conn.execute(text(f"COMMENT ON TABLE endorsements IS '{DATA_MARKER}'"))
        loaded = time.perf_counter()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # VACUUM too: hint bits and the visibility map now, not during the measurements.
            conn.execute(text("VACUUM (ANALYZE)"))
        print(
            f"loaded {len(ids):,} cities, {len(memberships):,} memberships and "
            f"{len(endorsements):,} verified endorsements: generated in "
            f"{generated - started:.1f}s, inserted in {loaded - generated:.1f}s, VACUUM ANALYZE "
            f"{time.perf_counter() - loaded:.1f}s",
            flush=True,
        )
        return True
    finally:
        engine.dispose()


# --- the app in this process (counts, profile) ------------------------------------------------


@contextlib.contextmanager
def local_app(db_url: str) -> Iterator[Any]:
    """The real app in this process, configured as gunicorn's is (``app_environment``: production,
    this database, a temporary instance folder with the signature image in it)."""
    from cacnet import create_app

    with tempfile.TemporaryDirectory(prefix="cacnet-bench-") as instance:
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(app_environment(db_url, instance))
        try:
            app = create_app()
        finally:
            os.environ.clear()
            os.environ.update(saved)
        write_signature(instance)
        try:
            yield app
        finally:
            from cacnet.extensions import db

            with app.app_context():
                db.engine.dispose()


def queries() -> dict[str, Any]:
    from cacnet.statement.signatories import SignatoryQuery

    return {
        "all": SignatoryQuery(),
        "search": SignatoryQuery(q=SEARCH),
        "region": SignatoryQuery(region=REGION),
    }


def count_rows(app) -> dict[str, int]:
    """How many verified endorsements each list shows (what ``public_endorsements`` finds)."""
    from cacnet.statement import services
    from cacnet.statement import signatories as signatory_list

    with app.test_request_context("/signatories"):
        version = services.current_version()
        if version is None or version.number != VERSION_NUMBER:
            raise RuntimeError(f"the current version is not version {VERSION_NUMBER}")
        return {
            label: len(signatory_list.public_endorsements(version, query))
            for label, query in queries().items()
        }


class Timers:
    """Wall time spent in a few functions during requests, no profiler: wrap, call, add up."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}

    def wrap(self, label: str, func):
        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                self.spent[label] = self.spent.get(label, 0.0) + time.perf_counter() - t0

        return timed


@contextlib.contextmanager
def sql_log(engine) -> Iterator[list[dict[str, Any]]]:
    """Every statement the engine runs meanwhile, with the time ``cursor.execute`` took (psycopg
    reads the whole result there: PostgreSQL's work plus the transfer)."""
    from sqlalchemy import event

    log: list[dict[str, Any]] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("bench_t0", []).append(time.perf_counter())

    def after(conn, cursor, statement, parameters, context, executemany):
        t0 = conn.info["bench_t0"].pop()
        log.append(
            {
                "sql": statement,
                "parameters": parameters,
                "ms": (time.perf_counter() - t0) * 1000,
                "rows": cursor.rowcount,
            }
        )

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield log
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def package_of(filename: str) -> str:
    """Which package a profiled function belongs to (for cProfile's own time by package)."""
    if filename == "~" or filename.startswith("<"):
        return "C builtins (str.join, psycopg's C parts, ...)"
    if filename.endswith((".html", ".xml")) or "/templates/" in filename:
        return "Jinja template code (signatories.html, base.html)"
    match = re.search(r"site-packages/([A-Za-z0-9_]+)", filename)
    if match:
        return match.group(1)
    if "/cacnet/" in filename:
        return "cacnet"
    if "/lib/python" in filename:
        return "Python standard library"
    return "other"


# (label, file name ends with, function name): interesting cumulative entries of the profile
WATCHED = [
    ("Flask url_for (one per row for the city, one for the signature)", "flask/helpers.py", "url_for"),
    ("Babel format_date (the |date filter)", "babel/dates.py", "format_date"),
    ("country_name (pycountry + gettext)", "cacnet/core/i18n.py", "country_name"),
    ("gettext in the template (alt text per row)", "flask_babel/__init__.py", "gettext"),
    ("ORM: rows to Endorsement objects", "sqlalchemy/orm/loading.py", "instances"),
    ("ORM: selectinload of the cities", "sqlalchemy/orm/strategies.py", "_load_for_path"),
    ("markupsafe escape", "markupsafe/__init__.py", "escape"),
    ("jsonify (JSON page)", "flask/json/__init__.py", "jsonify"),
    ("public_record (JSON page)", "cacnet/statement/signatories.py", "public_record"),
]  # fmt: skip


# The functions of cacnet.statement.signatories (and views) the list pages call, timed per
# request without a profiler: (module, attribute, label). Missing ones are skipped, so the
# benchmark keeps working when the app changes.
PHASES = [
    ("signatories", "fingerprint", "ETag query (fingerprint)"),
    ("signatories", "public_endorsements", "all rows: query + ORM (public_endorsements)"),
    ("signatories", "verified_page", "one page: query + count + ORM (verified_page)"),
    ("signatories", "withdrawn", "withdrawn rows (withdrawn)"),
    ("signatories", "counts_by_region", "counts by region"),
    ("signatories", "public_record", "public_record, once per row"),
    ("views", "render_template", "template (render_template)"),
    ("views", "jsonify", "jsonify"),
]
SQL_PHASE = "all SQL (cursor.execute)"


def profile(
    app, path: str, headers: dict[str, str] | None = None, expect: int = 200, repeat: int = 5
) -> dict[str, Any]:
    """One request of ``path`` through the Flask test client: its phases (median of ``repeat``
    requests without a profiler), its SQL, then cProfile of one more request."""
    from unittest import mock

    import cacnet.statement.views as views
    from cacnet.extensions import db
    from cacnet.statement import signatories as signatory_list

    modules = {"signatories": signatory_list, "views": views}
    headers = headers or {}
    client = app.test_client()
    for _ in range(2):  # templates compiled, caches filled, the pool connected
        warm = client.get(path, headers=headers)
        if warm.status_code != expect:
            raise RuntimeError(f"in-process GET {path} answered {warm.status_code}, not {expect}")
    size = len(warm.get_data())

    with app.app_context():
        engine = db.engine
    totals: list[float] = []
    phases: list[dict[str, float]] = []
    sql: list[dict[str, Any]] = []
    for _ in range(repeat):
        timers = Timers()
        with contextlib.ExitStack() as stack:
            for module, name, label in PHASES:
                func = getattr(modules[module], name, None)
                if func is not None:
                    wrapped = timers.wrap(label, func)
                    stack.enter_context(mock.patch.object(modules[module], name, wrapped))
            log = stack.enter_context(sql_log(engine))
            t0 = time.perf_counter()
            response = client.get(path, headers=headers)
            response.get_data()
            totals.append(time.perf_counter() - t0)
        timers.spent[SQL_PHASE] = sum(entry["ms"] for entry in log) / 1000
        phases.append(timers.spent)
        sql = log

    total = statistics.median(totals)
    phase_ms = {
        label: statistics.median(p.get(label, 0.0) for p in phases) * 1000
        for label in dict.fromkeys(k for p in phases for k in p)
    }

    plan: list[str] = []
    if sql:  # a request answered from the shared cache runs no SQL at all
        slowest = max(sql, key=lambda entry: entry["ms"])
        with app.app_context(), db.engine.connect() as conn:
            explain = "EXPLAIN (ANALYZE, BUFFERS) " + slowest["sql"]
            params = slowest["parameters"]
            conn.exec_driver_sql(explain, params).all()  # once to warm; the second counts
            plan = [row[0] for row in conn.exec_driver_sql(explain, params)]

    profiler = cProfile.Profile()
    profiler.enable()
    client.get(path, headers=headers).get_data()
    profiler.disable()
    stats = pstats.Stats(profiler)
    profiled_total = stats.total_tt
    by_package: dict[str, float] = {}
    top = []
    watched = {label: [0, 0.0] for label, _, _ in WATCHED}
    for (filename, line, func), (_cc, ncalls, tottime, cumtime, _callers) in stats.stats.items():
        package = package_of(filename)
        by_package[package] = by_package.get(package, 0.0) + tottime
        top.append(
            {
                "function": f"{_short(filename)}:{line}({func})",
                "ncalls": ncalls,
                "tottime_ms": tottime * 1000,
                "cumtime_ms": cumtime * 1000,
            }
        )
        for label, suffix, name in WATCHED:
            if func == name and filename.endswith(suffix):
                watched[label][0] += ncalls
                watched[label][1] += cumtime
    top.sort(key=lambda entry: entry["tottime_ms"], reverse=True)
    return {
        "path": path,
        "headers": sorted(headers),
        "status": warm.status_code,
        "bytes": size,
        "wall_ms_median": total * 1000,
        "wall_ms_all": [t * 1000 for t in totals],
        "phases_ms": phase_ms,
        "sql": [{"sql": entry["sql"], "ms": entry["ms"], "rows": entry["rows"]} for entry in sql],
        "slowest_sql_plan": plan,
        "profiled_ms": profiled_total * 1000,
        "own_time_by_package_ms": dict(
            sorted(((k, v * 1000) for k, v in by_package.items()), key=lambda kv: -kv[1])
        ),
        "watched": {
            label: {"calls": calls, "cumtime_ms": cum * 1000}
            for label, (calls, cum) in watched.items()
            if calls
        },
        "top_own_time": top[:15],
    }


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/work/main/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def print_profile(found: dict[str, Any]) -> None:
    wall = found["wall_ms_median"]
    sent = f" with {', '.join(found['headers'])}" if found["headers"] else ""
    print(
        f"\nin-process profile of GET {found['path']}{sent} (Flask test client, same database; "
        f"{found['status']}, {found['bytes']:,} bytes): {wall:.1f} ms per request (median of "
        f"{len(found['wall_ms_all'])}, no profiler)"
    )
    print("  phases (no profiler; each includes its own SQL):")
    for label, ms in found["phases_ms"].items():
        if ms >= 0.05:
            print(f"    {label:<48} {ms:8.1f} ms  {ms / wall:6.1%}")
    print("  SQL statements of the request (cursor.execute: PostgreSQL and the transfer):")
    for what, (n, ms, rows, sql) in grouped_sql(found["sql"]).items():
        times = f"{n} x " if n > 1 else ""
        one_line = " ".join(sql.split())
        print(f"    {times:>5}{ms:7.1f} ms {rows:>6} rows  {what}: {one_line[:70]}")
    print("  EXPLAIN ANALYZE of the slowest statement:")
    for line in found["slowest_sql_plan"]:
        print(f"    {line}")
    profiled = found["profiled_ms"]
    print(
        f"  cProfile of one request ({profiled:.0f} ms under the profiler, which inflates many "
        "small calls): own time by package"
    )
    for package, ms in found["own_time_by_package_ms"].items():
        if ms / profiled >= 0.01:
            print(f"    {package:<52} {ms:8.1f} ms  {ms / profiled:6.1%}")
    if found["watched"]:
        print("  cumulative time of a few functions (under the profiler):")
        for label, entry in found["watched"].items():
            print(f"    {label:<66} {entry['calls']:>7} calls {entry['cumtime_ms']:8.1f} ms")
    print("  top functions by own time:")
    for entry in found["top_own_time"][:10]:
        print(f"    {entry['tottime_ms']:7.1f} ms  {entry['ncalls']:>7} calls  {entry['function']}")


def _what(sql: str) -> str:
    """A few words for a statement of the signatory pages."""
    flat = " ".join(sql.split())
    if flat.startswith("SELECT count(endorsements.id)"):
        return "the ETag aggregate (count, max(updated_at))"
    if flat.startswith("SELECT count(*)"):
        return "the pagination's count"
    if flat.startswith("SELECT cities.country_code, count(*)"):
        return "the counts by region (GROUP BY country)"
    if flat.startswith("SELECT cities."):
        return "the cities of the rows (selectinload)"
    if flat.startswith("SELECT endorsements."):
        return "the rows" + (" (LIMIT)" if " LIMIT " in flat else " (no LIMIT)")
    if flat.startswith("SELECT statement_versions."):
        return "the version"
    return flat[:40]


def grouped_sql(log: list[dict[str, Any]]) -> dict[str, tuple[int, float, int, str]]:
    """The statements by what they are for: (how many, ms in all, rows in all, one SQL text)."""
    groups: dict[str, tuple[int, float, int, str]] = {}
    for entry in log:
        what = _what(entry["sql"])
        n, ms, rows, _sql = groups.get(what, (0, 0.0, 0, entry["sql"]))
        groups[what] = (n + 1, ms + entry["ms"], rows + max(entry["rows"], 0), entry["sql"])
    return groups


def suggestion(
    found: dict[str, Any], counts: dict[str, int], measured: dict[str, float] | None = None
) -> list[str]:
    """Where the time of the request goes and what would help; nothing outside bench/ is changed.
    ``measured`` (when the load was measured): ``budget`` (app + PostgreSQL CPU ms per request
    that meets the route's target: hello's divided by the target share), ``hello`` (hello's),
    ``conditional`` and ``conditional_ratio`` (the 304's CPU ms per request and share of hello);
    ``hello_local``: hello's wall time in-process."""
    measured = measured or {}
    budget = measured.get("budget")
    wall = found["wall_ms_median"]
    phases = found["phases_ms"]
    sql_ms = sum(entry["ms"] for entry in found["sql"])  # of the last request, as its groups
    ranked = sorted(
        ((label, ms) for label, ms in phases.items() if label != SQL_PHASE and ms >= 0.5),
        key=lambda kv: -kv[1],
    )
    spent = ", ".join(f"{label} {ms:.1f} ms ({ms / wall:.0%})" for label, ms in ranked)
    statements = sorted(found["sql"], key=lambda e: -e["ms"])
    groups = sorted(grouped_sql(found["sql"]).items(), key=lambda kv: -kv[1][1])
    sql_parts = ", ".join(
        f"{what} {ms:.1f}" + (f" ({n} statements)" if n > 1 else "")
        for what, (n, ms, _rows, _sql) in groups
        if ms >= 0.3
    )
    plan = "\n".join(found["slowest_sql_plan"])
    slowest = _what(statements[0]["sql"]) if statements else ""
    rows_all = "all rows: query + ORM (public_endorsements)" in phases
    html = not found["path"].endswith((".json", ".csv", ".atom"))
    local_hello = measured.get("hello_local")
    head = (
        f"WHERE THE TIME GOES in GET {found['path']}"
        + (" (conditional)" if found["status"] == 304 else "")
        + f": {wall:.1f} ms per request in-process"
        + (f" (hello: {local_hello:.2f} ms)" if local_hello else "")
        + f", {found['bytes']:,} bytes"
        + (
            f"; under load it would meet its target at ~{budget:.1f} ms of app + PostgreSQL "
            f"CPU per request (hello: {measured['hello']:.2f} ms)"
            if budget
            else ""
        )
        + f". {spent}. SQL of one of those requests {sql_ms:.1f} ms ({sql_ms / wall:.0%}): "
        + f"{sql_parts} ms."
    )
    advice = []
    if found["status"] == 304:
        room = (
            f"The target leaves {budget - measured['hello']:.2f} ms per request beyond what "
            "hello itself costs: less than one SQL round trip costs here (app and PostgreSQL "
            "CPU together), so the 304 has to be answered without any statement. "
            if budget
            else ""
        )
        advice.append(
            "The 304 runs two statements (the current version, then the ETag aggregate over "
            "every public row of the version, which grows with the signatories) before it "
            f"answers. {room}Keep the fingerprint where it costs nothing to read: cache the "
            "version and (count, last change) per version in each worker for a few seconds "
            "(the responses already allow max-age=60, so a few seconds of staleness is within "
            "what clients are told), or in Redis (REDIS_URL) with the state changes deleting "
            "the key; at the least make the aggregate an index-only scan (an index on "
            "endorsements (version_id, state) INCLUDE (updated_at), kept all-visible by "
            "VACUUM) so it stops growing with the rows."
        )
    else:
        if html and rows_all and counts["all"] > 100:
            advice.append(
                f"Paginate the list: the page renders every row ({counts['all']:,}); rendering "
                "and loading grow with the signatories. 20-50 rows a page (LIMIT/OFFSET), the "
                "region counts from one GROUP BY."
            )
        hit = (
            f" A hit still pays what the conditional GET pays, measured at "
            f"{measured['conditional']:.1f} ms of CPU per request ({measured['conditional_ratio']:.2f} "
            "x hello), already under this target: so the fingerprint has to be cheap too (see "
            "the conditional GET); with both, a hit is hello plus a dictionary look-up and "
            "the copy of the body."
            if "conditional" in measured
            else ""
        )
        advice.append(
            "Cache the finished response body keyed by the ETag the view already computes (it "
            "covers the version, the number and last change of the public rows, the query "
            "string and the locale): a change of any endorsement changes the key, so only the "
            "first request after a change pays for building it"
            + (
                f"; for the exports, which carry every row by design, the {counts['all']:,} "
                "records are then built once per change instead of once per request."
                if not html
                else "."
            )
            + hit
        )
        template = phases.get("template (render_template)", 0.0)
        if html and "Seq Scan on endorsements" in plan and slowest == "the rows (LIMIT)":
            advice.append(
                "Without caching: the page of rows is a sort of all matching rows for 50 "
                "(Seq Scan + Hash Join + top-N Sort in the plan above); an index on endorsements "
                "(version_id, state, signed_on, id), the default order, lets PostgreSQL read "
                "the first 50 in order and stop. The pagination's count and the counts by "
                "region scan every row on each request too: take the unfiltered count from the "
                "ETag aggregate (it counts the public rows already) and cache the counts by "
                "region with the ETag."
                + (
                    f" Even so the template alone ({template:.1f} ms) is over the budget: "
                    "without a cache of the body the target is out of reach."
                    if budget and template > budget
                    else ""
                )
            )
        loading = phases.get("all rows: query + ORM (public_endorsements)", 0.0)
        if not html and loading:
            orm = max(loading - (sql_ms - phases.get("ETag query (fingerprint)", 0.0)), 0.0)
            records = phases.get("public_record, once per row", 0.0)
            advice.append(
                f"Without caching: of the {loading:.0f} ms spent loading the rows only "
                f"{loading - orm:.0f} ms is SQL; ~{orm:.0f} ms is psycopg's row conversion and "
                f"the ORM making {counts['all']:,} Endorsement and {counts['all']:,} City "
                "objects (selectinload in batches of 500). The export only reads columns: one "
                "Core SELECT of those columns with a JOIN to cities (no ORM objects, no "
                f"selectinload) would save most of it. public_record takes {records:.0f} ms, "
                "most of it two url_for calls per row: build one URL prefix per route with "
                "url_for and format the slug/uuid in. That makes the export cheaper, not cheap: "
                f"{counts['all']:,} records a request stay far over a budget of a few ms."
            )
    return [head, *(f"SUGGESTION: {text}" for text in advice)]


# --- the run ------------------------------------------------------------------------------------


def check_pages(host: str, port: int, routes: list[Route], counts: dict[str, int]) -> dict:
    """One request each before measuring: the status, the size, the rows; the ETag of page 1; a
    304 for the conditional GET; the signature image answers."""
    expect_rows = {"page 1": counts["all"], "search": counts["search"], "region": counts["region"]}
    found: dict[str, Any] = {"bytes": {}, "rows": {}, "of": {}, "pages": {}}

    def get(path: str, headers: dict[str, str]) -> tuple[int, bytes, http.client.HTTPMessage]:
        conn = http.client.HTTPConnection(host, port, timeout=60)
        try:
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read(), resp.headers
        finally:
            conn.close()

    for route in routes:
        if "If-None-Match" in route.headers:
            continue
        status, body, headers = get(route.path, route.request_headers())
        if status != 200:
            raise RuntimeError(f"GET {route.path} answered {status}")
        text = body.decode("utf-8", "replace")
        if route.path.endswith(".json"):
            rows = text.count('"record_sha256"')
            expected = counts["all"]
        else:
            rows = len(re.findall(r"<tr>\s*<td>", text))
            expected = next(n for k, n in expect_rows.items() if route.name.startswith(k))
        pager = re.search(r"Page 1 of (\d+)", text)
        if 0 < rows < expected and pager:  # a page of a paginated list
            found["pages"][route.name] = int(pager.group(1))
        elif rows != expected:
            raise RuntimeError(f"GET {route.path}: {rows} rows, expected {expected}")
        found["bytes"][route.name] = len(body)
        found["rows"][route.name] = rows
        found["of"][route.name] = expected
        if route.path == "/signatories":
            found["etag"] = headers.get("ETag")
            match = re.search(r'src="(/statement/endorsements/[^"]+/signature\.png)"', text)
            found["signature_path"] = match.group(1) if match else None
        pages = found["pages"].get(route.name)
        shown = f"{rows:,} of {expected:,} rows, page 1 of {pages}" if pages else f"{rows:,} rows"
        print(
            f"  {route.path}: {status}, {len(body):,} bytes, {shown}, "
            f"{headers.get('Content-Type')}",
            flush=True,
        )
    if not found.get("etag"):
        raise RuntimeError("GET /signatories gave no ETag")
    if found.get("signature_path"):
        status, body, headers = get(found["signature_path"], {})
        if status != 200 or body != SIGNATURE_PNG:
            raise RuntimeError(f"GET {found['signature_path']} answered {status}")
        print(f"  {found['signature_path']}: {status}, {len(body)} bytes, image/png", flush=True)
    return found


def check_conditional(host: str, port: int, route: Route) -> None:
    conn = http.client.HTTPConnection(host, port, timeout=60)
    try:
        conn.request("GET", route.path, headers=route.request_headers())
        resp = conn.getresponse()
        body = resp.read()
    finally:
        conn.close()
    if resp.status != 304:
        raise RuntimeError(f"conditional GET {route.path} answered {resp.status}, not 304")
    print(f"  {route.path} with If-None-Match: {resp.status}, {len(body)} bytes", flush=True)


def print_targets(report: dict[str, Any], targets: dict[str, float]) -> list[str]:
    """Whether each route reaches its share of hello's req/s; the labels of those that miss."""
    print(
        f"\ntargets (the issue): list pages at least {LIST_TARGET:.0%} of hello's req/s, "
        f"conditional GETs at least {CONDITIONAL_TARGET:.0%}"
    )
    missed = []
    width = max(len(label) for label in targets)
    for row in report["results"]:
        label = row["route"]["label"]
        if label not in targets:
            continue
        ratio, target = row["ratio_to_baseline"] or 0.0, targets[label]
        met = ratio >= target
        if not met:
            missed.append(label)
        short = f" ({target / ratio:,.0f}x short)" if ratio and not met else ""
        print(
            f"  {label:<{width}}  {ratio:7.3f} x hello  target {target:.2f}  "
            f"{'met' if met else 'MISSED'}{short}"
        )
    return missed


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_load_arguments(parser, DATABASE)
    parser.add_argument(
        "--load-only", action="store_true", help="load the data and count the rows; no gunicorn"
    )
    parser.add_argument(
        "--profile-only",
        action="store_true",
        help="load, then profile one request in-process; no gunicorn",
    )
    parser.add_argument(
        "--no-profile", action="store_true", help="do not profile, even when a target is missed"
    )
    parser.add_argument(
        "--profile-path",
        action="append",
        help="profile this page instead of those that missed their target (repeatable)",
    )
    parser.add_argument(
        "--name", default="signatories", help="results file prefix (default signatories)"
    )
    return parser.parse_args(argv)


def local_hello_ms(app, requests: int = 300) -> float:
    """The wall time of hello in-process (the route bench.wsgi adds, added here too): median."""
    if HELLO not in {rule.rule for rule in app.url_map.iter_rules()}:
        app.add_url_rule(HELLO, "bench_hello", lambda: "hello")
    client = app.test_client()
    times = []
    for _ in range(requests):
        t0 = time.perf_counter()
        client.get(HELLO).get_data()
        times.append(time.perf_counter() - t0)
    return statistics.median(times[requests // 10 :]) * 1000


def profile_and_suggest(
    db_url: str,
    plan: list[tuple[str, dict[str, str], int, float | None]],
    counts: dict[str, int],
    measured: dict[str, float] | None = None,
) -> list[dict[str, Any]]:
    """Profile each (path, headers, expected status, CPU budget) in-process, print, suggest."""
    found_all = []
    with local_app(db_url) as app:
        hello = local_hello_ms(app)
        print(f"\nin-process {HELLO}: {hello:.2f} ms per request (median, Flask test client)")
        for path, headers, expect, budget in plan:
            found = profile(app, path, headers, expect)
            print_profile(found)
            context = {**(measured or {}), "hello_local": hello}
            if budget:
                context["budget"] = budget
            found["suggestion"] = suggestion(found, counts, context)
            print("\n".join(found["suggestion"]), flush=True)
            found_all.append(found)
    return found_all


def local_etag(db_url: str) -> str:
    with local_app(db_url) as app:
        return app.test_client().get("/signatories").headers["ETag"]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"database {DATABASE} ...", flush=True)
    db_url = ensure_database(DATABASE, recreate=args.recreate_db)
    with tempfile.TemporaryDirectory(prefix="cacnet-bench-") as instance:
        prepare_database(app_environment(db_url, instance), seed=False)
    load(db_url)
    with local_app(db_url) as app:
        counts = count_rows(app)
    print(
        f"verified endorsements of version {VERSION_NUMBER}: all {counts['all']:,}, "
        f"q={SEARCH!r} {counts['search']}, region={REGION} {counts['region']:,}",
        flush=True,
    )
    if args.load_only:
        return 0
    if args.profile_only:
        if args.profile_path:
            plan = [(path, {}, 200, None) for path in args.profile_path]
        else:
            etag = local_etag(db_url)
            plan = [
                ("/signatories", {}, 200, None),
                ("/signatories.json", {}, 200, None),
                ("/signatories", {"If-None-Match": etag}, 304, None),
            ]
        profile_and_suggest(db_url, plan, counts)
        return 0

    lists = [
        Route("/signatories", label="page 1 /signatories", expect_status=200),
        Route(
            f"/signatories?q={quote(SEARCH)}",
            label=f"search /signatories?q={SEARCH}",
            expect_status=200,
        ),
        Route(
            f"/signatories?region={REGION}",
            label=f"region /signatories?region={REGION}",
            expect_status=200,
        ),
        Route("/signatories.json", label="json /signatories.json", expect_status=200),
    ]
    with serve(workers=args.workers, threads=args.threads, database=DATABASE, seed=False) as server:
        # serve() made a temporary instance folder for gunicorn (CACNET_INSTANCE_PATH); the app
        # reads the image from <instance>/uploads/signatures/ there.
        write_signature(server.env["CACNET_INSTANCE_PATH"])
        pages = check_pages(server.host, server.port, lists, counts)
        conditional = Route(
            "/signatories",
            label="conditional /signatories (If-None-Match)",
            headers={"If-None-Match": pages["etag"]},
            expect_status=304,
        )
        check_conditional(server.host, server.port, conditional)
        report = compare(
            [*lists, conditional],
            baseline=Route(HELLO, label=f"{HELLO} (baseline)", expect_status=200),
            server=server,
            name=args.name,
            duration=args.duration,
            concurrency=args.concurrency,
            processes=args.client_processes,
            max_requests=args.max_requests,
            warmup=args.warmup,
            rounds=args.rounds,
            retries=args.retries,
            extra={
                "postgres": postgres_version(server.database_url),
                "database": DATABASE,
                "data": DATA_MARKER,
                "search": SEARCH,
                "region": REGION,
                "counts": counts,
                "page_bytes": pages["bytes"],
                "page_rows": pages["rows"],
                "page_count": pages["pages"],
                "etag": pages["etag"],
                "targets": {"list": LIST_TARGET, "conditional": CONDITIONAL_TARGET},
            },
        )
    print("\npage sizes (one GET each, before measuring):")
    for label, size in pages["bytes"].items():
        rows, of, count = pages["rows"][label], pages["of"][label], pages["pages"].get(label)
        shown = f"{rows:,} of {of:,} rows (page 1 of {count})" if count else f"{rows:,} rows"
        print(f"  {label:<40} {size:>12,} bytes  {shown}")
    targets = {route.name: LIST_TARGET for route in lists}
    targets[conditional.name] = CONDITIONAL_TARGET
    missed = print_targets(report, targets)

    cpu = {
        row["route"]["label"]: row["cpu_ms_per_request"]["server"]
        + row["cpu_ms_per_request"]["postgres"]
        for row in report["results"]
    }
    hello_cpu = cpu[report["results"][0]["route"]["label"]]
    measured = {
        "hello": hello_cpu,
        "conditional": cpu[conditional.name],
        "conditional_ratio": next(
            row["ratio_to_baseline"]
            for row in report["results"]
            if row["route"]["label"] == conditional.name
        ),
    }
    plan = []
    if args.profile_path:
        plan = [(path, {}, 200, None) for path in args.profile_path]
    else:
        if any(r.name in missed for r in lists[:3]):
            plan.append(("/signatories", {}, 200, hello_cpu / LIST_TARGET))
        if lists[3].name in missed:
            plan.append(("/signatories.json", {}, 200, hello_cpu / LIST_TARGET))
        if conditional.name in missed:
            plan.append(
                ("/signatories", dict(conditional.headers), 304, hello_cpu / CONDITIONAL_TARGET)
            )
    if plan and missed and not args.no_profile:
        print(
            f"\nTargets missed: profiling in-process (no gunicorn). hello costs {hello_cpu:.2f} ms "
            "of CPU per request (app + PostgreSQL), so a route meets a target of share s at "
            "about hello / s.",
            flush=True,
        )
        add_profile_to_results(args.name, profile_and_suggest(db_url, plan, counts, measured))
    return 0


def add_profile_to_results(name: str, profiles: list[dict[str, Any]]) -> None:
    """Put the profile into the JSON compare() wrote (the newest file of this name, and -latest)."""
    import json

    from bench.harness import RESULTS_DIR

    latest = RESULTS_DIR / f"{name}-latest.json"
    report = json.loads(latest.read_text())
    report.setdefault("extra", {})["profile"] = profiles
    text = json.dumps(report, indent=2) + "\n"
    stamp = datetime.fromisoformat(report["started_utc"]).strftime("%Y%m%dT%H%M%SZ")
    for path in (RESULTS_DIR / f"{name}-{stamp}.json", latest):
        path.write_text(text)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted; gunicorn stopped", file=sys.stderr)
        sys.exit(130)
