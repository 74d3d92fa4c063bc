"""Uploaded files: checked by content, stored under the instance folder by their SHA-256."""

from __future__ import annotations

import hashlib
import io
import uuid
import warnings
from datetime import datetime
from pathlib import Path

from flask import abort, current_app, send_file
from pypdf import PdfReader
from pypdf.errors import PdfReadError
from sqlalchemy import CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cacnet.core.db import UTCDateTime, utcnow


def looks_like_pdf(data: bytes) -> bool:
    """True when ``data`` is a PDF that parses and has at least one page (not just a renamed file)."""
    if data.lstrip()[:5] != b"%PDF-":
        return False
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            return False
        return len(reader.pages) > 0
    except PdfReadError:
        return False
    except Exception:  # noqa: BLE001 - pypdf raises many kinds of error on hostile input
        return False


# What documents may be: a PDF, or an image the browser shows; content type -> file extension.
DOCUMENT_TYPES = {
    "application/pdf": "pdf",
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
}
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/webp"})
MAX_IMAGE_PIXELS = 40_000_000


class StoredDocumentMixin:
    """The columns of a document attached to something (an alert, a library case): a PDF or an
    image judged by its content and stored under the uploads folder by its SHA-256. The table
    adds its owner's key, ``UniqueConstraint(<owner>, "sha256")`` and ``document_checks()``."""

    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    filename: Mapped[str] = mapped_column(String(200), nullable=False)
    content_type: Mapped[str] = mapped_column(String(50), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    @property
    def extension(self) -> str:
        return DOCUMENT_TYPES[self.content_type]


def document_checks() -> tuple[CheckConstraint, ...]:
    """The rules of a stored document's row, new objects for each table that uses them."""
    known = ", ".join(f"'{t}'" for t in DOCUMENT_TYPES)
    return (
        CheckConstraint("size > 0", name="size_positive"),
        CheckConstraint(f"content_type IN ({known})", name="content_type_known"),
        CheckConstraint("filename <> ''", name="filename_given"),
    )


def sniff_document(data: bytes, allowed: frozenset[str] | None = None) -> str | None:
    """The content type of an uploaded document judged by its content (never by its name or the
    browser's claim): a PDF that parses, or a PNG, JPEG or WebP image that decodes and is not a
    decompression bomb. None when it is none of ``allowed`` (default: all of DOCUMENT_TYPES)."""
    allowed = frozenset(DOCUMENT_TYPES) if allowed is None else allowed
    if "application/pdf" in allowed and looks_like_pdf(data):
        return "application/pdf"
    if not allowed & IMAGE_TYPES:
        return None
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                kind = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}.get(
                    image.format or ""
                )
                if kind not in allowed or image.width * image.height > MAX_IMAGE_PIXELS:
                    return None
                image.verify()
                return kind
    except (Image.DecompressionBombError, Image.DecompressionBombWarning, UnidentifiedImageError,
            OSError, SyntaxError, ValueError):  # fmt: skip
        return None


def safe_filename(filename: str | None, extension: str, default: str = "document") -> str:
    """A display name for a stored upload: odd characters replaced, the extension ours."""
    import re

    name = re.sub(r"[^\w.\- ]+", "_", (filename or "").strip())[:150].strip(" ._")
    return f"{name.rsplit('.', 1)[0] or default}.{extension}"


def store(data: bytes, folder: str, extension: str) -> str:
    """Write ``data`` once under ``<uploads>/<folder>/<sha256>.<extension>``; return the hash."""
    return write_by_hash(data, Path(current_app.config["UPLOAD_FOLDER"]) / folder, extension)


def write_by_hash(data: bytes, target_dir: Path, extension: str) -> str:
    """Write ``data`` once as ``<target_dir>/<sha256>.<extension>``; return the hash."""
    digest = hashlib.sha256(data).hexdigest()
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / f"{digest}.{extension}"
    if not target.exists():
        # A unique temporary name: two requests storing the same content at once must not
        # trip over each other's half-written file; the rename is atomic and idempotent.
        tmp = target_dir / f".{digest}.{uuid.uuid4().hex}.tmp"
        tmp.write_bytes(data)
        tmp.replace(target)
    return digest


def stored_path(digest: str, folder: str, extension: str) -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"]) / folder / f"{digest}.{extension}"


def send_stored(
    digest: str,
    folder: str,
    extension: str,
    mimetype: str,
    *,
    cache_control: str,
    download_name: str | None = None,
    as_attachment: bool = False,
):
    """The response serving a stored upload (404 when the file is gone): its hash as the ETag
    (conditional requests answered 304), the caller's cache policy, and no content sniffing.
    Who may see it is the caller's check, made before this is called."""
    path = stored_path(digest, folder, extension)
    if not path.exists():
        abort(404)
    response = send_file(path, mimetype=mimetype, download_name=download_name,
                         as_attachment=as_attachment, etag=digest, conditional=True)  # fmt: skip
    response.headers["Cache-Control"] = cache_control
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
