"""The Statement: version 1 in both languages, drafts, publishing that freezes the text (in the
database too), older versions and the diff between them."""

import hashlib
import json

import pytest
from sqlalchemy import select, text

from cacnet.core.db import db
from cacnet.statement import text as seed
from cacnet.statement.models import StatementVersion
from tests.conftest import csrf_token, login, submit


@pytest.fixture
def version_1(app):
    """Version 1 as migration 0005 seeds it (the test harness empties tables between tests)."""
    from datetime import datetime

    from cacnet.statement.models import text_sha256

    with app.app_context():
        v1 = StatementVersion(
            number=1, title_en=seed.TITLE_EN, title_ko=seed.TITLE_KO, body_en=seed.BODY_EN,
            body_ko=seed.BODY_KO, note=seed.NOTE,
        )  # fmt: skip
        v1.text_sha256 = text_sha256(v1)
        v1.published_at = datetime.fromisoformat(seed.PUBLISHED)
        db.session.add(v1)
        db.session.commit()
        return v1.text_sha256


def test_the_migration_seeds_version_1(app):
    """Run the migrations from scratch and find the five commitments, hash included."""
    from flask_migrate import downgrade, upgrade

    with app.app_context():
        db.session.remove()
        downgrade(revision="0004")
        upgrade()
        v1 = db.session.scalar(select(StatementVersion))
        assert v1.number == 1 and v1.is_published
        assert "early recognition system" in v1.body_en and "조기 인지 체계" in v1.body_ko
        canonical = json.dumps(
            {"body_en": v1.body_en, "body_ko": v1.body_ko, "title_en": v1.title_en, "title_ko": v1.title_ko},
            ensure_ascii=False, sort_keys=True, separators=(",", ":"),
        ).encode()  # fmt: skip
        assert v1.text_sha256 == hashlib.sha256(canonical).hexdigest()  # the documented form


def test_statement_page_shows_both_languages(client, version_1):
    html = client.get("/statement").get_data(as_text=True)
    assert seed.TITLE_EN in html and seed.TITLE_KO in html
    assert "Swiftly supply human and material resources" in html
    assert "인적·물적 자원을 신속히 지원한다" in html
    assert 'lang="ko"' in html and version_1 in html
    assert "Version 1" in html


def test_no_published_version_is_a_404_not_a_500(client):
    assert client.get("/statement").status_code == 404
    assert client.get("/statement/v/7").status_code == 404


def _publish_v2(client, secretariat, body_en=None):
    login(client, secretariat)
    response = submit(client, "/secretariat/statement/new", page="/secretariat/statement/")
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/secretariat/statement/2/edit"
    )
    form = {
        "title_en": seed.TITLE_EN,
        "title_ko": seed.TITLE_KO,
        "body_en": body_en
        or seed.BODY_EN.replace("Together We Stand.", "Together We Stand, and act."),
        "body_ko": seed.BODY_KO,
        "note": "Official wording.",
    }
    response = submit(client, "/secretariat/statement/2/edit", form)
    assert response.status_code == 302
    preview = client.get("/secretariat/statement/2/preview").get_data(as_text=True)
    assert "Preview of the draft of version 2" in preview and "and act." in preview
    return submit(
        client, "/secretariat/statement/2/publish", page="/secretariat/statement/2/preview"
    )


def test_draft_preview_publish_and_the_old_version_stays(app, client, secretariat, version_1):
    # The public does not see a draft.
    officer = app.test_client()
    login(officer, secretariat)
    submit(officer, "/secretariat/statement/new", page="/secretariat/statement/")
    assert client.get("/statement/v/2").status_code == 404
    assert "and act." not in client.get("/statement").get_data(as_text=True)
    submit(officer, "/secretariat/statement/2/delete", page="/secretariat/statement/")

    response = _publish_v2(client, secretariat)
    assert response.status_code == 302
    current = client.get("/statement").get_data(as_text=True)
    assert "Together We Stand, and act." in current and "Version 2" in current
    old = client.get("/statement/v/1").get_data(as_text=True)
    assert "The current version is 2" in old and "and act." not in old
    diff = client.get("/statement/v/2/diff").get_data(as_text=True)
    assert '<li class="diff-line removed">' in diff and "Together We Stand, and act." in diff
    with app.app_context():
        v2 = db.session.scalar(select(StatementVersion).where(StatementVersion.number == 2))
        assert v2.is_published and v2.text_sha256 and v2.text_sha256 != version_1
        assert v2.published_by.email == secretariat
        from cacnet.core.audit import AuditEvent

        actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert actions[-1] == "statement_published"


def test_the_database_refuses_to_change_a_published_version(app, version_1):
    with app.app_context():
        with pytest.raises(Exception, match="cannot be changed"):
            db.session.execute(
                text("UPDATE statement_versions SET body_en = 'tampered' WHERE number = 1")
            )
            db.session.commit()
        db.session.rollback()
        assert "tampered" not in db.session.scalar(select(StatementVersion.body_en))


def test_a_published_version_cannot_be_edited_through_the_app(app, client, secretariat, version_1):
    login(client, secretariat)
    response = client.get("/secretariat/statement/1/edit")
    assert response.status_code == 302
    token = csrf_token(client.get("/secretariat/statement/").get_data(as_text=True))
    client.post(
        "/secretariat/statement/1/edit",
        data={
            "csrf_token": token,
            "title_en": "X",
            "title_ko": "X",
            "body_en": "X",
            "body_ko": "X",
        },
    )
    client.post("/secretariat/statement/1/delete", data={"csrf_token": token})
    client.post("/secretariat/statement/1/publish", data={"csrf_token": token})
    with app.app_context():
        v1 = db.session.scalar(select(StatementVersion))
        assert v1.title_en == seed.TITLE_EN and v1.text_sha256 == version_1


def test_bad_drafts(app, client, secretariat, version_1):
    login(client, secretariat)
    submit(client, "/secretariat/statement/new", page="/secretariat/statement/")
    # A second draft is refused.
    response = submit(
        client, "/secretariat/statement/new", page="/secretariat/statement/", follow_redirects=True
    )
    assert "A draft exists already" in response.get_data(as_text=True)
    good = {"title_en": "T", "title_ko": "T", "body_en": "B", "body_ko": "B"}
    for changes, message in [
        ({"title_en": ""}, "This field is required."),
        ({"body_ko": "   "}, "This field is required."),
        ({"title_ko": "x" * 301}, "300"),
        ({"body_en": "x" * 20_001}, "20000"),
    ]:
        response = submit(client, "/secretariat/statement/2/edit", {**good, **changes})
        assert response.status_code == 200 and message in response.get_data(as_text=True)
    # Publishing the unchanged text is refused.
    response = submit(
        client,
        "/secretariat/statement/2/publish",
        page="/secretariat/statement/",
        follow_redirects=True,
    )
    assert "same as the current version" in response.get_data(as_text=True)
    with app.app_context():
        assert (
            db.session.scalar(
                select(StatementVersion).where(StatementVersion.number == 2)
            ).published_at
            is None
        )
    assert client.get("/statement/v/2/diff").status_code == 404
    assert client.get("/statement/v/1/diff").status_code == 404


@pytest.mark.parametrize("who", ["anonymous", "delegate", "admin-of-city"])
def test_only_the_secretariat_drafts(app, client, create_member_city, create_user, who, version_1):
    city_id, admin = create_member_city("Seoul", "KR")
    if who == "delegate":
        create_user("d@seoul.example", city_id=city_id)
        login(client, "d@seoul.example")
    elif who == "admin-of-city":
        login(client, admin)
    token = csrf_token(client.get("/auth/reset").get_data(as_text=True))
    for method, url in [("GET", "/secretariat/statement/"), ("POST", "/secretariat/statement/new"),
                        ("GET", "/secretariat/statement/1/edit"), ("GET", "/secretariat/statement/1/preview"),
                        ("POST", "/secretariat/statement/1/publish")]:  # fmt: skip
        response = (
            client.get(url) if method == "GET" else client.post(url, data={"csrf_token": token})
        )
        expected = 302 if who == "anonymous" else 403
        assert response.status_code == expected, (who, url)
    with app.app_context():
        assert db.session.query(StatementVersion).count() == 1
