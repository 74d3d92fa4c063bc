"""Signing in with an OpenID provider: a real one (Node's oidc-provider) on loopback, driven over
HTTP. First sign-ins link by a trusted, verified e-mail, by the password once, or through an
application or an invitation; users see and unlink their identities; and every forged or replayed
answer is refused with a message, stores nothing and leaves an audit record."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from sqlalchemy import select

from cacnet.accounts.models import OidcIdentity, User
from cacnet.core.audit import AuditEvent
from cacnet.core.db import db
from tests.conftest import PASSWORD, csrf_token, link_in, login, submit
from tests.oidc_support import ACCOUNTS, TamperingProxy

JI_WOO = ACCOUNTS["ji-woo"]["email"]
MIN_JI = ACCOUNTS["min-ji"]["email"]


@pytest.fixture
def ji_woo(create_member_city):
    """Ji-woo administers Seoul's delegation (no second factor) and has an account at the
    provider with the same, verified, address."""
    create_member_city("Seoul", "KR", admin_email=JI_WOO)
    return JI_WOO


def identities(app) -> list[tuple[str, str, str]]:
    with app.app_context():
        rows = db.session.execute(
            select(OidcIdentity.provider, OidcIdentity.subject, User.email)
            .join(User, OidcIdentity.user_id == User.id)
            .order_by(OidcIdentity.id)
        ).all()
        return [tuple(r) for r in rows]


def audit_details(app, action: str) -> list[dict]:
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).all()
        return [e.details or {} for e in events]


def refusals(app) -> list[str]:
    return [d["reason"] for d in audit_details(app, "oidc_sign_in_refused")]


def signed_in(client) -> bool:
    return client.get("/account/").status_code == 200


def flashes(client) -> str:
    """The page the last redirect led to, with its flashed messages."""
    return client.get("/auth/login").get_data(as_text=True)


# --- first sign-ins ------------------------------------------------------------------------------


def test_the_login_page_has_a_button_per_provider(client, oidc):
    html = client.get("/auth/login").get_data(as_text=True)
    assert "Sign in with Loopback ID" in html and "Sign in with Elsewhere ID" in html
    assert 'href="/auth/oidc/loopback"' in html


def test_without_providers_nothing_changes(client):
    assert "Or sign in with" not in client.get("/auth/login").get_data(as_text=True)
    assert client.get("/apply").status_code == 200
    assert client.get("/auth/oidc/loopback").status_code == 404
    response = client.get("/auth/oidc/continue")  # nothing waits to be linked
    assert response.headers["Location"] == "/auth/login"


def test_the_start_sends_pkce_state_and_nonce(client, oidc):
    url = oidc.authorize_url(client, "loopback")
    assert url.startswith(oidc.provider.issuer + "/auth?")
    query = dict(parse_qsl(urlsplit(url).query))
    assert query["response_type"] == "code" and query["client_id"] == oidc.provider.client_id
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) >= 43
    assert query["state"] and query["nonce"] and query["scope"] == "openid email profile"
    assert query["redirect_uri"] == "http://localhost/auth/oidc/loopback/callback"


def test_a_first_sign_in_links_the_account_with_the_same_verified_email(app, client, oidc, ji_woo):
    response = oidc.sign_in(client, "loopback", "ji-woo")
    assert response.status_code == 302 and response.headers["Location"] == "/account/"
    page = client.get("/account/").get_data(as_text=True)
    assert "Your Loopback ID account is now linked to your cacnet account." in page
    assert identities(app) == [("loopback", "sub-ji-woo", ji_woo)]
    assert audit_details(app, "oidc_identity_linked")[0]["via"] == "verified_email"
    assert audit_details(app, "login")[-1]["method"] == "oidc:loopback"

    # Next time, in another browser, the linked identity signs her in at once.
    other = app.test_client()
    response = oidc.sign_in(other, "loopback", "ji-woo", next_url="/account/city")
    assert response.headers["Location"] == "/account/city"
    assert signed_in(other)
    assert len(identities(app)) == 1
    with app.app_context():
        assert db.session.scalar(select(OidcIdentity.last_used_at)) is not None


def test_an_untrusted_provider_links_only_after_the_password(app, client, oidc, ji_woo):
    response = oidc.sign_in(client, "elsewhere", "ji-woo")
    assert response.headers["Location"] == "/auth/oidc/continue"
    assert identities(app) == []
    page = client.get("/auth/oidc/continue").get_data(as_text=True)
    assert "Link your Elsewhere ID account" in page
    assert "An account with the e-mail address ji-woo@seoul.example already exists." in page
    assert not signed_in(client)

    # The form on that page signs in with the password, which links the identity.
    response = login(client, ji_woo)
    assert response.status_code == 302
    assert identities(app) == [("elsewhere", "sub-ji-woo", ji_woo)]
    assert "Your Elsewhere ID account is now linked" in client.get("/account/").get_data(
        as_text=True
    )
    assert audit_details(app, "oidc_identity_linked")[0]["via"] == "sign_in"

    other = app.test_client()
    assert oidc.sign_in(other, "elsewhere", "ji-woo").headers["Location"] == "/account/"
    assert signed_in(other)


def test_an_unverified_email_at_a_trusted_provider_does_not_link(app, client, oidc, ji_woo):
    response = oidc.sign_in(client, "loopback", "mallory")
    assert response.headers["Location"] == "/auth/oidc/continue"
    page = client.get("/auth/oidc/continue").get_data(as_text=True)
    assert "Loopback ID has not confirmed that this e-mail address is yours" in page
    assert identities(app) == [] and not signed_in(client)
    assert refusals(app) == ["email_not_verified"]


def test_a_stale_offer_to_link_is_not_used(app, client, oidc, ji_woo, monkeypatch):
    oidc.sign_in(client, "elsewhere", "ji-woo")
    from cacnet.accounts import oidc as oidc_module

    monkeypatch.setattr(oidc_module, "PENDING_SECONDS", -1)
    assert login(client, ji_woo).status_code == 302
    assert identities(app) == []


def test_a_newcomer_applies_and_the_new_account_is_linked(app, client, oidc):
    response = oidc.sign_in(client, "loopback", "min-ji")
    assert response.headers["Location"] == "/auth/oidc/continue"
    page = client.get("/auth/oidc/continue").get_data(as_text=True)
    assert "No cacnet account uses the e-mail address min-ji@busan.example yet." in page
    assert 'href="/apply"' in page and "invitation" in page

    form = client.get("/apply").get_data(as_text=True)
    assert 'value="Min-ji Kim"' in form and f'value="{MIN_JI}"' in form
    response = client.post(
        "/apply",
        data={
            "csrf_token": csrf_token(form),
            "city_name_en": "Busan",
            "country_code": "KR",
            "applicant_name": "Min-ji Kim",
            "email": MIN_JI,
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )
    assert response.headers["Location"] == "/apply/sent"
    assert identities(app) == [("loopback", "sub-min-ji", MIN_JI)]
    assert audit_details(app, "oidc_identity_linked")[0]["via"] == "application"


def test_an_invited_newcomer_is_linked_when_accepting(app, client, oidc, ji_woo, outbox):
    admin = app.test_client()
    login(admin, ji_woo)
    submit(
        admin,
        "/account/city",
        {"email": MIN_JI, "role": "delegate", "locale": "en"},
    )
    [invitation] = outbox.to(MIN_JI)

    oidc.sign_in(client, "loopback", "min-ji")
    path = link_in(invitation, "/auth/invitation/")
    response = submit(
        client, path, {"name": "Min-ji Kim", "password": PASSWORD, "confirm": PASSWORD}
    )
    assert response.status_code == 302
    assert identities(app) == [("loopback", "sub-min-ji", MIN_JI)]

    other = app.test_client()
    oidc.sign_in(other, "loopback", "min-ji")
    assert signed_in(other)


# --- the identities page ------------------------------------------------------------------------


def test_a_user_sees_links_and_unlinks_identities(app, client, oidc, ji_woo):
    login(client, ji_woo)
    page = client.get("/account/identities").get_data(as_text=True)
    assert "No account at an OpenID provider is linked to yours." in page

    # Signed in, a round trip through a provider links one more identity.
    response = oidc.sign_in(client, "elsewhere", "ji-woo")
    assert response.headers["Location"] == "/account/identities"
    page = client.get("/account/identities").get_data(as_text=True)
    assert "Your Elsewhere ID account is now linked." in page
    assert "Elsewhere ID" in page and "ji-woo@seoul.example" in page
    assert audit_details(app, "oidc_identity_linked")[0]["via"] == "signed_in"

    with app.app_context():
        identity_id = db.session.scalar(select(OidcIdentity.id))
    response = submit(
        client, f"/account/identities/{identity_id}/unlink", page="/account/identities"
    )
    assert response.status_code == 302
    assert "is no longer linked" in client.get("/account/identities").get_data(as_text=True)
    assert identities(app) == []
    assert audit_details(app, "oidc_identity_unlinked")[0]["provider"] == "elsewhere"


def test_the_last_way_in_cannot_be_unlinked(app, client, oidc, ji_woo):
    oidc.sign_in(client, "loopback", "ji-woo")
    oidc.sign_in(client, "elsewhere", "ji-woo")  # signed in now: linked to her too
    assert len(identities(app)) == 2
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == ji_woo))
        user.password_hash = None  # an account with identities only
        db.session.commit()
        first, second = db.session.scalars(select(OidcIdentity.id).order_by(OidcIdentity.id))

    submit(client, f"/account/identities/{first}/unlink", page="/account/identities")
    assert len(identities(app)) == 1
    submit(client, f"/account/identities/{second}/unlink", page="/account/identities")
    page = client.get("/account/identities").get_data(as_text=True)
    assert "This is your only way to sign in." in page
    assert len(identities(app)) == 1


def test_nobody_unlinks_another_users_identity(app, client, oidc, ji_woo, create_member_city):
    oidc.sign_in(client, "loopback", "ji-woo")
    with app.app_context():
        identity_id = db.session.scalar(select(OidcIdentity.id))
    _, other_admin = create_member_city("Busan", "KR")
    intruder = app.test_client()
    login(intruder, other_admin)
    response = submit(
        intruder, f"/account/identities/{identity_id}/unlink", page="/account/identities"
    )
    assert response.status_code == 404
    assert len(identities(app)) == 1


def test_the_identities_page_needs_a_sign_in(client, oidc):
    assert client.get("/account/identities").status_code == 302
    assert client.post("/account/identities/1/unlink").status_code in (302, 400)


# --- refusals ------------------------------------------------------------------------------------


def assert_refused(app, client, response, reason: str, message: str, *, identities_before=0):
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"
    assert message in flashes(client)
    assert not signed_in(client)
    assert len(identities(app)) == identities_before
    assert refusals(app)[-1] == reason


def test_an_unknown_provider_is_not_found(client, oidc):
    assert client.get("/auth/oidc/nowhere").status_code == 404
    assert client.get("/auth/oidc/nowhere/callback?code=x&state=y").status_code == 404


def test_a_wrong_state_is_refused(app, client, oidc, ji_woo):
    path = oidc.callback_for(client, "loopback", "ji-woo")
    parts = urlsplit(path)
    query = dict(parse_qsl(parts.query))
    query["state"] = "forged-" + query["state"]
    response = client.get(f"{parts.path}?{urlencode(query)}")
    assert_refused(app, client, response, "state_mismatch", "does not belong to a sign-in started")


def test_an_answer_from_another_issuer_is_refused(app, client, oidc, ji_woo):
    path = oidc.callback_for(client, "loopback", "ji-woo")
    parts = urlsplit(path)
    query = dict(parse_qsl(parts.query))
    assert query["iss"] == oidc.provider.issuer  # RFC 9207: the provider names itself
    query["iss"] = "https://evil.example"
    response = client.get(f"{parts.path}?{urlencode(query)}")
    assert_refused(app, client, response, "wrong_issuer", "could not be verified")


def test_the_same_answer_twice_is_refused(app, client, oidc, ji_woo):
    path = oidc.callback_for(client, "elsewhere", "ji-woo")
    assert client.get(path).headers["Location"] == "/auth/oidc/continue"
    response = client.get(path)
    assert_refused(app, client, response, "state_mismatch", "has been used already")


def test_a_replayed_code_is_refused_by_the_provider(app, client, oidc, ji_woo):
    """A copy of the browser's cookie and the callback URL, used after the real sign-in."""
    path = oidc.callback_for(client, "loopback", "ji-woo")
    cookie = client.get_cookie("session").value
    assert client.get(path).headers["Location"] == "/account/"  # the real sign-in

    thief = app.test_client()
    thief.set_cookie("session", cookie)
    response = thief.get(path)
    assert_refused(
        app, thief, response, "invalid_grant", "the code has expired or has been used already",
        identities_before=1,
    )  # fmt: skip


def test_a_provider_error_is_refused(app, client, oidc):
    url = oidc.authorize_url(client, "loopback")
    state = dict(parse_qsl(urlsplit(url).query))["state"]
    response = client.get(
        "/auth/oidc/loopback/callback?"
        + urlencode({"error": "access_denied", "error_description": "no", "state": state})
    )
    assert_refused(app, client, response, "provider_error", "Loopback ID did not sign you in.")


@pytest.mark.parametrize(
    ("mode", "reason", "message"),
    [
        ("other_key", "bad_signature", "could not be verified"),  # also an unknown key id
        ("wrong_audience", "wrong_audience", "could not be verified"),
        ("wrong_issuer", "wrong_issuer", "could not be verified"),
        ("wrong_nonce", "nonce_mismatch", "could not be verified"),
        ("expired", "expired_token", "has expired"),
    ],
)
def test_a_forged_id_token_is_refused(app, client, oidc, ji_woo, mode, reason, message):
    assert mode in TamperingProxy.MODES
    oidc.proxy.mode = mode
    response = oidc.sign_in(client, "tampered", "ji-woo")
    assert oidc.proxy.forged, "the proxy forged nothing"
    assert_refused(app, client, response, reason, f"The answer from Tampered ID {message}")


def test_the_tampering_proxy_passes_a_true_answer(app, client, oidc, ji_woo):
    """The control for the test above: through the proxy, an untouched token signs in."""
    response = oidc.sign_in(client, "tampered", "ji-woo")
    assert response.headers["Location"] == "/account/"
    assert identities(app) == [("tampered", "sub-ji-woo", ji_woo)]


def test_an_unreachable_provider_gets_a_clear_message(app, client, oidc):
    response = client.get("/auth/oidc/offline")
    assert_refused(app, client, response, "provider_unreachable", "We could not reach Offline ID.")


def test_a_disabled_account_cannot_sign_in(app, client, oidc, ji_woo):
    oidc.sign_in(app.test_client(), "loopback", "ji-woo")
    with app.app_context():
        from cacnet.core.db import utcnow

        user = db.session.scalar(select(User).where(User.email == ji_woo))
        user.disabled_at = utcnow()
        db.session.commit()
    response = oidc.sign_in(client, "loopback", "ji-woo")
    assert_refused(
        app, client, response, "account_disabled", "This account is disabled.", identities_before=1
    )


def test_another_account_cannot_take_a_linked_identity(
    app, client, oidc, ji_woo, create_member_city
):
    oidc.sign_in(app.test_client(), "loopback", "ji-woo")
    _, other_admin = create_member_city("Busan", "KR")
    login(client, other_admin)
    response = oidc.sign_in(client, "loopback", "ji-woo")
    assert response.headers["Location"] == "/account/identities"
    page = client.get("/account/identities").get_data(as_text=True)
    assert "already linked to another cacnet account" in page
    assert identities(app) == [("loopback", "sub-ji-woo", ji_woo)]
    assert refusals(app) == ["identity_taken"]


# --- configuration ---------------------------------------------------------------------------


GOOD_PROVIDER = {
    "name": "city-id",
    "title": "City ID",
    "issuer": "https://id.example.org",
    "client_id": "cacnet",
    "client_secret": "s3cret",
}


@pytest.mark.parametrize(
    ("providers", "problem"),
    [
        ([{k: v for k, v in GOOD_PROVIDER.items() if k != "client_id"}], "needs 'client_id'"),
        ([GOOD_PROVIDER, {**GOOD_PROVIDER, "title": "Again"}], "two providers are named"),
        ([{**GOOD_PROVIDER, "name": "City ID"}], "'name' must be"),
        ([{**GOOD_PROVIDER, "issuer": "http://id.example.org"}], "https://"),
        ([{**GOOD_PROVIDER, "scopes": "email"}], "must include 'openid'"),
        ([{**GOOD_PROVIDER, "trusted_email": True}], "unknown keys: trusted_email"),
        ([{**GOOD_PROVIDER, "trust_email": "yes"}], "True or False"),
        (GOOD_PROVIDER, "must be a list"),
    ],
)
def test_a_mistake_in_the_providers_stops_the_start(tmp_path, providers, problem):
    from cacnet import create_app

    with pytest.raises(RuntimeError, match=problem):
        create_app(
            {
                "TESTING": True,
                "INSTANCE_PATH": str(tmp_path),
                "SQLALCHEMY_DATABASE_URI": "sqlite://",
                "SECRET_KEY": "a-test-secret-key-that-is-long-enough-0123456789",
                "OIDC_PROVIDERS": providers,
            }
        )


def test_the_defaults_of_a_provider():
    from cacnet.accounts.oidc import parse_providers

    [provider] = parse_providers([GOOD_PROVIDER])
    assert provider.scopes == "openid email profile" and provider.trust_email is False
    assert provider.metadata_url == "https://id.example.org/.well-known/openid-configuration"
    assert parse_providers(()) == []
