"""A shared cache (Flask-Caching): Redis when CACNET_REDIS_URL is set, so every app server sees
the same entries; an in-process cache otherwise. Invalidations requested during a transaction
happen after its commit, so no request can re-cache the old state in between."""

from __future__ import annotations

from flask_caching import Cache
from sqlalchemy import event
from sqlalchemy.orm import Session

from cacnet.core.db import db

cache = Cache()
_PENDING_KEY = "cacnet_pending_cache_deletes"


def init_app(app) -> None:
    config = {"CACHE_DEFAULT_TIMEOUT": 300, "CACHE_KEY_PREFIX": "cacnet:"}
    if app.config.get("REDIS_URL"):
        config.update(CACHE_TYPE="RedisCache", CACHE_REDIS_URL=app.config["REDIS_URL"])
    else:
        config.update(CACHE_TYPE="SimpleCache", CACHE_THRESHOLD=2000)
    config.update({k: v for k, v in app.config.items() if k.startswith("CACHE_")})
    cache.init_app(app, config=config)


def delete_after_commit(*keys: str) -> None:
    db.session().info.setdefault(_PENDING_KEY, set()).update(keys)


@event.listens_for(Session, "after_commit")
def _delete_after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a SAVEPOINT released: the real commit is still to come
        return
    keys = session.info.pop(_PENDING_KEY, None)
    if keys:
        cache.delete_many(*keys)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.info.pop(_PENDING_KEY, None)
