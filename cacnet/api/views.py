"""The JSON API under /api/v1: its blueprint, error handling, and the public endpoints (cities,
the Statement, signatories, verification, the OpenAPI document and its browsable docs).

Errors have one shape: {"error": {"code", "message", "fields"}}. The views are thin: they check
the input against the OpenAPI document, call the same service and query functions as the pages,
and shape the answer. The endpoints that need a token are in ``member_views``.
"""

from __future__ import annotations

from datetime import date, datetime

from flask import Blueprint, current_app, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cacnet.api import serializers
from cacnet.api.auth import public_limit, record_refusal
from cacnet.api.errors import ApiError, error_response, service_error_status
from cacnet.api.pagination import SortKey, page_body, paginate
from cacnet.api.schemas import openapi
from cacnet.api.validation import query_args
from cacnet.cities import services as cities
from cacnet.cities.models import City
from cacnet.core.db import db
from cacnet.core.errors import PermissionDenied, ServiceError
from cacnet.extensions import csrf, limiter

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Only bearer tokens authorize anything here, never a cookie: a forged cross-site request has
# nothing to ride on, so the CSRF token of the pages is not needed (see cacnet.api.auth).
csrf.exempt(bp)

# Paths whose GET answers any web page may read (flask-cors, set up in cacnet.api.init_app).
PUBLIC_READ_PATHS = (
    r"^/api/v1/(cities(/[^/]+)?|statement(/versions(/[^/]+)?)?|signatories|openapi\.json)$"
)
PUBLIC_MAX_AGE = 60

# Service errors name the fields of the pages' forms; the API's fields are named differently.
FIELD_NAMES = {"category_id": "category"}


def not_found(message=None) -> ApiError:
    return ApiError(404, "not_found", message or _("Not found."))


def public_json(body: dict, status: int = 200):
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}"
    return response


@bp.errorhandler(ApiError)
def _api_error(error: ApiError):
    db.session.rollback()
    return error_response(error.status, error.code, error.message, error.fields, error.headers)


@bp.errorhandler(ServiceError)
def _service_error(error: ServiceError):
    """A service refused: nothing it did is kept; a permission refusal is audited."""
    db.session.rollback()
    status, code = service_error_status(error)
    if isinstance(error, PermissionDenied):
        record_refusal(error, g.get("api_target"))
        db.session.commit()
    fields = {}
    if error.field:
        fields[FIELD_NAMES.get(error.field, error.field)] = [error.message]
    return error_response(status, code, error.message, fields)


# --- cities ------------------------------------------------------------------------------------

CITY_SORTS = {
    "name": [SortKey(City.name_en, lambda c: c.name_en), SortKey(City.id, lambda c: c.id, int)],
    "country": [
        SortKey(City.country_code, lambda c: c.country_code),
        SortKey(City.name_en, lambda c: c.name_en),
        SortKey(City.id, lambda c: c.id, int),
    ],
    "newest": [
        SortKey(City.created_at, lambda c: c.created_at, datetime, True),
        SortKey(City.id, lambda c: c.id, int, True),
    ],
}


@bp.get("/cities")
@public_limit
def list_cities():
    args = query_args("list_cities")
    sort = args.get("sort", "name")
    query = cities.DirectoryQuery(
        q=args.get("q", "").strip(),
        country=args.get("country", "").upper(),
        region=args.get("region", ""),
        sort=sort,
    )
    stmt = cities.directory_select(None, query).options(selectinload(City.active_membership))
    rows, cursor = paginate(stmt, CITY_SORTS[sort], args, sort)
    return public_json(page_body([serializers.city_summary(c) for c in rows], cursor))


@bp.get("/cities/<slug>")
@public_limit
def get_city(slug: str):
    city = db.session.scalar(select(City).where(City.slug == slug))
    if city is None:
        raise not_found(_("There is no city with this slug."))
    if city.merged_into_id is not None:
        kept = db.session.get(City, city.merged_into_id)
        return redirect(url_for("api.get_city", slug=kept.slug), code=301)
    contacts = cities.visible_contacts(None, city)
    return public_json(serializers.city_detail(city, contacts))


# --- the Statement -----------------------------------------------------------------------------


def _version_json(version):
    from cacnet.statement import signatories

    return public_json(serializers.version_full(version, signatories.verified_count(version)))


@bp.get("/statement")
@public_limit
def get_current_statement():
    from cacnet.statement import services

    version = services.current_version()
    if version is None:
        raise not_found(_("No version of the Statement has been published yet."))
    return _version_json(version)


@bp.get("/statement/versions")
@public_limit
def list_statement_versions():
    from cacnet.statement.models import StatementVersion

    args = query_args("list_statement_versions")
    stmt = (
        select(StatementVersion)
        .where(StatementVersion.published_at.is_not(None))
        .order_by(StatementVersion.number.desc())
    )
    keys = [SortKey(StatementVersion.number, lambda v: v.number, int, True)]
    rows, cursor = paginate(stmt, keys, args, "number")
    return public_json(page_body([serializers.version_summary(v) for v in rows], cursor))


@bp.get("/statement/versions/<int:number>")
@public_limit
def get_statement_version(number: int):
    from cacnet.statement import services

    version = services.published_version(number)
    if version is None:
        raise not_found(_("There is no published version with this number."))
    return _version_json(version)


# --- signatories -------------------------------------------------------------------------------


def _signatory_sorts():
    from cacnet.statement.models import Endorsement

    ident = SortKey(Endorsement.id, lambda e: e.id, int)
    return {
        "date": [SortKey(Endorsement.signed_on, lambda e: e.signed_on, date), ident],
        "city": [SortKey(City.name_en, lambda e: e.city.name_en), ident],
        "name": [SortKey(Endorsement.signatory_name, lambda e: e.signatory_name), ident],
    }


@bp.get("/signatories")
@public_limit
def list_signatories():
    """The records of /signatories.json, a page at a time (the same query and the same
    representation: cacnet.statement.signatories)."""
    from cacnet.statement import services
    from cacnet.statement import signatories as signatory_list

    args = query_args("list_signatories")
    number = args.get("version")
    version = services.published_version(number) if number else services.current_version()
    if version is None:
        raise not_found(_("There is no published version with this number."))
    sort = args.get("sort", "date")
    query = signatory_list.SignatoryQuery(
        q=args.get("q", "").strip(),
        country=args.get("country", "").upper(),
        region=args.get("region", ""),
        sort=sort,
    )
    stmt = signatory_list.public_select(version, query)
    rows, cursor = paginate(stmt, _signatory_sorts()[sort], args, sort)
    return public_json(
        page_body(
            [signatory_list.public_record(e, version) for e in rows],
            cursor,
            version={
                "number": version.number,
                "text_sha256": version.text_sha256,
                "published_at": serializers.iso(version.published_at),
            },
        )
    )


# --- documents ---------------------------------------------------------------------------------


@bp.post("/verify")
@limiter.limit("30 per minute")
def verify_document():
    """Check a PDF: the file as the request body (Content-Type: application/pdf) or as the
    ``file`` part of a multipart form. The same check as the verification page."""
    from cacnet.statement import seal
    from cacnet.statement.document_views import check_upload
    from cacnet.statement.documents import verify_url

    if seal.certificate_info(current_app.instance_path) is None:
        message = _("Checking is not available yet: the secretariat has not installed its seal.")
        return error_response(503, "no_seal", message)
    request.max_content_length = current_app.config["VERIFY_MAX_BYTES"] + 1024 * 1024
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        data = upload.read() if upload else b""
    else:
        data = request.get_data(cache=False)
    if not data:
        return error_response(
            400, "no_file", _("Choose a PDF file."), {"file": [_("Choose a PDF file.")]}
        )
    result = check_upload(data)
    document = result["document"]
    return jsonify(
        genuine=result["genuine"],
        code=result["code"],
        message=result["message"],
        sha256=result["sha256"],
        signed_at=result["signed_at"].isoformat() if result["signed_at"] else None,
        document=None
        if document is None
        else {
            "id": document.document_id,
            "kind": document.kind.value,
            "version": document.version.number,
            "issued_at": document.issued_at.isoformat(),
            "signatories": document.signatory_count,
            "url": verify_url(document.document_id),
        },
    )


# --- the description ---------------------------------------------------------------------------


@bp.get("/openapi.json")
@public_limit
def get_openapi():
    response = public_json(openapi.document())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/docs")
def docs():
    """The OpenAPI document as a page, rendered here from the same data (no script, no CDN)."""
    from cacnet.api.docs import docs_context

    return render_template("api/docs.html", **docs_context(request.url_root.rstrip("/")))
