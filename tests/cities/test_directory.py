"""The public directory: search in any script, filters that combine, stable pages, and a fixed
number of queries whatever the page size."""

import re

import pytest
from sqlalchemy import select

from cacnet.cities.models import City
from cacnet.core.db import db
from tests.conftest import login

CITIES = [
    ("Seoul", "서울특별시", "KR", 9_411_000),
    ("Busan", "부산광역시", "KR", 3_400_000),
    ("Hanoi", "Hà Nội", "VN", 8_054_000),
    ("Moscow", "Москва", "RU", 12_655_000),
    ("London", "", "GB", 8_982_000),
    ("São Paulo", "São Paulo", "BR", 12_300_000),
    ("Toronto", "", "CA", 2_794_000),
]


@pytest.fixture
def cities(app, create_member_city):
    ids = {}
    for name, local, country, population in CITIES:
        city_id, _ = create_member_city(name, country, name_local=local)
        ids[name] = city_id
        with app.app_context():
            db.session.get(City, city_id).population = population
            db.session.commit()
    return ids


def names(client, query=""):
    html = client.get(f"/cities/{query}").get_data(as_text=True)
    table = html.split("<tbody>")[1].split("</tbody>")[0] if "<tbody>" in html else ""
    return re.findall(r'<a href="/cities/[^"]+">([^<]+)</a>', table)


@pytest.mark.parametrize("q", ["seoul", "SEOUL", "Seo", "서울", "서울특별시", "%EC%84%9C%EC%9A%B8"])
def test_search_finds_seoul_in_any_script_and_case(client, cities, q):
    assert names(client, f"?q={q}") == ["Seoul"]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("ha noi", ["Hanoi"]),
        ("Hà Nội", ["Hanoi"]),
        ("москва", ["Moscow"]),
        ("MOSKVA", []),
        ("sao paulo", ["São Paulo"]),
        ("%", []),
        ("_", []),
    ],
)
def test_search_ignores_accents_and_escapes_wildcards(client, cities, q, expected):
    assert names(client, f"?q={q}") == expected


def test_filters_combine(client, cities):
    assert names(client, "?country=KR") == ["Busan", "Seoul"]
    assert names(client, "?region=asia") == ["Busan", "Hanoi", "Seoul"]
    assert names(client, "?region=asia&country=KR&q=bu") == ["Busan"]
    assert names(client, "?region=europe") == ["London", "Moscow"]
    assert names(client, "?region=americas&sort=population") == ["São Paulo", "Toronto"]
    assert names(client, "?region=atlantis") == sorted(n for n, *_ in CITIES)  # ignored


def test_sorting(client, cities):
    assert names(client, "?sort=population")[:3] == ["Moscow", "São Paulo", "Seoul"]
    # By country code (BR, CA, GB, KR, RU, VN), then name.
    assert names(client, "?sort=country") == [
        "São Paulo",
        "Toronto",
        "London",
        "Busan",
        "Seoul",
        "Moscow",
        "Hanoi",
    ]


def test_pagination_is_stable_and_complete(client, cities):
    seen = []
    for page in (1, 2, 3, 4):
        seen += names(client, f"?per_page=20&page={page}")
    assert seen == sorted(n for n, *_ in CITIES)
    # Out of range pages are empty, not errors.
    assert client.get("/cities/?page=999").status_code == 200
    assert client.get("/cities/?page=-1&per_page=abc&sort=evil").status_code == 200


def test_withdrawn_cities_are_listed_apart(app, client, cities, secretariat):
    from cacnet.accounts.models import User
    from cacnet.membership import services
    from cacnet.membership.models import Membership

    with app.test_request_context(base_url="http://localhost"):
        officer = db.session.scalar(select(User).where(User.email == secretariat))
        for name, reason in (("Toronto", "Left"), ("Hanoi", None)):
            m = db.session.scalar(select(Membership).where(Membership.city_id == cities[name]))
            if reason:
                services.withdraw(officer, m, reason)
            else:
                services.suspend(officer, m, "Dues")
        db.session.commit()
    assert "Toronto" not in names(client)
    assert names(client, "?status=withdrawn") == ["Toronto"]
    # The public sees a suspended city as a member and cannot filter by suspension.
    assert "Hanoi" in names(client)
    assert "Hanoi" in names(client, "?status=suspended")  # ignored filter for the public
    officer = app.test_client()
    login(officer, secretariat)
    assert names(officer, "?status=suspended") == ["Hanoi"]
    assert "Suspended" in officer.get("/cities/?status=suspended").get_data(as_text=True)


def test_the_directory_runs_a_fixed_number_of_queries(client, create_member_city, count_queries):
    for i in range(25):
        create_member_city(f"City {i:02d}", "FR")

    small = count_queries(client, "/cities/?per_page=20&page=2")  # 5 cities on the page
    large = count_queries(client, "/cities/?per_page=20")  # 20 cities on the page
    assert small == large
    assert large <= 4


def test_a_merged_duplicate_redirects_to_the_kept_city(app, client, cities):
    with app.app_context():
        busan = db.session.get(City, cities["Busan"])
        busan.merged_into_id = cities["Seoul"]
        db.session.commit()
    response = client.get("/cities/busan-kr")
    assert response.status_code == 301 and response.headers["Location"].endswith("/cities/seoul-kr")
    assert "Busan" not in names(client)
