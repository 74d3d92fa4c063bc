"""The demo's news: the seeds' three releases with their dates, a note from the chair, a
members-only announcement and Jakarta's story awaiting moderation; seeding twice adds nothing."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from cacnet.core.db import db
from cacnet.news.models import NewsCategory, NewsItem, NewsState, NewsVisibility
from tests.statement.test_versions import version_1  # noqa: F401 - fixture


def test_seed_demo_publishes_the_seeds_news(app, version_1):  # noqa: F811
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    with app.app_context():
        items = db.session.scalars(select(NewsItem).order_by(NewsItem.id)).all()
        dated = {i.title_en: i.published_at.date() for i in items if i.city is not None
                 and i.state == NewsState.PUBLISHED}  # fmt: skip
        assert dated == {
            "CAC platform sharing Seoul's COVID-19 response passes 2 million views": date(2020, 5, 5),
            "Seoul hosts the CAC Global Summit 2020 online, 1–5 June": date(2020, 5, 29),
            "Seoul proposes an international organisation of cities against pandemics": date(2020, 6, 5),
        }  # fmt: skip
        assert all(i.title_ko for i in items if i.city and i.city.name_en == "Seoul")
        assert [i.city_id for i in items if i.category == NewsCategory.CHAIR_NOTE] == [None]
        assert [i.title_en for i in items if i.visibility == NewsVisibility.MEMBERS] == [
            "Focal points: please check your city's contacts"
        ]
        [waiting] = [i for i in items if i.state == NewsState.SUBMITTED]
        assert waiting.city.name_en == "Jakarta"
        count = len(items)
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(func.count(NewsItem.id))) == count
    client = app.test_client()
    listing = client.get("/news/").get_data(as_text=True)
    assert "Seoul proposes an international organisation of cities against pandemics" in listing
    assert "Focal points" not in listing  # members only
    client.get("/language/ko")
    assert "서울시, 감염병 대응 국제 도시 협력기구 창설 제안" in client.get("/news/").get_data(
        as_text=True
    )
