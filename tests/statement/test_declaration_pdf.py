"""The declaration and certificate PDFs: every script's text is there in our own embedded fonts,
every page has its footer and a QR code that encodes the verification URL, signature blocks are
never split, the certificate is one page, the seal area is empty, and the renderer fetches nothing
but our static files, stored uploads and data: URLs."""

import base64
import hashlib
import io
import socket
from datetime import UTC, date, datetime, timedelta

import pytest
import segno
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from cacnet.accounts.models import User
from cacnet.cities.models import City
from cacnet.core import uploads
from cacnet.core.db import db
from cacnet.core.pdf import PdfURLFetcher, RefusedURL, pdf_static_url, pdf_upload_url, render_pdf
from cacnet.statement import declaration, endorsements
from cacnet.statement.declaration import CERTIFICATE_SEAL_BOX, SEAL_BOX
from cacnet.statement.models import Endorsement, EndorsementState, StatementVersion
from tests.conftest import PASSWORD
from tests.statement.test_endorsements import data, signature
from tests.statement.test_versions import version_1  # noqa: F401 - fixture

DOCUMENT_ID = "5d0c7a4e-2f1b-4c8e-9a3d-6b7e8f901234"
VERIFY_URL = f"http://localhost/verify/{DOCUMENT_ID}"
ISSUED_AT = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
# The @font-face fonts as WeasyPrint names them in the PDF (after the subset tag "ABCDEF+").
OUR_FONTS = {"Noto-Sans", "Noto-Sans-Bold", "Noto-Sans-KR", "Noto-Sans-KR-Bold"}
MM = 72 / 25.4

# (city, country, local name, signatory): Latin with accents, Vietnamese, Cyrillic, Hangul, and
# Devanagari, which the bundled fonts do not cover (the local name is then left out).
CITIES = [
    ("Zürich", "CH", "Zürich", "José Müller"),
    ("Hanoi", "VN", "Hà Nội", "Trần Sỹ Thanh"),
    ("Moscow", "RU", "Москва", "Сергей Собянин"),
    ("Seoul", "KR", "서울특별시", "오세훈"),
    ("Delhi", "IN", "दिल्ली", "Rekha Gupta"),
]


def pdf_of(data: bytes) -> PdfReader:
    assert data.startswith(b"%PDF-")
    return PdfReader(io.BytesIO(data))


def texts(reader: PdfReader) -> list[str]:
    return [page.extract_text() for page in reader.pages]


def embedded_fonts(reader: PdfReader) -> set[str]:
    """The base names of every font the pages use; asserts each one is embedded."""
    names = set()

    def walk(resources):
        for ref in (resources.get("/Font") or {}).values():
            font = ref.get_object()
            for part in [d.get_object() for d in font.get("/DescendantFonts", [])] or [font]:
                descriptor = part["/FontDescriptor"].get_object()
                assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor), part
                tag, _, name = str(part["/BaseFont"]).lstrip("/").partition("+")
                assert len(tag) == 6 and tag.isupper(), part  # a subset, not the whole font
                names.add(name)
        for ref in (resources.get("/XObject") or {}).values():
            xobject = ref.get_object()
            if "/Resources" in xobject:
                walk(xobject["/Resources"].get_object())

    for page in reader.pages:
        walk(page["/Resources"].get_object())
    return names


def qr_codes(page) -> list[tuple[set[tuple[int, int]], tuple[float, ...]]]:
    """The QR codes drawn on ``page`` as (dark modules, transformation matrix): segno's SVG path
    draws each run of dark modules of row y as a line from (x0, y + 0.5) to (x1, y + 0.5)."""
    found: dict[tuple, set] = {}
    start = {}

    def visit(op, args, cm, tm):
        if op == b"m":
            start["at"] = (float(args[0]), float(args[1]))
        elif op == b"l" and "at" in start:
            (x0, y0), x1, y1 = start.pop("at"), float(args[0]), float(args[1])
            if y0 == y1 and y0 % 1 == 0.5 and x0 % 1 == 0 and x1 % 1 == 0:
                cells = found.setdefault(tuple(round(c, 3) for c in cm), set())
                cells.update((x, int(y0)) for x in range(int(x0), int(x1)))

    page.extract_text(visitor_operand_before=visit)
    return [(cells, cm) for cm, cells in found.items() if len(cells) > 100]


def dark_modules(url: str) -> set[tuple[int, int]]:
    qr = segno.make(url, error="m")
    rows = qr.matrix_iter(border=0)
    return {(x, y) for y, row in enumerate(rows) for x, dark in enumerate(row) if dark}


def text_positions(page) -> list[tuple[str, float, float]]:
    found = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            found.append((text.strip(), x, y))

    page.extract_text(visitor_text=visit)
    return found


def assert_common_parts(reader: PdfReader, verify_url: str = VERIFY_URL) -> None:
    pages = texts(reader)
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text
        assert DOCUMENT_ID in text
    expected = dark_modules(verify_url)
    for page in reader.pages:
        codes = qr_codes(page)
        assert len(codes) == 1, "one QR code on every page"
        cells, cm = codes[0]
        assert cells == expected  # it encodes the verification URL
        width_mm = abs(cm[0]) * segno.make(verify_url, error="m").symbol_size(border=0)[0] / MM
        assert width_mm >= 18
        x, y = cm[4], cm[5]  # the footer: bottom right of the page
        assert x > 595.28 / 2 and y < 40 * MM
    assert embedded_fonts(reader) <= OUR_FONTS


def assert_seal_area_empty(page, box) -> None:
    x1, y1, x2, y2 = box
    assert (x2 - x1) >= 69 * MM and (y2 - y1) >= 29 * MM
    positions = text_positions(page)
    inside = [t for t, x, y in positions if x1 - 1 <= x <= x2 + 1 and y1 - 1 <= y <= y2 + 1]
    assert inside == []
    # The heading sits right above the box, which is where the seal is stamped.
    heading = [(x, y) for t, x, y in positions if t == "Seal of the secretariat"]
    assert heading and x1 - 1 <= heading[0][0] < x2
    assert y2 < heading[0][1] < y2 + declaration.SEAL_LABEL_HEIGHT_MM * MM


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def signatories(app, create_member_city, create_user, secretariat, version_1):  # noqa: F811
    """The cities of CITIES, each endorsed by its signatory and verified by the secretariat."""
    from cacnet.accounts import services as accounts

    for n, (name, country, local, person) in enumerate(CITIES):
        city_id, _ = create_member_city(
            name, country, admin_email=f"admin{n}@cities.example", name_local=local
        )
        user_id = create_user(f"mayor{n}@cities.example", city_id=city_id, name=person)
        with app.test_request_context(base_url="http://localhost"):
            officer = db.session.scalar(select(User).where(User.email == secretariat))
            signer = db.session.get(User, user_id)
            accounts.grant_signing_authority(officer, signer, "Letter")
            version = db.session.scalar(select(StatementVersion))
            e = endorsements.endorse(
                signer, version, data(signatory_name=person, place=name, signatory_title="Mayor"),
                PASSWORD,
            )  # fmt: skip
            endorsements.verify(officer, e)
            db.session.commit()


def verified(version) -> list[Endorsement]:
    return list(
        db.session.scalars(
            select(Endorsement).where(
                Endorsement.version_id == version.id, Endorsement.state == EndorsementState.VERIFIED
            )
        )
    )


def png(size=(256, 256), colour=(20, 90, 160)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def transient_endorsement(n: int, version, *, name=None, title="Mayor", place=None, city=None):
    """An Endorsement (not stored) of a City (not stored), with a stored signature image."""
    city = city or City(
        id=1000 + n, slug=f"city-{n}", name_en=f"City {n:02d}", name_local="", country_code="FR"
    )
    image = base64.b64decode(signature().split(",", 1)[1])
    digest = uploads.store(image, "signatures", "png")  # the same image for all: stored once
    return Endorsement(
        id=n, city=city, version_id=version.id, state=EndorsementState.VERIFIED,
        signatory_name=name or f"Signatory {n:02d}", signatory_title=title,
        place=place or f"Place {n:02d}", signed_on=date(2024, 1, 1) + timedelta(days=(n * 7) % 30),
        signature_sha256=digest, signature_kind="drawn", text_sha256=version.text_sha256,
        record_sha256=hashlib.sha256(f"record {n}".encode()).hexdigest(),
        signed_at=datetime(2024, 1, 1, tzinfo=UTC), decided_at=datetime(2024, 2, 1, tzinfo=UTC),
    )  # fmt: skip


# --- the declaration -----------------------------------------------------------------------


def test_the_declaration_shows_every_script_in_our_fonts_with_footer_and_qr_on_every_page(
    app_ctx, signatories
):
    version = db.session.scalar(select(StatementVersion))
    reader = pdf_of(
        declaration.render_declaration(
            version, verified(version), document_id=DOCUMENT_ID, verify_url=VERIFY_URL,
            issued_at=ISSUED_AT,
        )
    )  # fmt: skip
    pages = texts(reader)
    everything = "\n".join(pages)
    for name, _, _local, person in CITIES:
        assert name in everything and person in everything
    for local in ("Zürich", "Hà Nội", "Москва", "서울특별시"):
        assert local in everything
    assert "दिल्ली" not in everything  # no bundled font draws it: left out, not drawn by the system
    assert "Switzerland" in everything and "South Korea" in everything

    # Title page, then the Statement in English and in Korean, each from a new page.
    assert "Cities Alliance Against Pandemic" in pages[0] and "Together We Stand" in pages[0]
    assert "The Seoul Statement" in pages[0] and DOCUMENT_ID in pages[0]
    assert "Signatory cities 5" in pages[0] and version.text_sha256 in pages[0]
    assert "June 5, 2020" in pages[0]  # published
    assert version.title_en in pages[1] and version.title_ko in pages[2]
    assert "감염병" in pages[2]
    # In the order of signing (all on the same day: then by id).
    assert [everything.index(person) for *_, person in CITIES] == sorted(
        everything.index(person) for *_, person in CITIES
    )
    for e in verified(version):
        assert e.record_sha256 in everything

    assert_common_parts(reader)
    assert embedded_fonts(reader) == OUR_FONTS  # Latin and Korean, regular and bold
    assert "Seal of the secretariat" in pages[-1]
    assert_seal_area_empty(reader.pages[-1], SEAL_BOX)


def test_a_signature_block_is_never_split_across_pages_and_the_city_order(app_ctx, version_1):  # noqa: F811
    version = db.session.scalar(select(StatementVersion))
    signed = [transient_endorsement(n, version) for n in range(1, 31)]
    signed[4].city.logo_sha256 = uploads.store(png(), "logos", "png")
    html = declaration.declaration_html(
        version, signed, document_id=DOCUMENT_ID, verify_url=VERIFY_URL, issued_at=ISSUED_AT,
        order="city",
    )  # fmt: skip
    assert html.count(pdf_upload_url("logos", signed[4].city.logo_sha256)) == 1
    reader = pdf_of(render_pdf(html))
    pages = texts(reader)
    assert len(pages) >= 7  # title, English, Korean, at least three of signatures, closing
    for e in signed:
        holding = [i for i, text in enumerate(pages) if e.signatory_name in text]
        assert len(holding) == 1, e.signatory_name
        page = pages[holding[0]]
        assert e.record_sha256 in page and e.city.name_en in page and e.place in page
    signature_pages = {i for i, text in enumerate(pages) if "Signatory " in text}
    assert len(signature_pages) >= 3
    everything = "\n".join(pages)
    positions = [everything.index(f"City {n:02d}") for n in range(1, 31)]
    assert positions == sorted(positions)  # alphabetical by city
    assert len(reader.pages[min(signature_pages)].images) >= 1  # the logo and signatures
    assert_common_parts(reader)


def test_by_date_orders_by_signing_date_then_id(app_ctx, version_1):  # noqa: F811
    version = db.session.scalar(select(StatementVersion))
    signed = [transient_endorsement(n, version) for n in range(1, 6)]
    html = declaration.declaration_html(
        version, signed, document_id=DOCUMENT_ID, verify_url=VERIFY_URL, issued_at=ISSUED_AT
    )
    expected = sorted(signed, key=lambda e: (e.signed_on, e.id))
    positions = [html.index(e.signatory_name) for e in expected]
    assert positions == sorted(positions)
    with pytest.raises(ValueError, match="order"):
        declaration.declaration_html(
            version, signed, document_id=DOCUMENT_ID, verify_url=VERIFY_URL,
            issued_at=ISSUED_AT, order="population",
        )  # fmt: skip


# --- the certificate -----------------------------------------------------------------------


def test_the_certificate_is_one_page_even_with_the_longest_names(app_ctx, version_1):  # noqa: F811
    version = db.session.scalar(select(StatementVersion))
    long_words = ("Wolfeschlegelsteinhausenbergerdorff " * 6)[:200].strip()
    city = City(
        id=7, slug="long", name_en=("Saint-Rémy-de-Provence-sur-Mer " * 7)[:200].strip(),
        name_local=("Санкт-Петербург Ленинградская " * 7)[:200].strip(), country_code="FR",
        logo_sha256=uploads.store(png(), "logos", "png"),
    )  # fmt: skip
    e = transient_endorsement(
        1, version, city=city, name=long_words, title=("Lord Mayor and Chair " * 10)[:200],
        place=("Hôtel de Ville, Grand-Place " * 8)[:200],
    )  # fmt: skip
    reader = pdf_of(
        declaration.render_certificate(
            e, version, document_id=DOCUMENT_ID, verify_url=VERIFY_URL, issued_at=ISSUED_AT
        )
    )
    assert len(reader.pages) == 1
    text = texts(reader)[0]
    assert "Certificate of endorsement" in text
    assert "Wolfeschlegelsteinhausenbergerdorff" in text and "Санкт-Петербург" in text
    assert e.record_sha256 in text and version.text_sha256 in text
    assert "France" in text and "February 1, 2024" in text  # country, date verified
    assert len(reader.pages[0].images) == 2  # logo and signature
    # Nothing was cut off: the last lines are drawn above the seal's heading, which is where
    # the certificate's text would be clipped.
    clip_line = CERTIFICATE_SEAL_BOX[3] + declaration.SEAL_LABEL_HEIGHT_MM * MM
    positions = text_positions(reader.pages[0])
    for needle in (e.record_sha256, "Issued"):
        ys = [y for t, x, y in positions if needle in t]
        assert ys and min(ys) > clip_line, needle
    assert_common_parts(reader)
    assert_seal_area_empty(reader.pages[0], CERTIFICATE_SEAL_BOX)


def test_the_same_content_gives_the_same_bytes(app_ctx, version_1):  # noqa: F811
    # Documents are stored by the hash of their content: rendering again must not change it.
    version = db.session.scalar(select(StatementVersion))
    e = transient_endorsement(1, version)
    kwargs = {"document_id": DOCUMENT_ID, "verify_url": VERIFY_URL, "issued_at": ISSUED_AT}
    first = declaration.render_certificate(e, version, **kwargs)
    assert declaration.render_certificate(e, version, **kwargs) == first
    assert pdf_of(first).metadata.creation_date == ISSUED_AT


def test_the_certificate_of_a_real_endorsement(app_ctx, signatories):
    version = db.session.scalar(select(StatementVersion))
    seoul = next(e for e in verified(version) if e.city.name_en == "Seoul")
    html = declaration.certificate_html(
        seoul, version, document_id=DOCUMENT_ID, verify_url=VERIFY_URL, issued_at=ISSUED_AT
    )
    assert 'lang="en"' in html and "서울특별시" in html and "오세훈" in html
    pdf = render_pdf(html)
    assert len(pdf) < 300_000  # subsets of the fonts (Noto Sans KR alone is 2.7 MB)
    reader = pdf_of(pdf)
    assert len(reader.pages) == 1
    assert "서울특별시" in texts(reader)[0] and "오세훈" in texts(reader)[0]
    assert_common_parts(reader)


# --- the URL fetcher -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/x.png",
        "https://example.com/static/fonts/NotoSans-Regular-pdf.ttf",
        "http://pdf.invalid/static/fonts/NotoSans-Regular-pdf.ttf",  # not https
        "file:///etc/passwd",
        "ftp://example.com/x.png",
        "https://pdf.invalid/static/../cacnet/__init__.py",
        "https://pdf.invalid/static/css/../../cacnet/__init__.py",
        "https://pdf.invalid/static/%2e%2e/cacnet/__init__.py",
        "https://pdf.invalid/static/..%2fcacnet/__init__.py",
        "https://pdf.invalid/static//etc/passwd",
        "https://pdf.invalid/static/fonts\\..\\..\\pyproject.toml",
        "https://pdf.invalid/uploads/logos/../../etc/passwd",
        "https://pdf.invalid/uploads/letters/" + "a" * 64 + ".pdf",
        "https://pdf.invalid/uploads/logos/" + "A" * 64 + ".png",
        "https://pdf.invalid/instance/test.sqlite",
        "https://pdf.invalid/static/no-such-file.png",
        "javascript:alert(1)",
    ],
)
def test_the_fetcher_refuses_anything_but_our_files(app_ctx, url):
    with pytest.raises(RefusedURL):
        PdfURLFetcher.for_app().fetch(url)


def test_the_fetcher_serves_static_files_uploads_and_data_urls(app, app_ctx):
    fetcher = PdfURLFetcher.for_app()
    font = fetcher.fetch(pdf_static_url("fonts/NotoSans-Regular-pdf.ttf"))
    assert font.read()[:4] == b"\x00\x01\x00\x00" and font.content_type == "font/ttf"
    digest = uploads.store(png(), "logos", "png")
    logo = fetcher.fetch(pdf_upload_url("logos", digest))
    assert logo.read() == png() and logo.content_type == "image/png"
    assert fetcher.fetch("data:text/plain;base64,aGk=").read() == b"hi"
    with pytest.raises(ValueError):
        pdf_upload_url("logos", "../../etc/passwd")
    with pytest.raises(ValueError):
        pdf_upload_url("letters", digest)


def test_a_forbidden_resource_is_left_out_and_nothing_goes_to_the_network(app_ctx, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the renderer tried to open a connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    pdf = render_pdf(
        '<!doctype html><html><head><style>@font-face { font-family: X; src: url("https://'
        'fonts.example.com/x.ttf"); } body { font-family: X; } '
        '@import url("file:///etc/passwd");</style></head><body><p>Still here</p>'
        '<img src="http://127.0.0.1:9/x.png"><img src="file:///etc/passwd">'
        '<img src="https://pdf.invalid/static/../../../../etc/passwd"></body></html>'
    )
    reader = pdf_of(pdf)
    assert "Still here" in texts(reader)[0]
    assert len(reader.pages[0].images) == 0


def test_no_system_font_is_ever_used(app_ctx):
    # Hanzi and Devanagari: no bundled font has them, a system font may (e.g. Noto Sans CJK);
    # they come out as empty boxes of our font.
    reader = pdf_of(render_pdf('<p style="font-family: sans-serif">Wuhan 武汉 दिल्ली</p>'))
    assert embedded_fonts(reader) <= OUR_FONTS
    # A family nobody bundles: the bundled fonts stand in.
    reader = pdf_of(render_pdf("<p style=\"font-family: 'DejaVu Sans', serif\">Budapest</p>"))
    assert "Budapest" in texts(reader)[0]
    assert embedded_fonts(reader) <= OUR_FONTS


def test_without_its_fonts_the_renderer_refuses_rather_than_crash(app, app_ctx, monkeypatch):
    from cacnet.core import pdf

    monkeypatch.setattr(pdf, "bundled_font_files", lambda: [])
    with pytest.raises(RuntimeError, match="no PDF fonts"):
        render_pdf("<p>Hello</p>")
