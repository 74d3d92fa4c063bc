"""The secretariat's queue and pages: filters, the letter, signing authority, the audit log."""

import io
from datetime import timedelta

from sqlalchemy import select

from cacnet.accounts.models import SigningAuthority, User
from cacnet.core.db import db, utcnow
from cacnet.membership.models import Membership, MembershipState
from tests.conftest import PASSWORD, csrf_token, login, submit
from tests.helpers import pdf_bytes


def _submitted(app, client, name, country, days_ago=0, letter=None):
    html = client.get("/apply").get_data(as_text=True)
    data = {
        "csrf_token": csrf_token(html),
        "city_name_en": name,
        "country_code": country,
        "applicant_name": f"{name} Applicant",
        "email": f"{name.lower()}@apply.example",
        "password": PASSWORD,
        "confirm": PASSWORD,
    }
    if letter:
        data["letter"] = (io.BytesIO(letter), "letter.pdf")
    assert client.post("/apply", data=data, content_type="multipart/form-data").status_code == 302
    with app.app_context():
        m = db.session.scalar(select(Membership).where(Membership.city_name_en == name))
        m.state = MembershipState.SUBMITTED
        m.submitted_at = utcnow() - timedelta(days=days_ago)
        db.session.commit()
        return m.uuid


def test_queue_filters_by_state_country_date_and_text(app, client, secretariat):
    anon = app.test_client()
    _submitted(app, anon, "Hanoi", "VN", days_ago=10)
    _submitted(app, anon, "Osaka", "JP", days_ago=1)
    _submitted(app, anon, "Kyoto", "JP", days_ago=40)
    login(client, secretariat)

    def cities(query=""):
        html = client.get(f"/secretariat/{query}").get_data(as_text=True)
        return {c for c in ("Hanoi", "Osaka", "Kyoto") if c in html}

    assert cities() == {"Hanoi", "Osaka", "Kyoto"}  # default: submitted
    assert cities("?state=approved") == set()
    assert cities("?state=&country=JP") == {"Osaka", "Kyoto"}
    since = (utcnow() - timedelta(days=15)).date().isoformat()
    assert cities(f"?state=submitted&submitted_from={since}") == {"Hanoi", "Osaka"}
    until = (utcnow() - timedelta(days=5)).date().isoformat()
    assert cities(f"?state=submitted&country=JP&submitted_to={until}") == {"Kyoto"}
    assert cities("?state=submitted&q=osaka") == {"Osaka"}
    assert cities("?state=submitted&q=hanoi@apply") == {"Hanoi"}


def test_unverified_applications_stay_out_of_the_default_queue(app, client, secretariat):
    anon = app.test_client()
    html = anon.get("/apply").get_data(as_text=True)
    anon.post(
        "/apply",
        data={
            "csrf_token": csrf_token(html),
            "city_name_en": "Lima",
            "country_code": "PE",
            "applicant_name": "A",
            "email": "a@lima.example",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )
    login(client, secretariat)
    assert "Lima" not in client.get("/secretariat/").get_data(as_text=True)
    assert "Lima" not in client.get("/secretariat/?state=").get_data(as_text=True)


def test_the_secretariat_downloads_the_letter(app, client, secretariat):
    letter = pdf_bytes(2)
    uuid = _submitted(app, app.test_client(), "Hanoi", "VN", letter=letter)
    login(client, secretariat)
    response = client.get(f"/secretariat/applications/{uuid}/letter.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data == letter


def test_grant_and_revoke_signing_authority(
    app, client, secretariat, create_member_city, create_user, outbox
):
    city_id, admin = create_member_city("Seoul", "KR")
    mayor_id = create_user("mayor@seoul.example", city_id=city_id, name="Mayor Oh")
    login(client, secretariat)
    with app.app_context():
        uuid = db.session.scalar(select(Membership.uuid).where(Membership.city_id == city_id))
    detail = f"/secretariat/applications/{uuid}"
    submit(
        client,
        f"/secretariat/users/{mayor_id}/signatory",
        {"evidence": "Letter of 2 June 2020"},
        page=detail,
    )
    with app.app_context():
        assert db.session.get(User, mayor_id).is_signatory
    assert outbox.to("mayor@seoul.example", "sign for")
    assert "Signatory since" in client.get(detail).get_data(as_text=True)
    # Granting twice is refused, revoking needs a reason.
    submit(client, f"/secretariat/users/{mayor_id}/signatory", {"evidence": "again"}, page=detail)
    submit(client, f"/secretariat/users/{mayor_id}/signatory/revoke", {"reason": ""}, page=detail)
    with app.app_context():
        assert db.session.query(SigningAuthority).count() == 1
        assert db.session.get(User, mayor_id).is_signatory
    submit(
        client,
        f"/secretariat/users/{mayor_id}/signatory/revoke",
        {"reason": "Left office"},
        page=detail,
    )
    with app.app_context():
        assert not db.session.get(User, mayor_id).is_signatory


def test_signing_authority_only_for_delegates_of_an_approved_city(
    app, secretariat, create_member_city, create_user
):
    from cacnet.accounts import services
    from cacnet.core.errors import ServiceError
    from cacnet.membership import services as membership

    city_id, _ = create_member_city("Seoul", "KR")
    mayor_id = create_user("mayor@seoul.example", city_id=city_id)
    with app.test_request_context(base_url="http://localhost"):
        officer = db.session.scalar(select(User).where(User.email == secretariat))
        m = db.session.scalar(select(Membership).where(Membership.city_id == city_id))
        membership.suspend(officer, m, "Unpaid dues")
        db.session.commit()
        try:
            services.grant_signing_authority(officer, db.session.get(User, mayor_id), "letter")
        except ServiceError as error:
            assert "approved member city" in str(error.message)
        else:
            raise AssertionError("granted to a suspended city's delegate")
        db.session.rollback()


def test_the_audit_log_lists_changes_with_actor_and_address(app, client, secretariat):
    uuid = _submitted(app, app.test_client(), "Hanoi", "VN")
    login(client, secretariat)
    detail = f"/secretariat/applications/{uuid}"
    submit(client, f"{detail}/reject", {"reason": "Incomplete letter"}, page=detail)
    html = client.get("/secretariat/audit").get_data(as_text=True)
    assert "membership_reject" in html and "Incomplete letter" in html and secretariat in html
    assert "127.0.0.1" in html
    history = client.get(detail).get_data(as_text=True)
    assert "Incomplete letter" in history
