"""The public read endpoints (cities, the Statement, signatories) and the token's reads (its city,
the board, a post): the same data as the pages, paged by cursor without gaps or repeats; CORS on the
public reads only; rate limits with Retry-After; the document and its browsable docs agree with
the routes."""

from __future__ import annotations

import html
import re

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import select

from cacnet.core.db import db
from tests.api.conftest import audit_events, suspend
from tests.resources.conftest import user
from tests.statement.test_endorsements import data, signature  # noqa: F401
from tests.statement.test_signatory_list import signed  # noqa: F401 - fixture
from tests.statement.test_versions import version_1  # noqa: F401 - fixture

CITIES = [
    ("Seoul", "KR"),
    ("Busan", "KR"),
    ("London", "GB"),
    ("Paris", "FR"),
    ("Jakarta", "ID"),
    ("Bogotá", "CO"),
    ("Accra", "GH"),
]


def walk(api, path: str, token=None, limit: int = 2) -> list[dict]:
    """Every item of a list endpoint, following next_cursor; asserts pages are full but the last."""
    items, cursor, pages = [], None, 0
    while True:
        sep = "&" if "?" in path else "?"
        url = f"{path}{sep}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        answer = api.get(url, token=token)
        assert answer.status_code == 200, answer.get_json()
        body = answer.get_json()
        items += body["data"]
        cursor, pages = body["next_cursor"], pages + 1
        if cursor is None:
            return items
        assert len(body["data"]) == limit
        assert pages < 50


@pytest.fixture
def cities(create_member_city):
    return {name: create_member_city(name, country)[0] for name, country in CITIES}


def test_the_directory_walks_every_city_once_in_each_order(app, api, cities):
    by_name = walk(api, "/cities")
    assert [c["name_en"] for c in by_name] == sorted(name for name, _country in CITIES)
    assert len({c["slug"] for c in by_name}) == len(CITIES)
    newest = walk(api, "/cities?sort=newest", limit=3)
    assert [c["name_en"] for c in newest] == [name for name, _country in reversed(CITIES)]
    by_country = walk(api, "/cities?sort=country", limit=1)
    assert [(c["country_code"], c["name_en"]) for c in by_country] == sorted(
        (country, name) for name, country in CITIES
    )
    assert [c["name_en"] for c in walk(api, "/cities?country=kr")] == ["Busan", "Seoul"]
    assert [c["name_en"] for c in walk(api, "/cities?region=europe")] == ["London", "Paris"]
    assert [c["name_en"] for c in walk(api, "/cities?q=bogota")] == ["Bogotá"]
    seoul = next(c for c in by_name if c["slug"] == "seoul-kr")
    assert seoul["membership"] == "approved" and seoul["url"].endswith("/cities/seoul-kr")


def test_a_city_shows_public_contacts_and_the_callers_own_city_all_of_its_own(
    app, api, exchange, make_token
):
    from cacnet.cities import services as cities_services
    from cacnet.cities.models import City

    with app.test_request_context(base_url="http://localhost"):
        admin = user(exchange["Seoul"]["admin"])
        seoul = db.session.get(City, exchange["Seoul"]["city_id"])
        for name, visibility in (
            ("Public Kim", "public"),
            ("Member Lee", "members"),
            ("Staff Park", "secretariat"),
        ):
            cities_services.add_contact(
                admin,
                seoul,
                cities_services.ContactData(
                    name=name,
                    email=f"{name.split()[1].lower()}@seoul.example",
                    visibility=visibility,
                ),
            )
        db.session.commit()

    public = api.get("/cities/seoul-kr")
    assert public.status_code == 200
    assert [c["name"] for c in public.get_json()["contacts"]] == ["Public Kim"]
    assert "id" not in public.get_json()["contacts"][0]
    london = make_token(exchange["London"]["delegate"], scope="read")
    as_london = api.get("/cities/seoul-kr", token=london)  # the public endpoint ignores tokens
    assert [c["name"] for c in as_london.get_json()["contacts"]] == ["Public Kim"]

    seoul_token = make_token(exchange["Seoul"]["delegate"], scope="read")
    own = api.get("/city", token=seoul_token).get_json()
    assert [(c["name"], c["visibility"]) for c in own["contacts"]] == [
        ("Public Kim", "public"),
        ("Member Lee", "members"),
        ("Staff Park", "secretariat"),
    ]
    assert all(isinstance(c["id"], int) for c in own["contacts"])

    suspend(app, exchange["Seoul"]["city_id"])
    assert api.get("/cities/seoul-kr").get_json()["membership"] == "approved"  # as on the page
    assert api.get("/city", token=seoul_token).get_json()["membership"] == "suspended"

    with app.app_context():
        db.session.get(City, exchange["Jakarta"]["city_id"]).merged_into_id = exchange["Seoul"][
            "city_id"
        ]
        db.session.commit()
    moved = api.get("/cities/jakarta-id")
    assert moved.status_code == 301 and moved.headers["Location"].endswith(
        "/api/v1/cities/seoul-kr"
    )
    missing = api.get("/cities/atlantis-xx")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"


def test_the_statement_and_its_versions(api, version_1):  # noqa: F811
    current = api.get("/statement").get_json()
    assert current["number"] == 1 and current["text_sha256"] == version_1
    assert current["signatory_count"] == 0 and "mayors" in current["body_en"]
    assert [v["number"] for v in walk(api, "/statement/versions")] == [1]
    assert api.get("/statement/versions/1").get_json()["title_ko"] == current["title_ko"]
    assert api.get("/statement/versions/2").status_code == 404


def test_signatories_are_the_open_data_records_page_by_page(client, api, signed):  # noqa: F811
    open_data = client.get("/signatories.json").get_json()
    paged = walk(api, "/signatories", limit=1)
    assert paged == open_data["signatories"]  # the same records, in the same order
    assert {r["state"] for r in paged} == {"verified", "withdrawn"}
    by_city = walk(api, "/signatories?sort=city")
    assert [r["city"] for r in by_city] == ["Budapest", "Moscow", "Seoul"]
    assert [r["city"] for r in walk(api, "/signatories?country=ru")] == ["Moscow"]
    first = api.get("/signatories?limit=1").get_json()
    assert first["version"]["number"] == 1 and first["next_cursor"]
    assert api.get("/signatories?version=9").status_code == 404


def test_the_board_and_a_post_as_the_pages_show_them(app, api, exchange, make_post, make_token):
    from cacnet.resources import services
    from cacnet.resources.models import ResourcePost

    seoul, london = exchange["Seoul"]["delegate"], exchange["London"]["delegate"]
    uuids = [
        make_post(seoul, urgency=u, title_en=f"Seoul {u}")
        for u in ("normal", "critical", "high", "normal")
    ]
    uuids += [make_post(london, kind="offer", title_en=f"London {n}") for n in range(3)]
    jakarta = make_token(exchange["Jakarta"]["delegate"], scope="read")

    with app.test_request_context():
        board = db.session.scalars(
            services.board_select(user(exchange["Jakarta"]["delegate"]), services.BoardQuery())
        )
        expected = [p.uuid for p in board]
    assert [p["id"] for p in walk(api, "/resources", token=jakarta)] == expected
    newest = walk(api, "/resources?sort=newest", token=jakarta, limit=3)
    assert [p["id"] for p in newest] == list(reversed(uuids))
    offers = walk(api, "/resources?kind=offer", token=jakarta)
    assert {p["city"]["slug"] for p in offers} == {"london-gb"} and len(offers) == 3
    assert len(walk(api, "/resources?city=seoul-kr&urgency=normal", token=jakarta)) == 2
    assert walk(api, "/resources?city=nowhere", token=jakarta) == []
    assert [p["title_en"] for p in walk(api, "/resources?q=critical", token=jakarta)] == [
        "Seoul critical"
    ]

    with app.test_request_context(base_url="http://localhost"):
        post = db.session.scalar(select(ResourcePost).where(ResourcePost.uuid == uuids[0]))
        services.respond(user(london), post, "40", "Forty from London")
        services.respond(user(exchange["Jakarta"]["delegate"]), post, "5")
        db.session.commit()
    as_poster = api.get(f"/resources/{uuids[0]}", token=make_token(seoul, scope="read")).get_json()
    assert [r["city"]["slug"] for r in as_poster["responses"]] == ["london-gb", "jakarta-id"]
    assert as_poster["responses"][0]["messages"][0]["body"] == "Forty from London"
    as_london = api.get(f"/resources/{uuids[0]}", token=make_token(london, scope="read"))
    assert [r["city"]["slug"] for r in as_london.get_json()["responses"]] == ["london-gb"]
    assert as_london.get_json()["quantity"] == "10000" and as_london.get_json()["remaining"] == (
        "10000"
    )


def test_the_exchange_is_for_members_only(app, api, exchange, make_post, make_token):
    from cacnet.accounts import services as accounts
    from tests.conftest import PASSWORD

    uuid = make_post(exchange["Seoul"]["delegate"])
    with app.app_context():  # an applicant: an account without a city
        accounts.register_applicant(
            "visitor@example.org", name="Visitor", title="", password=PASSWORD, locale="en"
        )
        db.session.commit()
    token = make_token("visitor@example.org", scope="read")
    assert api.get("/me", token=token).status_code == 200
    board = api.get("/resources", token=token)
    assert board.status_code == 403
    assert board.get_json()["error"]["message"] == (
        "The resource exchange is for delegates of member cities."
    )
    assert api.get(f"/resources/{uuid}", token=token).status_code == 403
    assert api.get("/city", token=token).status_code == 404
    assert len(audit_events(app, "api_request_refused")) == 2


PUBLIC_GETS = [
    "/cities",
    "/cities/seoul-kr",
    "/cities/nowhere-xx",
    "/statement",
    "/statement/versions",
    "/statement/versions/1",
    "/signatories",
    "/openapi.json",
]


def test_cors_headers_on_public_reads_only(app, api, exchange, make_post, make_token, version_1):  # noqa: F811
    origin = {"Origin": "https://dashboard.example"}
    for path in PUBLIC_GETS:
        answer = api.get(path, headers=origin)
        assert answer.headers.get("Access-Control-Allow-Origin") == "*", path
        assert "Access-Control-Allow-Credentials" not in answer.headers
    preflight = api.client.options(
        "/api/v1/cities", headers={**origin, "Access-Control-Request-Method": "GET"}
    )
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" not in preflight.headers["Access-Control-Allow-Methods"]

    token = make_token(exchange["Seoul"]["delegate"])
    uuid = make_post(exchange["Seoul"]["delegate"])
    for answer in (
        api.get("/me", token=token, headers=origin),
        api.get("/city", token=token, headers=origin),
        api.get("/resources", token=token, headers=origin),
        api.get(f"/resources/{uuid}", token=token, headers=origin),
        api.get("/me", headers=origin),
        api.post(f"/resources/{uuid}/withdraw", token=token, headers=origin, json={}),
        api.post("/verify", headers=origin, data=b"%PDF-", content_type="application/pdf"),
        api.client.options(
            "/api/v1/resources",
            headers={
                **origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization",
            },
        ),
    ):
        assert "Access-Control-Allow-Origin" not in answer.headers, answer.request.path


def test_rate_limits_answer_429_with_the_time_to_wait(app, api, exchange, make_token, monkeypatch):
    monkeypatch.setitem(app.config, "API_LIMIT_PUBLIC", "2 per hour")
    assert api.get("/cities").status_code == 200
    assert api.get("/statement/versions").status_code == 200  # one budget for the public reads
    limited = api.get("/cities")
    assert limited.status_code == 429
    assert limited.get_json()["error"]["code"] == "rate_limited"
    wait = int(limited.headers["Retry-After"])
    assert 60 < wait <= 3600  # the hour's window, not a fixed minute

    monkeypatch.setitem(app.config, "API_LIMIT_TOKEN", "3 per minute")
    first = make_token(exchange["Seoul"]["delegate"], scope="read")
    second = make_token(exchange["London"]["delegate"], scope="read")
    for _n in range(3):
        assert api.get("/me", token=first).status_code == 200
    limited = api.get("/resources", token=first)
    assert limited.status_code == 429
    assert 0 < int(limited.headers["Retry-After"]) <= 60
    assert api.get("/me", token=second).status_code == 200  # each token has its own budget


def test_the_docs_page_renders_the_document_without_scripts(client):
    from cacnet.api.schemas import openapi

    answer = client.get("/api/v1/docs")
    assert answer.status_code == 200
    page = html.unescape(answer.get_data(as_text=True))
    for _operation_id, (_method, route, operation) in openapi.operations().items():
        assert f"/api/v1{route}" in page and operation["summary"] in page
        assert f'id="{operation["operationId"]}"' in page
    assert "Authorization: Bearer" in page and 'id="schema-PostCreate"' in page
    assert 'curl -X POST -H "Authorization: Bearer $CACNET_TOKEN"' in page
    assert "<script" not in page and "style=" not in page and "<style" not in page
    assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
    assert "cdn" not in page.lower()


def _flask_to_openapi(rule: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.removeprefix("/api/v1"))


def test_every_route_is_documented_and_every_documented_path_is_served(app, client):
    from cacnet.api.schemas import openapi

    served = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") and rule.endpoint != "api.docs":
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                served.add((method.lower(), _flask_to_openapi(rule.rule)))
                assert openapi.operations()[rule.endpoint.removeprefix("api.")]
    documented = {(method, route) for method, route, _op in openapi.operations().values()}
    assert served == documented
    assert client.get("/api/v1/openapi.json").get_json() == openapi.document()


def test_the_request_schemas_are_closed_and_valid_json_schema():
    from cacnet.api.schemas import openapi

    document = openapi.document()
    for name in openapi.REQUEST_SCHEMAS:
        schema = openapi.request_schema(name)
        Draft202012Validator.check_schema(schema)
        assert schema["additionalProperties"] is False and "$ref" not in str(schema)
    names = set(document["components"]["schemas"])
    refs = set(re.findall(r"#/components/schemas/(\w+)", str(document)))
    assert refs <= names
    for operation_id, (_method, _route, operation) in openapi.operations().items():
        assert operation_id == operation["operationId"]
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body:
            schema_name = body["schema"]["$ref"].rsplit("/", 1)[-1]
            assert schema_name in openapi.REQUEST_SCHEMAS
            validator = Draft202012Validator(openapi.request_schema(schema_name))
            assert validator.is_valid(body["example"]), operation_id


def test_verify_keeps_its_answers(api):
    """POST /verify (issue 5) keeps its shape; tests/statement/test_documents.py checks sealed
    files."""
    answer = api.post("/verify", data=b"hello", content_type="application/pdf")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["genuine"] is False and body["code"] == "not_pdf" and body["document"] is None
    empty = api.post("/verify", data=b"", content_type="application/pdf")
    assert empty.status_code == 400
    assert empty.get_json()["error"] == {
        "code": "no_file",
        "message": "Choose a PDF file.",
        "fields": {"file": ["Choose a PDF file."]},
    }
