"""The whole first journey, as its people do it: a city applies, the applicant confirms from the
e-mail, the secretariat approves, the new city admin signs in and invites a colleague, who joins.
Mail goes through a real SMTP server on loopback."""

from sqlalchemy import select

from cacnet.accounts.models import User, UserRole
from cacnet.cities.models import City
from cacnet.core.audit import AuditEvent
from cacnet.core.db import db
from cacnet.membership.models import Membership, MembershipState
from tests.conftest import PASSWORD, body_of, link_in, login, submit

APPLICATION = {
    "city_name_en": "Budapest",
    "city_name_local": "Budapest Főváros",
    "country_code": "HU",
    "region": "Central Hungary",
    "population": "1706000",
    "website": "https://budapest.hu",
    "applicant_name": "Anna Kovács",
    "applicant_title": "Head of International Relations",
    "email": "Anna.Kovacs@Budapest.example",
    "password": PASSWORD,
    "confirm": PASSWORD,
}


def test_apply_confirm_approve_sign_in_invite_join(app, client, smtp_server, secretariat):
    # A city applies.
    response = submit(client, "/apply", APPLICATION)
    assert response.status_code == 302 and response.headers["Location"].endswith("/apply/sent")

    with app.app_context():
        membership = db.session.scalar(select(Membership))
        assert membership.state == MembershipState.PENDING_VERIFICATION
        assert membership.applicant.email == "anna.kovacs@budapest.example"  # stored lowercase
        assert membership.applicant.password_hash.startswith("$argon2")

    # Until verified, the secretariat's queue does not show it, and no officer has been told.
    login(client, secretariat)
    assert "Budapest" not in client.get("/secretariat/").get_data(as_text=True)
    assert smtp_server.to(secretariat) == []
    submit(client, "/auth/logout", page="/auth/logout")

    # The verification link arrives by SMTP; opening it confirms nothing (mail scanners prefetch).
    [verify] = smtp_server.to("anna.kovacs@budapest.example")
    assert "Budapest" in verify["Subject"]
    confirm_path = link_in(verify, "/apply/confirm/")
    page = client.get(confirm_path)
    assert page.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(Membership)).state == MembershipState.PENDING_VERIFICATION

    # The confirm button does.
    response = submit(client, confirm_path)
    assert response.status_code == 200
    assert "Application sent" in response.get_data(as_text=True)
    with app.app_context():
        membership = db.session.scalar(select(Membership))
        assert membership.state == MembershipState.SUBMITTED
        assert membership.applicant.email_verified_at is not None
    # The link works once.
    assert client.get(confirm_path).status_code == 404

    # The secretariat is told, and sees it in the queue.
    [notice] = smtp_server.to(secretariat)
    assert "Budapest" in notice["Subject"]
    login(client, secretariat)
    queue = client.get("/secretariat/").get_data(as_text=True)
    assert "Budapest" in queue
    detail_path = link_in(notice, "/secretariat/applications/")
    assert "Anna Kovács" in client.get(detail_path).get_data(as_text=True)

    # The secretariat approves.
    response = submit(client, f"{detail_path}/approve", {"reason": ""}, page=detail_path)
    assert response.status_code == 302
    with app.app_context():
        membership = db.session.scalar(select(Membership))
        assert membership.state == MembershipState.APPROVED
        city = db.session.scalar(select(City))
        assert (city.slug, city.name_local, city.country_code) == (
            "budapest-hu",
            "Budapest Főváros",
            "HU",
        )
        applicant = db.session.scalar(
            select(User).where(User.email == "anna.kovacs@budapest.example")
        )
        assert applicant.city_id == city.id and applicant.role == UserRole.CITY_ADMIN
        actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert [a for a in actions if a.startswith("membership_")] == [
            "membership_applied",
            "membership_verify",
            "membership_approve",
        ]
        approval = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "membership_approve")
        )
        assert approval.actor.email == secretariat
        assert (approval.from_state, approval.to_state) == ("submitted", "approved")
        assert approval.ip == "127.0.0.1"
    submit(client, "/auth/logout", page="/auth/logout")

    # The applicant is told, and signs in as the city's administrator.
    approved = [
        m for m in smtp_server.to("anna.kovacs@budapest.example") if "member" in m["Subject"]
    ]
    assert len(approved) == 1
    response = login(client, "anna.kovacs@budapest.example")
    assert response.status_code == 302
    team = client.get("/account/city").get_data(as_text=True)
    assert "Budapest" in team and "Invite a colleague" in team

    # The city admin invites a colleague.
    response = submit(
        client,
        "/account/city",
        {"email": "Bela@Budapest.example", "role": "delegate", "locale": "en"},
    )
    assert response.status_code == 302
    [invitation] = smtp_server.to("bela@budapest.example")
    assert "Budapest" in invitation["Subject"]
    join_path = link_in(invitation, "/auth/invitation/")
    submit(client, "/auth/logout", page="/auth/logout")

    # The colleague sets a password and joins the city.
    response = submit(
        client,
        join_path,
        {"name": "Béla Nagy", "title": "Epidemiologist", "password": PASSWORD, "confirm": PASSWORD},
    )
    assert response.status_code == 302
    team = client.get("/account/city").get_data(as_text=True)
    assert "Béla Nagy" in team and "Anna Kovács" in team
    with app.app_context():
        bela = db.session.scalar(select(User).where(User.email == "bela@budapest.example"))
        assert bela.city.slug == "budapest-hu" and bela.role == UserRole.DELEGATE
    # The invitation works once; the inviter is told.
    assert client.get(join_path).status_code == 404
    assert any("joined" in m["Subject"] for m in smtp_server.to("anna.kovacs@budapest.example"))


def test_mail_is_written_to_the_outbox_without_an_smtp_server(client, outbox):
    submit(client, "/apply", {**APPLICATION, "email": "outbox@budapest.example"})
    [msg] = outbox.to("outbox@budapest.example")
    assert "/apply/confirm/" in body_of(msg)
    assert msg["Content-Language"] == "en"


def test_mail_goes_in_the_applicants_language(client, outbox):
    submit(
        client,
        "/apply",
        {**APPLICATION, "email": "ko@budapest.example"},
        headers={"Accept-Language": "ko"},
    )
    [msg] = outbox.to("ko@budapest.example")
    assert msg["Content-Language"] == "ko"
    assert "Thank you for applying" not in body_of(msg)


def test_an_applicant_whose_link_was_lost_gets_a_new_one(app, client, outbox):
    submit(client, "/apply", {**APPLICATION, "email": "lost@budapest.example"})
    first = link_in(outbox.to("lost@budapest.example")[0], "/apply/confirm/")
    login(client, "lost@budapest.example")
    page = client.get("/account/").get_data(as_text=True)
    assert "awaiting e-mail check" in page
    with app.app_context():
        uuid = db.session.scalar(select(Membership.uuid))
    response = submit(client, f"/account/applications/{uuid}/resend", page="/account/")
    assert response.status_code == 302
    mails = outbox.to("lost@budapest.example", "Confirm")
    assert len(mails) == 2
    second = link_in(mails[-1], "/apply/confirm/")
    assert second != first
    submit(client, second)
    with app.app_context():
        assert db.session.scalar(select(Membership.state)) == MembershipState.SUBMITTED
    # Nothing left to confirm now.
    response = submit(client, f"/account/applications/{uuid}/resend", page="/account/")
    assert len(outbox.to("lost@budapest.example", "Confirm")) == 2


def test_nobody_else_can_resend_an_applicants_link(app, client, outbox, create_member_city):
    submit(client, "/apply", {**APPLICATION, "email": "mine@budapest.example"})
    with app.app_context():
        uuid = db.session.scalar(select(Membership.uuid))
    _, other = create_member_city("Seoul", "KR")
    other_client = app.test_client()
    login(other_client, other)
    response = submit(other_client, f"/account/applications/{uuid}/resend", page="/account/")
    assert response.status_code == 403
