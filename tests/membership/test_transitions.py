"""The membership state machine: every action from every state, allowed or refused, for every role;
resubmission after rejection; two officers acting on one application at once."""

import threading

import pytest
from sqlalchemy import select

from cacnet.accounts.models import User
from cacnet.core.audit import AuditEvent
from cacnet.core.db import db
from cacnet.membership.models import TRANSITIONS, Membership, MembershipState
from tests.conftest import PASSWORD, login, submit

S = MembershipState
ACTIONS = ["approve", "reject", "suspend", "reinstate", "withdraw"]
# How to reach each state from a fresh (submitted) application.
PATHS = {
    S.SUBMITTED: [],
    S.APPROVED: ["approve"],
    S.REJECTED: ["reject"],
    S.SUSPENDED: ["approve", "suspend"],
    S.WITHDRAWN: ["approve", "withdraw"],
}
ALLOWED = {(t.source, t.name) for t in TRANSITIONS.values()}


@pytest.fixture
def make_application(app, create_user):
    """make_application(state) -> membership uuid, moved to ``state`` by the secretariat."""
    from cacnet.accounts import services as accounts
    from cacnet.membership import services

    def _make(state=S.SUBMITTED, city="Hanoi", country="VN"):
        officer_id = create_user(f"maker-{city.lower()}@caap.example", role="secretariat")
        with app.test_request_context(base_url="http://localhost"):
            applicant = accounts.register_applicant(
                f"{city.lower()}@cities.example",
                name="Applicant",
                title="",
                password=PASSWORD,
                locale="en",
            )
            from cacnet.core.db import utcnow

            applicant.email_verified_at = utcnow()
            data = services.ApplicationData(city, "", country, "", 100, "")
            membership = services.submit_application(data, applicant, "en")
            officer = db.session.get(User, officer_id)
            for action in PATHS[state]:
                services.ACTIONS[action](officer, membership, "because")
            db.session.commit()
            assert membership.state == state
            return membership.uuid

    return _make


def _state(app, uuid):
    with app.app_context():
        return db.session.scalar(select(Membership.state).where(Membership.uuid == uuid))


@pytest.mark.parametrize("start", list(PATHS))
@pytest.mark.parametrize("action", ACTIONS)
def test_every_action_from_every_state(
    app, client, secretariat, make_application, outbox, start, action
):
    uuid = make_application(start)
    login(client, secretariat)
    detail = f"/secretariat/applications/{uuid}"
    mails_before = len(outbox.messages)
    response = submit(client, f"{detail}/{action}", {"reason": "A reason"}, page=detail)
    assert response.status_code == 302
    if (start, action) in ALLOWED:
        assert _state(app, uuid) == TRANSITIONS[action].target
        with app.app_context():
            event = db.session.scalar(
                select(AuditEvent)
                .where(AuditEvent.action == f"membership_{action}")
                .order_by(AuditEvent.id.desc())
            )
            assert event.actor.email == secretariat and event.from_state == start.value
            assert event.reason == "A reason"
        assert len(outbox.messages) == mails_before + 1  # the applicant is told
    else:
        assert _state(app, uuid) == start
        assert len(outbox.messages) == mails_before
        assert "cannot be changed this way" in client.get(detail).get_data(as_text=True)


@pytest.mark.parametrize("action", ["reject", "suspend", "withdraw"])
def test_a_reason_is_required_where_the_city_must_be_told_why(
    app, client, secretariat, make_application, action
):
    start = TRANSITIONS[action].source
    uuid = make_application(start)
    login(client, secretariat)
    detail = f"/secretariat/applications/{uuid}"
    submit(client, f"{detail}/{action}", {"reason": "   "}, page=detail)
    assert _state(app, uuid) == start
    assert "Give a reason." in client.get(detail).get_data(as_text=True)


@pytest.mark.parametrize("role", ["anonymous", "delegate", "city_admin", "admin"])
def test_only_the_secretariat_decides(
    app, client, make_application, create_member_city, create_user, role
):
    uuid = make_application(S.SUBMITTED)
    city_id, admin_email = create_member_city("Toronto", "CA")
    email = {
        "delegate": "del@toronto.example",
        "city_admin": admin_email,
        "admin": "root@caap.example",
    }.get(role)
    if role == "delegate":
        create_user(email, city_id=city_id)
    if role == "admin":
        create_user(email, role="admin")
    if email:
        login(client, email)
    html = client.get("/auth/reset").get_data(as_text=True)
    from tests.conftest import csrf_token

    response = client.post(
        f"/secretariat/applications/{uuid}/approve", data={"csrf_token": csrf_token(html)}
    )
    if role == "admin":  # the operator may act as secretariat
        assert _state(app, uuid) == S.APPROVED
    else:
        assert response.status_code == (302 if role == "anonymous" else 403)
        assert _state(app, uuid) == S.SUBMITTED


def test_service_refuses_a_non_secretariat_actor_even_without_the_view(
    app, make_application, create_member_city
):
    from cacnet.core.errors import PermissionDenied
    from cacnet.membership import services

    uuid = make_application(S.SUBMITTED)
    _, admin_email = create_member_city("Toronto", "CA")
    with app.test_request_context(base_url="http://localhost"):
        actor = db.session.scalar(select(User).where(User.email == admin_email))
        membership = db.session.scalar(select(Membership).where(Membership.uuid == uuid))
        with pytest.raises(PermissionDenied):
            services.approve(actor, membership)
        db.session.rollback()
    assert _state(app, uuid) == S.SUBMITTED


def test_a_rejected_city_can_apply_again(app, client, make_application, outbox):
    uuid = make_application(S.REJECTED)
    login(client, "hanoi@cities.example")
    response = submit(
        client, "/apply", {"city_name_en": "Hanoi", "country_code": "VN", "population": "8000000"}
    )
    assert response.status_code == 302
    with app.app_context():
        states = db.session.scalars(select(Membership.state).order_by(Membership.id)).all()
        # The applicant's address is verified already, so the new application goes straight in.
        assert states == [S.REJECTED, S.SUBMITTED]
    assert _state(app, uuid) == S.REJECTED


def test_a_second_open_application_for_the_same_city_is_refused(app, client, make_application):
    make_application(S.SUBMITTED, city="Hanoi", country="VN")
    response = submit(
        client,
        "/apply",
        {
            "city_name_en": "  HANOI ",
            "country_code": "VN",
            "applicant_name": "X",
            "email": "other@hanoi.example",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )
    assert response.status_code == 200
    assert "already applied or is already a member" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Membership).count() == 1
        assert db.session.query(User).filter_by(email="other@hanoi.example").count() == 0


def test_the_same_city_name_in_another_country_is_a_different_city(app, client, make_application):
    make_application(S.APPROVED, city="Valencia", country="ES")
    response = submit(
        client,
        "/apply",
        {
            "city_name_en": "Valencia",
            "country_code": "VE",
            "applicant_name": "X",
            "email": "v@valencia.example",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )
    assert response.status_code == 302


def test_a_suspended_citys_delegates_sign_in_but_cannot_act(
    app, client, make_application, create_user, secretariat
):
    uuid = make_application(S.SUSPENDED)
    login(client, "hanoi@cities.example")
    page = client.get("/account/city").get_data(as_text=True)
    assert "cannot act for the city" in page
    response = submit(
        client, "/account/city", {"email": "new@hanoi.example", "role": "delegate", "locale": "en"}
    )
    assert response.status_code == 403
    assert "not active" in response.get_data(as_text=True)
    with app.app_context():
        from cacnet.accounts.models import Invitation

        assert db.session.query(Invitation).count() == 0
    # Reinstated, the same admin can act again.
    client2 = app.test_client()
    login(client2, secretariat)
    detail = f"/secretariat/applications/{uuid}"
    submit(client2, f"{detail}/reinstate", {"reason": ""}, page=detail)
    response = submit(
        client, "/account/city", {"email": "new@hanoi.example", "role": "delegate", "locale": "en"}
    )
    assert response.status_code == 302


def test_a_rolled_back_transition_sends_no_mail(app, make_application, outbox):
    from cacnet.membership import services

    uuid = make_application(S.SUBMITTED)
    before = len(outbox.messages)
    with app.test_request_context(base_url="http://localhost"):
        officer = db.session.scalar(select(User).where(User.role == "secretariat"))
        membership = db.session.scalar(select(Membership).where(Membership.uuid == uuid))
        services.approve(officer, membership)
        db.session.rollback()
    assert len(outbox.messages) == before
    assert _state(app, uuid) == S.SUBMITTED


def test_two_officers_acting_at_once_leave_one_consistent_result(
    app, make_application, create_user, outbox
):
    """One approves while the other rejects: exactly one wins, the other is told, one mail is sent."""
    from cacnet.core.errors import ServiceError
    from cacnet.membership import services

    uuid = make_application(S.SUBMITTED)
    officers = [create_user(f"officer{i}@caap.example", role="secretariat") for i in (1, 2)]
    mails_before = len(outbox.messages)
    barrier = threading.Barrier(2)
    outcomes = []

    def act(officer_id, action):
        with app.test_request_context(base_url="http://localhost"):
            try:
                officer = db.session.get(User, officer_id)
                membership = db.session.scalar(select(Membership).where(Membership.uuid == uuid))
                assert membership.state == S.SUBMITTED  # both read the same state
                barrier.wait(timeout=10)
                services.ACTIONS[action](officer, membership, "a reason")
                db.session.commit()
                outcomes.append((action, "ok"))
            except (ServiceError, Exception) as error:  # noqa: BLE001 - we record which failed
                db.session.rollback()
                outcomes.append((action, type(error).__name__))
            finally:
                db.session.remove()

    threads = [
        threading.Thread(target=act, args=(officers[0], "approve")),
        threading.Thread(target=act, args=(officers[1], "reject")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    winners = [a for a, result in outcomes if result == "ok"]
    assert len(outcomes) == 2 and len(winners) == 1, outcomes
    final = _state(app, uuid)
    assert final == TRANSITIONS[winners[0]].target
    with app.app_context():
        decisions = db.session.scalars(
            select(AuditEvent.action).where(
                AuditEvent.action.in_(["membership_approve", "membership_reject"])
            )
        ).all()
        assert decisions == [f"membership_{winners[0]}"]
        from cacnet.cities.models import City

        assert db.session.query(City).count() == (1 if winners == ["approve"] else 0)
    assert len(outbox.messages) == mails_before + 1


def test_a_withdrawn_city_can_apply_to_return(app, client, make_application, secretariat):
    uuid = make_application(S.WITHDRAWN)
    login(client, "hanoi@cities.example")
    assert "Apply for your city" in client.get("/account/").get_data(as_text=True)
    form = client.get("/apply").get_data(as_text=True)
    assert 'value="Hanoi"' in form  # filled in from the city record
    # Only for its own city.
    response = submit(client, "/apply", {"city_name_en": "Saigon", "country_code": "VN"})
    assert "only for your own city" in response.get_data(as_text=True)
    response = submit(client, "/apply", {"city_name_en": "Hanoi", "country_code": "VN"})
    assert response.status_code == 302
    with app.app_context():
        new = db.session.scalar(select(Membership).where(Membership.state == S.SUBMITTED))
        new_uuid = new.uuid
    officer = app.test_client()
    login(officer, secretariat)
    detail = f"/secretariat/applications/{new_uuid}"
    submit(officer, f"{detail}/approve", {"reason": "Welcome back"}, page=detail)
    with app.app_context():
        from cacnet.cities.models import City

        assert db.session.query(City).count() == 1  # the same city record, not a second one
        city = db.session.scalar(select(City))
        assert city.is_active_member
        old = db.session.scalar(select(Membership).where(Membership.uuid == uuid))
        assert old.state == S.WITHDRAWN and old.city_id == city.id


def test_an_active_city_admin_cannot_apply(app, client, create_member_city):
    _, admin = create_member_city("Seoul", "KR")
    login(client, admin)
    response = client.get("/apply")
    assert response.status_code == 302
    response = submit(
        client, "/apply", {"city_name_en": "Busan", "country_code": "KR"}, page="/account/"
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.query(Membership).count() == 1
