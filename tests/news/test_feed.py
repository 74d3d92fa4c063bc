"""/news.atom parsed back with feedparser: the public published items, newest first, with their
Atom fields; no members-only, unpublished or withdrawn item; no script."""

from __future__ import annotations

from datetime import UTC, datetime

import feedparser

from cacnet.core.db import db
from tests.conftest import login, submit
from tests.news.conftest import item_by_id


def _set_published(app, item_id, when):
    with app.app_context():
        item_by_id(item_id).published_at = when
        db.session.commit()


def test_the_feed_has_the_public_items_with_their_atom_fields(app, network, make_item):
    officer = network["secretariat"]
    older = make_item(officer, title_en="CAC platform passes 2 million views",
                      title_ko="CAC 플랫폼 조회수 200만 돌파",
                      summary_en="Within its first month.",
                      body_en="Read [the report](https://english.seoul.go.kr/covid) "
                              "<script>alert(1)</script>")  # fmt: skip
    korean = make_item(officer, title_ko="서울, 도시연대 제안", body_ko="**6월 5일** 소식")
    make_item(officer, title_en="Members-only dues notice", visibility="members")
    make_item(officer, action="save", title_en="Unpublished draft")
    withdrawn = make_item(officer, title_en="Withdrawn by mistake")
    client = app.test_client()
    login(client, officer)
    submit(client, f"/news/{withdrawn}/withdraw", {}, page=f"/news/{withdrawn}")
    _set_published(app, older, datetime(2020, 5, 7, 9, 0, tzinfo=UTC))
    _set_published(app, korean, datetime(2020, 6, 5, 9, 0, tzinfo=UTC))

    response = app.test_client().get("/news.atom")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    raw = response.get_data(as_text=True)
    assert "<script" not in raw
    feed = feedparser.parse(response.get_data())
    assert not feed.bozo, feed.bozo_exception
    assert feed.feed.title == "News of the Cities Alliance Against Pandemic"
    titles = [e.title for e in feed.entries]
    assert titles == ["서울, 도시연대 제안", "CAC platform passes 2 million views"]
    first, second = feed.entries
    assert first.id.startswith("tag:localhost,2020:news:")
    assert first.link == f"http://localhost/news/{korean}"
    assert first.published_parsed[:3] == (2020, 6, 5)
    assert first.updated_parsed is not None
    assert first.author == "CAAP Secretariat"
    assert first.title_detail.language == "ko"
    assert second.title_detail.language == "en"
    assert second.summary == "Within its first month."
    [content] = second.content
    assert content.type == "text/html"
    assert '<a href="https://english.seoul.go.kr/covid"' in content.value
    assert "<script" not in content.value and "alert(1)" in content.value  # shown as text
    assert "<strong>6월 5일</strong>" in first.content[0].value
