"""Two-step sign-in with TOTP, on a frozen clock: enrolment from the QR page's key, sign-in with a
code (once only), recovery codes (single-use, stored hashed), mandatory enrolment for the
secretariat, and the second factor asked again before signing the Statement."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pyotp
import pytest
import time_machine
from sqlalchemy import func, select

from cacnet.accounts.models import RecoveryCode, User
from cacnet.core.audit import AuditEvent
from cacnet.core.db import db
from cacnet.statement.models import Endorsement
from tests.conftest import (
    PASSWORD,
    csrf_token,
    enrol_two_factor,
    login,
    submit,
    totp_code_for,
    totp_secret_for,
)

T0 = datetime(2026, 11, 21, 9, 0, 10, tzinfo=UTC)  # 10 s into a 30-second step


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def _user(app, email) -> User:
    with app.app_context():
        return db.session.scalar(select(User).where(User.email == email))


def _audited(app, action) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
        )


def _password_step(client, email):
    return submit(client, "/auth/login", {"email": email, "password": PASSWORD})


def _signed_in(client) -> bool:
    return client.get("/account/").status_code == 200


def test_a_delegate_enrols_from_the_key_on_the_page(app, client, create_member_city, clock, outbox):
    _, email = create_member_city("Hanoi", "VN")
    login(client, email)
    page = client.get("/account/two-factor/setup").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page  # the QR code, as an image the CSP allows
    key = re.search(r'<code class="hash">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")
    totp = pyotp.TOTP(key)

    wrong = submit(client, "/account/two-factor/setup", {"code": "000000"})
    assert "This code is not right" in wrong.get_data(as_text=True)
    assert _user(app, email).totp_enabled_at is None
    assert _audited(app, "two_factor_failed") == 1

    done = submit(client, "/account/two-factor/setup", {"code": totp.now()})
    assert done.headers["Location"].endswith("/account/two-factor/recovery-codes")
    shown = client.get("/account/two-factor/recovery-codes").get_data(as_text=True)
    codes = re.findall(r"<code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code>", shown)
    assert len(set(codes)) == 10
    # Shown once: the page forgets them.
    assert client.get("/account/two-factor/recovery-codes").status_code == 302
    user = _user(app, email)
    assert user.totp_enabled_at is not None and key not in (user.totp_secret or "")
    with app.app_context():
        hashes = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(hashes) == 10 and not any(c.replace("-", "") in hashes for c in codes)
    assert outbox.to(email, "Two-step sign-in is on")
    assert "on" in client.get("/account/").get_data(as_text=True)


def test_sign_in_asks_for_a_code_and_takes_it_once(app, client, create_member_city, clock):
    _, email = create_member_city("Hanoi", "VN")
    enrol_two_factor(app, email)
    totp = pyotp.TOTP(totp_secret_for(email))

    response = _password_step(client, email)
    assert response.headers["Location"].endswith("/auth/two-factor")
    assert not _signed_in(client)  # the password alone does not open the account
    wrong = submit(client, "/auth/two-factor", {"code": "123456"})
    assert "This code is not right" in wrong.get_data(as_text=True)
    assert _audited(app, "two_factor_failed") == 1
    good = submit(client, "/auth/two-factor", {"code": totp.now()})
    assert good.status_code == 302 and _signed_in(client)

    # The same code, seen over a shoulder, does not work again in its window.
    other = app.test_client()
    _password_step(other, email)
    replay = submit(other, "/auth/two-factor", {"code": totp.now()})
    assert "already been used" in replay.get_data(as_text=True) and not _signed_in(other)
    clock.shift(timedelta(seconds=30))
    assert submit(other, "/auth/two-factor", {"code": totp.now()}).status_code == 302
    assert _signed_in(other)


def test_the_second_step_waits_five_minutes(app, client, create_member_city, clock):
    _, email = create_member_city("Hanoi", "VN")
    enrol_two_factor(app, email)
    _password_step(client, email)
    page = client.get("/auth/two-factor").get_data(as_text=True)
    clock.shift(timedelta(minutes=6))
    late = client.post(
        "/auth/two-factor",
        data={"csrf_token": csrf_token(page), "code": pyotp.TOTP(totp_secret_for(email)).now()},
    )
    assert late.headers["Location"].endswith("/auth/login") and not _signed_in(client)


def test_recovery_codes_are_single_use(app, client, create_member_city, clock, outbox):
    _, email = create_member_city("Hanoi", "VN")
    codes = enrol_two_factor(app, email)
    _password_step(client, email)
    used = submit(client, "/auth/two-factor", {"code": codes[0].upper().replace("-", " ")})
    assert used.status_code == 302
    assert "You used a recovery code. 9 are left." in client.get("/account/").get_data(as_text=True)
    assert outbox.to(email, "A recovery code was used")

    other = app.test_client()
    _password_step(other, email)
    again = submit(other, "/auth/two-factor", {"code": codes[0]})
    assert "This code is not right" in again.get_data(as_text=True) and not _signed_in(other)
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(RecoveryCode.used_at.is_not(None))) == 1


def test_new_recovery_codes_replace_the_old(app, client, create_member_city, clock):
    _, email = create_member_city("Hanoi", "VN")
    old = enrol_two_factor(app, email)
    login(client, email)
    clock.shift(timedelta(seconds=30))
    response = submit(
        client,
        "/account/two-factor/recovery-codes",
        {"codes-code": pyotp.TOTP(totp_secret_for(email)).now()},
        page="/account/two-factor",
    )
    assert response.headers["Location"].endswith("/account/two-factor/recovery-codes")
    new = re.findall(
        r"<code>([a-z2-9-]{19})</code>",
        client.get("/account/two-factor/recovery-codes").get_data(as_text=True),
    )
    assert len(new) == 10 and not set(new) & set(old)
    other = app.test_client()
    _password_step(other, email)
    assert "not right" in submit(other, "/auth/two-factor", {"code": old[1]}).get_data(as_text=True)


def test_a_secretariat_account_without_a_second_factor_can_only_enrol(app, client, create_user):
    create_user("new.officer@caap.example", role="secretariat", two_factor=False)
    response = _password_step(client, "new.officer@caap.example")
    assert response.headers["Location"].endswith("/account/two-factor/setup")
    for path in ("/secretariat/", "/account/", "/statement/sign", "/cities/"):
        blocked = client.get(path)
        assert blocked.status_code == 302, path
        assert blocked.headers["Location"].endswith("/account/two-factor/setup"), path
    page = client.get("/account/two-factor/setup").get_data(as_text=True)
    assert "Secretariat and administrator accounts" in page
    # A change is refused outright, even with a valid form token.
    refused = client.post(
        "/account/", data={"csrf_token": csrf_token(page), "name": "X", "locale": "en"}
    )
    assert refused.status_code == 403
    key = re.search(r'<code class="hash">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")
    submit(client, "/account/two-factor/setup", {"code": pyotp.TOTP(key).now()})
    assert client.get("/secretariat/").status_code == 200
    # Staff keep their second factor.
    off = submit(
        client,
        "/account/two-factor/disable",
        {"disable-password": PASSWORD, "disable-code": "000000"},
        page="/account/two-factor",
    )
    assert off.status_code == 403
    assert _user(app, "new.officer@caap.example").totp_enabled_at is not None


def test_a_delegate_turns_it_off_with_password_and_code(app, client, create_member_city, clock):
    _, email = create_member_city("Hanoi", "VN")
    enrol_two_factor(app, email)
    login(client, email)
    clock.shift(timedelta(seconds=30))
    code = pyotp.TOTP(totp_secret_for(email)).now()
    wrong = submit(
        client,
        "/account/two-factor/disable",
        {"disable-password": "not-my-password-at-all", "disable-code": code},
        page="/account/two-factor",
    )
    assert wrong.status_code == 302 and _user(app, email).totp_enabled_at is not None
    submit(
        client,
        "/account/two-factor/disable",
        {"disable-password": PASSWORD, "disable-code": code},
        page="/account/two-factor",
    )
    assert _user(app, email).totp_enabled_at is None
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RecoveryCode)) == 0


def test_too_many_wrong_codes_are_refused_for_a_while(app, client, create_member_city):
    _, email = create_member_city("Hanoi", "VN")
    enrol_two_factor(app, email)
    _password_step(client, email)
    page = client.get("/auth/two-factor").get_data(as_text=True)
    statuses = [
        client.post(
            "/auth/two-factor", data={"csrf_token": csrf_token(page), "code": "000000"}
        ).status_code
        for _ in range(6)
    ]
    assert statuses[:5] == [200] * 5 and statuses[5] == 429


def test_the_operator_resets_a_lost_second_factor(app, create_user, outbox):
    create_user("lost@caap.example", role="secretariat")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reset-two-factor", "lost@caap.example", "--reason", "Phone lost"])
    assert result.exit_code == 0, result.output
    assert _user(app, "lost@caap.example").totp_enabled_at is None
    assert outbox.to("lost@caap.example", "Two-step sign-in was reset")
    assert _audited(app, "two_factor_reset") == 1


# --- signing the Statement -----------------------------------------------------------------

from tests.statement.test_endorsements import seoul  # noqa: E402, F401 - fixture
from tests.statement.test_versions import version_1  # noqa: E402, F401 - fixture

FORM = {
    "signatory_name": "Oh Se-hoon",
    "signatory_title": "Mayor of Seoul",
    "place": "Seoul",
    "signed_on": date.today().isoformat(),
    "authorised": "y",
    "password": PASSWORD,
    "typed_signature": "Oh Se-hoon",
}


def test_signing_asks_for_the_second_factor_too(app, client, seoul):  # noqa: F811
    enrol_two_factor(app, "mayor@seoul.example")
    login(client, "mayor@seoul.example")
    page = client.get("/statement/sign").get_data(as_text=True)
    assert "Code from your authenticator app" in page
    missing = submit(client, "/statement/sign", FORM)
    assert "Enter the code from your authenticator app." in missing.get_data(as_text=True)
    wrong = submit(client, "/statement/sign", {**FORM, "code": "000000"})
    assert "This code is not right" in wrong.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Endorsement)) == 0
    code = totp_code_for(app, "mayor@seoul.example")  # the sign-in's code may not serve again
    assert submit(client, "/statement/sign", {**FORM, "code": code}).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Endorsement)) == 1
