"""Statement versions: drafts the secretariat edits, and published versions nobody can change.

Every function checks the actor, validates, changes, audits; the caller commits.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from cacnet.core import audit
from cacnet.core.db import db, utcnow
from cacnet.core.errors import ServiceError, StateConflict
from cacnet.core.permissions import require_secretariat
from cacnet.statement.models import StatementVersion, text_sha256

MAX_TITLE = 300
MAX_BODY = 20_000


def current_version() -> StatementVersion | None:
    """The latest published version."""
    return db.session.scalar(
        select(StatementVersion)
        .where(StatementVersion.published_at.is_not(None))
        .order_by(StatementVersion.number.desc())
        .limit(1)
    )


def published_version(number: int) -> StatementVersion | None:
    version = db.session.scalar(select(StatementVersion).where(StatementVersion.number == number))
    return version if version is not None and version.is_published else None


def published_versions() -> list[StatementVersion]:
    return list(
        db.session.scalars(
            select(StatementVersion)
            .where(StatementVersion.published_at.is_not(None))
            .order_by(StatementVersion.number.desc())
        )
    )


def all_versions(actor) -> list[StatementVersion]:
    require_secretariat(actor)
    return list(
        db.session.scalars(select(StatementVersion).order_by(StatementVersion.number.desc()))
    )


def open_draft() -> StatementVersion | None:
    return db.session.scalar(
        select(StatementVersion).where(StatementVersion.published_at.is_(None)).limit(1)
    )


@dataclass
class VersionText:
    title_en: str
    title_ko: str
    body_en: str
    body_ko: str
    note: str = ""


def _validate(data: VersionText) -> VersionText:
    cleaned = VersionText(
        title_en=data.title_en.strip(),
        title_ko=data.title_ko.strip(),
        body_en=data.body_en.replace("\r\n", "\n").strip(),
        body_ko=data.body_ko.replace("\r\n", "\n").strip(),
        note=data.note.strip(),
    )
    for name in ("title_en", "title_ko", "body_en", "body_ko"):
        value = getattr(cleaned, name)
        if not value:
            raise ServiceError(_l("This field is required."), field=name)
        limit = MAX_TITLE if name.startswith("title") else MAX_BODY
        if len(value) > limit:
            raise ServiceError(_l("Use at most %(max)d characters.", max=limit), field=name)
    if len(cleaned.note) > 2000:
        raise ServiceError(_l("Use at most %(max)d characters.", max=2000), field="note")
    return cleaned


def create_draft(actor) -> StatementVersion:
    """Start the next version from the current text; there is at most one draft at a time."""
    require_secretariat(actor)
    if open_draft() is not None:
        raise StateConflict(_l("A draft exists already: edit or delete it first."))
    base = current_version()
    number = (db.session.scalar(select(func.max(StatementVersion.number))) or 0) + 1
    draft = StatementVersion(
        number=number,
        title_en=base.title_en if base else "",
        title_ko=base.title_ko if base else "",
        body_en=base.body_en if base else "",
        body_ko=base.body_ko if base else "",
        note="",
    )
    db.session.add(draft)
    db.session.flush()
    audit.record("statement_draft_created", draft, actor=actor, details={"number": number})
    return draft


def _require_draft(version: StatementVersion) -> None:
    if version.is_published:
        raise StateConflict(_l("A published version can never be changed."))


def update_draft(actor, version: StatementVersion, data: VersionText) -> None:
    require_secretariat(actor)
    _require_draft(version)
    cleaned = _validate(data)
    for name in ("title_en", "title_ko", "body_en", "body_ko", "note"):
        setattr(version, name, getattr(cleaned, name))
    audit.record(
        "statement_draft_updated", version, actor=actor, details={"number": version.number}
    )


def delete_draft(actor, version: StatementVersion) -> None:
    require_secretariat(actor)
    _require_draft(version)
    audit.record(
        "statement_draft_deleted", version, actor=actor, details={"number": version.number}
    )
    db.session.delete(version)


def publish(actor, version: StatementVersion) -> None:
    """Publish a draft: its text is frozen (the database refuses later updates) and its SHA-256
    over the documented canonical form is stored for endorsements and documents to cite."""
    require_secretariat(actor)
    _require_draft(version)
    _validate(VersionText(version.title_en, version.title_ko, version.body_en, version.body_ko))
    current = current_version()
    if current is not None and text_sha256(version) == current.text_sha256:
        raise ServiceError(_l("The text is the same as the current version's."))
    version.text_sha256 = text_sha256(version)
    version.published_at = utcnow()
    version.published_by_id = actor.id
    audit.record(
        "statement_published",
        version,
        actor=actor,
        details={"number": version.number, "sha256": version.text_sha256},
    )
    _invite_earlier_signatories(version)
    from cacnet.statement.signatories import forget_fingerprints

    forget_fingerprints(version.number)  # "current" changes


def _invite_earlier_signatories(version: StatementVersion) -> None:
    """Tell the signatories of cities that endorsed an earlier version that a new one awaits them
    (sent after the commit, in each person's language)."""
    from flask import url_for

    from cacnet.accounts.models import SigningAuthority, User
    from cacnet.core.mail import queue_mail
    from cacnet.statement.models import Endorsement, EndorsementState

    cities = (
        select(Endorsement.city_id)
        .where(Endorsement.version_id != version.id, Endorsement.state == EndorsementState.VERIFIED)
        .distinct()
    )
    signatories = db.session.scalars(
        select(User)
        .join(SigningAuthority, SigningAuthority.user_id == User.id)
        .where(
            SigningAuthority.revoked_at.is_(None),
            SigningAuthority.city_id.in_(cities),
            User.disabled_at.is_(None),
        )
    ).all()
    for user in signatories:
        if user.city is None or not user.city.is_active_member:
            continue
        queue_mail(
            user.email,
            "statement/emails/new_version.txt",
            user.locale,
            recipient=user,
            version=version,
            link=url_for("statement.sign", _external=True),
            diff_link=url_for("statement.diff", number=version.number, _external=True),
        )


@dataclass
class DiffLine:
    kind: str  # "same", "added", "removed"
    text: str


def diff(old: str, new: str) -> list[DiffLine]:
    """Line by line, what changed from ``old`` to ``new``."""
    lines = []
    for line in difflib.ndiff(old.splitlines(), new.splitlines()):
        code, text = line[:2], line[2:]
        if code == "? ":
            continue
        lines.append(DiffLine({"  ": "same", "+ ": "added", "- ": "removed"}[code], text))
    return lines
