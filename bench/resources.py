"""Benchmark the resource exchange with 100,000 posts and 300,000 responses over 10,000 cities.

Run from the repository root, either way:

    .venv/bin/python -m bench.resources [--duration 5] [--rounds 2] [--concurrency 8]
    .venv/bin/python bench/resources.py ...
    .venv/bin/python -m bench.resources --recreate-db   # drop the database and load it afresh
    .venv/bin/python -m bench.resources --load-only     # load and print the data's shape; no gunicorn
    .venv/bin/python -m bench.resources --profile-only  # load, then time and profile in-process
    .venv/bin/python -m bench.resources --profile-path '/resources/?q=cholera'  # profile that page
    .venv/bin/python -m bench.resources --no-accept     # the pages only, not the accept path

It creates (if missing) the PostgreSQL database ``cacnet_bench_resources`` on 127.0.0.1:5432
(``CACNET_BENCH_PG_URL`` for another server) and migrates it (migration 0008 seeds the 20
categories). Unless the database already holds this very data set it loads, from fixed seeds:

* the 10,000 member cities of ``bench.directory`` (same generator and seed: coordinates for 95 %,
  about 120 countries) with an approved membership and three contacts each (``bench.bulk``);
* twelve delegates made by ``cacnet.accounts.services.create_user`` (real argon2 hashes, the
  CHEAPEST profile): four of the "dashboard city" (the first Korean city with coordinates, made
  about as active as a busy city: ~40 posts, ~120 responses of its own, ~120 to its posts) and
  two for each of four "accept cities" (the posters of the accept path);
* 100,000 posts over the 20 categories (more supplies than staff or know-how), offers and
  requests, critical/high/normal, in the states open 46 %, partly met 20 %, met 14 %, closed 8 %,
  withdrawn 4 %, expired 8 % (1 % of the open ones past their expiry date, not yet ticked; 0.3 %
  hidden by the secretariat); English titles and descriptions (Korean ones for most Korean
  posts), with ``search_text`` computed as ``services._search_text`` does (``search_key``);
  about 0.5 % of them mention cholera, the search;
* 300,000 responses from other cities (never two of one city on one post): pending, accepted,
  delivered, declined, withdrawn, fell through; the accepted and delivered quantities of a met
  post add up to its quantity exactly, of a partly met one to less, of an open one to nothing;
* ~300,000 thread messages (the response's own, the poster's answer, a follow-up),

by COPY (``bench.bulk.copy_rows``), then VACUUM ANALYZE: about a minute. A comment on the
``resource_posts`` table marks the data set; later runs skip the load (live posts expire as the
days pass: the run warns when the data set is more than a week old; ``--recreate-db``).

Then it serves the app with gunicorn (the harness's ``GunicornServer``, 2 workers x 4 threads, a
temporary instance folder whose ``config.py`` sets ``ARGON2_PROFILE = "CHEAPEST"`` and generous
login limits; the rate limiter stays on, as in the other benchmarks), signs in one session per
client (``--concurrency``, the dashboard city's delegates in turn; each client thread keeps its
own cookie, holding a CSRF token as a browser's would), requests every page once per session,
and measures beside ``/__bench/hello``:

* ``/resources/``: the board, page 1 (live posts by urgency, 25 a page, of ~64,000);
* ``/resources/?q=cholera``: a search matching a few hundred live posts;
* ``/resources/?category=test-kits&urgency=critical`` and ``/resources/?region=asia&kind=request``:
  two filters;
* ``/resources/<uuid>`` of the dashboard city's own live request with the most responses (the
  poster's view: every response, its thread, the accept forms) and of another city's live request
  for test kits (the viewer sees no response): each with its matches (up to 5);
* ``/resources/mine``: the dashboard city's exchange.

Then the accept path: ``--accept-posts`` fresh requests (default 64, 100 kits each) of the four
accept cities, each with ``--accept-responses`` pending responses (default 12, 5-30 kits each, so
about half cannot be accepted), and ``--accept-clients`` (default 32) clients signed in as the
posters (eight sessions a city), each POSTing ``/resources/responses/<uuid>/accept`` for its own
share of its city's responses, in post order, so the eight clients of a city work on the same post
at once and queue on its row lock. A quarter of the acceptances give a quantity (half of what was
asked), the rest leave it empty (all); a third carry a message. The clients do not follow the
redirect (the post page) and no e-mail is rendered (the responding cities have no accounts, so
``_recipients`` finds nobody). It reports the throughput, p50/p99, how many were accepted
and how many refused for lack of quantity (from the flash message in the session cookie of each
answer, checked against the rows), how many requests overlapped another on the same post, and
checks in SQL that no post of the database has accepted more than its quantity and that the
states of the accept posts follow their totals: PASS or FAIL. The accept posts are deleted
afterwards (they are made again by the next run).

After gunicorn has stopped, each page is timed in-process (Flask test client, same database, one
request at a time: the unloaded latency, median of 15). A page whose median is over ``--slow-ms``
(default 50 ms) is profiled: its phases (timed without a profiler), every SQL statement, the
EXPLAIN ANALYZE of the slowest, cProfile by package and function. Then "what if": the statements
the app runs for the unread badge, the board (page 1, region+kind, the count), the dashboard's
accepted exchanges and the match candidates, each by EXPLAIN ANALYZE as they are and as suggested
(a rewritten query and/or an index, the index made in a transaction that is rolled back), and
suggestions with those numbers. Nothing outside ``bench/`` is changed, the data set neither: the
suggestions are for whoever works on the app.

PostgreSQL's parallel workers name no database in their process title, so the harness counts
their CPU as "other cores", not "db"; the board's and the badge's Parallel Seq Scans therefore
look like a disturbed machine and are measured again (``--retries``), and "db" is low for them.

Results: ``bench/results/resources-<UTC timestamp>.json`` and ``resources-latest.json`` (the
table, the data's shape, the accept path, the unloaded timings and the profiles). About 4
minutes with the data loaded, 5-6 the first time. gunicorn is stopped at the end, on errors and
on Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import http.client
import itertools
import json
import math
import os
import pstats
import random
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make ``bench`` and ``cacnet`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bulk import copy_rows, insert_member_cities, reset_sequence
from bench.directory import CITIES, engine_for, generate
from bench.directory import SEED as CITY_SEED
from bench.harness import (
    HELLO,
    RESULTS_DIR,
    GunicornServer,
    Route,
    add_load_arguments,
    app_environment,
    compare,
    cpu_snapshot,
    cpu_used,
    ensure_database,
    open_balanced,
    percentile,
    postgres_version,
    prepare_database,
    sign_in,
    stop_on_sigterm,
)
from bench.signatories import sql_log

DATABASE = "cacnet_bench_resources"
SEED = 20201210
POSTS = 100_000
RESPONSES = 300_000
DASHBOARD_POSTS = 40  # expected posts of the dashboard city (its share of the activity)
# Bump when the generated data changes: an older database is then refused (--recreate-db).
DATA_MARKER = (
    f"bench.resources data v1: cities of bench.directory (seed {CITY_SEED}, {CITIES} cities, "
    f"3 contacts each), {POSTS} posts, {RESPONSES} responses (seed {SEED})"
)
PASSWORD = "Bench-Resource-Exchange-2020"  # noqa: S105 - the bench accounts' password
DASHBOARD_COUNTRY = "KR"
ACCEPT_COUNTRIES = ("DE", "BR", "NG", "IN")
DASHBOARD_EMAILS = [f"dashboard.{i}@bench-resources.example" for i in range(1, 5)]
ACCEPT_EMAILS = {
    cc: [f"accept.{cc.lower()}.{i}@bench-resources.example" for i in (1, 2)]
    for cc in ACCEPT_COUNTRIES
}
APPLICANT_EMAIL = "bench.resources@bench.example"
ACCEPT_TAG = "bench.resources accept path"  # the delivery note that marks the accept posts

SEARCH = "cholera"
FILTERS = [("category", "test-kits", "urgency", "critical"), ("region", "asia", "kind", "request")]
SLOW_MS = 50.0
LOCAL_REPEAT = 15

# Instance config of the bench app (gunicorn and in-process): cheap argon2 for the twelve bench
# accounts (made and verified with the same profile, so no rehash at sign-in) and login limits no
# run reaches (successful sign-ins are not counted anyway). The rate limiter itself stays on, so
# every request pays its bookkeeping as in the other benchmarks.
INSTANCE_CONFIG = """\
# written by bench.resources
ARGON2_PROFILE = "CHEAPEST"
LOGIN_LIMIT_PER_IP = "100000 per minute"
LOGIN_LIMIT_PER_ACCOUNT = "100000 per minute"
"""


# --- the words of the posts ---------------------------------------------------------------------

ITEMS = {
    "epidemiologists": [("Field epidemiologists", "현장 역학조사관"),
                        ("Epidemiologists for outbreak investigation", "역학조사 인력"),
                        ("Surveillance epidemiologists", "감시 역학 인력")],
    "contact-tracers": [("Contact tracers", "접촉자 추적 요원"),
                        ("Multilingual contact tracers", "다국어 접촉자 추적 요원"),
                        ("Call-centre tracing staff", "콜센터 추적 인력")],
    "clinicians": [("ICU physicians", "중환자 전문의"),
                   ("Infectious-disease physicians", "감염내과 전문의"),
                   ("Emergency physicians", "응급의학 전문의")],
    "nurses": [("ICU nurses", "중환자실 간호사"), ("Vaccination nurses", "예방접종 간호사"),
               ("Triage nurses", "분류 간호사")],
    "laboratory-staff": [("PCR laboratory technicians", "PCR 검사 인력"),
                         ("Biosafety officers", "생물안전 담당자"),
                         ("Sequencing specialists", "유전체 분석 인력")],
    "public-health-trainers": [("Infection-prevention trainers", "감염 예방 교육 강사"),
                               ("Risk-communication trainers", "위기소통 교육 강사")],
    "it-for-health": [("Developers for a case-management system", "환자 관리 시스템 개발자"),
                      ("Data engineers for surveillance dashboards", "감시 대시보드 데이터 엔지니어")],
    "test-kits": [("RT-PCR test kits", "RT-PCR 진단 키트"), ("Rapid antigen tests", "신속항원검사 키트"),
                  ("Antibody test kits", "항체 검사 키트")],
    "diagnostic-reagents": [("Extraction reagents", "추출 시약"), ("PCR master mix", "PCR 마스터 믹스"),
                            ("Primers and probes", "프라이머와 프로브")],
    "specimen-collection-kits": [("Nasopharyngeal swabs with transport medium", "비인두 면봉과 수송 배지"),
                                 ("Saliva collection kits", "타액 채취 키트")],
    "masks": [("KF94 masks", "KF94 마스크"), ("N95 respirators", "N95 마스크"),
              ("Surgical masks", "수술용 마스크")],
    "gowns": [("Isolation gowns", "격리 가운"), ("Coveralls", "전신 보호복")],
    "gloves": [("Nitrile gloves", "니트릴 장갑"), ("Examination gloves", "검사용 장갑")],
    "ventilators": [("ICU ventilators", "중환자실 인공호흡기"), ("Transport ventilators", "이송용 인공호흡기"),
                    ("High-flow nasal oxygen devices", "고유량 산소 장치")],
    "oxygen": [("Medical oxygen cylinders", "의료용 산소 실린더"), ("Oxygen concentrators", "산소 발생기")],
    "medicines": [("Antiviral medicines", "항바이러스제"), ("Antibiotics", "항생제"),
                  ("Oral rehydration salts", "경구 수액염")],
    "vaccines": [("Vaccine doses", "백신"), ("Measles vaccine doses", "홍역 백신"),
                 ("Influenza vaccine doses", "인플루엔자 백신")],
    "policy-documents": [("Quarantine guidelines", "격리 지침"), ("School reopening protocols", "학교 재개 지침"),
                         ("Hospital surge plans", "병원 대응 계획")],
    "training": [("Contact-tracing training (online)", "접촉자 추적 교육(온라인)"),
                 ("PPE donning and doffing training", "보호구 착탈의 교육"),
                 ("Laboratory biosafety course", "실험실 생물안전 과정")],
    "software": [("Open-source contact-tracing app", "오픈소스 접촉자 추적 앱"),
                 ("Vaccination scheduling system", "예방접종 예약 시스템"),
                 ("Hospital bed tracker", "병상 현황 시스템")],
}  # fmt: skip
GROUP_WEIGHT = {"staff": 4, "supplies": 6, "knowhow": 4}
OTHER_UNITS = {"staff": ["people", "person_days"], "supplies": ["pieces", "boxes", "kits", "units"],
               "knowhow": ["documents", "sessions", "units"]}  # fmt: skip
UNIT_WORDS = {"people": "people", "person_days": "person-days", "pieces": "pieces", "boxes": "boxes",
              "kits": "kits", "doses": "doses", "litres": "litres", "kilograms": "kg",
              "cylinders": "cylinders", "units": "units", "documents": "documents",
              "sessions": "sessions"}  # fmt: skip
UNIT_RANGE = {"people": (1, 40), "person_days": (5, 300), "pieces": (1_000, 500_000),
              "boxes": (10, 5_000), "kits": (200, 50_000), "doses": (1_000, 200_000),
              "litres": (100, 20_000), "kilograms": (10, 5_000), "cylinders": (10, 2_000),
              "units": (1, 100), "documents": (1, 10), "sessions": (1, 30)}  # fmt: skip
PURPOSES = ["the second wave", "field hospitals", "our testing centres", "the vaccination campaign",
            "the port quarantine station", "school screening", "long-term care homes",
            "the airport", "mobile clinics", "the outbreak response"]  # fmt: skip
REQUEST_TITLES = ["{item} for {purpose}", "{item} needed", "{item} for {purpose}",
                  "Urgent: {item}", "{item} to support {purpose}"]  # fmt: skip
OFFER_TITLES = ["{item} available for {purpose}", "{item} from our reserve", "{item} to share",
                "{item} on loan", "{item} available"]  # fmt: skip
REQUEST_OPENERS = ["{city} needs {item}: {qty} {unit}.",
                   "Our hospitals are short of {item}; we ask for {qty} {unit}.",
                   "We are looking for {item} ({qty} {unit}) to support our response.",
                   "{city} asks partner cities for {qty} {unit} of {item}."]  # fmt: skip
OFFER_OPENERS = ["{city} can provide {item}: {qty} {unit}.",
                 "We have {qty} {unit} of {item} in our municipal reserve to share.",
                 "Our health department can lend {item} ({qty} {unit}).",
                 "{city} offers {qty} {unit} of {item} to member cities."]  # fmt: skip
# (disease, weight): cholera, the search, is in ~0.5 % of the posts (0.8 x 0.6 / 100).
DISEASES = [("COVID-19", 44.4), ("influenza", 15), ("measles", 8), ("dengue", 8), ("mpox", 6),
            ("tuberculosis", 5), ("hepatitis A", 3), ("Ebola", 2), ("MERS", 2),
            ("diphtheria", 2), ("Zika", 2), ("malaria", 2), ("cholera", 0.6)]  # fmt: skip
DISEASE_SENTENCES = ["This is for our {d} response.", "Cases of {d} are rising in the region.",
                     "Part of our {d} preparedness plan.", "Needed while {d} cases stay high."]  # fmt: skip
LOGISTICS = ["Delivery to the central warehouse; customs papers are ready.",
             "We can collect at the airport.",
             "Shipping by air within a week of confirmation.",
             "Staff will work under our health department; accommodation is provided.",
             "Certificates of analysis are available on request.",
             "Transport by road from the regional depot.",
             "Cold chain (2-8 °C) is required during transport."]  # fmt: skip
CONDITION_SENTENCES = {"free": "Free of charge.", "at_cost": "At cost, invoiced after delivery.",
                       "loan": "On loan, to be returned within three months."}  # fmt: skip
OPENING_MESSAGES = {
    "request": ["We can ship {q} {u} from our reserve this week.", "{q} {u} are ready in {city}.",
                "Would {q} {u} help? We can deliver within ten days.",
                "Our team can send {q} {u}; please confirm the address."],
    "offer": ["We would need {q} {u} for our hospitals.", "Could you spare {q} {u}?",
              "{city} asks for {q} {u}; we can collect.", "{q} {u} would cover our gap."],
}  # fmt: skip
REPLIES = ["Thank you — accepted.", "We have enough for now, thank you.",
           "Accepted; our logistics team will write to you.", "Received in good order.",
           "Sorry, we found another supplier."]  # fmt: skip
FOLLOW_UPS = ["We will confirm the shipping date tomorrow.", "The shipment left today.",
              "Please send the customs documents."]  # fmt: skip

POST_STATES = [("open", 46), ("partly_met", 20), ("met", 14), ("closed", 8), ("withdrawn", 4),
               ("expired", 8)]  # fmt: skip
RESPONSE_WEIGHT = {"open": 1.2, "partly_met": 1.2, "met": 1.2, "closed": 0.8, "withdrawn": 0.3,
                   "expired": 0.6}  # fmt: skip
# Responses that do not count against the post, by the post's state: (state, weight)
OTHER_RESPONSES = {
    "live": [("pending", 55), ("declined", 25), ("withdrawn", 15), ("fell_through", 5)],
    "met": [("pending", 30), ("declined", 50), ("withdrawn", 15), ("fell_through", 5)],
    "ended": [("declined", 75), ("withdrawn", 20), ("fell_through", 5)],
}

POST_COLUMNS = ("id", "uuid", "city_id", "author_id", "kind", "category_id", "title_en",
                "title_ko", "description_en", "description_ko", "quantity", "unit", "urgency",
                "available_from", "needed_by", "expires_on", "delivery_note", "conditions",
                "contact_id", "state", "search_text", "reminded_at", "hidden_at", "hidden_reason",
                "closed_at", "created_at", "updated_at")  # fmt: skip
RESPONSE_COLUMNS = ("id", "uuid", "post_id", "city_id", "author_id", "quantity",
                    "accepted_quantity", "proposed_date", "state", "decided_at", "settled_at",
                    "created_at", "updated_at")  # fmt: skip
MESSAGE_COLUMNS = ("id", "response_id", "author_id", "city_id", "body", "created_at")


# --- the data -----------------------------------------------------------------------------------


def _uuid(rng) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _split(rng, total: int, parts: int) -> list[int]:
    """``parts`` positive integers adding up to ``total`` (parts <= total)."""
    if parts <= 1:
        return [total]
    cuts = sorted(rng.sample(range(1, total), parts - 1))
    return [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]


def _weighted(rng, pairs):
    return rng.choices([p for p, _ in pairs], weights=[w for _, w in pairs])[0]


def _quantity(rng, unit: str) -> int:
    low, high = UNIT_RANGE[unit]
    value = math.exp(rng.uniform(math.log(low), math.log(high)))
    if value >= 1000:
        return int(round(value, -2))
    if value >= 100:
        return int(round(value, -1))
    return max(int(round(value)), 1)


def _texts(rng, kind, slug, unit, qty, city, conditions, korean):
    """(title_en, title_ko, description_en, description_ko) of a post."""
    item_en, item_ko = rng.choice(ITEMS[slug])
    purpose = rng.choice(PURPOSES)
    title_en = rng.choice(REQUEST_TITLES if kind == "request" else OFFER_TITLES).format(
        item=item_en, purpose=purpose
    )
    title_en = title_en[0].upper() + title_en[1:]
    words = {"city": city["name_en"], "item": item_en.lower(), "qty": f"{qty:,}",
             "unit": UNIT_WORDS[unit]}  # fmt: skip
    parts = [rng.choice(REQUEST_OPENERS if kind == "request" else OFFER_OPENERS).format(**words)]
    if rng.random() < 0.8:
        disease = _weighted(rng, DISEASES)
        parts.append(rng.choice(DISEASE_SENTENCES).format(d=disease))
    if rng.random() < 0.5:
        parts.append(rng.choice(LOGISTICS))
    if rng.random() < 0.3:
        parts.append(CONDITION_SENTENCES[conditions])
    if rng.random() < 0.08:
        parts.append(f"Details: https://www.{city['slug']}.example/exchange")
    title_ko = description_ko = ""
    if korean:
        title_ko = f"{item_ko} {'지원 요청' if kind == 'request' else '지원 가능'}"
        if rng.random() < 0.5:
            description_ko = f"{item_ko} {qty:,} {UNIT_WORDS[unit]} " + (
                "지원을 요청합니다." if kind == "request" else "지원할 수 있습니다."
            )
        if rng.random() < 0.2:
            title_en = ""  # posted in Korean only
    return title_en, title_ko, " ".join(parts), description_ko


def generate_exchange(
    rng,
    cities: list[dict],
    city_ids: list[int],
    contact_ids: list[list[int]],
    categories: list[Any],
    dashboard: int,
    delegates: list[int],
    now: datetime,
) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """The posts, responses and messages (tuples in the order of the *_COLUMNS), with explicit
    ids from 1. ``dashboard`` is the index of the dashboard city, ``delegates`` its users."""
    from cacnet.core.text import search_key

    today = now.date()
    n_cities = len(cities)
    activity = [rng.lognormvariate(0, 0.7) for _ in range(n_cities)]
    activity[dashboard] = sum(activity) * DASHBOARD_POSTS / POSTS
    cum_activity = list(itertools.accumulate(activity))
    cum_categories = list(
        itertools.accumulate(
            GROUP_WEIGHT[str(getattr(c.group, "value", c.group))] for c in categories
        )
    )
    post_city = rng.choices(range(n_cities), cum_weights=cum_activity, k=POSTS)
    post_category = rng.choices(categories, cum_weights=cum_categories, k=POSTS)
    post_state = rng.choices(
        [s for s, _ in POST_STATES], weights=[w for _, w in POST_STATES], k=POSTS
    )

    def responders(exclude: int, count: int) -> list[int]:
        found: list[int] = []
        seen = {exclude}
        while len(found) < count:
            for c in rng.choices(range(n_cities), cum_weights=cum_activity, k=count + 4):
                if c not in seen:
                    seen.add(c)
                    found.append(c)
                    if len(found) == count:
                        break
        return found

    # How many responses each post gets: one at least for a partly met or met post, the rest
    # spread by the post's state (live posts get more), 300,000 in all.
    counts = [1 if s in ("partly_met", "met") else 0 for s in post_state]
    cum_response = list(itertools.accumulate(RESPONSE_WEIGHT[s] for s in post_state))
    for i in rng.choices(range(POSTS), cum_weights=cum_response, k=RESPONSES - sum(counts)):
        counts[i] += 1

    posts: list[tuple] = []
    responses: list[tuple] = []
    messages: list[tuple] = []
    response_id = message_id = 0

    def author_for(city_index: int) -> int | None:
        return rng.choice(delegates) if city_index == dashboard else None

    def add_message(resp_id, city_index, body, at):
        nonlocal message_id
        message_id += 1
        messages.append(
            (message_id, resp_id, author_for(city_index), city_ids[city_index], body, at)
        )

    for i in range(POSTS):
        post_id = i + 1
        ci = post_city[i]
        city = cities[ci]
        category = post_category[i]
        state = post_state[i]
        kind = "request" if rng.random() < 0.55 else "offer"
        group = str(getattr(category.group, "value", category.group))
        unit = category.default_unit if rng.random() < 0.92 else rng.choice(OTHER_UNITS[group])
        qty = _quantity(rng, unit)
        if state == "partly_met" and qty < 2:
            state = "open"
        urgency = rng.choices(["critical", "high", "normal"], weights=[15, 30, 55])[0]
        conditions = rng.choices(["free", "at_cost", "loan"], weights=[60, 25, 15])[0]
        korean = city["country_code"] in ("KR", "KP") and rng.random() < 0.7 or rng.random() < 0.03
        title_en, title_ko, desc_en, desc_ko = _texts(
            rng, kind, category.slug, unit, qty, city, conditions, korean
        )
        # When: live and met posts are recent and not expired (1 % of the live ones are past
        # their date, waiting for the tick); the ended ones are older.
        closed_at = None
        if state in ("open", "partly_met", "met"):
            created = now - timedelta(days=rng.uniform(0, 120))
            expires = today + timedelta(days=rng.randint(1, 120))
            if rng.random() < 0.01:
                expires = today - timedelta(days=rng.randint(1, 5))
        elif state == "expired":
            created = now - timedelta(days=rng.uniform(40, 365))
            expires = created.date() + timedelta(days=rng.randint(7, 30))
            closed_at = datetime.combine(
                expires + timedelta(days=1), datetime.min.time(), tzinfo=UTC
            ) + timedelta(hours=2)
        else:
            created = now - timedelta(days=rng.uniform(10, 365))
            expires = created.date() + timedelta(days=rng.randint(14, 180))
            closed_at = created + timedelta(days=rng.uniform(1, 9))
        created = created.replace(microsecond=0)
        available_from = needed_by = None
        if kind == "request" and rng.random() < 0.7:
            needed_by = created.date() + timedelta(days=rng.randint(3, 60))
        if kind == "offer" and rng.random() < 0.6:
            available_from = created.date() + timedelta(days=rng.randint(0, 30))
        contacts = contact_ids[ci]
        contact_id = rng.choice(contacts) if contacts and rng.random() < 0.6 else None
        hidden_at = created + timedelta(days=1) if rng.random() < 0.003 else None
        live = state in ("open", "partly_met")
        reminded_at = (
            now - timedelta(hours=3)
            if live and today <= expires <= today + timedelta(days=3)
            else None
        )
        category_names = [category.name_en, category.name_ko]
        search_text = search_key(
            " ".join(p for p in [title_en, title_ko, desc_en, desc_ko, *category_names] if p)
        )

        # The responses, their quantities consistent with the post's state.
        n = counts[i]
        others = responders(ci, n) if n else []
        if state == "met":
            k = max(1, min(n, qty, 1 + rng.randrange(max(n, 1))))
            counting = _split(rng, qty, k)
        elif state == "partly_met":
            total = min(max(int(qty * rng.uniform(0.1, 0.9)), 1), qty - 1)
            k = max(1, min(n, total, 1 + rng.randrange(max(n // 2, 1))))
            counting = _split(rng, total, k)
        elif state in ("closed", "withdrawn", "expired") and n and rng.random() < 0.5:
            total = max(int(qty * rng.uniform(0.05, 1.0)), 1)
            k = max(1, min(n, total, 1 + rng.randrange(max(n // 2, 1))))
            counting = _split(rng, total, k)
        else:
            counting = []
        left = qty - sum(counting)
        mix = OTHER_RESPONSES["live" if live else "met" if state == "met" else "ended"]
        last_change = created
        age = (now - created).total_seconds()
        for j, responder in enumerate(others):
            response_id += 1
            r_created = created + timedelta(seconds=rng.uniform(1800, max(age * 0.6, 3600)))
            r_created = min(r_created, now - timedelta(minutes=5)).replace(microsecond=0)
            accepted_q = None
            if j < len(counting):
                accepted_q = counting[j]
                asked = (
                    accepted_q
                    if rng.random() < 0.8
                    else accepted_q + rng.randint(1, max(accepted_q, 1))
                )
                r_state = "delivered" if rng.random() < (0.7 if not live else 0.45) else "accepted"
            else:
                r_state = _weighted(rng, mix)
                base = left if r_state == "pending" and left > 0 else qty
                asked = max(int(base * rng.uniform(0.05, 0.6)), 1)
                if r_state == "fell_through":
                    accepted_q = asked
            decided = settled = None
            if r_state not in ("pending", "withdrawn"):
                decided = min(r_created + timedelta(hours=rng.uniform(1, 120)), now)
            if r_state in ("delivered", "fell_through"):
                settled = min(decided + timedelta(days=rng.uniform(1, 20)), now)
            updated = settled or decided or r_created
            last_change = max(last_change, updated)
            proposed = (
                r_created.date() + timedelta(days=rng.randint(3, 30))
                if rng.random() < 0.5
                else None
            )
            responses.append(
                (response_id, _uuid(rng), post_id, city_ids[responder], author_for(responder),
                 Decimal(asked), None if accepted_q is None else Decimal(accepted_q), proposed,
                 r_state, decided, settled, r_created, updated)
            )  # fmt: skip
            if rng.random() < 0.75:
                words = {"q": f"{asked:,}", "u": UNIT_WORDS[unit],
                         "city": cities[responder]["name_en"]}  # fmt: skip
                add_message(
                    response_id, responder,
                    rng.choice(OPENING_MESSAGES[kind]).format(**words), r_created,
                )  # fmt: skip
            if decided is not None and rng.random() < 0.45:
                add_message(response_id, ci, rng.choice(REPLIES), decided)
                if rng.random() < 0.3:
                    add_message(
                        response_id, responder, rng.choice(FOLLOW_UPS),
                        min(decided + timedelta(hours=rng.uniform(1, 48)), now),
                    )  # fmt: skip
        posts.append(
            (post_id, _uuid(rng), city_ids[ci], author_for(ci), kind, category.id, title_en,
             title_ko, desc_en, desc_ko, Decimal(qty), unit, urgency, available_from, needed_by,
             expires, "", conditions, contact_id, state, search_text, reminded_at, hidden_at,
             "Duplicate of another post." if hidden_at else "", closed_at, created,
             max(last_change, closed_at or created))
        )  # fmt: skip
    return posts, responses, messages


def pick_cities(cities: list[dict]) -> tuple[int, dict[str, int]]:
    """The index of the dashboard city and, per accept country, of its accept city: the first city
    of the country with coordinates."""

    def first(country: str) -> int:
        return next(
            i
            for i, c in enumerate(cities)
            if c["country_code"] == country and c["latitude"] is not None
        )

    return first(DASHBOARD_COUNTRY), {cc: first(cc) for cc in ACCEPT_COUNTRIES}


def load(db_url: str) -> bool:
    """Load the data set unless the database holds it already (True when loaded now)."""
    from sqlalchemy import func, insert, select, text

    import cacnet.accounts.models as accounts
    import cacnet.cities.models as cities_models
    from cacnet.resources.models import ResourceCategory, ResourcePost, ResourceResponse

    users = accounts.User.__table__
    engine = engine_for(db_url)
    try:
        with engine.begin() as conn:
            marker = conn.execute(
                text("SELECT obj_description('resource_posts'::regclass, 'pg_class')")
            ).scalar()
            if marker and marker.startswith(DATA_MARKER):
                loaded_on = marker.rsplit("loaded ", 1)[-1]
                print(f"{DATABASE} holds the data set already ({marker})", flush=True)
                with contextlib.suppress(ValueError):
                    if date.today() - date.fromisoformat(loaded_on) > timedelta(days=7):
                        print(
                            "WARNING: the data set is more than a week old; live posts expire "
                            "day by day (rerun with --recreate-db for the intended shape)",
                            flush=True,
                        )
                return False
            held = {
                t.name: conn.execute(select(func.count()).select_from(t)).scalar()
                for t in (
                    cities_models.City.__table__,
                    users,
                    ResourcePost.__table__,
                    ResourceResponse.__table__,
                )
            }
            if any(held.values()):
                raise SystemExit(
                    f"{DATABASE} holds other data ({held}); rerun with --recreate-db to drop it"
                )
            started = time.perf_counter()
            now = datetime.now(UTC).replace(microsecond=0)
            city_rows, contact_rows = generate(random.Random(CITY_SEED), now)
            applicant = conn.execute(
                insert(users).returning(users.c.id),
                {"email": APPLICANT_EMAIL, "name": "Benchmark applicant", "title": "",
                 "password_hash": None, "role": "delegate", "city_id": None, "locale": "en",
                 "session_version": 0, "created_at": now - timedelta(days=800),
                 "updated_at": now - timedelta(days=800)},
            ).scalar_one()  # fmt: skip
            city_ids, contact_ids = insert_member_cities(conn, city_rows, applicant, contact_rows)
        cities_done = time.perf_counter()

        dashboard, accept = pick_cities(city_rows)
        with local_app(db_url) as app, app.app_context():
            from cacnet.accounts.models import UserRole
            from cacnet.accounts.services import create_user
            from cacnet.cities.models import City
            from cacnet.extensions import db

            def make(email: str, index: int) -> int:
                city = db.session.get(City, city_ids[index])
                user = create_user(
                    email, name=f"Delegate {email.split('@')[0]}", role=UserRole.DELEGATE,
                    password=PASSWORD, city=city, title="Public Health Officer",
                    check_password=False,
                )  # fmt: skip
                return user.id

            delegates = [make(email, dashboard) for email in DASHBOARD_EMAILS]
            for cc, index in accept.items():
                for email in ACCEPT_EMAILS[cc]:
                    make(email, index)
            db.session.commit()
        users_done = time.perf_counter()

        with engine.begin() as conn:
            categories = conn.execute(
                select(ResourceCategory.__table__).order_by(ResourceCategory.__table__.c.position)
            ).all()
            posts, responses, messages = generate_exchange(
                random.Random(SEED), city_rows, city_ids, contact_ids, categories, dashboard,
                delegates, now,
            )  # fmt: skip
            generated = time.perf_counter()
            copy_rows(conn, "resource_posts", POST_COLUMNS, posts)
            copy_rows(conn, "resource_responses", RESPONSE_COLUMNS, responses)
            copy_rows(conn, "resource_messages", MESSAGE_COLUMNS, messages)
            for table in ("resource_posts", "resource_responses", "resource_messages"):
                reset_sequence(conn, table)
            conn.execute(
                text(f"COMMENT ON TABLE resource_posts IS '{DATA_MARKER}; loaded {date.today()}'")
            )
        copied = time.perf_counter()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # VACUUM too: hint bits and the visibility map now, not during the measurements.
            conn.execute(text("VACUUM (ANALYZE)"))
        print(
            f"loaded {len(city_ids):,} cities with memberships and contacts "
            f"({cities_done - started:.1f}s), 12 delegates ({users_done - cities_done:.1f}s), "
            f"{len(posts):,} posts, {len(responses):,} responses and {len(messages):,} messages "
            f"(generated in {generated - users_done:.1f}s, COPY {copied - generated:.1f}s), "
            f"VACUUM ANALYZE {time.perf_counter() - copied:.1f}s",
            flush=True,
        )
        return True
    finally:
        engine.dispose()


def data_facts(db_url: str) -> dict[str, Any]:
    """The shape of the data set, the bench users' cities, and the two posts whose pages we
    request (the dashboard city's busiest live request; another city's live request for test
    kits with responses, none of them the viewer's)."""
    from sqlalchemy import text

    engine = engine_for(db_url)
    q = {
        "posts by state": "SELECT state, count(*) FROM resource_posts GROUP BY 1 ORDER BY 2 DESC",
        "responses by state": (
            "SELECT state, count(*) FROM resource_responses GROUP BY 1 ORDER BY 2 DESC"
        ),
    }
    try:
        with engine.connect() as conn:
            facts: dict[str, Any] = {
                label: dict(conn.execute(text(sql)).all()) for label, sql in q.items()
            }
            facts["messages"] = conn.execute(
                text("SELECT count(*) FROM resource_messages")
            ).scalar()
            facts["cities"] = conn.execute(text("SELECT count(*) FROM cities")).scalar()
            facts["live posts"] = conn.execute(
                text(
                    "SELECT count(*) FROM resource_posts WHERE state IN ('open', 'partly_met') "
                    "AND expires_on >= CURRENT_DATE AND hidden_at IS NULL"
                )
            ).scalar()
            users = dict(
                conn.execute(
                    text(
                        "SELECT email, city_id FROM users WHERE email LIKE '%@bench-resources.example'"
                    )
                ).all()
            )
            city = users[DASHBOARD_EMAILS[0]]
            facts["dashboard_city"] = dict(
                conn.execute(
                    text("SELECT id, slug, name_en, country_code FROM cities WHERE id = :c"),
                    {"c": city},
                ).mappings().one()
            )  # fmt: skip
            facts["accept_cities"] = {cc: users[emails[0]] for cc, emails in ACCEPT_EMAILS.items()}
            facts["dashboard"] = dict(
                conn.execute(
                    text(
                        "SELECT "
                        "(SELECT count(*) FROM resource_posts WHERE city_id = :c) AS posts, "
                        "(SELECT count(*) FROM resource_posts WHERE city_id = :c AND state IN "
                        " ('open', 'partly_met', 'met')) AS shown_posts, "
                        "(SELECT count(*) FROM resource_responses r JOIN resource_posts p ON "
                        " p.id = r.post_id WHERE p.city_id = :c AND r.state = 'pending') "
                        " AS waiting_for_us, "
                        "(SELECT count(*) FROM resource_responses WHERE city_id = :c AND "
                        " state = 'pending') AS our_pending, "
                        "(SELECT count(*) FROM resource_responses r JOIN resource_posts p ON "
                        " p.id = r.post_id WHERE (p.city_id = :c OR r.city_id = :c) AND "
                        " r.state = 'accepted') AS accepted, "
                        "(SELECT count(*) FROM resource_responses WHERE city_id = :c) "
                        " AS responses_made, "
                        "(SELECT count(*) FROM resource_responses r JOIN resource_posts p ON "
                        " p.id = r.post_id WHERE p.city_id = :c) AS responses_received"
                    ),
                    {"c": city},
                ).mappings().one()
            )  # fmt: skip
            own = conn.execute(
                text(
                    "SELECT p.uuid, count(r.id) AS n FROM resource_posts p "
                    "JOIN resource_responses r ON r.post_id = p.id "
                    "WHERE p.city_id = :c AND p.state IN ('open', 'partly_met') "
                    "AND p.expires_on >= CURRENT_DATE AND p.hidden_at IS NULL "
                    "GROUP BY p.id ORDER BY (p.kind = 'request') DESC, count(r.id) DESC, p.id "
                    "LIMIT 1"
                ),
                {"c": city},
            ).one()
            other = conn.execute(
                text(
                    "SELECT p.uuid, count(r.id) AS n FROM resource_posts p "
                    "JOIN resource_categories c ON c.id = p.category_id "
                    "JOIN resource_responses r ON r.post_id = p.id "
                    "WHERE c.slug = 'test-kits' AND p.kind = 'request' AND p.state = 'open' "
                    "AND p.unit = c.default_unit AND p.expires_on >= CURRENT_DATE + 7 "
                    "AND p.hidden_at IS NULL AND p.city_id <> :c AND NOT EXISTS (SELECT 1 FROM "
                    "resource_responses x WHERE x.post_id = p.id AND x.city_id = :c) "
                    "GROUP BY p.id HAVING count(r.id) >= 3 ORDER BY p.id LIMIT 1"
                ),
                {"c": city},
            ).one()
            facts["own_post"] = {"uuid": own.uuid, "responses": own.n}
            facts["other_post"] = {"uuid": other.uuid, "responses": other.n}
            facts["search_posts_all_states"] = conn.execute(
                text("SELECT count(*) FROM resource_posts WHERE search_text LIKE :q"),
                {"q": f"%{SEARCH}%"},
            ).scalar()
    finally:
        engine.dispose()
    return facts


def print_facts(facts: dict[str, Any]) -> None:
    dash = facts["dashboard_city"]
    print(
        f"\n{facts['cities']:,} cities; posts by state {facts['posts by state']}; "
        f"{facts['live posts']:,} live on the board; responses by state "
        f"{facts['responses by state']}; {facts['messages']:,} messages; "
        f"{facts['search_posts_all_states']} posts mention {SEARCH!r}",
        flush=True,
    )
    print(
        f"dashboard city {dash['name_en']} ({dash['country_code']}, /cities/{dash['slug']}): "
        f"{facts['dashboard']}; its post /resources/{facts['own_post']['uuid']} "
        f"({facts['own_post']['responses']} responses); another city's request "
        f"/resources/{facts['other_post']['uuid']} ({facts['other_post']['responses']} responses)",
        flush=True,
    )


# --- the app: gunicorn and in-process -------------------------------------------------------


def write_instance_config(instance: str | Path) -> None:
    Path(instance, "config.py").write_text(INSTANCE_CONFIG)


@contextlib.contextmanager
def serve_bench(db_url: str, workers: int, threads: int) -> Iterator[GunicornServer]:
    """gunicorn on the migrated and loaded database, from a temporary instance folder holding
    INSTANCE_CONFIG (``harness.serve`` starts gunicorn before anything could be written there)."""
    with contextlib.ExitStack() as stack:
        stack.enter_context(stop_on_sigterm())
        instance = stack.enter_context(tempfile.TemporaryDirectory(prefix="cacnet-bench-"))
        write_instance_config(instance)
        print(f"gunicorn -w {workers} -k gthread --threads {threads} ...", flush=True)
        server = stack.enter_context(
            GunicornServer(
                app_environment(db_url, instance),
                workers=workers,
                threads=threads,
                log_path=Path(instance) / "gunicorn.log",
            )
        )
        server.database_url = db_url
        yield server


@contextlib.contextmanager
def local_app(db_url: str) -> Iterator[Any]:
    """The real app in this process, configured as gunicorn's is (production, this database, a
    temporary instance folder with INSTANCE_CONFIG)."""
    from cacnet import create_app

    with tempfile.TemporaryDirectory(prefix="cacnet-bench-") as instance:
        write_instance_config(instance)
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(app_environment(db_url, instance))
        try:
            app = create_app()
        finally:
            os.environ.clear()
            os.environ.update(saved)
        try:
            yield app
        finally:
            from cacnet.extensions import db

            with app.app_context():
                db.engine.dispose()


# --- sessions ---------------------------------------------------------------------------------

CSRF_RE = re.compile(
    r'name="csrf_token"[^>]*?value="([^"]+)"|value="([^"]+)"[^>]*?name="csrf_token"'
)


def _jar(cookie: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in cookie.split("; ") if "=" in part)


def _merge_cookies(jar: dict[str, str], resp: http.client.HTTPResponse) -> None:
    for header in resp.headers.get_all("Set-Cookie") or []:
        parsed = SimpleCookie()
        parsed.load(header)
        for name, morsel in parsed.items():
            jar[name] = morsel.value


def with_csrf(host: str, port: int, cookie: str, path: str) -> tuple[str, str]:
    """GET ``path`` signed in, keep the cookie the answer sets (the session now holds a CSRF
    token, as a browser's would after its first page) and read the page's token."""
    conn = http.client.HTTPConnection(host, port, timeout=30)
    try:
        conn.request("GET", path, headers={"Cookie": cookie})
        resp = conn.getresponse()
        page = resp.read().decode("utf-8", "replace")
    finally:
        conn.close()
    if resp.status != 200:
        raise RuntimeError(f"GET {path} answered {resp.status} to a signed-in session")
    jar = _jar(cookie)
    _merge_cookies(jar, resp)
    match = CSRF_RE.search(page)
    if not match:
        raise RuntimeError(f"no csrf_token on {path}")
    return "; ".join(f"{k}={v}" for k, v in jar.items()), match.group(1) or match.group(2)


def sessions_for(host: str, port: int, emails: list[str], count: int, path: str) -> list[tuple]:
    """``count`` signed-in sessions (the ``emails`` in turn): (cookie, csrf token, email)."""
    found = []
    for i in range(count):
        email = emails[i % len(emails)]
        cookie = sign_in(host, port, email, PASSWORD)
        cookie, token = with_csrf(host, port, cookie, path)
        found.append((cookie, token, email))
    return found


@dataclass(frozen=True)
class SessionRoute(Route):
    """A route whose client threads send one session cookie each: the harness's client thread
    calls ``request_headers`` once when a measurement starts, so handing the cookies out in turn
    gives each of ``len(cookies)`` clients its own sign-in, kept for the whole run."""

    cookies: tuple[str, ...] = ()
    turn: Any = field(default_factory=itertools.count, compare=False, repr=False)

    def request_headers(self) -> dict[str, str]:
        headers = super().request_headers()
        if self.cookies:
            headers["Cookie"] = self.cookies[next(self.turn) % len(self.cookies)]
        return headers

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "sessions": len(self.cookies)}


def routes_for(facts: dict[str, Any], cookies: tuple[str, ...]) -> list[SessionRoute]:
    def route(path: str, label: str) -> SessionRoute:
        return SessionRoute(path, label=label, cookie=cookies[0], cookies=cookies,
                            expect_status=200)  # fmt: skip

    (a, av, b, bv), (c, cv, d, dv) = FILTERS
    return [
        route("/resources/", "board page 1"),
        route(f"/resources/?q={urllib.parse.quote(SEARCH)}", f"board q={SEARCH}"),
        route(f"/resources/?{a}={av}&{b}={bv}", f"board {a}+{b}"),
        route(f"/resources/?{c}={cv}&{d}={dv}", f"board {c}+{d}"),
        route(f"/resources/{facts['own_post']['uuid']}", "post, poster's view"),
        route(f"/resources/{facts['other_post']['uuid']}", "post, other city's"),
        route("/resources/mine", "dashboard /resources/mine"),
    ]


def page_facts(body: str) -> dict[str, Any]:
    found: dict[str, Any] = {"bytes": len(body.encode())}
    caption = re.search(r"<caption>([\d,]+) posts?</caption>", body)
    if caption:
        found["posts"] = int(caption.group(1).replace(",", ""))
        found["rows"] = len(re.findall(r"<tr class=", body))
    if 'id="responses"' in body:
        found["responses"] = body.count('class="response"')
        matches = re.search(r'<ul class="plain matches">(.*?)</ul>', body, re.S)
        found["matches"] = matches.group(1).count("<li>") if matches else 0
    if "waiting-heading" in body:
        found["list items"] = body.count('<li><a href="/resources/')
    return found


def check_pages(host: str, port: int, routes: list[SessionRoute]) -> dict[str, Any]:
    """Every page once per session, one at a time (the first view of a post by a user stores
    its read marks): all 200; the facts of the first answer."""
    found = {}
    for route in routes:
        for i, cookie in enumerate(route.cookies):
            conn = http.client.HTTPConnection(host, port, timeout=60)
            try:
                conn.request("GET", route.path, headers={"Cookie": cookie})
                resp = conn.getresponse()
                body = resp.read().decode("utf-8", "replace")
            finally:
                conn.close()
            if resp.status != 200:
                raise RuntimeError(f"GET {route.path} answered {resp.status} (session {i})")
            if i == 0:
                found[route.name] = page_facts(body)
        print(f"  {route.path}: 200, {found[route.name]}", flush=True)
    return found


# --- the accept path --------------------------------------------------------------------------


def delete_accept_posts(db_url: str) -> int:
    """Remove the accept posts of an earlier run (responses, messages and read marks go with
    them, ON DELETE CASCADE) and their audit records."""
    from sqlalchemy import text

    engine = engine_for(db_url)
    try:
        with engine.begin() as conn:
            posts = conn.execute(
                text("SELECT id FROM resource_posts WHERE delivery_note = :t"), {"t": ACCEPT_TAG}
            ).scalars().all()  # fmt: skip
            if not posts:
                return 0
            responses = conn.execute(
                text("SELECT id FROM resource_responses WHERE post_id = ANY(:p)"), {"p": posts}
            ).scalars().all()  # fmt: skip
            conn.execute(
                text(
                    "DELETE FROM audit_events WHERE (object_type = 'resource_responses' AND "
                    "object_id = ANY(:r)) OR (object_type = 'resource_posts' AND "
                    "object_id = ANY(:p))"
                ),
                {"r": responses, "p": posts},
            )
            conn.execute(text("DELETE FROM resource_posts WHERE id = ANY(:p)"), {"p": posts})
            return len(posts)
    finally:
        engine.dispose()


@dataclass
class AcceptItem:
    response_uuid: str
    post_id: int
    asked: int
    quantity: str  # what the client sends: "" (all) or a part


def prepare_accept(
    db_url: str, facts: dict[str, Any], posts: int, per_post: int, seed: int
) -> dict[int, list[AcceptItem]]:
    """``posts`` fresh live requests of the accept cities (100 kits each), each with ``per_post``
    pending responses of other cities (5-30 kits); per accept city, its responses in post order."""
    from sqlalchemy import insert, select, text

    from cacnet.core.text import search_key
    from cacnet.resources.models import ResourceCategory, ResourcePost, ResourceResponse

    rng = random.Random(seed)
    accept_cities = list(facts["accept_cities"].values())
    engine = engine_for(db_url)
    now = datetime.now(UTC)
    plan: dict[int, list[AcceptItem]] = defaultdict(list)
    try:
        with engine.begin() as conn:
            category = conn.execute(
                select(ResourceCategory.__table__).where(
                    ResourceCategory.__table__.c.slug == "test-kits"
                )
            ).one()
            others = conn.execute(
                text("SELECT id FROM cities WHERE id <> ALL(:a) ORDER BY id"), {"a": accept_cities}
            ).scalars().all()  # fmt: skip
            rows = []
            for i in range(posts):
                title = f"RT-PCR test kits for the accept benchmark #{i + 1}"
                rows.append(
                    {"uuid": _uuid(rng), "city_id": accept_cities[i % len(accept_cities)],
                     "author_id": None, "kind": "request", "category_id": category.id,
                     "title_en": title, "title_ko": "", "description_en": "", "description_ko": "",
                     "quantity": Decimal(100), "unit": "kits", "urgency": "normal",
                     "available_from": None, "needed_by": None,
                     "expires_on": date.today() + timedelta(days=30), "delivery_note": ACCEPT_TAG,
                     "conditions": "free", "contact_id": None, "state": "open",
                     "search_text": search_key(title, category.name_en, category.name_ko),
                     "reminded_at": None, "hidden_at": None, "hidden_reason": "",
                     "closed_at": None, "created_at": now, "updated_at": now}
                )  # fmt: skip
            posts_t = ResourcePost.__table__
            ids = conn.execute(
                insert(posts_t).returning(posts_t.c.id, sort_by_parameter_order=True), rows
            ).scalars().all()  # fmt: skip
            responses = []
            for post_id, row in zip(ids, rows, strict=True):
                for city in rng.sample(others, per_post):
                    asked = rng.randint(5, 30)
                    responses.append(
                        {"uuid": _uuid(rng), "post_id": post_id, "city_id": city,
                         "author_id": None, "quantity": Decimal(asked), "accepted_quantity": None,
                         "proposed_date": None, "state": "pending", "decided_at": None,
                         "settled_at": None, "created_at": now, "updated_at": now}
                    )  # fmt: skip
                    part = str(math.ceil(asked / 2)) if rng.random() < 0.25 else ""
                    plan[row["city_id"]].append(
                        AcceptItem(responses[-1]["uuid"], post_id, asked, part)
                    )
            conn.execute(insert(ResourceResponse.__table__), responses)
    finally:
        engine.dispose()
    return plan


def flash_reader(secret_key: str):
    """Read the flash messages in a session cookie the app set (Flask's own serializer)."""
    from flask import Flask

    reader = Flask("bench-flash-reader")
    reader.secret_key = secret_key
    serializer = reader.session_interface.get_signing_serializer(reader)

    def last_flash(value: str | None) -> tuple[str, str] | None:
        if not value:
            return None
        try:
            data = serializer.loads(value)
        except Exception:  # noqa: BLE001 - an unreadable cookie is reported as such
            return ("unreadable", value[:40])
        flashes = data.get("_flashes") or []
        return tuple(flashes[-1]) if flashes else None

    return last_flash


def run_accept(
    server: GunicornServer, sessions: list[tuple], work: list[list[AcceptItem]]
) -> dict[str, Any]:
    """Each client POSTs its acceptances one after the other (a closed loop, no redirect
    followed); all start together."""
    n = len(sessions)
    host, port = server.host, server.port
    conns, spread = open_balanced(host, port, n, server.worker_pids())
    barrier = threading.Barrier(n + 1)
    out: list[dict[str, Any]] = []
    lock = threading.Lock()

    def client(i: int) -> None:
        cookie, token, _email = sessions[i]
        conn = conns[i]
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": cookie,
            "Origin": f"http://{host}:{port}",
            "Referer": f"http://{host}:{port}/resources/mine",
        }
        done = []
        barrier.wait()
        for k, item in enumerate(work[i]):
            body = urllib.parse.urlencode(
                {"csrf_token": token, "quantity": item.quantity,
                 "message": "Thank you — accepted." if k % 3 == 0 else ""}
            )  # fmt: skip
            path = f"/resources/responses/{item.response_uuid}/accept"
            t0 = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers=headers)
                resp = conn.getresponse()
                resp.read()
            except (OSError, http.client.HTTPException) as error:
                done.append({"item": item, "start": t0, "end": time.perf_counter(),
                             "status": None, "error": f"{type(error).__name__}: {error}"})  # fmt: skip
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=30)
                continue
            t1 = time.perf_counter()
            jar: dict[str, str] = {}
            _merge_cookies(jar, resp)
            done.append({"item": item, "start": t0, "end": t1, "status": resp.status,
                         "session": jar.get("session"), "error": None})  # fmt: skip
            if resp.will_close:
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=30)
        conn.close()
        with lock:
            out.extend(done)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(n)]
    for thread in threads:
        thread.start()
    cpu_before = cpu_snapshot(server.pids(), DATABASE)
    cpu0 = time.process_time()
    started = time.perf_counter()
    barrier.wait()
    for thread in threads:
        thread.join(timeout=600)
    wall = time.perf_counter() - started
    client_cpu = time.process_time() - cpu0
    cpu = cpu_used(cpu_before, cpu_snapshot(server.pids(), DATABASE))
    return {"requests": out, "wall_s": wall, "cpu": cpu, "client_cpu": client_cpu,
            "connections_per_worker": spread}  # fmt: skip


LACK_RE = re.compile(r"are left of this post|Nothing is left of this post")


def accept_report(db_url: str, ran: dict[str, Any], secret_key: str, n_clients: int) -> dict:
    """Latency, throughput and outcomes of the accept run, checked against the rows; the
    invariant (no post's accepted total above its quantity) over the whole database."""
    from sqlalchemy import text

    requests = ran["requests"]
    last_flash = flash_reader(secret_key)
    outcome: Counter[str] = Counter()
    messages: Counter[str] = Counter()
    flashes = {}
    for r in requests:
        flash = last_flash(r.get("session")) if r["status"] == 302 else None
        flashes[r["item"].response_uuid] = flash
        if r["status"] != 302:
            outcome[f"HTTP {r['status']}" if r["status"] else "connection error"] += 1
        elif flash is None:
            outcome["no message"] += 1
        elif flash[0] == "success":
            outcome["accepted"] += 1
        elif LACK_RE.search(flash[1]):
            outcome["refused: not enough left"] += 1
        else:
            outcome["refused: other"] += 1
        if flash:
            messages[f"{flash[0]}: {re.sub(r'[0-9][0-9,.]*', 'N', flash[1])}"] += 1
    latencies = sorted(r["end"] - r["start"] for r in requests if r["status"])
    n = len(requests)

    # Requests that ran while another one on the same post was in flight: they met the lock.
    by_post: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for r in requests:
        by_post[r["item"].post_id].append((r["start"], r["end"]))
    overlapped = 0
    peak = 0
    for spans in by_post.values():
        spans.sort()
        for s, e in spans:
            together = sum(1 for s2, e2 in spans if s2 < e and s < e2)
            peak = max(peak, together)
            if together > 1:
                overlapped += 1

    uuids = [r["item"].response_uuid for r in requests]
    post_ids = sorted(by_post)
    engine = engine_for(db_url)
    try:
        with engine.connect() as conn:
            states = dict(
                conn.execute(
                    text("SELECT uuid, state FROM resource_responses WHERE uuid = ANY(:u)"),
                    {"u": uuids},
                ).all()
            )
            over = conn.execute(
                text(
                    "SELECT p.id, p.quantity, t.total FROM resource_posts p JOIN (SELECT post_id, "
                    "sum(accepted_quantity) AS total FROM resource_responses WHERE state IN "
                    "('accepted', 'delivered') GROUP BY post_id) t ON t.post_id = p.id "
                    "WHERE t.total > p.quantity"
                )
            ).all()
            checked = conn.execute(text("SELECT count(*) FROM resource_posts")).scalar()
            accept_posts = conn.execute(
                text(
                    "SELECT p.id, p.quantity, p.state, coalesce(sum(r.accepted_quantity) FILTER "
                    "(WHERE r.state IN ('accepted', 'delivered')), 0) AS total, "
                    "count(*) FILTER (WHERE r.state = 'accepted') AS accepted "
                    "FROM resource_posts p JOIN resource_responses r ON r.post_id = p.id "
                    "WHERE p.id = ANY(:p) GROUP BY p.id"
                ),
                {"p": post_ids},
            ).all()
    finally:
        engine.dispose()

    def expected_state(quantity, total) -> str:
        return "met" if total >= quantity else "partly_met" if total > 0 else "open"

    wrong_state = [
        (p.id, p.state, str(p.total), str(p.quantity))
        for p in accept_posts
        if p.state != expected_state(p.quantity, p.total)
    ]
    db_accepted = sum(1 for u in uuids if states.get(u) == "accepted")
    db_pending = sum(1 for u in uuids if states.get(u) == "pending")
    unclear = [
        u
        for u in uuids
        if states.get(u) == "pending"
        and not (flashes.get(u) and flashes[u][0] == "error" and LACK_RE.search(flashes[u][1]))
    ]
    full = sum(1 for p in accept_posts if p.total >= p.quantity)
    checks = {
        "no post's accepted total exceeds its quantity (all posts)": not over,
        "accept posts: state follows the accepted total": not wrong_state,
        "accepted in the rows == accepted answers": db_accepted == outcome["accepted"],
        "every refused response is still pending and got a clear answer": not unclear,
        "no HTTP or connection errors": n
        == outcome["accepted"]
        + outcome["refused: not enough left"]
        + outcome["refused: other"]
        + outcome["no message"],
    }
    cpu = ran["cpu"]
    return {
        "clients": n_clients,
        "requests": n,
        "posts": len(post_ids),
        "wall_s": ran["wall_s"],
        "rps": n / ran["wall_s"] if ran["wall_s"] else 0.0,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p90_ms": percentile(latencies, 90) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "max_ms": (latencies[-1] if latencies else 0.0) * 1000,
        "outcomes": dict(outcome),
        "messages": dict(messages.most_common()),
        "rows": {"accepted": db_accepted, "still pending": db_pending},
        "posts_fully_met": full,
        "overlapping_same_post": overlapped,
        "peak_in_flight_same_post": peak,
        "cpu_ms_per_request": {
            "app": cpu["server"] / n * 1000 if n else 0.0,
            "db": cpu["postgres"] / n * 1000 if n else 0.0,
            "client": ran["client_cpu"] / n * 1000 if n else 0.0,
        },
        "connections_per_worker": ran["connections_per_worker"],
        "invariant": {
            "posts_checked": checked,
            "posts_over_quantity": [(i, str(q), str(t)) for i, q, t in over],
            "wrong_state": wrong_state,
            "unclear_refusals": unclear[:10],
            "checks": checks,
            "result": "PASS" if all(checks.values()) else "FAIL",
        },
    }


def print_accept(report: dict[str, Any]) -> None:
    o = report["outcomes"]
    cpu = report["cpu_ms_per_request"]
    print(
        f"\naccept path: {report['clients']} clients, {report['requests']} POSTs on "
        f"{report['posts']} posts in {report['wall_s']:.1f}s: {report['rps']:.0f} req/s, p50 "
        f"{report['p50_ms']:.1f} ms, p90 {report['p90_ms']:.1f} ms, p99 {report['p99_ms']:.1f} ms, "
        f"max {report['max_ms']:.0f} ms; CPU ms/req app {cpu['app']:.1f}, db {cpu['db']:.1f}, "
        f"client {cpu['client']:.1f}"
    )
    print(
        f"  outcomes: {o}; {report['posts_fully_met']} of {report['posts']} posts fully met; "
        f"{report['overlapping_same_post']} requests overlapped another on the same post (up to "
        f"{report['peak_in_flight_same_post']} in flight on one post)"
    )
    for message, count in report["messages"].items():
        print(f"    {count:>5} x {message}")
    inv = report["invariant"]
    for label, ok in inv["checks"].items():
        print(f"  {'ok  ' if ok else 'FAIL'} {label}")
    print(
        f"INVARIANT {inv['result']}: {inv['posts_checked']:,} posts checked, "
        f"{len(inv['posts_over_quantity'])} over their quantity",
        flush=True,
    )


# --- in-process: unloaded latency and profiles ------------------------------------------------


def signed_in_client(app, email: str):
    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    match = CSRF_RE.search(page)
    if not match:
        raise RuntimeError("no csrf_token on /auth/login")
    resp = client.post(
        "/auth/login",
        data={"csrf_token": match.group(1) or match.group(2), "email": email,
              "password": PASSWORD, "next": ""},
    )  # fmt: skip
    if resp.status_code != 302:
        raise RuntimeError(f"in-process sign-in as {email} answered {resp.status_code}")
    return client


def local_timings(app, client, routes: list[tuple[str, str]]) -> dict[str, dict[str, float]]:
    """One request at a time through the Flask test client: the page's own latency, no queue."""
    found = {}
    for label, path in routes:
        for _ in range(3):
            resp = client.get(path)
            resp.get_data()
            if resp.status_code != 200:
                raise RuntimeError(f"in-process GET {path} answered {resp.status_code}")
        times = []
        for _ in range(LOCAL_REPEAT):
            t0 = time.perf_counter()
            client.get(path).get_data()
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        found[label] = {
            "path": path,
            "median_ms": statistics.median(times),
            "min_ms": times[0],
            "max_ms": times[-1],
        }
    return found


def local_hello_ms(app, requests: int = 200) -> float:
    if HELLO not in {rule.rule for rule in app.url_map.iter_rules()}:
        app.add_url_rule(HELLO, "bench_hello", lambda: "hello")
    client = app.test_client()
    times = []
    for _ in range(requests):
        t0 = time.perf_counter()
        client.get(HELLO).get_data()
        times.append(time.perf_counter() - t0)
    return statistics.median(times[requests // 10 :]) * 1000


class Timers:
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


# (module, function, label): timed per request without a profiler; missing ones are skipped.
# They nest (accepted_totals runs inside matches_for and dashboard too).
PHASES = [
    ("services", "board_page", "board_page: the page of posts + the pagination's count"),
    ("services", "visible_post", "visible_post: the post by uuid"),
    ("services", "mark_read", "mark_read, once per response shown"),
    ("services", "remaining", "remaining: the post's accepted total"),
    ("matching", "matches_for", "matches_for: candidates, their totals, ranking"),
    ("matching", "_candidates", "  _candidates (SQL + ORM, up to 200 posts)"),
    ("services", "dashboard", "dashboard: its five queries"),
    ("services", "accepted_totals", "accepted_totals (grouped sum; also inside the above)"),
    ("services", "unread_count", "unread_count (the menu's badge, in the template)"),
    ("views", "render_template", "template (render_template, lazy loads included)"),
]
SQL_PHASE = "all SQL (cursor.execute)"


def _what(sql: str) -> str:
    flat = " ".join(sql.split())
    rules = [
        ("FOR UPDATE", "the post's row lock"),
        ("count(resource_messages.id)", "unread_count"),
        ("max(resource_messages.id)", "mark_read: latest message of a thread"),
        ("FROM resource_thread_reads", "mark_read: the read mark"),
        ("sum(resource_responses.accepted_quantity)) AS sum", "accepted_totals (GROUP BY)"),
        ("coalesce(sum(resource_responses.accepted_quantity)", "accepted_total of one post"),
        ("SELECT count(*)", "the pagination's count"),
        ("FROM resource_categories", "categories"),
        ("FROM users", "the signed-in user"),
        ("FROM memberships", "a city's membership"),
        ("FROM contacts", "the post's contact"),
        ("FROM resource_messages", "a thread's messages (lazy load)"),
        ("resource_posts.category_id = %(", "match candidates (up to 200 posts + cities)"),
        ("FROM resource_posts JOIN cities", "the board's page of posts"),
        ("FROM resource_responses JOIN resource_posts", "the dashboard's responses"),
        ("FROM resource_responses", "responses"),
        ("FROM resource_posts", "posts"),
        ("FROM cities", "cities (selectinload / lazy load)"),
    ]
    return next((label for key, label in rules if key in flat), flat[:40])


def grouped_sql(log: list[dict[str, Any]]) -> dict[str, tuple[int, float, int, str]]:
    groups: dict[str, tuple[int, float, int, str]] = {}
    for entry in log:
        what = _what(entry["sql"])
        n, ms, rows, first = groups.get(what, (0, 0.0, 0, entry["sql"]))
        groups[what] = (n + 1, ms + entry["ms"], rows + max(entry["rows"], 0), first)
    return groups


def package_of(filename: str) -> str:
    if filename == "~" or filename.startswith("<"):
        return "C builtins (psycopg's C parts, str methods, ...)"
    if filename.endswith((".html", ".txt")) or "/templates/" in filename:
        return "Jinja template code"
    match = re.search(r"site-packages/([A-Za-z0-9_]+)", filename)
    if match:
        return match.group(1)
    if "/cacnet/" in filename:
        return "cacnet"
    if "/lib/python" in filename:
        return "Python standard library"
    return "other"


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/work/main/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def profile(app, client, path: str, repeat: int = 5) -> dict[str, Any]:
    """One page in-process: phases (median of ``repeat``), its SQL, the EXPLAIN ANALYZE of the
    slowest statement, cProfile of one more request."""
    from unittest import mock

    import cacnet.resources.matching as matching
    import cacnet.resources.services as services
    import cacnet.resources.views as views
    from cacnet.extensions import db

    modules = {"services": services, "matching": matching, "views": views}
    for _ in range(2):
        warm = client.get(path)
        if warm.status_code != 200:
            raise RuntimeError(f"in-process GET {path} answered {warm.status_code}")
    size = len(warm.get_data())
    with app.app_context():
        engine = db.engine
    totals, phases, sql = [], [], []
    for _ in range(repeat):
        timers = Timers()
        with contextlib.ExitStack() as stack:
            for module, name, label in PHASES:
                func = getattr(modules[module], name, None)
                if func is not None:
                    stack.enter_context(
                        mock.patch.object(modules[module], name, timers.wrap(label, func))
                    )
            log = stack.enter_context(sql_log(engine))
            t0 = time.perf_counter()
            client.get(path).get_data()
            totals.append(time.perf_counter() - t0)
        timers.spent[SQL_PHASE] = sum(e["ms"] for e in log) / 1000
        phases.append(timers.spent)
        sql = log
    wall = statistics.median(totals) * 1000
    phase_ms = {
        label: statistics.median(p.get(label, 0.0) for p in phases) * 1000
        for label in dict.fromkeys(k for p in phases for k in p)
    }
    plan: list[str] = []
    slowest = max(sql, key=lambda e: e["ms"]) if sql else None
    if slowest is not None:
        with app.app_context(), db.engine.connect() as conn:
            explain = "EXPLAIN (ANALYZE, BUFFERS) " + slowest["sql"]
            conn.exec_driver_sql(explain, slowest["parameters"]).all()  # warm; the second counts
            plan = [row[0] for row in conn.exec_driver_sql(explain, slowest["parameters"])]
    profiler = cProfile.Profile()
    profiler.enable()
    client.get(path).get_data()
    profiler.disable()
    stats = pstats.Stats(profiler)
    by_package: dict[str, float] = {}
    top = []
    for (filename, line, func), (_cc, ncalls, tottime, cumtime, _callers) in stats.stats.items():
        package = package_of(filename)
        by_package[package] = by_package.get(package, 0.0) + tottime
        top.append({"function": f"{_short(filename)}:{line}({func})", "ncalls": ncalls,
                    "tottime_ms": tottime * 1000, "cumtime_ms": cumtime * 1000})  # fmt: skip
    top.sort(key=lambda e: e["tottime_ms"], reverse=True)
    return {
        "path": path,
        "bytes": size,
        "wall_ms_median": wall,
        "wall_ms_all": [t * 1000 for t in totals],
        "phases_ms": phase_ms,
        "sql": [
            {"what": _what(e["sql"]), "sql": e["sql"], "ms": e["ms"], "rows": e["rows"]}
            for e in sql
        ],
        "slowest_sql": slowest["sql"] if slowest else None,
        "slowest_sql_plan": plan,
        "profiled_ms": stats.total_tt * 1000,
        "own_time_by_package_ms": dict(
            sorted(((k, v * 1000) for k, v in by_package.items()), key=lambda kv: -kv[1])
        ),
        "top_own_time": top[:15],
    }


def print_profile(found: dict[str, Any]) -> None:
    wall = found["wall_ms_median"]
    print(
        f"\nin-process profile of GET {found['path']} ({found['bytes']:,} bytes): {wall:.1f} ms "
        f"per request (median of {len(found['wall_ms_all'])}, no profiler)"
    )
    print("  phases (no profiler; each includes its own SQL; they nest):")
    for label, ms in found["phases_ms"].items():
        if ms >= 0.05:
            print(f"    {label:<62} {ms:8.1f} ms  {ms / wall:6.1%}")
    print("  SQL statements of the request (cursor.execute: PostgreSQL and the transfer):")
    for what, (n, ms, rows, sql) in sorted(
        grouped_sql(found["sql"]).items(), key=lambda kv: -kv[1][1]
    ):
        times = f"{n} x " if n > 1 else ""
        print(f"    {times:>6}{ms:7.1f} ms {rows:>6} rows  {what}: {' '.join(sql.split())[:60]}")
    print("  EXPLAIN ANALYZE of the slowest statement:")
    for line in found["slowest_sql_plan"]:
        print(f"    {line}")
    profiled = found["profiled_ms"]
    print(f"  cProfile ({profiled:.0f} ms under the profiler): own time by package")
    for package, ms in found["own_time_by_package_ms"].items():
        if ms / profiled >= 0.02:
            print(f"    {package:<52} {ms:8.1f} ms  {ms / profiled:6.1%}")
    print("  top functions by own time:")
    for entry in found["top_own_time"][:8]:
        print(f"    {entry['tottime_ms']:7.1f} ms  {entry['ncalls']:>7} calls  {entry['function']}")


# --- what if: the suggested indexes and queries, measured in a transaction rolled back ----------

_P = r"%\(\w+\)s(?:::\w+)?"  # a bound parameter as psycopg sees it, maybe with a cast
CASE_RE = re.compile(
    rf"CASE WHEN \(resource_posts\.urgency = {_P}\) THEN {_P} WHEN \(resource_posts\."
    rf"urgency = {_P}\) THEN {_P} ELSE {_P} END"
)
BOARD_INDEX = (
    "CREATE INDEX ix_whatif_board ON resource_posts (urgency, created_at DESC, id DESC) "
    "WHERE state IN ('open', 'partly_met')"
)
COUNT_INDEX = (
    "CREATE INDEX ix_whatif_board_count ON resource_posts (expires_on) "
    "INCLUDE (hidden_at, city_id, kind) WHERE state IN ('open', 'partly_met')"
)
MATCH_INDEX = (
    "CREATE INDEX ix_whatif_match ON resource_posts (category_id, kind, unit, created_at DESC, "
    "id DESC) WHERE state IN ('open', 'partly_met') AND hidden_at IS NULL"
)
UNREAD_UNION = """\
SELECT count(m.id) FROM resource_messages m
WHERE m.response_id IN (
    SELECT r.id FROM resource_responses r WHERE r.city_id = %(city)s
    UNION
    SELECT r.id FROM resource_responses r JOIN resource_posts p ON p.id = r.post_id
    WHERE p.city_id = %(city)s)
  AND m.city_id <> %(city)s
  AND m.id > coalesce((SELECT t.last_read_message_id FROM resource_thread_reads t
                       WHERE t.user_id = %(user)s AND t.response_id = m.response_id), 0)"""
ACCEPTED_UNION = """\
SELECT resource_responses.* FROM resource_responses
WHERE resource_responses.id IN (
    SELECT r.id FROM resource_responses r JOIN resource_posts p ON p.id = r.post_id
    WHERE p.city_id = %(city)s AND r.state = 'accepted'
    UNION
    SELECT r.id FROM resource_responses r WHERE r.city_id = %(city)s AND r.state = 'accepted')
ORDER BY resource_responses.proposed_date ASC NULLS LAST, resource_responses.id"""


def captured(app, call) -> list[dict[str, Any]]:
    """The statements ``call()`` runs (inside a request context of ``app``)."""
    from cacnet.extensions import db

    with app.test_request_context("/"):
        with sql_log(db.engine) as log:
            call()
        db.session.rollback()
    return log


def execution_ms(conn, sql: str, params) -> tuple[float, list[str]]:
    """EXPLAIN ANALYZE twice (the first warms the cache); the second's time and plan."""
    explain = "EXPLAIN (ANALYZE, BUFFERS) " + sql
    conn.exec_driver_sql(explain, params).all()
    plan = [row[0] for row in conn.exec_driver_sql(explain, params)]
    found = [line for line in plan if line.startswith("Execution Time:")]
    return (float(found[0].split(":")[1].split()[0]) if found else float("nan")), plan


def what_if(app, db_url: str, facts: dict[str, Any]) -> list[dict[str, Any]]:
    """For each suggestion: the app's statement as it runs now, and the suggested statement
    and/or index, each by EXPLAIN ANALYZE; the indexes are made in a transaction that is rolled
    back, so the data set is left as it was."""
    from sqlalchemy import select

    from cacnet.accounts.models import User
    from cacnet.extensions import db
    from cacnet.resources import matching, services
    from cacnet.resources.models import ResourcePost

    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == DASHBOARD_EMAILS[0]))
        post = db.session.scalar(
            select(ResourcePost).where(ResourcePost.uuid == facts["own_post"]["uuid"])
        )
        user_id, city_id = user.id, user.city_id

        def first(log, *needles) -> dict[str, Any] | None:
            return next((e for e in log if all(n in e["sql"] for n in needles)), None)

        unread = first(captured(app, lambda: services.unread_count(user)), "count(")
        page1 = captured(app, lambda: services.board_page(user, services.BoardQuery()))
        region = captured(
            app,
            lambda: services.board_page(user, services.BoardQuery(region="asia", kind="request")),
        )
        dash = captured(app, lambda: services.dashboard(user))
        candidates = first(
            captured(app, lambda: matching._candidates(post, date.today())),
            "resource_posts.category_id = %(",
        )
    cases = []

    def case(key, label, before, after_sql=None, ddl=(), change=""):
        if before is None:
            return
        cases.append({"key": key, "label": label, "before": before, "after_sql": after_sql,
                      "ddl": list(ddl), "change": change})  # fmt: skip

    items1, count1 = first(page1, "LIMIT"), first(page1, "count(*)")
    items2 = first(region, "LIMIT")
    accepted = first(dash, "resource_responses.state = ", " OR ")
    case("unread", "unread_count (every signed-in page)", unread,
         (UNREAD_UNION, {"city": city_id, "user": user_id}),
         change="the OR across responses and posts as a UNION of the two index paths")  # fmt: skip
    for key, label, stmt in (("board", "board page 1: the page", items1),
                             ("region", "board region+kind: the page", items2)):  # fmt: skip
        if stmt is not None and CASE_RE.search(stmt["sql"]):
            case(key, label, stmt,
                 (CASE_RE.sub("resource_posts.urgency", stmt["sql"]), stmt["parameters"]),
                 ddl=[BOARD_INDEX],
                 change="ORDER BY urgency (critical < high < normal alphabetically) + index")  # fmt: skip
    if count1 is not None and "cities." not in count1["sql"].split("WHERE", 1)[-1]:
        case("count", "board page 1: the pagination's count", count1,
             (count1["sql"].replace(
                 "FROM resource_posts JOIN cities ON cities.id = resource_posts.city_id",
                 "FROM resource_posts"), count1["parameters"]),
             ddl=[COUNT_INDEX],
             change="no JOIN cities without a country/region filter + covering partial index")  # fmt: skip
    case("accepted", "dashboard: accepted exchanges", accepted,
         (ACCEPTED_UNION, {"city": city_id}),
         change="the OR across the join as a UNION")  # fmt: skip
    case("candidates", "post page: match candidates", candidates,
         (candidates["sql"], candidates["parameters"]) if candidates else None,
         ddl=[MATCH_INDEX], change="a partial index in the candidates' order")  # fmt: skip

    engine = engine_for(db_url)
    results = []
    try:
        with engine.connect() as conn:
            for c in cases:
                before_ms, before_plan = execution_ms(
                    conn, c["before"]["sql"], c["before"]["parameters"]
                )
                conn.rollback()
                after_ms, after_plan = float("nan"), []
                with conn.begin() as tx:
                    for ddl in c["ddl"]:
                        conn.exec_driver_sql(ddl)
                    sql, params = c["after_sql"]
                    after_ms, after_plan = execution_ms(conn, sql, params)
                    tx.rollback()
                results.append({"key": c["key"], "label": c["label"], "change": c["change"],
                                "ddl": c["ddl"], "before_ms": before_ms, "after_ms": after_ms,
                                "before_sql": c["before"]["sql"], "after_sql": c["after_sql"][0],
                                "before_plan": before_plan, "after_plan": after_plan})  # fmt: skip
    finally:
        engine.dispose()
    return results


def print_what_if(results: list[dict[str, Any]]) -> None:
    print("\nwhat if (EXPLAIN ANALYZE, warm cache; the indexes made in a transaction rolled back):")
    width = max((len(r["label"]) for r in results), default=10)
    for r in results:
        print(
            f"  {r['label']:<{width}}  {r['before_ms']:8.2f} ms -> {r['after_ms']:7.2f} ms  "
            f"{r['change']}"
        )
        for ddl in r["ddl"]:
            print(f"  {'':<{width}}    {ddl}")


def suggestions(
    profiles: list[dict[str, Any]], results: list[dict[str, Any]], timings: dict[str, Any]
) -> list[str]:
    """Where the time of the slow pages goes, and what would help (nothing is changed here)."""
    got = {r["key"]: r for r in results}
    lines = []
    for found in profiles:
        wall = found["wall_ms_median"]
        groups = sorted(grouped_sql(found["sql"]).items(), key=lambda kv: -kv[1][1])
        sql_ms = sum(e["ms"] for e in found["sql"])
        parts = ", ".join(
            f"{what} {ms:.1f}" + (f" ({n} statements)" if n > 1 else "")
            for what, (n, ms, _rows, _sql) in groups[:4]
        )
        lines.append(
            f"WHERE THE TIME GOES in GET {found['path']}: {wall:.0f} ms in-process (median); "
            f"the SQL of one such request {sql_ms:.0f} ms in {len(found['sql'])} statements "
            f"({parts} ms)."
        )

    def ms(key: str) -> str:
        r = got[key]
        return f"{r['before_ms']:.1f} ms -> {r['after_ms']:.1f} ms"

    every = [f for f in profiles if any(e["what"] == "unread_count" for e in f["sql"])]
    if "unread" in got and every:
        share = statistics.median(
            sum(e["ms"] for e in f["sql"] if e["what"] == "unread_count") / f["wall_ms_median"]
            for f in every
        )
        lines.append(
            "SUGGESTION (every page): services.unread_count, the unread badge base.html shows "
            f"on every signed-in page, is ~{share:.0%} of each slow page. Its WHERE "
            "(resource_responses.city_id = :c OR resource_posts.city_id = :c) spans the join, so "
            "PostgreSQL scans and hash-joins all responses and posts (Parallel Seq Scan of both, "
            "in the plans above). Select the response ids of the two sides separately and "
            "UNION them (each side uses an existing index: ix_resource_responses_city_state, "
            f"ix_resource_posts_city_state + ix_resource_responses_post_state): {ms('unread')}. "
            "And run it once per request (cache it on flask.g): /resources/mine runs it twice "
            "(services.dashboard's 'unread' and the menu)."
        )
    if "board" in got:
        lines.append(
            "SUGGESTION (board): the default order CASE urgency ... END, created_at DESC, id "
            "DESC cannot use an index, so every page sorts all ~65,000 live posts (top-N "
            "heapsort after a Seq Scan and a Hash Join to cities). 'critical' < 'high' < "
            "'normal' sort alphabetically in the same order, so ORDER BY urgency, created_at "
            "DESC, id DESC with a partial index (urgency, created_at DESC, id DESC) WHERE state "
            f"IN ('open', 'partly_met') reads the first 25 rows and stops: page 1 {ms('board')}"
            + (f", region+kind {ms('region')}" if "region" in got else "")
            + " (a test that the urgencies sort in that order keeps it honest; or a stored "
            "urgency_rank column if a fourth urgency may come)."
        )
    if "count" in got:
        lines.append(
            "SUGGESTION (board): the pagination's count over the live posts joins cities even "
            "when no country or region is asked for (board_select always joins): join only for "
            "those filters, and give the count a covering partial index (expires_on) INCLUDE "
            f"(hidden_at, city_id, kind) WHERE state IN ('open', 'partly_met'): {ms('count')}. "
            "It still reads every live post: cache the unfiltered count for a few seconds, or "
            "show 'more than 1,000' past a capped count (SELECT count(*) FROM (... LIMIT 1001))."
        )
    if "accepted" in got:
        lazy = next(
            (
                n
                for f in profiles
                if f["path"].endswith("/mine")
                for what, (n, _ms, _r, _s) in grouped_sql(f["sql"]).items()
                if what.startswith("cities")
            ),
            0,
        )
        lines.append(
            "SUGGESTION (dashboard): its 'accepted exchanges' query has the same OR across the "
            f"join ((posts.city_id = :c OR responses.city_id = :c)): as a UNION {ms('accepted')}. "
            f"The template then loads cities one by one ({lazy} statements for cities: "
            "r.post.city of 'your responses waiting'): selectinload(ResourceResponse.post)"
            ".selectinload(ResourcePost.city)."
        )
    if "candidates" in got:
        r = got["candidates"]
        helps = r["after_ms"] < 0.6 * r["before_ms"]
        match_ms = statistics.median(
            [
                f["phases_ms"].get("matches_for: candidates, their totals, ranking", 0.0)
                for f in profiles
                if "matches_for: candidates, their totals, ranking" in f["phases_ms"]
            ]
            or [0.0]
        )
        lines.append(
            f"SUGGESTION (post page): the matches take ~{match_ms:.0f} ms of the page; their "
            f"SQL, the newest 200 live candidates of the category, kind and unit, {ms('candidates')}"
            " with a partial index (category_id, kind, unit, created_at DESC, id DESC) WHERE "
            "state IN ('open', 'partly_met') AND hidden_at IS NULL"
            + (
                ": worth adding."
                if helps
                else " (little: PostgreSQL still joins every candidate to cities before the "
                "LIMIT, expecting ~90 rows where ~1,700 match, since unit and category are "
                "correlated; CREATE STATISTICS (dependencies) ON category_id, unit FROM "
                "resource_posts tells it)."
            )
            + " The rest is the ORM building 200 posts (descriptions and search_text included) "
            "and their cities to keep 5: load_only the columns the ranking and the list need, "
            "or cap the candidates lower."
        )
    return lines


def update_results(name: str, **extra: Any) -> None:
    """Add to the JSON compare() wrote (the newest file of this name, and -latest)."""
    latest = RESULTS_DIR / f"{name}-latest.json"
    report = json.loads(latest.read_text())
    report.setdefault("extra", {}).update(extra)
    text = json.dumps(report, indent=2, default=str) + "\n"
    stamp = datetime.fromisoformat(report["started_utc"]).strftime("%Y%m%dT%H%M%SZ")
    for path in (RESULTS_DIR / f"{name}-{stamp}.json", latest):
        path.write_text(text)


# --- the run ----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_load_arguments(parser, DATABASE)
    parser.add_argument("--load-only", action="store_true", help="load and describe; no gunicorn")
    parser.add_argument(
        "--profile-only", action="store_true", help="load, then time and profile in-process"
    )
    parser.add_argument(
        "--profile-path", action="append", help="profile this page too (repeatable)"
    )
    parser.add_argument(
        "--slow-ms",
        type=float,
        default=SLOW_MS,
        help=f"profile pages slower than this in-process (default {SLOW_MS:g} ms)",
    )
    parser.add_argument("--no-profile", action="store_true", help="time in-process, never profile")
    parser.add_argument("--no-accept", action="store_true", help="skip the accept path")
    parser.add_argument(
        "--accept-clients", type=int, default=32, help="accept path clients (default 32)"
    )
    parser.add_argument(
        "--accept-posts", type=int, default=64, help="posts of the accept path (default 64)"
    )
    parser.add_argument(
        "--accept-responses",
        type=int,
        default=12,
        help="pending responses per accept post (default 12)",
    )
    parser.add_argument(
        "--name", default="resources", help="results file prefix (default resources)"
    )
    return parser.parse_args(argv)


def in_process(
    db_url: str, routes: list[tuple[str, str]], facts: dict[str, Any], slow_ms: float,
    extra_paths: list[str], profile_pages: bool,
) -> dict[str, Any]:  # fmt: skip
    """Unloaded latency of each page; profiles of the slow ones (and of ``extra_paths``), the
    suggested changes measured, suggestions."""
    with local_app(db_url) as app:
        hello = local_hello_ms(app)
        client = signed_in_client(app, DASHBOARD_EMAILS[0])
        timings = local_timings(app, client, routes)
        print(f"\nin-process, one request at a time (Flask test client; hello {hello:.2f} ms):")
        for label, t in timings.items():
            slow = "  SLOW" if t["median_ms"] > slow_ms else ""
            print(
                f"  {label:<28} median {t['median_ms']:7.1f} ms  (min {t['min_ms']:.1f}, max "
                f"{t['max_ms']:.1f}){slow}"
            )
        paths = [t["path"] for t in timings.values() if t["median_ms"] > slow_ms]
        paths += [p for p in extra_paths if p not in paths]
        profiles: list[dict[str, Any]] = []
        changes: list[dict[str, Any]] = []
        advice: list[str] = []
        if profile_pages and paths:
            for path in paths:
                found = profile(app, client, path)
                print_profile(found)
                profiles.append(found)
            changes = what_if(app, db_url, facts)
            print_what_if(changes)
            advice = suggestions(profiles, changes, timings)
            print()
            print("\n".join(advice), flush=True)
    return {"unloaded_ms": timings, "unloaded_hello_ms": hello, "profile": profiles,
            "what_if": changes, "suggestions": advice}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"database {DATABASE} ...", flush=True)
    db_url = ensure_database(DATABASE, recreate=args.recreate_db)
    with tempfile.TemporaryDirectory(prefix="cacnet-bench-") as instance:
        write_instance_config(instance)
        prepare_database(app_environment(db_url, instance), seed=False)
    load(db_url)
    removed = delete_accept_posts(db_url)
    if removed:
        print(f"removed {removed} accept posts left by an earlier run", flush=True)
    facts = data_facts(db_url)
    print_facts(facts)
    if args.load_only:
        return 0
    local_routes = [(r.name, r.path) for r in routes_for(facts, ("",))]
    if args.profile_only:
        in_process(
            db_url, local_routes, facts, args.slow_ms, args.profile_path or [], not args.no_profile
        )
        return 0

    accept: dict[str, Any] | None = None
    with serve_bench(db_url, args.workers, args.threads) as server:
        print(f"signing in {args.concurrency} sessions of the dashboard city ...", flush=True)
        sessions = sessions_for(
            server.host, server.port, DASHBOARD_EMAILS, args.concurrency, "/resources/mine"
        )
        routes = routes_for(facts, tuple(cookie for cookie, _token, _email in sessions))
        pages = check_pages(server.host, server.port, routes)
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
                "postgres": postgres_version(db_url),
                "database": DATABASE,
                "data": DATA_MARKER,
                "data_facts": facts,
                "search": SEARCH,
                "pages": pages,
                "sessions": len(sessions),
            },
        )
        print(
            "NOTE: PostgreSQL's parallel workers (the Parallel Seq Scans of the board and of the "
            "unread badge) count as 'other cores', not 'db': their process title names no "
            "database.",
            flush=True,
        )
        if not args.no_accept:
            print(
                f"\naccept path: {args.accept_posts} posts x {args.accept_responses} pending "
                f"responses, {args.accept_clients} clients ...",
                flush=True,
            )
            plan = prepare_accept(db_url, facts, args.accept_posts, args.accept_responses, SEED + 1)
            accept_sessions: list[tuple] = []
            work: list[list[AcceptItem]] = []
            for i, (cc, emails) in enumerate(ACCEPT_EMAILS.items()):
                count = args.accept_clients // len(ACCEPT_EMAILS) + (
                    1 if i < args.accept_clients % len(ACCEPT_EMAILS) else 0
                )
                if not count:
                    continue
                mine = sessions_for(server.host, server.port, emails, count, "/resources/mine")
                accept_sessions.extend(mine)
                # The city's responses in post order, dealt out in turn: its clients work on the
                # same post at once and meet on its row lock.
                items = plan[facts["accept_cities"][cc]]
                work.extend(items[k :: len(mine)] for k in range(len(mine)))
            ran = run_accept(server, accept_sessions, work)
            accept = accept_report(
                db_url, ran, server.env["CACNET_SECRET_KEY"], len(accept_sessions)
            )
            print_accept(accept)
    if accept is not None:
        delete_accept_posts(db_url)

    found = in_process(
        db_url, [(r.name, r.path) for r in routes], facts, args.slow_ms,
        args.profile_path or [], not args.no_profile,
    )  # fmt: skip
    timings, local_hello = found["unloaded_ms"], found["unloaded_hello_ms"]
    rows = {row["route"]["label"]: row for row in report["results"]}
    print(
        f"\n{'page':<28} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'x hello':>8} "
        f"{'unloaded ms':>12}"
    )
    for label, row in rows.items():
        unloaded = timings.get(label, {}).get("median_ms")
        print(
            f"{label:<28} {row['rps']:>7,.0f} {row['p50_ms']:>8.1f} {row['p99_ms']:>8.1f} "
            f"{row['ratio_to_baseline']:>8.3f} "
            + (f"{unloaded:>12.1f}" if unloaded is not None else f"{local_hello:>12.2f}")
        )
    if accept is not None:
        print(
            f"{'accept POST, ' + str(accept['clients']) + ' clients':<28} {accept['rps']:>7,.0f} "
            f"{accept['p50_ms']:>8.1f} "
            f"{accept['p99_ms']:>8.1f}   invariant {accept['invariant']['result']}"
        )
    update_results(args.name, accept=accept, slow_ms=args.slow_ms, **found)
    return 0 if accept is None or accept["invariant"]["result"] == "PASS" else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted; gunicorn stopped", file=sys.stderr)
        sys.exit(130)
