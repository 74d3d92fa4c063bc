"""The Statement pages in Chromium: both languages, the diff, and axe-core."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_check
from tests.statement.test_endorsements import seoul  # noqa: F401 - fixture
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
    page.goto(live_server.url("/signatories"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Signatories of the Seoul Statement")
    axe_check(page)
    phone_page.goto(live_server.url("/statement"))
    width = phone_page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1]
    axe_check(phone_page)


def test_a_signatory_draws_a_signature_and_signs(app, page, live_server, seoul, secretariat):  # noqa: F811
    from sqlalchemy import select

    from cacnet.core.db import db
    from cacnet.statement.models import Endorsement
    from tests.browser.test_journey import sign_in
    from tests.conftest import PASSWORD

    sign_in(page, live_server, "mayor@seoul.example")
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Sign the Statement"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Endorse the Statement for Seoul")
    axe_check(page)
    canvas = page.locator("[data-signature-pad] canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 40, box["y"] + 120)
    page.mouse.down()
    for x, y in ((120, 50), (200, 140), (300, 60), (420, 130)):
        page.mouse.move(box["x"] + x, box["y"] + y, steps=8)
    page.mouse.up()
    page.get_by_label("Title of the signatory").fill("Mayor of Seoul")
    page.get_by_label("I am authorised to commit my city to this Statement.").check()
    page.get_by_label("Your password, to confirm it is you").fill(PASSWORD)
    page.get_by_role("button", name="Sign and submit").click()
    expect(page.get_by_role("status")).to_contain_text("The secretariat will verify")
    with app.app_context():
        endorsement = db.session.scalar(select(Endorsement))
        assert endorsement.signature_kind == "drawn"
    expect(page.get_by_role("img", name="Signature of")).to_be_visible()
    axe_check(page)
