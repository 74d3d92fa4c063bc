"""Property-based tests of the whole API from its own OpenAPI document (schemathesis): for every
operation, the documented examples and generated requests (valid and invalid) never cause a server
error, and every answer has a documented status code and conforms to its documented schema.

The data is seeded so that the token endpoints are exercised too: London's write token is sent
with every request, the documented example post is Seoul's (London may respond to it), and the
documented example response is Jakarta's to a London post (London may accept or decline it).
Derandomized and small, so it runs in seconds and the same way every time.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from cacnet.api.schemas.openapi import EXAMPLE_POST_ID, EXAMPLE_RESPONSE_ID
from cacnet.core.db import db
from cacnet.extensions import limiter
from tests.statement.test_versions import version_1  # noqa: F401 - fixture


@pytest.fixture
def seeded(app, exchange, make_post, make_token, version_1):  # noqa: F811
    """The documented examples exist; returns London's write token."""
    from cacnet.resources import services
    from cacnet.resources.models import ResourcePost
    from tests.resources.conftest import user

    seoul_post = make_post(exchange["Seoul"]["delegate"], quantity="500")
    london_post = make_post(exchange["London"]["delegate"], kind="offer", quantity="80")
    with app.test_request_context(base_url="http://localhost"):
        by_uuid = {p.uuid: p for p in db.session.scalars(select(ResourcePost))}
        by_uuid[seoul_post].uuid = EXAMPLE_POST_ID
        response = services.respond(
            user(exchange["Jakarta"]["delegate"]), by_uuid[london_post], "20", "Twenty, please"
        )
        db.session.flush()
        response.uuid = EXAMPLE_RESPONSE_ID
        db.session.commit()
    token = make_token(exchange["London"]["delegate"], scope="write")
    # Up to a few hundred requests per operation from one address: the limits have their own
    # test (test_public.py).
    limiter.enabled = False
    yield token
    limiter.enabled = True


def _describing_app():
    """An app of our own only to read the document from, at import (the schema must exist when
    pytest collects; schemathesis.pytest.from_fixture, which would read it from the session's app,
    breaks on pytest 9.2). The requests themselves go to the session's app and its database
    (``app=`` below)."""
    import atexit
    import shutil
    import tempfile

    from cacnet import create_app

    instance = tempfile.mkdtemp(prefix="cacnet-openapi-")
    atexit.register(shutil.rmtree, instance, ignore_errors=True)
    return create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": instance,
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "SECRET_KEY": "only-to-read-the-openapi-document-0123456789",
            "RESOURCES_AUTO_TICK": False,
        }
    )


schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _describing_app())
# POST /verify takes the PDF's bytes as they are.
schemathesis.serializer.alias("application/pdf", "application/octet-stream")


@schema.parametrize()
@settings(
    max_examples=8,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_keeps_its_document(app, case, seeded):
    case.call_and_validate(
        app=app,
        headers={"Authorization": f"Bearer {seeded}"},
        checks=[not_a_server_error, status_code_conformance, response_schema_conformance],
    )
