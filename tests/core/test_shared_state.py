"""Several app servers share limits through Redis; a database outage gives a 503 page."""

import pytest
import redis

from cacnet import create_app
from tests.conftest import login

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def two_servers(app, tmp_path):
    """Two app instances on the same database and the same Redis, like two gunicorn hosts."""
    redis.Redis.from_url(REDIS_URL).flushdb()
    servers = [
        create_app(
            {
                "TESTING": True,
                "INSTANCE_PATH": str(tmp_path / name),
                "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                "SECRET_KEY": app.config["SECRET_KEY"],
                "REDIS_URL": REDIS_URL,
                "ARGON2_PROFILE": "CHEAPEST",
            }
        )
        for name in ("a", "b")
    ]
    yield servers
    redis.Redis.from_url(REDIS_URL).flushdb()
    # The limiter is one object per process; give the test session's app its storage back.
    from cacnet.extensions import limiter

    limiter.init_app(app)


def test_login_throttle_is_shared_between_app_servers(two_servers, create_member_city):
    _, email = create_member_city("Seoul", "KR")
    a, b = (server.test_client() for server in two_servers)
    for _ in range(5):
        assert login(a, email, "wrong-password-entirely").status_code == 200
    assert login(b, email).status_code == 429
    # The counts live in Redis, where every app server reads them.
    keys = redis.Redis.from_url(REDIS_URL).keys("*account:seoul@cities.example*")
    assert keys


def test_a_session_from_one_server_works_on_the_other(two_servers, create_member_city):
    _, email = create_member_city("Seoul", "KR")
    a = two_servers[0].test_client()
    login(a, email)
    b = two_servers[1].test_client()
    b.set_cookie("session", a.get_cookie("session").value)
    assert b.get("/account/").status_code == 200


def test_pages_answer_503_when_the_database_is_unreachable(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path),
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2",
            "SECRET_KEY": "x" * 40,
        }
    )
    client = app.test_client()
    response = client.get("/auth/reset")  # renders without the database
    assert response.status_code == 200
    html = client.get("/auth/reset").get_data(as_text=True)
    from tests.conftest import csrf_token

    response = client.post(
        "/auth/reset", data={"csrf_token": csrf_token(html), "email": "a@b.example"}
    )
    assert response.status_code == 503
    assert "Temporarily unavailable" in response.get_data(as_text=True)
