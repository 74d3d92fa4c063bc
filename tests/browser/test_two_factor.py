"""A new secretariat officer's first sign-in in Chromium: sent to set up two-step sign-in, adds
the key to an "app" (pyotp here), sees the recovery codes once, then reaches the queue; the next
sign-in asks for a code. axe-core checks each page, on a phone-sized screen too."""

from __future__ import annotations

import re

import pyotp
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_check
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

OFFICER = "first.officer@caap.example"
CODE_LABEL = "Code from your authenticator app, or a recovery code"


def _password_step(page, live_server):
    page.goto(live_server.url("/auth/login"))
    page.get_by_label("E-mail address").fill(OFFICER)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_new_officer_sets_up_two_step_sign_in(page, phone_page, live_server, create_user):
    create_user(OFFICER, role="secretariat", two_factor=False)
    _password_step(page, live_server)
    expect(page).to_have_url(re.compile(r"/account/two-factor/setup$"))
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    axe_check(page)
    # Any other page sends the officer back here.
    page.goto(live_server.url("/secretariat/"))
    expect(page).to_have_url(re.compile(r"/account/two-factor/setup$"))

    key = page.locator("figure.qr code").inner_text().replace(" ", "")
    totp = pyotp.TOTP(key)
    page.get_by_label("The six-digit code your app shows now").fill(totp.now())
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    axe_check(page)
    codes = page.locator(".recovery-codes code").all_inner_texts()
    page.get_by_role("link", name="I have saved them").click()
    page.goto(live_server.url("/secretariat/"))
    expect(page).to_have_url(re.compile(r"/secretariat/$"))

    # On the phone, the next sign-in asks for the second step; a recovery code opens it.
    _password_step(phone_page, live_server)
    expect(phone_page).to_have_url(re.compile(r"/auth/two-factor$"))
    axe_check(phone_page)
    phone_page.get_by_label(CODE_LABEL).fill(codes[0])
    phone_page.get_by_role("button", name="Continue").click()
    expect(phone_page.get_by_role("status")).to_contain_text(
        "You used a recovery code. 9 are left."
    )
