"""Benchmark the e-mail delivery queue: one fan-out of 10,000 deliveries, from the publishing
commit to the last message handed to a loopback SMTP server, with one and with two RQ workers.

Run from the repository root, either way:

    .venv/bin/python -m bench.deliveries                     # 10,000 deliveries, 1 then 2 workers
    .venv/bin/python bench/deliveries.py --workers 1,2,4 --deliveries 20000
    .venv/bin/python -m bench.deliveries --recreate-db       # drop cacnet_bench_deliveries first

Needs PostgreSQL on 127.0.0.1:5432 (``CACNET_BENCH_PG_URL`` for another server) and Redis on
127.0.0.1:6379 (``CACNET_BENCH_REDIS_URL``). It creates (if missing) and migrates the database
``cacnet_bench_deliveries`` (only the ``deliveries`` table is used; it is emptied before each run),
and uses its own RQ queue (``bench-deliveries-<pid>``, deleted at the end), so it neither takes nor
leaves jobs of anyone else sharing that Redis.

For each worker count:

1. This process (the app, as a publishing request would) renders nothing but builds 10,000 rows
   (one per focal point, a ~1 KB plain-text alert, a fifth in Korean), ``add_many``s them,
   calls ``send_soon`` and commits: the commit queues the runs of ``send_due`` in Redis (one per
   ``DELIVERY_PER_RUN`` = 1,000 deliveries, at most ``DELIVERY_PARALLEL_RUNS`` = 4). Timed: the
   INSERTs and the commit.
2. Then it starts N real ``flask --app cacnet worker --burst`` processes (RQ SimpleWorkers, with
   the scheduler, as in production) on the same database, Redis and queue; each run claims
   batches of 100 and sends each batch over one SMTP connection.
3. The SMTP server is aiosmtpd in a process of its own (not parsing messages: it counts them per
   recipient and notes the time of the first and last). The figure is the time from the commit to
   the last message handed to it ("commit -> last"), with the workers' start-up (process start,
   imports, app) inside; "send rate" is messages per second between the first and the last
   message, the queue's throughput once running.

It checks every delivery is ``sent`` in the database and every recipient got exactly one message
(PASS/FAIL), and reports the CPU seconds of the workers, their PostgreSQL backends and the SMTP
server. Results: ``bench/results/deliveries-<UTC timestamp>.json`` and ``deliveries-latest.json``.
About a minute.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make ``bench`` and ``cacnet`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    PG_SERVER_URL,
    ROOT,
    app_environment,
    cpu_snapshot,
    cpu_used,
    ensure_database,
    machine_facts,
    postgres_version,
    prepare_database,
    stop_on_sigterm,
    write_results,
)

DATABASE = "cacnet_bench_deliveries"
REDIS_URL = os.environ.get("CACNET_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
HOST = "127.0.0.1"

# The instance config of the bench app and its workers (same file, so they agree).
INSTANCE_CONFIG = """\
# written by bench.deliveries
JOBS_QUEUE = {queue!r}
DELIVERY_BATCH_SIZE = {batch_size}
DELIVERY_PER_RUN = {per_run}
DELIVERY_PARALLEL_RUNS = {parallel_runs}
DELIVERY_AUTO_SEND = False
"""

BODY_EN = """Dear focal point of {city},

The secretariat of the Cities Alliance Against Pandemic has published an alert.

Alert: Cholera outbreak in the coastal districts (update {n})
Severity: high
Region: South-East Asia
Published: 21 November 2026, 09:30 UTC

Cases have risen sharply over the past week in three coastal districts, with 412 suspected and 57
confirmed cases and 6 deaths. Member cities with port or river links to the region are asked to
review their water-safety guidance, alert their primary-care networks to the case definition, and
report clusters to the secretariat within 24 hours.

What the secretariat asks of member cities:
- check the stocks of oral rehydration salts and intravenous fluids;
- share laboratory capacity for stool culture through the resource exchange;
- tell travellers returning from the affected districts about the symptoms.

The full alert, its sources and its updates: https://cacnet.example/alerts/{n}

You receive this message as a focal point of your city. To change who receives alerts, your
city's administrators can edit the city's contacts.
"""
BODY_KO = """{city} 담당자님께,

감염병 대응 도시 연대 사무국이 경보를 발표했습니다.

경보: 해안 지역 콜레라 발생 (업데이트 {n})
심각도: 높음
지역: 동남아시아
발표: 2026년 11월 21일 09:30 UTC

지난 한 주 동안 세 개 해안 지역에서 의심 환자 412명, 확진 환자 57명, 사망자 6명이 보고되었습니다.
해당 지역과 항만 또는 하천으로 연결된 회원 도시는 식수 안전 지침을 점검하고, 일차 의료 기관에
사례 정의를 알리며, 집단 발생을 24시간 안에 사무국에 보고해 주십시오.

경보 전문과 출처, 업데이트: https://cacnet.example/alerts/{n}

이 메시지는 귀 도시의 담당자로 등록되어 있어 발송되었습니다.
"""


# --- the SMTP server (its own process) ------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _sink_main(port: int, control) -> None:
    """aiosmtpd on ``port``; answers ``stats``, ``recipients``, ``reset`` and ``stop`` on the
    ``control`` pipe."""
    from collections import Counter

    from aiosmtpd.controller import Controller

    class Sink:
        def __init__(self) -> None:
            self.reset()

        def reset(self) -> None:
            self.recipients: Counter[str] = Counter()
            self.messages = 0
            self.first: float | None = None
            self.last: float | None = None
            self.connections = 0

        async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
            session.host_name = hostname
            self.connections += 1
            return responses

        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            now = time.time()
            self.recipients.update(envelope.rcpt_tos)
            self.messages += 1
            self.first = self.first or now
            self.last = now
            return "250 OK"

    sink = Sink()
    controller = Controller(sink, hostname=HOST, port=port)
    controller.start()
    control.send("ready")
    try:
        while True:
            command = control.recv()
            if command == "stats":
                control.send(
                    {
                        "messages": sink.messages,
                        "recipients": len(sink.recipients),
                        "duplicates": sum(n - 1 for n in sink.recipients.values() if n > 1),
                        "first": sink.first,
                        "last": sink.last,
                        "connections": sink.connections,
                    }
                )
            elif command == "recipients":  # {address: messages received}
                control.send(dict(sink.recipients))
            elif command == "reset":
                sink.reset()
                control.send("ok")
            else:
                break
    finally:
        controller.stop()


class SMTPSinkProcess:
    def __init__(self) -> None:
        self.port = _free_port()
        ctx = multiprocessing.get_context("spawn")
        self._control, child = ctx.Pipe()
        self.process = ctx.Process(target=_sink_main, args=(self.port, child), daemon=True)

    def __enter__(self) -> SMTPSinkProcess:
        self.process.start()
        if not self._control.poll(30) or self._control.recv() != "ready":
            raise RuntimeError("the SMTP server did not start")
        return self

    def ask(self, command: str):
        self._control.send(command)
        return self._control.recv()

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError, EOFError):
            self._control.send("stop")
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()


# --- one run ---------------------------------------------------------------------------------------


def fan_out_rows(count: int, alert_id: int) -> list[dict[str, Any]]:
    rows = []
    for n in range(count):
        address = f"focal.{n:05d}@city-{n % 997:03d}.example"
        korean = n % 5 == 0
        city = f"City {n % 997:03d}"
        rows.append(
            {
                "key": f"alert:{alert_id}:update:0:to:{address}",
                "recipient": address,
                "locale": "ko" if korean else "en",
                "subject": (
                    f"[경보] 해안 지역 콜레라 발생 (업데이트 {alert_id})"
                    if korean
                    else f"[Alert] Cholera outbreak in the coastal districts (update {alert_id})"
                ),
                "body": (BODY_KO if korean else BODY_EN).format(city=city, n=alert_id),
                "topic": "alert",
                "object_type": "alert",
                "object_id": alert_id,
            }
        )
    return rows


def _clear_queue(app) -> None:
    from cacnet.core.jobs import _queue

    queue = _queue(app)
    queue.empty()
    for registry in (queue.scheduled_job_registry, queue.failed_job_registry):
        for job_id in registry.get_job_ids():
            registry.remove(job_id, delete_job=True)


def run_once(
    app, env: dict[str, str], sink: SMTPSinkProcess, *, workers: int, count: int, alert_id: int,
    timeout: float, log_dir: Path,
) -> dict[str, Any]:  # fmt: skip
    from sqlalchemy import text

    from cacnet.core import deliveries
    from cacnet.core.db import db

    with app.app_context():
        db.session.execute(text("TRUNCATE deliveries RESTART IDENTITY"))
        db.session.commit()
        _clear_queue(app)
    sink.ask("reset")
    rows = fan_out_rows(count, alert_id)
    body_bytes = sum(len(r["body"].encode()) for r in rows) / count

    # 1. the publishing transaction
    with app.app_context():
        started = time.perf_counter()
        added = deliveries.add_many(rows)
        inserted = time.perf_counter()
        deliveries.send_soon()
        db.session.commit()  # queues the runs in Redis
        committed_at = time.time()
        committed = time.perf_counter()
        from cacnet.core.jobs import _queue

        jobs_queued = _queue(app).count
    print(
        f"  {added:,} deliveries added in {inserted - started:.2f} s, committed and "
        f"{jobs_queued} run(s) queued in {committed - inserted:.3f} s",
        flush=True,
    )

    # 2. the workers
    procs = []
    for i in range(workers):
        log = open(log_dir / f"worker-{workers}-{i}.log", "wb")  # noqa: SIM115 - closed below
        procs.append(
            (
                subprocess.Popen(
                    [sys.executable, "-m", "flask", "--app", "cacnet", "worker", "--burst"],
                    env=env,
                    cwd=ROOT,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                ),
                log,
            )
        )
    pids = [p.pid for p, _ in procs] + [sink.process.pid]
    before = cpu_snapshot(pids, DATABASE)
    after = before

    # 3. until the last message arrives
    deadline = time.monotonic() + timeout
    stats = sink.ask("stats")
    while stats["messages"] < count and time.monotonic() < deadline:
        if all(p.poll() is not None for p, _ in procs):
            break  # every worker stopped: nothing more will come
        time.sleep(0.05)
        after = cpu_snapshot(pids, DATABASE)  # while the workers and their backends still live
        stats = sink.ask("stats")
    exit_codes = []
    for proc, log in procs:
        try:
            exit_codes.append(proc.wait(timeout=max(deadline - time.monotonic(), 10)))
        except subprocess.TimeoutExpired:
            proc.terminate()
            exit_codes.append(proc.wait(10))
        log.close()
    used = cpu_used(before, after)
    worker_cpu = sum(
        max(after["server"].get(p.pid, 0) - before["server"].get(p.pid, 0), 0) for p, _ in procs
    )
    sink_cpu = after["server"].get(sink.process.pid, 0) - before["server"].get(sink.process.pid, 0)

    with app.app_context():
        states = deliveries.summary(object_type="alert", object_id=alert_id)
        db.session.remove()
    done = stats["messages"] == count and stats["duplicates"] == 0 and states["sent"] == count
    last = (stats["last"] - committed_at) if stats["last"] else None
    first = (stats["first"] - committed_at) if stats["first"] else None
    rate = (
        (stats["messages"] - 1) / (stats["last"] - stats["first"])
        if stats["messages"] > 1 and stats["last"] > stats["first"]
        else None
    )
    result = {
        "workers": workers,
        "deliveries": count,
        "body_bytes_mean": round(body_bytes),
        "add_many_s": inserted - started,
        "commit_s": committed - inserted,
        "runs_queued": jobs_queued,
        "commit_to_first_message_s": first,
        "commit_to_last_message_s": last,
        "send_rate_per_s": rate,
        "messages_received": stats["messages"],
        "distinct_recipients": stats["recipients"],
        "duplicates": stats["duplicates"],
        "smtp_connections": stats["connections"],
        "states": states,
        "worker_exit_codes": exit_codes,
        "cpu_s": {
            "workers": worker_cpu,
            "postgres": used["postgres"],
            "smtp_server": sink_cpu,
            "machine_busy": used["busy"],
            "machine_idle": used["idle"],
        },
        "check": "PASS" if done else "FAIL",
    }
    print(
        f"  {workers} worker(s): commit -> first message {_s(first)}, -> last {_s(last)}; "
        f"{_n(rate)} messages/s; {stats['messages']:,} received, {stats['duplicates']} "
        f"duplicates, {stats['connections']} SMTP connections; states {states}; "
        f"CPU s: workers {worker_cpu:.1f}, PostgreSQL {used['postgres']:.1f}, SMTP server "
        f"{sink_cpu:.1f}; {result['check']}",
        flush=True,
    )
    return result


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def _n(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


# --- main ------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=10_000)
    parser.add_argument(
        "--workers", default="1,2", help="worker counts, one run each (default 1,2)"
    )
    parser.add_argument("--batch-size", type=int, default=100, help="DELIVERY_BATCH_SIZE")
    parser.add_argument("--per-run", type=int, default=1000, help="DELIVERY_PER_RUN")
    parser.add_argument("--parallel-runs", type=int, default=4, help="DELIVERY_PARALLEL_RUNS")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per run at most")
    parser.add_argument("--recreate-db", action="store_true", help=f"drop {DATABASE} first")
    parser.add_argument("--name", default="deliveries", help="results file name")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    worker_counts = [int(n) for n in args.workers.split(",") if n.strip()]
    started = datetime.now(UTC)
    queue_name = f"bench-deliveries-{os.getpid()}"
    results = []
    with contextlib.ExitStack() as stack:
        stack.enter_context(stop_on_sigterm())
        instance = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cacnet-bench-")))
        (instance / "config.py").write_text(
            INSTANCE_CONFIG.format(
                queue=queue_name,
                batch_size=args.batch_size,
                per_run=args.per_run,
                parallel_runs=args.parallel_runs,
            )
        )
        print(f"database {DATABASE} on {PG_SERVER_URL}, Redis {REDIS_URL} ...", flush=True)
        db_url = ensure_database(DATABASE, recreate=args.recreate_db)
        env = app_environment(db_url, instance)
        prepare_database(env, seed=False)
        sink = stack.enter_context(SMTPSinkProcess())
        env.update(
            CACNET_REDIS_URL=REDIS_URL, CACNET_MAIL_SERVER=HOST, CACNET_MAIL_PORT=str(sink.port)
        )
        for key, value in env.items():  # the bench app reads the same as its workers
            if key.startswith("CACNET_"):
                os.environ[key] = value
        from cacnet import create_app

        app = create_app()
        stack.callback(_delete_queue, app)
        print(
            f"SMTP server (aiosmtpd, own process) on {HOST}:{sink.port}; queue {queue_name}; "
            f"batches of {args.batch_size}, a run per {args.per_run} deliveries up to "
            f"{args.parallel_runs}",
            flush=True,
        )
        for n, workers in enumerate(worker_counts, 1):
            print(f"\n{args.deliveries:,} deliveries, {workers} worker(s):", flush=True)
            results.append(
                run_once(
                    app,
                    env,
                    sink,
                    workers=workers,
                    count=args.deliveries,
                    alert_id=n,
                    timeout=args.timeout,
                    log_dir=instance,
                )  # fmt: skip
            )
            if results[-1]["check"] == "FAIL":
                for log in sorted(instance.glob(f"worker-{workers}-*.log")):
                    print(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}")
        report = {
            "name": args.name,
            "started_utc": started.isoformat(timespec="seconds"),
            "finished_utc": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine_facts(),
            "postgres": postgres_version(db_url),
            "options": dict(vars(args)),
            "method": {
                "publish": "add_many of N rendered rows + send_soon + commit in this process",
                "workers": "flask --app cacnet worker --burst (RQ SimpleWorker with scheduler), "
                "started right after the commit: their start-up is inside the figures",
                "smtp": "aiosmtpd in its own process, counting per recipient, not parsing",
                "figure": "commit -> last message handed to the SMTP server (wall clock)",
            },
            "results": results,
        }
    print()
    print(f"{'workers':>7}  {'add_many s':>10}  {'commit->first s':>15}  {'commit->last s':>14}  "
          f"{'msgs/s':>7}  {'dupes':>5}  {'worker CPU s':>12}  {'pg CPU s':>8}  check")  # fmt: skip
    for r in results:
        print(
            f"{r['workers']:>7}  {r['add_many_s']:>10.2f}  "
            f"{_s(r['commit_to_first_message_s']):>15}  {_s(r['commit_to_last_message_s']):>14}  "
            f"{_n(r['send_rate_per_s']):>7}  {r['duplicates']:>5}  {r['cpu_s']['workers']:>12.1f}  "
            f"{r['cpu_s']['postgres']:>8.1f}  {r['check']}"
        )
    write_results(report, args.name, started)
    return 0 if all(r["check"] == "PASS" for r in results) else 1


def _delete_queue(app) -> None:
    with contextlib.suppress(Exception):
        from cacnet.core.jobs import _queue

        _clear_queue(app)
        queue = _queue(app)
        queue.delete(delete_jobs=True)
        for key in queue.connection.scan_iter(f"rq:*{queue.name}*"):  # its registries
            queue.connection.delete(key)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        sys.exit(130)
