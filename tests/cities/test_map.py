"""The members map and /cities.geojson: right places, same filters as the directory, and the
contacts each viewer may see, in a fixed number of queries."""

import pytest
from sqlalchemy import select

from cacnet.cities.map import project
from cacnet.cities.models import City
from cacnet.core.db import db
from tests.conftest import login, submit


def test_projection():
    assert project(0, 0) == (500.0, 250.0)
    assert project(90, -180) == (0.0, 0.0)
    assert project(-90, 180) == (1000.0, 500.0)
    x, y = project(37.566, 126.9784)  # Seoul: east of centre, north of the equator
    assert 850 < x < 855 and 140 < y < 146


@pytest.fixture
def world(app, create_member_city):
    places = {
        "Seoul": ("KR", 37.566, 126.978),
        "London": ("GB", 51.5085, -0.1257),
        "Hanoi": ("VN", 21.0245, 105.8412),
        "Atlantis": ("GR", None, None),
    }
    ids = {}
    for name, (country, lat, lon) in places.items():
        city_id, admin = create_member_city(name, country)
        ids[name] = (city_id, admin)
        with app.app_context():
            city = db.session.get(City, city_id)
            city.latitude, city.longitude = lat, lon
            db.session.commit()
    return ids


def test_the_map_links_every_city_with_coordinates(client, world):
    html = client.get("/cities/map").get_data(as_text=True)
    for slug in ("seoul-kr", "london-gb", "hanoi-vn"):
        assert f'<a href="/cities/{slug}" class="map-point">' in html
    assert 'href="/cities/atlantis-gr" class="map-point"' not in html
    assert "<title>Seoul, South Korea</title>" in html
    assert "img/world.svg" in html
    # The directory's filters apply.
    html = client.get("/cities/map?region=asia").get_data(as_text=True)
    assert "seoul-kr" in html and "london-gb" not in html


def test_geojson_is_a_valid_feature_collection(client, world):
    response = client.get("/cities.geojson")
    assert response.mimetype == "application/geo+json"
    data = response.get_json()
    assert data["type"] == "FeatureCollection"
    by_slug = {f["properties"]["slug"]: f for f in data["features"]}
    assert set(by_slug) == {"seoul-kr", "london-gb", "hanoi-vn"}  # no coordinates, no feature
    seoul = by_slug["seoul-kr"]
    assert seoul["geometry"] == {"type": "Point", "coordinates": [126.978, 37.566]}  # lon, lat
    assert seoul["properties"]["url"] == "http://localhost/cities/seoul-kr"
    assert seoul["properties"]["status"] == "approved"
    assert {
        f["properties"]["slug"]
        for f in client.get("/cities.geojson?country=GB").get_json()["features"]
    } == {"london-gb"}


def test_withdrawn_and_suspended_cities_in_geojson(app, client, world, secretariat):
    from cacnet.accounts.models import User
    from cacnet.membership import services
    from cacnet.membership.models import Membership

    with app.test_request_context(base_url="http://localhost"):
        officer = db.session.scalar(select(User).where(User.email == secretariat))
        london = db.session.scalar(
            select(Membership).where(Membership.city_id == world["London"][0])
        )
        hanoi = db.session.scalar(select(Membership).where(Membership.city_id == world["Hanoi"][0]))
        services.withdraw(officer, london, "Left")
        services.suspend(officer, hanoi, "Dues")
        db.session.commit()
    public = {
        f["properties"]["slug"]: f["properties"]["status"]
        for f in client.get("/cities.geojson").get_json()["features"]
    }
    assert public == {"seoul-kr": "approved", "hanoi-vn": "approved"}  # suspension is not public
    withdrawn = client.get("/cities.geojson?status=withdrawn").get_json()["features"]
    assert [(f["properties"]["slug"], f["properties"]["status"]) for f in withdrawn] == [
        ("london-gb", "withdrawn")
    ]
    staff = app.test_client()
    login(staff, secretariat)
    statuses = {
        f["properties"]["slug"]: f["properties"]["status"]
        for f in staff.get("/cities.geojson").get_json()["features"]
    }
    assert statuses["hanoi-vn"] == "suspended"


def test_contact_visibility_matrix_in_geojson(app, world, create_user, secretariat):
    seoul_id, seoul_admin = world["Seoul"]
    admin_client = app.test_client()
    login(admin_client, seoul_admin)
    for visibility in ("public", "members", "secretariat"):
        submit(
            admin_client,
            "/cities/seoul-kr/contacts",
            {"name": f"{visibility} contact", "area": "health", "visibility": visibility},
        )
    create_user("delegate@seoul.example", city_id=seoul_id)
    viewers = {
        "anonymous": (None, {"public"}),
        "delegate of another member city": (world["London"][1], {"public", "members"}),
        "delegate of the same city": (
            "delegate@seoul.example",
            {"public", "members", "secretariat"},
        ),
        "secretariat": (secretariat, {"public", "members", "secretariat"}),
    }
    for who, (email, expected) in viewers.items():
        viewer = app.test_client()
        if email:
            login(viewer, email)
        features = viewer.get("/cities.geojson").get_json()["features"]
        seoul = next(f for f in features if f["properties"]["slug"] == "seoul-kr")
        seen = {c["name"].split()[0] for c in seoul["properties"]["contacts"]}
        assert seen == expected, who


def test_geojson_runs_a_fixed_number_of_queries(app, client, create_member_city, count_queries):
    def add(n, start):
        for i in range(start, start + n):
            city_id, _ = create_member_city(f"Town {i:03d}", "FR")
            with app.app_context():
                city = db.session.get(City, city_id)
                city.latitude, city.longitude = 45 + i / 100, 2 + i / 100
                db.session.commit()

    add(3, 0)
    few = count_queries(client, "/cities.geojson")
    add(27, 3)
    many = count_queries(client, "/cities.geojson")
    assert few == many <= 3
    assert len(client.get("/cities.geojson").get_json()["features"]) == 30
