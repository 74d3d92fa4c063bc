"""Signing through the pages: a signatory endorses (typed or drawn), the secretariat verifies it,
the city appears on /signatories, and a withdrawal is listed apart."""

from datetime import date

from sqlalchemy import select

from cacnet.core.db import db
from cacnet.statement.models import Endorsement, EndorsementState
from tests.conftest import PASSWORD, login, submit
from tests.statement.test_endorsements import seoul, signature  # noqa: F401 - fixtures
from tests.statement.test_versions import version_1  # noqa: F401 - fixture

FORM = {
    "signatory_name": "Oh Se-hoon",
    "signatory_title": "Mayor of Seoul",
    "place": "Seoul",
    "signed_on": date.today().isoformat(),
    "authorised": "y",
    "password": PASSWORD,
}


def _state(app):
    with app.app_context():
        return db.session.scalar(select(Endorsement.state))


def test_sign_verify_list_and_withdraw(app, client, seoul, secretariat, outbox):  # noqa: F811
    login(client, "mayor@seoul.example")
    page = client.get("/statement/sign").get_data(as_text=True)
    assert "Endorse the Statement for Seoul" in page and "signature_pad.umd.min.js" in page
    response = submit(client, "/statement/sign", {**FORM, "typed_signature": "Oh Se-hoon"})
    assert response.status_code == 302
    assert _state(app) == EndorsementState.SUBMITTED
    assert outbox.to(secretariat, "New endorsement to verify: Seoul")
    with app.app_context():
        e = db.session.scalar(select(Endorsement))
        assert e.signature_kind == "typed"
        uuid = e.uuid
    # Not public before verification.
    anonymous = app.test_client()
    assert anonymous.get(f"/statement/endorsements/{uuid}/signature.png").status_code == 404
    assert "0 cities have endorsed version 1." in anonymous.get("/signatories").get_data(
        as_text=True
    )

    officer = app.test_client()
    login(officer, secretariat)
    queue = officer.get("/secretariat/endorsements/").get_data(as_text=True)
    assert "Oh Se-hoon" in queue and "Letter" in queue  # the evidence of authority
    submit(officer, f"/secretariat/endorsements/{uuid}/verify", page="/secretariat/endorsements/")
    assert _state(app) == EndorsementState.VERIFIED
    assert outbox.to("mayor@seoul.example", "Seoul is now listed among the signatories")

    listing = anonymous.get("/signatories").get_data(as_text=True)
    assert "1 city has endorsed version 1." in listing and "Mayor of Seoul" in listing
    assert "mayor@seoul.example" not in listing and "192.0.2" not in listing  # never public
    assert anonymous.get(f"/statement/endorsements/{uuid}/signature.png").status_code == 200

    submit(
        client,
        f"/statement/endorsements/{uuid}/withdraw",
        {"reason": "Mandate revoked"},
        page="/statement/sign",
    )
    assert _state(app) == EndorsementState.WITHDRAWN
    assert outbox.to(secretariat, "Seoul has withdrawn its endorsement")
    listing = anonymous.get("/signatories").get_data(as_text=True)
    assert "0 cities have endorsed version 1." in listing
    assert "Withdrawn endorsements" in listing and "Mandate revoked" in listing


def test_a_drawn_signature_through_the_form(app, client, seoul):  # noqa: F811
    login(client, "mayor@seoul.example")
    response = submit(client, "/statement/sign", {**FORM, "signature": signature()})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Endorsement.signature_kind)) == "drawn"


def test_bad_signing_input(app, client, seoul):  # noqa: F811
    login(client, "mayor@seoul.example")
    for changes, message in [
        ({"password": "wrong-password-here"}, "password is not right"),
        ({"authorised": ""}, "authorised to commit"),
        ({"signed_on": "2031-01-01"}, "future"),
        ({"signed_on": "not a date"}, "Not a valid date"),
        ({}, "Sign in the box"),
        ({"typed_signature": "오세훈"}, "Latin letters"),
        ({"signatory_name": "<script>x</script>", "typed_signature": "x"}, "plain text"),
    ]:
        response = submit(client, "/statement/sign", {**FORM, **changes})
        assert response.status_code == 200, changes
        assert message in response.get_data(as_text=True), changes
    assert _state(app) is None


def test_only_signatories_reach_the_signing_page(app, client, seoul, create_user):  # noqa: F811
    assert client.get("/statement/sign").status_code == 302  # sign in first
    create_user("plain@seoul.example", city_id=seoul["city_id"])
    login(client, "plain@seoul.example")
    assert client.get("/statement/sign").status_code == 403
    login(app.test_client(), seoul["admin"])
    admin = app.test_client()
    login(admin, seoul["admin"])
    assert admin.get("/statement/sign").status_code == 403
