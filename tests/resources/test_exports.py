"""The exchange exported as CSV with HXL hashtags (read back with libhxl) and as JSON, for members
only, without leaking a contact the viewer may not see."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta

import hxl
import pytest
from sqlalchemy import select

from cacnet.cities import services as cities
from cacnet.cities.models import City
from cacnet.core.db import db
from cacnet.core.errors import PermissionDenied
from cacnet.resources import exports, services
from cacnet.resources.models import ResourcePost
from tests.conftest import login
from tests.resources.conftest import user

TODAY = date.today()
HXL_ROW = ("#meta +id,#date +reported,#date +start,#date +end,#date +expires,#org +name,"
           "#country +code +v_iso3,#loc +name,#geo +lat,#geo +lon,#sector,#item +name,#item +type,"
           "#meta +kind,#item +num +requested,#item +num +offered,#item +num +remaining,"
           "#item +unit,#status,#severity,#meta +conditions,#description,#contact +name,"
           "#contact +email,#contact +phone,#meta +url")  # fmt: skip


def post(uuid: str) -> ResourcePost:
    return db.session.scalar(select(ResourcePost).where(ResourcePost.uuid == uuid))


@pytest.fixture
def posts(app, exchange, make_post, secretariat):
    """Seoul requests test kits (handled by a contact members may see; London pledges 6,000, of
    which 4,000 are accepted) and offers epidemiologists (handled by a contact only the
    secretariat may see); London offers masks, and a post of London's is hidden."""
    seoul, london = exchange["Seoul"], exchange["London"]
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        city = db.session.get(City, seoul["city_id"])
        admin = user(seoul["admin"])
        members = cities.add_contact(admin, city, cities.ContactData(
            name="Kim Min-ji", email="kim@seoul.example", visibility="members"))  # fmt: skip
        private = cities.add_contact(admin, city, cities.ContactData(
            name="Park Private", email="park@seoul.example", visibility="secretariat"))  # fmt: skip
        db.session.commit()
        members_id, private_id = members.id, private.id
    p = {
        "kits": make_post(
            seoul["delegate"], "request", quantity="10000", title_en="PCR test kits",
            description_en="For the second wave.", urgency="critical", contact_id=members_id,
            available_from=TODAY + timedelta(days=1), needed_by=TODAY + timedelta(days=14),
        ),
        "epidemiologists": make_post(
            seoul["delegate"], "offer", category="epidemiologists", quantity="5", unit="people",
            title_en="", title_ko="역학조사관 파견", contact_id=private_id,
        ),
        "masks": make_post(london["delegate"], "offer", category="masks", quantity="2000",
                           unit="pieces", title_en="Surgical masks"),
        "hidden": make_post(london["delegate"], "offer", title_en="A hidden offer"),
    }  # fmt: skip
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        from cacnet.resources import moderation

        response = services.respond(user(london["delegate"]), post(p["kits"]), "6000")
        db.session.flush()
        services.accept(user(seoul["delegate"]), response, "4000")
        moderation.hide_post(user(secretariat), post(p["hidden"]), "Duplicate.")
        db.session.commit()
    return p


def export_as(app, email: str, query: str = "", kind: str = "csv"):
    client = app.test_client()
    login(client, email)
    return client.get(f"/resources/export.{kind}{query}")


def hxl_rows(response) -> tuple[list[str], dict[str, hxl.model.Row]]:
    source = hxl.data(io.BytesIO(response.get_data()))
    rows = {row.get("#meta+id"): row for row in source}
    return [c.display_tag for c in source.columns], rows


def test_the_csv_export_carries_hxl_hashtags_that_libhxl_reads(app, exchange, posts):
    response = export_as(app, exchange["London"]["delegate"])
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")  # a BOM, like /signatories.csv
    assert data.decode("utf-8-sig").splitlines()[1] == HXL_ROW

    tags, rows = hxl_rows(response)
    assert tags == [t.replace(" ", "") for t in HXL_ROW.split(",")]
    assert set(rows) == {posts["kits"], posts["epidemiologists"], posts["masks"], posts["hidden"]}

    kits = rows[posts["kits"]]
    assert kits.get("#org+name") == "Seoul"
    assert kits.get("#loc+name") == "Seoul"
    assert kits.get("#country+code+v_iso3") == "KOR"
    assert float(kits.get("#geo+lat")) == pytest.approx(37.5665)
    assert float(kits.get("#geo+lon")) == pytest.approx(126.978)
    assert kits.get("#date+reported") == TODAY.isoformat()
    assert kits.get("#date+start") == (TODAY + timedelta(days=1)).isoformat()
    assert kits.get("#date+end") == (TODAY + timedelta(days=14)).isoformat()
    assert kits.get("#sector") == "Supplies"
    assert kits.get("#item+name") == "PCR test kits"
    assert kits.get("#item+type") == "Test kits"
    assert kits.get("#meta+kind") == "request"
    assert kits.get("#item+num+requested") == "10000"
    assert not kits.get("#item+num+offered")
    assert kits.get("#item+num+remaining") == "6000"
    assert kits.get("#item+unit") == "kits"
    assert kits.get("#status") == "partly_met"
    assert kits.get("#severity") == "critical"
    assert kits.get("#description") == "For the second wave."
    assert kits.get("#meta+url") == f"http://localhost/resources/{posts['kits']}"
    # A members-only contact: London, a member city, may see it.
    assert kits.get("#contact+name") == "Kim Min-ji"
    assert kits.get("#contact+email") == "kim@seoul.example"

    staff = rows[posts["epidemiologists"]]
    assert staff.get("#item+name") == "역학조사관 파견"
    assert staff.get("#sector") == "Staff and expertise"
    assert staff.get("#item+num+offered") == "5"
    assert not staff.get("#item+num+requested")
    # Only the secretariat (and Seoul) may see this contact: London's export leaves it out.
    assert not staff.get("#contact+name") and not staff.get("#contact+email")
    assert b"Park Private" not in data and b"park@seoul.example" not in data

    masks = rows[posts["masks"]]
    assert masks.get("#country+code+v_iso3") == "GBR"
    # London sees its own hidden post, marked as such.
    assert rows[posts["hidden"]].get("#status") == "hidden"


def test_a_contact_is_exported_to_those_who_may_see_it(app, exchange, posts, secretariat):
    for viewer in (exchange["Seoul"]["delegate"], secretariat):
        _, rows = hxl_rows(export_as(app, viewer))
        assert rows[posts["epidemiologists"]].get("#contact+name") == "Park Private"
    _, rows = hxl_rows(export_as(app, exchange["Jakarta"]["delegate"]))
    assert not rows[posts["epidemiologists"]].get("#contact+name")
    assert rows[posts["kits"]].get("#contact+name") == "Kim Min-ji"
    # Another city does not see London's hidden post at all.
    assert posts["hidden"] not in rows
    assert set(hxl_rows(export_as(app, secretariat))[1]) >= {posts["hidden"]}


def test_the_export_follows_the_boards_filters(app, exchange, posts):
    london = exchange["London"]["delegate"]
    _, offers = hxl_rows(export_as(app, london, "?kind=offer"))
    assert set(offers) == {posts["epidemiologists"], posts["masks"], posts["hidden"]}
    _, masks = hxl_rows(export_as(app, london, "?category=masks&country=gb"))
    assert set(masks) == {posts["masks"]}
    _, found = hxl_rows(export_as(app, london, "?q=pcr"))
    assert set(found) == {posts["kits"]}
    _, critical = hxl_rows(export_as(app, london, "?urgency=critical&region=asia"))
    assert set(critical) == {posts["kits"]}
    _, met = hxl_rows(export_as(app, london, "?status=met"))
    assert met == {}


def test_the_json_export_has_the_same_records(app, exchange, posts):
    response = export_as(app, exchange["London"]["delegate"], kind="json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    document = json.loads(response.get_data(as_text=True))
    assert document["hxl"]["country"] == "#country +code +v_iso3"
    assert list(document["hxl"].values()) == HXL_ROW.split(",")
    records = {r["id"]: r for r in document["records"]}
    kits = records[posts["kits"]]
    assert list(kits) == list(exports.HEADERS)
    assert kits["country"] == "KOR"
    assert kits["quantity_requested"] == "10000"
    assert kits["quantity_offered"] is None
    assert kits["quantity_remaining"] == "6000"
    assert kits["latitude"] == pytest.approx(37.5665)
    assert kits["contact_name"] == "Kim Min-ji"
    assert records[posts["epidemiologists"]]["contact_name"] is None
    assert records[posts["epidemiologists"]]["title"] == "역학조사관 파견"
    assert "Park Private" not in response.get_data(as_text=True)


def test_the_export_reads_in_batches_in_the_boards_order(app, exchange, posts, monkeypatch):
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        viewer = user(exchange["London"]["delegate"])
        query = exports.query_from_args({})
        whole = [r["id"] for r in exports.export_records(viewer, query)]
        monkeypatch.setattr(exports, "BATCH", 1)
        assert [r["id"] for r in exports.export_records(viewer, query)] == whole
        assert whole[0] == posts["hidden"]  # newest first
        assert len(whole) == 4


def test_the_export_is_for_members_only(app, client, exchange, posts):
    from flask_login import AnonymousUserMixin

    for kind in ("csv", "json"):
        response = client.get(f"/resources/export.{kind}")
        assert response.status_code == 302
        assert "/auth/login" in response.headers["Location"]
    # Refused at once, before any row is produced.
    with app.test_request_context(), pytest.raises(PermissionDenied):
        exports.export_records(AnonymousUserMixin(), exports.query_from_args({}))
