"""Signing in with an OpenID provider in Chromium: the button on cacnet's login page, the loopback
provider's own login page (Node's oidc-provider), and back to cacnet, signed in."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_check
from tests.oidc_support import ACCOUNTS

pytestmark = pytest.mark.browser

JI_WOO = ACCOUNTS["ji-woo"]["email"]


def sign_in_at_the_provider(page, login: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text("Loopback provider")
    page.get_by_label("Login").fill(login)
    page.get_by_role("button", name="Sign in").click()


def test_sign_in_with_the_provider_and_see_the_linked_identity(
    page, live_server, browser_oidc, create_member_city
):
    create_member_city("Seoul", "KR", admin_email=JI_WOO)  # a city admin, no second factor
    page.goto(live_server.url("/auth/login"))
    axe_check(page)
    page.get_by_role("link", name="Sign in with Loopback ID").click()
    sign_in_at_the_provider(page, "ji-woo")

    expect(page).to_have_url(live_server.url("/account/"))
    status = page.get_by_role("status")
    expect(status).to_contain_text("Welcome, Seoul Admin.")
    expect(status).to_contain_text("Your Loopback ID account is now linked")
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("button", name="Sign out")
    ).to_be_visible()

    page.get_by_role("link", name="Sign-in providers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign-in providers")
    row = page.get_by_role("row").filter(has_text="Loopback ID")
    expect(row).to_contain_text(JI_WOO)
    axe_check(page)


def test_a_newcomer_is_offered_the_application(page, live_server, browser_oidc):
    page.goto(live_server.url("/auth/login"))
    page.get_by_role("link", name="Sign in with Loopback ID").click()
    sign_in_at_the_provider(page, "min-ji")

    expect(page).to_have_url(live_server.url("/auth/oidc/continue"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Link your Loopback ID account")
    axe_check(page)
    page.get_by_role("link", name="Apply for your city's membership").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Apply for membership")
    expect(page.get_by_label("Your e-mail address")).to_have_value(ACCOUNTS["min-ji"]["email"])
    expect(page.get_by_label("Your name")).to_have_value("Min-ji Kim")
