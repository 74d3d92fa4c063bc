"""The OpenAPI 3.1 document of /api/v1, as Python data.

It is the single description of the API: /api/v1/openapi.json serves it, /api/v1/docs renders it,
and the views validate request bodies and query parameters against the very schemas it holds
(``request_schema`` and ``operation``), so the documentation and the validation cannot drift.
Request bodies are closed (``additionalProperties: false``): an unknown field is refused.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from cacnet.cities.models import ContactArea, Visibility
from cacnet.cities.regions import MACRO_REGIONS
from cacnet.resources.models import (
    UNITS,
    CategoryGroup,
    Conditions,
    PostKind,
    PostState,
    ResponseState,
    Urgency,
)
from cacnet.resources.services import STATUS_FILTERS

VERSION = "1.0.0"
EXAMPLE_POST_ID = "6c1b0a57-8a7e-4c59-9d3e-1f2a3b4c5d6e"
EXAMPLE_RESPONSE_ID = "0d9f6a3e-2b4c-4e1a-9f7d-5c6b7a8e9f01"
EXAMPLE_CITY = "seoul-kr"

TAGS = [
    {"name": "cities", "description": "Member cities: the public directory and profiles."},
    {"name": "statement", "description": "The Seoul Statement: its published versions."},
    {"name": "signatories", "description": "The public list of the Statement's signatories."},
    {"name": "documents", "description": "Checking a sealed declaration or certificate."},
    {"name": "account", "description": "The token's owner and their city (a token is needed)."},
    {
        "name": "resources",
        "description": "The resource exchange between member cities "
        "(a token is needed; writing needs a write token).",
    },
    {"name": "meta", "description": "This document."},
]


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict) -> dict:
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    if "type" not in schema:  # an enum
        return {**schema, "enum": [*schema["enum"], None]}
    types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    return {**schema, "type": [*types, "null"]}


def obj(properties: dict, required: list[str] | None = None, **extra) -> dict:
    """A response object: every listed property is always present."""
    return {
        "type": "object",
        "required": list(properties) if required is None else required,
        "properties": properties,
        **extra,
    }


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
BOOLEAN = {"type": "boolean"}
DATE = {"type": "string", "format": "date"}
DATETIME = {"type": "string", "format": "date-time"}
URL = {"type": "string", "format": "uri"}
SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
DECIMAL = {
    "type": "string",
    "pattern": r"^\d+(\.\d{2})?$",
    "description": "A decimal quantity as a string (no floating-point rounding): 6000, 12.50.",
    "examples": ["6000"],
}
COUNTRY = {"type": "string", "pattern": "^[A-Z]{2}$", "description": "ISO 3166-1 alpha-2 code."}


def page_of(item: str) -> dict:
    return obj(
        {
            "data": {"type": "array", "items": ref(item)},
            "next_cursor": nullable(
                {
                    "type": "string",
                    "description": "Pass as ?cursor= for the next page; null on the last page.",
                }
            ),
        }
    )


# --- response schemas ------------------------------------------------------------------------

CITY_REF = obj(
    {
        "slug": {**STRING, "examples": [EXAMPLE_CITY]},
        "name_en": STRING,
        "name_local": STRING,
        "country_code": COUNTRY,
    }
)

CONTACT = obj(
    {
        "id": {
            **INTEGER,
            "description": "Only in the caller's own city (GET /city): the "
            "value to give as contact_id of a post.",
        },
        "name": STRING,
        "title": STRING,
        "department": STRING,
        "email": STRING,
        "phone": {**STRING, "description": "E.164, e.g. +82221330000; empty when not given."},
        "languages": {"type": "array", "items": STRING},
        "area": {"enum": [a.value for a in ContactArea]},
        "is_primary": BOOLEAN,
        "visibility": {
            "enum": [v.value for v in Visibility],
            "description": "Only in the caller's own city (GET /city).",
        },
    },
    required=["name", "title", "department", "email", "phone", "languages", "area", "is_primary"],
)

_CITY_FIELDS = {
    "slug": {**STRING, "examples": [EXAMPLE_CITY]},
    "name_en": STRING,
    "name_local": STRING,
    "country_code": COUNTRY,
    "region": {**STRING, "description": "The region or province within the country."},
    "population": nullable(INTEGER),
    "latitude": nullable({"type": "number"}),
    "longitude": nullable({"type": "number"}),
    "membership": {
        "enum": ["approved", "suspended", "withdrawn"],
        "description": "approved (a member), withdrawn (a former member); suspended is shown "
        "only to members (the public sees a suspended city as a member).",
    },
    "website": STRING,
    "url": {**URL, "description": "The city's public page."},
    "logo_url": nullable(URL),
}
CITY_SUMMARY = obj(dict(_CITY_FIELDS))
CITY_DETAIL = obj(
    {
        **_CITY_FIELDS,
        "mayor_name": STRING,
        "mayor_title": STRING,
        "response_page": {**STRING, "description": "The city's pandemic-response page."},
        "description": {**STRING, "description": "Markdown."},
        "languages": {"type": "array", "items": STRING},
        "timezone": STRING,
        "contacts": {
            "type": "array",
            "items": ref("Contact"),
            "description": "The focal points the caller may see: public ones for everyone; in "
            "GET /city, all of the caller's own city.",
        },
    }
)

VERSION_SUMMARY = obj(
    {
        "number": {**INTEGER, "minimum": 1},
        "title_en": STRING,
        "title_ko": STRING,
        "published_at": DATETIME,
        "text_sha256": {**SHA256, "description": "SHA-256 of the canonical text endorsed."},
        "url": URL,
    }
)
VERSION_FULL = obj(
    {
        **VERSION_SUMMARY["properties"],
        "body_en": {**STRING, "description": "Markdown."},
        "body_ko": {**STRING, "description": "Markdown."},
        "note": STRING,
        "signatory_count": {**INTEGER, "description": "Verified endorsements of this version."},
    }
)

SIGNATORY = obj(
    {
        "id": STRING,
        "city": STRING,
        "city_local": STRING,
        "city_slug": STRING,
        "city_url": URL,
        "country": COUNTRY,
        "region": nullable({"enum": list(MACRO_REGIONS)}),
        "signatory_name": STRING,
        "signatory_title": STRING,
        "place": STRING,
        "signed_on": DATE,
        "state": {"enum": ["verified", "withdrawn"]},
        "withdrawn_on": nullable(DATE),
        "withdrawal_reason": nullable(STRING),
        "version": INTEGER,
        "text_sha256": SHA256,
        "record_sha256": SHA256,
        "signature_url": URL,
    }
)
SIGNATORY_PAGE = obj(
    {
        **page_of("Signatory")["properties"],
        "version": obj({"number": INTEGER, "text_sha256": SHA256, "published_at": DATETIME}),
    }
)

VERIFICATION = obj(
    {
        "genuine": BOOLEAN,
        "code": {
            "enum": [
                "genuine",
                "unknown",
                "not_pdf",
                "too_large",
                "encrypted",
                "unsigned",
                "other_signer",
                "altered",
                "invalid",
            ]
        },
        "message": STRING,
        "sha256": nullable(STRING),
        "signed_at": nullable(DATETIME),
        "document": nullable(
            obj(
                {
                    "id": STRING,
                    "kind": {"enum": ["declaration", "certificate"]},
                    "version": INTEGER,
                    "issued_at": DATETIME,
                    "signatories": INTEGER,
                    "url": URL,
                }
            )
        ),
    }
)

ME = obj(
    {
        "user": obj(
            {
                "name": STRING,
                "email": STRING,
                "role": {"enum": ["delegate", "city_admin", "secretariat", "admin"]},
                "locale": {"enum": ["en", "ko"]},
                "city": nullable(ref("CityRef")),
            }
        ),
        "token": ref("Token"),
    }
)
TOKEN = obj(
    {
        "name": STRING,
        "prefix": {**STRING, "description": "The token's first characters."},
        "scope": {"enum": ["read", "write"]},
        "created_at": DATETIME,
        "expires_at": DATETIME,
        "last_used_at": nullable({**DATETIME, "description": "Noted at most once a minute."}),
    }
)

CATEGORY = obj(
    {
        "slug": {**STRING, "examples": ["test-kits"]},
        "group": {"enum": [g.value for g in CategoryGroup]},
        "name_en": STRING,
        "name_ko": STRING,
    }
)
_POST_FIELDS = {
    "id": {**STRING, "format": "uuid"},
    "kind": {"enum": [k.value for k in PostKind]},
    "category": ref("Category"),
    "title_en": STRING,
    "title_ko": STRING,
    "quantity": DECIMAL,
    "unit": {"enum": list(UNITS)},
    "accepted": {**DECIMAL, "description": "What accepted (and delivered) responses take."},
    "remaining": DECIMAL,
    "urgency": {"enum": [u.value for u in Urgency]},
    "conditions": {"enum": [c.value for c in Conditions]},
    "state": {"enum": [s.value for s in PostState]},
    "city": ref("CityRef"),
    "available_from": nullable(DATE),
    "needed_by": nullable(DATE),
    "expires_on": DATE,
    "created_at": DATETIME,
    "updated_at": DATETIME,
    "url": {**URL, "description": "The post's page."},
}
POST_SUMMARY = obj(dict(_POST_FIELDS))
POST_DETAIL = obj(
    {
        **_POST_FIELDS,
        "description_en": STRING,
        "description_ko": STRING,
        "delivery_note": STRING,
        "contact": nullable(ref("Contact")),
        "responses": {
            "type": "array",
            "items": ref("Response"),
            "description": "The poster's city sees every response; another city its own.",
        },
    }
)
MESSAGE = obj({"author": nullable(STRING), "city": STRING, "body": STRING, "created_at": DATETIME})
RESPONSE = obj(
    {
        "id": {**STRING, "format": "uuid"},
        "post_id": {**STRING, "format": "uuid"},
        "city": ref("CityRef"),
        "quantity": DECIMAL,
        "accepted_quantity": nullable(DECIMAL),
        "proposed_date": nullable(DATE),
        "state": {"enum": [s.value for s in ResponseState]},
        "created_at": DATETIME,
        "decided_at": nullable(DATETIME),
        "settled_at": nullable(DATETIME),
        "messages": {"type": "array", "items": ref("Message")},
    }
)

ERROR = obj(
    {
        "error": obj(
            {
                "code": {
                    **STRING,
                    "description": "Stable, for programs: unauthorized, "
                    "insufficient_scope, forbidden, two_factor_required, not_found, invalid, "
                    "invalid_cursor, malformed_json, unsupported_media_type, too_large, "
                    "conflict, rate_limited, …",
                },
                "message": {
                    **STRING,
                    "description": "For people, in the language of the "
                    "Accept-Language header (English, Korean).",
                },
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": STRING},
                    "description": "Problems by request field, one message per problem.",
                },
            }
        )
    }
)

# --- request schemas (closed: additionalProperties false) --------------------------------------

QUANTITY_IN = {
    "type": ["string", "number"],
    "maxLength": 20,
    "description": 'Positive, at most two decimals; a string ("12.50") avoids rounding.',
    "examples": ["500"],
}
MESSAGE_IN = {"type": "string", "maxLength": 5000}

POST_CREATE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["kind", "category", "quantity", "unit", "expires_on"],
    "properties": {
        "kind": {"enum": [k.value for k in PostKind], "description": "Offer or request."},
        "category": {
            "type": "string",
            "maxLength": 60,
            "description": "A category slug (see the board's categories).",
        },
        "title_en": {
            "type": "string",
            "maxLength": 200,
            "description": "A title in English or in Korean is required.",
        },
        "title_ko": {"type": "string", "maxLength": 200},
        "description_en": {"type": "string", "maxLength": 10000},
        "description_ko": {"type": "string", "maxLength": 10000},
        "quantity": QUANTITY_IN,
        "unit": {"enum": list(UNITS)},
        "urgency": {"enum": [u.value for u in Urgency], "default": Urgency.NORMAL.value},
        "available_from": nullable(DATE),
        "needed_by": nullable(DATE),
        "expires_on": {**DATE, "description": "At most a year ahead."},
        "delivery_note": {"type": "string", "maxLength": 2000},
        "conditions": {"enum": [c.value for c in Conditions], "default": Conditions.FREE.value},
        "contact_id": nullable(
            {
                "type": "integer",
                "minimum": 1,
                "description": "One of your city's contacts (GET /city).",
            }
        ),
    },
    "examples": [
        {
            "kind": "request",
            "category": "test-kits",
            "title_en": "PCR test kits",
            "quantity": "5000",
            "unit": "kits",
            "urgency": "high",
            "expires_on": "2099-12-31",
        }
    ],
}
RESPONSE_CREATE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["quantity"],
    "properties": {
        "quantity": QUANTITY_IN,
        "message": MESSAGE_IN,
        "proposed_date": nullable({**DATE, "description": "Delivery or start date."}),
    },
    "examples": [{"quantity": "500", "message": "We can ship next week."}],
}
RESPONSE_ACCEPT = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "quantity": {
            **QUANTITY_IN,
            "description": "Less than asked to accept in part; all that was asked when left out.",
        },
        "message": MESSAGE_IN,
    },
    "examples": [{"quantity": "300", "message": "Thank you: 300 is what we need."}],
}
RESPONSE_DECLINE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"message": MESSAGE_IN},
    "examples": [{"message": "We found another supplier."}],
}
EMPTY = {
    "type": "object",
    "additionalProperties": False,
    "properties": {},
    "description": "No fields: send {} or nothing.",
}

SCHEMAS = {
    "Error": ERROR,
    "CityRef": CITY_REF,
    "Contact": CONTACT,
    "CitySummary": CITY_SUMMARY,
    "City": CITY_DETAIL,
    "CityPage": page_of("CitySummary"),
    "StatementVersionSummary": VERSION_SUMMARY,
    "StatementVersion": VERSION_FULL,
    "StatementVersionPage": page_of("StatementVersionSummary"),
    "Signatory": SIGNATORY,
    "SignatoryPage": SIGNATORY_PAGE,
    "Verification": VERIFICATION,
    "Me": ME,
    "Token": TOKEN,
    "Category": CATEGORY,
    "PostSummary": POST_SUMMARY,
    "Post": POST_DETAIL,
    "PostPage": page_of("PostSummary"),
    "Response": RESPONSE,
    "Message": MESSAGE,
    "PostCreate": POST_CREATE,
    "ResponseCreate": RESPONSE_CREATE,
    "ResponseAccept": RESPONSE_ACCEPT,
    "ResponseDecline": RESPONSE_DECLINE,
    "Empty": EMPTY,
}
REQUEST_SCHEMAS = ("PostCreate", "ResponseCreate", "ResponseAccept", "ResponseDecline", "Empty")

# --- parameters and responses ------------------------------------------------------------------


def query(name: str, schema: dict, description: str = "") -> dict:
    param = {"name": name, "in": "query", "required": False, "schema": schema}
    if description:
        param["description"] = description
    return param


def path(name: str, schema: dict, description: str = "", example: Any = None) -> dict:
    param = {"name": name, "in": "path", "required": True, "schema": schema}
    if description:
        param["description"] = description
    if example is not None:
        param["example"] = example
    return param


PAGING = [
    query("cursor", {"type": "string", "maxLength": 1000}, "The next_cursor of the previous page."),
    query(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": 100, "default": 50},
        "How many items per page.",
    ),
]
FILTER_Q = query("q", {"type": "string", "maxLength": 200}, "Search text.")
FILTER_COUNTRY = query(
    "country", {"type": "string", "pattern": "^[A-Za-z]{2}$"}, "ISO 3166-1 alpha-2 country code."
)
FILTER_REGION = query("region", {"enum": list(MACRO_REGIONS)}, "UN M49 macro-region.")
POST_ID = path("id", {"type": "string", "format": "uuid"}, "The post's id.", EXAMPLE_POST_ID)
RESPONSE_ID = path(
    "id", {"type": "string", "format": "uuid"}, "The response's id.", EXAMPLE_RESPONSE_ID
)

ERROR_DESCRIPTIONS = {
    "301": "Moved: the city was merged into another (see Location).",
    "400": "Invalid input (see error.fields), a malformed body or a bad cursor.",
    "401": "No token, or a token that is unknown, expired or revoked.",
    "403": "The token may not do this (scope, membership, another city's post).",
    "404": "Not found, or not visible to the caller.",
    "409": "The object is not in a state that allows this.",
    "413": "The request body is too large.",
    "415": "The request body is not JSON.",
    "429": "Too many requests: wait Retry-After seconds.",
    "503": "Temporarily unavailable.",
}


def json_response(description: str, schema: dict, headers: dict | None = None) -> dict:
    response = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


def errors(*codes: str) -> dict:
    found = {}
    for code in codes:
        headers = None
        if code == "429":
            headers = {
                "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}
            }
        elif code == "401":
            headers = {"WWW-Authenticate": {"schema": {"type": "string"}}}
        elif code == "301":
            found[code] = {
                "description": ERROR_DESCRIPTIONS[code],
                "headers": {"Location": {"schema": {"type": "string"}}},
            }
            continue
        found[code] = json_response(ERROR_DESCRIPTIONS[code], ref("Error"), headers)
    return found


PUBLIC = []  # no security requirement
READ = [{"bearerAuth": ["read"]}]
WRITE = [{"bearerAuth": ["write"]}]
WRITE_ERRORS = ("400", "401", "403", "404", "409", "413", "415", "429")


def op(
    operation_id: str,
    tag: str,
    summary: str,
    *,
    description: str = "",
    security: list | None = None,
    parameters: list | None = None,
    body: str | None = None,
    ok: tuple[str, str, dict] = ("200", "OK", {}),
    error_codes: tuple[str, ...] = ("429",),
) -> dict:
    status, ok_description, ok_schema = ok
    operation = {
        "operationId": operation_id,
        "tags": [tag],
        "summary": summary,
        "security": PUBLIC if security is None else security,
        "responses": {status: json_response(ok_description, ok_schema), **errors(*error_codes)},
    }
    if description:
        operation["description"] = description
    if parameters:
        operation["parameters"] = parameters
    if body:
        schema = SCHEMAS[body]
        operation["requestBody"] = {
            "required": body != "Empty",
            "content": {
                "application/json": {
                    "schema": ref(body),
                    "example": schema.get("examples", [{}])[0],
                }
            },
        }
    return operation


PATHS = {
    "/cities": {
        "get": op(
            "list_cities",
            "cities",
            "Member cities",
            description="The public directory: current member cities, filtered and sorted like "
            "the directory page, a page at a time.",
            parameters=[
                FILTER_Q,
                FILTER_COUNTRY,
                FILTER_REGION,
                query("sort", {"enum": ["name", "country", "newest"], "default": "name"}),
                *PAGING,
            ],
            ok=("200", "A page of cities.", ref("CityPage")),
            error_codes=("400", "429"),
        )
    },
    "/cities/{slug}": {
        "get": op(
            "get_city",
            "cities",
            "A city's public profile",
            description="The profile and its public focal-point contacts.",
            parameters=[
                path("slug", {"type": "string", "maxLength": 120}, "The city's slug.", EXAMPLE_CITY)
            ],
            ok=("200", "The city.", ref("City")),
            error_codes=("301", "404", "429"),
        )
    },
    "/statement": {
        "get": op(
            "get_current_statement",
            "statement",
            "The current Statement",
            description="The latest published version, in English and Korean.",
            ok=("200", "The current version.", ref("StatementVersion")),
            error_codes=("404", "429"),
        )
    },
    "/statement/versions": {
        "get": op(
            "list_statement_versions",
            "statement",
            "Published versions",
            description="Newest first.",
            parameters=PAGING,
            ok=("200", "A page of versions.", ref("StatementVersionPage")),
            error_codes=("400", "429"),
        )
    },
    "/statement/versions/{number}": {
        "get": op(
            "get_statement_version",
            "statement",
            "One published version",
            parameters=[
                path("number", {"type": "integer", "minimum": 1}, "The version number.", 1)
            ],
            ok=("200", "The version.", ref("StatementVersion")),
            error_codes=("404", "429"),
        )
    },
    "/signatories": {
        "get": op(
            "list_signatories",
            "signatories",
            "Signatories of a version",
            description="The same records as /signatories.json: verified endorsements and "
            "withdrawn ones (with the reason), of the current version unless ?version=.",
            parameters=[
                query("version", {"type": "integer", "minimum": 1}),
                FILTER_Q,
                FILTER_COUNTRY,
                FILTER_REGION,
                query("sort", {"enum": ["date", "city", "name"], "default": "date"}),
                *PAGING,
            ],
            ok=("200", "A page of signatories.", ref("SignatoryPage")),
            error_codes=("400", "404", "429"),
        )
    },
    "/verify": {
        "post": {
            "operationId": "verify_document",
            "tags": ["documents"],
            "summary": "Check a sealed PDF",
            "description": "Is this PDF a genuine, unaltered declaration or certificate issued "
            "by the alliance? The same check as the verification page. At most 30 a minute.",
            "security": PUBLIC,
            "requestBody": {
                "required": True,
                "content": {
                    "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["file"],
                            "properties": {"file": {"type": "string", "format": "binary"}},
                        }
                    },
                },
            },
            "responses": {
                "200": json_response("The verdict.", ref("Verification")),
                **errors("400", "413", "429", "503"),
            },
        }
    },
    "/openapi.json": {
        "get": op(
            "get_openapi",
            "meta",
            "This OpenAPI document",
            ok=("200", "The OpenAPI 3.1 document.", {"type": "object"}),
        )
    },
    "/me": {
        "get": op(
            "get_me",
            "account",
            "The token's owner",
            description="Who the token acts for, and the token's scope and expiry.",
            security=READ,
            ok=("200", "The owner and the token.", ref("Me")),
            error_codes=("401", "403", "429"),
        )
    },
    "/city": {
        "get": op(
            "get_my_city",
            "account",
            "The caller's city",
            description="The profile of the token owner's city with every contact the owner "
            "may see.",
            security=READ,
            ok=("200", "The city.", ref("City")),
            error_codes=("401", "403", "404", "429"),
        )
    },
    "/resources": {
        "get": op(
            "list_resources",
            "resources",
            "The board",
            description="Offers and requests, filtered like the board (live posts by "
            "default), for delegates of member cities.",
            security=READ,
            parameters=[
                FILTER_Q,
                query("kind", {"enum": [k.value for k in PostKind]}),
                query("category", {"type": "string", "maxLength": 60}, "A category slug."),
                FILTER_COUNTRY,
                FILTER_REGION,
                query("urgency", {"enum": [u.value for u in Urgency]}),
                query("status", {"enum": list(STATUS_FILTERS), "default": "live"}),
                query(
                    "city", {"type": "string", "maxLength": 120}, "Only this city's posts (a slug)."
                ),
                query("sort", {"enum": ["urgency", "newest"], "default": "urgency"}),
                *PAGING,
            ],
            ok=("200", "A page of posts.", ref("PostPage")),
            error_codes=("400", "401", "403", "429"),
        ),
        "post": op(
            "create_resource",
            "resources",
            "Post an offer or a request",
            description="For the token owner's city, which must be an active member.",
            security=WRITE,
            body="PostCreate",
            ok=("201", "The new post.", ref("Post")),
            error_codes=WRITE_ERRORS,
        ),
    },
    "/resources/{id}": {
        "get": op(
            "get_resource",
            "resources",
            "A post with its responses",
            security=READ,
            parameters=[POST_ID],
            ok=("200", "The post.", ref("Post")),
            error_codes=("401", "403", "404", "429"),
        )
    },
    "/resources/{id}/responses": {
        "post": op(
            "respond_to_resource",
            "resources",
            "Respond to a post",
            description="Pledge to a request, or ask for part of an offer, for the token "
            "owner's city.",
            security=WRITE,
            parameters=[POST_ID],
            body="ResponseCreate",
            ok=("201", "The new response, waiting for the poster's answer.", ref("Response")),
            error_codes=WRITE_ERRORS,
        )
    },
    "/resources/{id}/withdraw": {
        "post": op(
            "withdraw_resource",
            "resources",
            "Withdraw a post",
            description="The posting city takes its post down; waiting responses are declined.",
            security=WRITE,
            parameters=[POST_ID],
            body="Empty",
            ok=("200", "The withdrawn post.", ref("Post")),
            error_codes=WRITE_ERRORS,
        )
    },
    "/responses/{id}/accept": {
        "post": op(
            "accept_response",
            "resources",
            "Accept a response",
            description="The posting city accepts a waiting response, in full or in part.",
            security=WRITE,
            parameters=[RESPONSE_ID],
            body="ResponseAccept",
            ok=("200", "The accepted response.", ref("Response")),
            error_codes=WRITE_ERRORS,
        )
    },
    "/responses/{id}/decline": {
        "post": op(
            "decline_response",
            "resources",
            "Decline a response",
            security=WRITE,
            parameters=[RESPONSE_ID],
            body="ResponseDecline",
            ok=("200", "The declined response.", ref("Response")),
            error_codes=WRITE_ERRORS,
        )
    },
    "/responses/{id}/withdraw": {
        "post": op(
            "withdraw_response",
            "resources",
            "Withdraw a response",
            description="The responding city takes back its response while it waits.",
            security=WRITE,
            parameters=[RESPONSE_ID],
            body="Empty",
            ok=("200", "The withdrawn response.", ref("Response")),
            error_codes=WRITE_ERRORS,
        )
    },
}

DESCRIPTION = """\
The open data and the resource exchange of the Cities Alliance Against Pandemic.

**Public endpoints** (cities, the Statement, signatories, verification) need no token and may be \
called from any web page (CORS).

**Personal API tokens** are created on your account page (API tokens). Send one in the \
`Authorization: Bearer <token>` header. A `read` token reads what its owner may see; a `write` \
token also posts and answers in the resource exchange for the owner's city. Session cookies are \
never accepted.

**Errors** have one shape: `{"error": {"code": ..., "message": ..., "fields": {...}}}`; the \
message follows the `Accept-Language` header (English or Korean).

**Lists** are paged by cursor: pass the `next_cursor` of a page as `?cursor=` to get the next \
one; it is `null` on the last page.

**Rate limits** apply per client address (public endpoints) and per token; a `429` answer \
carries `Retry-After`.
"""


@cache
def _document() -> dict:
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {
            "title": "cacnet API",
            "version": VERSION,
            "description": DESCRIPTION,
        },
        "servers": [{"url": "/api/v1"}],
        "tags": TAGS,
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "cac_…",
                    "description": "A personal API token from the account page.",
                }
            },
        },
    }


def document() -> dict:
    """The whole document (a copy: callers may change it)."""
    return copy.deepcopy(_document())


def request_schema(name: str) -> dict:
    """The schema a request body must satisfy (self-contained: no $ref)."""
    if name not in REQUEST_SCHEMAS:
        raise KeyError(name)
    return SCHEMAS[name]


@cache
def operations() -> dict[str, tuple[str, str, dict]]:
    """operationId -> (method, path, operation)."""
    found = {}
    for route, methods in PATHS.items():
        for method, operation in methods.items():
            found[operation["operationId"]] = (method, route, operation)
    return found


def operation(operation_id: str) -> dict:
    return operations()[operation_id][2]
