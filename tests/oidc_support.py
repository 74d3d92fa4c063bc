"""A real OpenID provider on loopback for the OpenID Connect tests: panva's ``oidc-provider`` (Node,
tests/oidc/provider.mjs), with a confidential client for cacnet, the ``ACCOUNTS`` below, and a
signing key made here, so that the tests can also mint tokens with the provider's own key.

Fixtures:
- ``oidc_provider`` (session): the provider, its redirect URIs those of the Flask test client.
- ``oidc``: configures the app's ``OIDC_PROVIDERS`` for one test (restored after) and drives
  sign-ins: ``oidc.callback_for(client, "loopback", "anna")`` starts at cacnet, fills in the
  provider's login form over HTTP and returns the path of cacnet's callback to open.
- ``browser_oidc``: the same for the browser tests, with a provider that knows the live server.

The providers configured in the app for a test, all backed by the same loopback provider:
``loopback`` (e-mail trusted), ``elsewhere`` (e-mail not trusted), ``tampered`` (e-mail trusted,
its token endpoint behind ``TamperingProxy``, which replaces the ID token the provider issued
with a forged one, per ``oidc.proxy.mode``) and ``offline`` (nothing listens there).
"""

from __future__ import annotations

import html
import json
import os
import re
import selectors
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import RSAKey

ROOT = Path(__file__).resolve().parents[1]
PROVIDER_SCRIPT = ROOT / "tests" / "oidc" / "provider.mjs"
PROVIDER_PACKAGE = ROOT / "node_modules" / "oidc-provider"
CLIENT_ID = "cacnet-tests"
CLIENT_SECRET = "loopback-client-secret-0123456789abcdef"  # noqa: S105 - a test client's secret
SIGNING_KID = "loopback-signing-key"
PROVIDER_NAMES = ("loopback", "elsewhere", "tampered", "offline")
TEST_CLIENT_BASE = "http://localhost"  # the Flask test client's host (BASE_URL in conftest)

# The accounts at the provider, by the login typed into its form.
ACCOUNTS = {
    # Has a cacnet account with this address (tests create it); the provider verified it.
    "ji-woo": {
        "sub": "sub-ji-woo",
        "email": "ji-woo@seoul.example",
        "email_verified": True,
        "name": "Ji-woo Park",
    },
    # Claims the same address, which the provider has not verified.
    "mallory": {
        "sub": "sub-mallory",
        "email": "ji-woo@seoul.example",
        "email_verified": False,
        "name": "Mallory",
    },
    # No cacnet account yet.
    "min-ji": {
        "sub": "sub-min-ji",
        "email": "min-ji@busan.example",
        "email_verified": True,
        "name": "Min-ji Kim",
    },
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redirect_uris(base: str) -> list[str]:
    return [f"{base}/auth/oidc/{name}/callback" for name in PROVIDER_NAMES]


# --- the provider ------------------------------------------------------------------------------


class LoopbackProvider:
    """A running tests/oidc/provider.mjs."""

    def __init__(self, redirect_base: str):
        node = shutil.which("node")
        if node is None:
            pytest.fail("Node.js is missing: run `make browser-deps`", pytrace=False)
        if not PROVIDER_PACKAGE.exists():
            pytest.fail(
                f"{PROVIDER_PACKAGE} is missing: run `make browser-deps` (npm ci) in the "
                "project folder to install the loopback OpenID provider",
                pytrace=False,
            )
        self.redirect_base = redirect_base
        self.client_id = CLIENT_ID
        self.client_secret = CLIENT_SECRET
        self.signing_key = RSAKey.generate_key(
            2048, parameters={"kid": SIGNING_KID, "use": "sig", "alg": "RS256"}, private=True
        )
        config = {
            "clients": [
                {
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                    "redirect_uris": redirect_uris(redirect_base),
                }
            ],
            "accounts": ACCOUNTS,
            "jwks": {"keys": [self.signing_key.as_dict(private=True)]},
        }
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - open while the provider runs
        self.process = subprocess.Popen(
            [node, str(PROVIDER_SCRIPT), "0"],
            cwd=ROOT,
            env={**os.environ, "OIDC_PROVIDER_CONFIG": json.dumps(config)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        self.issuer = self._wait_until_ready(timeout=30)

    def _wait_until_ready(self, timeout: float) -> str:
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        line = b""
        while time.monotonic() < deadline and not line.endswith(b"\n"):
            if not selector.select(timeout=0.2):
                if self.process.poll() is not None:
                    break
                continue
            chunk = os.read(self.process.stdout.fileno(), 4096)
            if not chunk:
                break
            line += chunk
        selector.close()
        match = re.match(rb"oidc-provider ready (\{.*\})", line)
        if not match:
            self.stop()
            pytest.fail(
                f"the loopback OpenID provider did not start: {line!r}\n{self.stderr()}",
                pytrace=False,
            )
        return json.loads(match.group(1))["issuer"]

    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdin.close()
        self.process.stdout.close()
        self._stderr.close()

    def authorize(
        self, authorize_url: str, login: str, http: requests.Session | None = None
    ) -> str:
        """Follow the provider's pages from its authorization URL: type ``login`` into the login
        form, let consent pass, and return the URL of the redirect back to the client."""
        http = http or requests.Session()
        url, data = authorize_url, None
        for _step in range(12):
            if data is None:
                response = http.get(url, allow_redirects=False, timeout=10)
            else:
                response = http.post(url, data=data, allow_redirects=False, timeout=10)
            if response.is_redirect:
                location = urljoin(url, response.headers["Location"])
                if not location.startswith(self.issuer + "/"):
                    return location
                url, data = location, None
                continue
            form = re.search(r'<form method="post" action="([^"]+)"', response.text)
            if response.status_code == 200 and form and 'name="login"' in response.text:
                if data is not None:
                    raise AssertionError(f"the provider refused the login {login!r}")
                url, data = urljoin(url, html.unescape(form.group(1))), {"login": login}
                continue
            raise AssertionError(
                f"unexpected answer from the provider at {url}: {response.status_code} "
                f"{response.text[:500]}"
            )
        raise AssertionError("too many redirects at the provider")

    def mint_id_token(self, claims: dict, key: RSAKey | None = None) -> str:
        """An ID token with these claims, signed with the provider's key (or ``key``)."""
        return jwt.encode({"alg": "RS256", "kid": SIGNING_KID}, claims, key or self.signing_key)

    def read_id_token(self, id_token: str) -> dict:
        return dict(jwt.decode(id_token, self.signing_key).claims)


def _start_provider(redirect_base: str):
    provider = LoopbackProvider(redirect_base)
    try:
        yield provider
    finally:
        provider.stop()


@pytest.fixture(scope="session")
def oidc_provider():
    """The loopback provider, for sign-ins through the Flask test client (http://localhost)."""
    yield from _start_provider(TEST_CLIENT_BASE)


# --- a man in the middle of the token request ---------------------------------------------------


class TamperingProxy:
    """Serves the provider's discovery document with the token endpoint pointing here, passes the
    token request on to the provider and swaps the ID token in its answer for a forged one.

    Modes: ``other_key`` (signed by a key the provider never published, under its key id),
    ``wrong_audience`` (for another client), ``wrong_issuer``, ``expired``, ``wrong_nonce``
    (the last three signed with the provider's own key); None passes the answer on unchanged.
    """

    MODES = ("other_key", "wrong_audience", "wrong_issuer", "expired", "wrong_nonce")

    def __init__(self, provider: LoopbackProvider):
        self.provider = provider
        self.mode: str | None = None
        self.forged: list[dict] = []  # the claims of every token it forged
        self.other_key = RSAKey.generate_key(2048, parameters={"kid": SIGNING_KID}, private=True)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _reply(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):  # noqa: N802 - http.server's hook name
                if self.path != "/.well-known/openid-configuration":
                    self._reply(404, b"{}", "application/json")
                    return
                metadata = requests.get(
                    provider.issuer + "/.well-known/openid-configuration", timeout=10
                ).json()
                metadata["token_endpoint"] = proxy.url + "/token"
                self._reply(200, json.dumps(metadata).encode(), "application/json")

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {
                    k: self.headers[k]
                    for k in ("Authorization", "Content-Type", "Accept")
                    if self.headers.get(k)
                }
                answer = requests.post(
                    provider.issuer + "/token", data=body, headers=headers, timeout=10
                )
                content = answer.content
                if answer.status_code == 200 and proxy.mode:
                    token = answer.json()
                    token["id_token"] = proxy.forge(token["id_token"])
                    content = json.dumps(token).encode()
                self._reply(answer.status_code, content, "application/json")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def forge(self, id_token: str) -> str:
        claims = self.provider.read_id_token(id_token)
        key = None
        now = int(time.time())
        if self.mode == "other_key":
            key = self.other_key
        elif self.mode == "wrong_audience":
            claims.update(aud="another-client", azp=self.provider.client_id)
        elif self.mode == "wrong_issuer":
            claims["iss"] = "http://127.0.0.1:9"
        elif self.mode == "expired":
            claims.update(iat=now - 7200, exp=now - 3600)
        elif self.mode == "wrong_nonce":
            claims["nonce"] = "not-the-nonce-cacnet-sent"
        else:
            raise AssertionError(f"unknown mode {self.mode!r}")
        self.forged.append(claims)
        return self.provider.mint_id_token(claims, key)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture(scope="session")
def tampering_proxy(oidc_provider):
    proxy = TamperingProxy(oidc_provider)
    try:
        yield proxy
    finally:
        proxy.stop()


# --- the app's configuration ---------------------------------------------------------------------


def providers_config(provider: LoopbackProvider, proxy: TamperingProxy | None) -> list[dict]:
    common = {
        "issuer": provider.issuer,
        "client_id": provider.client_id,
        "client_secret": provider.client_secret,
    }
    config = [
        {"name": "loopback", "title": "Loopback ID", "trust_email": True, **common},
        {"name": "elsewhere", "title": "Elsewhere ID", "trust_email": False, **common},
        {
            "name": "offline",
            "title": "Offline ID",
            "trust_email": True,
            **common,
            "issuer": f"http://127.0.0.1:{_free_port()}",  # nothing listens there
        },
    ]
    if proxy is not None:
        config.insert(
            2,
            {
                "name": "tampered",
                "title": "Tampered ID",
                "trust_email": True,
                **common,
                "metadata_url": proxy.url + "/.well-known/openid-configuration",
            },
        )
    return config


def _configure(app, providers: list[dict] | tuple):
    from cacnet.accounts import oidc as oidc_module

    app.config["OIDC_PROVIDERS"] = providers
    oidc_module.init_app(app)


@dataclass
class LoopbackOidc:
    """The app configured with the loopback providers, and ways to sign in through them."""

    app: object
    provider: LoopbackProvider
    proxy: TamperingProxy | None
    base: str = TEST_CLIENT_BASE

    def authorize_url(self, client, name: str, next_url: str | None = None) -> str:
        """Open cacnet's start URL; return where it redirects (the provider's authorization)."""
        response = client.get(
            f"/auth/oidc/{name}", query_string={"next": next_url} if next_url else None
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response.headers["Location"]

    def callback_for(self, client, name: str, login: str, next_url: str | None = None) -> str:
        """Sign in at the provider as ``login``; the local path (with query) of the callback."""
        location = self.provider.authorize(self.authorize_url(client, name, next_url), login)
        parts = urlsplit(location)
        assert f"{parts.scheme}://{parts.netloc}" == self.base, location
        assert parts.path == f"/auth/oidc/{name}/callback", location
        return f"{parts.path}?{parts.query}"

    def sign_in(self, client, name: str, login: str, next_url: str | None = None):
        """The whole round trip; the response of cacnet's callback."""
        return client.get(self.callback_for(client, name, login, next_url))


@pytest.fixture
def oidc(app, oidc_provider, tampering_proxy):
    saved = app.config.get("OIDC_PROVIDERS", ())
    tampering_proxy.mode = None
    _configure(app, providers_config(oidc_provider, tampering_proxy))
    try:
        yield LoopbackOidc(app, oidc_provider, tampering_proxy)
    finally:
        tampering_proxy.mode = None
        _configure(app, saved)


@pytest.fixture(scope="session")
def browser_oidc_provider(live_server):
    """A second loopback provider whose client may redirect to the live server."""
    yield from _start_provider(str(live_server))


@pytest.fixture
def browser_oidc(app, live_server, browser_oidc_provider):
    saved = app.config.get("OIDC_PROVIDERS", ())
    _configure(app, providers_config(browser_oidc_provider, None))
    try:
        yield LoopbackOidc(app, browser_oidc_provider, None, base=str(live_server))
    finally:
        _configure(app, saved)
