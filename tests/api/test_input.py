"""Bad input gets a clear refusal in the one error shape and stores nothing: malformed JSON, unknown
fields, wrong types, a huge body, another content type, bad query parameters, a bad cursor."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.test import EnvironBuilder

from cacnet.core.db import db
from cacnet.resources.models import ResourcePost

EXPIRES = (date.today() + timedelta(days=20)).isoformat()
GOOD = {
    "kind": "offer",
    "category": "test-kits",
    "title_en": "Spare kits",
    "quantity": "40",
    "unit": "kits",
    "expires_on": EXPIRES,
}


@pytest.fixture
def seoul(exchange, make_token):
    return make_token(exchange["Seoul"]["delegate"])


def posts(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(ResourcePost.id)))


def error_of(response) -> dict:
    return response.get_json()["error"]


def test_malformed_json_is_refused(app, api, seoul):
    for raw in (
        '{"kind": "offer", ',
        "{'kind': 'offer'}",
        '{"quantity": NaN}',
        "\xff\xfe{}",
        "[" * 50_000,
    ):
        answer = api.post("/resources", token=seoul, data=raw, content_type="application/json")
        assert answer.status_code == 400, raw[:20]
        assert error_of(answer) == {
            "code": "malformed_json",
            "message": "The request body is not valid JSON.",
            "fields": {},
        }
    not_an_object = api.post("/resources", token=seoul, json=[GOOD])
    assert not_an_object.status_code == 400
    assert error_of(not_an_object)["message"] == "The request body must be a JSON object."
    assert posts(app) == 0


def test_unknown_fields_wrong_types_and_missing_fields_each_get_a_message(app, api, seoul):
    answer = api.post(
        "/resources",
        token=seoul,
        json={
            **GOOD,
            "city_id": 3,
            "kind": "gift",
            "quantity": [1],
            "title_en": 7,
            "expires_on": "next week",
            "unit": None,
            "contact_id": "2",
        },
    )
    assert answer.status_code == 400
    error = error_of(answer)
    assert error["code"] == "invalid" and error["message"] == "Please correct the marked fields."
    assert error["fields"] == {
        "city_id": ["Unknown field."],
        "contact_id": ["Wrong type: expected integer or null."],
        "expires_on": ["Give a date as YYYY-MM-DD."],
        "kind": ["Choose one of: offer, request."],
        "quantity": ["Wrong type: expected string or number."],
        "title_en": ["Wrong type: expected string."],
        "unit": [
            "Choose one of: people, person_days, pieces, boxes, kits, doses, litres, kilograms, "
            "cylinders, units, documents, sessions."
        ],
    }
    missing = api.post("/resources", token=seoul, json={"title_en": "x" * 201})
    assert error_of(missing)["fields"] == {
        "category": ["This field is required."],
        "expires_on": ["This field is required."],
        "kind": ["This field is required."],
        "quantity": ["This field is required."],
        "title_en": ["Use at most 200 characters."],
        "unit": ["This field is required."],
    }
    assert posts(app) == 0


def test_the_services_own_checks_name_the_api_fields(app, api, seoul):
    wrong_category = api.post("/resources", token=seoul, json={**GOOD, "category": "no-such"})
    assert wrong_category.status_code == 400
    assert error_of(wrong_category)["fields"] == {"category": ["Choose a category."]}
    bad_quantity = api.post("/resources", token=seoul, json={**GOOD, "quantity": "1e5"})
    assert error_of(bad_quantity)["fields"] == {
        "quantity": ["Give a quantity as a positive number with at most two decimals."]
    }
    past = api.post("/resources", token=seoul, json={**GOOD, "expires_on": "2000-01-01"})
    assert error_of(past)["fields"] == {"expires_on": ["The expiry date cannot be in the past."]}
    assert posts(app) == 0
    as_number = api.post("/resources", token=seoul, json={**GOOD, "quantity": 12.5})
    assert as_number.status_code == 201 and as_number.get_json()["quantity"] == "12.50"


def test_a_huge_body_and_other_content_types_are_refused(app, api, seoul):
    huge = api.post("/resources", token=seoul, json={**GOOD, "description_en": "x" * 70_000})
    assert huge.status_code == 413
    assert error_of(huge) == {
        "code": "too_large",
        "message": "The request body is too large: at most 64 KB.",
        "fields": {},
    }

    # A chunked body (no Content-Length) is bounded too.
    builder = EnvironBuilder(
        path="/api/v1/resources",
        method="POST",
        headers={"Authorization": f"Bearer {seoul}"},
        input_stream=io.BytesIO(json.dumps({**GOOD, "description_en": "y" * 70_000}).encode()),
        content_type="application/json",
    )
    environ = builder.get_environ()
    del environ["CONTENT_LENGTH"]
    environ["wsgi.input_terminated"] = True
    assert api.client.open(environ).status_code == 413

    form = api.post("/resources", token=seoul, data=GOOD)  # a form, not JSON
    assert form.status_code == 415 and error_of(form)["code"] == "unsupported_media_type"
    text = api.post("/resources", token=seoul, data=json.dumps(GOOD), content_type="text/plain")
    assert text.status_code == 415
    assert posts(app) == 0


def test_an_action_without_fields_takes_an_empty_body_or_none(api, exchange, make_post, seoul):
    first = make_post(exchange["Seoul"]["delegate"])
    second = make_post(exchange["Seoul"]["delegate"])
    assert api.post(f"/resources/{first}/withdraw", token=seoul).status_code == 200
    extra = api.post(f"/resources/{second}/withdraw", token=seoul, json={"reason": "x"})
    assert extra.status_code == 400
    assert error_of(extra)["fields"] == {"reason": ["Unknown field."]}


def test_query_parameters_are_checked_against_the_document(api, seoul):
    bad = api.get("/resources?kind=gift&limit=1000&urgency=soon", token=seoul)
    assert bad.status_code == 400
    assert error_of(bad)["fields"] == {
        "kind": ["Choose one of: offer, request."],
        "limit": ["Give at most 100."],
        "urgency": ["Choose one of: critical, high, normal."],
    }
    assert error_of(api.get("/cities?limit=ten"))["fields"] == {
        "limit": ["Wrong type: expected integer."]
    }
    assert error_of(api.get("/cities?sort=name&sort=country"))["fields"] == {
        "sort": ["Give this parameter once."]
    }
    assert api.get("/cities?unknown=ignored").status_code == 200


@pytest.mark.parametrize(
    "cursor",
    [
        "%%%",
        "bm90IGpzb24",
        "WzEsMl0",
        "WyJuYW1lIixbMSwyXV0",
        "WyJjb3VudHJ5IixbIkEiLCJCIiwxXV0",
        "WyJuYW1lIixbIlNlb3VsIiwidHdvIl1d",
        "x" * 1001,
    ],
    ids=[
        "not base64",
        "not json",
        "not a pair",
        "wrong types",
        "another sort",
        "id not int",
        "too long",
    ],
)
def test_a_bad_cursor_is_refused(api, exchange, cursor):
    answer = api.get(f"/cities?cursor={cursor}")
    assert answer.status_code == 400
    assert error_of(answer)["code"] in ("invalid_cursor", "invalid")
    if len(cursor) <= 1000:
        assert error_of(answer)["code"] == "invalid_cursor"


def test_messages_follow_accept_language(api, seoul):
    headers = {"Accept-Language": "ko-KR,ko;q=0.9"}
    answer = api.post("/resources", token=seoul, json={"title_en": "Kits"}, headers=headers)
    error = error_of(answer)
    assert error["message"] == "표시된 항목을 수정하십시오."
    assert error["fields"]["kind"] == ["필수 입력 항목입니다."]
    wrong = api.post("/resources", token=seoul, json={**GOOD, "category": "x"}, headers=headers)
    assert error_of(wrong)["fields"] == {"category": ["분류를 선택하십시오."]}
