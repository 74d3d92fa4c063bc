"""Personal API tokens: a delegate creates one on the account page and sees it once; only its
SHA-256 is stored; it is listed with its use and expiry, revoked with a click; expired, revoked and
unknown tokens are refused and the refusals audited."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from cacnet.accounts.models import ApiToken, User
from cacnet.core.audit import AuditEvent
from cacnet.core.db import db
from tests.api.conftest import audit_events, suspend
from tests.conftest import csrf_token, login, submit

TOKEN_IN_PAGE = re.compile(r'id="new-token"[^>]*value="(cac_[A-Za-z0-9_-]+)"')


def _create_on_page(client, name="Dashboard", scope="write", expires="90"):
    return submit(client, "/account/tokens", {"name": name, "scope": scope, "expires": expires})


def test_a_delegate_creates_a_token_sees_it_once_and_only_its_hash_is_kept(
    app, client, exchange, api
):
    login(client, exchange["Seoul"]["delegate"])
    assert "/account/tokens" in client.get("/account/").get_data(as_text=True)
    response = _create_on_page(client, name="Health dashboard")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    plaintext = TOKEN_IN_PAGE.search(html).group(1)
    assert plaintext.startswith("cac_") and len(plaintext) >= 40
    assert "shown only this once" in html and "readonly" in html

    with app.app_context():
        token = db.session.scalar(select(ApiToken))
        assert token.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
        assert token.prefix == plaintext[:12] and token.name == "Health dashboard"
        assert token.scope.value == "write"
        lifetime = token.expires_at - token.created_at
        assert timedelta(days=89, hours=23) < lifetime <= timedelta(days=90)
        # the plaintext is nowhere in the database, not even in the audit record
        events = list(db.session.scalars(select(AuditEvent)))
        assert all(plaintext not in str(e.details) for e in events)
        assert "api_token_created" in [e.action for e in events]

    listing = client.get("/account/tokens").get_data(as_text=True)
    assert plaintext not in listing  # shown once, never again
    assert "Health dashboard" in listing and plaintext[:12] in listing and "never" in listing

    me = api.get("/me", token=plaintext)
    assert me.status_code == 200
    body = me.get_json()
    assert body["user"]["email"] == exchange["Seoul"]["delegate"]
    assert body["user"]["city"]["slug"] == "seoul-kr"
    assert body["token"]["scope"] == "write" and body["token"]["prefix"] == plaintext[:12]


def test_the_form_checks_its_fields_and_a_city_that_is_not_active_gets_no_write_token(
    app, client, exchange
):
    login(client, exchange["London"]["delegate"])
    empty = _create_on_page(client, name="")
    assert "This field is required." in empty.get_data(as_text=True)
    forged = _create_on_page(client, expires="7")
    assert "Not a valid choice" in forged.get_data(as_text=True)

    suspend(app, exchange["London"]["city_id"])
    page = client.get("/account/tokens").get_data(as_text=True)
    assert 'value="write"' not in page  # the choice is not offered
    refused = _create_on_page(client, scope="write")
    assert TOKEN_IN_PAGE.search(refused.get_data(as_text=True)) is None
    read = _create_on_page(client, scope="read", name="Read only")
    assert TOKEN_IN_PAGE.search(read.get_data(as_text=True)) is not None
    with app.app_context():
        assert [t.scope.value for t in db.session.scalars(select(ApiToken))] == ["read"]


def test_the_service_refuses_write_tokens_and_staff_without_a_second_factor(app, exchange):
    from cacnet.accounts import api_tokens
    from cacnet.core.errors import PermissionDenied, ServiceError

    with app.test_request_context():
        officer = db.session.scalar(select(User).where(User.role == "secretariat"))
        assert officer.needs_two_factor_enrolment
        with pytest.raises(PermissionDenied, match="two-step sign-in"):
            api_tokens.create_token(officer, "Reports", "read", expires_in_days=30)
        officer.totp_enabled_at = datetime.now(UTC)
        with pytest.raises(ServiceError, match="tokens that write"):
            api_tokens.create_token(officer, "Reports", "write", expires_in_days=30)
        with pytest.raises(ServiceError, match="Not a valid choice"):
            api_tokens.create_token(officer, "Reports", "read", expires_in_days=1000)
        with pytest.raises(ServiceError, match="Use plain text"):
            api_tokens.create_token(officer, "<script>", "read", expires_in_days=30)
        token, _plaintext = api_tokens.create_token(officer, "Reports", "read", expires_in_days=30)
        assert token.id is not None


def test_a_staff_token_stops_working_while_the_account_lacks_a_second_factor(
    app, exchange, api, make_token
):
    with app.app_context():
        officer = db.session.scalar(select(User).where(User.role == "secretariat"))
        officer.totp_enabled_at = datetime.now(UTC)
        db.session.commit()
        email = officer.email
    token = make_token(email, scope="read")
    assert api.get("/me", token=token).status_code == 200
    with app.app_context():
        db.session.scalar(select(User).where(User.email == email)).totp_enabled_at = None
        db.session.commit()
    refused = api.get("/me", token=token)
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "two_factor_required"
    assert [e.reason for e in audit_events(app, "api_token_refused")] == ["two_factor_required"]


def test_revoking_stops_the_token_at_once_and_only_the_owner_can(
    app, client, exchange, api, make_token
):
    plaintext = make_token(exchange["Seoul"]["delegate"], name="Old script")
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))

    login(client, exchange["London"]["delegate"])  # someone else
    html = client.get("/account/tokens").get_data(as_text=True)
    other = client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf_token(html)})
    assert other.status_code == 404
    assert api.get("/me", token=plaintext).status_code == 200

    owner = client.application.test_client()
    login(owner, exchange["Seoul"]["delegate"])
    html = owner.get("/account/tokens").get_data(as_text=True)
    assert "Old script" in html and "Revoke" in html
    no_csrf = owner.post(f"/account/tokens/{token_id}/revoke")
    assert no_csrf.status_code == 400
    done = owner.post(
        f"/account/tokens/{token_id}/revoke",
        data={"csrf_token": csrf_token(html)},
        follow_redirects=True,
    )
    assert "The token Old script is revoked." in done.get_data(as_text=True)

    refused = api.get("/me", token=plaintext)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert refused.get_json()["error"] == {
        "code": "unauthorized",
        "message": "This API token has been revoked.",
        "fields": {},
    }
    revoked = audit_events(app, "api_token_revoked")
    assert len(revoked) == 1 and revoked[0].object_id == token_id
    refusals = audit_events(app, "api_token_refused")
    assert [(e.reason, e.object_id) for e in refusals] == [("revoked", token_id)]


def test_expired_and_unknown_tokens_are_refused_and_audited(app, exchange, api, make_token):
    plaintext = make_token(exchange["Seoul"]["delegate"], scope="read", days=30)
    assert api.get("/me", token=plaintext).status_code == 200
    with time_machine.travel(datetime.now(UTC) + timedelta(days=31)):
        expired = api.get("/me", token=plaintext)
    assert expired.status_code == 401
    assert "expired" in expired.get_json()["error"]["message"]

    forged = "cac_" + "A" * 43
    unknown = api.get("/me", token=forged)
    assert unknown.status_code == 401
    assert unknown.get_json()["error"]["message"] == "This API token is not valid."
    assert api.get("/me", token="not-even-a-token").status_code == 401
    basic = api.get("/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert basic.status_code == 401 and basic.headers["WWW-Authenticate"] == 'Bearer realm="cacnet"'

    refusals = audit_events(app, "api_token_refused")
    assert [e.reason for e in refusals] == ["expired", "unknown", "unknown"]
    assert refusals[1].details == {"prefix": forged[:12]}  # never the rest of what was sent
    assert refusals[2].details == {"prefix": None}


def test_last_use_is_noted_at_most_once_a_minute(app, exchange, api, make_token):
    plaintext = make_token(exchange["Seoul"]["delegate"], scope="read")

    def last_used():
        with app.app_context():
            return db.session.scalar(select(ApiToken.last_used_at))

    assert last_used() is None
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False):
        api.get("/me", token=plaintext)
    first = last_used()
    assert first == start
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        assert api.get("/me", token=plaintext).get_json()["token"]["last_used_at"] == (
            start.isoformat()
        )
    assert last_used() == first  # no write within the minute
    later = start + timedelta(seconds=61)
    with time_machine.travel(later, tick=False):
        api.get("/me", token=plaintext)
    assert last_used() == later


def test_a_user_keeps_at_most_twenty_live_tokens(app, exchange, make_token):
    from cacnet.accounts import api_tokens
    from cacnet.core.errors import StateConflict

    for n in range(20):
        make_token(exchange["Jakarta"]["delegate"], scope="read", name=f"t{n}")
    with app.test_request_context():
        owner = db.session.scalar(select(User).where(User.email == exchange["Jakarta"]["delegate"]))
        with pytest.raises(StateConflict, match="20 live tokens"):
            api_tokens.create_token(owner, "one more", "read", expires_in_days=30)
