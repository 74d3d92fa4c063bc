"""The demo's library: Seoul's measures in both languages, one for members only, one in Korean
only, a few of other cities; seeding twice makes nothing new."""

from sqlalchemy import func, select

from cacnet.core.db import db
from cacnet.library.models import CaseState, CaseVisibility, LibraryCase
from tests.statement.test_versions import version_1  # noqa: F401 - fixture


def test_seed_demo_fills_the_library_once(app, version_1):  # noqa: F811
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    with app.app_context():
        cases = db.session.scalars(select(LibraryCase)).all()
        seoul = [c for c in cases if c.city.slug == "seoul-kr"]
        assert len(seoul) >= 7 and all(c.state == CaseState.PUBLISHED for c in cases)
        assert {c.city.slug for c in cases} >= {"seoul-kr", "london-gb", "hanoi-vn", "toronto-ca"}
        assert [c.title_ko for c in cases if c.title_en == ""] == [
            "서울시 공공배달앱 제로배달 유니온"
        ]
        assert sum(c.visibility == CaseVisibility.MEMBERS for c in cases) == 1
        assert all(c.title_en and c.title_ko for c in seoul if c.title_en)
        count = len(cases)
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(func.count(LibraryCase.id))) == count
    client = app.test_client()
    page = client.get("/library/?q=screening").get_data(as_text=True)
    assert "Drive-through screening centres" in page
    assert "Contact tracing" not in page  # members only
