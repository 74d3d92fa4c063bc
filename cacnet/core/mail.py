"""Mail that leaves only after the database commit.

Service functions call ``queue_mail``; the message is rendered at once (in the recipient's language)
and parked on the SQLAlchemy session. When the transaction commits the messages are delivered; when
it rolls back they are dropped, so a rolled-back approval never mails anyone.

Delivery: SMTP when ``MAIL_SERVER`` is set, else an ``.eml`` file in ``<instance>/outbox/``.
"""

from __future__ import annotations

import logging
import smtplib
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import event
from sqlalchemy.orm import Session

from cacnet.core.db import db, utcnow

log = logging.getLogger(__name__)

_PENDING_KEY = "cacnet_pending_mail"


@dataclass(frozen=True)
class MailSettings:
    server: str | None
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    sender: str
    outbox: str

    @classmethod
    def from_app(cls, app) -> MailSettings:
        c = app.config
        return cls(
            server=c.get("MAIL_SERVER") or None,
            port=int(c.get("MAIL_PORT") or 25),
            username=c.get("MAIL_USERNAME") or None,
            password=c.get("MAIL_PASSWORD") or None,
            use_tls=bool(c.get("MAIL_USE_TLS")),
            sender=c["MAIL_SENDER"],
            outbox=c["OUTBOX_FOLDER"],
        )


def render_mail(template: str, locale: str, **context) -> tuple[str, str]:
    """Render ``template``'s ``subject`` and ``body`` blocks in ``locale``."""
    app = current_app._get_current_object()
    context.setdefault("base_url", app.config["BASE_URL"])
    with force_locale(locale):
        tpl = app.jinja_env.get_template(template)
        ctx = tpl.new_context(dict(context))
        subject = "".join(tpl.blocks["subject"](ctx)).strip()
        body = "".join(tpl.blocks["body"](ctx)).strip() + "\n"
    return " ".join(subject.split()), body


def queue_mail(to: str, template: str, locale: str = "en", **context) -> EmailMessage:
    """Render a message now and send it when the current transaction commits."""
    settings = MailSettings.from_app(current_app)
    subject, body = render_mail(template, locale, **context)
    msg = EmailMessage()
    msg["From"] = settings.sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(utcnow())
    msg["Message-ID"] = make_msgid(domain="cacnet")
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(body)
    msg["Content-Language"] = locale  # after set_content, which resets the Content-* headers
    db.session().info.setdefault(_PENDING_KEY, []).append((settings, msg))
    return msg


def deliver(settings: MailSettings, msg: EmailMessage) -> None:
    if settings.server:
        with smtplib.SMTP(settings.server, settings.port, timeout=30) as smtp:
            if settings.use_tls:
                smtp.starttls()
            if settings.username:
                smtp.login(settings.username, settings.password or "")
            smtp.send_message(msg)
        return
    outbox = Path(settings.outbox)
    outbox.mkdir(parents=True, exist_ok=True)
    name = f"{utcnow():%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.eml"
    (outbox / name).write_bytes(bytes(msg))


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a SAVEPOINT released: the real commit is still to come
        return
    for settings, msg in session.info.pop(_PENDING_KEY, []):
        try:
            deliver(settings, msg)
        except (OSError, smtplib.SMTPException):
            # The state change stands; a lost notice is logged, never turned into an error page.
            log.exception("could not deliver mail %r to %s", msg["Subject"], msg["To"])


@event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    if session.in_nested_transaction():  # a SAVEPOINT rolled back: the transaction goes on
        return
    session.info.pop(_PENDING_KEY, None)
