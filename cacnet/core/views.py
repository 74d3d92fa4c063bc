"""Site-wide pages: home, health check, language choice."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, session
from flask_login import current_user
from sqlalchemy import text

from cacnet.core.db import db
from cacnet.core.web import redirect_back
from cacnet.extensions import limiter

bp = Blueprint("core", __name__)


@bp.get("/")
def home():
    return render_template("core/home.html")


@bp.get("/healthz")
@limiter.exempt
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure to reach the database is "unhealthy"
        db.session.rollback()
        current_app.logger.exception("health check: database unreachable")
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


@bp.get("/language/<code>")
def set_language(code: str):
    """Remember the chosen language for this visitor and, when signed in, on the account.

    A GET, without a CSRF token: choosing a language is harmless, and a token in every page's
    header would give every anonymous visitor a session cookie and make public pages uncacheable.
    """
    if code in current_app.config["LANGUAGES"]:
        session["locale"] = code
        if current_user.is_authenticated and current_user.locale != code:
            current_user.locale = code
            db.session.commit()
    return redirect_back("core.home")
