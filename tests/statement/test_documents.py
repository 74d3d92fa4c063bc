"""The sealed declaration and certificates as the public gets them: issued once per content,
stored, served while a newer one renders, and checked on /verify and POST /api/v1/verify."""

from __future__ import annotations

import io
import uuid

import pytest
from pypdf import PdfReader, PdfWriter
from sqlalchemy import func, select

from cacnet.accounts.models import User
from cacnet.core.db import db
from cacnet.statement import endorsements, seal
from cacnet.statement.models import Endorsement, IssuedDocument
from tests.conftest import login
from tests.statement.test_endorsements import data, signature  # noqa: F401
from tests.statement.test_signatory_list import signed  # noqa: F401 - fixture
from tests.statement.test_versions import version_1  # noqa: F401 - fixture


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def document_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(IssuedDocument.id)))


def verify_toronto(app, secretariat):
    with app.test_request_context(base_url="http://localhost"):
        officer = db.session.scalar(select(User).where(User.email == secretariat))
        toronto = db.session.scalar(
            select(Endorsement).where(Endorsement.signatory_name == "John Tory")
        )
        endorsements.verify(officer, toronto)
        db.session.commit()


def test_the_declaration_is_sealed_stored_and_stable(app, client, signed, secretariat):  # noqa: F811
    response = client.get("/declaration.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = response.data
    document_id = response.headers["X-Document-Id"]
    assert document_id.startswith("D-") and len(document_id) == 21
    verdict = seal.verify_pdf(pdf, app.instance_path)
    assert verdict.genuine, verdict
    text = text_of(pdf)
    for expected in ("Seoul", "서울특별시", "Moscow", "Москва", "Oh Se-hoon", document_id):
        assert expected in text, expected
    assert "John Tory" not in text  # submitted, not verified
    assert "Karácsony" not in text  # withdrawn

    again = client.get("/declaration.pdf")
    assert again.headers["X-Document-Id"] == document_id and again.data == pdf
    assert document_count(app) == 1  # nothing changed: no new render, no new row
    etag = again.headers["ETag"]
    assert client.get("/declaration.pdf", headers={"If-None-Match": etag}).status_code == 304

    by_city = client.get("/declaration.pdf?order=city")
    assert by_city.status_code == 200 and by_city.headers["X-Document-Id"] != document_id

    verify_toronto(app, secretariat)
    newer = client.get("/declaration.pdf")
    assert newer.headers["X-Document-Id"] != document_id
    assert "John Tory" in text_of(newer.data)

    # the first one stays downloadable and verifiable, with its signatories as they were
    page = client.get(f"/verify/{document_id}").get_data(as_text=True)
    assert "Oh Se-hoon" in page and "John Tory" not in page
    assert client.get(f"/verify/{document_id}/document.pdf").data == pdf
    checked = client.post(f"/verify/{document_id}", data={"file": (io.BytesIO(pdf), "d.pdf")})
    assert checked.status_code == 200
    assert "Genuine" in checked.get_data(as_text=True)
    assert client.get(f"/verify/{document_id.lower()}").status_code == 302


def _flip_a_byte(pdf: bytes) -> bytes:
    middle = len(pdf) // 3
    return pdf[:middle] + bytes([pdf[middle] ^ 0x01]) + pdf[middle + 1 :]


def _append_a_page(pdf: bytes) -> bytes:
    writer = PdfWriter(io.BytesIO(pdf), incremental=True)
    writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("change", "code", "message"),
    [
        (_flip_a_byte, "altered", "changed after it was sealed"),
        (_append_a_page, "altered", "changed after it was sealed"),
        (lambda pdf: b"just some text", "not_pdf", "not a PDF document"),
    ],
)
def test_changed_files_are_not_genuine(client, signed, change, code, message):  # noqa: F811
    response = client.get("/declaration.pdf")
    document_id = response.headers["X-Document-Id"]
    bad = change(response.data)
    page = client.post(f"/verify/{document_id}", data={"file": (io.BytesIO(bad), "d.pdf")})
    assert page.status_code == 422
    assert "Not genuine" in page.get_data(as_text=True) and message in page.get_data(as_text=True)
    api = client.post("/api/v1/verify", data=bad, content_type="application/pdf")
    assert api.status_code == 200
    assert api.get_json()["genuine"] is False and api.get_json()["code"] == code


def test_the_api_and_the_open_page_check_files(client, signed):  # noqa: F811
    pdf = client.get("/declaration.pdf").data
    answer = client.post("/api/v1/verify", data=pdf, content_type="application/pdf").get_json()
    assert answer["genuine"] is True and answer["code"] == "genuine"
    assert answer["document"]["id"].startswith("D-") and answer["document"]["signatories"] == 2
    multipart = client.post("/api/v1/verify", data={"file": (io.BytesIO(pdf), "x.pdf")})
    assert multipart.get_json()["genuine"] is True
    empty = client.post("/api/v1/verify", data=b"", content_type="application/pdf")
    assert empty.status_code == 400
    assert (
        empty.get_json()["error"]["code"] == "no_file"
        and "file" in empty.get_json()["error"]["fields"]
    )

    page = client.post("/verify", data={"file": (io.BytesIO(pdf), "x.pdf")})
    assert page.status_code == 200 and "Genuine" in page.get_data(as_text=True)
    assert client.post("/verify", data={}).status_code == 200  # the form asks for a file
    assert "Choose a PDF file." in client.post("/verify", data={}).get_data(as_text=True)
    unknown = client.get("/verify/D-0000-0000-0000-0000")
    assert unknown.status_code == 404 and "issued no document" in unknown.get_data(as_text=True)


def test_a_pdf_sealed_by_someone_else_is_refused(app, client, signed, tmp_path):  # noqa: F811
    seal.init_seal(tmp_path)
    blank = PdfWriter()
    blank.add_blank_page(595, 842)
    out = io.BytesIO()
    blank.write(out)
    forged = seal.seal_pdf(out.getvalue(), tmp_path, reason="Declaration", location="Seoul")
    answer = client.post("/api/v1/verify", data=forged, content_type="application/pdf").get_json()
    assert answer["code"] == "other_signer" and answer["genuine"] is False


def test_the_seal_certificate_is_public(app, client):
    response = client.get("/verify/certificate.pem")
    assert response.data == seal.certificate_pem(app.instance_path)
    page = client.get("/verify").get_data(as_text=True)
    assert seal.certificate_info(app.instance_path).fingerprint in page
    assert "signer is unknown" in page


def test_a_city_certificate_for_verified_endorsements_only(app, client, signed):  # noqa: F811
    response = client.get("/cities/seoul-kr/certificate.pdf")
    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 1
    assert seal.verify_pdf(response.data, app.instance_path).genuine
    text = text_of(response.data)
    assert "Seoul" in text and "Oh Se-hoon" in text
    document_id = response.headers["X-Document-Id"]
    assert document_id.startswith("C-") and document_id in text
    assert client.get("/cities/seoul-kr/certificate.pdf").data == response.data
    assert client.get("/cities/toronto-ca/certificate.pdf").status_code == 404  # submitted
    assert client.get("/cities/budapest-hu/certificate.pdf").status_code == 404  # withdrawn
    assert client.get("/cities/nowhere-xx/certificate.pdf").status_code == 404
    assert "Oh Se-hoon" in client.get(f"/verify/{document_id}").get_data(as_text=True)


def test_a_verification_issues_the_certificate_in_the_background(app, client, signed, secretariat):  # noqa: F811
    app.config["ISSUE_DOCUMENTS_ON_CHANGE"] = True
    try:
        verify_toronto(app, secretariat)
    finally:
        app.config["ISSUE_DOCUMENTS_ON_CHANGE"] = False
    with app.app_context():
        issued = db.session.scalars(select(IssuedDocument)).all()
        assert [(d.kind.value, d.state.value, d.signatories[0]["city"]) for d in issued] == [
            ("certificate", "issued", "Toronto")
        ]


def test_a_visitor_never_waits_for_a_render(app, client, signed, secretariat):  # noqa: F811
    """Without Redis the render runs in a thread: the first request ever gets a "being prepared"
    page; later ones get the last issued declaration while a newer one renders."""
    from cacnet.core import jobs

    app.config["JOBS_SYNC"] = False
    try:
        first = client.get("/declaration.pdf")
        assert first.status_code == 503 and first.headers["Retry-After"]
        assert "being prepared" in first.get_data(as_text=True)
        jobs.wait_for_threads()
        issued = client.get("/declaration.pdf")
        assert issued.status_code == 200
        old_id = issued.headers["X-Document-Id"]

        verify_toronto(app, secretariat)
        meanwhile = client.get("/declaration.pdf")
        assert meanwhile.status_code == 200 and meanwhile.headers["X-Document-Id"] == old_id
        pending = meanwhile.headers["X-Newer-Document-Pending"]
        jobs.wait_for_threads()
        assert client.get("/declaration.pdf").headers["X-Document-Id"] == pending
    finally:
        app.config["JOBS_SYNC"] = True


def test_with_redis_the_render_waits_for_a_worker(app, client, signed):  # noqa: F811
    from redis import Redis
    from rq import Queue

    queue_name = f"cacnet-test-{uuid.uuid4().hex[:8]}"
    app.config.update(JOBS_SYNC=False, REDIS_URL="redis://127.0.0.1:6379/0", JOBS_QUEUE=queue_name)
    try:
        assert client.get("/declaration.pdf").status_code == 503
        queue = Queue(queue_name, connection=Redis.from_url("redis://127.0.0.1:6379/0"))
        assert queue.count == 1
        result = app.test_cli_runner().invoke(args=["worker", "--burst"])
        assert result.exit_code == 0, result.output
        assert queue.count == 0
        assert client.get("/declaration.pdf").status_code == 200
    finally:
        app.config.update(JOBS_SYNC=True, REDIS_URL=None, JOBS_QUEUE="cacnet")
        Queue(queue_name, connection=Redis.from_url("redis://127.0.0.1:6379/0")).delete()


def test_the_secretariat_sees_the_seal_and_the_documents(app, client, signed, secretariat):  # noqa: F811
    from tests.conftest import submit

    assert client.get("/secretariat/documents/").status_code == 302  # sign in first
    login(client, secretariat)
    page = client.get("/secretariat/documents/").get_data(as_text=True)
    assert seal.certificate_info(app.instance_path).fingerprint in page
    assert "No document has been issued yet." in page
    response = submit(client, "/secretariat/documents/render", page="/secretariat/documents/")
    assert response.status_code == 302
    page = client.get("/secretariat/documents/").get_data(as_text=True)
    assert page.count("issued in") == 2  # by date and by city
    assert document_count(app) == 2
