"""The Statement pages in Chromium: both languages, the diff, and axe-core."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_check
from tests.statement.test_endorsements import seoul  # noqa: F401 - fixture
from tests.statement.test_signatory_list import signed  # noqa: F401 - fixture
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
    draw_signature(page)
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


def draw_signature(page) -> None:
    canvas = page.locator("[data-signature-pad] canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 40, box["y"] + 120)
    page.mouse.down()
    for x, y in ((120, 50), (200, 140), (300, 60), (420, 130)):
        page.mouse.move(box["x"] + x, box["y"] + y, steps=8)
    page.mouse.up()


def test_grant_endorse_verify_publish_and_withdraw(
    app,
    page,
    live_server,
    create_member_city,
    create_user,
    secretariat,
    version_1,  # noqa: F811
):
    """The whole journey of issue 4 in Chromium: the secretariat grants signing authority, the
    mayor draws a signature and signs, the secretariat verifies, the public finds Seoul in the
    list, on the map and in the JSON, CSV and Atom exports; the mayor withdraws and the list
    shows it apart."""
    from sqlalchemy import select

    from cacnet.cities.models import City
    from cacnet.core.db import db
    from cacnet.membership.models import Membership
    from tests.browser.test_journey import sign_in, sign_out
    from tests.conftest import PASSWORD

    city_id, _admin = create_member_city("Seoul", "KR", name_local="서울특별시")
    create_user("mayor@seoul.example", city_id=city_id, name="Oh Se-hoon")
    with app.app_context():
        city = db.session.get(City, city_id)
        city.latitude, city.longitude = 37.5665, 126.978
        membership_uuid = db.session.scalar(
            select(Membership.uuid).where(Membership.city_id == city_id)
        )
        db.session.commit()

    sign_in(page, live_server, secretariat)
    page.goto(live_server.url(f"/secretariat/applications/{membership_uuid}"))
    page.get_by_label("Evidence of authority (letter, title) (Oh Se-hoon)").fill(
        "Letter of the council"
    )
    page.get_by_role("button", name="Grant signing authority (Oh Se-hoon)").click()
    expect(page.get_by_role("status")).to_contain_text("Oh Se-hoon may now sign for the city.")
    sign_out(page)

    sign_in(page, live_server, "mayor@seoul.example")
    page.goto(live_server.url("/statement/sign"))
    draw_signature(page)
    page.get_by_label("Title of the signatory").fill("Mayor of Seoul")
    page.get_by_label("I am authorised to commit my city to this Statement.").check()
    page.get_by_label("Your password, to confirm it is you").fill(PASSWORD)
    page.get_by_role("button", name="Sign and submit").click()
    expect(page.get_by_role("status")).to_contain_text("The secretariat will verify")
    sign_out(page)

    sign_in(page, live_server, secretariat)
    page.goto(live_server.url("/secretariat/endorsements/"))
    expect(page.get_by_role("img", name="Signature of Oh Se-hoon")).to_be_visible()
    page.get_by_role("button", name="Verify Seoul").click()
    expect(page.get_by_role("status")).to_contain_text("verified")
    sign_out(page)

    page.goto(live_server.url("/signatories"))
    row = page.get_by_role("row").filter(has_text="Seoul")
    expect(row).to_contain_text("Oh Se-hoon")
    expect(row.get_by_role("img", name="Signature of Oh Se-hoon")).to_be_visible()
    the_map = page.get_by_role("img", name="Map of the member cities")
    expect(the_map).to_have_attribute(
        "alt", "Map of the member cities: 1 signatory city of version 1 is highlighted."
    )
    the_map.scroll_into_view_if_needed()
    page.wait_for_function(
        "() => document.querySelector('.map-layers img[loading]').naturalWidth > 0"
    )
    axe_check(page)
    for link, expected in (("JSON", '"signatory_name": "Oh Se-hoon"'), ("CSV", "Oh Se-hoon,Mayor of Seoul"),
                           ("Atom", "Seoul endorsed the Seoul Statement")):  # fmt: skip
        href = page.get_by_role("link", name=link, exact=True).get_attribute("href")
        body = page.request.get(live_server.url(href)).text()
        assert expected in body.replace('":"', '": "'), (link, body[:300])

    sign_in(page, live_server, "mayor@seoul.example")
    page.goto(live_server.url("/statement/sign"))
    page.get_by_label("Reason for withdrawing (public)").fill("The council revoked its decision.")
    page.get_by_role("button", name="Withdraw the endorsement").click()
    expect(page.get_by_role("status")).to_contain_text("withdrawn")
    sign_out(page)
    page.goto(live_server.url("/signatories"))
    withdrawn = page.get_by_role("heading", name="Withdrawn endorsements")
    expect(withdrawn).to_be_visible()
    expect(page.locator("ul.plain")).to_contain_text("Seoul (South Korea)")
    expect(page.locator("ul.plain")).to_contain_text("The council revoked its decision.")
    expect(page.get_by_role("row").filter(has_text="Oh Se-hoon")).to_have_count(0)


def test_download_the_declaration_and_check_it_on_the_verification_page(
    page,
    live_server,
    tmp_path,
    signed,  # noqa: F811
):
    page.goto(live_server.url("/statement"))
    expect(page.get_by_role("region", name="Who stands together")).to_contain_text(
        "2 cities have endorsed this version."
    )
    link = page.get_by_role("link", name="Download the signed declaration (PDF)")
    response = page.request.get(live_server.url(link.get_attribute("href")))
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    document_id = response.headers["x-document-id"]
    pdf = tmp_path / "declaration.pdf"
    pdf.write_bytes(response.body())

    page.goto(live_server.url(f"/verify/{document_id}"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Document {document_id}")
    expect(page.get_by_role("table")).to_contain_text("Oh Se-hoon")
    axe_check(page)
    page.get_by_label("The PDF to check").set_input_files(str(pdf))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("status")).to_contain_text("Genuine")
    expect(page.get_by_role("status")).to_contain_text(f"It is document {document_id}")
    axe_check(page)

    tampered = tmp_path / "tampered.pdf"
    data = bytearray(pdf.read_bytes())
    data[len(data) // 3] ^= 1
    tampered.write_bytes(bytes(data))
    page.get_by_label("The PDF to check").set_input_files(str(tampered))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("status")).to_contain_text("Not genuine")
