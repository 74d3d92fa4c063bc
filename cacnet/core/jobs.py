"""Background work: an RQ queue when ``CACNET_REDIS_URL`` is set, a daemon thread otherwise.

A job is a function named by its dotted path with JSON-able arguments, so RQ can carry it to a
worker on another machine. ``enqueue_after_commit`` queues it only once the transaction that asked
for it commits (a rolled-back request starts nothing, and the worker sees the rows it needs).

* With Redis, jobs wait in the ``JOBS_QUEUE`` queue (default ``cacnet``) until a worker started
  with ``flask --app cacnet worker`` runs them. The worker is RQ's SimpleWorker: jobs run in the
  worker's own process and app context, so no database connection is shared across a fork.
* Without Redis (a single app server, ``make run``), a daemon thread with its own app context and
  session runs the job in the app server's process.
* ``JOBS_SYNC = True`` (tests) runs the job inline right after the commit.

``enqueue_in`` runs a job later: RQ's scheduler (the worker runs it, ``with_scheduler=True``: the
scheduler is a small process forked by one of the workers, which moves due jobs to the queue), a
timer thread without Redis, and with ``JOBS_SYNC`` only a job due now (a later one is left to
whatever runs next).

Jobs must be idempotent: each one claims its work with a conditional UPDATE, so a job run twice,
or by two workers, does the work once.
"""

from __future__ import annotations

import importlib
import logging
import threading
from datetime import timedelta

import click
from flask import Flask, current_app, has_app_context
from flask.cli import with_appcontext
from sqlalchemy import event
from sqlalchemy.orm import Session

from cacnet.core.db import db

log = logging.getLogger(__name__)

_PENDING = "cacnet_jobs_after_commit"
_threads: set[threading.Thread] = set()


def enqueue_after_commit(func_path: str, *args) -> None:
    """Queue ``func_path(*args)`` once the current transaction commits."""
    app = current_app._get_current_object()
    db.session().info.setdefault(_PENDING, []).append((app, func_path, args))


def enqueue(func_path: str, *args, app: Flask | None = None) -> None:
    """Queue ``func_path(*args)`` now (outside a transaction, or when it need not wait)."""
    app = app or current_app._get_current_object()
    if app.config.get("JOBS_SYNC"):
        _run_in_app(app, func_path, args)
    elif app.config.get("REDIS_URL"):
        _queue(app).enqueue(
            "cacnet.core.jobs.run_job",
            func_path,
            *args,
            job_timeout=app.config.get("JOBS_TIMEOUT", 3600),
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
        )
    else:
        thread = threading.Thread(
            target=_run_in_app, args=(app, func_path, args), name=f"job-{func_path}", daemon=True
        )
        _threads.add(thread)
        thread.start()


def enqueue_in(seconds: float, func_path: str, *args, app: Flask | None = None) -> bool:
    """Run ``func_path(*args)`` in ``seconds`` (at the earliest). Returns False when nothing was
    scheduled: with ``JOBS_SYNC`` a job that is not due yet is dropped (tests run it themselves).
    Without Redis the timer lives in this process: lost if the process stops first."""
    app = app or current_app._get_current_object()
    seconds = max(float(seconds), 0.0)
    if app.config.get("JOBS_SYNC"):
        if seconds > 0:
            return False
        _run_in_app(app, func_path, args)
    elif app.config.get("REDIS_URL"):
        _queue(app).enqueue_in(
            timedelta(seconds=seconds),
            "cacnet.core.jobs.run_job",
            func_path,
            *args,
            job_timeout=app.config.get("JOBS_TIMEOUT", 3600),
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
        )
    else:
        timer = threading.Timer(seconds, enqueue, args=(func_path, *args), kwargs={"app": app})
        timer.daemon = True
        timer.name = f"timer-{func_path}"
        timer.start()
    return True


def wait_for_threads(timeout: float = 60) -> None:
    """Join the running job threads (for tests and the command line)."""
    for thread in list(_threads):
        thread.join(timeout)


def run_job(func_path: str, *args):
    """What RQ calls in a worker: the job in an app context (the worker's, or a new app)."""
    if has_app_context():
        return _call(func_path, args)
    from cacnet import create_app

    app = create_app()
    with app.app_context():
        return _call(func_path, args)


def _call(func_path: str, args: tuple):
    module_name, _, name = func_path.rpartition(".")
    if not module_name.startswith("cacnet."):
        raise ValueError(f"not a cacnet job: {func_path}")
    func = getattr(importlib.import_module(module_name), name)
    try:
        return func(*args)
    finally:
        db.session.remove()


def _run_in_app(app: Flask, func_path: str, args: tuple) -> None:
    try:
        with app.app_context():
            _call(func_path, args)
    except Exception:  # noqa: BLE001 - a thread has nobody to raise to; the job records its state
        log.exception("background job %s%r failed", func_path, args)
    finally:
        _threads.discard(threading.current_thread())


def _queue(app: Flask):
    from redis import Redis
    from rq import Queue

    return Queue(
        app.config.get("JOBS_QUEUE", "cacnet"), connection=Redis.from_url(app.config["REDIS_URL"])
    )


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    # SQLAlchemy fires after_commit and after_rollback for SAVEPOINTs too; only the outermost
    # transaction decides.
    if session.in_nested_transaction():
        return
    for app, func_path, args in session.info.pop(_PENDING, []):
        try:
            enqueue(func_path, *args, app=app)
        except Exception:  # noqa: BLE001 - the commit stands; the job's row shows it never ran
            log.exception("could not queue %s%r", func_path, args)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.info.pop(_PENDING, None)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Run the queued jobs, then stop.")
@with_appcontext
def worker_command(burst: bool) -> None:
    """Run background jobs from the Redis queue (needs CACNET_REDIS_URL).

    Also runs RQ's scheduler (one worker at a time holds its lock), which queues the jobs
    ``enqueue_in`` put off, such as the retries of e-mail deliveries; a ``--burst`` worker queues
    the ones due when it starts.
    """
    from rq import SimpleWorker

    if not current_app.config.get("REDIS_URL"):
        raise click.ClickException(
            "CACNET_REDIS_URL is not set: without Redis, jobs run in the app server's threads."
        )
    queue = _queue(current_app)
    SimpleWorker([queue], connection=queue.connection).work(burst=burst, with_scheduler=True)
