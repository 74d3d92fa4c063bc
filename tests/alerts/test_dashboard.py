"""The secretariat's dashboard and history export, the members' banner and list filters, and the
demo data."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import update

from cacnet.alerts import services
from cacnet.alerts.models import Alert
from cacnet.core.db import db, utcnow
from tests.alerts.conftest import alert_by_uuid, user
from tests.conftest import login


def test_the_dashboard_shows_open_alerts_rates_and_quiet_cities(app, network, make_alert):
    fresh = make_alert(network["Hanoi"]["delegate"], what="Cholera", severity="emergency")
    old = make_alert(network["Seoul"]["delegate"], what="Dengue", severity="watch")
    closed = make_alert(network["Seoul"]["delegate"], what="Measles", severity="warning")
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        db.session.execute(update(Alert).where(Alert.uuid == old)
                           .values(published_at=utcnow() - timedelta(days=10)))  # fmt: skip
        services.acknowledge(user(network["Seoul"]["delegate"]), alert_by_uuid(fresh), "seen")
        services.close_alert(user(network["Seoul"]["delegate"]), alert_by_uuid(closed), "Over.")
        db.session.commit()
        overview = services.overview(user(network["secretariat"]))
        assert overview["open_total"] == 2
        grid = {s.value: counts for s, counts in overview["grid"]}
        assert grid["emergency"] == [1, 0, 0, 0] and grid["watch"] == [0, 0, 1, 0]
        rates = {r.alert.what: (r.acknowledged, r.asked) for r in overview["open_rows"]}
        # three approved cities (Budapest is suspended), the raising one left out
        assert rates == {"Cholera": (1, 2), "Dengue": (0, 2)}
        # Seoul answered Hanoi's alert; Hanoi answered none of Seoul's, London nothing at all
        assert {c.name_en for c in overview["quiet_cities"]} == {"Hanoi", "London"}

    officer = app.test_client()
    login(officer, network["secretariat"])
    page = officer.get("/secretariat/alerts/").get_data(as_text=True)
    assert "Cholera" in page and "50%" in page and "London" in page
    assert "Recently closed" in page and "Measles" in page
    export = officer.get("/secretariat/alerts/export.csv")
    assert export.headers["Content-Disposition"].startswith('attachment; filename="alert-history-')
    rows = {r["what"]: r for r in csv.DictReader(io.StringIO(export.get_data(as_text=True)
                                                              .lstrip("\ufeff")))}  # fmt: skip
    assert set(rows) == {"Cholera", "Dengue", "Measles"}
    assert rows["Cholera"]["acknowledgement_rate"] == "0.50"
    assert rows["Measles"]["state"] == "closed" and rows["Measles"]["closing_summary"] == "Over."
    assert "sent" in rows["Cholera"]["deliveries"]
    assert rows["Cholera"]["raised_by"] == network["Hanoi"]["delegate"]


def test_the_banner_and_the_list_filters(app, network, make_alert, monkeypatch):
    make_alert(network["Hanoi"]["delegate"], what="Cholera", severity="emergency")
    make_alert(network["Hanoi"]["delegate"], what="Dengue", severity="watch")
    london = app.test_client()
    login(london, network["London"]["delegate"])
    home = london.get("/").get_data(as_text=True)
    banner = home[home.index('class="alert-banner"') : home.index("</aside>")]
    assert "Cholera" in banner and "Dengue" not in banner  # watches stay out of the banner
    hanoi = app.test_client()
    login(hanoi, network["Hanoi"]["delegate"])
    assert 'class="alert-banner"' not in hanoi.get("/").get_data(as_text=True)  # its own alert

    filtered = london.get("/alerts/?severity=watch").get_data(as_text=True).split("<h1>")[1]
    assert "Dengue" in filtered and "Cholera</a>" not in filtered
    by_city = london.get("/alerts/?city=london-gb").get_data(as_text=True)
    assert "No alert matches." in by_city

    calls = []
    monkeypatch.setattr(services, "banner_alerts", lambda viewer: calls.append(viewer) or [])
    assert app.test_client().get("/").status_code == 200
    assert calls == []  # nothing is loaded for visitors who are not signed in


def test_the_demo_has_hanoi_warning_acknowledged_by_seoul(app, create_member_city):
    for name, country in (("Hanoi", "VN"), ("Seoul", "KR"), ("Jakarta", "ID")):
        create_member_city(name, country)
    from cacnet.alerts.demo import seed_alerts

    with app.test_request_context(base_url=app.config["BASE_URL"]):
        assert seed_alerts() == 3
        db.session.commit()
        assert seed_alerts() == 0
        warning = db.session.scalar(
            db.select(Alert).where(Alert.severity == "warning", Alert.state == "published")
        )
        assert warning.city.name_en == "Hanoi"
        assert [a.city.name_en for a in warning.acknowledgements] == ["Seoul"]
        assert warning.cases == 31
