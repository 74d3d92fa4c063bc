"""Uploaded files: checked by content, stored under the instance folder by their SHA-256."""

from __future__ import annotations

import hashlib
import io
import uuid
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
