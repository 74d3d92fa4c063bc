"""The endpoints that need a personal token: the owner, their city, and the resource exchange.

Each calls the same functions of ``cacnet.resources.services`` and ``cacnet.cities.services`` as
the pages, with the token's owner as the actor: the rules (members only, an active membership to
act, the poster's city alone answers responses) are written once, there. A write also needs the
token's write scope (``token_required(write=True)``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask import g, jsonify, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cacnet.api import serializers
from cacnet.api.auth import token_required
from cacnet.api.pagination import SortKey, page_body, paginate
from cacnet.api.validation import json_body, query_args
from cacnet.api.views import bp, not_found
from cacnet.cities import services as cities
from cacnet.cities.models import City, Contact
from cacnet.core.db import db
from cacnet.resources import services
from cacnet.resources.models import ResourceCategory, ResourcePost, ResourceResponse, Urgency


def private_json(body: dict, status: int = 200, headers: dict | None = None):
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "private, no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


# --- the owner and their city ------------------------------------------------------------------


@bp.get("/me")
@token_required()
def get_me():
    user, token = g.api_user, g.api_token
    return private_json(
        {
            "user": {
                "name": user.name,
                "email": user.email,
                "role": user.role.value,
                "locale": user.locale,
                "city": serializers.city_ref(user.city) if user.city else None,
            },
            "token": {
                "name": token.name,
                "prefix": token.prefix,
                "scope": token.scope.value,
                "created_at": serializers.iso(token.created_at),
                "expires_at": serializers.iso(token.expires_at),
                "last_used_at": serializers.iso(token.last_used_at),
            },
        }
    )


@bp.get("/city")
@token_required()
def get_my_city():
    """The owner's city with every contact the owner may see (cities.services decides)."""
    user = g.api_user
    if user.city is None:
        raise not_found(_("Your account does not act for a city."))
    contacts = cities.visible_contacts(user, user.city)
    return private_json(
        serializers.city_detail(user.city, contacts, own=True, sees_suspension=True)
    )


# --- the board ---------------------------------------------------------------------------------

POST_SORTS = {
    "urgency": [
        SortKey(ResourcePost.urgency, lambda p: p.urgency, Urgency),
        SortKey(ResourcePost.created_at, lambda p: p.created_at, datetime, True),
        SortKey(ResourcePost.id, lambda p: p.id, int, True),
    ],
    "newest": [
        SortKey(ResourcePost.created_at, lambda p: p.created_at, datetime, True),
        SortKey(ResourcePost.id, lambda p: p.id, int, True),
    ],
}


@bp.get("/resources")
@token_required()
def list_resources():
    """The board's query (services.board_select) a page at a time, in the board's order."""
    args = query_args("list_resources")
    user = g.api_user
    city_id = None
    if args.get("city"):
        city_id = db.session.scalar(select(City.id).where(City.slug == args["city"])) or -1
    sort = args.get("sort", "urgency")
    query = services.BoardQuery(
        q=args.get("q", "").strip(),
        kind=args.get("kind", ""),
        category=args.get("category", ""),
        country=args.get("country", "").upper(),
        region=args.get("region", ""),
        urgency=args.get("urgency", ""),
        status=args.get("status", "live"),
        city_id=city_id,
        sort=sort,
    )
    stmt = services.board_select(user, query).options(
        selectinload(ResourcePost.city), selectinload(ResourcePost.category)
    )
    rows, cursor = paginate(stmt, POST_SORTS[sort], args, sort)
    totals = services.accepted_totals(p.id for p in rows)
    data = [serializers.post_summary(p, totals.get(p.id, Decimal(0))) for p in rows]
    return private_json(page_body(data, cursor))


def _visible_post(uuid: str) -> ResourcePost:
    """The post as the post page finds it: members only, hidden posts for their city alone."""
    services.require_member(g.api_user)
    post = services.visible_post(g.api_user, uuid)
    if post is None:
        raise not_found(_("There is no post with this id that you can see."))
    g.api_target = post
    return post


def _visible_response(uuid: str) -> ResourceResponse:
    """A response as the post page shows it: to the two cities of the exchange (and the
    secretariat)."""
    user = g.api_user
    services.require_member(user)
    response = db.session.scalar(select(ResourceResponse).where(ResourceResponse.uuid == uuid))
    if (
        response is None
        or not services.can_see_post(user, response.post)
        or not (user.is_secretariat or services.is_side(user, response))
    ):
        raise not_found(_("There is no response with this id that you can see."))
    g.api_target = response
    return response


def _post_json(post: ResourcePost, status: int = 200, headers: dict | None = None):
    user = g.api_user
    responses = services.visible_responses(user, post)
    contact = None
    if post.contact_id:
        contact = db.session.scalar(
            select(Contact).where(Contact.id == post.contact_id, cities.contact_visibility(user))
        )
    body = serializers.post_detail(post, services.accepted_total(post.id), responses, contact)
    return private_json(body, status, headers)


@bp.get("/resources/<id>")
@token_required()
def get_resource(id: str):  # noqa: A002 - the path parameter's documented name
    post = _visible_post(id)
    if services.expire_if_due(post):
        db.session.commit()
    return _post_json(post)


# --- writing -----------------------------------------------------------------------------------


@bp.post("/resources")
@token_required(write=True)
def create_resource():
    body = json_body("PostCreate")
    category_id = db.session.scalar(
        select(ResourceCategory.id).where(ResourceCategory.slug == body["category"])
    )
    data = services.PostData(
        kind=body["kind"],
        category_id=category_id or 0,
        title_en=body.get("title_en", ""),
        title_ko=body.get("title_ko", ""),
        description_en=body.get("description_en", ""),
        description_ko=body.get("description_ko", ""),
        quantity=body["quantity"],
        unit=body["unit"],
        urgency=body.get("urgency", Urgency.NORMAL.value),
        available_from=_date(body.get("available_from")),
        needed_by=_date(body.get("needed_by")),
        expires_on=_date(body["expires_on"]),
        delivery_note=body.get("delivery_note", ""),
        conditions=body.get("conditions", "free"),
        contact_id=body.get("contact_id"),
    )
    post = services.create_post(g.api_user, data)
    db.session.commit()
    location = url_for("api.get_resource", id=post.uuid, _external=True)
    return _post_json(post, 201, {"Location": location})


@bp.post("/resources/<id>/responses")
@token_required(write=True)
def respond_to_resource(id: str):  # noqa: A002
    body = json_body("ResponseCreate")
    post = _visible_post(id)
    response = services.respond(
        g.api_user,
        post,
        body["quantity"],
        body.get("message", ""),
        _date(body.get("proposed_date")),
    )
    db.session.commit()
    return private_json(serializers.response(response), 201)


@bp.post("/resources/<id>/withdraw")
@token_required(write=True)
def withdraw_resource(id: str):  # noqa: A002
    json_body("Empty")
    post = _visible_post(id)
    services.withdraw_post(g.api_user, post)
    db.session.commit()
    return _post_json(post)


@bp.post("/responses/<id>/accept")
@token_required(write=True)
def accept_response(id: str):  # noqa: A002
    body = json_body("ResponseAccept")
    response = _visible_response(id)
    services.accept(g.api_user, response, body.get("quantity"), body.get("message", ""))
    db.session.commit()
    return private_json(serializers.response(response))


@bp.post("/responses/<id>/decline")
@token_required(write=True)
def decline_response(id: str):  # noqa: A002
    body = json_body("ResponseDecline")
    response = _visible_response(id)
    services.decline(g.api_user, response, body.get("message", ""))
    db.session.commit()
    return private_json(serializers.response(response))


@bp.post("/responses/<id>/withdraw")
@token_required(write=True)
def withdraw_response(id: str):  # noqa: A002
    json_body("Empty")
    response = _visible_response(id)
    services.withdraw_response(g.api_user, response)
    db.session.commit()
    return private_json(serializers.response(response))
