"""Every protected URL, for every role: anonymous visitors are sent to sign in, the wrong role gets
403, the right role gets the page (or its action)."""

import io

import pytest
from sqlalchemy import select

from cacnet.accounts.models import Invitation, User
from cacnet.core.db import db
from cacnet.membership.models import Membership
from tests.conftest import PASSWORD, csrf_token, login, submit
from tests.helpers import pdf_bytes

ROLES = ["anonymous", "applicant", "delegate", "city_admin", "signatory", "secretariat", "admin"]
STAFF = {"secretariat", "admin"}
CITY = {"delegate", "city_admin", "signatory"}
SIGNED_IN = set(ROLES) - {"anonymous"}

# (method, url template, roles allowed)
PROTECTED = [
    ("GET", "/account/", SIGNED_IN),
    ("GET", "/account/password", SIGNED_IN),
    ("GET", "/account/city", CITY),
    ("POST", "/account/city", {"city_admin"}),
    ("POST", "/account/invitations/revoke", {"city_admin"}),
    ("GET", "/secretariat/", STAFF),
    ("GET", "/secretariat/audit", STAFF),
    ("GET", "/secretariat/applications/{uuid}", STAFF),
    ("GET", "/secretariat/applications/{uuid}/letter.pdf", STAFF),
    ("POST", "/secretariat/applications/{uuid}/reject", STAFF),
    ("POST", "/secretariat/users/{delegate_id}/signatory", STAFF),
    ("POST", "/secretariat/users/{signatory_id}/signatory/revoke", STAFF),
]


@pytest.fixture
def world(app, client, create_member_city, create_user, secretariat, outbox):
    """A member city with its admin, a delegate and a signatory; an admin; and an applicant whose
    application (with a letter of intent) waits for the secretariat."""
    city_id, admin_email = create_member_city("Seoul", "KR")
    create_user("delegate@seoul.example", city_id=city_id)
    signatory_id = create_user("mayor@seoul.example", city_id=city_id)
    create_user("root@caap.example", role="admin")
    from cacnet.accounts import services

    with app.test_request_context(base_url="http://localhost"):
        services.grant_signing_authority(None, db.session.get(User, signatory_id), "letter")
        db.session.commit()
    applicant = app.test_client()
    html = applicant.get("/apply").get_data(as_text=True)
    applicant.post(
        "/apply",
        data={
            "csrf_token": csrf_token(html),
            "city_name_en": "Jakarta",
            "country_code": "ID",
            "applicant_name": "Budi",
            "email": "budi@jakarta.example",
            "password": PASSWORD,
            "confirm": PASSWORD,
            "letter": (io.BytesIO(pdf_bytes()), "letter.pdf"),
        },
        content_type="multipart/form-data",
    )
    with app.app_context():
        membership = db.session.scalar(
            select(Membership).where(Membership.city_name_en == "Jakarta")
        )
        membership.state = "submitted"  # as if confirmed; the journey test covers the link
        db.session.commit()
        delegate_id = db.session.scalar(
            select(User.id).where(User.email == "delegate@seoul.example")
        )
        uuid = membership.uuid
    login(client, admin_email)
    submit(
        client,
        "/account/city",
        {"email": "guest@seoul.example", "role": "delegate", "locale": "en"},
    )
    submit(client, "/auth/logout", page="/auth/logout")
    with app.app_context():
        invitation_id = db.session.scalar(select(Invitation.id))
    return {
        "uuid": uuid,
        "delegate_id": delegate_id,
        "signatory_id": signatory_id,
        "invitation_id": invitation_id,
        "emails": {
            "applicant": "budi@jakarta.example",
            "delegate": "delegate@seoul.example",
            "city_admin": admin_email,
            "signatory": "mayor@seoul.example",
            "secretariat": secretariat,
            "admin": "root@caap.example",
        },
    }


@pytest.mark.parametrize("role", ROLES)
def test_every_protected_url_for_every_role(app, client, world, role):
    if role != "anonymous":
        assert login(client, world["emails"][role]).status_code == 302
    token = csrf_token(client.get("/auth/reset").get_data(as_text=True))
    for method, template, allowed in PROTECTED:
        url = template.format(**world).replace(
            "/account/invitations/revoke",
            f"/account/city/invitations/{world['invitation_id']}/revoke",
        )
        data = {"csrf_token": token, "reason": "a reason", "evidence": "a letter"}
        response = client.get(url) if method == "GET" else client.post(url, data=data)
        where = f"{role} {method} {url}"
        if role == "anonymous":
            assert response.status_code == 302, where
            assert response.headers["Location"].startswith("/auth/login?next="), where
        elif role in allowed:
            assert response.status_code in (200, 302), where
            if response.status_code == 302:
                assert not response.headers["Location"].startswith("/auth/login"), where
        else:
            assert response.status_code == 403, where
            assert "Not allowed" in response.get_data(as_text=True), where


def test_a_plain_delegate_cannot_revoke_an_invitation_through_the_service(app, world):
    """The view lets any city member post; the service is what refuses."""
    from cacnet.accounts import services
    from cacnet.core.errors import PermissionDenied

    with app.test_request_context(base_url="http://localhost"):
        delegate = db.session.get(User, world["delegate_id"])
        invitation = db.session.get(Invitation, world["invitation_id"])
        with pytest.raises(PermissionDenied):
            services.revoke_invitation(delegate, invitation)


def test_an_admin_of_another_city_cannot_revoke_this_citys_invitation(
    app, client, world, create_member_city
):
    _, london_admin = create_member_city("London", "GB")
    login(client, london_admin)
    response = submit(
        client, f"/account/city/invitations/{world['invitation_id']}/revoke", page="/account/city"
    )
    assert response.status_code == 403
    with app.app_context():
        assert db.session.get(Invitation, world["invitation_id"]).revoked_at is None


def test_invitation_roles_cannot_be_forged_to_staff(app, client, world):
    login(client, world["emails"]["city_admin"])
    response = submit(
        client,
        "/account/city",
        {"email": "sneaky@seoul.example", "role": "secretariat", "locale": "en"},
    )
    assert response.status_code == 200
    assert "Not a valid choice" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Invitation).filter_by(email="sneaky@seoul.example").count() == 0
