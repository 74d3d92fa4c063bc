"""The weekly news digest: one e-mail per subscriber with the items published since the last
digest that they may read, in their language, through the durable delivery queue.

A digest period is an ISO week (``2026-W47``). Its run (``NewsDigestRun``) covers the items
published from the previous run's end to the moment it first ran; running the same period again
reuses that window, and each delivery's key ``news-digest:<period>:to:<user id>`` is unique, so
a re-run (the CLI twice, two app servers' weekly trigger) sends nobody anything twice. Someone
with nothing new to read gets nothing. Each mail carries a signed unsubscribe link that works
without signing in.

The mail layer builds plain messages without extra headers (``core.mail.build_message``), so
there is no List-Unsubscribe header: the link is in the text.

Scheduling: ``weekly_trigger`` (before each request, at most once a minute per process) elects
one request per period through the shared cache and queues ``run_job`` in the background, like
the delivery queue's hourly safety net; ``NEWS_DIGEST_AUTO = False`` turns it off (tests, and
deployments that run ``flask --app cacnet news digest`` from cron instead).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import click
from flask import current_app, request, url_for
from flask.cli import with_appcontext
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cacnet.core.db import db, utcnow
from cacnet.core.mail import render_mail
from cacnet.core.permissions import is_network_member
from cacnet.news.models import (
    NewsDigestRun,
    NewsDigestSubscription,
    NewsItem,
    NewsState,
    NewsVisibility,
)

TOPIC = "news_digest"
OBJECT_TYPE = "news_digest_runs"
TEMPLATE = "news/emails/digest.txt"
FIRST_WINDOW = timedelta(days=7)
RUN_JOB = "cacnet.news.digest.run_job"
_SALT = "news-digest-unsubscribe"


def period_of(moment: datetime) -> str:
    year, week, _day = moment.isocalendar()
    return f"{year}-W{week:02d}"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def unsubscribe_token(user_id: int) -> str:
    return _serializer().dumps(user_id)


def read_unsubscribe_token(token: str) -> int | None:
    try:
        value = _serializer().loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, int) else None


def _run_for(period: str, now: datetime) -> NewsDigestRun:
    run = db.session.scalar(select(NewsDigestRun).where(NewsDigestRun.period == period))
    if run is not None:
        return run
    last_end = db.session.scalar(
        select(NewsDigestRun.window_end).order_by(NewsDigestRun.window_end.desc()).limit(1)
    )
    start = last_end if last_end is not None and last_end < now else now - FIRST_WINDOW
    run = NewsDigestRun(period=period, window_start=start, window_end=now)
    try:
        with db.session.begin_nested():
            db.session.add(run)
    except IntegrityError:  # another run of the same period made it first: use theirs
        run = db.session.scalar(select(NewsDigestRun).where(NewsDigestRun.period == period))
    return run


def _entry(item: NewsItem, locale: str) -> dict:
    title, title_lang = item.title_for(locale)
    summary, _lang = item.summary_for(locale)
    return {
        "title": title,
        "lang": title_lang,
        "summary": summary,
        "category": item.category,
        "published_at": item.published_at,
        "city": item.city.name_en if item.city is not None else "",
        "members_only": item.visibility == NewsVisibility.MEMBERS,
        "link": url_for("news.detail", item_id=item.id, _external=True),
    }


def digest_rows(period: str, now: datetime) -> list[dict]:
    """The deliveries of one period's digest (needs a request context for the links)."""
    from cacnet.accounts.models import User

    run = _run_for(period, now)
    items = list(
        db.session.scalars(
            select(NewsItem)
            .where(
                NewsItem.state == NewsState.PUBLISHED,
                NewsItem.published_at > run.window_start,
                NewsItem.published_at <= run.window_end,
            )
            .order_by(NewsItem.published_at.desc(), NewsItem.id.desc())
        )
    )
    if not items:
        return []
    subscribers = db.session.scalars(
        select(User)
        .join(NewsDigestSubscription, NewsDigestSubscription.user_id == User.id)
        .where(User.disabled_at.is_(None))
        .order_by(User.id)
    ).all()
    rows = []
    for user in subscribers:
        member = is_network_member(user)
        mine = [i for i in items if member or i.visibility == NewsVisibility.PUBLIC]
        if not mine:
            continue
        locale = user.locale if user.locale in ("en", "ko") else "en"
        subject, body = render_mail(
            TEMPLATE,
            locale,
            digest_items=[_entry(i, locale) for i in mine],
            count=len(mine),
            news_link=url_for("news.news_list", _external=True),
            unsubscribe_link=url_for(
                "news.unsubscribe", token=unsubscribe_token(user.id), _external=True
            ),
        )
        rows.append({
            "key": f"news-digest:{period}:to:{user.id}",
            "recipient": user.email,
            "locale": locale,
            "subject": subject,
            "body": body,
            "topic": TOPIC,
            "object_type": OBJECT_TYPE,
            "object_id": run.id,
        })  # fmt: skip
    return rows


def run_digest(now: datetime | None = None, period: str | None = None) -> int:
    """Queue this period's digest for every subscriber with something new to read; returns how
    many new deliveries were queued (0 when run again). Sending starts after the commit."""
    from cacnet.core import deliveries

    now = now or utcnow()
    period = period or period_of(now)
    app = current_app._get_current_object()
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        try:
            rows = digest_rows(period, now)
            added = deliveries.add_many(rows) if rows else 0
            if added:
                deliveries.send_soon()
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
    return added


def run_job() -> int:
    """The background job the weekly trigger queues."""
    return run_digest()


_next_check = 0.0


def weekly_trigger():
    """Queue this week's digest once per ISO week across all app servers (an atomic add in the
    shared cache elects one request); never inline (``JOBS_SYNC``): a visitor's request does not
    wait for it."""
    global _next_check
    config = current_app.config
    if not config.get("NEWS_DIGEST_AUTO", True) or config.get("JOBS_SYNC"):
        return
    if request.endpoint == "static":
        return
    now = time.monotonic()
    if now < _next_check:
        return
    _next_check = now + 60
    from cacnet.core.cache import cache
    from cacnet.core.jobs import enqueue

    try:
        if cache.add(f"news:digest:{period_of(utcnow())}", 1, timeout=8 * 24 * 3600):
            enqueue(RUN_JOB)
    except Exception:  # noqa: BLE001 - the digest's upkeep must never break a page
        current_app.logger.exception("could not queue the weekly news digest")


@click.group("news")
def news_cli():
    """News and announcements."""


@news_cli.command("digest")
@click.option("--period", default=None, help="The ISO week to send, e.g. 2026-W47 (default: now).")
@with_appcontext
def digest_command(period: str | None) -> None:
    """Queue (and start sending) this week's news digest; running it again sends nothing twice."""
    added = run_digest(period=period)
    click.echo(f"queued {added} digest e-mails")
