"""Fan-out to 500 member cities: one delivery per recipient, recorded once, and none again when
the job runs a second time (retries of failed deliveries are the delivery queue's own tests)."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from sqlalchemy import func, select

from cacnet.alerts import fanout, services
from cacnet.alerts.models import AlertSubscription
from cacnet.cities.models import City, Contact
from cacnet.core.db import db
from cacnet.core.deliveries import Delivery, DeliveryState
from cacnet.membership.models import Membership, MembershipState, city_name_key
from tests.alerts.conftest import user

CITY_COUNT = 500


def _bulk_member_cities(applicant_id: int) -> dict[str, set[str]]:
    """500 approved member cities, each with a primary focal point; every fifth also has a
    deputy who chose alert mail; every tenth primary opted out (with nobody else chosen); the
    Korean ones speak Korean only. Returns the e-mails by kind."""
    kinds: dict[str, set[str]] = {"primary": set(), "deputy": set(), "opted_out": set(),
                                  "korean": set()}  # fmt: skip
    cities = []
    for i in range(CITY_COUNT):
        country = "KR" if i % 25 == 0 else "FR"
        cities.append(City(slug=f"city-{i}-{country.lower()}", name_en=f"City {i}",
                           country_code=country))  # fmt: skip
    db.session.add_all(cities)
    db.session.flush()
    contacts = []
    for i, city in enumerate(cities):
        db.session.add(Membership(
            state=MembershipState.APPROVED, city_name_en=city.name_en,
            city_name_key=city_name_key(city.name_en), country_code=city.country_code,
            applicant_id=applicant_id, city_id=city.id))  # fmt: skip
        primary = Contact(city_id=city.id, name=f"Focal {i}", email=f"focal{i}@city{i}.example",
                          is_primary=True,
                          languages=["ko"] if city.country_code == "KR" else ["fr", "en"])  # fmt: skip
        contacts.append(primary)
        if i % 10 == 3:
            kinds["opted_out"].add(primary.email)
        else:
            kinds["primary"].add(primary.email)
            if city.country_code == "KR":
                kinds["korean"].add(primary.email)
        if i % 5 == 0:
            deputy = Contact(city_id=city.id, name=f"Deputy {i}", position=1,
                             email=f"deputy{i}@city{i}.example", languages=["en"])  # fmt: skip
            contacts.append(deputy)
            kinds["deputy"].add(deputy.email)
    db.session.add_all(contacts)
    db.session.flush()
    for contact in contacts:
        if contact.email in kinds["opted_out"]:
            db.session.add(AlertSubscription(contact_id=contact.id, subscribed=False))
        elif contact.email in kinds["deputy"]:
            db.session.add(AlertSubscription(contact_id=contact.id, subscribed=True))
    return kinds


def _deliveries(alert_id: int) -> list[tuple[str, str, str]]:
    return db.session.execute(
        select(Delivery.key, Delivery.recipient, Delivery.locale).where(
            Delivery.object_type == "alerts", Delivery.object_id == alert_id
        )
    ).all()


def test_fan_out_to_500_cities_is_one_delivery_per_recipient_and_idempotent(
    app, create_member_city, create_user, outbox
):
    hanoi_id, hanoi_admin = create_member_city("Hanoi", "VN")
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        actor = user(hanoi_admin)
        kinds = _bulk_member_cities(actor.id)
        db.session.commit()
        staff = {email for email, _locale in _secretariat()}
        alert = services.create_alert(actor, services.AlertData(
            what="Influenza A(H5N1)", signal_type="new_variant", severity="warning",
            first_observed_on=date.today() - timedelta(days=1), contact_text="Hanoi CDC"),
            publish=True)  # fmt: skip
        db.session.commit()  # the fan-out runs now (JOBS_SYNC), then the sending
        alert_id = alert.id

    with app.app_context():
        rows = _deliveries(alert_id)
        recipients = Counter(recipient for _key, recipient, _locale in rows)
        expected = kinds["primary"] | kinds["deputy"] | staff
        assert set(recipients) == expected
        assert max(recipients.values()) == 1  # nobody twice
        assert len(rows) == len(expected) > CITY_COUNT
        assert not kinds["opted_out"] & set(recipients)
        locales = {recipient: locale for _key, recipient, locale in rows}
        assert {r for r, locale in locales.items() if locale == "ko"} == kinds["korean"]
        assert all(key == f"alert:{alert_id}:update:0:to:{r}" for key, r, _l in rows)
        sent = db.session.scalar(
            select(func.count()).where(
                Delivery.object_id == alert_id, Delivery.state == DeliveryState.SENT
            )  # fmt: skip
        )
        assert sent == len(rows)

        # The job again (a retried job, a second worker): nothing new, nobody mailed twice.
        assert fanout.fan_out(alert_id, 0) == 0
        assert len(_deliveries(alert_id)) == len(rows)
    received = Counter(m["To"] for m in outbox.messages if "Influenza A(H5N1)" in m["Subject"])
    assert set(received) == expected and max(received.values()) == 1

    # An escalation to an emergency reaches the primary focal points who opted out as well,
    # under keys of its own.
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        officer = user(next(iter(staff)))
        escalation = services.escalate(officer, db.session.get(type(alert), alert_id),
                                       "emergency", "Human-to-human spread confirmed.")  # fmt: skip
        db.session.commit()
        update_id = escalation.id
    with app.app_context():
        keys = [key for key, _r, _l in _deliveries(alert_id) if f":update:{update_id}:" in key]
        escalated = {key.rsplit(":to:", 1)[1] for key in keys}
        assert escalated == expected | kinds["opted_out"]
        assert len(keys) == len(escalated)


def _secretariat():
    from cacnet.membership.services import secretariat_addresses

    return secretariat_addresses()


def test_a_long_address_gets_a_short_key():
    long = "a" * 190 + "@example.org"
    key = fanout.delivery_key(7, 0, long)
    assert len(key) <= 200 and key.startswith("alert:7:update:0:to:sha256:")
    assert fanout.delivery_key(7, 3, "ana@x.org") == "alert:7:update:3:to:ana@x.org"


def test_a_focal_points_language(app):
    assert fanout.contact_locale(["ko"], "VN") == "ko"
    assert fanout.contact_locale(["en", "ko"], "KR") == "ko"
    assert fanout.contact_locale(["en", "ko"], "US") == "en"
    assert fanout.contact_locale([], "KR") == "en"
