"""The header search: one query, hits grouped and labelled by kind, in either language."""

from __future__ import annotations

import re

from tests.conftest import login


def _hits(html: str, kind_label: str) -> list[str]:
    """The titles listed under the group headed ``kind_label``."""
    match = re.search(
        rf'<h2 id="search-kind-\w+">{re.escape(kind_label)}</h2>\s*<ul class="search-hits">(.*?)</ul>',
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
