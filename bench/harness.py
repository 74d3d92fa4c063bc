"""Reusable benchmark harness: serve the real app with gunicorn, load it, compare pages to hello.

Pieces, usable on their own:

* ``ensure_database`` / ``prepare_database``: a dedicated PostgreSQL database (``cacnet_bench``),
  migrated and optionally seeded with the demo data, so the benchmarks never touch a real one;
* ``GunicornServer`` (or the all-in-one context manager ``serve``): gunicorn serving
  ``bench.wsgi:app`` (the real app plus ``/__bench/hello``) on 127.0.0.1, a free port, a temporary
  instance folder; stopped on exit, exceptions and Ctrl-C included;
* ``LoadGenerator``: a closed loop of C clients, each with one keep-alive ``http.client``
  connection, bounded by a duration and a request count; per-request latencies;
* ``sign_in``: one real sign-in through the login form, returning the session cookie;
* ``compare``: every route and the hello baseline measured in the same run, a table printed, the
  numbers written to ``bench/results/<name>-<UTC timestamp>.json`` and ``<name>-latest.json``;
* ``add_load_arguments``: the command-line options every benchmark script shares.

Only the standard library at import time (psycopg is imported when a database is prepared), so the
client processes of the load generator start fast. All traffic goes to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import os
import platform
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from importlib import metadata
from multiprocessing import get_context
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
HOST = "127.0.0.1"
HELLO = "/__bench/hello"
WSGI_APP = "bench.wsgi:app"
BENCH_DATABASE = "cacnet_bench"
PG_SERVER_URL = os.environ.get("CACNET_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432")

REQUEST_TIMEOUT = 10.0  # seconds for any one request; a hung server cannot stall a run for long
HARD_MAX_REQUESTS = 10_000_000  # per measurement, whatever the caller asks for
HARD_MAX_DURATION = 600.0  # seconds per measurement, whatever the caller asks for
OTHER_CORES_WARNING = 0.15  # other processes busier than this during a measurement: a warning


# --- database -------------------------------------------------------------------------------------


def database_url(name: str = BENCH_DATABASE, server_url: str = PG_SERVER_URL) -> str:
    return f"{server_url.rstrip('/')}/{name}"


def ensure_database(
    name: str = BENCH_DATABASE, server_url: str = PG_SERVER_URL, *, recreate: bool = False
) -> str:
    """Create the database ``name`` unless it exists (dropping it first when ``recreate``)."""
    import psycopg
    from psycopg import sql

    if not name.replace("_", "").isalnum():
        raise ValueError(f"unexpected database name {name!r}")
    with psycopg.connect(database_url("postgres", server_url), autocommit=True) as conn:
        if recreate:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return database_url(name, server_url)


def postgres_version(url: str) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


def app_environment(db_url: str, instance_path: str | Path) -> dict[str, str]:
    """The process environment for the app: ours, with every inherited ``CACNET_*`` removed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CACNET_")}
    env.update(
        CACNET_DATABASE_URL=db_url,
        CACNET_INSTANCE_PATH=str(instance_path),
        # One key for every worker, so a session cookie signed by one is valid on all of them.
        CACNET_SECRET_KEY=secrets.token_urlsafe(48),
        CACNET_ENV="production",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def flask_command(env: Mapping[str, str], *args: str, timeout: float = 300) -> str:
    """Run ``flask --app cacnet ARGS`` with ``env`` and return its output (raises on failure)."""
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "cacnet", *args],
        env=dict(env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"flask {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
        )
    return done.stdout


def prepare_database(env: Mapping[str, str], *, seed: bool = True) -> None:
    """``flask db upgrade`` and, when ``seed``, ``flask seed-demo`` (idempotent) against ``env``."""
    flask_command(env, "db", "upgrade")
    if seed:
        flask_command(env, "seed-demo")


# --- the server -----------------------------------------------------------------------------------


class GunicornServer:
    """gunicorn (gthread workers) serving ``app`` on 127.0.0.1 and a port the OS picked.

    We bind the socket ourselves and hand it to gunicorn as ``fd://N``: no race for the port.
    gunicorn runs in its own session, so a Ctrl-C in the terminal reaches only us and ``stop``
    shuts it down gracefully (SIGTERM, then SIGKILL to its process group after a grace period).
    """

    def __init__(
        self,
        env: Mapping[str, str],
        *,
        workers: int = 2,
        threads: int = 4,
        app: str = WSGI_APP,
        log_path: str | Path | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        self.env = dict(env)
        self.workers = workers
        self.threads = threads
        self.app = app
        self.log_path = Path(log_path) if log_path else Path(tempfile.mkdtemp()) / "gunicorn.log"
        self.startup_timeout = startup_timeout
        self.host = HOST
        self.port: int | None = None
        self.proc: subprocess.Popen | None = None
        self.database_url: str | None = None

    @property
    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(self.workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(self.threads),
            "--graceful-timeout",
            "5",
            "--log-level",
            "warning",
            self.app,
        ]

    def start(self) -> GunicornServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((HOST, 0))
            self.port = sock.getsockname()[1]
            fd = sock.fileno()
            cmd = [*self.command[:3], "--bind", f"fd://{fd}", *self.command[3:]]
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(
                    cmd,
                    env=self.env,
                    cwd=ROOT,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    pass_fds=(fd,),
                    start_new_session=True,
                )
        finally:
            sock.close()  # gunicorn holds its own copy
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        last_error = "no answer yet"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with {self.proc.returncode}:\n{self.log_tail()}"
                )
            conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
            try:
                conn.request("GET", "/healthz")
                resp = conn.getresponse()
                body = resp.read()
                if resp.status == 200 and json.loads(body).get("status") == "ok":
                    return
                last_error = f"/healthz answered {resp.status}: {body[:200]!r}"
            except (OSError, http.client.HTTPException, ValueError) as error:
                last_error = repr(error)
            finally:
                conn.close()
            time.sleep(0.1)
        raise RuntimeError(
            f"gunicorn not healthy after {self.startup_timeout:.0f}s ({last_error}):\n"
            f"{self.log_tail()}"
        )

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def pids(self) -> list[int]:
        """The master and its workers."""
        if self.proc is None or self.proc.poll() is not None:
            return []
        return [self.proc.pid, *_children(self.proc.pid)]

    def worker_pids(self) -> list[int]:
        return self.pids()[1:]

    def stop(self, timeout: float = 15.0) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        # Any worker the master left behind is still in its process group (our session).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)

    @property
    def facts(self) -> dict[str, Any]:
        return {
            "app": self.app,
            "worker_class": "gthread",
            "workers": self.workers,
            "threads": self.threads,
            "bind": f"{HOST}:{self.port}",
        }

    def __enter__(self) -> GunicornServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def serve(
    *,
    workers: int = 2,
    threads: int = 4,
    database: str = BENCH_DATABASE,
    seed: bool = True,
    recreate_database: bool = False,
    log: bool = True,
) -> Iterator[GunicornServer]:
    """A migrated (and seeded) bench database, a temporary instance folder and gunicorn on it."""
    with contextlib.ExitStack() as stack:
        stack.enter_context(stop_on_sigterm())
        instance = stack.enter_context(tempfile.TemporaryDirectory(prefix="cacnet-bench-"))
        if log:
            print(f"database {database} on {PG_SERVER_URL} ...", flush=True)
        db_url = ensure_database(database, recreate=recreate_database)
        env = app_environment(db_url, instance)
        try:
            prepare_database(env, seed=seed)
        except RuntimeError as error:
            if recreate_database:
                raise
            raise RuntimeError(
                f"{error}\n\nThe database {database} may have been migrated by an earlier version "
                "of a migration; it only holds benchmark data, so recreate it "
                "(recreate_database=True, bench.pages --recreate-db)."
            ) from error
        if log:
            print(f"gunicorn -w {workers} -k gthread --threads {threads} ...", flush=True)
        server = stack.enter_context(
            GunicornServer(
                env, workers=workers, threads=threads, log_path=Path(instance) / "gunicorn.log"
            )
        )
        server.database_url = db_url
        yield server


@contextlib.contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into SystemExit while inside, so ``with`` blocks clean up (Ctrl-C does already)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum, frame):
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# --- CPU accounting (Linux /proc) ---------------------------------------------------------------

_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError):
                text = Path(f"/proc/{pid}/task/{task}/children").read_text()
                found.extend(int(child) for child in text.split())
    return found


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (all its threads), 0 if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def _postgres_pids(database: str | None) -> list[int]:
    """PostgreSQL backends serving ``database`` (their process title names it), or every
    PostgreSQL process when ``database`` is None. Only works with the server on this machine."""
    pids = []
    with contextlib.suppress(OSError):
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            with contextlib.suppress(OSError):
                if Path(f"/proc/{entry}/comm").read_text().strip() != "postgres":
                    continue
                title = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").split()
                if database is None or database.encode() in title:
                    pids.append(int(entry))
    return pids


def _machine_cpu_seconds() -> dict[str, float]:
    """Since boot, all CPUs, every process (/proc/stat): time busy, and of it time stolen by the
    hypervisor; time idle."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return {"busy": 0.0, "steal": 0.0, "idle": 0.0}
    user, nice, system, idle, iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return {
        "busy": (user + nice + system + irq + softirq + steal) / _CLK_TCK,
        "steal": steal / _CLK_TCK,
        "idle": (idle + iowait) / _CLK_TCK,
    }


def cpu_snapshot(server_pids: Iterable[int], database: str | None) -> dict[str, Any]:
    return {
        "server": {pid: _cpu_seconds(pid) for pid in server_pids},
        "postgres": {pid: _cpu_seconds(pid) for pid in _postgres_pids(database)},
        "machine": _machine_cpu_seconds(),
    }


def cpu_used(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, float]:
    """CPU seconds per group between two snapshots (a process new in ``after`` counts whole; one
    gone by then is lost); ``machine`` is every CPU of the machine, whoever used it."""
    used = {
        group: sum(max(now - before[group].get(pid, 0.0), 0.0) for pid, now in after[group].items())
        for group in ("server", "postgres")
    }
    for key, now in after["machine"].items():
        used[key] = max(now - before["machine"][key], 0.0)
    return used


# --- the load generator ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """One thing to request. ``cookie`` is sent as the Cookie header and never written out."""

    path: str
    label: str | None = None
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=dict)
    cookie: str | None = None
    expect_status: int | None = None  # when set, any other status counts as an error

    @property
    def name(self) -> str:
        return self.label or self.path

    def request_headers(self) -> dict[str, str]:
        headers = {"Accept": "text/html,application/json;q=0.9,*/*;q=0.8", **self.headers}
        if self.cookie:
            headers["Cookie"] = self.cookie
        return headers

    def describe(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "label": self.name,
            "method": self.method,
            "headers": sorted(self.headers),
            "signed_in": bool(self.cookie),
            "expect_status": self.expect_status,
        }


def as_route(route: str | Route) -> Route:
    return route if isinstance(route, Route) else Route(route)


def _is_error(status: int, expect: int | None) -> bool:
    if expect is not None:
        return status != expect
    return not 200 <= status < 400


def _client(
    host: str,
    port: int,
    route: Route,
    start_at: float,
    deadline: float,
    quota: int,
    out: list,
    conn: http.client.HTTPConnection | None = None,
) -> None:
    """One closed-loop client: a request, wait for the whole answer, the next; until the deadline
    or its quota. Appends (latencies, statuses, errors, first error) to ``out``. Uses ``conn``
    when given (already connected), else connects before the clock starts."""
    latencies = array("d")
    statuses: Counter[int] = Counter()
    errors = 0
    first_error = None
    headers = route.request_headers()
    method, path, expect = route.method, route.path, route.expect_status
    if conn is None:
        conn = http.client.HTTPConnection(host, port, timeout=REQUEST_TIMEOUT)
        try:
            conn.connect()  # before the clock starts
        except OSError:
            conn = None
    try:
        now = time.monotonic()
        if now < start_at:
            time.sleep(start_at - now)
        clock = time.perf_counter
        sent = 0
        while sent < quota and time.monotonic() < deadline:
            sent += 1
            if conn is None:
                conn = http.client.HTTPConnection(host, port, timeout=REQUEST_TIMEOUT)
            t0 = clock()
            try:
                conn.request(method, path, headers=headers)
                resp = conn.getresponse()
                resp.read()
            except (OSError, http.client.HTTPException) as error:
                errors += 1
                first_error = first_error or f"{type(error).__name__}: {error}"
                conn.close()
                conn = None
                time.sleep(0.01)  # connection refused must not become a busy loop
                continue
            latencies.append(clock() - t0)
            statuses[resp.status] += 1
            if _is_error(resp.status, expect):
                errors += 1
                first_error = first_error or f"HTTP {resp.status}"
            if resp.will_close:
                conn.close()
                conn = None
    finally:
        if conn is not None:
            conn.close()
        out.append((latencies, statuses, errors, first_error))


def _run_threads(
    host: str,
    port: int,
    route: Route,
    clients: int,
    start_at: float,
    duration: float,
    quotas: Sequence[int],
    conns: Sequence[http.client.HTTPConnection] | None = None,
) -> dict[str, Any]:
    """``clients`` client threads in this process (on ``conns`` when given); their merged
    results."""
    out: list = []
    deadline = start_at + duration
    cpu0 = time.process_time()
    threads = [
        threading.Thread(
            target=_client,
            args=(host, port, route, start_at, deadline, quotas[i], out, conns and conns[i]),
            daemon=True,
        )
        for i in range(clients)
    ]
    for thread in threads:
        thread.start()
    join_by = deadline + REQUEST_TIMEOUT + 5
    for thread in threads:
        thread.join(max(join_by - time.monotonic(), 0.1))
    end = time.monotonic()
    latencies = array("d")
    statuses: Counter[int] = Counter()
    errors = 0
    first_error = None
    for lat, st, err, first in list(out):
        latencies.extend(lat)
        statuses.update(st)
        errors += err
        first_error = first_error or first
    stuck = sum(thread.is_alive() for thread in threads)
    if stuck:
        errors += stuck
        first_error = first_error or f"{stuck} client(s) still waiting at the time limit"
    return {
        "latencies": latencies.tobytes(),
        "statuses": dict(statuses),
        "errors": errors,
        "first_error": first_error,
        "end": end,
        "client_cpu": time.process_time() - cpu0,
    }


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:["):
                    inodes.add(int(target[8:-1]))
    return inodes


def connection_owners(server_port: int, pids: Iterable[int]) -> dict[int, int]:
    """Which of ``pids`` holds the server end of each TCP connection to ``server_port``:
    {client port: pid}, from /proc/net/tcp and the processes' file descriptors (Linux)."""
    by_inode = {inode: pid for pid in pids for inode in _socket_inodes(pid)}
    owners = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, remote, state, inode = fields[1], fields[2], fields[3], int(fields[9])
                server_end = state == "01" and int(local.rsplit(":", 1)[1], 16) == server_port
                if server_end and inode in by_inode:
                    owners[int(remote.rsplit(":", 1)[1], 16)] = by_inode[inode]
    return owners


def open_balanced(
    host: str, port: int, count: int, workers: Sequence[int], *, attempts: int = 50
) -> tuple[list[http.client.HTTPConnection], list[int]]:
    """``count`` connected keep-alive connections, spread as evenly as possible over the gunicorn
    ``workers``; and how many each worker holds.

    A gthread worker accepts every connection it can, and a keep-alive connection stays with the
    worker that accepted it; so a closed loop of a few clients may find most of its connections on
    one worker (one core, one GIL) and measure half the server. We reopen connections held by an
    over-full worker until no worker holds more than its share (bounded by ``attempts``)."""

    def connect() -> http.client.HTTPConnection:
        conn = http.client.HTTPConnection(host, port, timeout=REQUEST_TIMEOUT)
        conn.connect()
        return conn

    def owners_of(conns: list[http.client.HTTPConnection]) -> list[int | None]:
        ports = [c.sock.getsockname()[1] for c in conns]
        deadline = time.monotonic() + 2.0
        while True:
            owners = connection_owners(port, workers)
            found = [owners.get(p) for p in ports]
            if all(found) or time.monotonic() > deadline:
                return found
            time.sleep(0.01)

    conns = [connect() for _ in range(count)]
    if not workers:
        return conns, []
    share = math.ceil(count / len(workers))
    owners = owners_of(conns)
    for _ in range(attempts):
        load = Counter(owners)
        busiest, held = max(load.items(), key=lambda item: item[1])
        if held <= share and None not in load:
            break
        i = owners.index(busiest)
        conns[i].close()
        conns[i] = connect()
        owners = owners_of(conns)
    load = Counter(owners)
    return conns, sorted((load.get(w, 0) for w in workers), reverse=True)


def _noop(_: object = None) -> int:
    return os.getpid()


@dataclass
class LoadResult:
    route: dict[str, Any]
    requests: int
    errors: int
    statuses: dict[int, int]
    elapsed: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    first_error: str | None
    # CPU seconds: app server, its PostgreSQL backends, load generator, other processes, stolen by
    # the hypervisor, idle (the last three summed over all CPUs of the machine)
    cpu_s: dict[str, float]
    cpu_ms_per_request: dict[str, float]
    cpu_cores_busy: dict[str, float]
    latencies: array = field(repr=False)
    # keep-alive connections held by each gunicorn worker, busiest first (None: not checked)
    connections_per_worker: list[int] | None = None

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("latencies")
        data["statuses"] = {str(k): v for k, v in sorted(self.statuses.items())}
        return data


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of already sorted values (0 when empty)."""
    if not sorted_values:
        return 0.0
    rank = max(math.ceil(pct / 100 * len(sorted_values)), 1)
    return sorted_values[min(rank, len(sorted_values)) - 1]


def summarise(
    route: Route,
    latencies: array,
    statuses: Mapping[int, int],
    errors: int,
    elapsed: float,
    first_error: str | None,
    cpu: Mapping[str, float],
) -> LoadResult:
    ordered = sorted(latencies)
    n = len(ordered)
    done = sum(statuses.values())
    return LoadResult(
        route=route.describe(),
        requests=done,
        errors=errors,
        statuses=dict(statuses),
        elapsed=elapsed,
        rps=done / elapsed if elapsed > 0 else 0.0,
        p50_ms=percentile(ordered, 50) * 1000,
        p90_ms=percentile(ordered, 90) * 1000,
        p99_ms=percentile(ordered, 99) * 1000,
        max_ms=(ordered[-1] if n else 0.0) * 1000,
        mean_ms=(sum(ordered) / n if n else 0.0) * 1000,
        first_error=first_error,
        cpu_s=dict(cpu),
        cpu_ms_per_request={k: (v / done * 1000 if done else 0.0) for k, v in cpu.items()},
        cpu_cores_busy={k: (v / elapsed if elapsed > 0 else 0.0) for k, v in cpu.items()},
        latencies=latencies,
    )


class LoadGenerator:
    """Closed-loop load: ``concurrency`` clients, each one keep-alive connection, one request in
    flight at a time. With ``processes`` > 1 the clients are spread over that many client
    processes (threads in each), made once and reused, so the client side is not one GIL; they
    are started with "spawn", so the calling script needs the ``if __name__ == "__main__":``
    guard. One process is the default: on the 2-core machine it was measured to be as fast (the
    client needs ~0.2-0.3 ms of CPU per request, far from a whole core, so the GIL is no limit)
    and it takes the least CPU from the server (see README.md).

    ``server_pids`` (a callable) names the processes whose CPU counts as the server's; backends
    of ``database`` count as PostgreSQL; the machine's remaining CPU use counts as "other".
    With ``worker_pids`` (a callable; one client process only) the connections are spread evenly
    over the gunicorn workers before each measurement (see ``open_balanced``)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        concurrency: int = 8,
        processes: int = 1,
        server_pids: Callable[[], list[int]] | None = None,
        worker_pids: Callable[[], list[int]] | None = None,
        database: str | None = BENCH_DATABASE,
    ) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the benchmarks only send traffic to this machine")
        if concurrency < 1 or processes < 1:
            raise ValueError("concurrency and processes must be at least 1")
        self.host = host
        self.port = port
        self.concurrency = concurrency
        self.processes = min(processes, concurrency)
        self.server_pids = server_pids or list  # whose CPU counts as "server"
        self.database = database  # backends of this database count as "postgres"
        self.worker_pids = worker_pids  # spread the connections over these (one process only)
        self._pool: ProcessPoolExecutor | None = None
        if self.processes > 1:
            self._pool = ProcessPoolExecutor(self.processes, mp_context=get_context("spawn"))
            # Start them all now, not in the first measurement.
            list(self._pool.map(_noop, range(self.processes * 4)))

    @property
    def mode(self) -> str:
        if self.processes == 1:
            return f"{self.concurrency} client threads in 1 process"
        return f"{self.concurrency} client threads over {self.processes} processes"

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> LoadGenerator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(
        self, route: str | Route, *, duration: float = 5.0, max_requests: int = 1_000_000
    ) -> LoadResult:
        """Load ``route`` for ``duration`` seconds or ``max_requests`` requests, whichever is
        first; both are capped (HARD_MAX_DURATION, HARD_MAX_REQUESTS)."""
        route = as_route(route)
        duration = min(max(duration, 0.01), HARD_MAX_DURATION)
        max_requests = min(max(max_requests, self.concurrency), HARD_MAX_REQUESTS)
        per, extra = divmod(max_requests, self.concurrency)
        quotas = [per + (1 if i < extra else 0) for i in range(self.concurrency)]
        groups = [list(range(p, self.concurrency, self.processes)) for p in range(self.processes)]
        conns, spread = None, None
        if self._pool is None and self.worker_pids is not None:
            conns, spread = open_balanced(
                self.host, self.port, self.concurrency, self.worker_pids()
            )
        # A moment for every client to be ready (and to connect, if not yet); then all start.
        start_at = time.monotonic() + (0.3 if self._pool else 0.05)
        if self._pool is None:
            cpu_before = cpu_snapshot(self.server_pids(), self.database)
            parts = [
                _run_threads(
                    self.host,
                    self.port,
                    route,
                    self.concurrency,
                    start_at,
                    duration,
                    quotas,
                    conns,
                )
            ]
        else:
            futures = [
                self._pool.submit(
                    _run_threads,
                    self.host,
                    self.port,
                    route,
                    len(group),
                    start_at,
                    duration,
                    [quotas[i] for i in group],
                )
                for group in groups
            ]
            time.sleep(max(start_at - time.monotonic(), 0.0))
            cpu_before = cpu_snapshot(self.server_pids(), self.database)
            parts = [f.result(timeout=duration + REQUEST_TIMEOUT + 30) for f in futures]
        cpu = cpu_used(cpu_before, cpu_snapshot(self.server_pids(), self.database))
        client = sum(p["client_cpu"] for p in parts)
        # "other": what the rest of the machine used meanwhile (a disturbed measurement).
        other = max(cpu["busy"] - cpu["steal"] - client - cpu["server"] - cpu["postgres"], 0.0)
        cpu = {
            "server": cpu["server"],
            "postgres": cpu["postgres"],
            "client": client,
            "other": other,
            "steal": cpu["steal"],
            "idle": cpu["idle"],
        }
        latencies = array("d")
        statuses: Counter[int] = Counter()
        errors = 0
        first_error = None
        for part in parts:
            chunk = array("d")
            chunk.frombytes(part["latencies"])
            latencies.extend(chunk)
            statuses.update(part["statuses"])
            errors += part["errors"]
            first_error = first_error or part["first_error"]
        elapsed = max(p["end"] for p in parts) - start_at
        result = summarise(route, latencies, statuses, errors, elapsed, first_error, cpu)
        result.connections_per_worker = spread
        return result


def merge(results: Sequence[LoadResult]) -> LoadResult:
    """Several measurements of one route as one (requests and time add up)."""
    if len(results) == 1:
        return results[0]
    latencies = array("d")
    statuses: Counter[int] = Counter()
    cpu: Counter[str] = Counter()
    for result in results:
        latencies.extend(result.latencies)
        statuses.update(result.statuses)
        cpu.update(result.cpu_s)
    first = next((r.first_error for r in results if r.first_error), None)
    route = Route(
        results[0].route["path"],
        label=results[0].route["label"],
        method=results[0].route["method"],
    )
    merged = summarise(
        route,
        latencies,
        statuses,
        sum(r.errors for r in results),
        sum(r.elapsed for r in results),
        first,
        cpu,
    )
    merged.route = results[0].route
    return merged


# --- signing in -----------------------------------------------------------------------------------


class _HiddenInputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "input":
            attr = dict(attrs)
            if attr.get("type") == "hidden" and attr.get("name"):
                self.values.setdefault(attr["name"], attr.get("value") or "")


def _cookies(resp: http.client.HTTPResponse, jar: dict[str, str]) -> None:
    for header in resp.headers.get_all("Set-Cookie") or []:
        cookie = SimpleCookie()
        cookie.load(header)
        for name, morsel in cookie.items():
            jar[name] = morsel.value


def sign_in(
    host: str,
    port: int,
    email: str,
    password: str,
    *,
    login_path: str = "/auth/login",
    check_path: str | None = None,
) -> str:
    """Sign in once through the real form (GET, read csrf_token, POST) and return the Cookie
    header value to send with signed-in requests. Exactly one POST: the login is rate-limited per
    account, so a failure is raised, never retried. ``check_path`` must then answer 200."""
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError("the benchmarks only send traffic to this machine")
    jar: dict[str, str] = {}
    conn = http.client.HTTPConnection(host, port, timeout=REQUEST_TIMEOUT)
    try:
        conn.request("GET", login_path)
        resp = conn.getresponse()
        page = resp.read().decode("utf-8", "replace")
        if resp.status != 200:
            raise RuntimeError(f"GET {login_path} answered {resp.status}")
        _cookies(resp, jar)
        parser = _HiddenInputs()
        parser.feed(page)
        token = parser.values.get("csrf_token")
        if not token:
            raise RuntimeError(f"no csrf_token hidden input on {login_path}")
        form = urllib.parse.urlencode(
            {"csrf_token": token, "email": email, "password": password, "next": ""}
        )
        conn.request(
            "POST",
            login_path,
            body=form,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items()),
                "Origin": f"http://{host}:{port}",
                "Referer": f"http://{host}:{port}{login_path}",
            },
        )
        resp = conn.getresponse()
        resp.read()
        if resp.status != 302:
            raise RuntimeError(
                f"sign-in as {email} failed: POST {login_path} answered {resp.status} "
                "(not retried: the login is rate-limited per account)"
            )
        _cookies(resp, jar)
        cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
        if check_path:
            conn.request("GET", check_path, headers={"Cookie": cookie})
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                raise RuntimeError(f"signed in, but GET {check_path} answered {resp.status}")
        return cookie
    finally:
        conn.close()


# --- facts about the run --------------------------------------------------------------------------


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str | None:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return None


def _mem_total_mb() -> int | None:
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    return None


def machine_facts() -> dict[str, Any]:
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "nproc": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": _cpu_model(),
        "mem_total_mb": _mem_total_mb(),
        "loadavg_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "packages": {
            name: _version(name)
            for name in ("gunicorn", "Flask", "Werkzeug", "SQLAlchemy", "psycopg", "Jinja2")
        },
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(status) if status is not None else None,  # tracked files changed
    }


# --- command-line options -------------------------------------------------------------------------


def add_load_arguments(parser: argparse.ArgumentParser, database_name: str) -> None:
    """The options every benchmark script takes: the measurement, the server, the database."""
    parser.add_argument(
        "--duration", type=float, default=5.0, help="seconds per measurement (default 5)"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument(
        "--threads", type=int, default=4, help="threads per gunicorn worker (default 4)"
    )
    parser.add_argument(
        "--client-processes",
        type=int,
        default=1,
        help="spread the clients over this many processes (default 1: threads in this one)",
    )
    parser.add_argument(
        "--max-requests",
        type=int,
        default=1_000_000,
        help="stop a measurement after this many requests even before --duration (default 1e6)",
    )
    parser.add_argument(
        "--warmup", type=float, default=1.0, help="warm-up seconds per route (default 1)"
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="measure every route this many times (default 1)"
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=2,
        help="measure again when other processes disturbed a measurement (default 2 times)",
    )
    parser.add_argument(
        "--recreate-db", action="store_true", help=f"drop and recreate {database_name} first"
    )


# --- compare --------------------------------------------------------------------------------------


def compare(
    routes: Sequence[str | Route],
    baseline: str | Route = HELLO,
    *,
    server: GunicornServer,
    name: str,
    duration: float = 5.0,
    concurrency: int = 8,
    processes: int = 1,
    max_requests: int = 1_000_000,
    warmup: float = 1.0,
    rounds: int = 1,
    retries: int = 2,
    results_dir: Path = RESULTS_DIR,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Measure ``routes`` beside ``baseline`` against ``server``, print a table, write JSON.

    Order, to keep slow drift (thermal, other load) out of the ratios: a warm-up of every route,
    then ``rounds`` times [baseline, route 1, ..., route n], then the baseline once more. Each
    measurement lasts ``duration`` seconds (or ``max_requests``); a route's numbers are its
    measurements together; the baseline's are its first and last (and in-between) together.
    A measurement during which other processes kept OTHER_CORES_WARNING cores or more busy is
    taken again, up to ``retries`` times, and the least disturbed attempt is kept.
    """
    routes = [as_route(r) for r in routes]
    base = as_route(baseline)
    if not base.label:
        base = replace(base, label=f"{base.path} (baseline)")
    names = [r.name for r in [base, *routes]]
    if len(set(names)) != len(names):
        raise ValueError(f"give every route its own label: {names}")
    rounds = max(rounds, 1)
    started = datetime.now(UTC)
    facts = machine_facts()
    runs: dict[str, list[LoadResult]] = {r.name: [] for r in [base, *routes]}
    discarded: list[dict[str, Any]] = []
    database = (
        urllib.parse.urlsplit(server.database_url).path.lstrip("/") if server.database_url else None
    )
    with LoadGenerator(
        server.host,
        server.port,
        concurrency=concurrency,
        processes=processes,
        server_pids=server.pids,
        worker_pids=server.worker_pids,
        database=database,
    ) as load:
        print(
            f"\n{name}: {len(routes)} route(s) beside {base.path}; {load.mode}; gunicorn "
            f"{server.workers} worker(s) x {server.threads} thread(s); {duration:g}s per "
            f"measurement, {rounds} round(s)",
            flush=True,
        )
        print(
            f"NOTE: client and server share this machine's {facts['nproc']} CPU(s): the load "
            "generator's CPU time is taken from the server. Compare ratios, not absolutes.",
            flush=True,
        )
        if warmup > 0:
            for route in [base, *routes]:
                load.run(route, duration=warmup, max_requests=max_requests)
        plan = [base, *routes] * rounds + [base]
        for i, route in enumerate(plan, 1):
            tries = []
            for attempt in range(1 + max(retries, 0)):
                result = load.run(route, duration=duration, max_requests=max_requests)
                tries.append(result)
                other = result.cpu_cores_busy["other"]
                print(
                    f"  [{i}/{len(plan)}] {route.name}: {result.rps:,.0f} req/s, "
                    f"p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms, "
                    f"other processes {other:.2f} cores"
                    + (f", {result.errors} errors ({result.first_error})" if result.errors else ""),
                    flush=True,
                )
                if other < OTHER_CORES_WARNING:
                    break
                if attempt < retries:
                    print("      disturbed by other processes: measuring again", flush=True)
            # The least disturbed attempt counts; the others are kept in the JSON as discarded.
            best = min(tries, key=lambda r: r.cpu_cores_busy["other"])
            runs[route.name].append(best)
            discarded.extend(
                {"route": route.name, "rps": r.rps, "cpu_cores_busy": r.cpu_cores_busy}
                for r in tries
                if r is not best
            )
        mode = load.mode

    merged = {key: merge(results) for key, results in runs.items()}
    base_rps = merged[base.name].rps
    rows = []
    for route in [base, *routes]:
        result = merged[route.name]
        row = result.summary()
        row["ratio_to_baseline"] = result.rps / base_rps if base_rps else None
        row["runs"] = [
            {
                "rps": r.rps,
                "p50_ms": r.p50_ms,
                "p99_ms": r.p99_ms,
                "errors": r.errors,
                "connections_per_worker": r.connections_per_worker,
                "cpu_cores_busy": r.cpu_cores_busy,
            }
            for r in runs[route.name]
        ]
        rows.append(row)
    base_runs = runs[base.name]
    drift = (base_runs[-1].rps / base_runs[0].rps - 1) if base_runs[0].rps else None

    report = {
        "name": name,
        "started_utc": started.isoformat(timespec="seconds"),
        "finished_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": facts,
        "server": server.facts,
        "load": {
            "model": "closed loop, one keep-alive http.client connection per client",
            "clients": mode,
            "concurrency": concurrency,
            "client_processes": load.processes,
            "duration_s": duration,
            "max_requests": max_requests,
            "warmup_s": warmup,
            "rounds": rounds,
            "retries": retries,
            "order": [r.name for r in plan],
            "note": (
                f"client and server share the same {facts['nproc']} CPU(s); the load "
                "generator's CPU is taken from the server. Compare ratios, not absolutes."
            ),
        },
        "baseline": base.name,
        "baseline_drift": drift,
        "results": rows,
        "discarded_as_disturbed": discarded,
        **({"extra": dict(extra)} if extra else {}),
    }
    print_table(report)
    write_results(report, name, started, results_dir)
    return report


def print_table(report: Mapping[str, Any]) -> None:
    """The table: latency and throughput, the ratio to the baseline, and where the CPU went
    (ms of CPU per request in the app server, PostgreSQL and the load generator; and how many
    cores other processes on the machine kept busy meanwhile, which should be about 0)."""
    rows = report["results"]
    width = max(len("route"), *(len(r["route"]["label"]) for r in rows))
    head = (
        f"{'route':<{width}}  {'req/s':>7}  {'p50 ms':>7}  {'p90 ms':>7}  {'p99 ms':>7}  "
        f"{'max ms':>7}  {'x hello':>7}  {'errors':>6}  {'CPU ms/req: app':>15}  {'db':>5}  "
        f"{'client':>6}  {'other cores':>11}"
    )
    print()
    print(head)
    print("-" * len(head))
    for row in rows:
        ratio = row["ratio_to_baseline"]
        cpu = row["cpu_ms_per_request"]
        print(
            f"{row['route']['label']:<{width}}  {row['rps']:>7,.0f}  {row['p50_ms']:>7.2f}  "
            f"{row['p90_ms']:>7.2f}  {row['p99_ms']:>7.2f}  {row['max_ms']:>7.1f}  "
            f"{(f'{ratio:.3f}' if ratio is not None else '-'):>7}  {row['errors']:>6}  "
            f"{cpu['server']:>15.2f}  {cpu['postgres']:>5.2f}  {cpu['client']:>6.2f}  "
            f"{row['cpu_cores_busy']['other']:>11.2f}"
        )
    drift = report.get("baseline_drift")
    if drift is not None:
        print(f"\nbaseline drift, last vs first measurement: {drift:+.1%}")
    others = [run["cpu_cores_busy"]["other"] for r in rows for run in r["runs"]]
    if max(others) >= OTHER_CORES_WARNING:
        print(
            f"WARNING: other processes kept up to {max(others):.2f} of "
            f"{report['machine']['nproc']} cores busy during a measurement that was kept; the "
            "numbers are disturbed (run again on a quiet machine)."
        )
    print(f"({report['load']['note']})")


def write_results(
    report: Mapping[str, Any], name: str, started: datetime, results_dir: Path = RESULTS_DIR
) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=2, sort_keys=False) + "\n"
    path = results_dir / f"{name}-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(text)
    (results_dir / f"{name}-latest.json").write_text(text)
    print(f"written {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return path
