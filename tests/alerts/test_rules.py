"""The rules of an alert, and what a refusal looks like: an alert without what, a date in the
future, counts that are negative or not numbers, bad links and documents, acknowledging twice,
updating another city's alert, suspended cities; every refusal says why and writes nothing."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from cacnet.alerts import services
from cacnet.alerts.models import (
    Alert,
    AlertAcknowledgement,
    AlertDocument,
    AlertLink,
    AlertState,
    AlertUpdate,
    Severity,
)
from cacnet.core.audit import AuditEvent
from cacnet.core.db import db
from cacnet.core.errors import PermissionDenied, ServiceError, StateConflict
from tests.alerts.conftest import alert_by_uuid, alert_form, user
from tests.conftest import login, submit
from tests.helpers import pdf_bytes


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"what": ""}, "Say what the alert is about"),
        ({"first_observed_on": (date.today() + timedelta(days=1)).isoformat()},
         "cannot be in the future"),
        ({"first_observed_on": ""}, "Give the date it was first observed"),
        ({"cases": "-3"}, "A count cannot be negative"),
        ({"deaths": "two"}, "Give a whole number of 0 or more"),
        ({"cases": "1.5"}, "Give a whole number of 0 or more"),
        ({"severity": "apocalypse"}, "Not a valid choice"),
        ({"sources": "https://example.org/a\nnot a link"}, "Each line must be one web address"),
        ({"sources": "javascript:alert(1)"}, "Each line must be one web address"),
        ({"contact_text": "", "contact_id": "0"}, "Say who other cities should contact"),
        ({"what": "<script>"}, "Use plain text"),
    ],
)  # fmt: skip
def test_a_bad_alert_is_refused_with_a_clear_message_and_nothing_is_saved(
    app, network, changes, message
):
    client = app.test_client()
    login(client, network["Hanoi"]["delegate"])
    refused = submit(client, "/alerts/new", alert_form(**changes), page="/alerts/new")
    assert refused.status_code == 422
    assert message in refused.get_data(as_text=True)
    with app.app_context():
        assert _count(Alert) == 0
        assert _count(AuditEvent.__table__.select().where(AuditEvent.action.like("alert%"))
                      .subquery()) == 0  # fmt: skip


def test_a_draft_may_be_incomplete_but_is_published_only_when_complete(app, network, outbox):
    client = app.test_client()
    login(client, network["Hanoi"]["delegate"])
    saved = submit(client, "/alerts/new", alert_form(what="", action="draft"), page="/alerts/new")
    assert saved.status_code == 302
    page = saved.headers["Location"]
    uuid = page.rsplit("/", 1)[1]
    assert "Only your city sees it" in client.get(page).get_data(as_text=True)

    # Nobody else sees a draft, nor is told of it.
    other = app.test_client()
    login(other, network["Seoul"]["delegate"])
    assert other.get(page).status_code == 404
    assert "(no title yet)" not in other.get("/alerts/?state=all").get_data(as_text=True)

    refused = submit(client, f"{page}/publish", {}, page=page, follow_redirects=True)
    assert "Say what the alert is about" in refused.get_data(as_text=True)
    with app.app_context():
        assert alert_by_uuid(uuid).state == AlertState.DRAFT
    assert not [m for m in outbox.messages if "alert" in m["Subject"]]

    edited = submit(client, f"{page}/edit", alert_form(action="publish"))
    assert edited.status_code == 302
    with app.app_context():
        alert = alert_by_uuid(uuid)
        assert alert.state == AlertState.PUBLISHED and alert.published_at is not None
    assert other.get(page).status_code == 200
    assert client.get(f"{page}/edit", follow_redirects=True).status_code == 200  # back to page
    with app.app_context():
        assert alert_by_uuid(uuid).what == "Severe acute respiratory infection (SARI)"


def test_publishing_queues_one_job_and_never_mails_in_the_request(app, network):
    """The publishing request does not look for recipients: it queues one fan-out job."""
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        alert = services.create_alert(
            user(network["Hanoi"]["delegate"]),
            services.AlertData(what="Measles", severity="watch", first_observed_on=date.today(),
                               contact_text="Hanoi health office"),
            publish=True,
        )  # fmt: skip
        pending = db.session().info.get("cacnet_jobs_after_commit", [])
        assert [(path, args) for _app, path, args in pending] == [
            ("cacnet.alerts.fanout.fan_out", (alert.id, 0))
        ]
        assert not db.session().info.get("cacnet_pending_mail")
        db.session.rollback()  # a rolled-back publication queues nothing
        assert not db.session().info.get("cacnet_jobs_after_commit")


def test_acknowledging_twice_or_ones_own_alert_is_refused(app, network, make_alert):
    uuid = make_alert(network["Hanoi"]["delegate"])
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        alert = alert_by_uuid(uuid)
        seoul = user(network["Seoul"]["delegate"])
        services.acknowledge(seoul, alert, "checking", "Looking into it.")
        db.session.commit()
        with pytest.raises(StateConflict, match="already acknowledged"):
            services.acknowledge(user(network["Seoul"]["admin"]), alert, "seen")
        with pytest.raises(StateConflict, match="Your city raised this alert"):
            services.acknowledge(user(network["Hanoi"]["admin"]), alert, "seen")
        with pytest.raises(ServiceError, match="Choose how your city answers"):
            services.acknowledge(user(network["London"]["delegate"]), alert, "maybe")
        db.session.rollback()
        assert _count(AlertAcknowledgement) == 1
        # The database refuses a second row for the same city too.
        db.session.add(AlertAcknowledgement(alert_id=alert.id, city_id=seoul.city_id,
                                            kind="seen"))  # fmt: skip
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_similar_signals_link_the_two_alerts(app, network, make_alert):
    hanoi_uuid = make_alert(network["Hanoi"]["delegate"])
    seoul_uuid = make_alert(network["Seoul"]["delegate"], what="SARI in young adults",
                            severity="watch")  # fmt: skip
    client = app.test_client()
    login(client, network["Seoul"]["delegate"])
    page = f"/alerts/{hanoi_uuid}"
    html = client.get(page).get_data(as_text=True)
    assert "SARI in young adults" in html  # offered as the city's own alert
    submit(client, f"{page}/acknowledge", {"kind": "similar", "similar_alert": seoul_uuid},
           page=page)  # fmt: skip
    with app.app_context():
        assert _count(AlertLink) == 1
    hanoi = app.test_client()
    login(hanoi, network["Hanoi"]["delegate"])
    assert "SARI in young adults" in hanoi.get(page).get_data(as_text=True)  # related alerts
    assert "Severe acute respiratory" in hanoi.get(f"/alerts/{seoul_uuid}").get_data(as_text=True)
    # "seen" with a linked alert is refused
    with (
        app.test_request_context(base_url=app.config["BASE_URL"]),
        pytest.raises(ServiceError, match="only with 'we have similar signals'"),
    ):
        services.acknowledge(user(network["London"]["delegate"]), alert_by_uuid(hanoi_uuid),
                             "seen", similar_alert=alert_by_uuid(seoul_uuid))  # fmt: skip


def test_only_the_raising_city_updates_and_nothing_is_half_written(app, network, make_alert):
    uuid = make_alert(network["Hanoi"]["delegate"])
    page = f"/alerts/{uuid}"
    london = app.test_client()
    login(london, network["London"]["delegate"])
    away = london.get(f"{page}/update", follow_redirects=True)
    assert "Only the city that raised this alert can do that." in away.get_data(as_text=True)
    refused = submit(london, f"{page}/update", {"body": "Taken over.", "cases": "1"}, page=page)
    assert refused.status_code == 403
    assert "Only the city that raised this alert can do that." in refused.get_data(as_text=True)
    closing = submit(london, f"{page}/close", {"summary": "Done."}, page=page)
    assert closing.status_code == 403

    hanoi = app.test_client()
    login(hanoi, network["Hanoi"]["delegate"])
    bad = submit(hanoi, f"{page}/update", {"body": "More cases.", "cases": "12", "deaths": "-1"},
                 page=f"{page}/update")  # fmt: skip
    assert bad.status_code == 422 and "A count cannot be negative" in bad.get_data(as_text=True)
    empty = submit(hanoi, f"{page}/close", {"summary": "  "}, page=f"{page}/close")
    assert empty.status_code == 422 and "Write a closing summary" in empty.get_data(as_text=True)
    with app.app_context():
        alert = alert_by_uuid(uuid)
        assert (alert.cases, alert.deaths, alert.state) == (23, 1, AlertState.PUBLISHED)
        assert _count(AlertUpdate) == 0

    # Once closed, no more updates or closing.
    submit(hanoi, f"{page}/close", {"summary": "Over."}, page=f"{page}/close")
    late = submit(hanoi, f"{page}/update", {"body": "One more."}, page=f"{page}/update")
    assert "Only an open alert takes updates." in late.get_data(as_text=True)
    twice = submit(hanoi, f"{page}/close", {"summary": "Over again."}, page=f"{page}/close")
    assert "already closed" in twice.get_data(as_text=True)


def test_suspended_cities_read_but_do_not_raise_or_acknowledge(app, network, make_alert):
    uuid = make_alert(network["Hanoi"]["delegate"])
    budapest = app.test_client()
    login(budapest, network["Budapest"]["delegate"])
    assert budapest.get(f"/alerts/{uuid}").status_code == 200
    assert ">Acknowledge</button>" not in budapest.get(f"/alerts/{uuid}").get_data(as_text=True)
    away = budapest.get("/alerts/new", follow_redirects=True)
    assert "membership is not active" in away.get_data(as_text=True)
    refused = submit(budapest, "/alerts/new", alert_form(), page="/alerts/")
    assert refused.status_code == 403
    ack = submit(budapest, f"/alerts/{uuid}/acknowledge", {"kind": "seen"}, page=f"/alerts/{uuid}")
    assert ack.status_code == 403
    with app.app_context():
        assert _count(Alert) == 1 and _count(AlertAcknowledgement) == 0


def test_documents_are_checked_by_their_content(app, network, make_alert):
    client = app.test_client()
    login(client, network["Hanoi"]["delegate"])
    fake = submit(client, "/alerts/new", {
        **alert_form(), "documents": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "report.pdf"),
    }, page="/alerts/new", content_type="multipart/form-data")  # fmt: skip
    assert fake.status_code == 422
    assert "Attach a PDF document or a PNG, JPEG or WebP image." in fake.get_data(as_text=True)
    with app.app_context():
        assert _count(Alert) == 0 and _count(AlertDocument) == 0

    made = submit(client, "/alerts/new", {
        **alert_form(), "documents": (io.BytesIO(pdf_bytes()), "lab report.pdf"),
    }, page="/alerts/new", content_type="multipart/form-data")  # fmt: skip
    assert made.status_code == 302
    page = made.headers["Location"]
    with app.app_context():
        [document] = alert_by_uuid(page.rsplit("/", 1)[1]).documents
        document_url = f"{page}/documents/{document.id}"
    served = client.get(document_url)
    assert served.status_code == 200 and served.data.startswith(b"%PDF")
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    anonymous = app.test_client()
    assert anonymous.get(document_url).status_code == 302  # to sign in


def test_the_secretariat_escalates_upwards_only_and_members_cannot(app, network, make_alert):
    uuid = make_alert(network["Hanoi"]["delegate"], severity="warning")
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        alert = alert_by_uuid(uuid)
        with pytest.raises(PermissionDenied):
            services.escalate(user(network["Hanoi"]["admin"]), alert, "emergency", "Worse.")
        officer = user(network["secretariat"])
        with pytest.raises(ServiceError, match="higher than"):
            services.escalate(officer, alert, "watch", "Better.")
        with pytest.raises(ServiceError, match="reason"):
            services.escalate(officer, alert, "emergency", " ")
        services.escalate(officer, alert, "emergency", "Spread to two more districts.")
        db.session.commit()
        assert alert_by_uuid(uuid).severity == Severity.EMERGENCY
        with pytest.raises(StateConflict):
            services.set_public_notice(officer, alert_by_uuid(uuid), False)
    client = app.test_client()
    login(client, network["London"]["admin"])
    assert client.get(f"/secretariat/alerts/{uuid}/escalate").status_code == 403


def test_the_database_refuses_negative_counts_and_incomplete_published_alerts(app, network):
    with app.app_context():
        city_id = network["Hanoi"]["city_id"]
        for values in ({"cases": -1}, {"deaths": -5},
                       {"state": AlertState.PUBLISHED, "what": ""}):  # fmt: skip
            db.session.add(Alert(city_id=city_id, **values))
            with pytest.raises(IntegrityError):
                db.session.flush()
            db.session.rollback()


def test_a_city_admin_chooses_who_receives_alerts(app, network, make_alert, outbox):
    from cacnet.cities import services as cities
    from cacnet.cities.models import City

    with app.test_request_context(base_url=app.config["BASE_URL"]):
        london = db.session.get(City, network["London"]["city_id"])
        cities.add_contact(user(network["secretariat"]), london, cities.ContactData(
            name="Deputy", email="deputy@london.example", languages=["en"]))  # fmt: skip
        db.session.commit()
        deputy_id = london.contacts[-1].id

    delegate = app.test_client()
    login(delegate, network["London"]["delegate"])
    assert "receives alerts" in delegate.get("/alerts/subscriptions").get_data(as_text=True)
    refused = submit(delegate, "/alerts/subscriptions", {"contacts": [str(deputy_id)]})
    assert refused.status_code == 403

    admin = app.test_client()
    login(admin, network["London"]["admin"])
    saved = submit(admin, "/alerts/subscriptions", {"contacts": [str(deputy_id)]})
    assert saved.status_code == 302
    make_alert(network["Hanoi"]["delegate"], severity="warning")
    assert outbox.to("deputy@london.example") and not outbox.to(network["London"]["focal"])
    # An emergency reaches the primary focal point whatever the choice.
    make_alert(network["Hanoi"]["delegate"], severity="emergency", what="Cholera")
    assert outbox.to(network["London"]["focal"], "Cholera")
