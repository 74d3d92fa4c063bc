"""The Statement pages in Chromium: both languages, the diff, and axe-core."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_check
from tests.statement.test_versions import _publish_v2, version_1  # noqa: F401 - fixture

pytestmark = pytest.mark.browser


def test_statement_versions_and_diff(app, page, phone_page, live_server, secretariat, version_1):  # noqa: F811
    _publish_v2(app.test_client(), secretariat)
    page.goto(live_server.url("/statement"))
    expect(page.locator("article[lang=ko] h2")).to_contain_text("서울 선언문")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Seoul Statement")
    axe_check(page)
    page.get_by_role("link", name="What changed since version 1").click()
    expect(page.locator("li.diff-line.added").first).to_contain_text("and act.")
    axe_check(page)
    phone_page.goto(live_server.url("/statement"))
    width = phone_page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1]
    axe_check(phone_page)
