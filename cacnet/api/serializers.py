"""The API's representations of cities, Statement versions, posts and responses (the shapes the
OpenAPI document's response schemas describe)."""

from __future__ import annotations

from datetime import date, datetime

from flask import url_for

from cacnet.cities.models import City, Contact
from cacnet.membership.models import MembershipState
from cacnet.resources import services as resources
from cacnet.resources.models import ResourcePost, ResourceResponse
from cacnet.statement.models import StatementVersion


def iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def city_ref(city: City) -> dict:
    return {
        "slug": city.slug,
        "name_en": city.name_en,
        "name_local": city.name_local,
        "country_code": city.country_code,
    }


def contact(c: Contact, *, own: bool = False) -> dict:
    found = {
        "name": c.name,
        "title": c.title,
        "department": c.department,
        "email": c.email,
        "phone": c.phone,
        "languages": list(c.languages or []),
        "area": c.area.value,
        "is_primary": c.is_primary,
    }
    if own:
        found["id"] = c.id
        found["visibility"] = c.visibility.value
    return found


def city_summary(city: City, *, sees_suspension: bool = False) -> dict:
    state = city.membership_state
    if state == MembershipState.SUSPENDED and not sees_suspension:
        state = MembershipState.APPROVED
    return {
        "slug": city.slug,
        "name_en": city.name_en,
        "name_local": city.name_local,
        "country_code": city.country_code,
        "region": city.region,
        "population": city.population,
        "latitude": city.latitude,
        "longitude": city.longitude,
        "membership": state.value,
        "website": city.website,
        "url": url_for("cities.city_page", slug=city.slug, _external=True),
        "logo_url": url_for("cities.logo", slug=city.slug, _external=True)
        if city.logo_sha256
        else None,
    }


def city_detail(
    city: City, contacts: list[Contact], *, own: bool = False, sees_suspension: bool = False
) -> dict:
    return {
        **city_summary(city, sees_suspension=sees_suspension),
        "mayor_name": city.mayor_name,
        "mayor_title": city.mayor_title,
        "response_page": city.response_page,
        "description": city.description,
        "languages": list(city.languages or []),
        "timezone": city.timezone,
        "contacts": [contact(c, own=own) for c in contacts],
    }


def version_summary(version: StatementVersion) -> dict:
    return {
        "number": version.number,
        "title_en": version.title_en,
        "title_ko": version.title_ko,
        "published_at": iso(version.published_at),
        "text_sha256": version.text_sha256,
        "url": url_for("statement.version", number=version.number, _external=True),
    }


def version_full(version: StatementVersion, signatory_count: int) -> dict:
    return {
        **version_summary(version),
        "body_en": version.body_en,
        "body_ko": version.body_ko,
        "note": version.note,
        "signatory_count": signatory_count,
    }


def _quantity(value) -> str | None:
    return resources.format_quantity(value) if value is not None else None


def post_summary(post: ResourcePost, accepted) -> dict:
    accepted = min(accepted, post.quantity)
    category = post.category
    return {
        "id": post.uuid,
        "kind": post.kind.value,
        "category": {
            "slug": category.slug,
            "group": category.group.value,
            "name_en": category.name_en,
            "name_ko": category.name_ko,
        },
        "title_en": post.title_en,
        "title_ko": post.title_ko,
        "quantity": _quantity(post.quantity),
        "unit": post.unit,
        "accepted": _quantity(accepted),
        "remaining": _quantity(post.quantity - accepted),
        "urgency": post.urgency.value,
        "conditions": post.conditions.value,
        "state": post.state.value,
        "city": city_ref(post.city),
        "available_from": iso(post.available_from),
        "needed_by": iso(post.needed_by),
        "expires_on": iso(post.expires_on),
        "created_at": iso(post.created_at),
        "updated_at": iso(post.updated_at),
        "url": url_for("resources.post_page", uuid=post.uuid, _external=True),
    }


def response(r: ResourceResponse) -> dict:
    return {
        "id": r.uuid,
        "post_id": r.post.uuid,
        "city": city_ref(r.city),
        "quantity": _quantity(r.quantity),
        "accepted_quantity": _quantity(r.accepted_quantity),
        "proposed_date": iso(r.proposed_date),
        "state": r.state.value,
        "created_at": iso(r.created_at),
        "decided_at": iso(r.decided_at),
        "settled_at": iso(r.settled_at),
        "messages": [
            {
                "author": m.author.name if m.author else None,
                "city": m.city.slug,
                "body": m.body,
                "created_at": iso(m.created_at),
            }
            for m in r.messages
        ],
    }


def post_detail(
    post: ResourcePost, accepted, responses: list[ResourceResponse], contact_row: Contact | None
) -> dict:
    return {
        **post_summary(post, accepted),
        "description_en": post.description_en,
        "description_ko": post.description_ko,
        "delivery_note": post.delivery_note,
        "contact": contact(contact_row) if contact_row is not None else None,
        "responses": [response(r) for r in responses],
    }
