"""The e-mail delivery queue: a fan-out is recorded once per person and sent once, retried after
SMTP refusals, failed for good when refused for good, never sent twice by workers running at once,
and shown to the secretariat, who can retry. Against a real SMTP server on loopback."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from cacnet.core import deliveries
from cacnet.core.audit import AuditEvent
from cacnet.core.db import db, utcnow
from cacnet.core.deliveries import Delivery, DeliveryState
from tests.conftest import SMTPSink, _free_port, body_of, login, submit

SETTINGS = ("DELIVERY_BACKOFF_SECONDS", "DELIVERY_MAX_ATTEMPTS", "DELIVERY_BATCH_SIZE",
            "DELIVERY_CLAIM_TIMEOUT", "DELIVERY_PER_RUN", "DELIVERY_PARALLEL_RUNS", "JOBS_SYNC",
            "JOBS_QUEUE", "REDIS_URL", "MAIL_SERVER", "MAIL_PORT")  # fmt: skip
REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture(autouse=True)
def queue_settings(app):
    """No waiting between attempts, four attempts, batches of 100; restored afterwards."""
    saved = {key: app.config.get(key) for key in SETTINGS}
    app.config.update(
        DELIVERY_BACKOFF_SECONDS=(0, 0, 0), DELIVERY_MAX_ATTEMPTS=4, DELIVERY_BATCH_SIZE=100
    )
    yield app.config
    app.config.update(saved)


class FlakySMTP(SMTPSink):
    """An SMTP server that answers some recipients "451 try later" for their first attempts,
    others always (451 or 550), and may refuse a message's DATA once. Counts every RCPT and
    every connection."""

    def __init__(self):
        super().__init__()
        self.refuse_first: dict[str, int] = {}  # address -> RCPTs still to answer 451
        self.refuse_always: dict[str, str] = {}  # address -> the answer
        self.refuse_data_once: set[str] = set()
        self.rcpt_attempts: Counter[str] = Counter()
        self.connections = 0  # EHLOs: smtplib greets once per connection

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
        session.host_name = hostname
        self.connections += 1
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        address = address.lower()
        self.rcpt_attempts[address] += 1
        if address in self.refuse_always:
            return self.refuse_always[address]
        if self.refuse_first.get(address, 0) > 0:
            self.refuse_first[address] -= 1
            return "451 4.3.0 Mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        [address] = envelope.rcpt_tos
        if address in self.refuse_data_once:
            self.refuse_data_once.discard(address)
            return "451 4.3.2 Queue full, try later"
        return await super().handle_DATA(server, session, envelope)

    def received(self) -> Counter[str]:
        return Counter(m["To"] for m in self.messages)


@pytest.fixture
def smtp(app):
    """A FlakySMTP on 127.0.0.1 that the app sends to for the duration of the test."""
    from aiosmtpd.controller import Controller

    sink = FlakySMTP()
    controller = Controller(sink, hostname="127.0.0.1", port=_free_port())
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    try:
        yield sink
    finally:
        controller.stop()


def fan_out(count: int, alert_id: int = 12, domain: str = "cities.example") -> list[dict]:
    """What the alerts package adds: one rendered message per focal point."""
    rows = []
    for n in range(count):
        address = f"focal.{n}@{domain}"
        korean = n % 5 == 0
        rows.append(
            {
                "key": f"alert:{alert_id}:update:0:to:{address}",
                "recipient": address,
                "locale": "ko" if korean else "en",
                "subject": f"[경보] 콜레라 {alert_id}" if korean else f"[Alert] Cholera {alert_id}",
                "body": f"Dear focal point {n},\n\nAn alert was published.\n",
                "topic": "alert",
                "object_type": "alert",
                "object_id": alert_id,
            }
        )
    return rows


def queue(app, rows: list[dict], *, send: bool = True) -> int:
    """Add the deliveries in one transaction and, with ``send``, start sending after its commit
    (inline: the tests run jobs with JOBS_SYNC)."""
    with app.app_context():
        new = deliveries.add_many(rows)
        if send:
            deliveries.send_soon()
        db.session.commit()
    return new


def rows_by_recipient(app) -> dict[str, Delivery]:
    with app.app_context():
        found = {d.recipient: d for d in db.session.scalars(select(Delivery))}
        db.session.expunge_all()
    return found


# --- a fan-out ---------------------------------------------------------------------------------


def test_a_fan_out_of_500_is_recorded_once_and_each_person_gets_one_message(app, smtp):
    rows = fan_out(500)
    assert queue(app, rows, send=False) == 500
    with app.app_context():
        # publishing again (a retried request, a second click) adds nobody
        assert deliveries.add_many(rows) == 0
        assert deliveries.add(**rows[7]) is False
        assert deliveries.add_many(rows[:3] + rows[:3]) == 0
        assert deliveries.summary(object_type="alert", object_id=12)["pending"] == 500
        deliveries.send_soon()
        deliveries.send_soon()  # once per transaction
        db.session.commit()  # JOBS_SYNC: send_due runs now

    received = smtp.received()
    assert len(smtp.messages) == 500
    assert set(received.values()) == {1}
    assert set(received) == {row["recipient"] for row in rows}
    assert smtp.connections == 5  # one SMTP connection per batch of 100
    with app.app_context():
        assert deliveries.summary() == {"pending": 0, "sending": 0, "sent": 500, "failed": 0}
        assert deliveries.summary(topic="alert", object_type="alert", object_id=99)["sent"] == 0
        # nothing is due any more: another run sends nothing
        assert deliveries.send_due()["claimed"] == 0
    assert len(smtp.messages) == 500

    [korean] = smtp.to("focal.5@cities.example")
    assert korean["Subject"] == "[경보] 콜레라 12"
    assert korean["Content-Language"] == "ko"
    assert korean["Auto-Submitted"] == "auto-generated"
    body = body_of(korean).replace("\r\n", "\n")  # SMTP's line ends
    assert body == "Dear focal point 5,\n\nAn alert was published.\n"
    row = rows_by_recipient(app)["focal.5@cities.example"]
    assert (row.state, row.attempts, row.last_error) == (DeliveryState.SENT, 1, None)
    assert row.sent_at is not None


def test_a_large_fan_out_is_spread_over_several_runs(app, smtp):
    app.config.update(DELIVERY_PER_RUN=100, DELIVERY_PARALLEL_RUNS=3)
    rows = fan_out(500)

    def runs_queued() -> int:
        waiting = db.session().info.get("cacnet_jobs_after_commit", [])
        return len([path for _app, path, _args in waiting if path == deliveries.SEND_DUE])

    with app.app_context():
        deliveries.add_many(rows[:150])
        deliveries.send_soon()
        assert runs_queued() == 2  # one per 100 deliveries
        deliveries.send_soon()
        assert runs_queued() == 2
        deliveries.add_many(rows[150:])
        deliveries.send_soon()
        assert runs_queued() == 3  # at most DELIVERY_PARALLEL_RUNS
        db.session.commit()
    assert len(smtp.messages) == 500
    assert set(smtp.received().values()) == {1}


def test_a_rolled_back_publication_queues_and_sends_nothing(app, smtp):
    with app.app_context():
        assert deliveries.add_many(fan_out(3)) == 3
        deliveries.send_soon()
        db.session.rollback()
        db.session.commit()
        assert deliveries.summary() == {"pending": 0, "sending": 0, "sent": 0, "failed": 0}
    assert smtp.messages == []


def test_addresses_are_kept_lowercase_and_subjects_on_one_line(app, smtp):
    row = fan_out(1)[0] | {"recipient": " Ana.Lima@Rio.example ", "subject": "Line one\nline two"}
    with app.app_context():
        assert deliveries.add(**row) is True
        for bad in ({"key": ""}, {"key": "k" * 201}, {"recipient": "not-an-address"}):
            with pytest.raises(ValueError):
                deliveries.add(**(row | bad))
        deliveries.send_soon()
        db.session.commit()
    [msg] = smtp.to("ana.lima@rio.example")
    assert msg["Subject"] == "Line one line two"


def test_without_a_mail_server_the_messages_go_to_the_outbox(app, outbox):
    app.config["MAIL_SERVER"] = None
    queue(app, fan_out(3))
    assert sorted(m["To"] for m in outbox.messages) == [
        f"focal.{n}@cities.example" for n in range(3)
    ]
    with app.app_context():
        assert deliveries.summary()["sent"] == 3


# --- failures and retries ----------------------------------------------------------------------


def test_refusals_are_retried_until_delivered_and_a_refusing_address_ends_failed(app, smtp):
    rows = fan_out(50)
    flaky = [f"focal.{n}@cities.example" for n in range(1, 11)]
    for address in flaky:
        smtp.refuse_first[address] = 2  # "451" twice, then accepted
    smtp.refuse_data_once.add("focal.20@cities.example")
    smtp.refuse_always["focal.30@cities.example"] = "451 4.2.1 Mailbox unavailable, try later"
    smtp.refuse_always["focal.40@cities.example"] = "550 5.1.1 No such user"

    queue(app, rows)  # retries have no backoff here: one run sends everything it can

    received = smtp.received()
    assert set(received.values()) == {1}, "nobody gets a message twice"
    assert set(received) == {r["recipient"] for r in rows} - {
        "focal.30@cities.example",
        "focal.40@cities.example",
    }
    found = rows_by_recipient(app)
    for address in flaky:
        assert (found[address].state, found[address].attempts) == (DeliveryState.SENT, 3)
        assert "451 4.3.0 Mailbox busy" in found[address].last_error  # what went wrong before
    assert (found["focal.20@cities.example"].state, found["focal.20@cities.example"].attempts) == (
        DeliveryState.SENT,
        2,
    )
    assert "SMTPDataError: 451 4.3.2 Queue full" in found["focal.20@cities.example"].last_error
    # refused every time: four attempts (DELIVERY_MAX_ATTEMPTS), then failed
    always = found["focal.30@cities.example"]
    assert (always.state, always.attempts) == (DeliveryState.FAILED, 4)
    assert "451 4.2.1 Mailbox unavailable" in always.last_error
    assert smtp.rcpt_attempts["focal.30@cities.example"] == 4
    # refused for good: failed at once, and the rest of its batch went out over the connection
    unknown = found["focal.40@cities.example"]
    assert (unknown.state, unknown.attempts) == (DeliveryState.FAILED, 1)
    assert "550 5.1.1 No such user" in unknown.last_error
    assert smtp.rcpt_attempts["focal.40@cities.example"] == 1
    assert found["focal.41@cities.example"].state == DeliveryState.SENT
    with app.app_context():
        assert deliveries.summary() == {"pending": 0, "sending": 0, "sent": 48, "failed": 2}


def test_a_retry_waits_for_its_backoff(app, smtp):
    app.config["DELIVERY_BACKOFF_SECONDS"] = (60, 300)
    smtp.refuse_first["focal.0@cities.example"] = 1
    queue(app, fan_out(2))
    found = rows_by_recipient(app)
    waiting = found["focal.0@cities.example"]
    assert (waiting.state, waiting.attempts) == (DeliveryState.PENDING, 1)
    assert timedelta(seconds=55) < waiting.next_attempt_at - utcnow() <= timedelta(seconds=60)
    assert smtp.received() == Counter({"focal.1@cities.example": 1})
    with app.app_context():
        assert deliveries.send_due()["claimed"] == 0  # not due yet
        db.session.execute(
            update(Delivery).values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )  # a minute later
        db.session.commit()
        assert deliveries.send_due()["sent"] == 1
    assert smtp.received() == Counter({"focal.0@cities.example": 1, "focal.1@cities.example": 1})


def test_without_redis_a_timer_runs_the_retry_when_it_is_due(app, smtp):
    from cacnet.core import jobs

    app.config.update(JOBS_SYNC=False, DELIVERY_BACKOFF_SECONDS=(0.5,))
    smtp.refuse_first["focal.0@cities.example"] = 1
    queue(app, fan_out(1))  # a thread sends; the refusal schedules a run 0.5 s later
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not smtp.messages:
        time.sleep(0.05)
    jobs.wait_for_threads()
    assert smtp.received() == Counter({"focal.0@cities.example": 1})
    assert smtp.rcpt_attempts["focal.0@cities.example"] == 2
    found = rows_by_recipient(app)["focal.0@cities.example"]
    assert (found.state, found.attempts) == (DeliveryState.SENT, 2)


def test_with_redis_the_worker_s_scheduler_runs_the_retry(app, smtp):
    """Production's path: RQ jobs, and a retry scheduled with enqueue_in, which the worker's
    scheduler queues when it is due."""
    import signal
    import uuid

    import redis
    from rq import SimpleWorker

    from cacnet.core import jobs

    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError:
        pytest.fail(
            "Redis must run on 127.0.0.1:6379 for this test (it does on every project machine and in CI)",
            pytrace=False,
        )
    app.config.update(
        JOBS_SYNC=False,
        REDIS_URL=REDIS_URL,
        JOBS_QUEUE=f"test-deliveries-{uuid.uuid4().hex[:8]}",
        DELIVERY_BACKOFF_SECONDS=(1,),
    )
    rq_queue = jobs._queue(app)

    def work() -> None:
        """What ``flask worker --burst`` does, in this process (keeping pytest's signal handlers)."""
        saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            with app.app_context():
                worker = SimpleWorker([rq_queue], connection=rq_queue.connection)
                worker.work(burst=True, with_scheduler=True)
        finally:
            for sig, handler in saved.items():
                signal.signal(sig, handler)

    try:
        smtp.refuse_first["focal.0@cities.example"] = 1
        queue(app, fan_out(2))
        assert rq_queue.count == 1  # queued at the commit, nothing sent yet
        assert smtp.messages == []
        work()
        assert smtp.received() == Counter({"focal.1@cities.example": 1})
        assert rq_queue.scheduled_job_registry.count == 1  # the retry's run
        time.sleep(3)  # backoff 1 s, rounded up to RQ's whole seconds, and one more
        work()
        assert smtp.received() == Counter(
            {"focal.0@cities.example": 1, "focal.1@cities.example": 1}
        )
        assert rq_queue.scheduled_job_registry.count == 0
    finally:
        rq_queue.delete(delete_jobs=True)
        for key in rq_queue.connection.scan_iter(f"rq:*{rq_queue.name}*"):  # its registries
            rq_queue.connection.delete(key)


def test_the_hourly_safety_net_sends_what_was_left(app, client, smtp, monkeypatch):
    """Deliveries nobody started (a lost timer, a worker without its scheduler) go out with the
    first request of the hour, in the background; never inline in a visitor's request."""
    from cacnet.core import delivery_views, jobs

    monkeypatch.setitem(app.config, "DELIVERY_AUTO_SEND", True)  # off for the other tests

    queue(app, fan_out(2), send=False)
    delivery_views._next_check = 0.0
    client.get("/")  # JOBS_SYNC (tests): the safety net stays out of the request
    assert smtp.messages == []
    app.config["JOBS_SYNC"] = False
    delivery_views._next_check = 0.0
    client.get("/")
    jobs.wait_for_threads()
    assert len(smtp.messages) == 2
    queue(app, fan_out(3)[2:], send=False)
    delivery_views._next_check = 0.0
    client.get("/")  # the hour has not passed: the shared cache elects nobody
    jobs.wait_for_threads()
    assert len(smtp.messages) == 2


def test_when_the_server_is_down_the_whole_batch_waits(app):
    app.config.update(
        MAIL_SERVER="127.0.0.1", MAIL_PORT=_free_port(), DELIVERY_BACKOFF_SECONDS=(60,)
    )  # nobody listens there
    queue(app, fan_out(5))
    for row in rows_by_recipient(app).values():
        assert (row.state, row.attempts) == (DeliveryState.PENDING, 1)
        assert row.last_error.startswith("ConnectionRefusedError")
        assert row.next_attempt_at > utcnow() + timedelta(seconds=50)


def test_a_delivery_abandoned_by_a_crashed_worker_is_sent_again(app, smtp):
    queue(app, fan_out(2), send=False)
    with app.app_context():
        long_ago = utcnow() - timedelta(hours=1)
        db.session.execute(
            update(Delivery).values(state=DeliveryState.SENDING, claimed_at=long_ago)
        )
        db.session.commit()
        counts = deliveries.send_due()
    assert (counts["reclaimed"], counts["sent"]) == (2, 2)
    for row in rows_by_recipient(app).values():
        assert (row.state, row.attempts) == (DeliveryState.SENT, 2)
        assert "stopped before recording" in row.last_error


def test_an_outcome_is_recorded_only_while_the_claim_stands(app, smtp):
    queue(app, fan_out(1), send=False)
    with app.app_context():
        claimed_at, batch = deliveries._claim(10)
        # meanwhile the claim went stale and another worker reclaimed it
        db.session.execute(update(Delivery).values(claimed_at=claimed_at + timedelta(seconds=1)))
        db.session.commit()
        settings = deliveries._Settings.from_app(app)
        deliveries._record(settings, claimed_at, batch, {batch[0].id: (deliveries.SENT, None)})
        row = db.session.scalar(select(Delivery))
        assert (row.state, row.attempts, row.sent_at) == (DeliveryState.SENDING, 0, None)


def test_workers_running_at_once_send_each_delivery_once(app, smtp):
    app.config["DELIVERY_BATCH_SIZE"] = 10
    rows = fan_out(300)
    queue(app, rows, send=False)
    workers = 4
    barrier = threading.Barrier(workers)
    claimed: list[int] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                claimed.append(deliveries.send_due()["claimed"])
                db.session.remove()
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert sum(claimed) == 300
    assert len([n for n in claimed if n]) > 1, f"the workers did not overlap: {claimed}"
    received = smtp.received()
    assert len(smtp.messages) == 300
    assert set(received.values()) == {1}
    with app.app_context():
        assert deliveries.summary()["sent"] == 300


def test_the_command_line_sends_what_is_due(app, smtp):
    smtp.refuse_always["focal.1@cities.example"] = "550 5.1.1 No such user"
    queue(app, fan_out(3), send=False)
    result = app.test_cli_runner().invoke(args=["deliveries", "send"])
    assert result.exit_code == 0, result.output
    assert "sent 2, retrying 0, failed 1" in result.output
    result = app.test_cli_runner().invoke(args=["deliveries", "status"])
    assert "pending 0, sending 0, sent 2, failed 1" in result.output


# --- the secretariat ---------------------------------------------------------------------------


def test_the_secretariat_sees_the_counts_and_retries_the_failed(
    app, client, smtp, secretariat, create_user, create_member_city
):
    smtp.refuse_always["focal.3@cities.example"] = "550 5.1.1 No such user"
    smtp.refuse_always["focal.4@cities.example"] = "554 5.7.1 Rejected"
    smtp.refuse_always["focal.0@other.example"] = "550 5.1.1 No such user"
    queue(app, fan_out(6))
    queue(app, fan_out(2, alert_id=13, domain="other.example"))

    login(client, secretariat)
    page = client.get("/secretariat/deliveries").get_data(as_text=True)
    assert '<dd data-state="sent">5</dd>' in page
    assert '<dd data-state="failed">3</dd>' in page
    assert '<dd data-state="pending">0</dd>' in page
    assert "focal.3@cities.example" in page and "550 5.1.1 No such user" in page
    filtered = client.get("/secretariat/deliveries?object_type=alert&object_id=13")
    assert '<dd data-state="failed">1</dd>' in filtered.get_data(as_text=True)
    assert "focal.3@cities.example" not in filtered.get_data(as_text=True)
    assert client.get("/secretariat/deliveries?object_id=x").status_code == 400

    # the addresses are fixed; the secretariat retries the failed ones of alert 12
    del smtp.refuse_always["focal.3@cities.example"], smtp.refuse_always["focal.4@cities.example"]
    response = submit(
        client,
        "/secretariat/deliveries/retry",
        {"topic": "alert", "object_type": "alert", "object_id": "12"},
        page="/secretariat/deliveries?topic=alert&object_type=alert&object_id=12",
    )
    assert response.status_code == 302
    assert "object_id=12" in response.headers["Location"]
    assert smtp.received()["focal.3@cities.example"] == 1
    assert smtp.received()["focal.4@cities.example"] == 1
    with app.app_context():
        assert deliveries.summary(object_type="alert", object_id=12)["sent"] == 6
        assert deliveries.summary(object_type="alert", object_id=13)["failed"] == 1  # untouched
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "deliveries_retried")
        )
        assert event.actor.email == secretariat
        assert event.details == {"failed": 2, "waiting": 0, "topic": "alert",
                                 "object_type": "alert", "object_id": 12}  # fmt: skip
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Sending again: 2 failed and 0 waiting deliveries." in page

    delegate = app.test_client()
    city_id, _admin = create_member_city("Seoul", "KR")
    create_user("delegate@seoul.example", city_id=city_id)
    login(delegate, "delegate@seoul.example")
    assert delegate.get("/secretariat/deliveries").status_code == 403
    response = submit(delegate, "/secretariat/deliveries/retry", page="/account/")
    assert response.status_code == 403


def test_the_deliveries_page_demands_a_sign_in(app, client):
    response = client.get("/secretariat/deliveries")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]
    response = submit(client, "/secretariat/deliveries/retry", page="/auth/login")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]
