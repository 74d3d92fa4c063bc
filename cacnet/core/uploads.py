"""Uploaded files: checked by content, stored under the instance folder by their SHA-256."""

from __future__ import annotations

import hashlib
import io
import uuid
import warnings
from pathlib import Path

from flask import current_app
from pypdf import PdfReader
from pypdf.errors import PdfReadError


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
