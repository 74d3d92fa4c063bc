"""Site-wide behaviour: health check, error pages, security headers, languages."""

import pytest
from sqlalchemy import text

from cacnet import create_app
from cacnet.core.db import db


def test_healthz_reports_database_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_is_503_when_the_database_is_unreachable(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path),
            # A port where nothing listens: the connection is refused at once.
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2",
            "SECRET_KEY": "x" * 40,
        }
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] != "ok"


def test_home_page_has_header_slogan_and_both_languages(client):
    html = client.get("/").get_data(as_text=True)
    assert "Cities Alliance Against Pandemic" in html
    assert "Together We Stand" in html
    assert "한국어" in html and 'lang="en"' in html


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Page not found" in html
    assert "Traceback" not in html


def test_an_unexpected_error_shows_the_500_page_without_a_traceback(tmp_path):
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x" * 40})

    @app.get("/__boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/__boom")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Something went wrong" in html
    assert "secret internals" not in html and "Traceback" not in html


def test_security_headers_and_cookie_flags(client):
    response = client.get("/auth/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_secure_cookies_when_the_base_url_is_https(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path),
            "BASE_URL": "https://caap.example",
            "SECRET_KEY": "x" * 40,
        }
    )
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]


def test_korean_chosen_by_the_browser_and_by_the_switcher(client):
    html = client.get("/", headers={"Accept-Language": "ko-KR,ko;q=0.9"}).get_data(as_text=True)
    assert 'lang="ko"' in html
    assert "감염병 대응 도시연대" in html
    client.get("/language/en?next=/")
    html = client.get("/", headers={"Accept-Language": "ko-KR,ko;q=0.9"}).get_data(as_text=True)
    assert 'lang="en"' in html


def test_error_pages_are_translated(client):
    html = client.get("/nope", headers={"Accept-Language": "ko"}).get_data(as_text=True)
    assert 'lang="ko"' in html
    assert "Page not found" not in html


def test_language_switch_refuses_a_foreign_next(client):
    response = client.get("/language/ko?next=https://evil.example/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_production_refuses_a_weak_secret_key(tmp_path, monkeypatch):
    monkeypatch.setenv("CACNET_ENV", "production")
    for weak in (None, "dev", "short-key"):
        override = {"INSTANCE_PATH": str(tmp_path)}
        if weak is not None:
            override["SECRET_KEY"] = weak
        with pytest.raises(RuntimeError, match="CACNET_SECRET_KEY"):
            create_app(override)
    create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "k" * 48})


def test_development_generates_a_secret_key_once(tmp_path, monkeypatch):
    monkeypatch.delenv("CACNET_SECRET_KEY", raising=False)
    first = create_app({"INSTANCE_PATH": str(tmp_path)}).config["SECRET_KEY"]
    second = create_app({"INSTANCE_PATH": str(tmp_path)}).config["SECRET_KEY"]
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_database_constraint_refuses_uppercase_email(app):
    with app.app_context(), pytest.raises(Exception, match="(?i)check|constraint"):
        db.session.execute(
            text(
                "INSERT INTO users (email, name, title, role, locale, session_version, "
                "created_at, updated_at) VALUES ('Upper@Example.org', 'x', '', 'delegate', 'en', 0, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        db.session.commit()
    with app.app_context():
        db.session.rollback()


def test_anonymous_public_pages_set_no_session_cookie(client):
    """Public pages stay cacheable: no cookie until a form or a sign-in needs one."""
    for path in ("/", "/cities/", "/healthz"):
        response = client.get(path)
        assert "Set-Cookie" not in response.headers, path
