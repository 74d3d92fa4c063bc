"""Signing in and out, remember-me, password reset and change, throttling, no account enumeration."""

import re

import pytest
from sqlalchemy import select

from cacnet.accounts.models import ActionToken, User
from cacnet.core.db import db
from tests.conftest import PASSWORD, csrf_token, link_in, login, submit

NEW_PASSWORD = "Seven-Lanterns-over-Han-River"


@pytest.fixture
def delegate(create_member_city):
    _, email = create_member_city("Seoul", "KR")
    return email


def test_sign_in_lands_on_the_account_and_sign_out_ends_the_session(client, delegate):
    response = login(client, delegate)
    assert response.status_code == 302 and response.headers["Location"] == "/account/"
    assert client.get("/account/").status_code == 200
    response = submit(client, "/auth/logout", page="/auth/logout")
    assert response.status_code == 302
    assert client.get("/account/").status_code == 302  # back to the login page


def test_logout_by_get_only_shows_a_button(client, delegate):
    login(client, delegate)
    assert client.get("/auth/logout").status_code == 200
    assert client.get("/account/").status_code == 200  # still signed in


def test_secretariat_lands_on_the_queue(client, secretariat):
    response = login(client, secretariat)
    assert response.headers["Location"] == "/secretariat/"


def test_email_is_case_insensitive_at_sign_in(client, delegate):
    assert login(client, delegate.upper()).status_code == 302


def test_wrong_password_and_unknown_account_get_the_same_answer(client, delegate):
    wrong = login(client, delegate, "not-the-password-at-all").get_data(as_text=True)
    unknown = login(client, "nobody@nowhere.example", "not-the-password-at-all").get_data(
        as_text=True
    )
    message = "The e-mail address or password is not right."
    assert message in wrong and message in unknown
    strip = lambda html: re.sub(r'value="[^"]*"', "", html)  # noqa: E731 - tokens and typed e-mail differ
    assert strip(wrong).replace(delegate, "") == strip(unknown).replace(
        "nobody@nowhere.example", ""
    )


def test_the_session_is_renewed_at_sign_in(client, delegate):
    client.get("/auth/login")
    before = client.get_cookie("session").value
    login(client, delegate)
    after = client.get_cookie("session").value
    assert before != after
    # A fixed-up pre-login session cookie does not carry the login.
    other = client.application.test_client()
    other.set_cookie("session", before)
    assert other.get("/account/").status_code == 302


def test_remember_me_sets_a_lasting_cookie(client, delegate):
    login(client, delegate, remember="y")
    cookie = client.get_cookie("remember_token")
    assert cookie is not None and cookie.http_only and cookie.expires is not None


def test_safe_next_redirect(client, delegate):
    html = client.get("/auth/login?next=/account/password").get_data(as_text=True)
    response = client.post(
        "/auth/login",
        data={
            "csrf_token": csrf_token(html),
            "email": delegate,
            "password": PASSWORD,
            "next": "/account/password",
        },
    )
    assert response.headers["Location"] == "/account/password"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
        "http:evil.example",
    ],
)
def test_foreign_next_is_ignored(client, delegate, target):
    html = client.get("/auth/login").get_data(as_text=True)
    response = client.post(
        "/auth/login",
        data={
            "csrf_token": csrf_token(html),
            "email": delegate,
            "password": PASSWORD,
            "next": target,
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/"


def test_login_is_throttled_per_account(app, client, delegate):
    for _ in range(5):
        assert login(client, delegate, "wrong-password-entirely").status_code == 200
    # Even the right password is refused now, from any address, until the window passes.
    other = app.test_client()
    response = login(other, delegate, environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)
    assert response.headers["Retry-After"]


def test_login_is_throttled_per_address(app, client):
    for i in range(20):
        assert (
            login(client, f"user{i}@nowhere.example", "wrong-password-entirely").status_code == 200
        )
    assert login(client, "user99@nowhere.example", "wrong-password-entirely").status_code == 429


def test_successful_logins_do_not_count_toward_the_limit(app, client, delegate):
    for _ in range(7):
        assert login(client, delegate).status_code == 302
        submit(client, "/auth/logout", page="/auth/logout")


def test_password_reset_round_trip(app, client, delegate, outbox):
    response = submit(client, "/auth/reset", {"email": delegate.upper()})
    assert response.status_code == 302
    [mail] = outbox.to(delegate, "new password")
    path = link_in(mail, "/auth/reset/")
    assert client.get(path).status_code == 200
    response = submit(client, path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert login(client, delegate, PASSWORD).status_code == 200  # old password is gone
    assert login(client, delegate, NEW_PASSWORD).status_code == 302
    # The link is single-use.
    assert client.get(path).status_code == 404
    assert outbox.to(delegate, "password was changed")


def test_password_reset_for_an_unknown_address_looks_the_same_and_sends_nothing(client, outbox):
    response = submit(
        client, "/auth/reset", {"email": "ghost@nowhere.example"}, follow_redirects=True
    )
    assert "If an account uses this address" in response.get_data(as_text=True)
    assert outbox.messages == []


def test_an_expired_reset_link_does_not_work(app, client, delegate, outbox):
    from datetime import timedelta

    from cacnet.core.db import utcnow

    submit(client, "/auth/reset", {"email": delegate})
    [mail] = outbox.to(delegate, "new password")
    path = link_in(mail, "/auth/reset/")
    with app.app_context():
        token = db.session.scalar(select(ActionToken))
        token.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    assert client.get(path).status_code == 404
    response = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code in (400, 404)
    assert login(client, delegate, NEW_PASSWORD).status_code == 200


def test_password_reset_is_throttled(client, delegate):
    for _ in range(3):
        assert submit(client, "/auth/reset", {"email": delegate}).status_code == 302
    assert submit(client, "/auth/reset", {"email": delegate}).status_code == 429


def test_reset_signs_out_other_sessions(app, client, delegate, outbox):
    login(client, delegate)
    other = app.test_client()
    submit(other, "/auth/reset", {"email": delegate})
    [mail] = outbox.to(delegate, "new password")
    path = link_in(mail, "/auth/reset/")
    submit(other, path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert client.get("/account/").status_code == 302


def test_change_password(app, client, delegate):
    login(client, delegate)
    response = submit(
        client,
        "/account/password",
        {"current_password": "wrong-one-here", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert "Your current password is not right." in response.get_data(as_text=True)
    response = submit(
        client,
        "/account/password",
        {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert client.get("/account/").status_code == 200  # this device stays signed in
    submit(client, "/auth/logout", page="/auth/logout")
    assert login(client, delegate, NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short-pw", "at least 12 characters"),
        ("x" * 257, "at most 256 characters"),
        ("password1234", "most common"),
        ("qwertyuiop123", "most common"),
        ("seoul-seoul-seoul-2020", "e-mail address or city name"),
        ("aaaaaaaaaaaaaaaa", "too easy to guess"),
    ],
)
def test_weak_new_passwords_are_refused(app, client, delegate, password, message):
    login(client, delegate)
    response = submit(
        client,
        "/account/password",
        {"current_password": PASSWORD, "password": password, "confirm": password},
    )
    assert message in response.get_data(as_text=True)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == delegate))
        from cacnet.core.security import verify_password

        assert verify_password(user.password_hash, PASSWORD)


def test_a_long_passphrase_of_128_characters_is_accepted(client, delegate):
    login(client, delegate)
    long_password = ("Gwanghwamun-plaza-lanterns-" * 5)[:128]
    response = submit(
        client,
        "/account/password",
        {"current_password": PASSWORD, "password": long_password, "confirm": long_password},
    )
    assert response.status_code == 302


def test_a_disabled_account_cannot_sign_in(app, client, delegate):
    from cacnet.core.db import utcnow

    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == delegate))
        user.disabled_at = utcnow()
        db.session.commit()
    assert login(client, delegate).status_code == 200
