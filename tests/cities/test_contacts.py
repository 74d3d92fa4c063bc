"""Focal-point contacts: a city admin keeps them; each viewer sees only what their role may."""

import pytest
from sqlalchemy import select

from cacnet.cities.models import Contact
from cacnet.core.audit import AuditEvent
from cacnet.core.db import db
from tests.conftest import login, submit

CONTACT = {
    "name": "Kim Min-jun",
    "title": "Director",
    "department": "Citizens' Health Bureau",
    "email": "Kim@Seoul.example",
    "phone": "02-2133-0000",
    "languages": ["ko", "en"],
    "area": "health",
    "visibility": "members",
}


@pytest.fixture
def seoul(app, create_member_city, client):
    city_id, admin = create_member_city("Seoul", "KR")
    login(client, admin)
    return {"id": city_id, "admin": admin}


def _contacts(app):
    with app.app_context():
        return db.session.scalars(select(Contact).order_by(Contact.position)).all()


def test_add_edit_reorder_and_remove_contacts(app, client, seoul):
    response = submit(client, "/cities/seoul-kr/contacts", CONTACT)
    assert response.status_code == 302
    [kim] = _contacts(app)
    assert kim.phone == "+82221330000"  # E.164, read as a Seoul number
    assert kim.email == "kim@seoul.example" and kim.languages == ["en", "ko"]
    submit(
        client,
        "/cities/seoul-kr/contacts",
        {
            **CONTACT,
            "name": "Lee Seo-yeon",
            "phone": "+1 416 392 2489",
            "email": "",
            "area": "supplies",
            "visibility": "public",
        },
    )
    assert [c.name for c in _contacts(app)] == ["Kim Min-jun", "Lee Seo-yeon"]
    assert _contacts(app)[1].phone == "+14163922489"

    lee = _contacts(app)[1]
    submit(client, f"/cities/seoul-kr/contacts/{lee.id}/up", page="/cities/seoul-kr/contacts")
    assert [c.name for c in _contacts(app)] == ["Lee Seo-yeon", "Kim Min-jun"]

    response = submit(
        client,
        f"/cities/seoul-kr/contacts/{kim.id}/edit",
        {**CONTACT, "title": "Deputy Director", "is_primary": "y"},
    )
    assert response.status_code == 302
    kim = next(c for c in _contacts(app) if c.name == "Kim Min-jun")
    assert kim.title == "Deputy Director" and kim.is_primary

    submit(client, f"/cities/seoul-kr/contacts/{kim.id}/delete", page="/cities/seoul-kr/contacts")
    assert [c.name for c in _contacts(app)] == ["Lee Seo-yeon"]
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.object_type == "contacts")
            .order_by(AuditEvent.id)
        ).all()
        assert actions == [
            "contact_added",
            "contact_added",
            "contact_moved",
            "contact_updated",
            "contact_removed",
        ]
        updated = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "contact_updated")
        )
        assert (
            updated.details["old"]["title"] == "Director"
            and updated.details["new"]["title"] == "Deputy Director"
        )


def test_only_one_primary_focal_point(app, client, seoul):
    submit(client, "/cities/seoul-kr/contacts", {**CONTACT, "is_primary": "y"})
    submit(client, "/cities/seoul-kr/contacts", {**CONTACT, "name": "Lee", "is_primary": "y"})
    primaries = [c.name for c in _contacts(app) if c.is_primary]
    assert primaries == ["Lee"]


def test_the_database_refuses_two_primaries(app, seoul):
    from sqlalchemy.exc import IntegrityError

    with app.app_context():
        db.session.add_all(
            [Contact(city_id=seoul["id"], name=n, is_primary=True) for n in ("A", "B")]
        )
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"phone": "12"}, "valid phone number"),
        ({"phone": "call me maybe"}, "valid phone number"),
        ({"email": "not-an-address"}, "valid e-mail address"),
        ({"area": "magic"}, "Not a valid choice"),
        ({"visibility": "everyone"}, "Not a valid choice"),
        ({"languages": ["zz"]}, "not a valid choice"),
        ({"name": "<script>x</script>"}, "plain text"),
    ],
)
def test_bad_contacts_are_refused(app, client, seoul, changes, message):
    response = submit(client, "/cities/seoul-kr/contacts", {**CONTACT, **changes})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _contacts(app) == []


def test_a_forged_contact_id_of_another_city_is_404(app, client, seoul, create_member_city):
    london_id, london_admin = create_member_city("London", "GB")
    other = app.test_client()
    login(other, london_admin)
    submit(other, "/cities/london-gb/contacts", {**CONTACT, "phone": "+44 20 7983 4000"})
    [london_contact] = _contacts(app)
    response = client.get(f"/cities/seoul-kr/contacts/{london_contact.id}/edit")
    assert response.status_code == 404
    response = submit(
        client,
        f"/cities/seoul-kr/contacts/{london_contact.id}/delete",
        page="/cities/seoul-kr/contacts",
    )
    assert response.status_code == 404
    assert len(_contacts(app)) == 1


def test_visibility_matrix_on_the_city_page(
    app, client, seoul, create_member_city, create_user, secretariat
):
    for visibility in ("public", "members", "secretariat"):
        submit(
            client,
            "/cities/seoul-kr/contacts",
            {**CONTACT, "name": f"{visibility} contact", "visibility": visibility},
        )
    create_user("delegate@seoul.example", city_id=seoul["id"])
    _, london_admin = create_member_city("London", "GB")
    viewers = {
        "anonymous": (None, {"public"}),
        "delegate of another member city": (london_admin, {"public", "members"}),
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
        page = viewer.get("/cities/seoul-kr").get_data(as_text=True)
        seen = {v for v in ("public", "members", "secretariat") if f"{v} contact" in page}
        assert seen == expected, who


def test_a_withdrawn_citys_delegates_see_only_public_contacts_of_others(
    app, client, seoul, create_member_city, secretariat
):
    submit(
        client,
        "/cities/seoul-kr/contacts",
        {**CONTACT, "name": "members contact", "visibility": "members"},
    )
    london_id, london_admin = create_member_city("London", "GB")
    from cacnet.accounts.models import User
    from cacnet.membership import services as membership
    from cacnet.membership.models import Membership

    with app.test_request_context(base_url="http://localhost"):
        officer = db.session.scalar(select(User).where(User.email == secretariat))
        m = db.session.scalar(select(Membership).where(Membership.city_id == london_id))
        membership.withdraw(officer, m, "Left the alliance")
        db.session.commit()
    viewer = app.test_client()
    login(viewer, london_admin)
    assert "members contact" not in viewer.get("/cities/seoul-kr").get_data(as_text=True)
