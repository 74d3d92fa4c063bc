"""A durable queue of e-mail deliveries, for notices sent to many people at once (an alert to the
focal points of every member city).

A service function renders each message in its recipient's language and ``add``s (or
``add_many``s) it in the transaction that publishes the thing it is about, then calls
``send_soon``: when that transaction commits, a background job (``send_due``: RQ with Redis, a
thread without, inline in tests) sends what is due; when it rolls back there is nothing to send.
The request never waits for SMTP.

What it guarantees:

* **Once per key.** A delivery's ``key`` (e.g. ``alert:12:update:0:to:ana@x.org``) is unique in
  the database; adding it again adds nothing (``INSERT … ON CONFLICT DO NOTHING``).
* **One worker per delivery.** Workers claim due deliveries in batches with one conditional
  UPDATE (``pending`` -> ``sending``; on PostgreSQL over ``SELECT … FOR UPDATE SKIP LOCKED``), so
  any number of ``send_due`` runs at once never send a delivery twice. A worker records an outcome
  only while its claim stands (same ``claimed_at``), and stops sending a batch when half the claim
  timeout has passed.
* **Retries with backoff.** A transient failure (connection refused or lost, a 4xx answer) puts
  the delivery back to ``pending`` with ``attempts + 1``, ``last_error`` and ``next_attempt_at``
  after ``DELIVERY_BACKOFF_SECONDS``; after ``DELIVERY_MAX_ATTEMPTS`` it is ``failed``. A 5xx
  refusal of the recipient or the message fails that delivery at once; the batch goes on over the
  same connection. A later run is scheduled for the next retry (``jobs.enqueue_in``), and an
  hourly safety net (``delivery_views``) and ``flask deliveries send`` pick up whatever is left.
* **Spread.** ``send_soon`` queues one run per ``DELIVERY_PER_RUN`` deliveries added (at most
  ``DELIVERY_PARALLEL_RUNS``), so that idle workers share a large fan-out; each run claims batches
  of ``DELIVERY_BATCH_SIZE`` and sends a batch over one SMTP connection.
* **Crashed workers.** A delivery still ``sending`` ``DELIVERY_CLAIM_TIMEOUT`` seconds after its
  claim counts as an attempt and goes back to ``pending``. A worker stopped by an exception
  (RQ's job timeout, Ctrl-C) records what it sent and puts the rest back first. Only a worker killed
  outright between the SMTP server's "250" and the batch's commit can make a delivery go out twice
  (at most one batch, ``DELIVERY_BATCH_SIZE``): delivery is at least once, never concurrently.

The secretariat sees counts, failures and retries at ``/secretariat/deliveries`` and can retry.
"""

from __future__ import annotations

import enum
import logging
import math
import smtplib
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import (
    CheckConstraint,
    Index,
    Integer,
    String,
    Text,
    event,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from cacnet.core import audit, jobs, mail
from cacnet.core.db import UTCDateTime, db, str_enum, utcnow
from cacnet.core.permissions import require_secretariat

log = logging.getLogger(__name__)

SEND_DUE = "cacnet.core.deliveries.send_due"
_ADDED = "cacnet_deliveries_added"  # session.info: deliveries added in this transaction
_RUNS = "cacnet_deliveries_runs"  # session.info: runs of send_due queued for its commit
INSERT_CHUNK = 1000  # rows per INSERT: 12 parameters each, under SQLite's 32,766
ERROR_MAX = 2000  # characters of an error kept in last_error


class DeliveryState(enum.StrEnum):
    PENDING = "pending"  # waiting for its first or next attempt (next_attempt_at)
    SENDING = "sending"  # claimed by a worker (claimed_at)
    SENT = "sent"  # the SMTP server took it (sent_at)
    FAILED = "failed"  # refused for good, or out of attempts; the secretariat may retry


class Delivery(db.Model):
    """One message to one person, rendered when it was queued, and what became of it."""

    __tablename__ = "deliveries"
    __table_args__ = (
        CheckConstraint("recipient = lower(recipient) AND recipient <> ''", name="recipient_lower"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        CheckConstraint("state <> 'sending' OR claimed_at IS NOT NULL", name="sending_claimed"),
        CheckConstraint("state <> 'sent' OR sent_at IS NOT NULL", name="sent_has_time"),
        # What is due: the claim reads this small partial index, in order, and nothing else.
        Index(
            "ix_deliveries_due",
            "next_attempt_at",
            "id",
            postgresql_where=text("state = 'pending'"),
            sqlite_where=text("state = 'pending'"),
        ),
        Index("ix_deliveries_state_topic", "state", "topic"),
        Index("ix_deliveries_object", "object_type", "object_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    topic: Mapped[str] = mapped_column(String(32), nullable=False)
    object_type: Mapped[str] = mapped_column(String(32), nullable=False)
    object_id: Mapped[int] = mapped_column(Integer, nullable=False)
    recipient: Mapped[str] = mapped_column(String(254), nullable=False)
    locale: Mapped[str] = mapped_column(String(5), nullable=False, default="en")
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    state: Mapped[DeliveryState] = mapped_column(
        str_enum(DeliveryState, "state"), nullable=False, default=DeliveryState.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    def __repr__(self) -> str:
        return f"<Delivery {self.key} {self.state}>"


# --- queueing ----------------------------------------------------------------------------------


def add(
    *,
    key: str,
    recipient: str,
    locale: str,
    subject: str,
    body: str,
    topic: str,
    object_type: str,
    object_id: int,
) -> bool:
    """Queue one message in the current transaction unless a delivery with ``key`` exists.
    Returns whether it is new. Nothing is sent before ``send_soon`` and the commit."""
    return (
        add_many(
            [
                {
                    "key": key,
                    "recipient": recipient,
                    "locale": locale,
                    "subject": subject,
                    "body": body,
                    "topic": topic,
                    "object_type": object_type,
                    "object_id": object_id,
                }
            ]
        )
        == 1
    )


def add_many(rows: Iterable[Mapping[str, Any]]) -> int:
    """``add`` for many messages at once (dicts with ``add``'s keywords), in INSERTs of a thousand
    rows; returns how many were new. Keys already queued (or repeated in ``rows``) are skipped.

    Raises ValueError for a row without a key or recipient, or with a field too long for its
    column (subjects are shortened to fit instead)."""
    now = utcnow()
    fresh: dict[str, dict[str, Any]] = {}
    for row in rows:
        prepared = _prepare(row, now)
        fresh.setdefault(prepared["key"], prepared)
    if not fresh:
        return 0
    if db.session.get_bind().dialect.name == "postgresql":
        new = _insert_postgresql(list(fresh.values()), now)
    else:
        table = Delivery.__table__
        # One statement, compiled once, sent as multi-row INSERTs ("insertmanyvalues"); RETURNING
        # gives the ids of the rows inserted, none for a key that was already there.
        stmt = (
            sqlite_insert(table)
            .on_conflict_do_nothing(index_elements=[table.c.key])
            .returning(table.c.id)
            .execution_options(insertmanyvalues_page_size=INSERT_CHUNK)
        )
        new = len(db.session.execute(stmt, list(fresh.values())).all())
    info = db.session().info
    info[_ADDED] = info.get(_ADDED, 0) + new
    return new


# Per row, in this order: what differs between deliveries (the rest is the same for all).
_ROW_COLUMNS = (
    ("key", "varchar"),
    ("topic", "varchar"),
    ("object_type", "varchar"),
    ("object_id", "integer"),
    ("recipient", "varchar"),
    ("locale", "varchar"),
    ("subject", "varchar"),
    ("body", "text"),
)


def _insert_postgresql(rows: list[dict[str, Any]], now: datetime) -> int:
    """PostgreSQL: each chunk as one INSERT … SELECT FROM unnest(one array per column). Eight
    parameters instead of 12 per row: the driver has no 10,000-placeholder statement to parse,
    so 10,000 rows take a fraction of a second instead of seconds."""
    names = ", ".join(name for name, _type in _ROW_COLUMNS)
    arrays = ", ".join(f"CAST(:{name} AS {type_}[])" for name, type_ in _ROW_COLUMNS)
    stmt = text(
        f"INSERT INTO deliveries ({names}, state, attempts, next_attempt_at, created_at) "  # noqa: S608 - our names
        f"SELECT {names}, 'pending', 0, :now, :now FROM unnest({arrays}) AS u({names}) "
        "ON CONFLICT (key) DO NOTHING RETURNING id"
    )
    new = 0
    for start in range(0, len(rows), INSERT_CHUNK):
        chunk = rows[start : start + INSERT_CHUNK]
        params = {name: [row[name] for row in chunk] for name, _type in _ROW_COLUMNS}
        new += len(db.session.execute(stmt, {**params, "now": now}).all())
    return new


def _prepare(row: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    key = str(row["key"])
    recipient = str(row["recipient"]).strip().lower()
    if not key or len(key) > 200:
        raise ValueError(f"a delivery key must have 1-200 characters: {key!r}")
    if "@" not in recipient or len(recipient) > 254:
        raise ValueError(f"not an e-mail address: {recipient!r}")
    # One line (a header), at most the column's 300 characters.
    subject = " ".join(str(row["subject"]).split())
    if len(subject) > 300:
        subject = subject[:299] + "…"
    topic, object_type = str(row["topic"]), str(row["object_type"])
    locale = str(row.get("locale") or "en")
    if len(topic) > 32 or len(object_type) > 32 or len(locale) > 5:
        raise ValueError(f"topic, object type or locale too long: {topic!r} {object_type!r}")
    return {
        "key": key,
        "topic": topic,
        "object_type": object_type,
        "object_id": int(row["object_id"]),
        "recipient": recipient,
        "locale": locale,
        "subject": subject,
        "body": str(row["body"]),
        "state": DeliveryState.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "claimed_at": None,
        "sent_at": None,
        "last_error": None,
        "created_at": now,
    }


def send_soon() -> None:
    """Start sending what is due once the current transaction commits: an RQ job, a thread, or
    inline with ``JOBS_SYNC``. Call it after ``add``/``add_many``; calling it again in the same
    transaction queues nothing more unless more deliveries were added since.

    A large fan-out is spread: one run per ``DELIVERY_PER_RUN`` deliveries added in this
    transaction, up to ``DELIVERY_PARALLEL_RUNS``, which claim batches side by side (as many at
    once as there are idle workers). The runs are queued at the commit, before any worker starts
    on them, so a ``--burst`` worker finds them too."""
    info = db.session().info
    config = current_app.config
    per_run = max(int(config.get("DELIVERY_PER_RUN", 1000)), 1)
    parallel = max(int(config.get("DELIVERY_PARALLEL_RUNS", 4)), 1)
    wanted = min(max(math.ceil(info.get(_ADDED, 0) / per_run), 1), parallel)
    for _ in range(wanted - info.get(_RUNS, 0)):
        jobs.enqueue_after_commit(SEND_DUE)
    info[_RUNS] = max(wanted, info.get(_RUNS, 0))


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_counts(session: Session) -> None:
    if session.in_nested_transaction():  # a SAVEPOINT: the transaction goes on
        return
    session.info.pop(_ADDED, None)
    session.info.pop(_RUNS, None)


# --- sending -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Settings:
    backoff: tuple[float, ...]
    max_attempts: int
    claim_timeout: float
    batch_size: int
    run_seconds: float

    @classmethod
    def from_app(cls, app: Flask) -> _Settings:
        c = app.config
        backoff = tuple(float(s) for s in c.get("DELIVERY_BACKOFF_SECONDS") or (0,))
        return cls(
            backoff=backoff,
            max_attempts=max(int(c.get("DELIVERY_MAX_ATTEMPTS", 6)), 1),
            claim_timeout=float(c.get("DELIVERY_CLAIM_TIMEOUT", 900)),
            batch_size=max(int(c.get("DELIVERY_BATCH_SIZE", 100)), 1),
            run_seconds=float(c.get("DELIVERY_RUN_SECONDS", 600)),
        )

    def wait_after(self, attempts: int) -> timedelta:
        """How long to wait after the ``attempts``-th attempt failed."""
        return timedelta(seconds=self.backoff[min(attempts, len(self.backoff)) - 1])


@dataclass(frozen=True)
class _Claimed:
    id: int
    recipient: str
    locale: str
    subject: str
    body: str
    attempts: int


# An attempt's outcome: SENT, RETRY (transient: back to pending unless out of attempts) or FAILED
# (permanent), with the error; a delivery without an outcome was not tried and is put back as is.
SENT, RETRY, FAILED = "sent", "retry", "failed"


def send_due(limit: int | None = None) -> dict[str, int]:
    """The background job: send due deliveries, batch by batch, until none is due (or ``limit``
    were claimed). Safe to run any number of times at once. Returns counts (claimed, sent,
    retrying, failed, reclaimed).

    A run stops after ``DELIVERY_RUN_SECONDS`` and queues a fresh one (a job must not hold an RQ
    worker for ever); and when deliveries wait for a retry, it schedules a run for then."""
    app = current_app._get_current_object()
    counts, out_of_time = _send(app, limit, run_seconds=_Settings.from_app(app).run_seconds)
    if out_of_time:
        jobs.enqueue(SEND_DUE, app=app)
    else:
        _schedule_next_run(app)
    return counts


def _send(app: Flask, limit: int | None, run_seconds: float | None) -> tuple[dict[str, int], bool]:
    settings = _Settings.from_app(app)
    mail_settings = mail.MailSettings.from_app(app)
    counts: Counter[str] = Counter()
    started = time.monotonic()
    counts["reclaimed"] = _reclaim_stale(settings)
    while limit is None or counts["claimed"] < limit:
        if run_seconds is not None and time.monotonic() - started > run_seconds:
            return dict(counts), True
        size = (
            settings.batch_size
            if limit is None
            else min(settings.batch_size, limit - counts["claimed"])
        )
        claimed_at, batch = _claim(size)
        if not batch:
            break
        counts["claimed"] += len(batch)
        outcomes = _send_batch(mail_settings, settings, claimed_at, batch)
        counts.update(outcome for outcome, _error in outcomes.values())
    counts["retrying"] = counts.pop(RETRY, 0)
    for name in ("claimed", SENT, FAILED):
        counts.setdefault(name, 0)
    return dict(counts), False


def _claim(size: int) -> tuple[datetime, list[_Claimed]]:
    """Move up to ``size`` due deliveries from pending to sending, for this worker alone, and
    commit, so that other workers see the claim."""
    now = utcnow()
    due = (
        select(Delivery.id)
        .where(Delivery.state == DeliveryState.PENDING, Delivery.next_attempt_at <= now)
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(size)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        # Rows another worker is claiming right now are skipped, not waited for. A materialized
        # CTE runs the locking SELECT once: as "id IN (subquery)" PostgreSQL may run it again for
        # each row it updates, and each run finds more pending rows (a batch grew past its LIMIT).
        due_cte = due.with_for_update(skip_locked=True).cte("due").prefix_with("MATERIALIZED")
        claimable = Delivery.id == due_cte.c.id
    else:
        # SQLite: the UPDATE holds the database's write lock from its start, so its subquery
        # reads rows no other writer can change.
        claimable = Delivery.id.in_(due.scalar_subquery())
    stmt = (
        update(Delivery)
        .where(claimable, Delivery.state == DeliveryState.PENDING)  # the state: checked again
        .values(state=DeliveryState.SENDING, claimed_at=now)
        .returning(
            Delivery.id,
            Delivery.recipient,
            Delivery.locale,
            Delivery.subject,
            Delivery.body,
            Delivery.attempts,
        )
        .execution_options(synchronize_session=False)
    )
    try:
        rows = db.session.execute(stmt).all()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return now, sorted((_Claimed(*row) for row in rows), key=lambda c: c.id)


def _send_batch(
    mail_settings: mail.MailSettings,
    settings: _Settings,
    claimed_at: datetime,
    batch: list[_Claimed],
) -> dict[int, tuple[str, str | None]]:
    """Send a claimed batch over one SMTP connection and record every outcome (whatever stops
    the loop: what was sent is marked sent, what was not tried is put back)."""
    outcomes: dict[int, tuple[str, str | None]] = {}
    deadline = time.monotonic() + settings.claim_timeout / 2
    try:
        with mail.connection(mail_settings) as send:
            for delivery in batch:
                if time.monotonic() > deadline:
                    break  # past half the claim timeout: another worker may soon reclaim these
                outcomes[delivery.id] = _send_one(send, mail_settings, delivery)
    except (OSError, smtplib.SMTPException) as error:
        # No connection, or it broke: the message in hand and the rest of the batch wait.
        reason = _describe(error)
        for delivery in batch:
            outcomes.setdefault(delivery.id, (RETRY, reason))
    finally:
        _record(settings, claimed_at, batch, outcomes)
    return outcomes


def _send_one(send, mail_settings: mail.MailSettings, delivery: _Claimed) -> tuple[str, str | None]:
    """One message over the open connection. Errors about this message are its outcome; errors
    of the connection (disconnected, a socket error) propagate."""
    try:
        msg = mail.build_message(
            mail_settings, delivery.recipient, delivery.subject, delivery.body, delivery.locale
        )
    except (ValueError, TypeError) as error:  # an address or text no message can carry
        return FAILED, _describe(error)
    try:
        send(msg)
    except smtplib.SMTPRecipientsRefused as error:
        code, answer = next(iter(error.recipients.values()), (-1, b""))
        return _by_code(code, f"{type(error).__name__}: {code} {_text(answer)}")
    except smtplib.SMTPSenderRefused as error:
        # Our sender address refused: the server's or our configuration, not this recipient.
        return RETRY, _describe(error)
    except smtplib.SMTPServerDisconnected:
        raise
    except smtplib.SMTPResponseException as error:  # the message refused (DATA), among others
        return _by_code(error.smtp_code, _describe(error))
    except smtplib.SMTPNotSupportedError as error:  # e.g. an address the server cannot take
        return FAILED, _describe(error)
    return SENT, None


def _by_code(code: int, reason: str) -> tuple[str, str]:
    """5xx is a permanent refusal (retrying would be refused again); anything else may pass later."""
    return (FAILED if 500 <= code < 600 else RETRY), reason


def _text(answer: bytes | str) -> str:
    return answer.decode("utf-8", "replace") if isinstance(answer, bytes) else str(answer)


def _describe(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        text_ = f"{error.smtp_code} {_text(error.smtp_error)}"
    else:
        text_ = str(error) or type(error).__name__
    return f"{type(error).__name__}: {text_}"[:ERROR_MAX]


def _record(
    settings: _Settings,
    claimed_at: datetime,
    batch: list[_Claimed],
    outcomes: Mapping[int, tuple[str, str | None]],
) -> None:
    """Write a batch's outcomes, grouped into few UPDATEs. Each is conditional on the claim still
    being ours (state sending, our claimed_at): a row reclaimed meanwhile belongs to another."""
    now = utcnow()
    groups: dict[tuple, list[int]] = defaultdict(list)
    for delivery in batch:
        outcome, error = outcomes.get(delivery.id, (None, None))
        attempts = delivery.attempts + 1
        if outcome == SENT:
            values = (("state", DeliveryState.SENT), ("attempts", attempts), ("sent_at", now))
        elif outcome == FAILED or (outcome == RETRY and attempts >= settings.max_attempts):
            values = (
                ("state", DeliveryState.FAILED),
                ("attempts", attempts),
                ("last_error", error),
            )
        elif outcome == RETRY:
            values = (
                ("state", DeliveryState.PENDING),
                ("attempts", attempts),
                ("last_error", error),
                ("next_attempt_at", now + settings.wait_after(attempts)),
            )
        else:  # not tried: due again at once, no attempt counted
            values = (("state", DeliveryState.PENDING),)
        groups[values].append(delivery.id)
    try:
        for values, ids in groups.items():
            db.session.execute(
                update(Delivery)
                .where(
                    Delivery.id.in_(ids),
                    Delivery.state == DeliveryState.SENDING,
                    Delivery.claimed_at == claimed_at,
                )
                .values(dict(values))
                .execution_options(synchronize_session=False)
            )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def _reclaim_stale(settings: _Settings) -> int:
    """Deliveries claimed longer than the claim timeout ago (their worker died): the attempt
    counts, and they are due again at once, or failed when out of attempts."""
    now = utcnow()
    cutoff = now - timedelta(seconds=settings.claim_timeout)
    stale = (Delivery.state == DeliveryState.SENDING, Delivery.claimed_at < cutoff)
    error = "the worker sending it stopped before recording the outcome"
    try:
        out = db.session.execute(
            update(Delivery)
            .where(*stale, Delivery.attempts + 1 >= settings.max_attempts)
            .values(state=DeliveryState.FAILED, attempts=Delivery.attempts + 1, last_error=error)
            .execution_options(synchronize_session=False)
        ).rowcount
        again = db.session.execute(
            update(Delivery)
            .where(*stale)
            .values(
                state=DeliveryState.PENDING,
                attempts=Delivery.attempts + 1,
                last_error=error,
                next_attempt_at=now,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    if out or again:
        log.warning("reclaimed %d stale deliveries (%d out of attempts)", out + again, out)
    return out + again


def _next_wakeup(settings: _Settings) -> datetime | None:
    """When there is next something to do: a retry falls due, or a claim goes stale."""
    next_retry, oldest_claim = db.session.execute(
        select(
            select(func.min(Delivery.next_attempt_at))
            .where(Delivery.state == DeliveryState.PENDING)
            .scalar_subquery(),
            select(func.min(Delivery.claimed_at))
            .where(Delivery.state == DeliveryState.SENDING)
            .scalar_subquery(),
        )
    ).one()
    db.session.rollback()  # end the read transaction; nothing was written
    # SQLite returns MIN() of a date-time column as text: read it as the column would.
    if isinstance(next_retry, str):
        next_retry = UTCDateTime().process_result_value(datetime.fromisoformat(next_retry), None)
    if isinstance(oldest_claim, str):
        oldest_claim = UTCDateTime().process_result_value(
            datetime.fromisoformat(oldest_claim), None
        )
    candidates = [next_retry]
    if oldest_claim is not None:
        candidates.append(oldest_claim + timedelta(seconds=settings.claim_timeout + 1))
    candidates = [c for c in candidates if c is not None]
    return min(candidates) if candidates else None


def _schedule_next_run(app: Flask) -> None:
    """One run of ``send_due`` when the next retry is due (one per moment across workers: the
    shared cache elects who schedules it). Something due now is left to whoever made it due."""
    try:
        at = _next_wakeup(_Settings.from_app(app))
        if at is None:
            return
        wait = (at - utcnow()).total_seconds()
        if wait <= 0:
            return
        # RQ's scheduler keeps whole seconds (and may truncate): a second more, so the run never
        # starts before the retry is due. The election expires before the run starts, so that the
        # run may schedule the next one.
        delay = math.ceil(wait) + 1
        from cacnet.core.cache import cache

        if cache.add(f"deliveries:wakeup:{int(at.timestamp())}", 1, timeout=delay - 1):
            jobs.enqueue_in(delay, SEND_DUE, app=app)
    except Exception:  # noqa: BLE001 - the hourly safety net will find them anyway
        log.exception("could not schedule the next run of the delivery queue")


# --- the secretariat's view --------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryFilter:
    """Which deliveries the secretariat looks at: a topic and/or one object (all when empty)."""

    topic: str | None = None
    object_type: str | None = None
    object_id: int | None = None

    def clauses(self) -> list:
        found = []
        if self.topic:
            found.append(Delivery.topic == self.topic)
        if self.object_type:
            found.append(Delivery.object_type == self.object_type)
        if self.object_id is not None:
            found.append(Delivery.object_id == self.object_id)
        return found

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v not in (None, "")}


def summary(
    topic: str | None = None, object_type: str | None = None, object_id: int | None = None
) -> dict[str, int]:
    """How many deliveries are in each state (every state present, 0 when none), for a topic
    and/or one object, e.g. ``summary(object_type="alert", object_id=12)``."""
    where = DeliveryFilter(topic, object_type, object_id).clauses()
    counts = {state.value: 0 for state in DeliveryState}
    rows = db.session.execute(
        select(Delivery.state, func.count()).where(*where).group_by(Delivery.state)
    )
    for state, count in rows:
        counts[DeliveryState(state).value] = count
    return counts


def summary_by_topic(filter_: DeliveryFilter | None = None) -> list[tuple[str, dict[str, int]]]:
    """``summary`` for each topic, topics in alphabetical order."""
    where = (filter_ or DeliveryFilter()).clauses()
    by_topic: dict[str, dict[str, int]] = {}
    rows = db.session.execute(
        select(Delivery.topic, Delivery.state, func.count())
        .where(*where)
        .group_by(Delivery.topic, Delivery.state)
    )
    for topic, state, count in rows:
        counts = by_topic.setdefault(topic, {s.value: 0 for s in DeliveryState})
        counts[DeliveryState(state).value] = count
    return sorted(by_topic.items())


def retrying_count(filter_: DeliveryFilter | None = None) -> int:
    """Pending deliveries that failed at least once and wait for their next attempt."""
    return db.session.scalar(
        select(func.count())
        .select_from(Delivery)
        .where(
            *(filter_ or DeliveryFilter()).clauses(),
            Delivery.state == DeliveryState.PENDING,
            Delivery.attempts > 0,
        )
    )


def troubled(filter_: DeliveryFilter | None = None, limit: int = 200) -> list[Delivery]:
    """The failed deliveries and those waiting for a retry (failed first, newest first), with
    their last error and attempts: what the secretariat may need to act on."""
    where = (filter_ or DeliveryFilter()).clauses()
    failed = list(
        db.session.scalars(
            select(Delivery)
            .where(*where, Delivery.state == DeliveryState.FAILED)
            .order_by(Delivery.id.desc())
            .limit(limit)
        )
    )
    retrying = list(
        db.session.scalars(
            select(Delivery)
            .where(*where, Delivery.state == DeliveryState.PENDING, Delivery.attempts > 0)
            .order_by(Delivery.next_attempt_at, Delivery.id)
            .limit(max(limit - len(failed), 0))
        )
    )
    return failed + retrying


def topics() -> list[str]:
    return list(db.session.scalars(select(Delivery.topic).distinct().order_by(Delivery.topic)))


def retry_now(actor, filter_: DeliveryFilter | None = None) -> dict[str, int]:
    """The secretariat retries: failed deliveries go back to pending with a fresh set of
    attempts (their last error kept), those waiting for a retry are due at once, and sending
    starts after the commit. Audited. Returns how many of each."""
    require_secretariat(actor)
    filter_ = filter_ or DeliveryFilter()
    now = utcnow()
    where = filter_.clauses()
    failed = db.session.execute(
        update(Delivery)
        .where(*where, Delivery.state == DeliveryState.FAILED)
        .values(state=DeliveryState.PENDING, attempts=0, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    waiting = db.session.execute(
        update(Delivery)
        .where(*where, Delivery.state == DeliveryState.PENDING, Delivery.next_attempt_at > now)
        .values(next_attempt_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    audit.record(
        "deliveries_retried",
        actor=actor,
        object_type="deliveries",
        details={"failed": failed, "waiting": waiting, **filter_.as_dict()},
    )
    if failed or waiting:
        send_soon()
    return {"failed": failed, "waiting": waiting}


# --- the command line --------------------------------------------------------------------------


@click.group("deliveries")
def deliveries_cli():
    """The e-mail delivery queue (alerts and other large mailings)."""


@deliveries_cli.command("send")
@click.option("--limit", type=int, default=None, help="Claim at most this many deliveries.")
@with_appcontext
def send_command(limit: int | None) -> None:
    """Send every delivery due now, here, until none is due (retries with a backoff of 0
    included). Deliveries waiting for a later retry are left to their scheduled run."""
    app = current_app._get_current_object()
    counts, _ = _send(app, limit, run_seconds=None)
    _schedule_next_run(app)
    click.echo(
        f"sent {counts['sent']}, retrying {counts['retrying']}, failed {counts['failed']}"
        + (f", reclaimed {counts['reclaimed']} stale" if counts.get("reclaimed") else "")
    )


@deliveries_cli.command("status")
@click.option("--topic", default=None)
@with_appcontext
def status_command(topic: str | None) -> None:
    """How many deliveries are in each state."""
    counts = summary(topic=topic)
    click.echo(", ".join(f"{state} {n}" for state, n in counts.items()))
