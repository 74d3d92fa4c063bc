"""The exchange as delegates use it, through the HTTP client: Seoul asks for 10,000 test kits,
London and Jakarta pledge, Seoul accepts in full and in part, the request is met, messages go
both ways and the mail arrives at a real SMTP server on loopback."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from cacnet.core.db import db
from cacnet.resources.models import PostState, ResourcePost, ResourceResponse, ResponseState
from tests.conftest import login, submit
from tests.resources.conftest import category_id


def _post_uuid(response) -> str:
    return re.search(r"/resources/([0-9a-f-]{36})$", response.headers["Location"]).group(1)


def _response(app, city_name: str) -> ResourceResponse:
    from cacnet.cities.models import City

    with app.app_context():
        return db.session.scalar(
            select(ResourceResponse).join(City, City.id == ResourceResponse.city_id)
            .where(City.name_en == city_name)
        )  # fmt: skip


def test_request_pledges_acceptances_messages(app, exchange, smtp_server):
    seoul, london, jakarta = (app.test_client() for _ in range(3))
    login(seoul, exchange["Seoul"]["delegate"])
    login(london, exchange["London"]["delegate"])
    login(jakarta, exchange["Jakarta"]["delegate"])

    with app.app_context():
        kits = category_id("test-kits")
    created = submit(seoul, "/resources/new", {
        "kind": "request", "category_id": kits, "title_en": "PCR test kits for the second wave",
        "title_ko": "2차 유행 대비 PCR 진단 키트", "quantity": "10000", "unit": "kits",
        "urgency": "critical", "needed_by": (date.today() + timedelta(days=10)).isoformat(),
        "expires_on": (date.today() + timedelta(days=20)).isoformat(), "conditions": "free",
        "description_en": "Details: https://example.org/spec", "contact_id": "0",
    })  # fmt: skip
    assert created.status_code == 302, created.get_data(as_text=True)[:2000]
    uuid = _post_uuid(created)
    page = f"/resources/{uuid}"

    board = london.get("/resources/?category=test-kits&urgency=critical").get_data(as_text=True)
    assert "PCR test kits for the second wave" in board
    for client, amount in ((london, "6000"), (jakarta, "6000")):
        answer = submit(client, f"{page}/respond", {"quantity": amount, "message": "We can send them."},
                        page=page)  # fmt: skip
        assert answer.status_code == 302
    assert len(smtp_server.to(exchange["Seoul"]["delegate"], "responded to your post")) == 2

    london_response = _response(app, "London")
    jakarta_response = _response(app, "Jakarta")
    accepted = submit(seoul, f"/resources/responses/{london_response.uuid}/accept",
                      {"quantity": "", "message": "Thank you, London."}, page=page)  # fmt: skip
    assert accepted.status_code == 302
    partly = submit(seoul, f"/resources/responses/{jakarta_response.uuid}/accept",
                    {"quantity": "4000", "message": "4,000 is what we still need."}, page=page)  # fmt: skip
    assert partly.status_code == 302
    with app.app_context():
        post = db.session.scalar(select(ResourcePost).where(ResourcePost.uuid == uuid))
        assert post.state == PostState.MET
        assert db.session.get(ResourceResponse, jakarta_response.id).accepted_quantity == Decimal(
            "4000"
        )
    assert smtp_server.to(exchange["London"]["delegate"], "was accepted")
    assert smtp_server.to(exchange["Jakarta"]["delegate"], "was accepted")

    # a further pledge and a further acceptance are refused
    seoul_page = seoul.get(page).get_data(as_text=True)
    assert "Pledge to this request" not in seoul_page  # one's own post
    london_page = london.get(page).get_data(as_text=True)
    assert "Pledge to this request" not in london_page  # met: no longer live
    late = submit(london, f"{page}/respond", {"quantity": "1"}, page=page, follow_redirects=True)
    assert "no longer takes responses" in late.get_data(as_text=True)

    # messages both ways, with an unread count and e-mail
    submit(london, f"/resources/responses/{london_response.uuid}/message",
           {"body": "The kits leave Heathrow on Monday: https://example.org/track/1"}, page=page)  # fmt: skip
    assert smtp_server.to(exchange["Seoul"]["delegate"], "New message")
    menu = seoul.get("/resources/mine").get_data(as_text=True)
    assert "1 unread message" in menu
    thread = seoul.get(page).get_data(as_text=True)
    assert 'href="https://example.org/track/1" rel="nofollow noopener noreferrer"' in thread
    assert "unread message" not in seoul.get("/resources/mine").get_data(as_text=True)
    submit(seoul, f"/resources/responses/{london_response.uuid}/message", {"body": "Received, thanks."},
           page=page)  # fmt: skip
    assert smtp_server.to(exchange["London"]["delegate"], "New message")

    # London marks it delivered; Jakarta's falls through and the quantity returns to the post
    submit(london, f"/resources/responses/{london_response.uuid}/delivered", {}, page=page)
    submit(jakarta, f"/resources/responses/{jakarta_response.uuid}/fell-through", {}, page=page)
    with app.app_context():
        post = db.session.scalar(select(ResourcePost).where(ResourcePost.uuid == uuid))
        assert post.state == PostState.PARTLY_MET
        states = {r.city.name_en: r.state for r in post.responses}
        assert states == {"London": ResponseState.DELIVERED, "Jakarta": ResponseState.FELL_THROUGH}
    assert "4,000" in london.get(page).get_data(as_text=True) or "4000" in london.get(
        page
    ).get_data(as_text=True)


def test_the_exchange_is_for_members_only(app, client, exchange, make_post):
    uuid = make_post(exchange["Seoul"]["delegate"])
    for url in ("/resources/", f"/resources/{uuid}", "/resources/mine", "/resources/new"):
        response = client.get(url)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    # a signed-in applicant without a member city gets a clear refusal
    from tests.conftest import PASSWORD

    with app.test_request_context():
        from cacnet.accounts import services as accounts
        from cacnet.core.db import utcnow

        accounts.register_applicant("applicant@example.org", name="A", title="", password=PASSWORD,
                                    locale="en").email_verified_at = utcnow()  # fmt: skip
        db.session.commit()
    login(client, "applicant@example.org")
    refused = client.get("/resources/")
    assert refused.status_code == 403
    assert "for delegates of member cities" in refused.get_data(as_text=True)


def test_the_poster_changes_closes_and_withdraws_posts(app, exchange, make_post):
    seoul, london = app.test_client(), app.test_client()
    login(seoul, exchange["Seoul"]["delegate"])
    login(london, exchange["London"]["delegate"])
    uuid = make_post(exchange["Seoul"]["delegate"], quantity="100", title_en="Masks for schools")
    page = f"/resources/{uuid}"
    submit(london, f"{page}/respond", {"quantity": "60"}, page=page)
    response = _response(app, "London")
    submit(seoul, f"/resources/responses/{response.uuid}/accept", {"quantity": ""}, page=page)

    assert london.get(f"{page}/edit").status_code == 403  # another city's post
    with app.app_context():
        kits = category_id("test-kits")
    form = {"kind": "request", "category_id": kits, "title_en": "Masks for schools and clinics",
            "quantity": "50", "unit": "kits", "urgency": "high", "conditions": "free",
            "expires_on": (date.today() + timedelta(days=30)).isoformat(), "contact_id": "0"}  # fmt: skip
    below = submit(seoul, f"{page}/edit", form, follow_redirects=True)
    assert "cannot be less than what you have already accepted" in below.get_data(as_text=True)
    with app.app_context():
        post = db.session.scalar(select(ResourcePost).where(ResourcePost.uuid == uuid))
        assert post.quantity == Decimal("100") and post.title_en == "Masks for schools"
    changed = submit(seoul, f"{page}/edit", {**form, "quantity": "120"})
    assert changed.status_code == 302
    with app.app_context():
        post = db.session.scalar(select(ResourcePost).where(ResourcePost.uuid == uuid))
        assert (post.quantity, post.title_en, post.state) == (
            Decimal("120"), "Masks for schools and clinics", PostState.PARTLY_MET,
        )  # fmt: skip

    closed = submit(seoul, f"{page}/close", {}, page=page, follow_redirects=True)
    assert "The post is closed." in closed.get_data(as_text=True)
    again = submit(seoul, f"{page}/withdraw", {}, page=page, follow_redirects=True)
    assert "already closed" in again.get_data(as_text=True)

    other = make_post(exchange["Seoul"]["delegate"], title_en="Posted by mistake")
    refused = submit(london, f"/resources/{other}/withdraw", {}, page=f"/resources/{other}",
                     follow_redirects=True)  # fmt: skip
    assert "Only the city that posted this can do that." in refused.get_data(as_text=True)
    submit(seoul, f"/resources/{other}/withdraw", {}, page=f"/resources/{other}")
    with app.app_context():
        states = dict(db.session.execute(select(ResourcePost.title_en, ResourcePost.state)).all())
        assert states == {"Masks for schools and clinics": PostState.CLOSED,
                          "Posted by mistake": PostState.WITHDRAWN}  # fmt: skip
