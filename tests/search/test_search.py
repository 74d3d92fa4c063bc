"""The header search: one query, hits grouped and labelled by kind, in either language."""

from __future__ import annotations

import re

import pytest

from tests.conftest import login
from tests.statement.test_versions import version_1  # noqa: F401 - fixture

KINDS = {"Member cities": "city", "Library cases": "case", "News": "news", "Events": "event",
         "Products": "product"}  # fmt: skip


def _hits(html: str, kind_label: str) -> list[str]:
    """The titles listed under the group of ``kind_label`` (the English label; the group's id
    names the kind in any language)."""
    match = re.search(
        rf'<h2 id="search-kind-{KINDS[kind_label]}">[^<]+</h2>\s*<ul class="search-hits">(.*?)</ul>',
        html,
        re.S,
    )
    if not match:
        return []
    return [t.strip() for t in re.findall(r"<a href=\"[^\"]+\"[^>]*>([^<]+)</a>", match.group(1))]


def test_the_header_carries_the_search_on_every_page(client):
    html = client.get("/").get_data(as_text=True)
    assert 'role="search"' in html and 'action="/search"' in html


def test_cities_by_english_and_local_name(client, create_member_city):
    create_member_city("Seoul", "KR", name_local="서울")
    create_member_city("Hanoi", "VN", name_local="Hà Nội")
    html = client.get("/search?q=seoul").get_data(as_text=True)
    assert _hits(html, "Member cities") == ["Seoul (서울)"]
    assert 'class="badge search-kind">Member cities' in html
    assert _hits(client.get("/search?q=서울").get_data(as_text=True), "Member cities") == [
        "Seoul (서울)"
    ]
    # accents and case folded, as in the directory
    assert _hits(client.get("/search?q=HA+NOI").get_data(as_text=True), "Member cities") == [
        "Hanoi (Hà Nội)"
    ]


def test_nothing_found_says_so_and_markup_in_the_query_is_only_text(client, create_member_city):
    create_member_city("Seoul", "KR")
    response = client.get("/search?q=<script>alert(1)</script>")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html
    assert "Nothing found" in html


def test_empty_and_overlong_queries(client, create_member_city):
    create_member_city("Seoul", "KR")
    html = client.get("/search?q=+++").get_data(as_text=True)
    assert "Nothing found" not in html and 'id="search-kind-' not in html
    long = "seoul" + "x" * 500
    assert client.get(f"/search?q={long}").status_code == 200


def test_one_kind_and_a_korean_page(client, create_member_city):
    for n in range(7):
        create_member_city(f"Seoul {n}", "KR")
    html = client.get("/search?q=seoul").get_data(as_text=True)
    assert len(_hits(html, "Member cities")) == 5
    assert "kind=city" in html  # more of this kind
    html = client.get("/search?q=seoul&kind=city").get_data(as_text=True)
    assert len(_hits(html, "Member cities")) == 7
    client.get("/language/ko")
    html = client.get("/search?q=seoul").get_data(as_text=True)
    assert '<html lang="ko">' in html
    assert "Seoul 0" in html


def test_a_signed_in_delegate_finds_the_same_cities(client, create_member_city):
    create_member_city("Seoul", "KR")
    _city, admin = create_member_city("Hanoi", "VN")
    login(client, admin)
    html = client.get("/search?q=seoul").get_data(as_text=True)
    assert _hits(html, "Member cities") == ["Seoul"]


# --- every kind, on the demo data -------------------------------------------------------------


@pytest.fixture
def demo(app, version_1):  # noqa: F811
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output


def test_one_query_finds_every_kind_labelled_in_either_language(client, demo):
    html = client.get("/search?q=seoul").get_data(as_text=True)
    assert "Seoul (서울)" in _hits(html, "Member cities") or "Seoul" in " ".join(
        _hits(html, "Member cities")
    )
    assert _hits(html, "Library cases") and _hits(html, "News") and _hits(html, "Events")
    # Korean words find the same library case as its English title
    english = _hits(client.get("/search?q=drive-through").get_data(as_text=True), "Library cases")
    korean = _hits(client.get("/search?q=드라이브스루").get_data(as_text=True), "Library cases")
    assert english and korean
    products = _hits(client.get("/search?q=RT-PCR").get_data(as_text=True), "Products")
    assert products
    html = client.get("/search?q=summit").get_data(as_text=True)
    assert _hits(html, "Events") and 'class="badge search-kind">Events' in html


def test_members_only_cases_are_found_by_members_only(client, demo):
    assert not _hits(
        client.get("/search?q=contact+tracing").get_data(as_text=True), "Library cases"
    )
    login(client, "seoul.delegate@cities.example", password="Together-We-Stand-2020")
    assert _hits(client.get("/search?q=contact+tracing").get_data(as_text=True), "Library cases")
