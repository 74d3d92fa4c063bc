"""The WSGI entry point the benchmarks serve: the real app plus a ``/__bench/hello`` baseline route.

``gunicorn 'bench.wsgi:app'``. The hello route exists only here, never in ``cacnet`` itself. It
goes through the same app, so through every ``before_request``/``after_request`` hook the pages
also pay for (security headers, rate-limit bookkeeping, locale selection); it is the per-request
floor of this app on this server, not of bare Flask.
"""

from __future__ import annotations

from cacnet import create_app

HELLO_PATH = "/__bench/hello"

app = create_app()


@app.get(HELLO_PATH)
def bench_hello():
    return "hello"
