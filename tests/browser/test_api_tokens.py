"""A delegate creates an API token in Chromium, copies it from the page that shows it once, uses
it, and revokes it; the token page and the API documentation pass axe-core and run under the
Content Security Policy (the copy button's script is a static file)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_check
from tests.browser.test_journey import sign_in

pytestmark = pytest.mark.browser


def test_a_delegate_creates_copies_uses_and_revokes_a_token(
    page, live_server, create_member_city, tmp_path
):
    _, admin = create_member_city("Seoul", "KR")
    sign_in(page, live_server, admin)
    page.goto(live_server.url("/account/"))
    page.get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("API tokens")
    axe_check(page)

    page.get_by_label("Name").fill("Situation room dashboard")
    page.get_by_label("Access").select_option("write")
    page.get_by_label("Expires after").select_option("30")
    page.get_by_role("button", name="Create the token").click()
    field = page.get_by_role("textbox", name="Token")
    expect(field).to_have_attribute("readonly", "")
    token = field.input_value()
    assert token.startswith("cac_")
    expect(page.get_by_text("it is shown only this once")).to_be_visible()
    copy = page.get_by_role("button", name="Copy")
    expect(copy).to_be_visible()  # shown by the script: it ran under the CSP
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    copy.click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    axe_check(page)
    page.screenshot(path=str(tmp_path / "tokens.png"), full_page=True)

    me = page.request.get(
        live_server.url("/api/v1/me"), headers={"Authorization": f"Bearer {token}"}
    )
    assert me.ok and me.json()["token"]["name"] == "Situation room dashboard"

    page.goto(live_server.url("/account/tokens"))
    expect(page.get_by_role("textbox", name="Token")).to_have_count(0)  # never shown again
    row = page.get_by_role("row").filter(has_text="Situation room dashboard")
    expect(row).to_contain_text(token[:12])
    row.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("status")).to_contain_text("is revoked")
    expect(page.get_by_role("row").filter(has_text="Situation room dashboard")).to_contain_text(
        "revoked"
    )
    refused = page.request.get(
        live_server.url("/api/v1/me"), headers={"Authorization": f"Bearer {token}"}
    )
    assert refused.status == 401


def test_the_api_documentation_page(page, live_server, tmp_path):
    page.goto(live_server.url("/api/v1/docs"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("cacnet API")
    expect(page.get_by_role("heading", name="Authentication")).to_be_visible()
    page.get_by_role("link", name="POST /api/v1/resources", exact=True).click()
    expect(page.locator("#create_resource")).to_be_in_viewport()
    axe_check(page)
    page.screenshot(path=str(tmp_path / "docs.png"), full_page=False)
