"""cacnet: the member network and declaration-signing platform of the Cities Alliance Against
Pandemic."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask

from cacnet.config import instance_path_from_env, load_config

ROOT = Path(__file__).resolve().parent.parent


def create_app(config_override: dict[str, Any] | None = None) -> Flask:
    instance_path = (config_override or {}).get("INSTANCE_PATH") or instance_path_from_env()
    app = Flask(
        __name__,
        instance_path=instance_path,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    load_config(app, config_override)
    logging.basicConfig(level=logging.INFO if not app.testing else logging.WARNING)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    for noisy in ("weasyprint", "fontTools"):  # per-step progress at INFO
        logging.getLogger(noisy).setLevel(logging.WARNING)

    _init_extensions(app)
    _register_blueprints(app)

    from cacnet.core import cli, errors_views, web

    web.init_app(app)
    errors_views.init_app(app)
    cli.init_app(app)
    return app


def _init_extensions(app: Flask) -> None:
    from cacnet.core.i18n import select_locale
    from cacnet.extensions import babel, csrf, db, limiter, login_manager, migrate, talisman

    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(ROOT / "migrations"), compare_type=True, render_as_batch=True
    )
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(ROOT / "cacnet" / "translations"),
    )
    limiter.init_app(app)
    from cacnet.core import cache as shared_cache

    shared_cache.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message_category = "info"
    from flask_babel import lazy_gettext as _l

    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.needs_refresh_message = _l("Please sign in again to continue.")

    talisman.init_app(
        app,
        force_https=False,  # TLS ends at the load balancer; BASE_URL decides secure cookies
        strict_transport_security=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_http_only=True,
        session_cookie_samesite="Lax",
        frame_options="DENY",
        referrer_policy="same-origin",
        content_security_policy={
            "default-src": "'self'",
            "script-src": "'self'",
            "style-src": "'self'",
            "img-src": ["'self'", "data:"],
            "font-src": "'self'",
            "object-src": "'none'",
            "base-uri": "'self'",
            "form-action": "'self'",
            "frame-ancestors": "'none'",
        },
    )

    # Import the models so that every table is known to the metadata (and to Alembic).
    from cacnet import models  # noqa: F401
    from cacnet.accounts.models import User

    @login_manager.user_loader
    def load_user(session_id: str) -> User | None:
        user_id, _, version = session_id.partition(":")
        if not user_id.isdigit() or not version.isdigit():
            return None
        user = db.session.get(User, int(user_id))
        if user is None or user.session_version != int(version) or not user.is_active:
            return None
        return user


def _register_blueprints(app: Flask) -> None:
    from cacnet.accounts.views import bp as accounts_bp
    from cacnet.cities.admin_views import bp as cities_admin_bp
    from cacnet.cities.views import bp as cities_bp
    from cacnet.core.views import bp as core_bp
    from cacnet.membership.views import bp as membership_bp
    from cacnet.statement.views import bp as statement_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(accounts_bp)
    from cacnet.accounts import oidc
    from cacnet.accounts.oidc_views import bp as oidc_bp

    oidc.init_app(app)  # checks OIDC_PROVIDERS: a mistake stops the start
    app.register_blueprint(oidc_bp)
    app.register_blueprint(membership_bp)
    app.register_blueprint(cities_admin_bp)
    app.register_blueprint(cities_bp)
    app.register_blueprint(statement_bp)
    from cacnet.statement.document_views import bp as documents_bp

    app.register_blueprint(documents_bp)
    from cacnet.resources.views import bp as resources_bp

    app.register_blueprint(resources_bp)
    from cacnet import api
    from cacnet.accounts.token_views import bp as tokens_bp

    api.init_app(app)
    app.register_blueprint(tokens_bp)
    from cacnet.resources.admin_views import bp as resources_admin_bp

    app.register_blueprint(resources_admin_bp)
    from cacnet.core.delivery_views import bp as deliveries_bp

    app.register_blueprint(deliveries_bp)

    from cacnet.situation.views import bp as situation_bp

    app.register_blueprint(situation_bp)
    from cacnet.alerts.admin_views import bp as alerts_admin_bp
    from cacnet.alerts.views import bp as alerts_bp

    app.register_blueprint(alerts_bp)
    app.register_blueprint(alerts_admin_bp)
    from cacnet.search.views import bp as search_bp

    app.register_blueprint(search_bp)
    from cacnet.areas.views import bp as areas_bp
    from cacnet.library.views import bp as library_bp

    app.register_blueprint(areas_bp)
    app.register_blueprint(library_bp)
    from cacnet.links.views import bp as links_bp

    app.register_blueprint(links_bp)
    from cacnet.news.views import bp as news_bp

    app.register_blueprint(news_bp)
    from cacnet.events.views import bp as events_bp

    app.register_blueprint(events_bp)
    from cacnet.catalogue.views import bp as catalogue_bp

    app.register_blueprint(catalogue_bp)

    from cacnet.statement import city_hooks

    city_hooks.register()
    from cacnet.situation import city_hooks as situation_city_hooks

    situation_city_hooks.register()
    from cacnet.alerts import city_hooks as alerts_city_hooks

    alerts_city_hooks.register()
    from cacnet.cities import search as cities_search

    cities_search.register()
    from cacnet.library import city_hooks as library_city_hooks
    from cacnet.library import search as library_search

    library_city_hooks.register()
    library_search.register()
    from cacnet.links import city_hooks as links_city_hooks

    links_city_hooks.register()
    from cacnet.news import city_hooks as news_city_hooks
    from cacnet.news import search as news_search

    news_city_hooks.register()
    news_search.register()
    from cacnet.events import city_hooks as events_city_hooks
    from cacnet.events import search as events_search

    events_city_hooks.register()
    events_search.register()
    from cacnet.catalogue import search as catalogue_search

    catalogue_search.register()
