"""Endorsements at the service layer: who may sign, what is checked, the record hash, the states,
and two signatories of one city signing at the same moment."""

import base64
import hashlib
import io
import threading
from datetime import date, timedelta

import pytest
from PIL import Image, ImageDraw
from sqlalchemy import func, select

from cacnet.accounts.models import User
from cacnet.core.db import db
from cacnet.core.errors import PermissionDenied, ServiceError, StateConflict
from cacnet.statement import endorsements
from cacnet.statement.models import (
    Endorsement,
    EndorsementState,
    StatementVersion,
    canonical_record,
)
from tests.conftest import PASSWORD
from tests.statement.test_versions import version_1  # noqa: F401 - fixture


def signature(size=(400, 150), ink=True) -> str:
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    if ink:
        ImageDraw.Draw(image).line(
            [(20, 100), (120, 30), (220, 110), (380, 40)], fill=(0, 0, 0, 255), width=4
        )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


@pytest.fixture
def seoul(app, create_member_city, create_user, version_1):  # noqa: F811
    from cacnet.accounts import services as accounts

    city_id, admin = create_member_city("Seoul", "KR")
    ids = {}
    for email in ("mayor@seoul.example", "deputy@seoul.example"):
        ids[email] = create_user(email, city_id=city_id, name=email.split("@")[0].title())
        with app.test_request_context(base_url="http://localhost"):
            accounts.grant_signing_authority(None, db.session.get(User, ids[email]), "Letter")
            db.session.commit()
    return {"city_id": city_id, "admin": admin, **ids}


def data(**changes):
    values = {
        "signatory_name": "Oh Se-hoon",
        "signatory_title": "Mayor of Seoul",
        "place": "Seoul",
        "signed_on": date.today(),
        "signature_data_url": signature(),
        "authorised": True,
    }
    values.update(changes)
    return endorsements.EndorsementData(**values)


def endorse_as(app, user_id, password=PASSWORD, **changes):
    with app.test_request_context(
        base_url="http://localhost", environ_base={"REMOTE_ADDR": "192.0.2.7"}
    ):
        actor = db.session.get(User, user_id)
        version = db.session.scalar(select(StatementVersion))
        endorsement = endorsements.endorse(actor, version, data(**changes), password)
        db.session.commit()
        return endorsement.id


def test_a_signatory_endorses_and_the_record_hash_is_reproducible(app, seoul, version_1):  # noqa: F811
    endorsement_id = endorse_as(app, seoul["mayor@seoul.example"])
    with app.app_context():
        e = db.session.get(Endorsement, endorsement_id)
        assert e.state == EndorsementState.SUBMITTED and e.text_sha256 == version_1
        assert e.ip == "192.0.2.7" and e.signer.email == "mayor@seoul.example"
        record = canonical_record(
            city_slug="seoul-kr", version_number=1, text_sha256=version_1,
            signatory_name="Oh Se-hoon", signatory_title="Mayor of Seoul", place="Seoul",
            signed_on=e.signed_on, signature_sha256=e.signature_sha256,
            signer_email="mayor@seoul.example", signed_at=e.signed_at, ip="192.0.2.7",
        )  # fmt: skip
        assert e.record_sha256 == hashlib.sha256(record).hexdigest()
        assert b'"city":"seoul-kr"' in record and b'"signed_at":"' in record
        from cacnet.core.uploads import stored_path

        stored = stored_path(e.signature_sha256, "signatures", "png").read_bytes()
        assert hashlib.sha256(stored).hexdigest() == e.signature_sha256


@pytest.mark.parametrize(
    ("changes", "password", "message"),
    [
        ({}, "not-my-password", "password is not right"),
        ({"authorised": False}, PASSWORD, "authorised to commit"),
        ({"signatory_name": "  "}, PASSWORD, "required"),
        ({"place": "x" * 201}, PASSWORD, "200"),
        ({"signed_on": date.today() + timedelta(days=3)}, PASSWORD, "future"),
        ({"signed_on": date(2020, 6, 1)}, PASSWORD, "before this version was published"),
        ({"signature_data_url": ""}, PASSWORD, "Sign in the box"),
        ({"signature_data_url": signature(ink=False)}, PASSWORD, "Sign in the box"),
        ({"signature_data_url": signature(size=(3000, 3000))}, PASSWORD, "size"),
        ({"signature_data_url": "data:image/png;base64,bm90IGEgcG5n"}, PASSWORD, "Sign in the box"),
        ({"signature_data_url": "data:image/png;base64," + "A" * 500_000}, PASSWORD, "too large"),
        ({"signature_data_url": "data:image/svg+xml;base64,PHN2Zz4="}, PASSWORD, "Sign in the box"),
    ],
)
def test_bad_endorsements_are_refused_and_nothing_is_stored(app, seoul, changes, password, message):
    with pytest.raises(ServiceError, match=message):
        endorse_as(app, seoul["mayor@seoul.example"], password=password, **changes)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Endorsement)) == 0


def test_only_a_signatory_of_an_active_city_endorses(app, seoul, secretariat, create_user):
    plain = create_user("plain@seoul.example", city_id=seoul["city_id"])
    with pytest.raises(PermissionDenied):
        endorse_as(app, plain)
    from cacnet.membership import services as membership
    from cacnet.membership.models import Membership

    with app.test_request_context(base_url="http://localhost"):
        officer = db.session.scalar(select(User).where(User.email == secretariat))
        m = db.session.scalar(select(Membership).where(Membership.city_id == seoul["city_id"]))
        membership.suspend(officer, m, "Dues")
        db.session.commit()
    with pytest.raises(PermissionDenied, match="not active"):
        endorse_as(app, seoul["mayor@seoul.example"])


def test_a_superseded_version_cannot_be_endorsed(app, seoul, secretariat, version_1):  # noqa: F811
    from cacnet.statement import services

    with app.test_request_context(base_url="http://localhost"):
        officer = db.session.scalar(select(User).where(User.email == secretariat))
        draft = services.create_draft(officer)
        services.update_draft(officer, draft, services.VersionText("T2", "T2", "Body 2", "본문 2"))
        services.publish(officer, draft)
        db.session.commit()
        old = db.session.scalar(select(StatementVersion).where(StatementVersion.number == 1))
        mayor = db.session.get(User, seoul["mayor@seoul.example"])
        with pytest.raises(StateConflict, match="current version"):
            endorsements.endorse(mayor, old, data(), PASSWORD)


def test_one_active_endorsement_per_city_and_version(app, seoul):
    endorse_as(app, seoul["mayor@seoul.example"])
    with pytest.raises(StateConflict, match="already endorsed"):
        endorse_as(app, seoul["deputy@seoul.example"])


def test_two_signatories_signing_at_once_leave_exactly_one(app, seoul):
    barrier = threading.Barrier(2)
    outcomes = []

    def sign(user_id):
        with app.test_request_context(base_url="http://localhost"):
            try:
                actor = db.session.get(User, user_id)
                version = db.session.scalar(select(StatementVersion))
                # Both pass the "already endorsed?" check before either writes.
                assert endorsements.active_endorsement(actor.city_id, version.id) is None
                barrier.wait(timeout=10)
                endorsements.endorse(actor, version, data(), PASSWORD)
                db.session.commit()
                outcomes.append("ok")
            except StateConflict:
                db.session.rollback()
                outcomes.append("refused")
            except Exception as error:  # noqa: BLE001 - SQLite may report the lock instead
                db.session.rollback()
                outcomes.append(type(error).__name__)
            finally:
                db.session.remove()

    threads = [
        threading.Thread(target=sign, args=(seoul[e],))
        for e in ("mayor@seoul.example", "deputy@seoul.example")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes)[0] == "ok" and outcomes.count("ok") == 1, outcomes
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Endorsement)) == 1


def test_verify_return_and_withdraw(app, seoul, secretariat, outbox):
    first = endorse_as(app, seoul["mayor@seoul.example"])
    with app.test_request_context(base_url="http://localhost"):
        officer = db.session.scalar(select(User).where(User.email == secretariat))
        mayor = db.session.get(User, seoul["mayor@seoul.example"])
        e = db.session.get(Endorsement, first)
        with pytest.raises(PermissionDenied):
            endorsements.verify(mayor, e)  # not the secretariat
        with pytest.raises(ServiceError, match="reason"):
            endorsements.return_endorsement(officer, e, " ")
        endorsements.return_endorsement(officer, e, "The title is missing the city's name.")
        db.session.commit()
        [returned] = outbox.to("mayor@seoul.example", "was returned")
        assert "The title is missing the city's name." in returned.get_body().get_content()
        with pytest.raises(StateConflict):
            endorsements.verify(officer, e)  # returned is final
    # Returned, the signatory signs again; the secretariat verifies; the city withdraws.
    second = endorse_as(
        app, seoul["mayor@seoul.example"], signatory_title="Mayor of Seoul Metropolitan City"
    )
    with app.test_request_context(base_url="http://localhost"):
        officer = db.session.scalar(select(User).where(User.email == secretariat))
        e = db.session.get(Endorsement, second)
        with pytest.raises(StateConflict):
            endorsements.withdraw(db.session.get(User, seoul["mayor@seoul.example"]), e, "x")
        endorsements.verify(officer, e)
        db.session.commit()
        admin = db.session.scalar(select(User).where(User.email == seoul["admin"]))
        plain_other = officer  # the secretariat does not withdraw for a city
        with pytest.raises(PermissionDenied):
            endorsements.withdraw(plain_other, e, "no")
        endorsements.withdraw(admin, e, "The council revoked the mandate.")
        db.session.commit()
        assert e.state == EndorsementState.WITHDRAWN and e.withdrawn_at is not None
        from cacnet.core.audit import AuditEvent

        actions = db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.object_type == "endorsements")
            .order_by(AuditEvent.id)
        ).all()
        assert actions == ["endorsement_submitted", "endorsement_return", "endorsement_submitted",
                           "endorsement_verify", "endorsement_withdraw"]  # fmt: skip


def test_publishing_a_new_version_invites_earlier_signatories(app, seoul, secretariat, outbox):
    from cacnet.statement import services

    first = endorse_as(app, seoul["mayor@seoul.example"])
    with app.test_request_context(base_url="http://localhost"):
        officer = db.session.scalar(select(User).where(User.email == secretariat))
        endorsements.verify(officer, db.session.get(Endorsement, first))
        db.session.commit()
        draft = services.create_draft(officer)
        services.update_draft(officer, draft, services.VersionText("T2", "T2", "Body 2", "본문 2"))
        services.publish(officer, draft)
        db.session.commit()
    # Both of Seoul's signatories are invited (the city endorsed version 1).
    for email in ("mayor@seoul.example", "deputy@seoul.example"):
        [mail] = outbox.to(email, "Version 2 of the Seoul Statement is published")
        assert "/statement/sign" in mail.get_body().get_content()
