"""One rule, two doors: the page and the API call the same service, so the same refusal comes back
with the same message (a 403 page, a 403 JSON error), and nothing is stored either way. And a
browser's session cookie never authorizes anything in the API."""

from __future__ import annotations

import html
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from cacnet.core.db import db
from cacnet.resources.models import ResourcePost, ResourceResponse, ResponseState
from tests.api.conftest import audit_events, suspend
from tests.conftest import csrf_token, login, submit
from tests.resources.conftest import category_id, user

EXPIRES = date.today() + timedelta(days=15)
NOT_ACTIVE = "Your city's membership is not active, so you cannot act for the city."


def counts(app) -> tuple[int, int, list]:
    with app.app_context():
        return (
            db.session.scalar(select(func.count(ResourcePost.id))),
            db.session.scalar(select(func.count(ResourceResponse.id))),
            sorted(db.session.scalars(select(ResourceResponse.state))),
        )


def _suspended_city_posts(app, exchange, make_post, client, api, token):
    suspend(app, exchange["London"]["city_id"])
    with app.app_context():
        kits = category_id("test-kits")
    form = {
        "kind": "request",
        "category_id": kits,
        "title_en": "Masks",
        "quantity": "100",
        "unit": "kits",
        "urgency": "normal",
        "conditions": "free",
        "contact_id": "0",
        "expires_on": EXPIRES.isoformat(),
    }
    page = submit(client, "/resources/new", form, page="/account/")
    answer = api.post(
        "/resources",
        token=token,
        json={
            "kind": "request",
            "category": "test-kits",
            "title_en": "Masks",
            "quantity": "100",
            "unit": "kits",
            "expires_on": EXPIRES.isoformat(),
        },
    )
    return page, answer, NOT_ACTIVE


def _responding_to_ones_own_post(app, exchange, make_post, client, api, token):
    uuid = make_post(exchange["London"]["delegate"])
    page = submit(
        client, f"/resources/{uuid}/respond", {"quantity": "5"}, page=f"/resources/{uuid}"
    )
    answer = api.post(f"/resources/{uuid}/responses", token=token, json={"quantity": "5"})
    return page, answer, "You cannot respond to your own city's post."


def _the_responder_accepting_its_own_response(app, exchange, make_post, client, api, token):
    from cacnet.resources import services

    uuid = make_post(exchange["Seoul"]["delegate"])
    with app.test_request_context(base_url="http://localhost"):
        post = db.session.scalar(select(ResourcePost).where(ResourcePost.uuid == uuid))
        response = services.respond(user(exchange["London"]["delegate"]), post, "5")
        db.session.commit()
        response_uuid = response.uuid
    page = submit(
        client,
        f"/resources/responses/{response_uuid}/accept",
        {"quantity": ""},
        page=f"/resources/{uuid}",
    )
    answer = api.post(f"/responses/{response_uuid}/accept", token=token, json={})
    return page, answer, "Only the city that posted this can do that."


@pytest.mark.parametrize(
    "refusal",
    [
        _suspended_city_posts,
        _responding_to_ones_own_post,
        _the_responder_accepting_its_own_response,
    ],
    ids=[
        "a suspended city posts",
        "a city responds to its own post",
        "the responder accepts its own response",
    ],
)
def test_the_page_and_the_api_refuse_alike(
    app, client, api, exchange, make_post, make_token, refusal
):
    token = make_token(exchange["London"]["delegate"])  # made while London is active
    login(client, exchange["London"]["delegate"])
    page, answer, message = refusal(app, exchange, make_post, client, api, token)
    stored = counts(app)

    assert page.status_code == 403
    assert message in html.unescape(page.get_data(as_text=True))
    assert answer.status_code == 403
    assert answer.get_json()["error"] == {"code": "forbidden", "message": message, "fields": {}}
    assert counts(app) == stored  # the page's refusal stored nothing, nor did the API's
    assert all(state == ResponseState.PENDING for state in stored[2])
    assert [e.reason for e in audit_events(app, "api_request_refused")] == [message]


def test_a_session_cookie_never_authorizes_the_api(app, client, exchange, make_post):
    login(client, exchange["Seoul"]["delegate"])
    token = csrf_token(client.get("/account/").get_data(as_text=True))
    body = {
        "kind": "offer",
        "category": "test-kits",
        "title_en": "Kits",
        "quantity": "5",
        "unit": "kits",
        "expires_on": EXPIRES.isoformat(),
    }
    for headers in ({}, {"X-CSRFToken": token}):
        answer = client.post("/api/v1/resources", json=body, headers=headers)
        assert answer.status_code == 401
        assert answer.get_json()["error"]["code"] == "unauthorized"
    assert client.get("/api/v1/me").status_code == 401
    uuid = make_post(exchange["Seoul"]["delegate"])
    assert client.post(f"/api/v1/resources/{uuid}/withdraw").status_code == 401
    with app.app_context():
        assert db.session.scalar(select(func.count(ResourcePost.id))) == 1
        assert db.session.scalar(select(ResourcePost.state)).value == "open"


def test_the_language_is_the_accept_language_headers_not_the_sessions(
    app, client, api, exchange, make_token
):
    token = make_token(exchange["London"]["delegate"])
    suspend(app, exchange["London"]["city_id"])
    body = {
        "kind": "offer",
        "category": "test-kits",
        "title_en": "Kits",
        "quantity": "5",
        "unit": "kits",
        "expires_on": EXPIRES.isoformat(),
    }
    korean = api.post("/resources", token=token, json=body, headers={"Accept-Language": "ko"})
    assert korean.status_code == 403
    assert korean.get_json()["error"]["message"] == (
        "소속 도시의 회원 자격이 유효하지 않으므로 도시를 대표하여 활동할 수 없습니다."
    )
    client.get("/language/ko")  # the site in Korean for this browser
    english = api.post("/resources", token=token, json=body, headers={"Accept-Language": "en"})
    assert english.get_json()["error"]["message"] == NOT_ACTIVE
    # the audit record keeps the English text whatever the caller's language
    assert {e.reason for e in audit_events(app, "api_request_refused")} == {NOT_ACTIVE}
