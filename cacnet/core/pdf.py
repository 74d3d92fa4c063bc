"""HTML to PDF with WeasyPrint, reading only the files the app means it to read.

Documents are rendered from our own templates, but they carry user text (names, titles, the
Statement) and user images (logos, signatures), so WeasyPrint must never reach the network or the
file system on its own. Every resource goes through ``PdfURLFetcher``, which serves only:

* ``https://pdf.invalid/static/<path>``: a file under the app's static folder (fonts, images).
  ``pdf.invalid`` is a reserved name (RFC 2606) that never resolves, so these URLs cannot leak to
  a real server. ``..``, ``.``, empty segments, backslashes and anything that resolves outside the
  static folder (a symbolic link) are refused.
* ``https://pdf.invalid/uploads/<logos|signatures>/<64 hex>.png``: a stored upload, the file
  ``cacnet.core.uploads.stored_path`` names (``<UPLOAD_FOLDER>/<folder>/<sha256>.png``).
* ``data:`` URLs (the QR code, small inline images).

Anything else (``http(s)`` to any other host, ``file:``, ``ftp:``, other schemes, malformed URLs)
raises ``RefusedURL``; WeasyPrint logs a warning, leaves that resource out and still renders the
document. Documents are given the base URL ``https://pdf.invalid/``, so relative URLs resolve
into the same space. Templates build URLs with ``pdf_static_url`` and ``pdf_upload_url`` (passed
to them by ``pdf_template_context``), never by hand.

Fonts: the documents declare their own ``@font-face`` rules (Noto Sans, Noto Sans KR, shipped in
``static/fonts/``, see ``scripts/build_pdf_fonts.py``); WeasyPrint embeds subsets of them. The
renderer's Fontconfig configuration holds only those fonts, never the system's, so a document
comes out the same on any machine; a character none of them has is drawn as an empty box.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import segno
from flask import current_app
from weasyprint import HTML
from weasyprint.text.ffi import ffi, fontconfig, pangoft2
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

PDF_HOST = "pdf.invalid"
BASE_URL = f"https://{PDF_HOST}/"
UPLOAD_FOLDERS = ("logos", "signatures")
_UPLOAD_PATH = re.compile(r"/uploads/(logos|signatures)/([0-9a-f]{64})\.png")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_CONTENT_TYPES = {
    ".css": "text/css",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
# PDF/A-2b: an archival profile (every font embedded, colour space declared) that a PAdES
# signature may be added to by an incremental update.
PDF_VARIANT = "pdf/a-2b"


# WeasyPrint's cffi declarations lack this one Fontconfig function (override: no error should a
# later WeasyPrint declare it too).
ffi.cdef("FcConfig * FcConfigCreate (void);", override=True)


class RefusedURL(ValueError):
    """A document asked for a resource outside what ``PdfURLFetcher`` serves."""


def pdf_static_url(filename: str) -> str:
    """The URL, in a PDF document, of ``static/<filename>``."""
    return f"{BASE_URL}static/{filename.lstrip('/')}"


def pdf_upload_url(folder: str, sha256: str, ext: str = "png") -> str:
    """The URL, in a PDF document, of a stored upload (a city logo or a signature image)."""
    if folder not in UPLOAD_FOLDERS or ext != "png" or not _HEX64.fullmatch(sha256 or ""):
        raise ValueError(f"not a stored upload: {folder}/{sha256}.{ext}")
    return f"{BASE_URL}uploads/{folder}/{sha256}.{ext}"


def qr_svg_data_uri(url: str, size_mm: float = 20) -> str:
    """A QR code linking to ``url`` as an SVG ``data:`` URI, ``size_mm`` wide (no quiet zone:
    leave white space around it)."""
    qr = segno.make(url, error="m")
    modules = qr.symbol_size(border=0)[0]
    return qr.svg_data_uri(border=0, scale=size_mm / modules, unit="mm", omit_charset=True)


def pdf_template_context() -> dict[str, Any]:
    """The helpers a PDF template uses, to pass to ``render_template``."""
    return {"pdf_static_url": pdf_static_url, "pdf_upload_url": pdf_upload_url}


class PdfURLFetcher(URLFetcher):
    """Serves static files, stored uploads and ``data:`` URLs; refuses everything else."""

    def __init__(self, static_folder: str | Path, upload_folder: str | Path):
        super().__init__(timeout=1, allowed_protocols={"data"}, allow_redirects=False)
        self.static_folder = Path(static_folder).resolve()
        self.upload_folder = Path(upload_folder).resolve()

    @classmethod
    def for_app(cls, app=None) -> PdfURLFetcher:
        app = app or current_app
        return cls(app.static_folder, app.config["UPLOAD_FOLDER"])

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        path = self.resolve(url)
        if path is None:  # a data: URL; urllib's DataHandler decodes it, nothing else is reached
            return super().fetch(url, headers)
        content_type = _CONTENT_TYPES.get(path.suffix.lower()) or (
            mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        )
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})

    def resolve(self, url: str) -> Path | None:
        """The file ``url`` stands for, ``None`` for a ``data:`` URL; ``RefusedURL`` otherwise."""
        try:
            parts = urlsplit(url)
        except ValueError as error:
            raise RefusedURL(f"malformed URL: {url[:200]}") from error
        scheme = parts.scheme.lower()
        if scheme == "data":
            return None
        if scheme != "https" or parts.netloc.lower() != PDF_HOST:
            raise RefusedURL(f"PDF documents may not fetch {url[:200]}")
        path = unquote(parts.path)
        if match := _UPLOAD_PATH.fullmatch(path):
            folder, digest = match.groups()
            return self._existing(self.upload_folder / folder / f"{digest}.png", self.upload_folder)
        if path.startswith("/static/"):
            relative = path.removeprefix("/static/")
            segments = relative.split("/")
            if "\\" in relative or "\0" in relative or any(s in ("", ".", "..") for s in segments):
                raise RefusedURL(f"not a static file: {url[:200]}")
            return self._existing(self.static_folder.joinpath(*segments), self.static_folder)
        raise RefusedURL(f"PDF documents may not fetch {url[:200]}")

    @staticmethod
    def _existing(path: Path, root: Path) -> Path:
        resolved = path.resolve()
        if not resolved.is_relative_to(root) or not resolved.is_file():
            raise RefusedURL(f"no such file: {path.name}")
        return resolved


class BundledFontConfiguration(FontConfiguration):
    """A font configuration without the system's fonts: it knows the bundled PDF fonts (always,
    so that there is a font even when a document declares none) and the documents' ``@font-face``
    fonts, so Pango's fallback for a missing glyph can never pick an installed font."""

    def __init__(self, font_files: Iterable[Path]):
        super().__init__()
        self._config = fontconfig.FcConfigCreate()
        added = [
            fontconfig.FcConfigAppFontAddFile(self._config, str(p).encode()) for p in font_files
        ]
        if not any(added):
            # Without a single font Pango crashes the process (a segmentation fault) at render time.
            fontconfig.FcConfigDestroy(self._config)
            raise RuntimeError("no PDF fonts in static/fonts (see scripts/build_pdf_fonts.py)")
        pangoft2.pango_fc_font_map_set_config(
            ffi.cast("PangoFcFontMap *", self.font_map), self._config
        )
        fontconfig.FcConfigDestroy(self._config)  # the font map keeps its own reference


def bundled_font_files(app=None) -> list[Path]:
    """The fonts ``scripts/build_pdf_fonts.py`` makes, in ``static/fonts/``."""
    folder = Path((app or current_app).static_folder) / "fonts"
    return sorted(folder.glob("*-pdf.ttf"))


def render_pdf(html: str, *, pdf_variant: str | None = PDF_VARIANT) -> bytes:
    """Render ``html`` (a complete document, base URL ``https://pdf.invalid/``) to PDF bytes.

    Resources outside what ``PdfURLFetcher`` serves are left out (WeasyPrint logs a warning); the
    render itself succeeds. Fonts are embedded as subsets. The output is PDF/A-2b unless another
    ``pdf_variant`` (a WeasyPrint variant name, or ``None`` for plain PDF) is asked for. The same
    HTML gives the same bytes (the creation date comes from ``<meta name=dcterms.created>``).
    """
    fetcher = PdfURLFetcher.for_app()
    font_config = BundledFontConfiguration(bundled_font_files())
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher)
    return document.write_pdf(font_config=font_config, pdf_variant=pdf_variant)
