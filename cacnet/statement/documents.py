"""Issued documents: the sealed declaration and the cities' endorsement certificates.

A document is identified by what it says. ``snapshot`` lists the signatories as they will be
printed; the SHA-256 of a canonical JSON of kind, order, version and that list is the document's
``contents_sha256``, and its document id (``D-XXXX-XXXX-XXXX-XXXX`` for the declaration,
``C-...`` for a certificate) is taken from it. So:

* asking again while nothing changed finds the same row and serves the stored file (no render,
  no new row); any verified endorsement, withdrawal or new version makes a new id;
* a request never waits for WeasyPrint: a missing declaration is queued (``cacnet.core.jobs``: RQ
  or a thread), and until it is issued the last issued declaration is served;
* every issued file stays in ``<instance>/documents/<pdf sha256>.pdf`` with its row, so earlier
  documents stay downloadable and verifiable forever.

``render_document`` claims a queued row with a conditional UPDATE (a job run twice renders once),
renders from the row's snapshot (exactly what the id was computed from), seals it with the
secretariat's key (cacnet.statement.seal), stores it and marks the row issued, auditing it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from cacnet.core import audit
from cacnet.core.db import db, utcnow
from cacnet.statement.models import (
    DocumentKind,
    DocumentState,
    Endorsement,
    EndorsementState,
    IssuedDocument,
    StatementVersion,
)

log = logging.getLogger(__name__)

ORDERS = ("date", "city")
STUCK_AFTER = timedelta(minutes=15)  # a render that has not finished by then is tried again
MAX_ATTEMPTS = 3
CURRENT_TTL = 600  # seconds the current declaration's id is remembered per list state


# --- what a document says ----------------------------------------------------------------------


def snapshot(endorsement: Endorsement) -> dict:
    """One signatory as printed, in JSON-able form (kept in the row for the verification page)."""
    city = endorsement.city
    return {
        "endorsement": endorsement.uuid,
        "city_slug": city.slug,
        "city": city.name_en,
        "city_local": city.name_local or "",
        "country": city.country_code,
        "logo_sha256": city.logo_sha256,
        "signatory_name": endorsement.signatory_name,
        "signatory_title": endorsement.signatory_title,
        "place": endorsement.place,
        "signed_on": endorsement.signed_on.isoformat(),
        "signature_sha256": endorsement.signature_sha256,
        "record_sha256": endorsement.record_sha256,
        "verified_at": endorsement.decided_at.isoformat() if endorsement.decided_at else None,
    }


def _contents_sha256(kind: DocumentKind, order: str, version: StatementVersion, rows: list) -> str:
    canonical = {
        "kind": kind.value,
        "order": order,
        "version": version.number,
        "text_sha256": version.text_sha256,
        "signatories": rows,
    }
    data = json.dumps(canonical, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(data.encode()).hexdigest()


def document_id_for(kind: DocumentKind, contents_sha256: str) -> str:
    head = contents_sha256[:16].upper()
    letter = "D" if kind == DocumentKind.DECLARATION else "C"
    return f"{letter}-" + "-".join(head[i : i + 4] for i in range(0, 16, 4))


def normalise_document_id(text: str) -> str:
    return (text or "").strip().upper()[:40]


def _ordered(endorsements: list[Endorsement], order: str) -> list[Endorsement]:
    """In the renderer's order, so the snapshot lists them as the PDF prints them."""
    from cacnet.statement.declaration import ordered

    return ordered(endorsements, order)


def verified_endorsements(version: StatementVersion) -> list[Endorsement]:
    return list(
        db.session.scalars(
            select(Endorsement)
            .where(
                Endorsement.version_id == version.id,
                Endorsement.state == EndorsementState.VERIFIED,
            )
            .options(selectinload(Endorsement.city))
        )
    )


# --- asking for a document ---------------------------------------------------------------------


@dataclass
class Served:
    """What a request for a document gets: ``document`` to serve now (None when nothing was ever
    issued), and ``wanted``, the up-to-date document (the same one, or one being rendered)."""

    document: IssuedDocument | None
    wanted: IssuedDocument

    @property
    def is_current(self) -> bool:
        return self.document is not None and self.document.id == self.wanted.id


def _find_or_queue(
    kind: DocumentKind,
    order: str,
    version: StatementVersion,
    rows: list[dict],
    endorsement: Endorsement | None = None,
    *,
    background: bool = True,
) -> tuple[IssuedDocument, bool]:
    """The row for these contents, created (queued, rendered after the commit when
    ``background``) when missing, and queued again when an earlier render failed or stalled."""
    contents = _contents_sha256(kind, order, version, rows)
    document_id = document_id_for(kind, contents)
    found = db.session.scalar(
        select(IssuedDocument).where(IssuedDocument.document_id == document_id)
    )
    if found is None:
        found = IssuedDocument(
            document_id=document_id,
            kind=kind,
            state=DocumentState.QUEUED,
            version_id=version.id,
            endorsement_id=endorsement.id if endorsement else None,
            sort_order=order,
            contents_sha256=contents,
            signatory_count=len(rows),
            signatories=rows,
        )
        try:
            with db.session.begin_nested():
                db.session.add(found)
        except IntegrityError:  # another request queued it first
            found = db.session.scalar(
                select(IssuedDocument).where(IssuedDocument.document_id == document_id)
            )
            return found, False
        audit.record("document.queued", found, to_state=DocumentState.QUEUED.value,
                     details={"document_id": document_id, "kind": kind.value})  # fmt: skip
    elif _needs_retry(found):
        found.state = DocumentState.QUEUED
        found.error = ""
    else:
        return found, False
    if background:
        _render_after_commit(found)
    return found, True


def _needs_retry(document: IssuedDocument) -> bool:
    if document.state == DocumentState.FAILED:
        return document.attempts < MAX_ATTEMPTS
    if document.state in (DocumentState.QUEUED, DocumentState.RENDERING):
        since = document.started_at or document.updated_at
        return since is not None and utcnow() - since > STUCK_AFTER
    return False


def _render_after_commit(document: IssuedDocument) -> None:
    from cacnet.core.jobs import enqueue_after_commit

    db.session.flush()
    enqueue_after_commit("cacnet.statement.documents.render_document", document.id)


def request_declaration(order: str = "date") -> Served | None:
    """The current declaration (the current version with its verified signatories), for a
    request: the stored file when it is up to date, else the last one issued while the new one
    renders. None when no version is published. Commits when it queues a render."""
    from cacnet.core.cache import cache
    from cacnet.statement import signatories as signatory_list

    order = order if order in ORDERS else "date"
    found = signatory_list.cached_fingerprint(None)
    if found is None:
        return None
    version_id, _number, base, _last = found
    key = f"declaration:current:{base}:{order}"
    document_id = cache.get(key)
    wanted = None
    if document_id:
        wanted = db.session.scalar(
            select(IssuedDocument).where(IssuedDocument.document_id == document_id)
        )
    if wanted is None or _needs_retry(wanted):
        version = db.session.get(StatementVersion, version_id)
        rows = [snapshot(e) for e in _ordered(verified_endorsements(version), order)]
        wanted, _queued = _find_or_queue(DocumentKind.DECLARATION, order, version, rows)
        db.session.commit()
        cache.set(key, wanted.document_id, timeout=CURRENT_TTL)
    if wanted.state == DocumentState.ISSUED:
        return Served(wanted, wanted)
    return Served(latest_issued(DocumentKind.DECLARATION, order), wanted)


def refresh_declarations(actor) -> bool:
    """The secretariat asks for the current declaration (both orders) now; True when a render
    was queued (False: they are issued and up to date, or already rendering)."""
    from cacnet.core.errors import PermissionDenied
    from cacnet.statement import services

    if actor is None or not getattr(actor, "is_secretariat", False):
        raise PermissionDenied("Only the secretariat can issue the declaration.")
    version = services.current_version()
    if version is None:
        return False
    endorsements = verified_endorsements(version)
    queued = False
    for order in ORDERS:
        rows = [snapshot(e) for e in _ordered(endorsements, order)]
        _document, was_queued = _find_or_queue(DocumentKind.DECLARATION, order, version, rows)
        queued = queued or was_queued
    return queued


def issue_current_declaration_now(order: str = "date") -> IssuedDocument | None:
    """Render the current declaration in this process (the command line: seed-demo), unless it
    is issued already. Commits."""
    from cacnet.statement import services

    version = services.current_version()
    if version is None:
        return None
    rows = [snapshot(e) for e in _ordered(verified_endorsements(version), order)]
    document, _queued = _find_or_queue(
        DocumentKind.DECLARATION, order, version, rows, background=False
    )
    db.session.commit()
    if document.state != DocumentState.ISSUED:
        render_document(document.id)
        db.session.refresh(document)
    return document


def latest_issued(kind: DocumentKind, order: str | None = None) -> IssuedDocument | None:
    stmt = select(IssuedDocument).where(
        IssuedDocument.kind == kind, IssuedDocument.state == DocumentState.ISSUED
    )
    if order:
        # the same order first, then any
        stmt = stmt.order_by((IssuedDocument.sort_order == order).desc())
    return db.session.scalar(stmt.order_by(IssuedDocument.issued_at.desc()).limit(1))


def certificate_for(endorsement: Endorsement) -> IssuedDocument:
    """The endorsement's certificate, issued (rendered inline when it was not yet: one page), for
    a verified endorsement only. Commits."""
    from cacnet.core.errors import StateConflict

    if endorsement.state != EndorsementState.VERIFIED:
        raise StateConflict("Only a verified endorsement has a certificate.")
    document, _queued = _find_or_queue(
        DocumentKind.CERTIFICATE, "date", endorsement.version, [snapshot(endorsement)],
        endorsement, background=False,
    )  # fmt: skip
    db.session.commit()
    if document.state != DocumentState.ISSUED:
        render_document(document.id)  # claimed by one UPDATE: a parallel job renders it once
        db.session.refresh(document)
    return document


def queue_certificate_after_commit(endorsement: Endorsement) -> None:
    """Issue the certificate of a just-verified endorsement in the background."""
    _document, _queued = _find_or_queue(DocumentKind.CERTIFICATE, "date", endorsement.version, [snapshot(endorsement)],
                   endorsement)  # fmt: skip


def by_document_id(document_id: str) -> IssuedDocument | None:
    return db.session.scalar(
        select(IssuedDocument).where(
            IssuedDocument.document_id == normalise_document_id(document_id)
        )
    )


def by_pdf_sha256(sha256: str) -> IssuedDocument | None:
    return db.session.scalar(select(IssuedDocument).where(IssuedDocument.pdf_sha256 == sha256))


def stored_file(document: IssuedDocument) -> Path:
    return Path(current_app.config["DOCUMENT_FOLDER"]) / f"{document.pdf_sha256}.pdf"


def recent_documents(limit: int = 50) -> list[IssuedDocument]:
    return list(
        db.session.scalars(
            select(IssuedDocument)
            .options(selectinload(IssuedDocument.version))
            .order_by(IssuedDocument.created_at.desc(), IssuedDocument.id.desc())
            .limit(limit)
        )
    )


def in_progress() -> bool:
    return (
        db.session.scalar(
            select(IssuedDocument.id)
            .where(IssuedDocument.state.in_((DocumentState.QUEUED, DocumentState.RENDERING)))
            .limit(1)
        )
        is not None
    )


# --- rendering (a background job) --------------------------------------------------------------


def _as_endorsement(row: dict, position: int) -> SimpleNamespace:
    """A snapshot row in the shape the renderer reads (an Endorsement with its City). Its ``id``
    is its position in the snapshot, which is already in the printed order, so the renderer's
    sort (key, then id) keeps the snapshot's order where keys tie."""
    city = SimpleNamespace(
        slug=row["city_slug"],
        name_en=row["city"],
        name_local=row["city_local"],
        country_code=row["country"],
        logo_sha256=row["logo_sha256"],
    )
    verified = row.get("verified_at")
    return SimpleNamespace(
        id=position,
        uuid=row["endorsement"],
        city=city,
        signatory_name=row["signatory_name"],
        signatory_title=row["signatory_title"],
        place=row["place"],
        signed_on=date.fromisoformat(row["signed_on"]),
        signature_sha256=row["signature_sha256"],
        record_sha256=row["record_sha256"],
        decided_at=datetime.fromisoformat(verified) if verified else None,
    )


def verify_url(document_id: str) -> str:
    return f"{current_app.config['BASE_URL'].rstrip('/')}/verify/{document_id}"


def render_document(document_pk: int) -> bool:
    """Render, seal and store a queued document; True when this call issued it.

    The claim is one conditional UPDATE, so two workers given the same job render it once. A
    failure leaves the row ``failed`` with the error for the secretariat's page (the next request
    for it queues it again, up to MAX_ATTEMPTS).
    """
    from cacnet.statement import declaration, seal

    claimed = db.session.execute(
        update(IssuedDocument)
        .where(
            IssuedDocument.id == document_pk,
            or_(
                IssuedDocument.state == DocumentState.QUEUED,
                IssuedDocument.state == DocumentState.FAILED,
                (IssuedDocument.state == DocumentState.RENDERING)
                & (IssuedDocument.started_at < utcnow() - STUCK_AFTER),
            ),
        )
        .values(
            state=DocumentState.RENDERING,
            started_at=utcnow(),
            attempts=IssuedDocument.attempts + 1,
            error="",
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if not claimed:
        return False
    document = db.session.get(IssuedDocument, document_pk)
    db.session.refresh(document)
    started = time.perf_counter()
    try:
        version = document.version
        rows = [_as_endorsement(r, i) for i, r in enumerate(document.signatories)]
        issued_at = utcnow()
        url = verify_url(document.document_id)
        if document.kind == DocumentKind.DECLARATION:
            pdf = declaration.render_declaration(
                version, rows, document_id=document.document_id, verify_url=url,
                issued_at=issued_at, order=document.sort_order,
            )  # fmt: skip
            box = declaration.SEAL_BOX
            reason = f"Seoul Statement, version {version.number}: declaration of the signatories"
        else:
            pdf = declaration.render_certificate(
                rows[0], version, document_id=document.document_id, verify_url=url,
                issued_at=issued_at,
            )  # fmt: skip
            box = declaration.CERTIFICATE_SEAL_BOX
            reason = f"Seoul Statement, version {version.number}: certificate of endorsement"
        sealed = seal.seal_pdf(
            pdf, current_app.instance_path, reason=reason, location="Seoul", box=box
        )
        digest = _store(sealed)
    except Exception as error:  # noqa: BLE001 - recorded on the row and in the log
        log.exception("rendering document %s failed", document.document_id)
        db.session.rollback()
        document = db.session.get(IssuedDocument, document_pk)
        document.state = DocumentState.FAILED
        document.error = f"{type(error).__name__}: {error}"[:2000]
        audit.record("document.failed", document, to_state=DocumentState.FAILED.value,
                     details={"document_id": document.document_id})  # fmt: skip
        db.session.commit()
        return False
    document.state = DocumentState.ISSUED
    document.pdf_sha256 = digest
    document.pdf_size = len(sealed)
    document.issued_at = issued_at
    document.render_seconds = round(time.perf_counter() - started, 3)
    audit.record("document.issued", document, from_state=DocumentState.RENDERING.value,
                 to_state=DocumentState.ISSUED.value,
                 details={"document_id": document.document_id, "pdf_sha256": digest,
                          "signatories": document.signatory_count})  # fmt: skip
    db.session.commit()
    return True


def _store(data: bytes) -> str:
    from cacnet.core.uploads import write_by_hash

    return write_by_hash(data, Path(current_app.config["DOCUMENT_FOLDER"]), "pdf")
