"""The link checker: is each network link still reachable?

One check is a HEAD request (a GET that reads no body when the server refuses HEAD with 405, 501
or 403), following at most ``MAX_REDIRECTS`` redirects by hand so that every hop is vetted, with
``LINK_CHECK_TIMEOUT`` seconds for connecting and for the answer, through ``LINK_CHECK_PROXY``
(for http and https) when set, and never to a loopback, private, link-local or otherwise
non-public address unless ``LINK_CHECK_ALLOW_PRIVATE`` (tests): a member could otherwise make the
server probe its own network. A status below 400 (or 429, "too many requests": the page is there)
is a success; anything else, a timeout or a refused connection is a failure.

``LINK_CHECK_ENABLED = False`` (no outbound access) makes every entry point here a no-op that
fetches nothing and records nothing.

``run_checks`` checks every link of the network once (organisations' links and those of current
member cities), oldest-checked first, ``LINK_CHECK_BATCH`` at a time: it reads a batch, ends that
transaction, fetches (no transaction stays open during network waits), then records the results
and commits. A link is broken after ``models.BROKEN_AFTER`` failed checks in a row; at the end
of a run each owner with newly broken links gets one e-mail listing them (a city's
administrators; the secretariat for an organisation), and a link that works again is cleared.
It runs from ``flask --app cacnet links check`` and, every ``LINK_CHECK_INTERVAL_HOURS``, as a
background job queued by a request (``views.check_periodically``).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin, urlsplit

import click
import requests
from flask import current_app, has_request_context
from flask.cli import AppGroup
from sqlalchemy import or_, select

from cacnet.core.db import db, utcnow
from cacnet.links.models import BROKEN_AFTER, MAX_ERROR, LinkState, NetworkLink

log = logging.getLogger(__name__)

RUN_CHECKS = "cacnet.links.checker.run_checks_job"
MAX_REDIRECTS = 5
GET_INSTEAD_OF_HEAD = frozenset({403, 405, 501})
REDIRECTS = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "cacnet-link-checker/1.0 (Cities Alliance Against Pandemic; +{base_url})"

# What ``last_error`` holds (shown to owners through views.ERROR_LABELS), besides "http <code>".
TIMEOUT, CONNECTION, NAME, PRIVATE, REDIRECT_LOOP, TLS, BAD_ADDRESS = (
    "timeout",
    "connection",
    "name",
    "private",
    "redirects",
    "tls",
    "address",
)


@dataclass(frozen=True)
class Settings:
    enabled: bool
    proxy: str | None
    timeout: float
    allow_private: bool
    batch: int
    user_agent: str

    @classmethod
    def from_app(cls, app) -> Settings:
        c = app.config
        return cls(
            enabled=bool(c.get("LINK_CHECK_ENABLED", True)),
            proxy=c.get("LINK_CHECK_PROXY") or None,
            timeout=float(c.get("LINK_CHECK_TIMEOUT") or 5.0),
            allow_private=bool(c.get("LINK_CHECK_ALLOW_PRIVATE")),
            batch=max(int(c.get("LINK_CHECK_BATCH") or 20), 1),
            user_agent=USER_AGENT.format(base_url=c.get("BASE_URL", "")),
        )


@dataclass(frozen=True)
class Result:
    ok: bool
    status_code: int | None = None
    error: str = ""


# --- one address -------------------------------------------------------------------------------


def _not_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def _refusal(url: str, settings: Settings) -> str | None:
    """Why ``url`` must not be fetched (an error code), or None."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return BAD_ADDRESS
    if parts.scheme not in ("http", "https") or not host:
        return BAD_ADDRESS
    if settings.allow_private:
        return None
    try:
        return PRIVATE if _not_public(host) else None
    except ValueError:
        pass  # a name, not an address
    try:
        infos = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        # Behind a proxy this server may not resolve outside names at all: the proxy will.
        return None if settings.proxy else NAME
    if any(_not_public(info[4][0]) for info in infos):
        return PRIVATE
    return None


def _describe(error: requests.RequestException) -> str:
    if isinstance(error, requests.Timeout):
        return TIMEOUT
    if isinstance(error, requests.exceptions.SSLError):
        return TLS
    text = str(error)
    if isinstance(error, requests.ConnectionError) and (
        "Name or service not known" in text or "getaddrinfo" in text or "NameResolution" in text
    ):
        return NAME
    if isinstance(error, requests.ConnectionError):
        return CONNECTION
    return BAD_ADDRESS if isinstance(error, requests.exceptions.InvalidURL) else CONNECTION


def check_url(url: str, settings: Settings) -> Result:
    """Fetch ``url``'s headers as described above; never raises for network trouble."""
    with requests.Session() as session:
        session.trust_env = False  # only LINK_CHECK_PROXY, never the environment's proxies
        session.headers.update({"User-Agent": settings.user_agent, "Accept": "*/*"})
        proxies = {"http": settings.proxy, "https": settings.proxy} if settings.proxy else {}
        current = url
        for _hop in range(MAX_REDIRECTS + 1):
            refusal = _refusal(current, settings)
            if refusal:
                return Result(False, None, refusal)
            try:
                response = _request(session, "HEAD", current, proxies, settings.timeout)
                if response.status_code in GET_INSTEAD_OF_HEAD:
                    response.close()
                    response = _request(session, "GET", current, proxies, settings.timeout)
            except requests.RequestException as error:
                return Result(False, None, _describe(error))
            with response:  # a streamed GET's body is never read
                status = response.status_code
                location = response.headers.get("Location")
            if status in REDIRECTS and location:
                current = urljoin(current, location)
                continue
            if status < 400 or status == 429:
                return Result(True, status, "")
            return Result(False, status, f"http {status}")
        return Result(False, status, REDIRECT_LOOP)


def _request(session, method: str, url: str, proxies: dict, timeout: float):
    return session.request(
        method,
        url,
        proxies=proxies,
        timeout=(timeout, timeout),
        allow_redirects=False,
        stream=True,
    )


# --- recording ---------------------------------------------------------------------------------


def record(link: NetworkLink, result: Result, now: datetime) -> str | None:
    """Put a check's result on the link: returns "broken" when this check made it broken,
    "recovered" when it cleared a broken link, else None."""
    link.last_checked_at = now
    link.last_status_code = result.status_code
    if result.ok:
        was_broken = link.state == LinkState.BROKEN
        link.state = LinkState.OK
        link.failures = 0
        link.last_error = ""
        link.broken_since = None
        link.owner_notified_at = None
        return "recovered" if was_broken else None
    link.last_error = result.error[:MAX_ERROR]
    if link.failures == 0:
        link.broken_since = now
    link.failures += 1
    if link.failures >= BROKEN_AFTER and link.state != LinkState.BROKEN:
        link.state = LinkState.BROKEN
        return "broken"
    return None


def check_link(link_id: int) -> Result | None:
    """Check one link now and record the result (committed); None when checking is disabled or
    the link is gone. The owner's "check now" button; broken-link mail waits for the next run."""
    settings = Settings.from_app(current_app)
    if not settings.enabled:
        return None
    link = db.session.get(NetworkLink, link_id)
    if link is None:
        return None
    url = link.url
    db.session.commit()  # no transaction open while waiting for the network
    result = check_url(url, settings)
    link = db.session.get(NetworkLink, link_id)
    if link is None or link.url != url:
        return result
    record(link, result, utcnow())
    db.session.commit()
    return result


def _checked_links():
    """Links worth checking: the organisations' and those of current member cities."""
    from cacnet.links.services import _listed_city_ids

    return or_(
        NetworkLink.organisation_id.is_not(None),
        NetworkLink.city_id.in_(_listed_city_ids()),
    )


def run_checks(limit: int | None = None) -> dict[str, int]:
    """Check every link not checked since this run started, oldest first, in batches; then mail
    each owner its newly broken links. Returns counts; all zero when checking is disabled."""
    done = {"checked": 0, "ok": 0, "failed": 0, "broken": 0, "recovered": 0, "mails": 0}
    settings = Settings.from_app(current_app)
    if not settings.enabled:
        return done
    started = utcnow()
    seen: set[int] = set()
    while limit is None or done["checked"] < limit:
        size = settings.batch if limit is None else min(settings.batch, limit - done["checked"])
        rows = db.session.execute(
            select(NetworkLink.id, NetworkLink.url)
            .where(
                or_(NetworkLink.last_checked_at.is_(None), NetworkLink.last_checked_at < started),
                _checked_links(),
                NetworkLink.id.not_in(seen) if seen else NetworkLink.id.is_not(None),
            )
            .order_by(NetworkLink.last_checked_at.asc().nulls_first(), NetworkLink.id)
            .limit(size)
        ).all()
        db.session.commit()  # end the read: no transaction open while waiting for the network
        if not rows:
            break
        results = [(link_id, url, check_url(url, settings)) for link_id, url in rows]
        now = utcnow()
        for link_id, url, result in results:
            seen.add(link_id)
            link = db.session.get(NetworkLink, link_id)
            if link is None or link.url != url:  # removed or changed meanwhile
                continue
            change = record(link, result, now)
            done["checked"] += 1
            done["ok" if result.ok else "failed"] += 1
            if change:
                done[change] += 1
        db.session.commit()
    done["mails"] = notify_owners()
    return done


def run_checks_job() -> dict[str, int]:
    """The background job: ``run_checks`` with a request context for the links in the mail."""
    if has_request_context():
        return run_checks()
    app = current_app._get_current_object()
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        return run_checks()


# --- telling the owners ------------------------------------------------------------------------


def _city_recipients(city_id: int) -> list[tuple[str, str]]:
    from cacnet.accounts.models import User, UserRole

    return [
        (u.email, u.locale)
        for u in db.session.scalars(
            select(User).where(
                User.city_id == city_id,
                User.role == UserRole.CITY_ADMIN,
                User.disabled_at.is_(None),
            )
        )
    ]


def notify_owners() -> int:
    """One e-mail per owner (to each of its recipients) listing its broken links nobody was told
    about yet; marks them told (committed, so the mail goes out). Returns the mails queued."""
    from flask import url_for

    from cacnet.core.mail import queue_mail
    from cacnet.membership.services import secretariat_addresses

    links = db.session.scalars(
        select(NetworkLink)
        .where(NetworkLink.state == LinkState.BROKEN, NetworkLink.owner_notified_at.is_(None))
        .order_by(NetworkLink.city_id, NetworkLink.organisation_id, NetworkLink.position)
    ).all()
    by_owner: dict[tuple[str, int], list[NetworkLink]] = {}
    for link in links:
        key = ("city", link.city_id) if link.city_id else ("organisation", link.organisation_id)
        by_owner.setdefault(key, []).append(link)
    now, mails = utcnow(), 0
    for (kind, owner_id), owned in by_owner.items():
        owner = owned[0].owner
        if kind == "city":
            recipients = _city_recipients(owner_id)
            manage = url_for("links.city_links", slug=owner.slug, _external=True)
        else:
            recipients = secretariat_addresses()
            manage = url_for("links.organisation", organisation_id=owner_id, _external=True)
        for address, locale in recipients:
            queue_mail(
                address,
                "links/emails/broken.txt",
                locale,
                owner_name=owner.name(locale) if kind == "organisation" else owner.name_en,
                links=owned,
                manage_link=manage,
            )
            mails += 1
        for link in owned:
            link.owner_notified_at = now
    db.session.commit()
    return mails


# --- command line ------------------------------------------------------------------------------

links_cli = AppGroup("links", help="The cities network's links.")


@links_cli.command("check")
@click.option("--limit", type=int, default=None, help="Check at most this many links.")
def check_command(limit: int | None) -> None:
    """Check the network's links now (oldest-checked first) and mail owners of broken ones."""
    if not current_app.config.get("LINK_CHECK_ENABLED", True):
        click.echo("Link checking is disabled (LINK_CHECK_ENABLED): nothing fetched.")
        return
    app = current_app._get_current_object()
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        done = run_checks(limit)
    click.echo(
        "Checked {checked} links: {ok} reachable, {failed} not; {broken} newly broken, "
        "{recovered} working again; {mails} e-mails to owners.".format(**done)
    )
