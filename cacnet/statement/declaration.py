"""The signed declaration and the endorsement certificates, as (unsealed) PDF documents.

``render_declaration`` gives the Seoul Statement with every verified signatory: a title page, the
text in English then in Korean, the signature blocks (several to a page, none split across two),
and a closing page with an empty area for the secretariat's seal. ``render_certificate`` gives one
city's certificate of endorsement on a single page with the same seal area. Every page carries a
footer with "Page N of M", the document ID and a QR code of the verification URL.

The documents are in English (the Korean Statement text aside), whatever the visitor's language:
they are records, compared and archived as they are. The seal is added afterwards, by a PAdES
signature whose visible field is placed in ``SEAL_BOX`` / ``CERTIFICATE_SEAL_BOX``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import cache

from flask import current_app, render_template
from flask_babel import force_locale
from fontTools.ttLib import TTFont

from cacnet.core.i18n import country_name
from cacnet.core.pdf import pdf_template_context, pdf_upload_url, qr_svg_data_uri, render_pdf
from cacnet.core.text import render_markdown, search_key
from cacnet.statement.models import Endorsement, StatementVersion

ORDERS = ("date", "city")

# Page geometry (A4, in mm); the templates' CSS is generated from these numbers.
PAGE_WIDTH_MM, PAGE_HEIGHT_MM = 210, 297
MARGINS_MM = {"top": 18, "right": 18, "bottom": 34, "left": 18}
SEAL_WIDTH_MM, SEAL_HEIGHT_MM = 70, 30
# Above the seal box: its heading and explanation. The certificate's text ends above them.
SEAL_LABEL_HEIGHT_MM = 22
# The seal page's content is this much shorter than the page area, so rounding never pushes it
# onto a page of its own; its bottom edge (and the seal box's) sits this far above the footer.
SEAL_SLACK_MM = 2
QR_SIZE_MM = 20

_PT_PER_MM = 72 / 25.4


def _seal_box() -> tuple[float, float, float, float]:
    x2 = (PAGE_WIDTH_MM - MARGINS_MM["right"]) * _PT_PER_MM
    y1 = (MARGINS_MM["bottom"] + SEAL_SLACK_MM) * _PT_PER_MM
    x1 = x2 - SEAL_WIDTH_MM * _PT_PER_MM
    y2 = y1 + SEAL_HEIGHT_MM * _PT_PER_MM
    return (round(x1, 2), round(y1, 2), round(x2, 2), round(y2, 2))


# Where the visible seal goes: (x1, y1, x2, y2) in PDF points, origin at the bottom left of the
# A4 page (595.28 x 841.89). On the declaration's last page and on the certificate's only page
# the area is left empty: 70 mm x 30 mm, its right edge on the right margin, 2 mm above the footer.
SEAL_BOX = _seal_box()  # (345.83, 102.05, 544.25, 187.09)
CERTIFICATE_SEAL_BOX = SEAL_BOX

# Bundled fonts (static/fonts/, see scripts/build_pdf_fonts.py). Text these fonts cannot draw is
# left out where it is optional (a city's local name), so no system font is ever used.
PDF_FONTS = ("NotoSans-Regular-pdf.ttf", "NotoSansKR-Regular-pdf.ttf")


@cache
def _covered_codepoints(static_folder: str) -> frozenset[int]:
    covered: set[int] = set()
    for name in PDF_FONTS:
        font = TTFont(f"{static_folder}/fonts/{name}", lazy=True)
        covered.update(font.getBestCmap())
    return frozenset(covered)


def drawable(text: str) -> bool:
    """True when the bundled fonts have a glyph for every character of ``text``."""
    covered = _covered_codepoints(current_app.static_folder)
    return all(ord(c) in covered or c.isspace() for c in text)


def _layout_context(issued_at: datetime, document_id: str, verify_url: str) -> dict:
    content_height = PAGE_HEIGHT_MM - MARGINS_MM["top"] - MARGINS_MM["bottom"]
    return {
        **pdf_template_context(),
        "margins": MARGINS_MM,
        "seal": {
            "width": SEAL_WIDTH_MM,
            "height": SEAL_HEIGHT_MM,
            "label_height": SEAL_LABEL_HEIGHT_MM,
            "page_height": content_height - SEAL_SLACK_MM,
        },
        "qr": qr_svg_data_uri(verify_url, QR_SIZE_MM),
        "document_id": document_id,
        "verify_url": verify_url,
        "issued_at": issued_at,
    }


def _city_facts(city) -> dict:
    """What a document prints about a city: English name, the local name when it differs and the
    bundled fonts can draw it, the country in English, the logo's URL if there is a logo."""
    local = (city.name_local or "").strip()
    if local == city.name_en or not drawable(local):
        local = ""
    return {
        "name_en": city.name_en,
        "name_local": local,
        "country": country_name(city.country_code, "en"),
        "logo": pdf_upload_url("logos", city.logo_sha256) if city.logo_sha256 else None,
    }


def _signatory(endorsement: Endorsement) -> dict:
    return {
        "id": endorsement.id,
        "city": _city_facts(endorsement.city),
        "name": endorsement.signatory_name,
        "title": endorsement.signatory_title,
        "place": endorsement.place,
        "signed_on": endorsement.signed_on,
        "signature": pdf_upload_url("signatures", endorsement.signature_sha256),
        "record_sha256": endorsement.record_sha256,
        "verified_at": endorsement.decided_at,
    }


def ordered(endorsements: Iterable[Endorsement], order: str) -> list[Endorsement]:
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, not {order!r}")
    if order == "city":
        return sorted(endorsements, key=lambda e: (search_key(e.city.name_en), e.id))
    return sorted(endorsements, key=lambda e: (e.signed_on, e.id))


def declaration_html(
    version: StatementVersion,
    endorsements: Iterable[Endorsement],
    *,
    document_id: str,
    verify_url: str,
    issued_at: datetime,
    order: str = "date",
) -> str:
    """The declaration as HTML for ``render_pdf``: ``version``'s text with the given (verified)
    endorsements, their ``city`` loaded, ordered by signing date or by city name."""
    signatories = [_signatory(e) for e in ordered(endorsements, order)]
    with force_locale("en"):
        return render_template(
            "statement/pdf/declaration.html",
            version=version,
            body_en=render_markdown(version.body_en),
            body_ko=render_markdown(version.body_ko),
            signatories=signatories,
            order=order,
            **_layout_context(issued_at, document_id, verify_url),
        )


def render_declaration(
    version: StatementVersion,
    endorsements: Iterable[Endorsement],
    *,
    document_id: str,
    verify_url: str,
    issued_at: datetime,
    order: str = "date",
) -> bytes:
    """The declaration as an unsealed PDF (see ``declaration_html``); the seal goes in
    ``SEAL_BOX`` on the last page."""
    html = declaration_html(
        version,
        endorsements,
        document_id=document_id,
        verify_url=verify_url,
        issued_at=issued_at,
        order=order,
    )
    return render_pdf(html)


def certificate_html(
    endorsement: Endorsement,
    version: StatementVersion,
    *,
    document_id: str,
    verify_url: str,
    issued_at: datetime,
) -> str:
    """One city's certificate of endorsement of ``version`` as HTML for ``render_pdf``."""
    with force_locale("en"):
        return render_template(
            "statement/pdf/certificate.html",
            version=version,
            signatory=_signatory(endorsement),
            **_layout_context(issued_at, document_id, verify_url),
        )


def render_certificate(
    endorsement: Endorsement,
    version: StatementVersion,
    *,
    document_id: str,
    verify_url: str,
    issued_at: datetime,
) -> bytes:
    """The certificate as an unsealed one-page PDF; the seal goes in ``CERTIFICATE_SEAL_BOX``."""
    html = certificate_html(
        endorsement, version, document_id=document_id, verify_url=verify_url, issued_at=issued_at
    )
    return render_pdf(html)
