"""Endorsements: a city's signatory endorses the current version; the secretariat verifies it or
returns it; the city may withdraw it. Every state change is here, checks the actor and the state,
audits, and queues mail for after the commit.

State: submitted -> verified | returned; verified -> withdrawn. A returned endorsement is done
with; the signatory endorses again (a new row). One active (submitted or verified) endorsement per
city and version: a partial unique index enforces it, so two signatories signing at once leave one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from flask import current_app, has_request_context, request, url_for
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cacnet.accounts import two_factor
from cacnet.core import audit, uploads
from cacnet.core.db import db, utcnow
from cacnet.core.errors import PermissionDenied, ServiceError, StateConflict
from cacnet.core.mail import queue_mail
from cacnet.core.permissions import require_secretariat
from cacnet.core.security import verify_password
from cacnet.statement.models import (
    ACTIVE_ENDORSEMENT_STATES,
    Endorsement,
    EndorsementState,
    StatementVersion,
    canonical_record,
)
from cacnet.statement.services import current_version

MAX_SIGNATURE_BYTES = 300 * 1024
SIGNATURE_MAX_SIZE = (2400, 1200)  # a 600 x 200 canvas on a screen with 4 device pixels per px
SIGNATURE_MIN_SIZE = (100, 40)
DATA_URL_PREFIX = "data:image/png;base64,"


@dataclass
class EndorsementData:
    signatory_name: str
    signatory_title: str
    place: str
    signed_on: date
    signature_data_url: str  # what the signing canvas gives: a PNG as a data: URL
    authorised: bool  # the signatory confirms they may commit the city
    typed_signature: str = ""  # the keyboard alternative: a name, rendered in a script font


def normalise_signature(data_url: str) -> bytes:
    """The signature drawn on the canvas, checked and re-encoded as a fresh PNG: a PNG data URL of
    at most 300 KB, of a plausible canvas size, with some ink on it."""
    if not data_url or not data_url.startswith(DATA_URL_PREFIX):
        raise ServiceError(_l("Sign in the box before you submit."), field="signature")
    encoded = data_url[len(DATA_URL_PREFIX) :]
    if len(encoded) > MAX_SIGNATURE_BYTES * 4 // 3 + 4:
        raise ServiceError(_l("The signature image is too large."), field="signature")
    try:
        raw = base64.b64decode(encoded, validate=True)
        with Image.open(io.BytesIO(raw)) as image:
            if image.format != "PNG":
                raise ServiceError(_l("Sign in the box before you submit."), field="signature")
            width, height = image.size
            if not (
                SIGNATURE_MIN_SIZE[0] <= width <= SIGNATURE_MAX_SIZE[0]
                and SIGNATURE_MIN_SIZE[1] <= height <= SIGNATURE_MAX_SIZE[1]
            ):
                raise ServiceError(
                    _l("The signature image has an unexpected size."), field="signature"
                )
            image = image.convert("RGBA")
            if image.getchannel("A").getbbox() is None:
                raise ServiceError(_l("Sign in the box before you submit."), field="signature")
            out = io.BytesIO()
            image.save(out, format="PNG", optimize=True)
            return out.getvalue()
    except ServiceError:
        raise
    except (binascii.Error, ValueError, UnidentifiedImageError, OSError, SyntaxError):
        raise ServiceError(_l("Sign in the box before you submit."), field="signature")


SCRIPT_FONT = (
    Path(__file__).resolve().parents[2] / "static" / "fonts" / "DancingScript_400Regular.ttf"
)


def render_typed_signature(name: str) -> bytes:
    """A typed signature drawn as a PNG in Dancing Script (shipped with the app, OFL)."""
    name = " ".join(name.split())
    if not name:
        raise ServiceError(
            _l("Type your name to sign, or draw your signature."), field="typed_signature"
        )
    if len(name) > 80:
        raise ServiceError(_l("Use at most %(max)d characters.", max=80), field="typed_signature")
    font = ImageFont.truetype(str(SCRIPT_FONT), 72)
    notdef = bytes(font.getmask("\uffff"))
    if any(not c.isspace() and bytes(font.getmask(c)) == notdef for c in name):
        raise ServiceError(
            _l(
                "A typed signature can use Latin letters only; write your name in Latin letters or draw your signature."
            ),
            field="typed_signature",
        )
    left, top, right, bottom = font.getbbox(name)
    width, height = right - left + 40, bottom - top + 40
    image = Image.new("RGBA", (min(max(width, 200), 2400), min(max(height, 80), 600)), (0, 0, 0, 0))
    ImageDraw.Draw(image).text((20 - left, 20 - top), name, font=font, fill=(16, 24, 48, 255))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def require_signatory(actor) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_signatory:
        raise PermissionDenied(_l("Only your city's signatory can endorse the Statement."))
    if not actor.acts_for_active_city:
        raise PermissionDenied(
            _l("Your city's membership is not active, so you cannot act for the city.")
        )


def active_endorsement(city_id: int, version_id: int) -> Endorsement | None:
    return db.session.scalar(
        select(Endorsement).where(
            Endorsement.city_id == city_id,
            Endorsement.version_id == version_id,
            Endorsement.state.in_(ACTIVE_ENDORSEMENT_STATES),
        )
    )


def endorse(
    actor, version: StatementVersion, data: EndorsementData, password: str, code: str = ""
) -> Endorsement:
    """Record a signatory's endorsement of the current version for their city.

    The signatory re-enters the password right before signing; the endorsement stores the
    version's SHA-256, the signature image, the account, time and address, and the SHA-256 over
    all of these (``canonical_record``).
    """
    require_signatory(actor)
    current = current_version()
    if current is None or version.id != current.id:
        raise StateConflict(_l("Only the current version of the Statement can be endorsed."))
    if not verify_password(actor.password_hash, password or ""):
        audit.record("endorsement_reauth_failed", actor, object_type="users")
        raise ServiceError(_l("Your password is not right."), field="password")
    two_factor.require_code(actor, code, purpose="endorsement")
    if not data.authorised:
        raise ServiceError(
            _l("Confirm that you are authorised to commit your city."), field="authorised"
        )
    for name in ("signatory_name", "signatory_title", "place"):
        value = getattr(data, name).strip()
        if not value:
            raise ServiceError(_l("This field is required."), field=name)
        if len(value) > 200:
            raise ServiceError(_l("Use at most %(max)d characters.", max=200), field=name)
    today = utcnow().date()
    if data.signed_on > today + timedelta(days=1):  # a day's grace for time zones east of UTC
        raise ServiceError(_l("The date cannot be in the future."), field="signed_on")
    if data.signed_on < version.published_at.date():
        raise ServiceError(
            _l("The date cannot be before this version was published."), field="signed_on"
        )
    if active_endorsement(actor.city_id, version.id) is not None:
        raise StateConflict(_l("Your city has already endorsed this version."))
    if data.typed_signature.strip():
        png, kind = render_typed_signature(data.typed_signature), "typed"
    else:
        png, kind = normalise_signature(data.signature_data_url), "drawn"
    signature_sha256 = uploads.store(png, "signatures", "png")
    signed_at = utcnow().replace(microsecond=0)
    ip = (request.remote_addr or "") if has_request_context() else ""
    record = canonical_record(
        city_slug=actor.city.slug,
        version_number=version.number,
        text_sha256=version.text_sha256,
        signatory_name=data.signatory_name.strip(),
        signatory_title=data.signatory_title.strip(),
        place=data.place.strip(),
        signed_on=data.signed_on,
        signature_sha256=signature_sha256,
        signer_email=actor.email,
        signed_at=signed_at,
        ip=ip,
    )
    endorsement = Endorsement(
        city_id=actor.city_id,
        version_id=version.id,
        signer_id=actor.id,
        signatory_name=data.signatory_name.strip(),
        signatory_title=data.signatory_title.strip(),
        place=data.place.strip(),
        signed_on=data.signed_on,
        signature_sha256=signature_sha256,
        signature_kind=kind,
        text_sha256=version.text_sha256,
        record_sha256=hashlib.sha256(record).hexdigest(),
        signed_at=signed_at,
        ip=ip,
    )
    db.session.add(endorsement)
    try:
        db.session.flush()
    except IntegrityError:
        # Another signatory of the city endorsed at the same moment: theirs stands.
        db.session.rollback()
        raise StateConflict(_l("Your city has already endorsed this version."))
    audit.record(
        "endorsement_submitted",
        endorsement,
        actor=actor,
        to_state=EndorsementState.SUBMITTED,
        details={"city": actor.city.slug, "version": version.number,
                 "record_sha256": endorsement.record_sha256},
    )  # fmt: skip
    db.session.refresh(endorsement, ["city", "version", "signer"])
    _notify_secretariat(endorsement, "endorsement_submitted")
    return endorsement


def _notify_secretariat(endorsement: Endorsement, template: str) -> None:
    from cacnet.membership.services import secretariat_addresses

    for address, locale in secretariat_addresses():
        queue_mail(
            address,
            f"statement/emails/{template}.txt",
            locale,
            endorsement=endorsement,
            link=url_for("statement.endorsement_queue", _external=True),
        )


def _notify_signer(endorsement: Endorsement, template: str, link: str) -> None:
    if endorsement.signer is not None:
        queue_mail(
            endorsement.signer.email,
            f"statement/emails/{template}.txt",
            endorsement.signer.locale,
            endorsement=endorsement,
            recipient=endorsement.signer,
            link=link,
        )


def _change(endorsement: Endorsement, source, target, actor, action: str, reason: str = "") -> None:
    from cacnet.statement.signatories import forget_fingerprints

    if endorsement.state != source:
        raise StateConflict(_l("This endorsement cannot be changed this way in its present state."))
    previous = endorsement.state
    endorsement.state = target
    endorsement.reason = reason
    forget_fingerprints(endorsement.version.number)
    audit.record(
        f"endorsement_{action}",
        endorsement,
        actor=actor,
        from_state=previous,
        to_state=target,
        reason=reason,
        details={"city_id": endorsement.city_id, "version_id": endorsement.version_id},
    )


def verify(actor, endorsement: Endorsement) -> None:
    """The secretariat checks the signatory's authority and the signature: the endorsement then
    appears on the public signatory list."""
    require_secretariat(actor)
    _change(endorsement, EndorsementState.SUBMITTED, EndorsementState.VERIFIED, actor, "verify")
    endorsement.decided_at = utcnow()
    endorsement.decided_by_id = actor.id
    _notify_signer(
        endorsement, "endorsement_verified", url_for("statement.signatories", _external=True)
    )
    if current_app.config.get("ISSUE_DOCUMENTS_ON_CHANGE"):
        from cacnet.statement import documents

        # the city's certificate, rendered in the background after the commit
        documents.queue_certificate_after_commit(endorsement)


def return_endorsement(actor, endorsement: Endorsement, reason: str) -> None:
    """The secretariat sends an endorsement back with a reason; the signatory may sign again."""
    require_secretariat(actor)
    if not (reason or "").strip():
        raise ServiceError(_l("Give a reason."), field="reason")
    _change(
        endorsement, EndorsementState.SUBMITTED, EndorsementState.RETURNED, actor, "return",
        reason.strip(),
    )  # fmt: skip
    endorsement.decided_at = utcnow()
    endorsement.decided_by_id = actor.id
    _notify_signer(endorsement, "endorsement_returned", url_for("statement.sign", _external=True))


def withdraw(actor, endorsement: Endorsement, reason: str) -> None:
    """The city withdraws its verified endorsement (publicly, with the reason)."""
    if not (
        getattr(actor, "is_authenticated", False)
        and actor.city_id == endorsement.city_id
        and (actor.is_signatory or actor.is_city_admin)
        and actor.acts_for_active_city
    ):
        raise PermissionDenied(_l("Only the city's signatory or administrators can withdraw it."))
    if not (reason or "").strip():
        raise ServiceError(_l("Give a reason."), field="reason")
    _change(
        endorsement, EndorsementState.VERIFIED, EndorsementState.WITHDRAWN, actor, "withdraw",
        reason.strip(),
    )  # fmt: skip
    endorsement.withdrawn_at = utcnow()
    _notify_secretariat(endorsement, "endorsement_withdrawn")
