"""Every write endpoint against every kind of caller: no token, a read token, a write token of
another city (where the city's ownership decides), a write token of a suspended city, and the right
write token. Each refusal is clear, stores nothing, and is audited; only the last one acts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from cacnet.core.db import db
from cacnet.resources.models import ResourcePost, ResourceResponse, ResponseMessage
from tests.api.conftest import audit_events, suspend
from tests.resources.conftest import user


@dataclass(frozen=True)
class Write:
    path: str  # with {post} and {response} to fill in
    body: dict
    actor: str  # the city whose delegate may do it
    other: str | None  # a city that sees the object but does not own it
    other_message: str | None
    ok: int
    outcome: str  # what the success leaves behind (checked in test_the_right_token_acts)


NEW_POST = {
    "kind": "request",
    "category": "test-kits",
    "title_en": "Reagents",
    "quantity": "100",
    "unit": "kits",
    "expires_on": (date.today() + timedelta(days=10)).isoformat(),
}

WRITES = {
    "create post": Write("/resources", NEW_POST, "Seoul", None, None, 201, "posted"),
    "respond": Write(
        "/resources/{post}/responses",
        {"quantity": "5", "message": "We can help"},
        "Jakarta",
        "Seoul",
        "You cannot respond to your own city's post.",
        201,
        "responded",
    ),
    "accept": Write(
        "/responses/{response}/accept",
        {"quantity": "10"},
        "Seoul",
        "London",
        "Only the city that posted this can do that.",
        200,
        "accepted",
    ),
    "decline": Write(
        "/responses/{response}/decline",
        {"message": "Found elsewhere"},
        "Seoul",
        "London",
        "Only the city that posted this can do that.",
        200,
        "declined",
    ),
    "withdraw response": Write(
        "/responses/{response}/withdraw",
        {},
        "London",
        "Seoul",
        "Only the city that responded can withdraw the response.",
        200,
        "response withdrawn",
    ),
    "withdraw post": Write(
        "/resources/{post}/withdraw",
        {},
        "Seoul",
        "London",
        "Only the city that posted this can do that.",
        200,
        "post withdrawn",
    ),
}

CALLERS = ["no token", "read token", "other city", "suspended city", "right token"]
MATRIX = [
    pytest.param(endpoint, caller, id=f"{endpoint}-{caller}")
    for endpoint, write in WRITES.items()
    for caller in CALLERS
    if not (caller == "other city" and write.other is None)
]


@pytest.fixture
def world(app, exchange, make_post):
    """Seoul requests 100 test kits; London has offered 10 (waiting for Seoul's answer)."""
    from cacnet.resources import services

    post_uuid = make_post(exchange["Seoul"]["delegate"], quantity="100")
    with app.test_request_context(base_url="http://localhost"):
        post = db.session.scalar(select(ResourcePost).where(ResourcePost.uuid == post_uuid))
        response = services.respond(user(exchange["London"]["delegate"]), post, "10", "Ten kits")
        db.session.commit()
        return {"post": post_uuid, "response": response.uuid}


def snapshot(app) -> tuple:
    """Everything a write could change."""
    with app.app_context():
        posts = db.session.execute(
            select(ResourcePost.uuid, ResourcePost.state, ResourcePost.city_id)
        ).all()
        responses = db.session.execute(
            select(
                ResourceResponse.uuid,
                ResourceResponse.state,
                ResourceResponse.city_id,
                ResourceResponse.accepted_quantity,
            )
        ).all()
        messages = db.session.scalars(select(ResponseMessage.body)).all()
        return sorted(posts), sorted(responses), sorted(messages)


@pytest.mark.parametrize(("endpoint", "caller"), MATRIX)
def test_write_matrix(app, api, exchange, world, make_token, endpoint, caller):
    write = WRITES[endpoint]
    path = write.path.format(**world)
    actor = exchange[write.actor]
    token = None
    if caller == "read token":
        token = make_token(actor["delegate"], scope="read")
    elif caller == "other city":
        token = make_token(exchange[write.other]["delegate"], scope="write")
    elif caller in ("suspended city", "right token"):
        token = make_token(actor["delegate"], scope="write")
        if caller == "suspended city":
            suspend(app, actor["city_id"])
    before = snapshot(app)

    answer = api.post(path, token=token, json=write.body)
    error = (answer.get_json() or {}).get("error")

    if caller == "right token":
        assert answer.status_code == write.ok, answer.get_json()
        assert snapshot(app) != before
        return
    assert snapshot(app) == before, "a refused write must store nothing"
    if caller == "no token":
        assert answer.status_code == 401 and error["code"] == "unauthorized"
        assert answer.headers["WWW-Authenticate"] == 'Bearer realm="cacnet"'
    elif caller == "read token":
        assert answer.status_code == 403 and error["code"] == "insufficient_scope"
        assert 'error="insufficient_scope"' in answer.headers["WWW-Authenticate"]
        assert [e.details["path"] for e in audit_events(app, "api_scope_refused")] == [
            "/api/v1" + path
        ]
    elif caller == "other city":
        assert answer.status_code == 403 and error["code"] == "forbidden"
        assert error["message"] == write.other_message
        (event,) = audit_events(app, "api_request_refused")
        assert event.reason == write.other_message
        assert event.details["path"] == "/api/v1" + path
        assert event.object_type in ("resource_posts", "resource_responses")
    elif caller == "suspended city":
        assert answer.status_code == 403 and error["code"] == "forbidden"
        assert error["message"] == (
            "Your city's membership is not active, so you cannot act for the city."
        )
        assert len(audit_events(app, "api_request_refused")) == 1


@pytest.mark.parametrize("endpoint", list(WRITES))
def test_the_right_token_acts_through_the_service(app, api, exchange, world, make_token, endpoint):
    """The success leaves what the page's action leaves, audited by the service as the owner."""
    write = WRITES[endpoint]
    token = make_token(exchange[write.actor]["delegate"])
    answer = api.post(write.path.format(**world), token=token, json=write.body)
    body = answer.get_json()
    with app.app_context():
        actor_id = user(exchange[write.actor]["delegate"]).id
        if write.outcome == "posted":
            assert answer.headers["Location"].endswith(f"/api/v1/resources/{body['id']}")
            post = db.session.scalar(select(ResourcePost).where(ResourcePost.uuid == body["id"]))
            assert post.city_id == exchange["Seoul"]["city_id"] and post.author_id == actor_id
            assert body["quantity"] == "100" and body["state"] == "open"
        elif write.outcome == "responded":
            assert body["state"] == "pending" and body["city"]["slug"] == "jakarta-id"
            assert body["messages"][0]["body"] == "We can help"
        elif write.outcome == "accepted":
            assert body["state"] == "accepted" and body["accepted_quantity"] == "10"
        elif write.outcome == "declined":
            assert body["state"] == "declined"
            assert body["messages"][-1]["body"] == "Found elsewhere"
        elif write.outcome == "response withdrawn":
            assert body["state"] == "withdrawn"
        else:
            assert body["state"] == "withdrawn" and body["responses"][0]["state"] == "declined"
    service_actions = {
        "posted": "resource_post_created",
        "responded": "resource_response_created",
        "accepted": "resource_response_accepted",
        "declined": "resource_response_declined",
        "response withdrawn": "resource_response_withdrawn",
        "post withdrawn": "resource_post_withdrawn",
    }
    events = audit_events(app, service_actions[write.outcome])
    assert events[-1].actor_id == actor_id


def test_a_city_cannot_reach_a_response_it_is_not_a_side_of(app, api, exchange, world, make_token):
    """Jakarta's token finds neither London's response nor a made-up post: 404, as on the pages."""
    token = make_token(exchange["Jakarta"]["delegate"])
    before = snapshot(app)
    answer = api.post(f"/responses/{world['response']}/accept", token=token, json={})
    assert answer.status_code == 404 and answer.get_json()["error"]["code"] == "not_found"
    missing = api.post(
        "/resources/00000000-0000-0000-0000-000000000000/responses",
        token=token,
        json={"quantity": "1"},
    )
    assert missing.status_code == 404
    assert snapshot(app) == before


def test_a_conflict_is_409_with_the_services_message(app, api, exchange, world, make_token):
    token = make_token(exchange["Seoul"]["delegate"])
    assert (
        api.post(f"/responses/{world['response']}/decline", token=token, json={}).status_code == 200
    )
    again = api.post(f"/responses/{world['response']}/accept", token=token, json={})
    assert again.status_code == 409
    assert again.get_json()["error"] == {
        "code": "conflict",
        "message": "This response has already been answered or withdrawn.",
        "fields": {},
    }
