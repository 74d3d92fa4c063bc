"""Benchmark the pages that exist, each beside the ``/__bench/hello`` baseline on the same server.

Run from the repository root, either way:

    .venv/bin/python -m bench.pages [--duration 5] [--concurrency 8] [--workers 2] [--threads 4]
    .venv/bin/python bench/pages.py ...

It creates (if missing) the PostgreSQL database ``cacnet_bench`` on 127.0.0.1:5432, migrates it,
seeds the demo data, serves the app with gunicorn on a free 127.0.0.1 port from a temporary
instance folder, signs in once as the demo secretariat user, measures ``/__bench/hello``,
``/healthz``, ``/``, ``/auth/login``, ``/apply`` and ``/secretariat/`` (signed in), prints a table
and writes ``bench/results/pages-<UTC timestamp>.json`` and ``bench/results/pages-latest.json``.
gunicorn is stopped at the end, on errors and on Ctrl-C.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make ``bench`` and ``cacnet`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    BENCH_DATABASE,
    HELLO,
    Route,
    add_load_arguments,
    compare,
    postgres_version,
    serve,
    sign_in,
)

SECRETARIAT_EMAIL = "secretariat@caap.example"
DEMO_PASSWORD = "Together-We-Stand-2020"  # the published demo password (README, seed-demo)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_load_arguments(parser, BENCH_DATABASE)
    parser.add_argument("--name", default="pages", help="results file prefix (default pages)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with serve(
        workers=args.workers, threads=args.threads, recreate_database=args.recreate_db
    ) as server:
        cookie = sign_in(
            server.host,
            server.port,
            SECRETARIAT_EMAIL,
            DEMO_PASSWORD,
            check_path="/secretariat/",
        )
        routes = [
            Route("/healthz", expect_status=200),
            Route("/", label="/ (home)", expect_status=200),
            Route("/auth/login", label="/auth/login (GET)", expect_status=200),
            Route("/apply", label="/apply (GET)", expect_status=200),
            Route(
                "/secretariat/",
                label="/secretariat/ (signed in)",
                cookie=cookie,
                expect_status=200,
            ),
        ]
        compare(
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
            extra={"postgres": postgres_version(server.database_url), "database": "cacnet_bench"},
        )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted; gunicorn stopped", file=sys.stderr)
        sys.exit(130)
