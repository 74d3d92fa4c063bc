"""Work queued for after the commit (mail, background jobs) waits for the outermost commit: a
SAVEPOINT released or rolled back inside the transaction neither sends nor drops it (SQLAlchemy
fires after_commit and after_rollback for SAVEPOINTs too)."""

from sqlalchemy import text

from cacnet.core import jobs
from cacnet.core.db import db
from cacnet.core.mail import queue_mail

PENDING = "cacnet_jobs_after_commit"


def test_savepoints_neither_send_nor_drop_what_waits_for_the_commit(app, outbox):
    with app.test_request_context(base_url="http://localhost"):
        queue_mail("a@example.org", "accounts/emails/password_changed.txt", user={"name": "A"})
        jobs.enqueue_after_commit("cacnet.core.jobs.wait_for_threads", 0)
        with db.session.begin_nested():
            pass  # released
        try:
            with db.session.begin_nested():
                raise ValueError  # rolled back
        except ValueError:
            pass
        assert outbox.to("a@example.org") == []
        assert len(db.session().info[PENDING]) == 1
        db.session.commit()
        assert PENDING not in db.session().info  # queued (and, with JOBS_SYNC, run)
    assert len(outbox.to("a@example.org")) == 1


def test_a_rollback_drops_both(app, outbox):
    with app.test_request_context(base_url="http://localhost"):
        db.session.execute(text("SELECT 1"))  # the transaction the work belongs to
        queue_mail("b@example.org", "accounts/emails/password_changed.txt", user={"name": "B"})
        jobs.enqueue_after_commit("cacnet.core.jobs.wait_for_threads", 0)
        db.session.rollback()
        assert PENDING not in db.session().info
        db.session.commit()
    assert outbox.to("b@example.org") == []
