"""Bad input: markup in the plain-text fields, script and javascript: links in the Markdown, an
image that is really a PDF or text, an image without a description, a city choosing the chair's
category, no title at all: a clear message, nothing stored (Markdown is kept and shown harmless)."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfWriter
from sqlalchemy import func, select

from cacnet.core.db import db
from cacnet.core.errors import ServiceError
from cacnet.news.models import NewsItem
from tests.conftest import login, submit
from tests.news.conftest import png_bytes, user


def _pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=72, height=72)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(NewsItem.id)))


def _stored_files(app) -> list:
    from pathlib import Path

    folder = Path(app.config["UPLOAD_FOLDER"]) / "news"
    return list(folder.glob("*")) if folder.exists() else []


GOOD = {"title_en": "A fine title", "category": "news", "visibility": "public", "action": "submit"}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title_en": "<script>alert(1)</script>"}, "title_en", "Use plain text"),
        ({"title_ko": "<b>굵게</b>"}, "title_ko", "Use plain text"),
        ({"summary_en": "Hello <img src=x onerror=alert(1)>"}, "summary_en", "Use plain text"),
        ({"summary_ko": "<script>x</script>"}, "summary_ko", "Use plain text"),
        ({"title_en": "", "title_ko": ""}, "title_en", "Give a title in English or in Korean."),
        ({"category": "chair_note"}, "category", "Not a valid choice"),
        (
            {"image": (io.BytesIO(_pdf()), "photo.png"), "image_alt_en": "A photo"},
            "image",
            "Attach a PNG, JPEG or WebP image.",
        ),
        (
            {
                "image": (io.BytesIO(b"just some text, not an image"), "photo.jpg"),
                "image_alt_en": "A photo",
            },
            "image",
            "Attach a PNG, JPEG or WebP image.",
        ),
        (
            {"image": (io.BytesIO(png_bytes()), "photo.png")},
            "image_alt_en",
            "Describe the image for people who cannot see it",
        ),
        (
            {"image": (io.BytesIO(png_bytes()), "photo.png"), "image_alt_en": "<script>"},
            "image_alt_en",
            "Use plain text",
        ),
    ],
)
def test_refused_with_a_message_and_nothing_stored(app, network, changes, field, message):
    client = app.test_client()
    login(client, network["London"]["delegate"])
    response = submit(client, "/news/new", {**GOOD, **changes}, page="/news/new",
                      content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html, html[html.find("<main") :][:3000]
    assert f'id="{field}-error"' in html or "flash-error" in html
    assert _count(app) == 0
    assert _stored_files(app) == []


def test_chair_notes_are_the_secretariats(app, network):
    from cacnet.news import services

    with app.test_request_context():
        with pytest.raises(ServiceError) as refused:
            services.save_item(user(network["London"]["delegate"]),
                               services.NewsData(title_en="I am the chair now",
                                                 category="chair_note"), None, "submit")  # fmt: skip
        assert "chair" in str(refused.value.message)
        db.session.rollback()
        item = services.save_item(user(network["secretariat"]),
                                  services.NewsData(title_en="A note from the chair",
                                                    category="chair_note"), None, "publish")  # fmt: skip
        db.session.commit()
        assert item.city_id is None
    assert _count(app) == 1


def test_script_and_javascript_links_in_markdown_are_harmless(app, network):
    client = app.test_client()
    login(client, network["secretariat"])
    body = ("<script>alert('x')</script>\n\n[click me](javascript:alert(1)) and "
            "[a real link](https://caap.example/) <a href=\"javascript:alert(2)\">raw</a>\n\n"
            "![tracker](https://evil.example/pixel.png)")  # fmt: skip
    response = submit(client, "/news/new", {**GOOD, "body_en": body, "action": "publish"})
    assert response.status_code == 302
    item_id = int(response.headers["Location"].rsplit("/", 1)[1])
    page = app.test_client().get(f"/news/{item_id}").get_data(as_text=True)
    article = page.split('class="news-body"')[1].split("</div>")[0]
    assert "<script" not in article and "&lt;script&gt;" in article
    assert "[click me](javascript:alert(1))" in article  # left as text, not made a link
    assert not re.search(r"<a\s[^>]*href=[\"']?\s*javascript", page, re.IGNORECASE)
    assert (
        '<a href="https://caap.example/" rel="nofollow noopener noreferrer">a real link</a>'
        in article
    )
    assert "<img" not in article  # no images through Markdown: no tracking pixels
    feed = app.test_client().get("/news.atom").get_data(as_text=True)
    assert "<script" not in feed
    assert not re.search(r"&lt;a\s[^&]*href=(&#34;|&quot;|\")javascript", feed)


def test_a_rejection_reason_with_markup_is_refused(app, network, make_item):
    story = make_item(network["London"]["delegate"], action="submit", title_en="A story")
    officer = app.test_client()
    login(officer, network["secretariat"])
    response = submit(officer, f"/news/{story}/reject", {"reason": "<script>no</script>"},
                      page="/secretariat/news")  # fmt: skip
    assert response.status_code == 302
    page = officer.get(response.headers["Location"]).get_data(as_text=True)
    assert "Use plain text" in page
    from tests.news.conftest import item_by_id

    with app.app_context():
        assert item_by_id(story).state.value == "submitted"
