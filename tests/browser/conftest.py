"""Browser test harness: the session's app served on a loopback port, Debian's Chromium driven by
Playwright, a page per test that fails the test on any Content Security Policy violation, an
uncaught script error or a server error, and ``axe_check`` for automated accessibility checks.

Every test in this folder is marked ``browser``: ``pytest -m "not browser"`` leaves them out.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import got_request_exception

CHROMIUM = Path("/usr/bin/chromium")
AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
CSP_MARKERS = ("content security policy", "refused to")

# Chromium reports most CSP violations on the console itself; this also reports those it does not
# (every one fires ``securitypolicyviolation``). Added with add_init_script, so the page's own CSP
# does not apply to it.
_REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`Content Security Policy violation: ${e.effectiveDirective} blocked `
    + `${e.blockedURI || "inline"} at ${e.sourceFile || e.documentURI}:${e.lineNumber}`);
}, true);
"""


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.browser)


# --- the app on a real port ------------------------------------------------------------------


class LiveServer(str):
    """The base URL (``http://127.0.0.1:PORT``), which also knows the server errors it saw."""

    errors: list[BaseException]
    app: object  # the Flask app it serves

    def url(self, path: str) -> str:
        """An absolute URL on the live server for a path (e.g. one from ``link_in``)."""
        return self + (path if path.startswith("/") else "/" + path)


@pytest.fixture(scope="session")
def live_server(app):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = LiveServer(f"http://127.0.0.1:{server.server_port}")
    base.errors = []
    base.app = app

    def record(sender, exception, **extra):
        base.errors.append(exception)

    got_request_exception.connect(record, app)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        got_request_exception.disconnect(record, app)


# --- Chromium --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium) "
            "to run the browser tests",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


class ConsoleLog:
    """What the pages of one browser context said: console messages and uncaught errors."""

    def __init__(self):
        self.messages: list[str] = []  # "type: text"
        self.page_errors: list[str] = []

    def attach(self, page) -> None:
        page.on("console", lambda m: self.messages.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))

    @property
    def csp_violations(self) -> list[str]:
        return [m for m in self.messages if any(k in m.lower() for k in CSP_MARKERS)]


@pytest.fixture
def open_page(browser, live_server) -> Callable:
    """open_page(viewport=DESKTOP, **context_options) -> a page in a new browser context.

    When the test ends, it fails if any page said anything about a Content Security Policy on the
    console, threw an uncaught error, or the server raised an exception while serving it.
    """
    contexts = []
    errors_before = len(live_server.errors)

    def _open(viewport=None, **options):
        options.setdefault("locale", "en-GB")
        context = browser.new_context(viewport=viewport or DESKTOP, **options)
        context.set_default_timeout(10_000)
        context.add_init_script(_REPORT_CSP_VIOLATIONS)
        log = ConsoleLog()
        context.on("page", log.attach)
        contexts.append((context, log))
        page = context.new_page()
        page.console_log = log
        return page

    yield _open

    problems = []
    for context, log in contexts:
        context.close()
        if log.csp_violations:
            problems.append(
                "Content Security Policy violations:\n  " + "\n  ".join(log.csp_violations)
            )
        if log.page_errors:
            problems.append("uncaught errors in the page:\n  " + "\n  ".join(log.page_errors))
    server_errors = live_server.errors[errors_before:]
    if server_errors:
        problems.append("the server raised:\n  " + "\n  ".join(repr(e) for e in server_errors))
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def page(open_page):
    """A desktop-sized page (1280×900) in a fresh browser context."""
    return open_page(DESKTOP)


@pytest.fixture
def phone_page(open_page):
    """A phone-sized page (390×844, a mobile browser that honours the viewport meta tag)."""
    return open_page(PHONE, is_mobile=True, has_touch=True, device_scale_factor=3)


# --- accessibility ---------------------------------------------------------------------------


def _axe_source() -> str:
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} is missing: run `npm ci` in the project folder", pytrace=False)
    return AXE_JS.read_text(encoding="utf-8")


def axe_check(page, *, impacts=("serious", "critical")) -> list[dict]:
    """Run axe-core's WCAG 2.0/2.1 A and AA rules on the page as it is now; fail on any violation
    of the given impacts. Returns all violations (of any impact), for a test that wants them.

    axe is evaluated through the DevTools protocol, which the page's Content Security Policy does
    not govern, so the page is checked with its real CSP in force.
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_source())
    results = page.evaluate(
        """async (tags) => {
             const r = await axe.run(document, {runOnly: {type: "tag", values: tags},
                                                resultTypes: ["violations"]});
             return r.violations.map(v => ({
               id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
               nodes: v.nodes.map(n => ({target: n.target, summary: n.failureSummary}))}));
           }""",
        AXE_TAGS,
    )
    bad = [v for v in results if v["impact"] in impacts]
    if bad:
        lines = [f"axe found {len(bad)} accessibility violation(s) on {page.url}:"]
        for v in bad:
            lines.append(f"- [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
            for node in v["nodes"]:
                lines.append(f"    {json.dumps(node['target'], ensure_ascii=False)}")
                for detail in (node["summary"] or "").splitlines():
                    lines.append(f"      {detail}")
        pytest.fail("\n".join(lines), pytrace=False)
    return results


@pytest.fixture(name="axe_check")
def axe_check_fixture():
    """The ``axe_check`` function, for tests that prefer a fixture to an import."""
    return axe_check


# --- mail ------------------------------------------------------------------------------------


def wait_for_mail(sink, address: str, count: int = 1, timeout: float = 5.0) -> list:
    """The messages to ``address`` once there are at least ``count`` of them."""
    deadline = time.monotonic() + timeout
    while True:
        messages = sink.to(address)
        if len(messages) >= count or time.monotonic() > deadline:
            assert len(messages) >= count, (
                f"expected {count} message(s) to {address}, got {messages}"
            )
            return messages
        time.sleep(0.05)
