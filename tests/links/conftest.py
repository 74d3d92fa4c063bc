"""Fixtures of the cities network: real web servers on loopback that answer as real sites do
(200, 404, 405 to HEAD, a redirect, a slow answer, a page that can be switched off), a real
forwarding proxy that records what it forwards, member cities and the secretariat."""

from __future__ import annotations

import contextlib
import http.client
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from cacnet.accounts.models import User
from cacnet.core.db import db
from tests.helpers import user  # noqa: F401 - the modules of this folder import it from here

SLOW_SECONDS = 2.0


class Site(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), SiteHandler)
        self.requests: list[tuple[str, str, str]] = []  # (method, path, user agent)
        self.switched_off = False

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"

    def paths(self) -> list[str]:
        return [path for _method, path, _agent in self.requests]


class SiteHandler(BaseHTTPRequestHandler):
    server: Site

    def log_message(self, *args):  # quiet
        pass

    def _answer(self, status: int, headers: dict | None = None, body: bytes = b"") -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _handle(self) -> None:
        self.server.requests.append((self.command, self.path, self.headers.get("User-Agent", "")))
        path = self.path
        if path == "/ok":
            self._answer(200, {"Content-Type": "text/html"}, b"<p>COVID-19 updates</p>")
        elif path == "/missing":
            self._answer(404, body=b"not found")
        elif path == "/no-head":
            if self.command == "HEAD":
                self._answer(405, {"Allow": "GET"})
            else:
                self._answer(200, body=b"x" * 100_000)
        elif path == "/moved":
            self._answer(301, {"Location": "/ok"})
        elif path == "/slow":
            time.sleep(SLOW_SECONDS)
            with contextlib.suppress(OSError):  # the checker has given up and gone
                self._answer(200)
        elif path == "/flaky":
            self._answer(503 if self.server.switched_off else 200)
        else:
            self._answer(404)

    do_HEAD = _handle  # noqa: N815 - http.server's hook names
    do_GET = _handle  # noqa: N815


class Proxy(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), ProxyHandler)
        self.forwarded: list[tuple[str, str]] = []  # (method, absolute URL)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class ProxyHandler(BaseHTTPRequestHandler):
    """A forward proxy for plain http: the request line carries the absolute URL."""

    server: Proxy

    def log_message(self, *args):
        pass

    def _forward(self) -> None:
        self.server.forwarded.append((self.command, self.path))
        target = urlsplit(self.path)
        if target.scheme != "http":
            self.send_error(400)
            return
        upstream = http.client.HTTPConnection(target.hostname, target.port or 80, timeout=5)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "proxy-connection"}
        upstream.request(self.command, target.path or "/", headers=headers)
        answer = upstream.getresponse()
        body = b"" if self.command == "HEAD" else answer.read()
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)
        upstream.close()

    do_HEAD = _forward  # noqa: N815
    do_GET = _forward  # noqa: N815


def _serve(server):
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


@pytest.fixture
def site():
    server = _serve(Site())
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def proxy():
    server = _serve(Proxy())
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def checking(app):
    """The checker as the tests want it: on, loopback allowed, a short timeout, no proxy; the
    previous settings are put back afterwards."""
    keys = ("LINK_CHECK_ENABLED", "LINK_CHECK_ALLOW_PRIVATE", "LINK_CHECK_TIMEOUT",
            "LINK_CHECK_PROXY", "LINK_CHECK_BATCH")  # fmt: skip
    saved = {k: app.config.get(k) for k in keys}
    app.config.update(
        LINK_CHECK_ENABLED=True,
        LINK_CHECK_ALLOW_PRIVATE=True,
        LINK_CHECK_TIMEOUT=0.5,
        LINK_CHECK_PROXY=None,
        LINK_CHECK_BATCH=2,
    )
    yield app.config
    app.config.update(saved)


@pytest.fixture
def network(make_network):
    """Seoul (KR) and London (GB) with their city admins and a delegate each, Hanoi suspended,
    the secretariat and an admin: {"Seoul": {"city_id", "admin", "delegate", "slug"}, …}."""
    return make_network((("Seoul", "KR"), ("London", "GB"), ("Hanoi", "VN")), suspended="Hanoi")


@pytest.fixture
def add_link(app):
    """add_link(owner_kind, owner_id, url, title="…", language="en", actor=email) -> link id,
    through the service."""
    from cacnet.cities.models import City
    from cacnet.links import services
    from cacnet.links.models import Organisation

    def _add(owner, url, title="COVID-19 updates", language="en", actor=None):
        kind, owner_id = owner
        with app.test_request_context(base_url=app.config["BASE_URL"]):
            officer = db.session.scalar(
                select(User).where(User.email == (actor or "officer@caap.example"))
            )
            target = db.session.get(City if kind == "city" else Organisation, owner_id)
            link = services.add_link(officer, target, services.LinkData(url, title, language))
            return link.id

    return _add


@pytest.fixture
def add_organisation(app):
    from cacnet.links import services

    def _add(name_en="World Health Organization", name_ko="세계보건기구", acronym="WHO",
             website="https://www.who.int"):  # fmt: skip
        with app.test_request_context(base_url=app.config["BASE_URL"]):
            officer = user("officer@caap.example")
            org = services.add_organisation(
                officer, services.OrganisationData(name_en, name_ko, acronym, website)
            )
            return org.id

    return _add
