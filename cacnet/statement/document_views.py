"""The sealed declaration, the cities' certificates, and the public verification pages."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from cacnet.accounts.forms import ConfirmForm
from cacnet.cities.models import City
from cacnet.core.db import db
from cacnet.core.errors import ServiceError
from cacnet.core.web import show_service_error, staff_required
from cacnet.extensions import csrf, limiter
from cacnet.statement import documents, seal, services
from cacnet.statement.models import (
    DocumentKind,
    DocumentState,
    Endorsement,
    EndorsementState,
    IssuedDocument,
)

bp = Blueprint("documents", __name__)


class VerifyUploadForm(FlaskForm):
    class Meta:
        csrf = False  # checking a file changes nothing stored; anyone may do it from anywhere

    file = FileField(_l("The PDF to check"), validators=[FileRequired(_l("Choose a PDF file."))])


# --- the declaration and the certificates ------------------------------------------------------


def _pdf_response(document: IssuedDocument, filename: str, *, max_age: int) -> Response:
    path = documents.stored_file(document)
    if not path.exists():
        abort(404)
    response = send_file(
        path,
        mimetype="application/pdf",
        download_name=filename,
        etag=document.pdf_sha256,
        conditional=True,
        max_age=max_age,
    )
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    response.headers["X-Document-Id"] = document.document_id
    response.headers["Link"] = f'<{documents.verify_url(document.document_id)}>; rel="describedby"'
    return response


@bp.get("/declaration.pdf")
def declaration():
    """The current sealed declaration: the stored file while nothing changed; when signatories
    changed, the last one issued while the new one renders in the background."""
    served = documents.request_declaration(request.args.get("order", "date"))
    if served is None:
        abort(404)
    if served.document is None:
        response = Response(
            render_template("statement/declaration_pending.html", wanted=served.wanted),
            status=503,
        )
        response.headers["Retry-After"] = "15"
        response.headers["Cache-Control"] = "no-store"
        return response
    document = served.document
    response = _pdf_response(
        document,
        f"seoul-statement-declaration-{document.document_id}.pdf",
        max_age=60 if served.is_current else 0,
    )
    if not served.is_current:
        response.headers["X-Newer-Document-Pending"] = served.wanted.document_id
    return response


@bp.get("/cities/<slug>/certificate.pdf")
def certificate(slug: str):
    """The city's certificate of endorsement of the current version (or ?version=n): one sealed
    page, for a verified endorsement only."""
    from sqlalchemy import select

    city = db.session.scalar(select(City).where(City.slug == slug)) or abort(404)
    number = request.args.get("version", type=int)
    version = services.published_version(number) if number else services.current_version()
    if version is None:
        abort(404)
    endorsement = db.session.scalar(
        select(Endorsement).where(
            Endorsement.city_id == city.id,
            Endorsement.version_id == version.id,
            Endorsement.state == EndorsementState.VERIFIED,
        )
    )
    if endorsement is None:
        abort(404)
    document = documents.certificate_for(endorsement)
    if document.state != DocumentState.ISSUED:
        response = Response(
            render_template("statement/declaration_pending.html", wanted=document), status=503
        )
        response.headers["Retry-After"] = "10"
        return response
    return _pdf_response(document, f"certificate-{city.slug}-v{version.number}.pdf", max_age=3600)


# --- verification ------------------------------------------------------------------------------


VERDICTS = {
    "genuine": _l(
        "Genuine: this is a document issued by the Cities Alliance Against Pandemic, "
        "unaltered since it was sealed."
    ),  # fmt: skip
    "unknown": _l(
        "The seal is the secretariat's, but no document was issued with this exact "
        "content. Do not rely on it."
    ),  # fmt: skip
    "not_pdf": _l("This file is not a PDF document."),
    "too_large": _l("This file is larger than any document the alliance issues."),
    "encrypted": _l("This PDF is encrypted; the alliance never issues encrypted documents."),
    "unsigned": _l("This PDF carries no seal, so it is not a document issued by the alliance."),
    "other_signer": _l("This PDF was sealed by someone else, not by the alliance's secretariat."),
    "altered": _l(
        "This PDF was changed after it was sealed (for example a page added or some "
        "bytes changed): it is not the document the alliance issued."
    ),  # fmt: skip
    "invalid": _l("The seal on this PDF is not valid."),
}


def check_upload(data: bytes) -> dict:
    """The verdict on an uploaded PDF: the seal checked with pyHanko against our certificate,
    then the file's SHA-256 looked up among the documents issued. Never raises on the file."""
    verdict = seal.verify_pdf(
        data, current_app.instance_path, max_bytes=current_app.config["VERIFY_MAX_BYTES"]
    )
    document = documents.by_pdf_sha256(verdict.sha256) if verdict.genuine else None
    code = verdict.code
    if verdict.genuine and document is None:
        code = "unknown"
    return {
        "genuine": code == "genuine",
        "code": code,
        "message": str(VERDICTS[code]),
        "sha256": verdict.sha256,
        "signed_at": verdict.signed_at,
        "document": document,
    }


def _read_upload(form: VerifyUploadForm) -> bytes | None:
    request.max_content_length = current_app.config["VERIFY_MAX_BYTES"] + 1024 * 1024
    if not form.validate_on_submit():
        return None
    return form.file.data.read()


def _seal_installed() -> bool:
    return seal.certificate_info(current_app.instance_path) is not None


@bp.route("/verify", methods=["GET", "POST"])
@csrf.exempt  # checking a file changes nothing stored
@limiter.limit("30 per minute", methods=["POST"])  # pyHanko's check costs CPU
def verify_index():
    form = VerifyUploadForm()
    result = None
    if request.method == "POST" and _seal_installed():
        data = _read_upload(form)
        if data is not None:
            result = check_upload(data)
    return render_template(
        "statement/verify.html",
        form=form,
        result=result,
        document=None,
        info=seal.certificate_info(current_app.instance_path),
    ), (200 if result is None or result["genuine"] else 422)


@bp.get("/verify/certificate.pem")
def certificate_pem():
    if not _seal_installed():
        abort(404)
    response = Response(
        seal.certificate_pem(current_app.instance_path), mimetype="application/x-pem-file"
    )
    response.headers["Content-Disposition"] = 'attachment; filename="caap-secretariat-seal.pem"'
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.route("/verify/<document_id>", methods=["GET", "POST"])
@csrf.exempt
@limiter.limit("30 per minute", methods=["POST"])
def verify_document(document_id: str):
    document = documents.by_document_id(document_id)
    if document is None:
        return render_template("statement/verify_unknown.html", document_id=document_id[:40]), 404
    if document.document_id != document_id:  # lower case or spaces: the canonical address
        return redirect(url_for("documents.verify_document", document_id=document.document_id))
    form = VerifyUploadForm()
    result = None
    if request.method == "POST" and _seal_installed():
        data = _read_upload(form)
        if data is not None:
            result = check_upload(data)
            other = result["document"]
            if result["genuine"] and other.id != document.id:
                result["other"] = other
    withdrawn = {}
    if document.signatories:
        from sqlalchemy import select

        uuids = [row["endorsement"] for row in document.signatories]
        withdrawn = dict(
            db.session.execute(
                select(Endorsement.uuid, Endorsement.withdrawn_at).where(
                    Endorsement.uuid.in_(uuids), Endorsement.state == EndorsementState.WITHDRAWN
                )
            ).all()
        )
    status = 200 if result is None or result["genuine"] else 422
    return render_template(
        "statement/verify.html",
        form=form,
        result=result,
        document=document,
        withdrawn=withdrawn,
        info=seal.certificate_info(current_app.instance_path),
    ), status


@bp.get("/verify/<document_id>/document.pdf")
def verify_download(document_id: str):
    document = documents.by_document_id(document_id)
    if document is None or document.state != DocumentState.ISSUED:
        abort(404)
    kind = "declaration" if document.kind == DocumentKind.DECLARATION else "certificate"
    return _pdf_response(document, f"{kind}-{document.document_id}.pdf", max_age=86400)


# --- the secretariat's page --------------------------------------------------------------------


@bp.get("/secretariat/documents/")
@staff_required
def secretariat_documents():
    return render_template(
        "statement/documents_admin.html",
        info=seal.certificate_info(current_app.instance_path),
        documents=documents.recent_documents(),
        in_progress=documents.in_progress(),
        form=ConfirmForm(),
    )


@bp.post("/secretariat/documents/render")
@staff_required
def secretariat_render():
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            queued = documents.refresh_declarations(current_user)
            db.session.commit()
        except ServiceError as error:
            show_service_error(None, error)
        else:
            if queued:
                flash(_("The declaration is being rendered; this page shows its progress."),
                      "success")  # fmt: skip
            else:
                flash(_("The declaration is up to date; nothing to render."), "info")
    return redirect(url_for("documents.secretariat_documents"))
