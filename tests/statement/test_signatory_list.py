"""The public signatory list and its open data: the same rows in the page, JSON, CSV and Atom;
nothing private; filters; conditional GETs answered 304."""

import csv
import io
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select

from cacnet.accounts.models import User
from cacnet.core.db import db
from cacnet.statement import endorsements
from cacnet.statement.models import Endorsement, StatementVersion
from tests.conftest import PASSWORD, login
from tests.statement.test_endorsements import data, signature  # noqa: F401
from tests.statement.test_versions import version_1  # noqa: F401 - fixture

CITIES = [("Seoul", "KR", "서울특별시", "Oh Se-hoon"), ("Moscow", "RU", "Москва", "Sergey <Sobyanin> & co"),
          ("Budapest", "HU", "Budapest", "Gergely Karácsony"), ("Toronto", "CA", "", "John Tory")]  # fmt: skip


@pytest.fixture
def signed(app, create_member_city, create_user, secretariat, version_1):  # noqa: F811
    from cacnet.accounts import services as accounts

    ids = {}
    for name, country, local, person in CITIES:
        city_id, _ = create_member_city(name, country, name_local=local)
        user_id = create_user(f"mayor@{name.lower()}.example", city_id=city_id, name=person)
        with app.test_request_context(
            base_url="http://localhost", environ_base={"REMOTE_ADDR": "198.51.100.9"}
        ):
            officer = db.session.scalar(select(User).where(User.email == secretariat))
            signer = db.session.get(User, user_id)
            accounts.grant_signing_authority(officer, signer, "Letter")
            e = endorsements.endorse(signer, db.session.scalar(select(StatementVersion)),
                                     data(signatory_name=person, place=name), PASSWORD)  # fmt: skip
            if name != "Toronto":  # Toronto's stays submitted: not public
                endorsements.verify(officer, e)
            if name == "Budapest":
                endorsements.withdraw(signer, e, "Council decision")
            db.session.commit()
            ids[name] = e.uuid
    return ids


def test_page_json_csv_and_atom_show_the_same_signatories(client, signed):
    page = client.get("/signatories").get_data(as_text=True)
    assert "2 cities have endorsed version 1." in page
    assert "Seoul" in page and "Moscow" in page and "Toronto" not in page
    assert "Withdrawn endorsements" in page and "Council decision" in page
    assert "Sergey &lt;Sobyanin&gt; &amp; co" in page

    payload = client.get("/signatories.json").get_json()
    by_city = {r["city"]: r for r in payload["signatories"]}
    assert set(by_city) == {"Seoul", "Moscow", "Budapest"}
    assert (
        by_city["Seoul"]["state"] == "verified" and by_city["Seoul"]["city_local"] == "서울특별시"
    )
    assert (
        by_city["Budapest"]["state"] == "withdrawn"
        and by_city["Budapest"]["withdrawal_reason"] == "Council decision"
    )
    assert by_city["Moscow"]["region"] == "europe" and payload["version"] == 1

    response = client.get("/signatories.csv")
    assert response.data.startswith("\ufeff".encode())  # BOM for spreadsheet programs
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert {r["city"] for r in rows} == {"Seoul", "Moscow", "Budapest"}
    assert next(r for r in rows if r["city"] == "Moscow")["city_local"] == "Москва"

    feed = ET.fromstring(client.get("/signatories.atom").data)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    titles = [t.text for t in feed.findall("a:entry/a:title", ns)]
    assert sorted(titles) == [
        "Moscow endorsed the Seoul Statement",
        "Seoul endorsed the Seoul Statement",
    ]

    for body in (page, response.data.decode("utf-8-sig"), client.get("/signatories.json").get_data(as_text=True),
                 client.get("/signatories.atom").get_data(as_text=True)):  # fmt: skip
        assert "@" not in body.replace("@context", "") or "example" not in body  # no e-mail address
        assert "198.51.100.9" not in body  # no IP address


def test_filters_and_sorting(client, signed):
    def cities(query):
        return [
            r["city"] for r in client.get(f"/signatories.json?{query}").get_json()["signatories"]
        ]

    assert cities("q=서울") == ["Seoul"]
    assert cities("q=sobyanin") == ["Moscow"]
    assert cities("region=asia") == ["Seoul"]
    assert cities("country=RU") == ["Moscow"]
    assert cities("sort=city") == ["Budapest", "Moscow", "Seoul"]
    assert client.get("/signatories?version=9").status_code == 404
    assert client.get("/signatories?sort=evil&region=mars&q=%25").status_code == 200


def test_conditional_get_answers_304_until_the_list_changes(app, client, signed, secretariat):
    first = client.get("/signatories")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert client.get("/signatories", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/signatories", headers={"If-Modified-Since": modified}).status_code == 304
    json_etag = client.get("/signatories.json").headers["ETag"]
    assert json_etag != etag  # each representation has its own tag
    assert client.get("/signatories.json", headers={"If-None-Match": json_etag}).status_code == 304
    # Toronto is verified: the list changes, the old tag no longer matches.
    with app.test_request_context(base_url="http://localhost"):
        officer = db.session.scalar(select(User).where(User.email == secretariat))
        toronto = db.session.scalar(
            select(Endorsement).where(Endorsement.uuid == signed["Toronto"])
        )
        endorsements.verify(officer, toronto)
        db.session.commit()
    response = client.get("/signatories", headers={"If-None-Match": etag})
    assert response.status_code == 200 and "Toronto" in response.get_data(as_text=True)


def test_conditional_get_needs_no_row_queries(app, client, signed, count_queries):
    etag = client.get("/signatories").headers["ETag"]
    statements = []
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        assert client.get("/signatories", headers={"If-None-Match": etag}).status_code == 304
    finally:
        event.remove(engine, "before_cursor_execute", before)
    assert len(statements) <= 2  # the current version and one aggregate


def test_the_list_page_is_paginated(app, client, signed):
    from cacnet.statement import signatories

    with app.test_request_context():
        version = db.session.scalar(select(StatementVersion))
        query = signatories.SignatoryQuery(sort="city")
        first = signatories.verified_page(version, query, page=1, per_page=1)
        second = signatories.verified_page(version, query, page=2, per_page=1)
        assert first.pages == 2 and [e.city.name_en for e in first.items] == ["Moscow"]
        assert [e.city.name_en for e in second.items] == ["Seoul"]
        assert signatories.counts_by_region(version) == {"asia": 1, "europe": 1}
    assert client.get("/signatories?page=99").status_code == 200


def test_repeated_requests_are_served_from_the_cache_without_the_database(
    app, client, signed, count_queries
):
    client.get("/signatories.json")  # builds and caches
    assert count_queries(client, "/signatories.json") == 0
    etag = client.get("/signatories").headers["ETag"]
    statements = count_queries(client, "/signatories")
    assert (
        statements == 0
        and client.get("/signatories", headers={"If-None-Match": etag}).status_code == 304
    )


def test_a_signed_in_visitor_never_gets_another_visitors_page(app, client, signed, secretariat):
    anonymous = client.get("/signatories").get_data(as_text=True)
    assert "Sign out" not in anonymous
    officer = app.test_client()
    login(officer, secretariat)
    page = officer.get("/signatories")
    assert "Sign out" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"].startswith("private")
    assert "Sign out" not in client.get("/signatories").get_data(as_text=True)


def test_the_members_map_highlights_the_signatories(app, client, signed, create_member_city):
    from cacnet.cities.map import project
    from cacnet.cities.models import City

    create_member_city("Lima", "PE")
    create_member_city("Nowhere", "FR")  # no coordinates: not on the map
    places = {"Seoul": (37.57, 126.98), "Moscow": (55.76, 37.62), "Budapest": (47.5, 19.04),
              "Toronto": (43.65, -79.38), "Lima": (-12.05, -77.04)}  # fmt: skip
    with app.app_context():
        for city in db.session.scalars(select(City)):
            city.latitude, city.longitude = places.get(city.name_en, (None, None))
        db.session.commit()

    page = client.get("/signatories").get_data(as_text=True)
    assert 'src="/signatories/map.svg?version=1"' in page
    assert "2 signatory cities of version 1 are highlighted" in page
    response = client.get("/signatories/map.svg?version=1")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    svg = ET.fromstring(response.data)
    ns = "{http://www.w3.org/2000/svg}"
    members_layer, signatories_layer = svg.findall(f"{ns}g")

    def points(layer):
        return {(float(c.get("cx")), float(c.get("cy"))) for c in layer.findall(f"{ns}circle")}

    # Verified endorsements are highlighted; the withdrawn (Budapest), the submitted (Toronto)
    # and the member that never signed (Lima) are plain members.
    assert points(signatories_layer) == {project(*places[c]) for c in ("Seoul", "Moscow")}
    assert points(members_layer) == {project(*places[c]) for c in ("Budapest", "Toronto", "Lima")}
    assert "5 member cities; the 2 signatories of version 1" in svg.find(f"{ns}title").text

    etag = response.headers["ETag"]
    assert (
        client.get("/signatories/map.svg?version=1", headers={"If-None-Match": etag}).status_code
        == 304
    )
    assert client.get("/signatories/map.svg?version=7").status_code == 404


def test_the_directory_filters_by_endorsement_and_city_pages_show_it(
    client, signed, create_member_city
):
    create_member_city("Lima", "PE")

    def found(query):
        page = client.get(f"/cities/?{query}").get_data(as_text=True)
        return {
            name
            for name in ("Seoul", "Moscow", "Budapest", "Toronto", "Lima")
            if f">{name}</a>" in page
        }

    assert found("endorsement=current") == {"Seoul", "Moscow"}
    assert found("endorsement=none") == {"Budapest", "Toronto", "Lima"}
    assert found("endorsement=earlier") == set()
    assert found("endorsement=evil") == {"Seoul", "Moscow", "Budapest", "Toronto", "Lima"}
    assert found("endorsement=current&country=KR") == {"Seoul"}
    geo = client.get("/cities.geojson?endorsement=current").get_json()
    assert geo["type"] == "FeatureCollection"

    seoul = client.get("/cities/seoul-kr").get_data(as_text=True)
    assert "Endorsed version 1 on" in seoul and "Oh Se-hoon" in seoul
    budapest = client.get("/cities/budapest-hu").get_data(as_text=True)
    assert "has not endorsed the current version (1)" in budapest
    assert "withdrawn on" in budapest and "Council decision" in budapest
    toronto = client.get("/cities/toronto-ca").get_data(as_text=True)
    assert "has not endorsed the current version (1)" in toronto and "John Tory" not in toronto


def test_a_city_that_signed_only_an_earlier_version(app, client, signed, secretariat):
    from tests.statement.test_versions import _publish_v2

    _publish_v2(client, secretariat)
    page = client.get("/cities/?endorsement=earlier").get_data(as_text=True)
    assert ">Seoul</a>" in page and ">Moscow</a>" in page and ">Toronto</a>" not in page
    assert ">Seoul</a>" not in client.get("/cities/?endorsement=current").get_data(as_text=True)
    seoul = client.get("/cities/seoul-kr").get_data(as_text=True)
    assert "has not endorsed the current version (2)" in seoul and "Endorsed version 1 on" in seoul
