"""Mail that leaves only after the database commit.

Service functions call ``queue_mail``; the message is rendered at once (in the recipient's language)
and parked on the SQLAlchemy session. When the transaction commits the messages are delivered; when
it rolls back they are dropped, so a rolled-back approval never mails anyone.

Delivery: SMTP when ``MAIL_SERVER`` is set, else an ``.eml`` file in ``<instance>/outbox/``.
Large fan-outs do not come through here but through ``cacnet.core.deliveries`` (a durable queue
with retries), which builds and sends its messages with ``build_message`` and ``connection``.
"""

from __future__ import annotations

import email.policy
import logging
import smtplib
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import lru_cache
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
    msg = build_message(settings, to, subject, body, locale)
    db.session().info.setdefault(_PENDING_KEY, []).append((settings, msg))
    return msg


def build_message(
    settings: MailSettings, to: str, subject: str, body: str, locale: str
) -> EmailMessage:
    """A plain-text message from the secretariat's sender, marked as automatic."""
    msg = EmailMessage()
    msg["From"] = _header("From", settings.sender)
    msg["To"] = to
    msg["Subject"] = _header("Subject", subject)
    msg["Date"] = _header("Date", format_datetime(utcnow()))
    msg["Message-ID"] = make_msgid(domain="cacnet")
    msg["Auto-Submitted"] = _header("Auto-Submitted", "auto-generated")
    msg.set_content(body)
    # after set_content, which resets the Content-* headers
    msg["Content-Language"] = _header("Content-Language", locale)
    return msg


@lru_cache(maxsize=256)
def _header(name: str, value: str):
    """The parsed header, shared by the messages that repeat it (the sender, a fan-out's
    subject, the date within a second): parsing a header is most of the cost of building a
    message, and header objects are immutable. Refuses line breaks, as assigning a string does."""
    if "\n" in value or "\r" in value:
        raise ValueError("Header values may not contain linefeed or carriage return characters")
    return email.policy.default.header_factory(name, value)


@contextmanager
def connection(settings: MailSettings) -> Iterator[Callable[[EmailMessage], object]]:
    """A ``send(msg)`` for several messages over one SMTP session (one connection, one TLS
    handshake, one login), or into the outbox folder when no ``MAIL_SERVER`` is set.

    Over SMTP, ``send`` raises what ``smtplib`` raises; a refused recipient or message leaves the
    session usable for the next message (smtplib resets it).
    """
    if not settings.server:
        yield lambda msg: _write_to_outbox(settings, msg)
        return
    with smtplib.SMTP(settings.server, settings.port, timeout=30) as smtp:
        if settings.use_tls:
            smtp.starttls()
        if settings.username:
            smtp.login(settings.username, settings.password or "")
        yield smtp.send_message


def deliver(settings: MailSettings, msg: EmailMessage) -> None:
    with connection(settings) as send:
        send(msg)


def _write_to_outbox(settings: MailSettings, msg: EmailMessage) -> None:
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
