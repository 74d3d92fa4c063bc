"""Accepted quantities never exceed the posted quantity, even when many acceptances run at once
from different sessions (PostgreSQL: a row lock on the post; SQLite: the database write lock
taken first). Runs on both databases."""

from __future__ import annotations

import threading
from decimal import Decimal

from sqlalchemy import func, select

from cacnet.cities.models import City
from cacnet.core.db import db
from cacnet.core.errors import ServiceError
from cacnet.resources import services
from cacnet.resources.models import PostState, ResourcePost, ResourceResponse, ResponseState
from tests.resources.conftest import user

RESPONSES = 50


def test_fifty_parallel_acceptances_never_exceed_the_request(app, exchange, make_post):
    uuid = make_post(exchange["Seoul"]["delegate"], quantity="100")
    with app.app_context():
        post = db.session.scalar(select(ResourcePost).where(ResourcePost.uuid == uuid))
        # fifty responding cities, each pledging 5 (set up directly: what is tested is acceptance)
        ids = []
        for n in range(RESPONSES):
            city = City(slug=f"responder-{n}", name_en=f"Responder {n}", country_code="FR")
            db.session.add(city)
            db.session.flush()
            response = ResourceResponse(post_id=post.id, city_id=city.id, quantity=Decimal(5),
                                        state=ResponseState.PENDING)  # fmt: skip
            db.session.add(response)
            db.session.flush()
            ids.append(response.id)
        db.session.commit()
        post_id = post.id
        poster_id = user(exchange["Seoul"]["delegate"]).id

    barrier = threading.Barrier(RESPONSES)
    outcomes: dict[int, str] = {}

    def accept(response_id: int) -> None:
        with app.test_request_context(base_url=app.config["BASE_URL"]):
            from cacnet.accounts.models import User

            actor = db.session.get(User, poster_id)
            response = db.session.get(ResourceResponse, response_id)
            db.session.commit()  # give the connection back: 50 threads share a pool of 15
            barrier.wait(timeout=60)
            try:
                services.accept(actor, response)
                db.session.commit()
                outcomes[response_id] = "accepted"
            except ServiceError as error:
                db.session.rollback()
                outcomes[response_id] = str(error.message)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=accept, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert len(outcomes) == RESPONSES
    accepted = [i for i, outcome in outcomes.items() if outcome == "accepted"]
    refused = [outcome for outcome in outcomes.values() if outcome != "accepted"]
    assert len(accepted) == 20  # 20 × 5 = 100, then nothing is left
    assert set(refused) <= {
        "Nothing is left of this post to accept: it is fully met.",
        "Only 0 kits are left of this post; accept less, or decline.",
    }, set(refused)
    with app.app_context():
        total = db.session.scalar(
            select(func.sum(ResourceResponse.accepted_quantity)).where(
                ResourceResponse.post_id == post_id,
                ResourceResponse.state == ResponseState.ACCEPTED,
            )
        )
        assert Decimal(total) == Decimal(100)
        assert db.session.get(ResourcePost, post_id).state == PostState.MET
        assert services.remaining(db.session.get(ResourcePost, post_id)) == 0
