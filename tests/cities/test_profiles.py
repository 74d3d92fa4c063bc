"""A city admin keeps the profile and logo current; nobody else may (but the secretariat)."""

import io

import pytest
from PIL import Image
from sqlalchemy import select

from cacnet.cities.models import City
from cacnet.core.audit import AuditEvent
from cacnet.core.db import db
from tests.conftest import csrf_token, login, submit

PROFILE = {
    "name_en": "Seoul",
    "name_local": "서울특별시",
    "country_code": "KR",
    "region": "Seoul Capital Area",
    "population": "9411000",
    "latitude": "37.566",
    "longitude": "126.9784",
    "mayor_name": "Oh Se-hoon",
    "mayor_title": "Mayor of Seoul",
    "website": "https://english.seoul.go.kr",
    "response_page": "https://english.seoul.go.kr/covid",
    "description": "**S-quarantine** know-how.\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1))",
    "languages": ["ko", "en"],
    "timezone": "Asia/Seoul",
    "save": "1",
}


@pytest.fixture
def seoul(create_member_city):
    city_id, admin = create_member_city("Seoul", "KR", name_local="서울특별시")
    return {"id": city_id, "admin": admin, "slug": "seoul-kr"}


def _city(app, city_id):
    with app.app_context():
        return db.session.get(City, city_id)


def test_city_admin_edits_the_profile_and_the_change_is_audited(app, client, seoul):
    login(client, seoul["admin"])
    response = submit(client, "/cities/seoul-kr/edit", PROFILE)
    assert response.status_code == 302
    city = _city(app, seoul["id"])
    assert (city.latitude, city.longitude) == (37.566, 126.9784)
    assert city.mayor_name == "Oh Se-hoon" and city.languages == ["en", "ko"]
    assert city.timezone == "Asia/Seoul" and city.population == 9411000
    with app.app_context():
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "city_profile_updated")
        )
        changes = event.details["changes"]
        assert changes["mayor_name"] == {"old": "", "new": "Oh Se-hoon"}
        assert changes["population"] == {"old": 1000000, "new": 9411000}
    page = client.get("/cities/seoul-kr").get_data(as_text=True)
    assert "<strong>S-quarantine</strong>" in page
    assert "<script>alert(1)</script>" not in page
    assert 'href="javascript:' not in page


def test_coordinates_lookup_from_the_offline_gazetteer(app, client, seoul):
    login(client, seoul["admin"])
    html = submit(
        client,
        "/cities/seoul-kr/edit",
        {**PROFILE, "latitude": "", "longitude": "", "timezone": "", "lookup": "1", "save": ""},
    ).get_data(as_text=True)
    assert 'value="37.566' in html and 'value="126.978' in html
    assert "Coordinates found" in html
    # Nothing is saved by a look-up.
    assert _city(app, seoul["id"]).latitude is None


def test_a_lookup_that_finds_nothing_says_so(client, seoul):
    login(client, seoul["admin"])
    html = submit(
        client, "/cities/seoul-kr/edit", {**PROFILE, "name_en": "Nowhereville", "lookup": "1"}
    ).get_data(as_text=True)
    assert "No place of this name" in html


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"website": "ftp://seoul.example"}, "http:// or https://"),
        ({"response_page": "javascript:alert(1)"}, "http:// or https://"),
        ({"latitude": "95"}, "between -90 and 90"),
        ({"longitude": "-181"}, "between -180 and 180"),
        ({"latitude": "abc"}, "Not a valid decimal"),
        ({"longitude": ""}, "both latitude and longitude"),
        ({"population": "-1"}, "between 0 and 100 million"),
        ({"population": "1000000000"}, "between 0 and 100 million"),
        ({"timezone": "Mars/Olympus"}, "Not a valid choice"),
        ({"languages": ["xx"]}, "not a valid choice"),
        ({"country_code": "XX"}, "Not a valid choice"),
        ({"name_en": ""}, "This field is required."),
        ({"name_en": "<b>Seoul</b>"}, "plain text"),
        ({"description": "x" * 5001}, "5000"),
    ],
)
def test_bad_profile_input_changes_nothing(app, client, seoul, changes, message):
    login(client, seoul["admin"])
    before = _city(app, seoul["id"])
    response = submit(client, "/cities/seoul-kr/edit", {**PROFILE, **changes})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    after = _city(app, seoul["id"])
    assert (after.population, after.latitude, after.website, after.updated_at) == (
        before.population,
        before.latitude,
        before.website,
        before.updated_at,
    )


def test_the_secretariat_edits_any_city(app, client, seoul, secretariat):
    login(client, secretariat)
    response = submit(client, "/cities/seoul-kr/edit", {**PROFILE, "mayor_name": "Acting Mayor"})
    assert response.status_code == 302
    assert _city(app, seoul["id"]).mayor_name == "Acting Mayor"


EDIT_URLS = [
    ("GET", "/cities/seoul-kr/edit"),
    ("POST", "/cities/seoul-kr/edit"),
    ("POST", "/cities/seoul-kr/logo"),
    ("POST", "/cities/seoul-kr/logo/delete"),
    ("GET", "/cities/seoul-kr/contacts"),
    ("POST", "/cities/seoul-kr/contacts"),
    ("GET", "/cities/seoul-kr/contacts/{contact}/edit"),
    ("POST", "/cities/seoul-kr/contacts/{contact}/edit"),
    ("POST", "/cities/seoul-kr/contacts/{contact}/up"),
    ("POST", "/cities/seoul-kr/contacts/{contact}/down"),
    ("POST", "/cities/seoul-kr/contacts/{contact}/delete"),
]


@pytest.mark.parametrize(
    "who", ["anonymous", "plain delegate", "other city admin", "suspended city admin"]
)
def test_only_the_citys_admins_and_the_secretariat_may_edit(
    app, client, seoul, create_user, create_member_city, secretariat, who
):
    if who == "plain delegate":
        create_user("delegate@seoul.example", city_id=seoul["id"])
        login(client, "delegate@seoul.example")
    elif who == "other city admin":
        _, other = create_member_city("London", "GB")
        login(client, other)
    elif who == "suspended city admin":
        from cacnet.accounts.models import User
        from cacnet.membership import services as membership  # noqa: I001
        from cacnet.membership.models import Membership

        with app.test_request_context(base_url="http://localhost"):
            officer = db.session.scalar(select(User).where(User.email == secretariat))
            m = db.session.scalar(select(Membership).where(Membership.city_id == seoul["id"]))
            membership.suspend(officer, m, "Dues unpaid")
            db.session.commit()
        login(client, seoul["admin"])
    from cacnet.accounts.models import User
    from cacnet.cities import services as cities

    with app.test_request_context(base_url="http://localhost"):
        officer = db.session.scalar(select(User).where(User.email == secretariat))
        contact = cities.add_contact(
            officer, db.session.get(City, seoul["id"]), cities.ContactData(name="Existing")
        )
        db.session.commit()
        contact_id = contact.id
    token = csrf_token(client.get("/auth/reset").get_data(as_text=True))
    before = _city(app, seoul["id"]).updated_at
    for method, template in EDIT_URLS:
        url = template.format(contact=contact_id)
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={**PROFILE, "csrf_token": token, "name": "X"})
        if who == "anonymous":
            assert response.status_code == 302 and "/auth/login" in response.headers["Location"], (
                url
            )
        else:
            assert response.status_code == 403, (who, method, url)
    assert _city(app, seoul["id"]).updated_at == before
    with app.app_context():
        from cacnet.cities.models import Contact

        [contact] = db.session.scalars(select(Contact)).all()
        assert (contact.name, contact.position) == ("Existing", 1)


# --- logos -----------------------------------------------------------------------------------


def _image(fmt="PNG", size=(200, 120), exif=None) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, (11, 79, 138))
    kwargs = {"exif": exif} if exif is not None else {}
    image.save(out, format=fmt, **kwargs)
    return out.getvalue()


def _upload(client, data: bytes, name: str):
    token = csrf_token(client.get("/cities/seoul-kr/edit").get_data(as_text=True))
    return client.post(
        "/cities/seoul-kr/logo",
        data={"csrf_token": token, "logo": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def test_a_png_logo_is_stored_by_hash_and_served(app, client, seoul):
    login(client, seoul["admin"])
    response = _upload(client, _image("PNG", (2000, 1000)), "logo.png")
    assert "The logo has been saved." in response.get_data(as_text=True)
    city = _city(app, seoul["id"])
    assert city.logo_sha256
    logo = client.get("/cities/seoul-kr/logo.png")
    assert logo.status_code == 200 and logo.mimetype == "image/png"
    with Image.open(io.BytesIO(logo.data)) as image:
        assert max(image.size) == 1024  # scaled down
    assert (
        client.get(
            "/cities/seoul-kr/logo.png", headers={"If-None-Match": f'"{city.logo_sha256}"'}
        ).status_code
        == 304
    )
    assert 'src="/cities/seoul-kr/logo.png"' in client.get("/cities/seoul-kr").get_data(
        as_text=True
    )


def test_gps_metadata_is_stripped_from_a_jpeg(app, client, seoul):
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (37.0, 33.0, 58.0), 3: "E", 4: (126.0, 58.0, 41.0)}  # GPSInfo
    exif[0x010F] = "SecretCamera"  # Make
    data = _image("JPEG", exif=exif)
    with Image.open(io.BytesIO(data)) as original:
        assert original.getexif().get(0x010F) == "SecretCamera"
    login(client, seoul["admin"])
    _upload(client, data, "photo.jpg")
    logo = client.get("/cities/seoul-kr/logo.png").data
    with Image.open(io.BytesIO(logo)) as image:
        assert not image.getexif() and "exif" not in image.info
    assert b"SecretCamera" not in logo


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "logo.svg",
            "PNG, JPEG or WebP",
        ),
        (b"<?php system($_GET['c']); ?>", "logo.png", "PNG, JPEG or WebP"),
        (b"GIF89a" + b"\x00" * 100, "logo.gif", "PNG, JPEG or WebP"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * (2 * 1024 * 1024 + 1), "big.png", "at most 2 MB"),
    ],
)
def test_bad_logos_are_refused(app, client, seoul, data, name, message):
    login(client, seoul["admin"])
    response = _upload(client, data, name)
    assert message in response.get_data(as_text=True)
    assert _city(app, seoul["id"]).logo_sha256 is None


def test_a_decompression_bomb_is_refused(app, client, seoul):
    # A tiny file that claims 20,000 x 20,000 pixels.
    out = io.BytesIO()
    Image.new("1", (20000, 20000)).save(out, format="PNG", optimize=True)
    assert len(out.getvalue()) < 2 * 1024 * 1024
    login(client, seoul["admin"])
    response = _upload(client, out.getvalue(), "bomb.png")
    assert "too large to process" in response.get_data(as_text=True)
    assert _city(app, seoul["id"]).logo_sha256 is None


def test_a_20_mb_upload_is_refused_before_it_is_read(app, client, seoul):
    login(client, seoul["admin"])
    token = csrf_token(client.get("/cities/seoul-kr/edit").get_data(as_text=True))
    response = client.post(
        "/cities/seoul-kr/logo",
        data={
            "csrf_token": token,
            "logo": (io.BytesIO(b"\x89PNG" + b"0" * (20 * 1024 * 1024)), "huge.png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert _city(app, seoul["id"]).logo_sha256 is None


def test_removing_the_logo(app, client, seoul):
    login(client, seoul["admin"])
    _upload(client, _image(), "logo.png")
    submit(client, "/cities/seoul-kr/logo/delete", page="/cities/seoul-kr/edit")
    assert _city(app, seoul["id"]).logo_sha256 is None
    assert client.get("/cities/seoul-kr/logo.png").status_code == 404
