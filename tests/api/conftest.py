"""Fixtures of the API: the exchange's three member cities (Seoul, London, Jakarta), personal
tokens made through the service, and a small client that speaks JSON with a bearer token."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cacnet.accounts.models import User
from cacnet.core.db import db
from tests.resources.conftest import category_id, exchange, make_post, user  # noqa: F401


@pytest.fixture
def make_token(app):
    """make_token(email, scope="write", days=90, name=…) -> the plaintext token."""
    from cacnet.accounts import api_tokens

    def _make(email, scope="write", days=90, name=None):
        with app.test_request_context(base_url=app.config["BASE_URL"]):
            owner = db.session.scalar(select(User).where(User.email == email))
            _token, plaintext = api_tokens.create_token(
                owner, name or f"{scope} token", scope, expires_in_days=days
            )
            db.session.commit()
            return plaintext

    return _make


class Api:
    """client.get/post under /api/v1 with ``token`` as the bearer (None: no header)."""

    def __init__(self, client):
        self.client = client

    def _headers(self, token, headers):
        found = dict(headers or {})
        if token is not None:
            found["Authorization"] = f"Bearer {token}"
        return found

    def get(self, path, token=None, headers=None, **kwargs):
        return self.client.get("/api/v1" + path, headers=self._headers(token, headers), **kwargs)

    def post(self, path, token=None, headers=None, **kwargs):
        return self.client.post("/api/v1" + path, headers=self._headers(token, headers), **kwargs)


@pytest.fixture
def api(client):
    return Api(client)


def suspend(app, city_id: int, reason: str = "Dues unpaid") -> None:
    """The secretariat suspends the city's membership (through the membership service)."""
    from cacnet.accounts.models import UserRole
    from cacnet.membership import services as membership
    from cacnet.membership.models import Membership

    with app.test_request_context(base_url=app.config["BASE_URL"]):
        officer = db.session.scalar(select(User).where(User.role == UserRole.SECRETARIAT))
        current = db.session.scalar(
            select(Membership).where(Membership.city_id == city_id, Membership.state == "approved")
        )
        membership.suspend(officer, current, reason)
        db.session.commit()


def audit_actions(app) -> list[str]:
    from cacnet.core.audit import AuditEvent

    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def audit_events(app, action: str) -> list:
    from cacnet.core.audit import AuditEvent

    with app.app_context():
        events = list(
            db.session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )
        db.session.expunge_all()
        return events
