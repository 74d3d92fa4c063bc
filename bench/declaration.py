"""Benchmark the sealed declaration: render and seal it for 10 to 5,000 signatories beside
WeasyPrint's floor, then serve the stored file under gunicorn beside ``/__bench/hello``.

Run from the repository root, either way:

    .venv/bin/python -m bench.declaration                 # counts 10,100,1000,5000: ~10 minutes
    .venv/bin/python bench/declaration.py --quick         # counts 10,100,1000
    .venv/bin/python -m bench.declaration --counts 100,1000 --serve-count 5000
    .venv/bin/python -m bench.declaration --no-serve      # renders only (no PostgreSQL, gunicorn)
    .venv/bin/python -m bench.declaration --no-render     # serving only

Data. A temporary instance folder gets a self-signed seal (``seal.init_seal``) and realistic
uploads stored by SHA-256 as ``cacnet.core.uploads.store`` does: ``--signature-images`` (300)
distinct drawn signatures (600 x 200 RGBA, anti-aliased ink strokes, re-encoded like
``normalise_signature``) and ``--logo-images`` (100) distinct 256 x 256 RGBA logos (a gradient
emblem, a polygon, an initial), assigned round-robin, so the PDF embeds up to 400 distinct images.
The signatories are the cities of ``bench.directory`` (its generator and seed: Latin names with
accents, Cyrillic and Hangul local names, ~120 countries), every one with a logo and a verified
endorsement of Statement version 1 (names, titles, dates, a ``record_sha256`` from
``canonical_record``), all from fixed seeds.

1. Render. For each count, in a fresh subprocess each (``python -m bench.declaration --child``):
   the app, a warm-up render of a 2-signatory declaration (reported apart: one-time costs such as
   lazy imports), then the measured render: ``render_declaration`` on the snapshot rows turned
   into endorsements by ``documents._as_endorsement`` (exactly what ``render_document`` does),
   then ``seal.seal_pdf`` with ``SEAL_BOX``. "Cold" means the document is made from nothing: new
   HTML, new font configuration, every image fetched and decoded, nothing cached from an earlier
   render except what a long-lived worker process would have. Counts up to 100 are rendered 3
   times in their process (median reported). Peak memory: ``ru_maxrss`` of the subprocess after
   the measured render(s) minus its ``ru_maxrss`` after imports, app and warm-up (resident memory,
   WeasyPrint's C libraries included; tracemalloc would only see Python's allocations).
2. The engine's floor, in its own fresh subprocess per count, right after the declaration's:
   ``cacnet.core.pdf.render_pdf`` (same fetcher, same bundled fonts, same PDF/A-2b output) of a
   plain HTML ``<table>`` of the same rows: the same text (city, local name, country, name, title,
   place and date, record SHA-256) and the same logo and signature images at the declaration's
   sizes (two CSS rules: WeasyPrint ignores ``width``/``height`` attributes without presentational
   hints), the same ``@font-face`` rules and no other styling; up to ``--bare-max`` (1,000) also
   a barer reference, one plain ``<div>`` per signatory. Printed: the ratio declaration / floor
   per count (target: within 2x at 1,000; CPU time, wall kept too), where the time goes per
   WeasyPrint phase, and ms per signatory per count with the ratio of the largest count's to
   100's (target: flat, within 1.25x).
3. Serving once stored (``--serve-count``, 1,000): a PostgreSQL database
   ``cacnet_bench_declaration`` (dropped and created by this script, dropped again at the end
   unless ``--keep-db``), migrated, loaded by bulk INSERTs with the cities (logos), approved
   memberships and verified endorsements; ``documents.issue_current_declaration_now()`` timed
   (the full pipeline: snapshot, render, seal, store); then in-process (Flask test client): the
   first GET /declaration.pdf with an empty cache, the median of ~200 GETs, the median of ~200
   conditional GETs (If-None-Match: the ETag), and where a GET's time goes; then gunicorn
   (``bench.harness``: 2 workers x 4 threads) measuring /declaration.pdf and the conditional GET
   beside ``/__bench/hello``. Target: served from store in under 20 ms (p50 and p99 reported).
4. Parallel pages (``--parallel-count``, 1,000; 0 to skip): the signatories split in two halves
   rendered by a ``ProcessPoolExecutor`` of 2 (spawned, warmed up first), joined with pypdf (the
   second half without its front pages) and sealed, against the serial declaration of the same
   count measured in 1. Only measured: the app is not changed (the joined file's page numbers and
   PDF/A conformance would need more work, see the output).
5. Where the time goes: every render in 1 and 2 has WeasyPrint's phases timed by wrapping a few of
   its functions (HTML parsing, CSS cascade, box tree, image fetching and decoding, layout, text
   shaping, drawing, image re-encoding, font subsetting, writing; exclusive times, printed side by
   side); when the floor target is missed, or with ``--profile``, cProfile of one declaration
   render of ``--profile-count`` (1,000) signatories: own time by package, top functions.

Results: the tables, the targets, notes computed from the figures, and
``bench/results/declaration-<UTC timestamp>.json`` and ``declaration-latest.json`` (everything,
each subprocess's raw figures included). A stage that fails is reported and recorded in the JSON
(``errors``), and the others still run. gunicorn is stopped and the database dropped at the end,
on errors and on Ctrl-C. About 8 minutes with the defaults on the 2-core machine (5,000 signatories:
~100 s for the declaration, as much for the floor).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make ``bench`` and ``cacnet`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    HELLO,
    ROOT,
    GunicornServer,
    Route,
    app_environment,
    compare,
    ensure_database,
    machine_facts,
    postgres_version,
    prepare_database,
    stop_on_sigterm,
    write_results,
)

NAME = "declaration"
DATABASE = "cacnet_bench_declaration"
SEED = 20201122
DEFAULT_COUNTS = (10, 100, 1000, 5000)
QUICK_COUNTS = (10, 100, 1000)
SIGNATURE_IMAGES = 300
LOGO_IMAGES = 100
SMALL_COUNT = 100  # counts up to this are rendered REPEAT_SMALL times in their process
REPEAT_SMALL = 3
CHILD_TIMEOUT = 1800  # seconds for one subprocess, whatever the count

# The targets (the issue).
FLOOR_TARGET = 2.0  # declaration render within 2x the floor's ...
FLOOR_TARGET_COUNT = 1000  # ... at 1,000 signatories
FLAT_TARGET = 1.25  # ms/signatory at the largest count at most 1.25x that at 100
FLAT_BASE_COUNT = 100
SERVE_TARGET_MS = 20.0  # the stored declaration served in under 20 ms

DOCUMENT_ID = "D-BENC-H000-0000-0001"
VERIFY_URL = f"http://127.0.0.1:5000/verify/{DOCUMENT_ID}"
BENCH_USER_EMAIL = "bench.declaration@bench.example"
FIRST_SIGNING_DAY = date(2020, 6, 5)
# The data's "now" (city creation and signing dates are drawn before it): fixed, so every run
# renders the same text; the real time when that is earlier.
DATA_NOW = datetime(2026, 11, 1, tzinfo=UTC)
SIGNATORY_TITLES = ["Mayor", "Governor", "Deputy Mayor", "Lord Mayor", "Mayor of the City",
                    "Metropolitan Mayor", "First Deputy Mayor", "Acting Mayor"]  # fmt: skip
INKS = [(16, 24, 48), (10, 10, 10), (20, 40, 120), (30, 30, 90), (40, 20, 60)]


# --- images -------------------------------------------------------------------------------------


def signature_png(rng: random.Random) -> bytes:
    """A drawn signature as the signing canvas gives it: 600 x 200 RGBA, transparent, one to three
    anti-aliased "words" of looping ink and sometimes an underline; re-encoded with
    ``optimize=True`` as ``normalise_signature`` does."""
    from PIL import Image, ImageDraw

    scale, width, height = 2, 600, 200
    image = Image.new("RGBA", (width * scale, height * scale), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    ink = (*rng.choice(INKS), 255)
    pen = round(rng.uniform(2.2, 4.5) * scale)
    x = rng.uniform(25, 90)
    baseline = rng.uniform(105, 135)
    for _word in range(rng.randint(1, 3)):
        length = rng.uniform(110, 260)
        loops = rng.randint(4, 11)
        amp = rng.uniform(18, 48)
        slant = rng.uniform(4, 14)
        phase = rng.uniform(0, 2 * math.pi)
        steps = 40 * loops
        points = []
        for i in range(steps + 1):
            t = i / steps
            angle = 2 * math.pi * loops * t + phase
            envelope = 0.55 + 0.45 * math.sin(3.1 * t + phase)
            px = x + t * length + slant * math.cos(angle)
            py = baseline - amp * envelope * math.sin(angle) - 8 * math.sin(1.7 * t + phase)
            points.append((px * scale, py * scale))
        draw.line(points, fill=ink, width=pen, joint="curve")
        x += length + rng.uniform(12, 40)
        if x > width - 80:
            break
    if rng.random() < 0.6:
        y = baseline + rng.uniform(25, 45)
        start, end = rng.uniform(20, 80), min(x + rng.uniform(-30, 20), width - 15)
        curve = [
            ((start + (end - start) * t) * scale,
             (y + 6 * math.sin(math.pi * t) - 4 * t) * scale)
            for t in (i / 30 for i in range(31))
        ]  # fmt: skip
        draw.line(curve, fill=ink, width=max(pen - scale, scale), joint="curve")
    image = image.resize((width, height), Image.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def logo_png(rng: random.Random, letter: str) -> bytes:
    """A city logo as ``normalise_logo`` stores it: 256 x 256 RGBA PNG, a gradient disc or shield,
    a polygon emblem and an initial."""
    from PIL import Image, ImageDraw, ImageFont

    size = 256
    c1 = (rng.randrange(256), rng.randrange(256), rng.randrange(256), 255)
    c2 = (rng.randrange(256), rng.randrange(256), rng.randrange(256), 255)
    gradient = Image.linear_gradient("L").rotate(rng.uniform(0, 360)).resize((size, size))
    colours = Image.composite(Image.new("RGBA", (size, size), c1),
                              Image.new("RGBA", (size, size), c2), gradient)  # fmt: skip
    mask = Image.new("L", (size, size), 0)
    shape = ImageDraw.Draw(mask)
    if rng.random() < 0.5:
        shape.ellipse((6, 6, size - 6, size - 6), fill=255)
    else:
        shape.polygon([(20, 14), (236, 14), (236, 120), (128, 246), (20, 120)], fill=255)
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    image.paste(colours, (0, 0), mask)
    draw = ImageDraw.Draw(image)
    emblem = (255, 255, 255, rng.randrange(90, 200))
    draw.regular_polygon((128, 128, rng.randint(60, 95)), n_sides=rng.randint(3, 8),
                         rotation=rng.uniform(0, 90), fill=emblem,
                         outline=(0, 0, 0, 160), width=3)  # fmt: skip
    for ring in range(rng.randint(0, 3)):
        r = 100 - ring * 9
        draw.ellipse((128 - r, 128 - r, 128 + r, 128 + r), outline=(255, 255, 255, 200), width=2)
    font = ImageFont.truetype(str(ROOT / "static" / "fonts" / "NotoSans-Bold-pdf.ttf"), 96)
    draw.text((128, 132), letter, font=font, anchor="mm", fill=(20, 20, 20, 230))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def store_upload(upload_folder: Path, folder: str, data: bytes) -> str:
    """Write ``data`` as ``cacnet.core.uploads.store`` does: ``<folder>/<sha256>.png``."""
    digest = hashlib.sha256(data).hexdigest()
    target = upload_folder / folder / f"{digest}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        target.write_bytes(data)
    return digest


def _image(job: tuple[str, int]) -> bytes:
    kind, index = job
    rng = random.Random(f"{SEED}:{kind}:{index}")
    if kind == "signature":
        return signature_png(rng)
    return logo_png(rng, "ABCDEFGHIJKLMNOPRSTUVWZ"[index % 23])


def write_images(instance: Path, signatures: int, logos: int) -> dict[str, Any]:
    """The images (each from its own seed, made by a process per CPU), stored under
    ``<instance>/uploads`` (UPLOAD_FOLDER's default); their hashes."""
    from concurrent.futures import ProcessPoolExecutor

    upload_folder = instance / "uploads"
    started = time.perf_counter()
    jobs = [("signature", i) for i in range(signatures)] + [("logo", i) for i in range(logos)]
    with ProcessPoolExecutor(os.cpu_count() or 1) as pool:
        made = list(pool.map(_image, jobs, chunksize=8))
    shas: dict[str, list[str]] = {"signature": [], "logo": []}
    sizes: dict[str, int] = {"signature": 0, "logo": 0}
    for (kind, _index), data in zip(jobs, made, strict=True):
        shas[kind].append(store_upload(upload_folder, f"{kind}s", data))
        sizes[kind] += len(data)
    return {
        "signatures": shas["signature"],
        "logos": shas["logo"],
        "facts": {
            "signature_images": len(set(shas["signature"])),
            "signature_size_px": [600, 200],
            "signature_mean_bytes": round(sizes["signature"] / max(signatures, 1)),
            "logo_images": len(set(shas["logo"])),
            "logo_size_px": [256, 256],
            "logo_mean_bytes": round(sizes["logo"] / max(logos, 1)),
            "generated_s": round(time.perf_counter() - started, 2),
        },
    }


# --- the signatories ------------------------------------------------------------------------------


def version_facts() -> dict[str, Any]:
    """Statement version 1 as migration 0005 seeds it (the renders need no database)."""
    from cacnet.statement import text
    from cacnet.statement.models import canonical_text

    digest = hashlib.sha256(
        canonical_text(text.TITLE_EN, text.BODY_EN, text.TITLE_KO, text.BODY_KO)
    ).hexdigest()
    return {
        "number": 1,
        "title_en": text.TITLE_EN,
        "title_ko": text.TITLE_KO,
        "body_en": text.BODY_EN,
        "body_ko": text.BODY_KO,
        "published_at": text.PUBLISHED,
        "text_sha256": digest,
    }


def generate_data(count: int, images: dict[str, Any]) -> dict[str, Any]:
    """``count`` cities (the first of ``bench.directory``'s generator), each with a logo (round-
    robin) and one verified endorsement of version 1 (signature round-robin): the column values
    for the database, and the snapshot rows (``documents.snapshot``'s shape) for the renders."""
    from bench.directory import CITIES, FIRST_NAMES, LAST_NAMES, generate
    from bench.directory import SEED as CITY_SEED
    from cacnet.statement.models import canonical_record

    if count > CITIES:
        raise SystemExit(f"at most {CITIES:,} signatories (bench.directory's cities)")
    now = min(DATA_NOW, datetime.now(UTC))
    cities, _contacts = generate(random.Random(CITY_SEED), now)
    cities = cities[:count]
    version = version_facts()
    published = datetime.fromisoformat(version["published_at"])
    earliest = datetime.combine(FIRST_SIGNING_DAY, datetime.min.time(), tzinfo=UTC)
    rng = random.Random(SEED)
    logos, signatures = images["logos"], images["signatures"]
    endorsements, snapshots = [], []
    for i, city in enumerate(cities):
        city["logo_sha256"] = logos[i % len(logos)]
        signature = signatures[i % len(signatures)]
        start = max(earliest, published, city["created_at"])
        span = (now - timedelta(hours=6) - start).total_seconds()
        signed_at = (start + timedelta(seconds=rng.uniform(0, max(span, 0)))).replace(microsecond=0)
        decided_at = min(signed_at + timedelta(hours=rng.uniform(1, 72)), now)
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        title = rng.choice(SIGNATORY_TITLES)
        place = city["name_en"]
        signed_on = max(signed_at.date(), FIRST_SIGNING_DAY)
        record = canonical_record(
            city_slug=city["slug"], version_number=version["number"],
            text_sha256=version["text_sha256"], signatory_name=name, signatory_title=title,
            place=place, signed_on=signed_on, signature_sha256=signature,
            signer_email=BENCH_USER_EMAIL, signed_at=signed_at, ip="",
        )  # fmt: skip
        row = {
            "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "state": "verified",
            "signatory_name": name,
            "signatory_title": title,
            "place": place,
            "signed_on": signed_on,
            "signature_sha256": signature,
            "signature_kind": "drawn",
            "text_sha256": version["text_sha256"],
            "record_sha256": hashlib.sha256(record).hexdigest(),
            "signed_at": signed_at,
            "ip": "",
            "reason": "",
            "decided_at": decided_at,
            "withdrawn_at": None,
            "lock_version": 1,
            "created_at": signed_at,
            "updated_at": decided_at,
        }
        endorsements.append(row)
        snapshots.append(
            {
                "endorsement": row["uuid"],
                "city_slug": city["slug"],
                "city": city["name_en"],
                "city_local": city["name_local"] or "",
                "country": city["country_code"],
                "logo_sha256": city["logo_sha256"],
                "signatory_name": name,
                "signatory_title": title,
                "place": place,
                "signed_on": signed_on.isoformat(),
                "signature_sha256": signature,
                "record_sha256": row["record_sha256"],
                "verified_at": decided_at.isoformat(),
            }
        )
    scripts = {"hangul": 0, "cyrillic": 0, "latin_accents": 0}
    for city in cities:
        local = city["name_local"] or ""
        if any("\uac00" <= c <= "\ud7a3" for c in local):
            scripts["hangul"] += 1
        elif any("\u0400" <= c <= "\u04ff" for c in local):
            scripts["cyrillic"] += 1
        elif any(ord(c) > 127 for c in local + city["name_en"]):
            scripts["latin_accents"] += 1
    return {
        "version": version,
        "cities": cities,
        "endorsements": endorsements,
        "snapshots": snapshots,
        "scripts": scripts,
    }


# --- in a subprocess: render, seal, measure -------------------------------------------------------


def _max_rss_mb() -> float:
    """The peak resident memory of this process so far (Linux reports kB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextlib.contextmanager
def measured(out: list[dict[str, float]]) -> Iterator[None]:
    """Append the wall time, this process's CPU time and how many cores the rest of the machine
    kept busy meanwhile (a disturbed measurement shows there)."""
    from bench.harness import _machine_cpu_seconds

    machine0, cpu0, t0 = _machine_cpu_seconds(), time.process_time(), time.perf_counter()
    yield
    wall, cpu, machine1 = (
        time.perf_counter() - t0,
        time.process_time() - cpu0,
        _machine_cpu_seconds(),
    )
    busy = machine1["busy"] - machine0["busy"] - (machine1["steal"] - machine0["steal"])
    out.append(
        {
            "wall_s": round(wall, 4),
            "cpu_s": round(cpu, 4),
            "other_cores": round(max(busy - cpu, 0.0) / wall, 3) if wall > 0 else 0.0,
        }
    )


# (module, attribute, label): WeasyPrint's steps, timed by wrapping the functions the pipeline
# looks up at call time. Nested steps are subtracted from their parents (exclusive times).
PHASES = (
    ("bench.declaration", "render_declaration", "total"),
    ("bench.declaration", "render_floor", "total"),
    ("bench.declaration", "render_bare", "total"),
    ("cacnet.statement.declaration", "declaration_html", "template: data + Jinja"),
    ("bench.declaration", "floor_html", "template: data + Jinja"),
    ("bench.declaration", "bare_html", "template: data + Jinja"),
    ("cacnet.statement.declaration", "render_pdf", "render_pdf: set-up, glue"),
    ("cacnet.core.pdf", "render_pdf", "render_pdf: set-up, glue"),
    ("weasyprint", "HTML.__init__", "parse HTML"),
    ("weasyprint.document", "get_all_computed_styles", "CSS: parse + cascade"),
    ("weasyprint.document", "build_formatting_structure", "box tree (styles computed lazily)"),
    ("weasyprint.document", "original_get_image_from_uri", "images: fetch + decode"),
    ("weasyprint.document", "layout_document", "layout (boxes, pages, footers)"),
    ("weasyprint.layout.inline", "split_first_line", "layout: text shaping (Pango)"),
    ("weasyprint.layout.preferred", "split_first_line", "layout: text shaping (Pango)"),
    ("weasyprint.document", "generate_pdf", "PDF: other (links, metadata, PDF/A)"),
    ("weasyprint.document", "draw_page", "PDF: drawing pages"),
    ("weasyprint.images", "RasterImage.get_x_object", "PDF: images re-encoded"),
    ("weasyprint.pdf", "build_fonts_dictionary", "PDF: font subsetting"),
    ("pydyf", "PDF.write", "PDF: write (serialise + compress)"),
)


class Phases:
    """Inclusive and exclusive wall time per phase while installed (no profiler: a few wrapped
    functions). A phase entered again inside itself is not timed twice."""

    def __init__(self) -> None:
        self.exclusive: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._stack: list[list] = []
        self._undo: list[tuple[Any, str, Any]] = []

    def _enter(self, label: str) -> tuple[list, float] | None:
        if any(frame[0] == label for frame in self._stack):
            return None
        frame = [label, 0.0]
        self._stack.append(frame)
        return frame, time.perf_counter()

    def _leave(self, entered: tuple[list, float] | None, *, call: bool = True) -> None:
        if entered is None:
            return
        frame, t0 = entered
        elapsed = time.perf_counter() - t0
        self._stack.pop()
        label = frame[0]
        self.exclusive[label] = self.exclusive.get(label, 0.0) + elapsed - frame[1]
        if call:
            self.calls[label] = self.calls.get(label, 0) + 1
        if self._stack:
            self._stack[-1][1] += elapsed

    def _wrap(self, label: str, func):
        import inspect

        if inspect.isgeneratorfunction(func):  # layout_document yields the pages one by one

            def timed_generator(*args, **kwargs):
                entered = self._enter(label)
                try:
                    generator = func(*args, **kwargs)
                finally:
                    self._leave(entered)
                while True:
                    entered = self._enter(label)
                    try:
                        item = next(generator)
                    except StopIteration:
                        return
                    finally:
                        self._leave(entered, call=False)
                    yield item

            return timed_generator

        def timed(*args, **kwargs):
            entered = self._enter(label)
            try:
                return func(*args, **kwargs)
            finally:
                self._leave(entered)

        return timed

    def __enter__(self) -> Phases:
        import importlib

        for module_name, attribute, label in PHASES:
            owner = importlib.import_module(module_name)
            *path, name = attribute.split(".")
            for part in path:
                owner = getattr(owner, part)
            original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
            self._undo.append((owner, name, original))
            setattr(owner, name, self._wrap(label, original))
        return self

    def __exit__(self, *exc: object) -> None:
        for owner, name, original in reversed(self._undo):
            setattr(owner, name, original)
        self._undo.clear()

    def summary(self) -> dict[str, Any]:
        total = sum(self.exclusive.values())
        order = [label for _m, _a, label in PHASES]
        return {
            "total_s": round(total, 4),
            "exclusive_s": {
                ("other (outside the phases)" if label == "total" else label): round(seconds, 4)
                for label, seconds in sorted(
                    self.exclusive.items(), key=lambda item: order.index(item[0])
                )
            },
            "calls": dict(self.calls),
        }


def _version(facts: dict[str, Any]) -> Any:
    from types import SimpleNamespace

    return SimpleNamespace(
        id=1, **{**facts, "published_at": datetime.fromisoformat(facts["published_at"])}
    )


def _endorsements(rows: Sequence[dict]) -> list[Any]:
    """The snapshot rows (first ``count`` cities) in the printed order (by signing date, then as
    inserted, as ``_ordered`` sorts), turned into what the renderer reads exactly as
    ``render_document`` does (``_as_endorsement``, given the row's position when it takes one)."""
    import inspect

    from cacnet.statement.documents import _as_endorsement

    ordered = sorted(rows, key=lambda r: r["signed_on"])  # stable: ties keep the insert order
    if len(inspect.signature(_as_endorsement).parameters) >= 2:
        return [_as_endorsement(r, i) for i, r in enumerate(ordered)]
    return [_as_endorsement(r) for r in ordered]


def render_declaration(version: Any, endorsements: Sequence[Any]) -> bytes:
    from cacnet.statement import declaration

    return declaration.render_declaration(
        version, endorsements, document_id=DOCUMENT_ID, verify_url=VERIFY_URL,
        issued_at=datetime.now(UTC), order="date",
    )  # fmt: skip


def seal(pdf: bytes) -> bytes:
    from flask import current_app

    from cacnet.statement import declaration
    from cacnet.statement import seal as sealing

    return sealing.seal_pdf(
        pdf, current_app.instance_path, location="Seoul", box=declaration.SEAL_BOX,
        reason="Seoul Statement, version 1: declaration of the signatories (benchmark)",
    )  # fmt: skip


FLOOR_FONTS = (
    ("Noto Sans", 400, "NotoSans-Regular-pdf.ttf"),
    ("Noto Sans", 700, "NotoSans-Bold-pdf.ttf"),
    ("Noto Sans KR", 400, "NotoSansKR-Regular-pdf.ttf"),
    ("Noto Sans KR", 700, "NotoSansKR-Bold-pdf.ttf"),
)


def _plain_head() -> str:
    """The references' head: the declaration's ``@font-face`` rules and font family, and the
    images' sizes; no more."""
    from cacnet.core.pdf import pdf_static_url

    faces = "".join(
        f'@font-face {{ font-family: "{family}"; font-weight: {weight}; font-style: normal; '
        f'src: url("{pdf_static_url("fonts/" + file)}") format("truetype"); }}\n'
        for family, weight, file in FLOOR_FONTS
    )
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>Reference</title>\n<style>\n{faces}"
        'html { font-family: "Noto Sans", "Noto Sans KR"; }\n'
        # WeasyPrint ignores width/height attributes (presentational hints are off in
        # render_pdf): the images get the declaration's sizes by CSS, the only other rules.
        ".l { width: 9mm; height: 9mm; }\n.s { height: 11mm; }\n"
        "</style>\n</head>\n<body>\n"
    )


def floor_html(endorsements: Sequence[Any]) -> str:
    """The floor: a plain ``<table>`` of the same rows (already in the printed order) with the
    same text and images as the declaration prints them (English country name, the local name
    only when it differs and the bundled fonts can draw it, the long date), the same
    ``@font-face`` rules and no other styling than the images' sizes (the declaration's: logo
    9 mm square, signature 11 mm high; WeasyPrint ignores width/height attributes here)."""
    from flask import current_app
    from flask_babel import force_locale
    from markupsafe import escape

    from cacnet.core.i18n import country_name
    from cacnet.core.pdf import pdf_upload_url
    from cacnet.statement.declaration import drawable

    long_date = current_app.jinja_env.filters["date"]
    rows = []
    with force_locale("en"):
        for e in endorsements:
            city = e.city
            local = (city.name_local or "").strip()
            local = (
                f" {escape(local)}" if local and local != city.name_en and drawable(local) else ""
            )
            logo = (
                f'<img class="l" src="{escape(pdf_upload_url("logos", city.logo_sha256))}" alt="">'
                if city.logo_sha256
                else ""
            )
            signature = pdf_upload_url("signatures", e.signature_sha256)
            rows.append(
                f"<tr><td>{logo}</td><td>{escape(city.name_en)}{local}<br>"
                f"{escape(country_name(city.country_code, 'en'))}</td>"
                f'<td><img class="s" src="{escape(signature)}" alt=""></td>'
                f"<td>{escape(e.signatory_name)}<br>{escape(e.signatory_title)}<br>"
                f"{escape(e.place)}, {escape(long_date(e.signed_on, 'long'))}</td></tr>\n"
                f'<tr><td colspan="4">Record SHA-256 {escape(e.record_sha256)}</td></tr>\n'
            )
    return f"{_plain_head()}<table>\n{''.join(rows)}</table>\n</body>\n</html>\n"


def render_floor(endorsements: Sequence[Any]) -> bytes:
    from cacnet.core.pdf import render_pdf

    return render_pdf(floor_html(endorsements))


def bare_html(endorsements: Sequence[Any]) -> str:
    """A second reference, barer than the table: one plain ``<div>`` per signatory (three lines,
    the images inline), the same text, images and fonts, no table and no styling."""
    from flask import current_app
    from flask_babel import force_locale
    from markupsafe import escape

    from cacnet.core.i18n import country_name
    from cacnet.core.pdf import pdf_upload_url
    from cacnet.statement.declaration import drawable

    long_date = current_app.jinja_env.filters["date"]
    blocks = []
    with force_locale("en"):
        for e in endorsements:
            city = e.city
            local = (city.name_local or "").strip()
            local = (
                f" {escape(local)}" if local and local != city.name_en and drawable(local) else ""
            )
            logo = (
                f'<img class="l" src="{escape(pdf_upload_url("logos", city.logo_sha256))}" alt=""> '
                if city.logo_sha256
                else ""
            )
            signature = pdf_upload_url("signatures", e.signature_sha256)
            blocks.append(
                f"<div>{logo}{escape(city.name_en)}{local}, "
                f"{escape(country_name(city.country_code, 'en'))} "
                f'<img class="s" src="{escape(signature)}" alt=""><br>'
                f"{escape(e.signatory_name)}, {escape(e.signatory_title)}, {escape(e.place)}, "
                f"{escape(long_date(e.signed_on, 'long'))}<br>"
                f"Record SHA-256 {escape(e.record_sha256)}</div>\n"
            )
    return f"{_plain_head()}{''.join(blocks)}</body>\n</html>\n"


def render_bare(endorsements: Sequence[Any]) -> bytes:
    from cacnet.core.pdf import render_pdf

    return render_pdf(bare_html(endorsements))


RENDERERS = {"floor": render_floor, "bare": render_bare}


def _pages(pdf: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


def _median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def child_render(spec: dict[str, Any]) -> dict[str, Any]:
    """One declaration (render + seal) or one floor, measured in this fresh process."""
    kind, count, repeat = spec["kind"], spec["count"], spec["repeat"]
    rows = json.loads(Path(spec["rows"]).read_text())
    version = _version(rows["version"])
    endorsements = _endorsements(rows["snapshots"][:count])
    result: dict[str, Any] = {"kind": kind, "count": count, "repeat": repeat}
    result["rss_after_imports_mb"] = round(_max_rss_mb(), 1)
    t0 = time.perf_counter()
    if kind == "declaration":
        seal(render_declaration(version, endorsements[:2]))
    else:
        RENDERERS[kind](endorsements[:2])
    result["warmup_s"] = round(time.perf_counter() - t0, 3)
    baseline = _max_rss_mb()
    result["rss_baseline_mb"] = round(baseline, 1)
    renders: list[dict[str, float]] = []
    seals: list[dict[str, float]] = []
    phases = []
    for _ in range(repeat):
        with Phases() as timers:
            if kind == "declaration":
                with measured(renders):
                    pdf = render_declaration(version, endorsements)
            else:
                with measured(renders):
                    out = pdf = RENDERERS[kind](endorsements)
        phases.append(timers.summary())
        if kind == "declaration":
            with measured(seals):
                out = seal(pdf)
    peak = _max_rss_mb()
    result["phases"] = min(phases, key=lambda p: p["total_s"])
    result.update(
        renders=renders,
        seals=seals,
        render_s=_median(renders, "wall_s"),
        render_cpu_s=_median(renders, "cpu_s"),
        seal_s=_median(seals, "wall_s") if seals else 0.0,
        seal_cpu_s=_median(seals, "cpu_s") if seals else 0.0,
        other_cores=max(r["other_cores"] for r in renders + seals),
        rss_peak_mb=round(peak, 1),
        peak_memory_mb=round(peak - baseline, 1),
        unsealed_bytes=len(pdf),
        pdf_bytes=len(out),
        pages=_pages(out),
        distinct_images=len({e.signature_sha256 for e in endorsements})
        + len({e.city.logo_sha256 for e in endorsements if e.city.logo_sha256}),
    )
    result["total_s"] = round(result["render_s"] + result["seal_s"], 4)
    return result


def child_main(spec_path: str) -> int:
    """The subprocess: the app (configured by the environment the parent gave), then the work."""
    spec = json.loads(Path(spec_path).read_text())
    from cacnet import create_app

    app = create_app()
    work = {
        "declaration": child_render,
        "floor": child_render,
        "bare": child_render,
        "parallel": child_parallel,
        "profile": child_profile,
    }[spec["kind"]]
    with app.app_context():
        result = work(spec)
    Path(spec["out"]).write_text(json.dumps(result, indent=1))
    return 0


def run_child(spec: dict[str, Any], env: dict[str, str], workdir: Path) -> dict[str, Any]:
    """Run one measurement in a fresh ``python -m bench.declaration --child`` and return its
    result (raises with the child's output when it fails)."""
    tag = f"{spec['kind']}-{spec.get('count', 0)}-{uuid.uuid4().hex[:8]}"
    spec = {**spec, "out": str(workdir / f"{tag}.out.json")}
    path = workdir / f"{tag}.spec.json"
    path.write_text(json.dumps(spec))
    for attempt_number in (1, 2):
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "bench.declaration", "--child", str(path)],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT,
        )
        if done.returncode == 0:
            break
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-40:])
        if attempt_number == 2:
            raise RuntimeError(
                f"{spec['kind']} {spec.get('count')} failed ({done.returncode}):\n{tail}"
            )
        # The app may be mid-edit (another engineer's working tree): once more, a little later.
        print(
            f"  {spec['kind']} {spec.get('count')} failed ({tail.splitlines()[-1:]}); "
            "trying again in 20s",
            flush=True,
        )
        time.sleep(20)
    result = json.loads(Path(spec["out"]).read_text())
    result["process_s"] = round(time.perf_counter() - started, 2)
    return result


# --- in a subprocess: the signature pages in parallel processes -----------------------------------

_POOL_STATE: dict[str, Any] = {}


def _pool_init() -> None:
    """A pool process: the app (the environment is inherited) and an app context for good."""
    from cacnet import create_app

    app = create_app()
    context = app.app_context()
    context.push()
    _POOL_STATE["context"] = context


def _pool_render(facts: dict[str, Any], rows: list[dict]) -> tuple[bytes, float, int]:
    """One part of the declaration: (PDF bytes, CPU seconds, pid)."""
    cpu0 = time.process_time()
    pdf = render_declaration(_version(facts), _endorsements(rows))
    return pdf, time.process_time() - cpu0, os.getpid()


def join_parts(parts: Sequence[bytes], front_pages: int) -> bytes:
    """The first part without its closing (seal) page, then each later part without its front
    pages (title, Statement) and, but for the last part, without its closing page."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for i, part in enumerate(parts):
        pages = PdfReader(io.BytesIO(part)).pages
        start = 0 if i == 0 else front_pages
        stop = len(pages) if i == len(parts) - 1 else len(pages) - 1
        for page in pages[start:stop]:
            writer.add_page(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def child_parallel(spec: dict[str, Any]) -> dict[str, Any]:
    """The signatories split in ``spec["parts"]`` contiguous chunks, rendered at once by a pool of
    as many spawned processes (warmed up first), joined with pypdf, sealed."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    count, parts = spec["count"], spec["parts"]
    data = json.loads(Path(spec["rows"]).read_text())
    facts = data["version"]
    rows = sorted(data["snapshots"][:count], key=lambda r: r["signed_on"])
    version = _version(facts)
    # Pages before the signatories: a declaration of nobody has those, the signatories' heading
    # page and the closing page.
    empty = render_declaration(version, [])
    front_pages = _pages(empty) - 2
    result: dict[str, Any] = {"kind": "parallel", "count": count, "parts": parts}
    chunk = math.ceil(len(rows) / parts)
    chunks = [rows[i : i + chunk] for i in range(0, len(rows), chunk)]
    context = multiprocessing.get_context("spawn")
    t0 = time.perf_counter()
    with ProcessPoolExecutor(parts, mp_context=context, initializer=_pool_init) as pool:
        # Warm every process up (imports, app, a small render) before the clock starts.
        warm = [pool.submit(_pool_render, facts, rows[:2]) for _ in range(parts * 2)]
        result["pool_pids"] = sorted({f.result()[2] for f in warm})
        result["pool_startup_s"] = round(time.perf_counter() - t0, 2)
        timing: list[dict[str, float]] = []
        with measured(timing):
            futures = [pool.submit(_pool_render, facts, c) for c in chunks]
            rendered = [f.result() for f in futures]
        joining: list[dict[str, float]] = []
        with measured(joining):
            joined = join_parts([r[0] for r in rendered], front_pages)
        sealing: list[dict[str, float]] = []
        with measured(sealing):
            sealed = seal(joined)
    render_s = timing[0]["wall_s"]
    # The pool's processes are ours, not "other processes".
    pool_cpu = sum(r[1] for r in rendered)
    timing[0]["other_cores"] = round(max(timing[0]["other_cores"] - pool_cpu / render_s, 0.0), 3)
    result.update(
        front_pages=front_pages,
        render_s=render_s,
        render_cpu_s_per_part=[round(r[1], 3) for r in rendered],
        part_pages=[_pages(r[0]) for r in rendered],
        part_pids=[r[2] for r in rendered],
        join_s=joining[0]["wall_s"],
        seal_s=sealing[0]["wall_s"],
        total_s=round(render_s + joining[0]["wall_s"] + sealing[0]["wall_s"], 4),
        other_cores=max(timing[0]["other_cores"], joining[0]["other_cores"]),
        pages=_pages(sealed),
        pdf_bytes=len(sealed),
    )
    return result


# --- in a subprocess: cProfile of one render ------------------------------------------------------


def _package(filename: str, function: str) -> str:
    """Who a profiled function belongs to, for the own-time-by-package table."""
    path = filename.replace("\\", "/")
    if "/weasyprint/" in path:
        rest = path.split("/weasyprint/", 1)[1]
        return "weasyprint/" + rest.split("/", 1)[0].removesuffix(".py")
    for marker, name in (("/PIL/", "Pillow"), ("/fontTools/", "fontTools"), ("/pydyf/", "pydyf"),
                         ("/tinyhtml5/", "tinyhtml5 (HTML parser)"), ("/tinycss2/", "tinycss2"),
                         ("/cssselect2/", "cssselect2"), ("/jinja2/", "Jinja2"),
                         ("/cacnet/", "cacnet"), ("/cffi/", "cffi"), ("/pyhanko", "pyHanko"),
                         ("/pypdf/", "pypdf"), ("/bench/", "bench")):  # fmt: skip
        if marker in path:
            return name
    if filename == "~":
        lowered = function.lower()
        if "zlib" in lowered or "compress" in lowered:
            return "zlib (C)"
        if "pango" in lowered or "hb_" in lowered or "fc" in lowered.split("'")[0][:12]:
            return "Pango/HarfBuzz/Fontconfig (C, via cffi)"
        if "_cffi_backend" in lowered or "cffi" in lowered:
            return "cffi calls (C)"
        if "imaging" in lowered or "pil" in lowered:
            return "Pillow (C)"
        return "Python built-ins (C)"
    return "other Python"


def child_profile(spec: dict[str, Any]) -> dict[str, Any]:
    """cProfile of one declaration render (after a warm-up): own time by package, top functions
    by own time, and the cumulative time of WeasyPrint's main steps."""
    import cProfile
    import pstats

    count = spec["count"]
    data = json.loads(Path(spec["rows"]).read_text())
    version = _version(data["version"])
    endorsements = _endorsements(data["snapshots"][:count])
    render_declaration(version, endorsements[:2])
    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    profiler.enable()
    render_declaration(version, endorsements)
    profiler.disable()
    wall = time.perf_counter() - t0
    stats = pstats.Stats(profiler)
    by_package: dict[str, float] = {}
    functions = []
    for (filename, line, function), (_cc, nc, tt, ct, _callers) in stats.stats.items():
        package = _package(filename, function)
        by_package[package] = by_package.get(package, 0.0) + tt
        where = f"{Path(filename).parent.name}/{Path(filename).name}:{line}" if line else ""
        functions.append(
            {
                "function": f"{function} {where}".strip(),
                "package": package,
                "calls": nc,
                "own_s": round(tt, 4),
                "cumulative_s": round(ct, 4),
            }  # fmt: skip
        )
    total_own = sum(by_package.values())
    steps = {}
    wanted = {
        "get_all_computed_styles": "CSS: parse + cascade",
        "build_formatting_structure": "box tree",
        "layout_document": "layout",
        "split_first_line": "text shaping (split_first_line)",
        "draw_page": "drawing",
        "get_x_object": "images re-encoded",
        "build_fonts_dictionary": "font subsetting",
        "write": "pydyf write",
    }
    for (filename, _line, function), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():
        if function in wanted and ("weasyprint" in filename or "pydyf" in filename):
            label = wanted[function]
            steps[label] = max(steps.get(label, 0.0), ct)
    return {
        "kind": "profile",
        "count": count,
        "wall_s_with_profiler": round(wall, 2),
        "own_time_by_package_s": {
            k: round(v, 3) for k, v in sorted(by_package.items(), key=lambda kv: -kv[1])
        },
        "own_time_total_s": round(total_own, 3),
        "cumulative_by_step_s": {k: round(v, 3) for k, v in steps.items()},
        "top_functions": sorted(functions, key=lambda f: -f["own_s"])[:25],
    }


# --- serving the stored declaration ---------------------------------------------------------------


def drop_database(name: str = DATABASE) -> None:
    import psycopg
    from psycopg import sql

    from bench.harness import PG_SERVER_URL, database_url

    with psycopg.connect(database_url("postgres", PG_SERVER_URL), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def load_database(db_url: str, data: dict[str, Any], count: int) -> dict[str, Any]:
    """The first ``count`` cities (with their logos), an approved membership each, one bench user
    and the verified endorsements of version 1: bulk INSERTs in one transaction, then VACUUM
    ANALYZE (as ``bench.signatories`` loads its data set)."""
    from sqlalchemy import insert, select, text

    import cacnet.accounts.models as accounts
    import cacnet.cities.models as cities_models
    import cacnet.membership.models as membership_models
    import cacnet.statement.models as statement_models
    from bench.directory import engine_for

    users = accounts.User.__table__
    cities_t = cities_models.City.__table__
    memberships_t = membership_models.Membership.__table__
    endorsements_t = statement_models.Endorsement.__table__
    versions_t = statement_models.StatementVersion.__table__
    city_rows = data["cities"][:count]
    engine = engine_for(db_url)
    started = time.perf_counter()
    try:
        with engine.begin() as conn:
            version = conn.execute(select(versions_t).where(versions_t.c.number == 1)).one()
            if version.text_sha256 != data["version"]["text_sha256"]:
                raise RuntimeError("Statement version 1 in the database is not the one expected")
            now = datetime.now(UTC)
            user_id = conn.execute(
                insert(users).returning(users.c.id),
                {"email": BENCH_USER_EMAIL, "name": "Benchmark signatory", "title": "",
                 "password_hash": None, "role": "delegate", "city_id": None, "locale": "en",
                 "session_version": 0, "created_at": now - timedelta(days=800),
                 "updated_at": now - timedelta(days=800)},
            ).scalar_one()  # fmt: skip
            ids = conn.execute(
                insert(cities_t).returning(cities_t.c.id, sort_by_parameter_order=True),
                city_rows,
            ).scalars().all()  # fmt: skip
            memberships = [
                {"state": "approved", "city_name_en": city["name_en"],
                 "city_name_local": city["name_local"],
                 "city_name_key": membership_models.city_name_key(city["name_en"]),
                 "country_code": city["country_code"], "region": city["region"],
                 "population": city["population"], "website": city["website"],
                 "applicant_id": user_id, "letter_sha256": None, "letter_filename": None,
                 "letter_size": None, "reason": "",
                 "submitted_at": city["created_at"] - timedelta(days=3),
                 "decided_at": city["created_at"], "decided_by_id": user_id, "city_id": city_id,
                 "version": 1, "uuid": str(uuid.uuid4()),
                 "created_at": city["created_at"] - timedelta(days=4),
                 "updated_at": city["created_at"]}
                for city_id, city in zip(ids, city_rows, strict=True)
            ]  # fmt: skip
            conn.execute(insert(memberships_t), memberships)
            endorsements = [
                {**row, "city_id": city_id, "version_id": version.id, "signer_id": user_id,
                 "decided_by_id": user_id}
                for city_id, row in zip(ids, data["endorsements"][:count], strict=True)
            ]  # fmt: skip
            conn.execute(insert(endorsements_t), endorsements)
        loaded = time.perf_counter()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM (ANALYZE)"))
    finally:
        engine.dispose()
    return {
        "cities": len(ids),
        "verified_endorsements": len(endorsements),
        "insert_s": round(loaded - started, 2),
        "vacuum_analyze_s": round(time.perf_counter() - loaded, 2),
    }


@contextlib.contextmanager
def local_app(env: dict[str, str]) -> Iterator[Any]:
    """The real app in this process, configured by ``env`` as gunicorn's is."""
    from cacnet import create_app

    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
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


def _timed_gets(client, path: str, headers: dict[str, str], n: int, expect: int) -> list[float]:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        response = client.get(path, headers=headers)
        response.get_data()
        times.append(time.perf_counter() - t0)
        if response.status_code != expect:
            raise RuntimeError(f"GET {path} answered {response.status_code}, expected {expect}")
    return times


def _ms(values: Sequence[float], pct: float) -> float:
    from bench.harness import percentile

    return round(percentile(sorted(values), pct) * 1000, 3)


def serve_in_process(app, requests: int) -> dict[str, Any]:
    """Issue the declaration (timed), then GET it with the Flask test client: the first GET with
    an empty cache, ``requests`` GETs, ``requests`` conditional GETs, and where a GET's time goes
    (request_declaration vs the rest, its SQL, the size of the snapshot the row carries)."""
    from sqlalchemy import event

    from bench.signatories import local_hello_ms
    from cacnet.core.db import db
    from cacnet.statement import documents

    found: dict[str, Any] = {}
    with app.app_context():
        t0 = time.perf_counter()
        document = documents.issue_current_declaration_now()
        found["issue_s"] = round(time.perf_counter() - t0, 2)
        if document is None or document.state.value != "issued":
            raise RuntimeError(f"the declaration was not issued: {document and document.error}")
        path = documents.stored_file(document)
        found["document"] = {
            "document_id": document.document_id,
            "signatories": document.signatory_count,
            "render_seconds (row: render + seal)": document.render_seconds,
            "pdf_bytes": document.pdf_size,
            "pages": _pages(path.read_bytes()),
            "snapshot_json_bytes": len(json.dumps(document.signatories, ensure_ascii=False)),
        }
        etag = f'"{document.pdf_sha256}"'
    # hello first: its route must be added before the app's first request.
    found["hello_ms"] = round(local_hello_ms(app, requests), 3)
    client = app.test_client()
    t0 = time.perf_counter()
    first = client.get("/declaration.pdf")
    body = first.get_data()
    found["first_get_ms"] = round((time.perf_counter() - t0) * 1000, 1)
    if first.status_code != 200 or first.headers.get("X-Document-Id") != found["document"][
        "document_id"
    ] or len(body) != found["document"]["pdf_bytes"]:  # fmt: skip
        raise RuntimeError(
            f"GET /declaration.pdf answered {first.status_code} "
            f"{first.headers.get('X-Document-Id')} {len(body)} bytes"
        )
    if "X-Newer-Document-Pending" in first.headers:
        raise RuntimeError("GET /declaration.pdf served an older declaration")
    found["etag"] = first.headers.get("ETag")
    if found["etag"] != etag:
        raise RuntimeError(f"unexpected ETag {found['etag']}, expected {etag}")
    warm = max(requests // 10, 5)
    _timed_gets(client, "/declaration.pdf", {}, warm, 200)
    gets = _timed_gets(client, "/declaration.pdf", {}, requests, 200)
    conditional = _timed_gets(client, "/declaration.pdf", {"If-None-Match": etag}, requests, 304)
    found["get"] = {"p50_ms": _ms(gets, 50), "p99_ms": _ms(gets, 99), "requests": requests}
    found["conditional_get"] = {
        "p50_ms": _ms(conditional, 50),
        "p99_ms": _ms(conditional, 99),
        "requests": requests,
    }

    # Where a GET's time goes: request_declaration (the cache, the row) and the SQL it runs.
    spent = {"request_declaration": 0.0}
    original = documents.request_declaration

    def timed(*args, **kwargs):
        t = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent["request_declaration"] += time.perf_counter() - t

    statements: list[tuple[str, float]] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_t0"] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, time.perf_counter() - conn.info.pop("bench_t0")))

    with app.app_context():
        engine = db.engine
    documents.request_declaration = timed
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        sample = 50
        totals = _timed_gets(client, "/declaration.pdf", {}, sample, 200)
    finally:
        documents.request_declaration = original
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    found["breakdown_per_get_ms"] = {
        "total (median)": _ms(totals, 50),
        "request_declaration (mean)": round(spent["request_declaration"] / sample * 1000, 3),
        "sql statements per GET": round(len(statements) / sample, 2),
        "sql time (mean)": round(sum(t for _s, t in statements) / sample * 1000, 3),
        "statements": sorted({s.split("\n", 1)[0][:160] for s, _t in statements}),
    }
    return found


def serve_under_gunicorn(
    args: argparse.Namespace, env: dict[str, str], db_url: str, instance: Path, etag: str
) -> dict[str, Any]:
    """gunicorn on the same database and instance folder; /declaration.pdf and its conditional GET
    beside hello (``bench.harness.compare``; its JSON goes into ours)."""
    import http.client

    server = GunicornServer(
        env, workers=args.workers, threads=args.threads, log_path=instance / "gunicorn.log"
    )
    with server:
        server.database_url = db_url
        for headers, expect in (({}, 200), ({"If-None-Match": etag}, 304)):
            conn = http.client.HTTPConnection(server.host, server.port, timeout=60)
            try:
                conn.request("GET", "/declaration.pdf", headers=headers)
                response = conn.getresponse()
                body = response.read()
            finally:
                conn.close()
            if response.status != expect:
                raise RuntimeError(f"GET /declaration.pdf {headers} answered {response.status}")
            print(f"  GET /declaration.pdf {headers or ''}: {response.status}, {len(body):,} bytes")
        routes = [
            Route("/declaration.pdf", label="GET /declaration.pdf", expect_status=200),
            Route(
                "/declaration.pdf",
                label="conditional GET /declaration.pdf (If-None-Match)",
                headers={"If-None-Match": etag},
                expect_status=304,
            ),
        ]
        with tempfile.TemporaryDirectory() as scratch:  # compare's own files: not kept
            return compare(
                routes,
                baseline=Route(HELLO, label=f"{HELLO} (baseline)", expect_status=200),
                server=server,
                name=f"{NAME}-serving",
                duration=args.duration,
                concurrency=args.concurrency,
                processes=args.client_processes,
                max_requests=args.max_requests,
                warmup=args.warmup,
                rounds=args.rounds,
                retries=args.retries,
                results_dir=Path(scratch),
            )


# --- the run --------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from bench.harness import add_load_arguments

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_load_arguments(parser, DATABASE)  # --recreate-db: always, the database is the script's
    parser.add_argument(
        "--counts",
        default=",".join(map(str, DEFAULT_COUNTS)),
        help="signatory counts to render (default 10,100,1000,5000)",
    )
    parser.add_argument("--quick", action="store_true", help="counts 10,100,1000")
    parser.add_argument(
        "--serve-count",
        type=int,
        default=1000,
        help="verified endorsements in the database for the serving part (default 1000)",
    )
    parser.add_argument(
        "--parallel-count",
        type=int,
        default=1000,
        help="render this count in parallel parts too (default 1000; 0: skip)",
    )
    parser.add_argument("--parallel-parts", type=int, default=2, help="parts (default 2)")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="cProfile a render even when the floor target is met (default: only when missed)",
    )
    parser.add_argument(
        "--profile-count", type=int, default=FLOOR_TARGET_COUNT, help="count to profile (1000)"
    )
    parser.add_argument(
        "--bare-max",
        type=int,
        default=1000,
        help="render the bare <div> reference for counts up to this (default 1000; 0: never)",
    )
    parser.add_argument("--signature-images", type=int, default=SIGNATURE_IMAGES)
    parser.add_argument("--logo-images", type=int, default=LOGO_IMAGES)
    parser.add_argument(
        "--requests", type=int, default=200, help="in-process GETs per measurement (default 200)"
    )
    parser.add_argument(
        "--latency-duration",
        type=float,
        default=3.0,
        help="seconds per measurement of the one-client (latency) run under gunicorn (default 3)",
    )
    parser.add_argument("--no-render", action="store_true", help="skip the renders (1, 2, 4, 5)")
    parser.add_argument("--no-serve", action="store_true", help="skip serving (3): no database")
    parser.add_argument("--keep-db", action="store_true", help=f"do not drop {DATABASE} at the end")
    parser.add_argument("--name", default=NAME, help=f"results file prefix (default {NAME})")
    args = parser.parse_args(argv)
    counts = QUICK_COUNTS if args.quick else [int(c) for c in args.counts.split(",") if c.strip()]
    args.counts = sorted(set(counts))
    if any(c < 1 for c in args.counts):
        parser.error("counts must be at least 1")
    return args


def _pick(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Of several fresh-process rounds, the one with the median render CPU time."""
    ordered = sorted(results, key=lambda r: r["render_cpu_s"])
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    if len(results) > 1:
        chosen["rounds"] = [
            {k: r[k] for k in ("render_s", "render_cpu_s", "seal_s", "peak_memory_mb")}
            for r in results
        ]
    return chosen


def run_renders(
    args: argparse.Namespace, env: dict[str, str], workdir: Path, rows_path: Path
) -> dict[int, dict[str, Any]]:
    """For each count: the declaration, the floor (and the bare reference), each in fresh
    subprocesses, interleaved so that slow drift affects them alike."""
    results: dict[int, dict[str, Any]] = {}
    for count in args.counts:
        kinds = ["declaration", "floor"] + (["bare"] if count <= args.bare_max else [])
        results[count] = {}
        started = time.perf_counter()
        for kind in kinds:
            rounds = []
            for _ in range(max(args.rounds, 1)):
                spec = {
                    "kind": kind,
                    "count": count,
                    "repeat": REPEAT_SMALL if count <= SMALL_COUNT else 1,
                    "rows": str(rows_path),
                }
                rounds.append(run_child(spec, env, workdir))
            result = _pick(rounds)
            results[count][kind] = result
            seal_part = f" + seal {result['seal_s']:.2f}s" if kind == "declaration" else ""
            print(
                f"  {count:>5,} {kind:<11} render {result['render_s']:7.2f}s "
                f"(CPU {result['render_cpu_s']:.2f}s){seal_part}, {result['pages']:,} pages, "
                f"{result['pdf_bytes'] / 1e6:.1f} MB, peak +{result['peak_memory_mb']:.0f} MB, "
                f"other processes {result['other_cores']:.2f} cores",
                flush=True,
            )
        elapsed = time.perf_counter() - started
        results[count]["elapsed_s"] = round(elapsed, 1)
        if elapsed > 120:
            print(
                f"  NOTE: {count:,} signatories took {elapsed:.0f}s for this count's renders "
                "(declaration, floor, processes included)",
                flush=True,
            )
    return results


def render_rows(results: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """Per count: the figures the table prints and the JSON keeps."""
    rows = []
    previous = None
    for count, kinds in sorted(results.items()):
        d, f, b = kinds["declaration"], kinds["floor"], kinds.get("bare")
        total_cpu = d["render_cpu_s"] + d["seal_cpu_s"]
        row = {
            "count": count,
            "pages": d["pages"],
            "pdf_mb": round(d["pdf_bytes"] / 1e6, 2),
            "distinct_images": d["distinct_images"],
            "render_s": d["render_s"],
            "render_cpu_s": d["render_cpu_s"],
            "seal_s": d["seal_s"],
            "total_s": d["total_s"],
            "total_cpu_s": round(total_cpu, 4),
            "ms_per_signatory": round(d["total_s"] / count * 1000, 2),
            "cpu_ms_per_signatory": round(total_cpu / count * 1000, 2),
            "marginal_ms_per_signatory": None,
            "peak_memory_mb": d["peak_memory_mb"],
            "rss_peak_mb": d["rss_peak_mb"],
            "floor_s": f["render_s"],
            "floor_cpu_s": f["render_cpu_s"],
            "floor_pages": f["pages"],
            "floor_pdf_mb": round(f["pdf_bytes"] / 1e6, 2),
            "floor_peak_memory_mb": f["peak_memory_mb"],
            "ratio_to_floor_cpu": round(d["render_cpu_s"] / f["render_cpu_s"], 3),
            "ratio_to_floor_wall": round(d["render_s"] / f["render_s"], 3),
            "bare_s": b["render_s"] if b else None,
            "bare_cpu_s": b["render_cpu_s"] if b else None,
            "bare_pages": b["pages"] if b else None,
            "ratio_to_bare_cpu": round(d["render_cpu_s"] / b["render_cpu_s"], 3) if b else None,
            "other_cores": max(d["other_cores"], f["other_cores"], b["other_cores"] if b else 0),
            # WeasyPrint decodes each distinct RGBA image again and writes its colour and alpha
            # as two new PNG streams: the cost per distinct image, from the phase timers.
            "ms_per_distinct_image_reencoded": round(
                d["phases"]["exclusive_s"].get("PDF: images re-encoded", 0.0)
                / max(d["distinct_images"], 1)
                * 1000,
                2,
            ),
            "ms_per_page_drawn": round(
                d["phases"]["exclusive_s"].get("PDF: drawing pages", 0.0) / d["pages"] * 1000, 2
            ),
        }
        if previous:
            row["marginal_ms_per_signatory"] = round(
                (total_cpu - previous[1]) / (count - previous[0]) * 1000, 2
            )
        previous = (count, total_cpu)
        rows.append(row)
    return rows


def print_render_tables(rows: list[dict[str, Any]], results: dict[int, dict[str, Any]]) -> None:
    print("\n1. The declaration, rendered cold (WeasyPrint, unsealed) and sealed, each count in a "
          "fresh process")  # fmt: skip
    head = (
        f"{'signatories':>11}  {'pages':>5}  {'PDF MB':>6}  {'images':>6}  {'render s':>8}  "
        f"{'CPU s':>6}  {'seal s':>6}  {'total s':>7}  {'ms/sig':>6}  {'CPU ms/sig':>10}  "
        f"{'marginal':>8}  {'peak MB':>7}  {'other cores':>11}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        marginal = r["marginal_ms_per_signatory"]
        print(
            f"{r['count']:>11,}  {r['pages']:>5,}  {r['pdf_mb']:>6.1f}  {r['distinct_images']:>6}  "
            f"{r['render_s']:>8.2f}  {r['render_cpu_s']:>6.2f}  {r['seal_s']:>6.2f}  "
            f"{r['total_s']:>7.2f}  {r['ms_per_signatory']:>6.1f}  "
            f"{r['cpu_ms_per_signatory']:>10.1f}  "
            f"{(f'{marginal:.1f}' if marginal is not None else '-'):>8}  "
            f"{r['peak_memory_mb']:>7.0f}  {r['other_cores']:>11.2f}"
        )
    print(
        "ms/sig: (render + seal) / signatories; marginal: CPU ms per signatory added since the "
        "previous count; peak MB: ru_maxrss of the process after the render minus after imports, "
        "app and warm-up (resident memory, C libraries included)."
    )
    print("\n2. Against the engine's floor: the same rows as a plain <table> (and as bare <div>s), "
          "same fonts, images and fetcher (render_pdf)")  # fmt: skip
    head = (
        f"{'signatories':>11}  {'declaration s':>13}  {'CPU s':>6}  {'floor s':>7}  "
        f"{'CPU s':>6}  {'pages':>5}  {'peak MB':>7}  {'decl/floor CPU':>14}  {'wall':>5}  "
        f"{'bare s':>6}  {'CPU s':>6}  {'decl/bare CPU':>13}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        bare = (
            f"{r['bare_s']:>6.2f}  {r['bare_cpu_s']:>6.2f}  {r['ratio_to_bare_cpu']:>13.2f}"
            if r["bare_s"] is not None
            else f"{'-':>6}  {'-':>6}  {'-':>13}"
        )
        print(
            f"{r['count']:>11,}  {r['render_s']:>13.2f}  {r['render_cpu_s']:>6.2f}  "
            f"{r['floor_s']:>7.2f}  {r['floor_cpu_s']:>6.2f}  {r['floor_pages']:>5,}  "
            f"{r['floor_peak_memory_mb']:>7.0f}  {r['ratio_to_floor_cpu']:>14.2f}  "
            f"{r['ratio_to_floor_wall']:>5.2f}  {bare}"
        )
    counts = [r["count"] for r in rows]
    labels: list[str] = []
    for count in counts:
        for kind in ("declaration", "floor"):
            for label in results[count][kind]["phases"]["exclusive_s"]:
                if label not in labels:
                    labels.append(label)
    print("\nWhere the render time goes (seconds, exclusive; declaration / floor per count)")
    width = max(len(label) for label in labels)
    head = f"{'phase':<{width}}" + "".join(f"  {f'{c:,}: decl / floor':>22}" for c in counts)
    print(head)
    print("-" * len(head))
    for label in [*labels, "total"]:
        cells = []
        for count in counts:
            values = []
            for kind in ("declaration", "floor"):
                phases = results[count][kind]["phases"]
                value = phases["total_s"] if label == "total" else phases["exclusive_s"].get(label)
                values.append(f"{value:.2f}" if value is not None else "-")
            cells.append(f"  {values[0]:>10} / {values[1]:>9}")
        print(f"{label:<{width}}" + "".join(cells))
    print(
        "declaration: ms per distinct image re-encoded by WeasyPrint "
        + ", ".join(f"{r['count']:,}: {r['ms_per_distinct_image_reencoded']:.1f}" for r in rows)
        + "; ms per page drawn "
        + ", ".join(f"{r['count']:,}: {r['ms_per_page_drawn']:.1f}" for r in rows)
    )


def print_parallel(parallel: dict[str, Any], serial: dict[str, Any] | None) -> None:
    print(
        f"\n4. Parallel: {parallel['count']:,} signatories in {parallel['parts']} parts, a "
        f"spawned process each (pool started and warmed in {parallel['pool_startup_s']:.1f}s, "
        "not counted)"
    )
    print(
        f"  parts rendered at once: {parallel['render_s']:.2f}s wall (CPU per part "
        f"{', '.join(f'{c:.2f}s' for c in parallel['render_cpu_s_per_part'])}), joined with "
        f"pypdf {parallel['join_s']:.2f}s, sealed {parallel['seal_s']:.2f}s: total "
        f"{parallel['total_s']:.2f}s; {parallel['pages']:,} pages, "
        f"{parallel['pdf_bytes'] / 1e6:.1f} MB; other processes {parallel['other_cores']:.2f} "
        "cores"
    )
    if serial:
        speedup = serial["total_s"] / parallel["total_s"] if parallel["total_s"] else 0.0
        print(
            f"  serial (part 1, same run): {serial['total_s']:.2f}s, {serial['pages']:,} pages, "
            f"{serial['pdf_bytes'] / 1e6:.1f} MB -> speed-up {speedup:.2f}x"
        )
        parallel["serial_total_s"] = serial["total_s"]
        parallel["speedup"] = round(speedup, 3)


def print_profile(profile: dict[str, Any]) -> None:
    print(
        f"\n5. cProfile of one declaration render of {profile['count']:,} signatories "
        f"({profile['wall_s_with_profiler']:.1f}s with the profiler; own time by package)"
    )
    total = profile["own_time_total_s"] or 1.0
    for package, seconds in list(profile["own_time_by_package_s"].items())[:14]:
        print(f"  {package:<42} {seconds:8.2f}s  {seconds / total:6.1%}")
    print("  top functions by own time:")
    for f in profile["top_functions"][:15]:
        print(
            f"    {f['own_s']:7.2f}s own  {f['cumulative_s']:7.2f}s cum  {f['calls']:>9,}x  "
            f"{f['function'][:90]}"
        )


def print_serving(serving: dict[str, Any]) -> None:
    local = serving["in_process"]
    doc = local["document"]
    print(
        f"\n3. Serving the stored declaration ({doc['signatories']:,} signatories, "
        f"{doc['pages']:,} pages, {doc['pdf_bytes'] / 1e6:.1f} MB, {doc['document_id']})"
    )
    load = serving["load"]
    print(
        f"  loaded {load['cities']:,} cities and {load['verified_endorsements']:,} verified "
        f"endorsements in {load['insert_s']:.1f}s (+ VACUUM ANALYZE {load['vacuum_analyze_s']:.1f}s)"
    )
    print(
        f"  issue_current_declaration_now(): {local['issue_s']:.2f}s (snapshot, render, seal, "
        f"store; the row says render + seal took {doc['render_seconds (row: render + seal)']}s)"
    )
    print(
        f"  in-process (Flask test client): first GET with an empty cache "
        f"{local['first_get_ms']:.1f} ms; GET p50 {local['get']['p50_ms']:.2f} ms, p99 "
        f"{local['get']['p99_ms']:.2f} ms; conditional GET (304) p50 "
        f"{local['conditional_get']['p50_ms']:.2f} ms, p99 {local['conditional_get']['p99_ms']:.2f}"
        f" ms; hello {local['hello_ms']:.2f} ms"
    )
    b = local["breakdown_per_get_ms"]
    print(
        f"  a GET: {b['total (median)']:.2f} ms, of which request_declaration "
        f"{b['request_declaration (mean)']:.2f} ms with {b['sql statements per GET']:.0f} SQL "
        f"statement(s) ({b['sql time (mean)']:.2f} ms in cursor.execute); the row's snapshot JSON "
        f"is {doc['snapshot_json_bytes'] / 1e3:,.0f} kB"
    )
    for key, title in (("gunicorn", "under load"), ("gunicorn_latency", "one client")):
        report = serving.get(key)
        if not report:
            continue
        print(f"  gunicorn, {title} ({report['load']['concurrency']} client(s)):")
        for row in report["results"]:
            print(
                f"    {row['route']['label']:<52} {row['rps']:>8,.0f} req/s  p50 "
                f"{row['p50_ms']:>7.2f} ms  p99 {row['p99_ms']:>7.2f} ms  "
                f"x hello {row['ratio_to_baseline']:.3f}  errors {row['errors']}"
            )


def judge(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The targets, each with the figure, the limit and whether it is met (None: not measured)."""
    targets = []
    rows = {r["count"]: r for r in report.get("renders", {}).get("rows", [])}
    row = rows.get(FLOOR_TARGET_COUNT)
    targets.append(
        {
            "target": f"declaration render within {FLOOR_TARGET:g}x the floor at "
            f"{FLOOR_TARGET_COUNT:,} signatories (CPU time)",
            "value": row and row["ratio_to_floor_cpu"],
            "detail": row and f"wall {row['ratio_to_floor_wall']:.2f}x",
            "limit": FLOOR_TARGET,
            "met": None if row is None else row["ratio_to_floor_cpu"] <= FLOOR_TARGET,
        }
    )
    base, top = rows.get(FLAT_BASE_COUNT), rows[max(rows)] if rows else None
    flat = None
    if base and top and top["count"] > base["count"]:
        flat = top["cpu_ms_per_signatory"] / base["cpu_ms_per_signatory"]
        wall = top["ms_per_signatory"] / base["ms_per_signatory"]
    targets.append(
        {
            "target": "cost per signatory flat: CPU ms/signatory at "
            f"{format(top['count'], ',') if top else 'the largest count'} at most "
            f"{FLAT_TARGET:g}x that at {FLAT_BASE_COUNT}",
            "value": round(flat, 3) if flat is not None else None,
            "detail": flat is not None
            and f"{top['cpu_ms_per_signatory']:.1f} vs {base['cpu_ms_per_signatory']:.1f} ms; "
            f"wall {wall:.2f}x",
            "limit": FLAT_TARGET,
            "met": None if flat is None else flat <= FLAT_TARGET,
        }
    )
    serving = report.get("serving") or {}
    for key, what in (("gunicorn_latency", "one client"), ("gunicorn", "under load")):
        found = serving.get(key)
        row = found and next(
            r for r in found["results"] if r["route"]["label"] == "GET /declaration.pdf"
        )
        hello = found and found["results"][0]
        for pct in ("p50", "p99"):
            value = row and row[f"{pct}_ms"]
            targets.append(
                {
                    "target": f"stored declaration served in under {SERVE_TARGET_MS:g} ms, "
                    f"gunicorn {what}, {pct}",
                    "value": value,
                    "detail": row
                    and f"{row['rps']:,.0f} req/s; hello {pct} {hello[f'{pct}_ms']:.2f} ms",
                    "limit": SERVE_TARGET_MS,
                    "met": None if value is None else value < SERVE_TARGET_MS,
                }
            )
    local = serving.get("in_process")
    targets.append(
        {
            "target": f"stored declaration served in under {SERVE_TARGET_MS:g} ms, in-process "
            "(Flask test client), p50",
            "value": local and local["get"]["p50_ms"],
            "detail": local and f"p99 {local['get']['p99_ms']:.2f} ms",
            "limit": SERVE_TARGET_MS,
            "met": None if not local else local["get"]["p50_ms"] < SERVE_TARGET_MS,
        }
    )
    return targets


def notes(report: dict[str, Any]) -> list[str]:
    """What the figures say, computed from them (printed after the targets, kept in the JSON)."""
    found = []
    rows = report.get("renders", {}).get("rows", [])
    raw = report.get("renders", {}).get("raw", {})
    if rows:
        top = rows[-1]
        per_image = statistics.median(r["ms_per_distinct_image_reencoded"] for r in rows)
        real = 2 * top["count"]  # a signature and a logo per signatory, all different
        extra = max(real - top["distinct_images"], 0) * per_image / 1000
        found.append(
            f"Images: WeasyPrint decodes every distinct RGBA image again and writes its colour and "
            f"its alpha as two new PNG streams, ~{per_image:.1f} ms per image here. This run has "
            f"at most {top['distinct_images']} distinct images (round-robin); a real declaration "
            f"of {top['count']:,} cities has up to {real:,} (a signature and a logo each): about "
            f"{extra:,.0f}s more at {top['count']:,}, ~{2 * per_image:.0f} ms per signatory."
        )
        declaration = raw.get(str(top["count"]), {}).get("declaration", {})
        phases = declaration.get("phases", {}).get("exclusive_s", {})
        if phases:
            total = sum(phases.values()) or 1.0
            layout = phases.get("layout (boxes, pages, footers)", 0) + phases.get(
                "layout: text shaping (Pango)", 0
            )
            others = sorted(
                ((k, v) for k, v in phases.items() if not k.startswith("layout")),
                key=lambda kv: -kv[1],
            )[:4]
            found.append(
                f"At {top['count']:,} the render is layout {layout / total:.0%} (text shaping "
                f"included), then "
                + ", ".join(f"{label} {sec / total:.0%}" for label, sec in others)
                + f"; peak memory +{top['peak_memory_mb']:,.0f} MB. Without Redis the render runs "
                "in a thread of the gunicorn worker that got the request (cacnet.core.jobs): that "
                "worker's other threads share its GIL, and its memory grows, for the whole render."
            )
    parallel = report.get("parallel")
    if parallel and parallel.get("speedup"):
        found.append(
            f"Parallel parts: speed-up {parallel['speedup']:.2f}x on {report['machine']['nproc']} "
            f"CPU(s), but the joined file is {parallel['pdf_bytes'] / 1e6:.1f} MB (images and "
            "fonts embedded once per part), the second part's footers say 'Page n of m' of its "
            "own part, and pypdf's join keeps the pages, not WeasyPrint's PDF/A-2b catalogue "
            "(XMP metadata, output intent): the app would need page-number offsets (two passes) "
            "and a PDF/A-aware join; and the processes compete with the web workers for the "
            "same cores."
        )
    local = report.get("serving", {}).get("in_process")
    if local:
        b = local["breakdown_per_get_ms"]
        doc = local["document"]
        found.append(
            f"Serving: a GET costs {b['total (median)']:.1f} ms in-process, "
            f"{b['request_declaration (mean)']:.1f} ms of it in request_declaration, which loads "
            f"the IssuedDocument row with its snapshot JSON ({doc['snapshot_json_bytes'] / 1e3:,.0f}"
            f" kB for {doc['signatories']:,} signatories) on every request, a 304 included "
            f"(conditional GET p50 {local['conditional_get']['p50_ms']:.1f} ms). Deferring that "
            "column (read only by render_document and the verification page) would make the "
            "cost independent of the count; the rest is sending the file "
            f"({doc['pdf_bytes'] / 1e6:.1f} MB). The first GET after a cache expiry snapshots "
            f"every verified row again: {local['first_get_ms']:.0f} ms at {doc['signatories']:,}."
        )
    return found


def print_targets(targets: list[dict[str, Any]]) -> None:
    print("\nTargets")
    for t in targets:
        verdict = {True: "met", False: "MISSED", None: "not measured"}[t["met"]]
        value = f"{t['value']:.2f}" if isinstance(t["value"], int | float) else "-"
        detail = f" ({t['detail']})" if t.get("detail") else ""
        print(f"  {verdict:<12} {t['target']}: {value} (limit {t['limit']:g}){detail}")


def attempt(report: dict[str, Any], stage: str, work) -> Any:
    """Run one stage; on an error, keep it in the report and go on (the other stages' figures
    are still written)."""
    import traceback

    try:
        return work()
    except Exception as error:  # noqa: BLE001 - reported, and written into the JSON
        text = traceback.format_exc()
        print(f"\n{stage} FAILED: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
        print("\n".join(text.splitlines()[-15:]), file=sys.stderr, flush=True)
        report.setdefault("errors", {})[stage] = text[-6000:]
        return None


def run_render_stages(
    args: argparse.Namespace, env: dict[str, str], workdir: Path, rows_path: Path, report: dict
) -> None:
    """1 and 2 (the renders and their floors), 4 (parallel), 5 (cProfile, when wanted)."""
    results = run_renders(args, env, workdir, rows_path)
    rows = render_rows(results)
    report["renders"] = {"rows": rows, "raw": {str(k): v for k, v in results.items()}}
    print_render_tables(rows, results)
    if args.parallel_count:
        print(f"\nparallel render of {args.parallel_count:,} ...", flush=True)
        spec = {
            "kind": "parallel",
            "count": args.parallel_count,
            "parts": args.parallel_parts,
            "rows": str(rows_path),
        }
        parallel = attempt(report, "parallel", lambda: run_child(spec, env, workdir))
        if parallel:
            print_parallel(parallel, results.get(args.parallel_count, {}).get("declaration"))
            report["parallel"] = parallel
    floor_row = next((r for r in rows if r["count"] == FLOOR_TARGET_COUNT), None)
    missed = floor_row is not None and floor_row["ratio_to_floor_cpu"] > FLOOR_TARGET
    if (missed or args.profile) and args.profile_count:
        print(f"\ncProfile of a {args.profile_count:,} render ...", flush=True)
        spec = {"kind": "profile", "count": args.profile_count, "rows": str(rows_path)}
        profile = attempt(report, "profile", lambda: run_child(spec, env, workdir))
        if profile:
            report["profile"] = profile
            print_profile(profile)


def run_serving(
    args: argparse.Namespace,
    data: dict[str, Any],
    instance: Path,
    count: int,
    serving: dict[str, Any],
    stack: contextlib.ExitStack,
) -> None:
    """3: the database, the issue, in-process GETs, gunicorn (under load, then one client)."""
    print(f"\nserving: database {DATABASE} (dropped and created) ...", flush=True)
    db_url = ensure_database(DATABASE, recreate=True)
    if not args.keep_db:
        stack.callback(drop_database, DATABASE)
    env = app_environment(db_url, instance)
    prepare_database(env, seed=False)
    serving.update(postgres=postgres_version(db_url), database=DATABASE)
    serving["load"] = load_database(db_url, data, count)
    print(f"  {serving['load']}", flush=True)
    print("  issuing the declaration in-process ...", flush=True)
    with local_app(env) as app:
        serving["in_process"] = serve_in_process(app, args.requests)
    etag = serving["in_process"]["etag"]
    print("  gunicorn ...", flush=True)
    serving["gunicorn"] = serve_under_gunicorn(args, env, db_url, instance, etag)
    latency = argparse.Namespace(
        **{**vars(args), "concurrency": 1, "duration": args.latency_duration}
    )
    serving["gunicorn_latency"] = serve_under_gunicorn(latency, env, db_url, instance, etag)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = datetime.now(UTC)
    clock = time.perf_counter()
    report: dict[str, Any] = {
        "name": args.name,
        "started_utc": started.isoformat(timespec="seconds"),
        "machine": machine_facts(),
        "options": dict(vars(args)),
        "method": {
            "render": "each count and kind in a fresh subprocess; a warm-up render of 2 "
            "signatories first (reported as warmup_s); counts up to "
            f"{SMALL_COUNT} rendered {REPEAT_SMALL} times (median); cold = new HTML, font "
            "configuration, images fetched and decoded",
            "memory": "ru_maxrss (RUSAGE_SELF) after the measured render(s) minus ru_maxrss after "
            "imports, app and warm-up: resident memory, C libraries included",
            "floor": "cacnet.core.pdf.render_pdf of a plain <table> of the same rows (two <tr> per "
            "signatory: images + text, then the record SHA-256), the same @font-face rules, "
            "images sized by two CSS rules (logo 9 mm square, signature 11 mm high: WeasyPrint "
            "ignores width/height attributes without presentational hints), no other CSS",
            "bare": "the same as one plain <div> per signatory (three lines, images inline)",
            "ratios": "CPU time of the render (process_time), robust on a shared machine; wall "
            "ratios are kept too",
        },
    }
    serve_count = 0 if args.no_serve else args.serve_count
    with contextlib.ExitStack() as stack:
        stack.enter_context(stop_on_sigterm())
        instance = Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="cacnet-bench-declaration-"))
        )
        workdir = instance / "bench"
        workdir.mkdir()
        print(
            f"images: {args.signature_images} signatures (600x200 RGBA) and {args.logo_images} "
            f"logos (256x256 RGBA) into {instance}/uploads ...",
            flush=True,
        )
        images = write_images(instance, args.signature_images, args.logo_images)
        print(f"  {images['facts']}", flush=True)
        needed = max([*args.counts, serve_count, args.parallel_count, args.profile_count, 1])
        data = generate_data(needed, images)
        rows_path = workdir / "rows.json"
        rows_path.write_text(
            json.dumps({"version": data["version"], "snapshots": data["snapshots"]})
        )
        report["data"] = {
            "images": images["facts"],
            "signatories_generated": needed,
            "local_name_scripts": data["scripts"],
            "logos": "every city, round-robin over the logos",
            "signatures": "round-robin over the signature images",
        }
        from cacnet.statement.seal import init_seal

        init_seal(instance)
        from bench.harness import database_url

        env = app_environment(database_url(DATABASE), instance)

        if not args.no_render:
            print(f"\nrendering {', '.join(f'{c:,}' for c in args.counts)} signatories ...")
            attempt(
                report, "renders", lambda: run_render_stages(args, env, workdir, rows_path, report)
            )
        if serve_count:
            serving: dict[str, Any] = {}
            report["serving"] = serving
            attempt(
                report,
                "serving",
                lambda: run_serving(args, data, instance, serve_count, serving, stack),
            )

    if report.get("serving", {}).get("in_process"):
        print_serving(report["serving"])
    for stage, error in report.get("errors", {}).items():
        print(
            f"\nWARNING: {stage} failed; its figures are missing:\n{error.strip().splitlines()[-1]}"
        )
    report["targets"] = judge(report)
    print_targets(report["targets"])
    report["notes"] = notes(report)
    if report["notes"]:
        print("\nNotes")
        for text in report["notes"]:
            print(f"  - {text}")
    report["finished_utc"] = datetime.now(UTC).isoformat(timespec="seconds")
    report["elapsed_s"] = round(time.perf_counter() - clock, 1)
    print(f"\nelapsed {report['elapsed_s']:.0f}s")
    write_results(report, args.name, started)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        sys.exit(child_main(sys.argv[2]))
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted; gunicorn stopped", file=sys.stderr)
        sys.exit(130)
