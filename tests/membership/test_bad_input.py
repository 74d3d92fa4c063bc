"""Bad input on every form gets a clear message (or a 400/413 page) and stores nothing."""

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cacnet.accounts.models import Invitation, User
from cacnet.core.audit import AuditEvent
from cacnet.core.db import db
from cacnet.membership.models import Membership
from tests.conftest import PASSWORD, csrf_token, login, submit
from tests.helpers import pdf_bytes

GOOD = {
    "city_name_en": "Delhi",
    "city_name_local": "दिल्ली",
    "country_code": "IN",
    "region": "National Capital Territory",
    "population": "16787000",
    "website": "https://delhi.gov.in",
    "applicant_name": "Priya Sharma",
    "applicant_title": "Officer",
    "email": "priya@delhi.example",
    "password": PASSWORD,
    "confirm": PASSWORD,
}


def _counts(app):
    with app.app_context():
        uploads = Path(app.config["UPLOAD_FOLDER"])
        return (
            db.session.scalar(select(func.count()).select_from(User)),
            db.session.scalar(select(func.count()).select_from(Membership)),
            db.session.scalar(select(func.count()).select_from(AuditEvent)),
            len(list(uploads.rglob("*.pdf"))) if uploads.exists() else 0,
        )


def _apply(client, data, letter=None, **kwargs):
    html = client.get("/apply").get_data(as_text=True)
    payload = {"csrf_token": csrf_token(html), **data}
    if letter is not None:
        payload["letter"] = letter
    return client.post("/apply", data=payload, content_type="multipart/form-data", **kwargs)


def test_a_good_application_with_a_letter_is_stored(app, client):
    before = _counts(app)
    response = _apply(client, GOOD, letter=(io.BytesIO(pdf_bytes()), "Letter of Intent.pdf"))
    assert response.status_code == 302
    after = _counts(app)
    assert after[0] == before[0] + 1 and after[1] == before[1] + 1 and after[3] == before[3] + 1
    with app.app_context():
        membership = db.session.scalar(select(Membership))
        assert membership.letter_filename == "Letter of Intent.pdf"
        assert membership.city_name_local == "दिल्ली"


BAD_APPLICATIONS = [
    ("empty form", dict.fromkeys(GOOD, ""), "This field is required."),
    ("no city name", {**GOOD, "city_name_en": ""}, "This field is required."),
    ("name too long", {**GOOD, "city_name_en": "D" * 201}, "200"),
    ("script in the name", {**GOOD, "city_name_en": "<script>alert(1)</script>"}, "plain text"),
    ("markup in the applicant", {**GOOD, "applicant_name": "<b>x</b>"}, "plain text"),
    ("unknown country", {**GOOD, "country_code": "XX"}, "Not a valid choice"),
    ("population not a number", {**GOOD, "population": "many"}, "Not a valid integer"),
    ("negative population", {**GOOD, "population": "-5"}, "between 0 and 100 million"),
    ("absurd population", {**GOOD, "population": "99999999999"}, "between 0 and 100 million"),
    ("javascript website", {**GOOD, "website": "javascript:alert(1)"}, "http:// or https://"),
    ("not a website", {**GOOD, "website": "https://"}, "valid web address"),
    ("bad e-mail", {**GOOD, "email": "not-an-address"}, "valid e-mail address"),
    ("passwords differ", {**GOOD, "confirm": PASSWORD + "x"}, "do not match"),
    ("short password", {**GOOD, "password": "short", "confirm": "short"}, "at least 12"),
    (
        "common password",
        {**GOOD, "password": "password1234", "confirm": "password1234"},
        "most common",
    ),
    (
        "password from the city name",
        {**GOOD, "password": "Delhi-Delhi-Delhi-99", "confirm": "Delhi-Delhi-Delhi-99"},
        "e-mail address or city name",
    ),
    (
        "password from the e-mail",
        {**GOOD, "password": "priya-priya-priya-99", "confirm": "priya-priya-priya-99"},
        "e-mail address or city name",
    ),
]


@pytest.mark.parametrize(
    ("case", "data", "message"), BAD_APPLICATIONS, ids=[c[0] for c in BAD_APPLICATIONS]
)
def test_bad_applications_are_refused_with_a_message(app, client, case, data, message):
    before = _counts(app)
    response = _apply(client, data)
    assert response.status_code == 200, case
    html = response.get_data(as_text=True)
    assert message in html, case
    assert "<script>alert(1)</script>" not in html  # echoed back escaped, if at all
    assert _counts(app) == before, case


def test_a_non_pdf_renamed_pdf_is_refused(app, client):
    before = _counts(app)
    fake = io.BytesIO(b"<?php system($_GET['c']); ?>" + b" " * 2000)
    response = _apply(client, GOOD, letter=(fake, "letter.pdf"))
    assert "must be a PDF document" in response.get_data(as_text=True)
    assert _counts(app) == before


def test_a_pdf_header_on_garbage_is_refused(app, client):
    before = _counts(app)
    response = _apply(client, GOOD, letter=(io.BytesIO(b"%PDF-1.7\n" + b"garbage" * 500), "x.pdf"))
    assert "must be a PDF document" in response.get_data(as_text=True)
    assert _counts(app) == before


def test_a_pdf_with_another_extension_is_refused(app, client):
    response = _apply(client, GOOD, letter=(io.BytesIO(pdf_bytes()), "letter.exe"))
    assert "must be a PDF document" in response.get_data(as_text=True)


def test_a_letter_over_10_mb_is_refused(app, client):
    before = _counts(app)
    big = pdf_bytes() + b"%" + b"0" * (10 * 1024 * 1024 + 10)
    response = _apply(client, GOOD, letter=(io.BytesIO(big), "big.pdf"))
    assert "at most 10 MB" in response.get_data(as_text=True)
    assert _counts(app) == before


def test_a_request_over_the_upload_limit_gets_the_413_page(app, client):
    before = _counts(app)
    huge = b"%PDF-" + b"0" * (12 * 1024 * 1024)
    response = _apply(client, GOOD, letter=(io.BytesIO(huge), "huge.pdf"))
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)
    assert _counts(app) == before


def test_a_forged_csrf_token_is_refused(app, client):
    before = _counts(app)
    client.get("/apply")
    response = client.post("/apply", data={**GOOD, "csrf_token": "forged"})
    assert response.status_code == 400
    assert "not sent from our site" in response.get_data(as_text=True)
    response = client.post("/apply", data=GOOD)  # no token at all
    assert response.status_code == 400
    assert _counts(app) == before


def test_an_existing_address_gets_a_mail_not_a_second_account(
    app, client, create_member_city, outbox
):
    _, admin_email = create_member_city("Seoul", "KR")
    before = _counts(app)
    response = _apply(client, {**GOOD, "email": admin_email.upper()})
    assert response.status_code == 302 and response.headers["Location"].endswith("/apply/sent")
    users, memberships, _, _ = _counts(app)
    assert (users, memberships) == before[:2]
    assert outbox.to(admin_email, "About your application")


def test_bad_login_input(app, client):
    for data in (
        {},
        {"email": "x" * 300 + "@a.example", "password": "p"},
        {"email": "nope", "password": ""},
    ):
        response = submit(client, "/auth/login", data)
        assert response.status_code == 200
        assert "This field is required." in response.get_data(
            as_text=True
        ) or "valid e-mail" in response.get_data(as_text=True)


@pytest.fixture
def city_admin_client(app, client, create_member_city):
    _, admin = create_member_city("Seoul", "KR")
    login(client, admin)
    return client


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "", "role": "delegate", "locale": "en"}, "valid e-mail"),
        ({"email": "a@b", "role": "delegate", "locale": "en"}, "valid e-mail"),
        ({"email": "x@seoul.example", "role": "mayor", "locale": "en"}, "Not a valid choice"),
        ({"email": "x@seoul.example", "role": "delegate", "locale": "fr"}, "Not a valid choice"),
        (
            {"email": "seoul@cities.example", "role": "delegate", "locale": "en"},
            "already has an account",
        ),
    ],
)
def test_bad_invitations(app, city_admin_client, data, message):
    response = submit(city_admin_client, "/account/city", data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Invitation).count() == 0


def test_inviting_the_same_person_twice_is_refused(app, city_admin_client):
    data = {"email": "x@seoul.example", "role": "delegate", "locale": "en"}
    assert submit(city_admin_client, "/account/city", data).status_code == 302
    response = submit(city_admin_client, "/account/city", data)
    assert "already been invited" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Invitation).count() == 1


def test_bad_invitation_acceptance(app, city_admin_client, outbox):
    submit(
        city_admin_client,
        "/account/city",
        {"email": "x@seoul.example", "role": "delegate", "locale": "en"},
    )
    from tests.conftest import link_in

    path = link_in(outbox.to("x@seoul.example")[0], "/auth/invitation/")
    submit(city_admin_client, "/auth/logout", page="/auth/logout")
    for data, message in [
        ({"name": "", "password": PASSWORD, "confirm": PASSWORD}, "This field is required."),
        (
            {"name": "<img src=x onerror=alert(1)>", "password": PASSWORD, "confirm": PASSWORD},
            "plain text",
        ),
        ({"name": "Kim", "password": "short", "confirm": "short"}, "at least 12"),
        (
            {"name": "Kim", "password": "seoul-seoul-seoul-1", "confirm": "seoul-seoul-seoul-1"},
            "city name",
        ),
    ]:
        response = submit(city_admin_client, path, data)
        assert response.status_code == 200
        assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(User).filter_by(email="x@seoul.example").count() == 0
        assert db.session.scalar(select(Invitation)).accepted_at is None


def test_bad_profile_input(app, city_admin_client):
    for data, message in [
        ({"name": "", "title": "", "locale": "en"}, "This field is required."),
        ({"name": "Kim", "title": "", "locale": "xx"}, "Not a valid choice"),
        ({"name": "N" * 201, "title": "", "locale": "en"}, "200"),
    ]:
        response = submit(city_admin_client, "/account/", data)
        assert message in response.get_data(as_text=True)
    with app.app_context():
        assert (
            db.session.scalar(select(User.name).where(User.email == "seoul@cities.example"))
            == "Seoul Admin"
        )


def test_a_decision_reason_over_2000_characters_is_refused(
    app, client, secretariat, create_member_city
):
    _apply(app.test_client(), GOOD)
    with app.app_context():
        membership = db.session.scalar(select(Membership))
        membership.state = "submitted"
        db.session.commit()
        uuid = membership.uuid
    login(client, secretariat)
    detail = f"/secretariat/applications/{uuid}"
    submit(client, f"{detail}/reject", {"reason": "r" * 2001}, page=detail)
    with app.app_context():
        assert db.session.scalar(select(Membership.state)) == "submitted"


def test_unknown_ids_are_404_not_500(client, secretariat):
    login(client, secretariat)
    assert client.get("/secretariat/applications/not-a-uuid").status_code == 404
    assert (
        client.get(
            "/secretariat/applications/00000000-0000-0000-0000-000000000000/letter.pdf"
        ).status_code
        == 404
    )
    token = csrf_token(client.get("/auth/reset").get_data(as_text=True))
    assert (
        client.post("/secretariat/users/999999/signatory", data={"csrf_token": token}).status_code
        == 404
    )
    assert (
        client.post("/secretariat/applications/x/explode", data={"csrf_token": token}).status_code
        == 404
    )
    assert (
        client.get("/secretariat/?page=-3&state=bogus&submitted_from=yesterday").status_code == 200
    )
    assert client.get("/apply/confirm/not-a-token").status_code == 404
    assert client.get("/auth/reset/not-a-token").status_code == 404
    assert client.get("/auth/invitation/not-a-token").status_code == 404
