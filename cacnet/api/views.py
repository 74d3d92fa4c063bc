"""The JSON API under /api/v1 (it grows with each capability; issue 7 adds tokens and the
OpenAPI document). Errors have one shape: {"error": {"code", "message", "fields"}}."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _

from cacnet.extensions import csrf, limiter

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def error(status: int, code: str, message: str, fields: dict | None = None):
    response = jsonify(error={"code": code, "message": message, "fields": fields or {}})
    response.status_code = status
    return response


@bp.post("/verify")
@csrf.exempt
@limiter.limit("30 per minute")
def verify():
    """Check a PDF: the file as the request body (Content-Type: application/pdf) or as the
    ``file`` part of a multipart form. The same check as the verification page."""
    from cacnet.statement import seal
    from cacnet.statement.document_views import check_upload
    from cacnet.statement.documents import verify_url

    if seal.certificate_info(current_app.instance_path) is None:
        message = _("Checking is not available yet: the secretariat has not installed its seal.")
        return error(503, "no_seal", message)
    request.max_content_length = current_app.config["VERIFY_MAX_BYTES"] + 1024 * 1024
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        data = upload.read() if upload else b""
    else:
        data = request.get_data(cache=False)
    if not data:
        return error(400, "no_file", _("Choose a PDF file."), {"file": [_("Choose a PDF file.")]})
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
