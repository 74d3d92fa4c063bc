"""The secretariat merges a city that is in the directory twice into the one that stays: a preview,
then everything attached to the duplicate moves."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from cacnet.accounts import services as accounts
from cacnet.accounts.models import Invitation, SigningAuthority, User, UserRole
from cacnet.cities import services as cities
from cacnet.cities.models import City, Contact
from cacnet.core.audit import AuditEvent
from cacnet.core.db import db
from cacnet.membership.models import Membership, MembershipState
from tests.conftest import PASSWORD, csrf_token, login

MERGE = "/secretariat/cities/merge"


@pytest.fixture
def officer(client, secretariat):
    assert login(client, secretariat).status_code == 302
    return client


@pytest.fixture
def two_seouls(app, create_member_city, create_user, secretariat):
    """Seoul (to keep) and "Seoul City" (the duplicate), both members, each with a primary focal
    point; the duplicate also has a delegate who may sign, an open invitation to an address Seoul
    has invited too, and a mayor's name that Seoul lacks."""
    keep_id, keep_admin = create_member_city("Seoul", "KR")
    dup_id, dup_admin = create_member_city(
        "Seoul City", "KR", admin_email="admin@seoulcity.example"
    )
    delegate_id = create_user("delegate@seoulcity.example", city_id=dup_id)
    with app.test_request_context(base_url="http://localhost"):
        officer = db.session.scalar(select(User).where(User.email == secretariat))
        keep, dup = db.session.get(City, keep_id), db.session.get(City, dup_id)
        for city, name in ((keep, "Kim Keep"), (dup, "Lee Duplicate")):
            cities.add_contact(
                officer,
                city,
                cities.ContactData(
                    name=name, email=f"{name[:3].lower()}@x.example", is_primary=True
                ),
            )
        cities.add_contact(officer, dup, cities.ContactData(name="Park Second"))
        dup.mayor_name = "Oh Mayor"
        dup.latitude, dup.longitude = 37.5665, 126.978
        keep.description = "The capital."
        for admin_email in (keep_admin, dup_admin):
            admin = db.session.scalar(select(User).where(User.email == admin_email))
            accounts.invite_colleague(admin, "guest@seoul.example", UserRole.DELEGATE, "en")
        dup_admin_user = db.session.scalar(select(User).where(User.email == dup_admin))
        accounts.invite_colleague(dup_admin_user, "other@seoul.example", UserRole.DELEGATE, "en")
        accounts.grant_signing_authority(officer, db.session.get(User, delegate_id), "letter")
        db.session.commit()
    return {"keep": keep_id, "duplicate": dup_id, "delegate": delegate_id, "dup_admin": dup_admin}


def preview(client, duplicate: str, keep: str):
    token = csrf_token(client.get(MERGE).get_data(as_text=True))
    return client.post(MERGE, data={"csrf_token": token, "duplicate": duplicate, "keep": keep})


def confirm(client, duplicate: str, keep: str):
    token = csrf_token(client.get(MERGE).get_data(as_text=True))
    return client.post(
        MERGE + "/confirm", data={"csrf_token": token, "duplicate": duplicate, "keep": keep}
    )


def test_merging_moves_people_contacts_and_memberships_to_the_kept_city(
    app, officer, two_seouls, secretariat
):
    page = preview(officer, "seoul-city-kr", "http://localhost/cities/seoul-kr").get_data(
        as_text=True
    )
    assert "What the merge would do" in page
    assert "2 users move to the kept city" in page and "Seoul City Admin" in page
    assert "2 contacts move" in page and "Lee Duplicate stops being primary" in page
    assert "2 invitations move" in page and "1 open invitation to an address" in page
    assert "1 signing authority moves" in page
    assert "1 membership moves" in page and "“merged into seoul-kr”" in page
    assert "Mayor's name: Oh Mayor" in page
    with app.app_context():  # a preview writes nothing
        assert db.session.get(City, two_seouls["duplicate"]).merged_into_id is None

    response = confirm(officer, "seoul-city-kr", "seoul-kr")
    assert response.status_code == 302 and response.headers["Location"] == MERGE
    assert "seoul-city-kr was merged into seoul-kr." in officer.get(MERGE).get_data(as_text=True)

    with app.app_context():
        keep_id, dup_id = two_seouls["keep"], two_seouls["duplicate"]
        keep, dup = db.session.get(City, keep_id), db.session.get(City, dup_id)
        assert dup.merged_into_id == keep_id
        emails = set(db.session.scalars(select(User.email).where(User.city_id == keep_id)))
        assert {
            "delegate@seoulcity.example",
            two_seouls["dup_admin"],
            "seoul@cities.example",
        } <= emails
        assert db.session.scalar(select(func.count()).where(User.city_id == dup_id)) == 0

        contacts = db.session.scalars(
            select(Contact).where(Contact.city_id == keep_id).order_by(Contact.position)
        ).all()
        assert [c.name for c in contacts] == ["Kim Keep", "Lee Duplicate", "Park Second"]
        assert [c.name for c in contacts if c.is_primary] == ["Kim Keep"]

        invitations = db.session.scalars(
            select(Invitation).where(Invitation.city_id == keep_id)
        ).all()
        assert len(invitations) == 3
        guests = [i for i in invitations if i.email == "guest@seoul.example"]
        assert sorted(i.revoked_at is None for i in guests) == [False, True]  # one stays open
        grant = db.session.scalar(select(SigningAuthority))
        assert grant.city_id == keep_id and grant.revoked_at is None

        memberships = db.session.scalars(
            select(Membership).where(Membership.city_id == keep_id).order_by(Membership.id)
        ).all()
        assert [m.state for m in memberships] == [
            MembershipState.APPROVED,
            MembershipState.WITHDRAWN,
        ]
        ended = memberships[1]
        assert ended.city_name_en == "Seoul City" and ended.reason == "merged into seoul-kr"
        assert ended.decided_by.email == secretariat
        assert keep.active_membership.id == memberships[0].id

        # Empty fields of the kept city are filled; its own are kept.
        assert keep.mayor_name == "Oh Mayor" and (keep.latitude, keep.longitude) == (
            37.5665,
            126.978,
        )
        assert keep.description == "The capital."

        merged = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "city_merged"))
        assert merged.object_id == dup_id and merged.actor.email == secretariat
        assert merged.details["into"] == "seoul-kr" and len(merged.details["users"]) == 2
        assert merged.details["ended_membership"] == ended.id
        received = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "city_merge_received")
        )
        assert received.object_id == keep_id
        assert received.details["changes"]["mayor_name"] == {"old": "", "new": "Oh Mayor"}
        withdrawn = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "membership_withdraw")
        )
        assert withdrawn.object_id == ended.id and withdrawn.reason == "merged into seoul-kr"


def test_nothing_refers_to_the_duplicate_after_a_merge(app, officer, two_seouls):
    """Every table with a link to a city (today's and those added later) is moved."""
    confirm(officer, "seoul-city-kr", "seoul-kr")
    with app.app_context():
        dup_id = two_seouls["duplicate"]
        for table in db.metadata.sorted_tables:
            for column in table.columns:
                for fk in column.foreign_keys:
                    if (
                        fk.column.table.name != "cities"
                        or column is City.__table__.c.merged_into_id
                    ):
                        continue
                    count = db.session.scalar(
                        select(func.count()).select_from(table).where(column == dup_id)
                    )
                    assert count == 0, f"{table.name}.{column.name} still points at the duplicate"


def test_a_duplicate_that_is_the_only_member_hands_its_membership_over(
    app, officer, create_member_city
):
    dup_id, _ = create_member_city("Busan Metropolitan City", "KR")
    with app.app_context():
        keep = City(
            slug="busan-kr", name_en="Busan", country_code="KR"
        )  # in the directory, no member
        db.session.add(keep)
        db.session.commit()
        keep_id = keep.id
    page = preview(officer, "busan-metropolitan-city-kr", "busan-kr").get_data(as_text=True)
    assert "1 membership moves" in page and "merged into" not in page
    confirm(officer, "busan-metropolitan-city-kr", "busan-kr")
    with app.app_context():
        keep = db.session.get(City, keep_id)
        assert keep.active_membership.state == MembershipState.APPROVED
        assert keep.population == 1000000  # filled from the duplicate
        assert db.session.get(City, dup_id).merged_into_id == keep_id


@pytest.mark.parametrize("action", [preview, confirm])
def test_a_city_cannot_be_merged_into_itself(app, officer, create_member_city, action):
    create_member_city("Seoul", "KR")
    response = action(officer, "seoul-kr", "seoul-kr")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "A city cannot be merged into itself." in page
    assert "What the merge would do" not in page
    with app.app_context():
        assert db.session.scalar(select(City.merged_into_id)) is None
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "city_merged")
            )
            == 0
        )


def test_no_merge_into_or_of_a_city_that_was_merged_already(
    app, officer, two_seouls, create_member_city
):
    create_member_city("Incheon", "KR")
    confirm(officer, "seoul-city-kr", "seoul-kr")
    page = preview(officer, "incheon-kr", "seoul-city-kr").get_data(as_text=True)
    assert "Seoul City has itself been merged into seoul-kr: merge into that city instead." in page
    page = confirm(officer, "seoul-city-kr", "incheon-kr").get_data(as_text=True)
    assert "Seoul City has already been merged into another city." in page
    with app.app_context():
        assert (
            db.session.scalar(select(City.merged_into_id).where(City.slug == "incheon-kr")) is None
        )


def test_an_unknown_city_is_named_on_the_form(officer, create_member_city):
    create_member_city("Seoul", "KR")
    page = preview(officer, "atlantis-xx", "seoul-kr").get_data(as_text=True)
    assert "No city has this short name." in page
    assert "What the merge would do" not in page


def test_cities_merged_earlier_into_the_duplicate_follow_it(app, officer, create_member_city):
    for name in ("Seoul", "Seoul City", "Seoul Special City"):
        create_member_city(name, "KR")
    confirm(officer, "seoul-special-city-kr", "seoul-city-kr")
    page = preview(officer, "seoul-city-kr", "seoul-kr").get_data(as_text=True)
    assert "now lead to the kept city: seoul-special-city-kr" in page
    confirm(officer, "seoul-city-kr", "seoul-kr")
    with app.app_context():
        seoul_id = db.session.scalar(select(City.id).where(City.slug == "seoul-kr"))
        merged = db.session.scalars(select(City.slug).where(City.merged_into_id == seoul_id)).all()
        assert sorted(merged) == ["seoul-city-kr", "seoul-special-city-kr"]


URLS = [("GET", MERGE), ("POST", MERGE), ("POST", MERGE + "/confirm")]


@pytest.mark.parametrize("role", ["anonymous", "delegate", "city_admin"])
def test_only_the_secretariat_may_merge(app, client, create_member_city, create_user, role):
    keep_id, admin_email = create_member_city("Seoul", "KR")
    create_member_city("Seoul City", "KR")
    if role == "delegate":
        create_user("delegate@seoul.example", city_id=keep_id)
        login(client, "delegate@seoul.example", PASSWORD)
    elif role == "city_admin":
        login(client, admin_email)
    token = csrf_token(
        client.get("/auth/login" if role == "anonymous" else "/").get_data(as_text=True)
    )
    data = {"csrf_token": token, "duplicate": "seoul-city-kr", "keep": "seoul-kr"}
    for method, url in URLS:
        response = client.get(url) if method == "GET" else client.post(url, data=data)
        where = f"{role} {method} {url}"
        if role == "anonymous":
            assert response.status_code == 302, where
            assert response.headers["Location"].startswith("/auth/login?next="), where
        else:
            assert response.status_code == 403, where
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(City.merged_into_id.is_not(None))) == 0


def test_the_service_refuses_anyone_but_the_secretariat(app, two_seouls):
    from cacnet.cities.merge import merge_cities
    from cacnet.core.errors import PermissionDenied

    with app.test_request_context():
        admin = db.session.scalar(select(User).where(User.email == "seoul@cities.example"))
        keep, dup = (
            db.session.get(City, two_seouls["keep"]),
            db.session.get(City, two_seouls["duplicate"]),
        )
        with pytest.raises(PermissionDenied):
            merge_cities(admin, dup, keep)
