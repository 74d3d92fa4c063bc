"""Benchmark an emergency alert end to end: a delegate publishes it through the real app server,
and the alert's fan-out reaches 10,000 focal points through the RQ workers and a loopback SMTP
server; with one and with two worker processes.

Run from the repository root, either way:

    .venv/bin/python -m bench.alerts                    # 10,000 member cities, 1 then 2 workers
    .venv/bin/python bench/alerts.py --workers 1,2,4
    .venv/bin/python -m bench.alerts --cities 500       # a quick check of the machinery
    .venv/bin/python -m bench.alerts --keep-db          # leave cacnet_bench_alerts behind

Needs PostgreSQL on 127.0.0.1:5432 (``CACNET_BENCH_PG_URL`` for another server) and Redis on
127.0.0.1:6379 (``CACNET_BENCH_REDIS_URL``). Every run starts from scratch and cleans up:

1. It (re)creates and migrates the database ``cacnet_bench_alerts`` and loads the 10,000 cities
   of ``bench.directory`` (its generator and seed) with an approved membership and three contacts
   each (``bench.bulk``), the first contact of every city its primary focal point with an address
   of its own (the Korean cities' focal points speak Korean and English, so they get the Korean
   message), no alert-mail choices (so exactly the primary focal points hear of an emergency);
   plus one more member city, the raising city, with a delegate made by ``create_user`` (argon2,
   the CHEAPEST profile) who signs in through the login form. VACUUM ANALYZE. About 15 s.
2. It serves the app with gunicorn (2 workers x 4 threads, production settings) from a temporary
   instance folder whose ``config.py`` names a queue of its own (``JOBS_QUEUE =
   bench-alerts-<pid>``) and a cache key prefix of its own in the shared Redis; the rate limiter
   keeps its counters in memory and the hourly safety-net run of the delivery queue is off
   (``DELIVERY_AUTO_SEND = False``), so the queue holds only what the publication puts there. The
   SMTP server is aiosmtpd in a process of its own (``bench.deliveries.SMTPSinkProcess``).
3. For each worker count: the ``deliveries`` table is emptied, N ``flask --app cacnet worker``
   processes are started (not ``--burst``: the fan-out job queues the sending runs while it runs,
   and a burst worker that found the queue empty would have gone) and are running, idle, before
   the publication, as in production; their start-up is not in the figures. Then, on one
   keep-alive connection, a GET of ``/alerts/new`` (the CSRF token) and the POST that publishes an
   emergency (multipart, as the browser sends the form). Its latency is the request's own; the
   request commits, queues ``fan_out`` in Redis and redirects. A worker runs ``fan_out`` (finds the
   recipients, renders the message once per language, ``add_many``s 10,000 deliveries, commits:
   that queues the ``send_due`` runs), and the workers send.

Figures, per worker count: the POST's latency; from the commit (the fan-out job's ``enqueued_at``,
stamped by RQ in the request right after the commit) to the first and to the last message the SMTP
server received, and from the start of the POST to the last; the fan-out job's wait and duration
(RQ's timestamps); messages per second between the first and the last message; and the CPU
seconds of the workers, gunicorn, PostgreSQL, the SMTP server and the rest of the machine. It
checks that the SMTP server received exactly one message for every expected recipient (the
primary focal points of the other member cities, taken from the generated data, not from the
app), nothing for anyone else, and that every delivery of the alert is ``sent`` (PASS/FAIL).

At the end the workers, gunicorn and the SMTP server are stopped, the queue, its registries, its
jobs and results, the workers' registrations and the cache keys are deleted from Redis, and the
database is dropped (unless ``--keep-db``). Results: ``bench/results/alerts-<UTC
timestamp>.json`` and ``alerts-latest.json``. About 90 s.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from datetime import UTC, date, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make ``bench`` and ``cacnet`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.deliveries import REDIS_URL, SMTPSinkProcess
from bench.harness import (
    HOST,
    PG_SERVER_URL,
    ROOT,
    GunicornServer,
    _children,
    app_environment,
    cpu_snapshot,
    cpu_used,
    database_url,
    ensure_database,
    machine_facts,
    postgres_version,
    prepare_database,
    sign_in,
    stop_on_sigterm,
    write_results,
)

DATABASE = "cacnet_bench_alerts"
APPLICANT_EMAIL = "bench.alerts@bench.example"
DELEGATE_EMAIL = "delegate@bench-alerts-raising.example"
PASSWORD = "Bench-alerts-raising-2026"  # noqa: S105 - a bench account on a throwaway database
FAN_OUT = "cacnet.alerts.fanout.fan_out"
OBJECT_TYPE = "alerts"  # cacnet.alerts.fanout.OBJECT_TYPE

# The instance config of gunicorn, the workers and this process (same file, so they agree).
INSTANCE_CONFIG = """\
# written by bench.alerts
JOBS_QUEUE = {queue!r}
CACHE_KEY_PREFIX = {prefix!r}
RATELIMIT_STORAGE_URI = "memory://"
ARGON2_PROFILE = "CHEAPEST"
DELIVERY_AUTO_SEND = False
"""

ALERT_FORM = {
    "what": "Cholera",
    "signal_type": "cluster",
    "severity": "emergency",
    "district": "Coastal districts",
    "cases": "412",
    "deaths": "6",
    "actions": (
        "Cases have risen sharply over the past week in three coastal districts. Water sources "
        "are being tested and chlorinated; treatment centres are open around the clock.\n"
        "Member cities with port or river links are asked to review their water-safety "
        "guidance, alert their primary-care networks to the case definition, and report "
        "clusters to the secretariat within 24 hours."
    ),
    "sources": "https://who.example/outbreak-news/cholera\nhttps://health.raising.example/report",
    "contact_text": "",
    "action": "publish",
}
CSRF_RE = re.compile(
    r'name="csrf_token"[^>]*?value="([^"]+)"|value="([^"]+)"[^>]*?name="csrf_token"'
)


# --- the data ------------------------------------------------------------------------------------


def generate(cities: int, now: datetime) -> tuple[list[dict], list[list[dict]], dict, list[dict]]:
    """The member cities and their contacts (``bench.directory``'s, the first contact of each the
    primary focal point), and the raising city with its one contact."""
    from bench import directory
    from cacnet.core.text import search_key

    city_rows, contact_rows = directory.generate(random.Random(directory.SEED), now)
    if not 1 <= cities <= len(city_rows):
        raise SystemExit(f"--cities must be between 1 and {len(city_rows)}")
    city_rows, contact_rows = city_rows[:cities], contact_rows[:cities]
    for city, own in zip(city_rows, contact_rows, strict=True):
        for contact in own:
            contact["is_primary"] = contact["position"] == 1
            if city["country_code"] in directory.HANGUL:
                contact["languages"] = ["ko", "en"]
    raising = {
        **city_rows[0],
        "slug": "bench-alerts-raising-kr",
        "name_en": "Bench Alerts Raising City",
        "name_local": "벤치 경보 도시",
        "country_code": "KR",
        "region": "Coastal Region",
        "website": "",
        "search_text": search_key("Bench Alerts Raising City", "벤치 경보 도시")[:420],
        "uuid": "00000000-0000-4000-8000-00000000a1e7",
    }
    raising_contact = {
        **contact_rows[0][0],
        "name": "Ji-woo Kim",
        "email": "ji-woo.kim@bench-alerts-raising.example",
        "languages": ["ko", "en"],
        "is_primary": True,
    }
    return city_rows, contact_rows, raising, [raising_contact]


def load(app, cities: int) -> dict[str, Any]:
    """Load the cities, their memberships and contacts, the raising city and its delegate, in one
    transaction; then VACUUM ANALYZE. Returns what the run needs to know about them."""
    from sqlalchemy import text

    from bench.bulk import insert_member_cities
    from cacnet.accounts.models import User, UserRole
    from cacnet.accounts.services import create_user
    from cacnet.cities.models import City
    from cacnet.core.db import db

    started = time.perf_counter()
    now = datetime.now(UTC).replace(microsecond=0)
    city_rows, contact_rows, raising, raising_contacts = generate(cities, now)
    expected = sorted(own[0]["email"].strip().lower() for own in contact_rows)
    if len(set(expected)) != len(expected):
        raise RuntimeError("the generated primary focal points share addresses")
    generated = time.perf_counter()
    with app.app_context():
        applicant = User(
            email=APPLICANT_EMAIL, name="Benchmark applicant", role=UserRole.DELEGATE,
            password_hash=None,
        )  # fmt: skip
        db.session.add(applicant)
        db.session.flush()
        city_ids, contact_ids = insert_member_cities(
            db.session.connection(),
            [*city_rows, raising],
            applicant.id,
            [*contact_rows, raising_contacts],
        )
        inserted = time.perf_counter()
        raising_city = db.session.get(City, city_ids[-1])
        delegate = create_user(
            DELEGATE_EMAIL, name="Ji-woo Kim", role=UserRole.DELEGATE, password=PASSWORD,
            city=raising_city, title="Epidemiologist", check_password=False,
        )  # fmt: skip
        db.session.commit()
        facts = {
            "member_cities": len(city_ids),
            "contacts": sum(len(c) for c in contact_ids),
            "raising_city_id": city_ids[-1],
            "raising_contact_id": contact_ids[-1][0],
            "delegate_id": delegate.id,
        }
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM (ANALYZE)"))
    done = time.perf_counter()
    print(
        f"loaded {facts['member_cities']:,} member cities (the raising one included) and "
        f"{facts['contacts']:,} contacts: generated {generated - started:.1f} s, INSERTs "
        f"{inserted - generated:.1f} s, delegate and commit {done - inserted:.1f} s (VACUUM "
        "ANALYZE included)",
        flush=True,
    )
    facts["expected_recipients"] = len(expected)
    facts["load_s"] = done - started
    return {"facts": facts, "expected": expected}


def drop_database(name: str = DATABASE) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(database_url("postgres"), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
    print(f"dropped the database {name}", flush=True)


# --- the workers ---------------------------------------------------------------------------------


class Workers:
    """N ``flask --app cacnet worker`` processes (not burst), each in a session of its own, so
    that its scheduler (a process it forks) goes with it when it is stopped."""

    def __init__(self, env: dict[str, str], count: int, log_dir: Path) -> None:
        self.env, self.count, self.log_dir = env, count, log_dir
        self.procs: list[subprocess.Popen] = []
        self.names: list[str] = []

    def __enter__(self) -> Workers:
        for i in range(self.count):
            with open(self.log_dir / f"worker-{self.count}-{i}.log", "wb") as log:
                self.procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "flask", "--app", "cacnet", "worker"],
                        env=self.env,
                        cwd=ROOT,
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        return self

    def wait_registered(self, queue, timeout: float = 60) -> float:
        """Until every worker has registered with RQ on ``queue`` (it then listens)."""
        from rq import Worker

        started = time.perf_counter()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in self.procs):
                raise RuntimeError(f"a worker exited at start-up:\n{self.log_tail()}")
            workers = Worker.all(connection=queue.connection, queue=queue)
            if len(workers) >= self.count:
                self.names = [w.name for w in workers]
                return time.perf_counter() - started
            time.sleep(0.1)
        raise RuntimeError(f"the workers did not register in {timeout:.0f} s:\n{self.log_tail()}")

    def pids(self) -> list[int]:
        found = []
        for proc in self.procs:
            if proc.poll() is None:
                found.extend([proc.pid, *_children(proc.pid)])
        return found

    def all_exited(self) -> bool:
        return all(p.poll() is not None for p in self.procs)

    def log_tail(self, chars: int = 3000) -> str:
        return "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')[-chars:]}"
            for log in sorted(self.log_dir.glob(f"worker-{self.count}-*.log"))
        )

    def __exit__(self, *exc: object) -> None:
        """SIGTERM (RQ's warm shutdown: an idle worker stops at once), then SIGKILL to each
        worker's process group for whatever is left."""
        self.exit_codes = []
        for proc in self.procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                self.exit_codes.append(proc.wait(timeout=20))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                self.exit_codes.append(proc.wait(timeout=5))
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)  # the scheduler, if it outlived its worker


# --- Redis ---------------------------------------------------------------------------------------


def job_ids(queue) -> set[str]:
    """Every job of ``queue``: waiting, and in each of its registries."""
    ids = set(queue.get_job_ids())
    for registry in (
        queue.started_job_registry,
        queue.finished_job_registry,
        queue.failed_job_registry,
        queue.scheduled_job_registry,
        queue.deferred_job_registry,
        queue.canceled_job_registry,
    ):
        ids.update(registry.get_job_ids())
    return ids


def forget_jobs(queue, seen: set[str]) -> None:
    """Delete the queue's jobs (and their results) so that the next run starts with an empty one;
    their ids go to ``seen`` for the final sweep."""
    from rq.job import Job

    ids = job_ids(queue)
    seen.update(ids)
    for job in Job.fetch_many(sorted(ids), connection=queue.connection):
        if job is not None:
            job.delete()
    queue.empty()
    for job_id in ids:
        queue.connection.delete(f"rq:results:{job_id}")


def clean_redis(queue, cache_prefix: str, seen_jobs: set[str], worker_names: set[str]) -> int:
    """Delete every key of ours: the queue and its registries, its jobs and their results and
    executions, the workers' registrations and the cache entries. Returns how many."""
    forget_jobs(queue, seen_jobs)
    conn = queue.connection
    with contextlib.suppress(Exception):
        queue.delete(delete_jobs=True)
    if worker_names:
        conn.srem("rq:workers", *(f"rq:worker:{name}" for name in worker_names))
    conn.srem("rq:queues", queue.key)
    needles = [queue.name, *seen_jobs, *worker_names]
    deleted = 0
    for raw in conn.scan_iter(count=1000):
        key = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
        if key.startswith(cache_prefix) or any(n in key for n in needles):
            deleted += conn.delete(raw)
    return deleted


# --- one publication -----------------------------------------------------------------------------


def _jar(cookie: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in cookie.split("; ") if "=" in part)


def _merge_cookies(jar: dict[str, str], resp: http.client.HTTPResponse) -> None:
    for header in resp.headers.get_all("Set-Cookie") or []:
        parsed = SimpleCookie()
        parsed.load(header)
        for name, morsel in parsed.items():
            jar[name] = morsel.value


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body, as a browser sends a form with a file input."""
    boundary = "----cacnetbench" + secrets.token_hex(12)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    for name, (filename, data) in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
            + data
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def publish(port: int, cookie: str, contact_id: int) -> dict[str, Any]:
    """GET the form (its CSRF token), then POST it to publish the emergency, on one keep-alive
    connection (so to one gunicorn worker, warmed by the GET). Times the POST alone."""
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        started = time.perf_counter()
        conn.request("GET", "/alerts/new", headers={"Cookie": cookie})
        resp = conn.getresponse()
        page = resp.read().decode("utf-8", "replace")
        get_s = time.perf_counter() - started
        if resp.status != 200:
            raise RuntimeError(f"GET /alerts/new answered {resp.status}")
        jar = _jar(cookie)
        _merge_cookies(jar, resp)
        match = CSRF_RE.search(page)
        if not match:
            raise RuntimeError("no csrf_token on /alerts/new")
        fields = {
            "csrf_token": match.group(1) or match.group(2),
            **ALERT_FORM,
            "first_observed_on": (date.today() - timedelta(days=3)).isoformat(),
            "contact_id": str(contact_id),
        }
        body, content_type = multipart(fields, {"documents": ("", b"")})
        headers = {
            "Content-Type": content_type,
            "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items()),
            "Origin": f"http://{HOST}:{port}",
            "Referer": f"http://{HOST}:{port}/alerts/new",
        }
        request_at = time.time()
        started = time.perf_counter()
        conn.request("POST", "/alerts/new", body=body, headers=headers)
        resp = conn.getresponse()
        answer = resp.read()
        post_s = time.perf_counter() - started
        answered_at = time.time()
    finally:
        conn.close()
    location = resp.headers.get("Location") or ""
    path = urllib.parse.urlsplit(location).path
    if resp.status != 302 or not path.startswith("/alerts/"):
        raise RuntimeError(
            f"POST /alerts/new answered {resp.status} (Location {location!r}):\n"
            f"{answer.decode('utf-8', 'replace')[:3000]}"
        )
    return {
        "uuid": path.rstrip("/").rsplit("/", 1)[-1],
        "get_form_ms": get_s * 1000,
        "post_ms": post_s * 1000,
        "post_bytes": len(body),
        "request_at": request_at,
        "answered_at": answered_at,
    }


def _ts(value: datetime | None) -> float | None:
    if value is None:
        return None
    if value.tzinfo is None:  # older RQ: naive UTC
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def jobs_report(queue) -> list[dict[str, Any]]:
    """What RQ recorded of each job of the run: which, by whom, when, and what it returned."""
    from rq.job import Job

    found = []
    scheduled = queue.scheduled_job_registry
    for job in Job.fetch_many(sorted(job_ids(queue)), connection=queue.connection):
        if job is None:
            continue
        args = list(job.args or ())
        try:
            result = job.return_value()
        except Exception:  # noqa: BLE001 - a report, not a check
            result = None
        found.append(
            {
                "func": args[0] if args else job.func_name,
                "args": args[1:],
                "status": str(job.get_status()),
                "worker": getattr(job, "worker_name", None),
                "enqueued_at": _ts(job.enqueued_at),
                "started_at": _ts(job.started_at),
                "ended_at": _ts(job.ended_at),
                "scheduled_for": _ts(scheduled.get_scheduled_time(job))
                if job.id in scheduled
                else None,
                "result": result if isinstance(result, (int, dict, type(None))) else str(result),
            }
        )
    never = float("inf")
    return sorted(found, key=lambda j: (j["enqueued_at"] or never, j["started_at"] or never))


def run_once(
    app, env: dict[str, str], sink: SMTPSinkProcess, server: GunicornServer, cookie: str, *,
    workers: int, data: dict[str, Any], timeout: float, log_dir: Path, seen_jobs: set[str],
    worker_names: set[str],
) -> dict[str, Any]:  # fmt: skip
    from sqlalchemy import func, select, text

    from cacnet.alerts.models import Alert
    from cacnet.core import deliveries
    from cacnet.core.db import db
    from cacnet.core.jobs import _queue

    queue = _queue(app)
    with app.app_context():
        db.session.execute(text("TRUNCATE deliveries RESTART IDENTITY"))
        db.session.commit()
    forget_jobs(queue, seen_jobs)
    sink.ask("reset")
    expected = data["expected"]
    count = len(expected)

    with Workers(env, workers, log_dir) as pool:
        startup = pool.wait_registered(queue)
        worker_names.update(pool.names)
        print(f"  {workers} worker(s) registered {startup:.1f} s after their start", flush=True)
        time.sleep(0.5)  # let the scheduler (forked by one of them) settle
        own = [os.getpid(), sink.process.pid]

        def snapshot() -> tuple[dict[str, Any], dict[str, list[int]]]:
            groups = {"workers": pool.pids(), "gunicorn": server.pids(), "own": own}
            return cpu_snapshot([p for g in groups.values() for p in g], DATABASE), groups

        before, groups = snapshot()
        before_at = time.time()
        loadavg_before = os.getloadavg()

        # 1. the publishing request
        posted = publish(server.port, cookie, data["facts"]["raising_contact_id"])
        print(f"  POST /alerts/new (publish an emergency): {posted['post_ms']:.0f} ms", flush=True)

        # 2. until the last message reaches the SMTP server
        deadline = time.monotonic() + timeout
        stats = sink.ask("stats")
        while stats["messages"] < count and time.monotonic() < deadline:
            if pool.all_exited():
                break
            time.sleep(0.05)
            stats = sink.ask("stats")

        # 3. until the database says sent, and the jobs have finished
        with app.app_context():
            alert_id = db.session.scalar(select(Alert.id).where(Alert.uuid == posted["uuid"]))
            settle = time.monotonic() + 30
            while True:
                states = deliveries.summary(object_type=OBJECT_TYPE, object_id=alert_id)
                db.session.rollback()
                if (states["pending"] == 0 and states["sending"] == 0 and sum(states.values())) or (
                    time.monotonic() > settle
                ):
                    break
                time.sleep(0.1)
            all_sent_at = time.time()
            while time.monotonic() < settle and any(  # every run has finished its bookkeeping
                j["status"] in ("JobStatus.QUEUED", "JobStatus.STARTED") for j in jobs_report(queue)
            ):
                time.sleep(0.05)
            after, _ = snapshot()
            after_at = time.time()
            loadavg_after = os.getloadavg()
            locales = dict(
                db.session.execute(
                    select(deliveries.Delivery.locale, func.count())
                    .where(deliveries.Delivery.object_id == alert_id)
                    .group_by(deliveries.Delivery.locale)
                ).all()
            )
            body_bytes = db.session.scalar(
                select(func.avg(func.octet_length(deliveries.Delivery.body))).where(
                    deliveries.Delivery.object_id == alert_id
                )
            )
            db.session.remove()
        stats = sink.ask("stats")
        received = sink.ask("recipients")
        jobs = jobs_report(queue)
    exit_codes = pool.exit_codes

    # CPU per group (a process gone before the last snapshot is lost: none should be)
    cpu = {}
    for name, pids in groups.items():
        cpu[name] = sum(
            max(after["server"].get(p, 0.0) - before["server"].get(p, 0.0), 0.0) for p in pids
        )
    used = cpu_used(before, after)
    cpu["postgres"] = used["postgres"]
    cpu["machine_busy"] = used["busy"]
    cpu["machine_idle"] = used["idle"]
    cpu["other"] = max(used["busy"] - sum(cpu[g] for g in (*groups, "postgres")), 0.0)
    window = after_at - before_at

    # the checks
    wanted = set(expected)
    missing = sorted(wanted - set(received))
    unexpected = sorted(set(received) - wanted)
    duplicates = sum(n - 1 for n in received.values() if n > 1)
    fan_out = next((j for j in jobs if j["func"] == FAN_OUT), None)
    runs = [j for j in jobs if j["func"] == deliveries.SEND_DUE and j["started_at"]]
    # A run that ends while another worker still holds a batch schedules a later one, for when
    # that claim would go stale (cacnet.core.deliveries._schedule_next_run): not a run of this one.
    later = [j for j in jobs if j["func"] == deliveries.SEND_DUE and not j["started_at"]]
    committed_at = fan_out["enqueued_at"] if fan_out else None
    ok = (
        stats["messages"] == count
        and not missing
        and not unexpected
        and duplicates == 0
        and states["sent"] == count
        and sum(states.values()) == count
    )

    def since(start: float | None, end: float | None) -> float | None:
        return end - start if start is not None and end is not None else None

    rate = (
        (stats["messages"] - 1) / (stats["last"] - stats["first"])
        if stats["messages"] > 1 and stats["last"] > stats["first"]
        else None
    )
    per_worker: dict[str, int] = {}
    for run in runs:
        if isinstance(run["result"], dict):
            per_worker[run["worker"] or "?"] = per_worker.get(run["worker"] or "?", 0) + run[
                "result"
            ].get("sent", 0)
    result = {
        "workers": workers,
        "alert_id": alert_id,
        "expected_recipients": count,
        "worker_startup_s": startup,
        "get_form_ms": posted["get_form_ms"],
        "post_ms": posted["post_ms"],
        "post_to_commit_s": since(posted["request_at"], committed_at),
        "commit_to_fan_out_start_s": since(committed_at, fan_out and fan_out["started_at"]),
        "fan_out_job_s": since(fan_out and fan_out["started_at"], fan_out and fan_out["ended_at"]),
        "fan_out_added": fan_out and fan_out["result"],
        "commit_to_first_message_s": since(committed_at, stats["first"]),
        "commit_to_last_message_s": since(committed_at, stats["last"]),
        "post_to_first_message_s": since(posted["request_at"], stats["first"]),
        "post_to_last_message_s": since(posted["request_at"], stats["last"]),
        "last_message_to_all_sent_s": since(stats["last"], all_sent_at),
        "send_rate_per_s": rate,
        "messages_received": stats["messages"],
        "distinct_recipients": stats["recipients"],
        "duplicates": duplicates,
        "missing": len(missing),
        "missing_sample": missing[:5],
        "unexpected": len(unexpected),
        "unexpected_sample": unexpected[:5],
        "smtp_connections": stats["connections"],
        "states": states,
        "locales": locales,
        "body_bytes_mean": round(float(body_bytes or 0)),
        "send_runs": len(runs),
        "later_runs_scheduled_in_s": [
            round(j["scheduled_for"] - stats["last"])
            for j in later
            if j["scheduled_for"] and stats["last"]
        ],
        "worker_cpu_ms_per_message": cpu["workers"] * 1000 / stats["messages"]
        if stats["messages"]
        else None,
        "sent_per_worker": per_worker,
        "jobs": jobs,
        "worker_exit_codes": exit_codes,
        "cpu_s": cpu,
        "cores_busy_mean": used["busy"] / window if window > 0 else None,
        "loadavg_before": list(loadavg_before),
        "loadavg_after": list(loadavg_after),
        "check": "PASS" if ok else "FAIL",
    }
    print(
        f"  fan-out job: started {_s(result['commit_to_fan_out_start_s'])} after the commit, ran "
        f"{_s(result['fan_out_job_s'])}, added {result['fan_out_added']}; {len(runs)} sending "
        f"run(s), sent per worker {sorted(per_worker.values(), reverse=True)}; runs scheduled "
        f"for later (stale-claim check): {len(later)}",
        flush=True,
    )
    print(
        f"  commit -> first message {_s(result['commit_to_first_message_s'])}, -> last "
        f"{_s(result['commit_to_last_message_s'])} (POST start -> last "
        f"{_s(result['post_to_last_message_s'])}); {_n(rate)} messages/s; "
        f"{stats['messages']:,} received by {stats['recipients']:,} recipients, {duplicates} "
        f"duplicates, {len(missing)} missing, {len(unexpected)} unexpected; states {states}; "
        f"{result['check']}",
        flush=True,
    )
    print(
        f"  CPU s: workers {cpu['workers']:.1f} ({_n(result['worker_cpu_ms_per_message'], '.2f')}"
        f" ms/message), PostgreSQL {cpu['postgres']:.1f}, gunicorn "
        f"{cpu['gunicorn']:.1f}, SMTP server + bench {cpu['own']:.1f}, other processes "
        f"{cpu['other']:.1f}; machine busy {used['busy']:.1f} s of "
        f"{used['busy'] + used['idle']:.1f} s ({_n(result['cores_busy_mean'], '.2f')} cores); "
        f"load average {loadavg_before[0]:.2f} -> {loadavg_after[0]:.2f}",
        flush=True,
    )
    if not ok:
        print(pool.log_tail(), flush=True)
    return result


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def _n(value: float | None, fmt: str = ",.0f") -> str:
    return "-" if value is None else format(value, fmt)


# --- main ----------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cities", type=int, default=10_000, help="member cities (at most 10,000)")
    parser.add_argument(
        "--workers", default="1,2", help="worker counts, one publication each (default 1,2)"
    )
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--timeout", type=float, default=180, help="seconds per run at most")
    parser.add_argument("--keep-db", action="store_true", help=f"do not drop {DATABASE} at the end")
    parser.add_argument("--name", default="alerts", help="results file name")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    worker_counts = [int(n) for n in args.workers.split(",") if n.strip()]
    started = datetime.now(UTC)
    queue_name = f"bench-alerts-{os.getpid()}"
    cache_prefix = f"{queue_name}:"
    results: list[dict[str, Any]] = []
    seen_jobs: set[str] = set()
    worker_names: set[str] = set()
    with contextlib.ExitStack() as stack:
        stack.enter_context(stop_on_sigterm())
        instance = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cacnet-bench-")))
        (instance / "config.py").write_text(
            INSTANCE_CONFIG.format(queue=queue_name, prefix=cache_prefix)
        )
        print(f"database {DATABASE} on {PG_SERVER_URL} (recreated), Redis {REDIS_URL} ...")
        db_url = ensure_database(DATABASE, recreate=True)
        if not args.keep_db:
            stack.callback(drop_database)
        env = app_environment(db_url, instance)
        prepare_database(env, seed=False)
        sink = stack.enter_context(SMTPSinkProcess())
        env.update(
            CACNET_REDIS_URL=REDIS_URL, CACNET_MAIL_SERVER=HOST, CACNET_MAIL_PORT=str(sink.port)
        )
        for key in [k for k in os.environ if k.startswith("CACNET_")]:
            del os.environ[key]
        os.environ.update({k: v for k, v in env.items() if k.startswith("CACNET_")})
        from cacnet import create_app
        from cacnet.core.db import db
        from cacnet.core.jobs import _queue

        app = create_app()
        queue = _queue(app)

        def cleanup() -> None:
            try:
                deleted = clean_redis(queue, cache_prefix, seen_jobs, worker_names)
                print(f"deleted {deleted} Redis keys of {queue_name}", flush=True)
            except Exception as error:  # noqa: BLE001 - report it, go on cleaning up
                print(f"WARNING: could not clean Redis up: {error!r}", file=sys.stderr)
            with app.app_context():
                db.engine.dispose()

        stack.callback(cleanup)
        data = load(app, args.cities)
        print(
            f"gunicorn -w {args.gunicorn_workers} -k gthread --threads {args.threads}; SMTP "
            f"server (aiosmtpd, own process) on {HOST}:{sink.port}; queue {queue_name}",
            flush=True,
        )
        server = stack.enter_context(
            GunicornServer(
                env,
                workers=args.gunicorn_workers,
                threads=args.threads,
                log_path=instance / "gunicorn.log",
            )
        )
        cookie = sign_in(HOST, server.port, DELEGATE_EMAIL, PASSWORD, check_path="/alerts/new")
        for workers in worker_counts:
            print(
                f"\nan emergency to {data['facts']['expected_recipients']:,} focal points, "
                f"{workers} worker(s):",
                flush=True,
            )
            results.append(
                run_once(
                    app,
                    env,
                    sink,
                    server,
                    cookie,
                    workers=workers,
                    data=data,
                    timeout=args.timeout,
                    log_dir=instance,
                    seen_jobs=seen_jobs,
                    worker_names=worker_names,
                )  # fmt: skip
            )
        report = {
            "name": args.name,
            "started_utc": started.isoformat(timespec="seconds"),
            "finished_utc": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine_facts(),
            "postgres": postgres_version(db_url),
            "options": dict(vars(args)),
            "data": data["facts"],
            "server": server.facts,
            "method": {
                "publish": "GET /alerts/new then POST it (multipart, action=publish, severity "
                "emergency) on one keep-alive connection, signed in as the raising city's "
                "delegate; post_ms is the POST alone, send to last byte of the 302",
                "workers": "flask --app cacnet worker (RQ SimpleWorker with the scheduler), "
                "started and registered before the POST and stopped after the run: their "
                "start-up is outside the figures",
                "commit": "the fan-out job's enqueued_at (RQ, in the request right after the "
                "commit)",
                "smtp": "aiosmtpd in its own process, counting per recipient, not parsing",
                "check": "every primary focal point of the other member cities (from the "
                "generated data) got exactly one message, nobody else got any, and every "
                "delivery of the alert is sent",
                "delivery_settings": "the defaults: batches of 100, a run per 1,000 deliveries "
                "up to 4",
            },
            "results": results,
        }
    print()
    print(f"{'workers':>7}  {'POST ms':>7}  {'fan-out job':>11}  {'commit->first':>13}  "
          f"{'commit->last':>12}  {'POST->last':>10}  {'msgs/s':>6}  {'dupes':>5}  "
          f"{'missing':>7}  {'sent':>6}  check")  # fmt: skip
    for r in results:
        print(
            f"{r['workers']:>7}  {r['post_ms']:>7.0f}  {_s(r['fan_out_job_s']):>11}  "
            f"{_s(r['commit_to_first_message_s']):>13}  {_s(r['commit_to_last_message_s']):>12}  "
            f"{_s(r['post_to_last_message_s']):>10}  {_n(r['send_rate_per_s']):>6}  "
            f"{r['duplicates']:>5}  {r['missing']:>7}  {r['states']['sent']:>6,}  {r['check']}"
        )
    write_results(report, args.name, started)
    return 0 if results and all(r["check"] == "PASS" for r in results) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        sys.exit(130)
