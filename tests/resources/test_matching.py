"""Matching on a small hand-built exchange: Seoul needs 1,000 test kits; which offers come first?"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from cacnet.core.db import db
from cacnet.core.errors import PermissionDenied
from cacnet.resources import matching, services
from cacnet.resources.models import ResourcePost
from tests.resources.conftest import user

TODAY = date.today()


def post(uuid: str) -> ResourcePost:
    return db.session.scalar(select(ResourcePost).where(ResourcePost.uuid == uuid))


@pytest.fixture
def nairobi(create_member_city, create_user):
    """A fourth member city, without coordinates (its distance is unknown)."""
    city_id, admin = create_member_city("Nairobi", "KE")
    return admin


@pytest.fixture
def board(app, exchange, make_post, nairobi, secretariat):
    """Seoul's request for 1,000 test kits (needed within 20 days), and every kind of offer."""
    seoul, london, jakarta = (exchange[c]["delegate"] for c in ("Seoul", "London", "Jakarta"))
    needed_by = TODAY + timedelta(days=20)
    p = {}
    p["request"] = make_post(seoul, "request", quantity="1000", needed_by=needed_by)
    # Candidates, oldest first.
    p["london_full_old"] = make_post(london, "offer", quantity="1000")
    p["jakarta_full"] = make_post(jakarta, "offer", quantity="1500")
    p["london_half"] = make_post(london, "offer", quantity="500")
    p["jakarta_partly_taken"] = make_post(jakarta, "offer", quantity="400")
    p["nairobi_full"] = make_post(nairobi, "offer", quantity="1000")
    p["london_full_new"] = make_post(london, "offer", quantity="1000",
                                     available_from=needed_by)  # fmt: skip
    # Never matched.
    p["own_city"] = make_post(seoul, "offer", quantity="1000")
    p["other_category"] = make_post(london, "offer", category="masks", quantity="1000")
    p["other_unit"] = make_post(london, "offer", quantity="1000", unit="boxes")
    p["too_late"] = make_post(london, "offer", quantity="1000",
                              available_from=needed_by + timedelta(days=1))  # fmt: skip
    p["same_kind"] = make_post(london, "request", quantity="1000")
    p["hidden"] = make_post(london, "offer", quantity="1000")
    p["closed"] = make_post(london, "offer", quantity="1000")
    p["taken"] = make_post(jakarta, "offer", quantity="300")
    p["expires_soon"] = make_post(jakarta, "offer", quantity="1000",
                                  expires_on=TODAY + timedelta(days=1))  # fmt: skip
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        from cacnet.resources import moderation

        moderation.hide_post(user(secretariat), post(p["hidden"]), "Posted twice.")
        services.close_post(user(london), post(p["closed"]))
        # Seoul takes 300 of Jakarta's 300 (all of it) and 300 of its 400.
        for key, amount in (("taken", "300"), ("jakarta_partly_taken", "300")):
            response = services.respond(user(seoul), post(p[key]), amount)
            db.session.flush()
            services.accept(user(jakarta), response)
        db.session.commit()
    return p


def names(board, matches):
    by_uuid = {uuid: name for name, uuid in board.items()}
    return [by_uuid[m.post.uuid] for m in matches]


def test_a_request_sees_the_offers_that_cover_most_then_the_nearest_then_the_newest(
    app, exchange, board
):
    with app.test_request_context():
        viewer = user(exchange["Seoul"]["delegate"])
        found = matching.matches_for(viewer, post(board["request"]), limit=10)
        assert names(board, found) == [
            "expires_soon",  # covers all, Jakarta (5,300 km), the newest of Jakarta's
            "jakarta_full",  # covers all (1,500 on offer), Jakarta
            "london_full_new",  # covers all, London (8,900 km), available the day it is needed
            "london_full_old",  # covers all, London, older
            "nairobi_full",  # covers all, distance unknown
            "london_half",  # covers half
            "jakarta_partly_taken",  # 100 left of 400: a tenth
        ]
        first, jakarta_full, london = found[0], found[1], found[2]
        assert jakarta_full.remaining == Decimal("1500")
        assert jakarta_full.coverage == Decimal(1)
        assert 5200 < jakarta_full.distance_km < 5400
        assert 8800 < london.distance_km < 9000
        assert found[4].distance_km is None
        assert found[5].coverage == Decimal("0.5")
        assert found[6].remaining == Decimal("100")
        assert found[6].coverage == Decimal("0.1")
        assert first.post.uuid == board["expires_soon"]

        # The default limit is five; after an offer's expiry date it is no longer a match.
        assert len(matching.matches_for(viewer, post(board["request"]))) == 5
        later = matching.matches_for(
            viewer, post(board["request"]), limit=10, today=TODAY + timedelta(days=2)
        )
        assert "expires_soon" not in names(board, later)
        assert names(board, later)[0] == "jakarta_full"


def test_an_offer_sees_the_requests_it_could_serve(app, exchange, make_post, board):
    london = exchange["London"]["delegate"]
    jakarta = exchange["Jakarta"]["delegate"]
    seoul = exchange["Seoul"]["delegate"]
    start = TODAY + timedelta(days=10)
    offer = make_post(london, "offer", quantity="600", available_from=start)
    small = make_post(jakarta, "request", quantity="300")
    needed_too_early = make_post(seoul, "request", quantity="600",
                                 needed_by=start - timedelta(days=1))  # fmt: skip
    with app.test_request_context():
        found = matching.matches_for(user(london), post(offer), limit=10)
        # Seoul's request (1,000, needed in 20 days) would take all 600; Jakarta's 300 half.
        assert [m.post.uuid for m in found] == [board["request"], small]
        assert [m.coverage for m in found] == [Decimal(1), Decimal("0.5")]
        assert needed_too_early not in [m.post.uuid for m in found]


def test_a_post_that_is_met_closed_or_hidden_has_no_matches(app, exchange, board, secretariat):
    with app.test_request_context():
        viewer = user(exchange["Jakarta"]["delegate"])
        for name in ("taken", "closed"):
            assert matching.matches_for(viewer, post(board[name])) == []
        # The secretariat sees the hidden post, but it is off the exchange.
        assert matching.matches_for(user(secretariat), post(board["hidden"])) == []


def test_only_members_see_matches(app, exchange, board):
    from flask_login import AnonymousUserMixin

    with app.test_request_context():
        with pytest.raises(PermissionDenied):
            matching.matches_for(AnonymousUserMixin(), post(board["request"]))
        # A hidden post is for its own city and the secretariat only.
        with pytest.raises(PermissionDenied):
            matching.matches_for(user(exchange["Jakarta"]["delegate"]), post(board["hidden"]))


def test_matching_runs_a_fixed_number_of_queries_and_ranks_only_the_newest_candidates(
    app, exchange, board, monkeypatch
):
    with app.test_request_context():
        viewer = user(exchange["Seoul"]["delegate"])
        request = post(board["request"])
        # The post page has already loaded the post's city and checked the viewer's membership.
        request.city  # noqa: B018
        assert services.is_member(viewer)
        statements = []

        def count(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            found = matching.matches_for(viewer, request, limit=10)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert len(found) == 7
        # what is left of the request, the candidates with their cities, their accepted totals
        assert len(statements) == 3

        monkeypatch.setattr(matching, "CANDIDATE_CAP", 3)
        newest = matching.matches_for(viewer, request, limit=10)
        assert names(board, newest) == ["expires_soon", "london_full_new", "nairobi_full"]
