"""The JSON API under /api/v1, described by its OpenAPI document (cacnet.api.schemas.openapi).

``views`` holds the blueprint and the public endpoints, ``member_views`` those that need a personal
token; ``auth`` reads the token, ``validation`` checks input against the document, ``pagination``
pages by cursor, ``serializers`` shapes the answers.
"""

from __future__ import annotations

from flask import Flask
from flask_cors import CORS


def init_app(app: Flask) -> None:
    """Register the blueprint, and CORS for the public read endpoints only (any origin, GET,
    no credentials); the endpoints that take a token answer no cross-origin request."""
    from cacnet.api import member_views  # noqa: F401 - registers its routes on the blueprint
    from cacnet.api.views import PUBLIC_READ_PATHS, bp

    app.register_blueprint(bp)
    CORS(
        app,
        resources={PUBLIC_READ_PATHS: {"origins": "*", "methods": ["GET", "HEAD", "OPTIONS"]}},
        send_wildcard=True,
        supports_credentials=False,
        expose_headers=[
            "Retry-After",
            "X-RateLimit-Limit",
            "X-RateLimit-Remaining",
            "X-RateLimit-Reset",
        ],
        max_age=86400,
    )
