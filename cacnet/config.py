"""Configuration: defaults, then ``<instance>/config.py``, then ``CACNET_*`` environment variables.

Later sources win. Tests pass ``config_override`` to ``create_app``, which wins over everything.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

WEAK_SECRET_KEYS = {"", "dev", "secret", "changeme", "change-me", "development", "test"}
MIN_SECRET_KEY_LENGTH = 32


class Defaults:
    ENV = "development"
    BASE_URL = "http://127.0.0.1:5000"
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    # 10 MB for a letter of intent plus the rest of the form.
    MAX_CONTENT_LENGTH = 11 * 1024 * 1024
    MAX_LETTER_BYTES = 10 * 1024 * 1024
    LANGUAGES = ("en", "ko")
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    WTF_CSRF_TIME_LIMIT = None  # tied to the session instead; sessions expire on their own
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = 60 * 60 * 24 * 30
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 12
    MAIL_SERVER: str | None = None
    MAIL_PORT = 25
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_USE_TLS = False
    MAIL_SENDER = "CAAP Secretariat <secretariat@cacnet.invalid>"
    SECRETARIAT_NOTIFY_EMAIL: str | None = None
    REDIS_URL: str | None = None
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_LIMIT_PER_IP = "20 per minute;200 per hour"
    LOGIN_LIMIT_PER_ACCOUNT = "5 per minute;30 per hour"
    RESET_LIMIT_PER_IP = "5 per minute;50 per hour"
    RESET_LIMIT_PER_ACCOUNT = "3 per hour"
    APPLY_LIMIT_PER_IP = "10 per hour"
    EMAIL_TOKEN_HOURS = 72
    RESET_TOKEN_HOURS = 2
    INVITATION_DAYS = 14
    # City imports are checked and written by a background thread; True runs that work inline,
    # right after the commit that starts it (tests).
    CITY_IMPORT_SYNC = False
    # Background jobs (cacnet.core.jobs): an RQ queue on REDIS_URL, else threads; True: inline.
    JOBS_SYNC = False
    JOBS_QUEUE = "cacnet"
    # Render a city's certificate as soon as its endorsement is verified (tests turn it off to
    # keep WeasyPrint out of tests that are not about documents).
    ISSUE_DOCUMENTS_ON_CHANGE = True
    # Queue the exchange's clock work (expiry, reminders, digests) from requests, at most hourly.
    RESOURCES_AUTO_TICK = True
    # The e-mail delivery queue (cacnet.core.deliveries): the waits before the 2nd, 3rd, ...
    # attempt (the last repeats), attempts before a delivery fails, seconds after which a claimed
    # delivery counts as abandoned by a crashed worker, deliveries per SMTP connection, seconds a
    # job sends before handing over to a fresh one, a fan-out spread over one job per
    # DELIVERY_PER_RUN deliveries (at most DELIVERY_PARALLEL_RUNS), an hourly run from requests.
    DELIVERY_BACKOFF_SECONDS: tuple[float, ...] = (60, 300, 1800, 7200)
    DELIVERY_MAX_ATTEMPTS = 6
    DELIVERY_CLAIM_TIMEOUT = 900
    DELIVERY_BATCH_SIZE = 100
    DELIVERY_RUN_SECONDS = 600
    DELIVERY_PER_RUN = 1000
    DELIVERY_PARALLEL_RUNS = 4
    DELIVERY_AUTO_SEND = True
    # The weekly news digest, queued by the first request of each ISO week (off: run
    # ``flask --app cacnet news digest`` from cron instead).
    NEWS_DIGEST_AUTO = True
    # The largest PDF the verification page and POST /api/v1/verify accept.
    VERIFY_MAX_BYTES = 100 * 1024 * 1024
    # OpenID Connect providers for "Sign in with …" (cacnet.accounts.oidc.parse_providers): dicts
    # with name, title, issuer, client_id, client_secret, and optionally scopes, trust_email and
    # metadata_url. Checked at start-up.
    OIDC_PROVIDERS: tuple[dict[str, Any], ...] = ()
    # The JSON API: rate limits per client IP (public endpoints) and per personal token, and the
    # largest JSON body a write accepts.
    API_LIMIT_PUBLIC = "300 per minute"
    API_LIMIT_TOKEN = "1200 per minute"  # noqa: S105 - a rate, not a secret
    API_MAX_JSON_BYTES = 64 * 1024
    # The cities network's link checker (cacnet.links.checker): False fetches nothing and records
    # nothing (no outbound access); a forward proxy for http and https (e.g. http://proxy:3128);
    # seconds per request; True lets it fetch loopback/private addresses (tests only); a run
    # queued from requests every LINK_CHECK_INTERVAL_HOURS (LINK_CHECK_AUTO), checking
    # LINK_CHECK_BATCH links per transaction, oldest-checked first.
    LINK_CHECK_ENABLED = True
    LINK_CHECK_PROXY: str | None = None
    LINK_CHECK_TIMEOUT = 5.0
    LINK_CHECK_ALLOW_PRIVATE = False
    LINK_CHECK_AUTO = True
    LINK_CHECK_INTERVAL_HOURS = 24.0
    LINK_CHECK_BATCH = 20


_ENV_STRINGS = (
    "ENV",
    "BASE_URL",
    "SECRET_KEY",
    "MAIL_SERVER",
    "MAIL_USERNAME",
    "MAIL_PASSWORD",
    "MAIL_SENDER",
    "REDIS_URL",
    "SECRETARIAT_NOTIFY_EMAIL",
)


def _truthy(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs (SQLAlchemy would pick psycopg2)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def instance_path_from_env() -> str:
    return str(Path(os.environ.get("CACNET_INSTANCE_PATH", "instance")).resolve())


def load_config(app, config_override: dict[str, Any] | None) -> None:
    """Fill ``app.config`` from the three sources and check it is safe to run."""
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    env = os.environ
    for key in _ENV_STRINGS:
        if f"CACNET_{key}" in env:
            app.config[key] = env[f"CACNET_{key}"]
    if "CACNET_MAIL_PORT" in env:
        app.config["MAIL_PORT"] = int(env["CACNET_MAIL_PORT"])
    if "CACNET_MAIL_USE_TLS" in env:
        app.config["MAIL_USE_TLS"] = _truthy(env["CACNET_MAIL_USE_TLS"])
    _link_check_from_env(app, env)
    if "CACNET_DATABASE_URL" in env:
        app.config["SQLALCHEMY_DATABASE_URI"] = env["CACNET_DATABASE_URL"]
    if config_override:
        app.config.update(config_override)

    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    app.config.setdefault("SQLALCHEMY_DATABASE_URI", f"sqlite:///{instance / 'cacnet.sqlite'}")
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # SQLite has no pool to pre-ping and wants a longer lock wait under concurrent writers.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}}
    app.config.setdefault("UPLOAD_FOLDER", str(instance / "uploads"))
    app.config.setdefault("DOCUMENT_FOLDER", str(instance / "documents"))
    app.config.setdefault("OUTBOX_FOLDER", str(instance / "outbox"))

    base_url = app.config["BASE_URL"].rstrip("/")
    app.config["BASE_URL"] = base_url
    secure = base_url.startswith("https://")
    app.config["SESSION_COOKIE_SECURE"] = secure
    app.config["REMEMBER_COOKIE_SECURE"] = secure
    app.config["PREFERRED_URL_SCHEME"] = "https" if secure else "http"

    if app.config["REDIS_URL"]:
        app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"])
    else:
        app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")

    _settle_secret_key(app, instance)


def _link_check_from_env(app, env) -> None:
    prefix = "CACNET_LINK_CHECK_"
    for key in ("ENABLED", "ALLOW_PRIVATE", "AUTO"):
        if prefix + key in env:
            app.config["LINK_CHECK_" + key] = _truthy(env[prefix + key])
    for key in ("TIMEOUT", "INTERVAL_HOURS"):
        if prefix + key in env:
            app.config["LINK_CHECK_" + key] = float(env[prefix + key])
    if prefix + "BATCH" in env:
        app.config["LINK_CHECK_BATCH"] = int(env[prefix + "BATCH"])
    if prefix + "PROXY" in env:
        app.config["LINK_CHECK_PROXY"] = env[prefix + "PROXY"].strip() or None


def _settle_secret_key(app, instance: Path) -> None:
    key = app.config.get("SECRET_KEY")
    production = app.config["ENV"] == "production"
    if production:
        if not key or key.lower() in WEAK_SECRET_KEYS or len(key) < MIN_SECRET_KEY_LENGTH:
            raise RuntimeError(
                "CACNET_SECRET_KEY must be set to a random string of at least "
                f"{MIN_SECRET_KEY_LENGTH} characters in production "
                '(python -c "import secrets; print(secrets.token_urlsafe(48))").'
            )
        return
    if key:
        return
    # Development: generate one key once and keep it, so sessions survive restarts.
    key_file = instance / "secret_key"
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass  # another process (or an earlier start) made it
    else:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    app.config["SECRET_KEY"] = key_file.read_text().strip()
