"""Benchmark the city directory and a city page with 10,000 cities, beside ``/__bench/hello``.

Run from the repository root, either way:

    .venv/bin/python -m bench.directory [--duration 5] [--rounds 2] [--concurrency 8]
    .venv/bin/python bench/directory.py ...
    .venv/bin/python -m bench.directory --recreate-db  # drop the database and load it afresh
    .venv/bin/python -m bench.directory --load-only    # load, print the query plans, no gunicorn
    .venv/bin/python -m bench.directory --concurrency 1 --name directory-c1  # one request at a time

It creates (if missing) the PostgreSQL database ``cacnet_bench_directory`` on 127.0.0.1:5432
(``CACNET_BENCH_PG_URL`` for another server), migrates it and, unless it already holds this very
data set, loads 10,000 generated member cities (names in Latin with accents, Cyrillic and Hangul;
about 120 countries), one approved membership each and 30,000 focal-point contacts (public,
members-only and secretariat-only; at most one primary per city), with bulk INSERTs (SQLAlchemy
Core executemany in one transaction: seconds), then VACUUM ANALYZE. It prints how many cities each
directory query finds and the EXPLAIN ANALYZE of the queries ``directory_page`` runs for the search
and the deep page (the page of cities, and the count the pagination needs), serves the app with
gunicorn and measures, beside ``/__bench/hello``:

* ``/cities/?q=brück``: a search matching a few dozen cities (folded to "bruck" by ``search_key``);
* ``/cities/?region=asia&country=KR``: a filter (a few hundred cities);
* ``/cities/``: page 1 of all 10,000;
* ``/cities/?page=200``: a deep page (cities 3,981-4,000 by name, of 500 pages);
* ``/cities/<slug>``: one Korean city with three contacts, two or three of them public (always
  the same slug: a harness route is one path).

It prints a table and writes ``bench/results/directory-<UTC timestamp>.json`` and
``bench/results/directory-latest.json`` (with the counts, the slug, and the SQL and plans).
When the search or the deep page has a p50 over 50 ms it says where the time went (queueing,
the app's CPU, PostgreSQL's). gunicorn is stopped at the end, on errors and on Ctrl-C.

The data is generated from a fixed seed, so every run measures the same cities. The database is
marked with a comment on the ``cities`` table; a database holding anything else is refused (rerun
with ``--recreate-db``).
"""

from __future__ import annotations

import argparse
import http.client
import re
import sys
import tempfile
import time
import unicodedata
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

if __package__ in (None, ""):  # run as a file: make ``bench`` and ``cacnet`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

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

DATABASE = "cacnet_bench_directory"
CITIES = 10_000
CONTACTS_PER_CITY = 3
SEED = 20201121
# Bump when the generated data changes: an older database is then refused (--recreate-db).
DATA_MARKER = (
    f"bench.directory data v1: seed {SEED}, {CITIES} cities, {CONTACTS_PER_CITY} contacts each"
)
BENCH_USER_EMAIL = "bench.directory@bench.example"

# The search: typed with its accent, folded by search_key to "bruck", which the generator puts in
# about 0.4 % of the names (Valbrück, Ostenbrück, ...): a few dozen cities.
SEARCH = "brück"
SEARCH_SHARE = 0.004
FILTER_REGION, FILTER_COUNTRY = "asia", "KR"
PER_PAGE = 20
DEEP_PAGE = 200
SLOW_P50_MS = 50.0


def words(text: str) -> list[str]:
    return text.split()


# Countries, weighted: the big ones get a few hundred cities, the others a few dozen.
BIG_COUNTRIES = {
    "CN": 420, "IN": 420, "US": 400, "KR": 320, "RU": 300, "BR": 260, "JP": 260, "ID": 220,
    "DE": 200, "MX": 180, "FR": 170, "TR": 150, "VN": 150, "PL": 130, "UA": 130, "ES": 130,
    "IT": 130, "GB": 130, "PH": 120, "NG": 120, "PK": 110, "BD": 110, "EG": 100, "IR": 100,
    "TH": 100, "AR": 90, "CO": 90, "KZ": 80, "CA": 80, "AU": 80,
}  # fmt: skip
OTHER_COUNTRIES = words(
    "AE AF AL AM AO AT AZ BA BE BF BG BJ BO BY CD CH CI CL CM CR CU CZ DK DO DZ EC ET FI GE GH GR "
    "GT HN HR HU IE IL IQ JO KE KG KH KP LA LB LK LT LV LY MA MG MK ML MM MN MY MZ NE NL NO NP NZ "
    "OM PA PE PT PY QA RO RS SA SD SE SG SI SK SN SO SV SY TJ TN TZ UG UY UZ VE YE ZA ZM ZW"
)
CYRILLIC = {"RU", "UA", "BY", "BG", "RS", "KZ", "KG", "MK", "MN", "TJ"}
HANGUL = {"KR", "KP"}
# Latin-script countries whose local name keeps its accents (the English name often drops them).
LATIN_LOCAL = set(
    words(
        "FR DE ES PT BR IT PL CZ SK HU RO TR VN SE NO DK FI HR SI AT CH BE NL MX AR CO CL PE EC UY PY "
        "VE CU DO GT HN SV CR PA BO AL IE LT LV BA"
    )
)

PREFIXES = words(
    "Sán Vál Mont Port Ber Cas Dun El Fer Gor Hal Is Jár Kol Lan Mir Nor Or Pel Ros Sel Tar Ul "
    "Ven Wil Zar Bel Cor Dra Fal Gal Kar Lis Mar Nev Pol Sar Tor Val Ves Ost Ain Ker Lom Pes"
)
MIDDLES = ["", "a", "e", "i", "o", "é", "ö", "ü", "ã", "ø", "ri", "la", "ne", "ço", "ta", "ve", "mi"]  # fmt: skip
SUFFIXES = words(
    "burg ville grad polis dorf stad holm ford mont ía ón ec ice ovo sk ton haven mouth field gård "
    "ås ên lès heim ów ény ară ești ino ona era ada"
)
TWO_WORD = ["San", "Nova", "Alt", "Port", "Saint", "Nueva", "Stara", "Bad", "Santa", "Novo"]
HANGUL_SYLLABLES = [
    ("서", "seo"), ("울", "ul"), ("부", "bu"), ("산", "san"), ("대", "dae"), ("구", "gu"),
    ("인", "in"), ("천", "cheon"), ("광", "gwang"), ("주", "ju"), ("전", "jeon"), ("수", "su"),
    ("원", "won"), ("춘", "chun"), ("청", "cheong"), ("포", "po"), ("항", "hang"), ("안", "an"),
    ("양", "yang"), ("김", "gim"), ("해", "hae"), ("진", "jin"), ("강", "gang"), ("릉", "neung"),
    ("목", "mok"), ("여", "yeo"), ("순", "sun"), ("동", "dong"), ("남", "nam"), ("북", "buk"),
    ("영", "yeong"), ("덕", "deok"), ("성", "seong"), ("평", "pyeong"), ("화", "hwa"),
    ("용", "yong"), ("정", "jeong"), ("읍", "eup"), ("곡", "gok"), ("제", "je"),
]  # fmt: skip
CYRILLIC_DIGRAPHS = {
    "ck": "к",
    "sh": "ш",
    "ch": "ч",
    "zh": "ж",
    "kh": "х",
    "ts": "ц",
    "ya": "я",
    "yu": "ю",
}
CYRILLIC_LETTERS = {
    **dict(zip("abcdefghijklmnopqrstuvwyz", "абкдефгхийклмнопкрстуввыз", strict=True)),
    "x": "кс",
}
ASCII_FOLD = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ß": "ss", "đ": "d", "ı": "i"})
REGION_NAMES = ["", "", "Central District", "Capital Region", "Northern Province", "Coastal Region",
                "Eastern State", "Western Prefecture", "Highlands", "Southern County"]  # fmt: skip
FIRST_NAMES = ["Ana", "Ji-woo", "Olena", "Mateo", "Aisha", "Lukas", "Mei", "Sipho", "Ivan", "Léa",
               "Min-jun", "Sofía", "Kofi", "Priya", "Tomás", "Yuki", "Nadia", "Omar", "Ewa", "Björn"]  # fmt: skip
LAST_NAMES = ["Kim", "Petrenko", "García", "Okafor", "Müller", "Chen", "Nowak", "Silva", "Haddad",
              "Ivanova", "Park", "Dubois", "Nguyen", "Sharma", "Rossi", "Yilmaz", "Lee", "Mensah"]  # fmt: skip
TITLES = ["Public Health Officer", "Director of Health", "Emergency Coordinator", "Epidemiologist",
          "Chief Medical Officer", "Logistics Lead", "Spokesperson", ""]  # fmt: skip
DEPARTMENTS = ["Department of Health", "Emergency Management", "Mayor's Office",
               "Public Health Agency", "Port Authority", "Communications", ""]  # fmt: skip
AREAS = ["health", "quarantine", "supplies", "transport", "communications", "other"]


# --- the data ---------------------------------------------------------------------------------


def ascii_fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.translate(ASCII_FOLD))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def to_cyrillic(latin: str) -> str:
    text, out, i = ascii_fold(latin).lower(), [], 0
    while i < len(text):
        if text[i : i + 2] in CYRILLIC_DIGRAPHS:
            out.append(CYRILLIC_DIGRAPHS[text[i : i + 2]])
            i += 2
        else:
            out.append(CYRILLIC_LETTERS.get(text[i], text[i]))
            i += 1
    word = "".join(out)
    return " ".join(w[:1].upper() + w[1:] for w in word.split(" "))


def latin_name(rng) -> str:
    suffix = "brück" if rng.random() < SEARCH_SHARE else rng.choice(SUFFIXES)
    name = rng.choice(PREFIXES) + rng.choice(MIDDLES) + suffix
    if rng.random() < 0.15:
        name = f"{rng.choice(TWO_WORD)} {name}"
    return name


def names(rng, country: str) -> tuple[str, str]:
    """(name_en, name_local) in the country's script."""
    if country in HANGUL:
        parts = rng.sample(HANGUL_SYLLABLES, 2 if rng.random() < 0.7 else 3)
        return "".join(r for _, r in parts).capitalize(), "".join(h for h, _ in parts)
    local = latin_name(rng)
    if country in CYRILLIC:
        return ascii_fold(local), to_cyrillic(local)
    if country in LATIN_LOCAL:
        return (ascii_fold(local) if rng.random() < 0.7 else local), local
    return ascii_fold(local), ""


def phone_prefixes(countries) -> dict[str, tuple[str, str]]:
    """Per country: '+<calling code>' and an example national number to vary."""
    import phonenumbers

    found = {}
    for cc in countries:
        example = phonenumbers.example_number_for_type(
            cc, phonenumbers.PhoneNumberType.FIXED_LINE
        ) or phonenumbers.example_number(cc)
        code = phonenumbers.country_code_for_region(cc)
        found[cc] = (f"+{code}", str(example.national_number) if example else "21330000")
    return found


def generate(rng, now: datetime) -> tuple[list[dict], list[list[dict]]]:
    """The cities (column values) and, for each, its contacts (without city_id)."""
    from cacnet.cities.models import make_slug
    from cacnet.cities.regions import COUNTRY_REGIONS
    from cacnet.core.i18n import is_country_code
    from cacnet.core.text import search_key
    from cacnet.membership.models import city_name_key

    weights = {**BIG_COUNTRIES, **{cc: rng.randint(15, 45) for cc in OTHER_COUNTRIES}}
    bad = [cc for cc in weights if not is_country_code(cc) or cc not in COUNTRY_REGIONS]
    if bad:
        raise RuntimeError(f"not ISO 3166-1 alpha-2 codes with a region: {bad}")
    codes = sorted(weights)
    phones = phone_prefixes(codes)
    slugs: set[str] = set()
    keys: set[tuple[str, str]] = set()
    cities: list[dict] = []
    contacts: list[list[dict]] = []
    for country in rng.choices(codes, weights=[weights[c] for c in codes], k=CITIES):
        for _ in range(1000):
            name_en, name_local = names(rng, country)
            slug, key = make_slug(name_en, country), city_name_key(name_en)
            if slug not in slugs and (key, country) not in keys:
                break
        else:
            raise RuntimeError(f"could not find a new city name in {country}")
        slugs.add(slug)
        keys.add((key, country))
        created = now - timedelta(days=rng.uniform(1, 730), seconds=rng.randrange(86400))
        located = rng.random() >= 0.05
        cities.append(
            {
                "slug": slug,
                "name_en": name_en,
                "name_local": name_local,
                "country_code": country,
                "region": rng.choice(REGION_NAMES),
                "population": None if rng.random() < 0.04 else int(10 ** rng.uniform(4.2, 7.0)),
                "website": f"https://www.{slug}.example" if rng.random() < 0.6 else "",
                "latitude": round(rng.uniform(-55, 70), 5) if located else None,
                "longitude": round(rng.uniform(-180, 180), 5) if located else None,
                "mayor_name": "",
                "mayor_title": "",
                "response_page": "",
                "description": "",
                "languages": [],
                "timezone": "",
                "logo_sha256": None,
                "merged_into_id": None,
                "search_text": search_key(name_en, name_local)[:420],
                "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "created_at": created,
                "updated_at": created,
            }
        )
        plus, national = phones[country]
        primary = rng.random() < 0.8
        own = []
        for position in range(1, CONTACTS_PER_CITY + 1):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            if position == 1:
                visibility = rng.choices(["public", "members", "secretariat"], [6, 3, 1])[0]
            else:
                visibility = rng.choices(["public", "members", "secretariat"], [4, 4, 2])[0]
            digits = (
                national[:-4] + f"{rng.randrange(10_000):04d}" if len(national) > 5 else national
            )
            own.append(
                {
                    "position": position,
                    "name": f"{first} {last}",
                    "title": rng.choice(TITLES),
                    "department": rng.choice(DEPARTMENTS),
                    "email": ascii_fold(f"{first}.{last}.{position}@{slug}.example").lower(),
                    "phone": "" if rng.random() < 0.2 else plus + digits,
                    "languages": [],
                    "area": rng.choice(AREAS),
                    "visibility": visibility,
                    "is_primary": primary and position == 1,
                    "created_at": created,
                    "updated_at": created,
                }
            )
        contacts.append(own)
    return cities, contacts


def engine_for(db_url: str):
    from sqlalchemy import create_engine

    return create_engine(db_url.replace("postgresql://", "postgresql+psycopg://", 1))


def load(db_url: str) -> bool:
    """Load the data set unless the database holds it already (True when loaded now)."""
    import random

    from sqlalchemy import func, insert, select, text

    import cacnet.accounts.models as accounts
    import cacnet.cities.models as cities_models
    import cacnet.membership.models as membership_models

    users = accounts.User.__table__
    cities_t = cities_models.City.__table__
    contacts_t = cities_models.Contact.__table__
    memberships_t = membership_models.Membership.__table__

    engine = engine_for(db_url)
    try:
        with engine.begin() as conn:
            marker = conn.execute(text("SELECT obj_description('cities'::regclass, 'pg_class')"))
            if marker.scalar() == DATA_MARKER:
                print(f"{DATABASE} holds the data set already ({DATA_MARKER})", flush=True)
                return False
            held = {
                t.name: conn.execute(select(func.count()).select_from(t)).scalar()
                for t in (cities_t, contacts_t, memberships_t, users)
            }
            if any(held.values()):
                raise SystemExit(
                    f"{DATABASE} holds other data ({held}); rerun with --recreate-db to drop it"
                )

            started = time.perf_counter()
            now = datetime.now(UTC)
            city_rows, contact_rows = generate(random.Random(SEED), now)
            generated = time.perf_counter()
            user_id = conn.execute(
                insert(users).returning(users.c.id),
                {
                    "email": BENCH_USER_EMAIL,
                    "name": "Benchmark applicant",
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
            conn.execute(
                insert(contacts_t),
                [
                    {"city_id": city_id, **contact}
                    for city_id, own in zip(ids, contact_rows, strict=True)
                    for contact in own
                ],
            )
            conn.execute(text(f"COMMENT ON TABLE cities IS '{DATA_MARKER}'"))
        loaded = time.perf_counter()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # VACUUM too: sets hint bits and the visibility map now, so neither the first
            # measurements nor an autovacuum in the middle of the run pay for the bulk load.
            conn.execute(text("VACUUM (ANALYZE)"))
        print(
            f"loaded {len(ids):,} cities, {len(memberships):,} memberships and "
            f"{sum(len(c) for c in contact_rows):,} contacts: generated in "
            f"{generated - started:.1f}s, inserted in {loaded - generated:.1f}s, VACUUM ANALYZE "
            f"{time.perf_counter() - loaded:.1f}s",
            flush=True,
        )
        return True
    finally:
        engine.dispose()


# --- what the pages will find, and how PostgreSQL runs the directory's queries ---------------------


def facts_and_plans(db_url: str) -> dict[str, Any]:
    """The slug of a city page to request, how many cities each directory query finds, and the
    EXPLAIN ANALYZE of the queries ``directory_page`` runs for the search and the deep page."""
    from sqlalchemy import func, select, text
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.orm import configure_mappers, lazyload

    import cacnet.accounts.models  # noqa: F401 - every mapped class, for configure_mappers
    import cacnet.core.audit  # noqa: F401
    from cacnet.cities.services import DirectoryQuery, directory_select

    configure_mappers()

    def sql(stmt) -> str:
        compiled = stmt.compile(
            dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
        )
        return str(compiled)

    def count_of(stmt):  # what Flask-SQLAlchemy's paginate counts
        sub = stmt.options(lazyload("*")).order_by(None).subquery()
        return select(func.count()).select_from(sub)

    queries = {
        "search": DirectoryQuery(q=SEARCH),
        "filter": DirectoryQuery(region=FILTER_REGION, country=FILTER_COUNTRY),
        "page 1": DirectoryQuery(),
        "deep page": DirectoryQuery(page=DEEP_PAGE),
    }
    engine = engine_for(db_url)
    out: dict[str, Any] = {"counts": {}, "plans": {}}
    try:
        with engine.connect() as conn:
            for label, query in queries.items():
                stmt = directory_select(None, query)
                out["counts"][label] = conn.exec_driver_sql(sql(count_of(stmt))).scalar()
            slug = conn.execute(
                text(
                    "SELECT c.slug FROM cities c JOIN contacts k ON k.city_id = c.id "
                    "WHERE c.country_code = :cc GROUP BY c.id "
                    "HAVING count(*) = 3 AND count(*) FILTER (WHERE k.visibility = 'public') >= 2 "
                    "AND bool_or(k.is_primary) AND bool_and(k.phone <> '') ORDER BY c.id LIMIT 1"
                ),
                {"cc": FILTER_COUNTRY},
            ).scalar_one()
            out["city_slug"] = slug
            for label in ("search", "deep page"):
                query = queries[label]
                stmt = directory_select(None, query)
                items = stmt.limit(PER_PAGE).offset((query.page - 1) * PER_PAGE)
                for part, select_ in (("items", items), ("count", count_of(stmt))):
                    explain = "EXPLAIN (ANALYZE, BUFFERS) " + sql(select_)
                    conn.exec_driver_sql(explain).all()  # once to warm the cache; the second counts
                    lines = [row[0] for row in conn.exec_driver_sql(explain)]
                    # psycopg reads the query as a format string: '%%' is one '%' to PostgreSQL.
                    shown = sql(select_).replace("%%", "%")
                    out["plans"][f"{label}: {part}"] = {"sql": shown, "plan": lines}
    finally:
        engine.dispose()
    return out


def execution_ms(plan: list[str]) -> float:
    for line in plan:
        if line.startswith("Execution Time:"):
            return float(line.split(":")[1].split()[0])
    return float("nan")


def print_plans(found: dict[str, Any]) -> None:
    counts = found["counts"]
    print(
        f"\ndirectory with {CITIES:,} cities: q={SEARCH!r} finds {counts['search']}, "
        f"region={FILTER_REGION}&country={FILTER_COUNTRY} {counts['filter']}, all "
        f"{counts['page 1']:,} (page {DEEP_PAGE} of {-(-counts['page 1'] // PER_PAGE)}); "
        f"city page /cities/{found['city_slug']}",
        flush=True,
    )
    print("EXPLAIN ANALYZE of the queries directory_page() runs (second run, warm cache):")
    for label, entry in found["plans"].items():
        plan = entry["plan"]
        top = plan[0].split("  (")[0].strip()
        print(f"  {label:<18} {execution_ms(plan):7.2f} ms   {top}")
    for label in ("search: items", "deep page: items", "deep page: count"):
        print(f"\n{label} plan:")
        for line in found["plans"][label]["plan"]:
            print(f"    {line}")


def slow_note(row: dict[str, Any], kind: str, found: dict[str, Any], concurrency: int) -> str:
    """Why a page's p50 is over SLOW_P50_MS: waiting behind other requests, or its own work (the
    app's CPU, PostgreSQL's)."""
    cpu = row["cpu_ms_per_request"]
    items = execution_ms(found["plans"][f"{kind}: items"]["plan"])
    count = execution_ms(found["plans"][f"{kind}: count"]["plan"])
    work = cpu["server"] + cpu["postgres"]
    note = (
        f"NOTE: {row['route']['label']}: p50 {row['p50_ms']:.1f} ms > {SLOW_P50_MS:g} ms. Per "
        f"request the app used {cpu['server']:.1f} ms of CPU and PostgreSQL {cpu['postgres']:.1f} "
        f"ms (EXPLAIN ANALYZE: items {items:.1f} ms + count {count:.1f} ms)"
    )
    if concurrency > 1 and row["rps"] and row["p50_ms"] > 2 * work:
        queue = concurrency / row["rps"] * 1000
        return (
            f"{note}; {concurrency} clients / {row['rps']:.0f} req/s = {queue:.0f} ms: the p50 is "
            "mostly waiting for a CPU behind the other clients' requests (--concurrency 1 "
            "measures one request at a time)."
        )
    return f"{note}: the request's own work."


# --- the run ------------------------------------------------------------------------------------


def check_pages(host: str, port: int, routes: list[Route], found: dict[str, Any]) -> None:
    """One request each before measuring: 200, and the pages list what the database says."""
    counts = found["counts"]
    expect = {
        "search": f"{counts['search']} cities",
        "filter": f"{counts['filter']} cities",
        "page 1": f"{counts['page 1']} cities",
        "deep page": f"Page {DEEP_PAGE} of",
    }
    for route in routes:
        conn = http.client.HTTPConnection(host, port, timeout=30)
        try:
            conn.request("GET", route.path)
            resp = conn.getresponse()
            body = resp.read().decode("utf-8", "replace")
        finally:
            conn.close()
        if resp.status != 200:
            raise RuntimeError(f"GET {route.path} answered {resp.status}")
        key = next((k for k in expect if route.name.startswith(k)), None)
        if key and expect[key] not in body:
            raise RuntimeError(f"GET {route.path}: expected {expect[key]!r} in the page")
        rows = len(re.findall(r"<tr>\s*<td>", body))
        cards = body.count('class="contact-card"')
        print(
            f"  {route.path}: 200, {len(body):,} bytes, {rows} table rows, {cards} contact cards",
            flush=True,
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_load_arguments(parser, DATABASE)
    parser.add_argument(
        "--load-only", action="store_true", help="load the data and print the plans; no gunicorn"
    )
    parser.add_argument(
        "--name", default="directory", help="results file prefix (default directory)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"database {DATABASE} ...", flush=True)
    db_url = ensure_database(DATABASE, recreate=args.recreate_db)
    with tempfile.TemporaryDirectory(prefix="cacnet-bench-") as instance:
        prepare_database(app_environment(db_url, instance), seed=False)
    load(db_url)
    found = facts_and_plans(db_url)
    print_plans(found)
    if args.load_only:
        return 0

    routes = [
        Route(
            f"/cities/?q={quote(SEARCH)}", label=f"search /cities/?q={SEARCH}", expect_status=200
        ),
        Route(
            f"/cities/?region={FILTER_REGION}&country={FILTER_COUNTRY}",
            label=f"filter /cities/?region={FILTER_REGION}&country={FILTER_COUNTRY}",
            expect_status=200,
        ),
        Route("/cities/", label="page 1 /cities/", expect_status=200),
        Route(
            f"/cities/?page={DEEP_PAGE}",
            label=f"deep page /cities/?page={DEEP_PAGE}",
            expect_status=200,
        ),
        Route(f"/cities/{found['city_slug']}", label="city page (3 contacts)", expect_status=200),
    ]
    with serve(workers=args.workers, threads=args.threads, database=DATABASE, seed=False) as server:
        check_pages(server.host, server.port, routes, found)
        report = compare(
            routes,
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
                "counts": found["counts"],
                "city_slug": found["city_slug"],
                "explain_analyze": found["plans"],
            },
        )
    for row in report["results"]:
        label = row["route"]["label"]
        kind = next((k for k in ("search", "deep page") if label.startswith(k)), None)
        if kind and row["p50_ms"] > SLOW_P50_MS:
            print(slow_note(row, kind, found, args.concurrency))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted; gunicorn stopped", file=sys.stderr)
        sys.exit(130)
