"""Test harness: one app per test session on a real database (SQLite, or PostgreSQL when
CACNET_TEST_DATABASE_URL is set), schema made by the Alembic migrations, every table emptied after
each test. Factories make users and member cities through the real service functions."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import event, select, text, update

from cacnet import create_app
from cacnet.config import normalise_database_url
from cacnet.core.db import db
from cacnet.extensions import limiter

# The loopback OpenID provider (Node's oidc-provider) and its fixtures live in their own module.
pytest_plugins = ["tests.oidc_support"]

PASSWORD = "correct-Horse-battery-staple-42"
TEST_DATABASE_URL = os.environ.get("CACNET_TEST_DATABASE_URL") or ""
ON_POSTGRES = TEST_DATABASE_URL.startswith(("postgres://", "postgresql"))


def pytest_report_header(config):
    return f"cacnet database: {'PostgreSQL ' + TEST_DATABASE_URL if ON_POSTGRES else 'SQLite'}"


def _worker_database(url: str, worker: str) -> str:
    """With pytest-xdist, each worker gets a PostgreSQL database of its own next to the given one
    (``test`` -> ``test_gw0``, ``test_gw1``), made on first use."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"{base.database}_{worker}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def app(tmp_path_factory, worker_id):
    instance = tmp_path_factory.mktemp("instance")
    url = (
        normalise_database_url(TEST_DATABASE_URL)
        if ON_POSTGRES
        else f"sqlite:///{instance / 'test.sqlite'}"
    )
    if ON_POSTGRES and worker_id != "master":
        url = _worker_database(url, worker_id)
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(instance),
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "a-test-secret-key-that-is-long-enough-0123456789",
            "BASE_URL": "http://localhost",
            "ARGON2_PROFILE": "CHEAPEST",  # real argon2, fast parameters
            "JOBS_SYNC": True,  # background jobs run right after the commit that queues them
            "ISSUE_DOCUMENTS_ON_CHANGE": False,  # the document tests turn it on
            "RESOURCES_AUTO_TICK": False,  # tests run the exchange's clock work themselves
            "DELIVERY_AUTO_SEND": False,  # likewise the hourly safety net of the delivery queue
            "LINK_CHECK_AUTO": False,  # and the daily run of the link checker
            "NEWS_DIGEST_AUTO": False,  # and the weekly news digest
        }
    )
    from cacnet.statement import seal

    seal.init_seal(instance)  # the secretariat's seal, a fresh self-signed one for the session
    with app.app_context():
        if ON_POSTGRES:
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        db.session.remove()
        _empty_tables()  # every test starts empty; migrations' own data is tested on its own
    yield app
    with app.app_context():
        db.engine.dispose()


def _empty_tables() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as conn:
        if ON_POSTGRES:
            names = ", ".join(t.name for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


@pytest.fixture(autouse=True)
def _clean(app):
    with app.app_context():
        limiter.reset()
        from cacnet.core.cache import cache

        cache.clear()
        from cacnet.statement import signatories

        signatories._local.clear()  # the per-process memo in front of the shared cache
    yield
    with app.app_context():
        db.session.remove()
        _empty_tables()
    for folder in (app.config["OUTBOX_FOLDER"], app.config["UPLOAD_FOLDER"],
                   app.config["DOCUMENT_FOLDER"]):  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def app_ctx(app):
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        yield
        db.session.remove()


@pytest.fixture
def count_queries(app):
    """count_queries(client, url) -> how many SQL statements serving ``url`` ran (asserts a 200)."""
    with app.app_context():
        engine = db.engine

    def _count(client, url: str) -> int:
        statements = []

        def before(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", before)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", before)
        return len(statements)

    return _count


# --- forms ---------------------------------------------------------------------------------

CSRF_RE = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)


def csrf_token(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def submit(client, url: str, data: dict | None = None, *, page: str | None = None, **kwargs):
    """Open the page that holds the form (``page``, default ``url``), then post it with its token."""
    html = client.get(page or url).get_data(as_text=True)
    payload = {"csrf_token": csrf_token(html), **(data or {})}
    return client.post(url, data=payload, **kwargs)


def login(client, email: str, password: str = PASSWORD, **extra):
    """Sign in with the password and, when the account asks for it, the second factor."""
    response = submit(client, "/auth/login", {"email": email, "password": password, **extra})
    if response.status_code == 302 and response.headers["Location"].endswith("/auth/two-factor"):
        code = totp_code_for(client.application, email)
        response = submit(client, "/auth/two-factor", {"code": code})
    return response


# --- the second factor ---------------------------------------------------------------------


def totp_secret_for(email: str) -> str:
    """The TOTP secret the factories enrol for ``email`` (a test's authenticator app)."""
    return base64.b32encode(hashlib.sha256(email.encode()).digest()[:20]).decode()


def totp_code_for(app, email: str) -> str:
    """The current code for ``email``. Forgets the last accepted step first, so that a test may
    sign the same account in twice within 30 seconds (replay refusal has its own tests)."""
    import pyotp

    from cacnet.accounts.models import User

    with app.app_context():
        db.session.execute(
            update(User).where(User.email == email.lower()).values(totp_last_step=None)
        )
        db.session.commit()
    return pyotp.TOTP(totp_secret_for(email.lower())).now()


def enrol_two_factor(app, email: str) -> list[str]:
    """Turn on the second factor with ``totp_secret_for(email)``, as the enrolment page would but
    without its notice mail (tests count mail); returns the ten recovery codes."""
    from cacnet.accounts import two_factor
    from cacnet.accounts.models import User
    from cacnet.core.db import utcnow

    with app.test_request_context(base_url=app.config["BASE_URL"]):
        user = db.session.scalar(select(User).where(User.email == email.lower()))
        user.totp_secret = two_factor._encrypt(totp_secret_for(email.lower()))
        user.totp_enabled_at = utcnow()
        codes = two_factor._new_recovery_codes(user)
        db.session.commit()
    return codes


# --- mail ----------------------------------------------------------------------------------


class Outbox:
    """The .eml files the app wrote (no SMTP server configured)."""

    def __init__(self, folder: Path):
        self.folder = folder

    @property
    def messages(self):
        if not self.folder.exists():
            return []
        return [
            message_from_bytes(p.read_bytes(), policy=policy.default)
            for p in sorted(self.folder.glob("*.eml"))
        ]

    def to(self, address: str, subject: str = ""):
        """Messages to ``address`` whose subject contains ``subject``."""
        return [m for m in self.messages if m["To"] == address and subject in m["Subject"]]


def body_of(msg) -> str:
    return msg.get_body(preferencelist=("plain",)).get_content()


def link_in(msg, path_fragment: str) -> str:
    """The first link in the message whose path contains ``path_fragment``, as a local path."""
    for url in re.findall(r"https?://\S+", body_of(msg)):
        if path_fragment in url:
            return re.sub(r"^https?://[^/]+", "", url)
    raise AssertionError(f"no link with {path_fragment!r} in {body_of(msg)!r}")


@pytest.fixture
def outbox(app):
    return Outbox(Path(app.config["OUTBOX_FOLDER"]))


# --- factories -----------------------------------------------------------------------------


@pytest.fixture
def create_user(app):
    """create_user(email, role="delegate", city_id=None, **kw) -> user id (made by the service)."""
    from cacnet.accounts import services
    from cacnet.accounts.models import UserRole
    from cacnet.cities.models import City

    def _create(email, role="delegate", city_id=None, password=PASSWORD, **kwargs):
        # Secretariat and admin accounts cannot work without a second factor: enrol them unless
        # the test is about enrolment (two_factor=False).
        two_factor = kwargs.pop("two_factor", role in ("secretariat", "admin"))
        with app.test_request_context(base_url=app.config["BASE_URL"]):
            user = services.create_user(
                email,
                name=kwargs.pop("name", email.split("@")[0].title()),
                role=UserRole(role),
                city=db.session.get(City, city_id) if city_id is not None else None,
                password=password,
                **kwargs,
            )
            db.session.commit()
            user_id = user.id
        if two_factor:
            enrol_two_factor(app, email)
        return user_id

    return _create


@pytest.fixture
def secretariat(create_user):
    create_user("officer@caap.example", role="secretariat", name="Officer One")
    return "officer@caap.example"


@pytest.fixture
def create_member_city(app):
    """create_member_city("Seoul", "KR") -> (city_id, admin e-mail): applied and approved through
    the membership services, its applicant the city admin."""
    from cacnet.accounts import services as accounts
    from cacnet.accounts.models import User, UserRole
    from cacnet.membership import services as membership

    def _create(name="Seoul", country="KR", admin_email=None, name_local=""):
        admin_email = admin_email or f"{name.lower().replace(' ', '')}@cities.example"
        with app.test_request_context(base_url=app.config["BASE_URL"]):
            officer = db.session.scalar(select(User).where(User.role == UserRole.SECRETARIAT))
            if officer is None:
                officer = accounts.create_user(
                    "factory-officer@caap.example",
                    name="Factory Officer",
                    role=UserRole.SECRETARIAT,
                    password=PASSWORD,
                )
            applicant = accounts.register_applicant(
                admin_email, name=f"{name} Admin", title="Officer", password=PASSWORD, locale="en"
            )
            from cacnet.core.db import utcnow

            applicant.email_verified_at = utcnow()
            data = membership.ApplicationData(name, name_local, country, "", 1000000, "")
            application = membership.submit_application(data, applicant, "en")
            city = membership.approve(officer, application)
            db.session.commit()
            return city.id, admin_email

    return _create


# --- a real SMTP server on loopback ----------------------------------------------------------


class SMTPSink:
    """Collects what aiosmtpd receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def to(self, address: str, subject: str = ""):
        return [m for m in self.messages if m["To"] == address and subject in m["Subject"]]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server(app):
    """A real SMTP server on 127.0.0.1; the app sends to it for the duration of the test."""
    from aiosmtpd.controller import Controller

    sink = SMTPSink()
    controller = Controller(sink, hostname="127.0.0.1", port=_free_port())
    controller.start()
    saved = {k: app.config.get(k) for k in ("MAIL_SERVER", "MAIL_PORT")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    try:
        yield sink
    finally:
        app.config.update(saved)
        controller.stop()


@pytest.fixture
def areas(app):
    """The ten default areas (the migration's rows are emptied with every table)."""
    from cacnet.areas import services as areas_services

    with app.app_context():
        areas_services.ensure_defaults()
        return {a.slug: a.id for a in areas_services.all_areas()}


@pytest.fixture
def make_network(app, create_member_city, create_user, secretariat):
    """make_network([(name, country), …], suspended=name, delegate_locales={name: "ko"}) ->
    {name: {"city_id", "admin", "delegate", "slug"}, …, "secretariat": e-mail, "admin": e-mail}:
    member cities with their city admin and a delegate each (``<name>.delegate@cities.example``),
    one of them suspended by the secretariat, and an admin account."""
    from cacnet.accounts.models import User
    from cacnet.cities.models import City
    from cacnet.membership import services as membership
    from cacnet.membership.models import Membership, MembershipState

    def _make(cities, suspended, delegate_locales=None):
        found: dict = {}
        for name, country in cities:
            city_id, admin = create_member_city(name, country)
            delegate = f"{name.lower()}.delegate@cities.example"
            locale = {"locale": delegate_locales[name]} if name in (delegate_locales or {}) else {}
            create_user(delegate, city_id=city_id, name=f"{name} Delegate", **locale)
            with app.app_context():
                slug = db.session.get(City, city_id).slug
            found[name] = {"city_id": city_id, "admin": admin, "delegate": delegate, "slug": slug}
        with app.test_request_context(base_url=app.config["BASE_URL"]):
            row = db.session.scalar(
                select(Membership).where(
                    Membership.city_id == found[suspended]["city_id"],
                    Membership.state == MembershipState.APPROVED,
                )
            )
            officer = db.session.scalar(select(User).where(User.email == secretariat))
            membership.suspend(officer, row, "Dues unpaid for two years.")
            db.session.commit()
        create_user("root@caap.example", role="admin")
        found["secretariat"] = secretariat
        found["admin"] = "root@caap.example"
        return found

    return _make
