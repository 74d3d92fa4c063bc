"""The news journey through the HTTP client, in English and in Korean: a city's delegate writes
and submits a story, the secretariat publishes it, and it appears on /news/, in /news.atom, on
the city page and in the weekly digest in each subscriber's language; a rejected story's author
is mailed the reason."""

from __future__ import annotations

import io
import re

import feedparser
from sqlalchemy import select

from cacnet.core.db import db
from cacnet.news.models import NewsItem, NewsState
from tests.conftest import body_of, link_in, login, submit
from tests.news.conftest import item_by_id, png_bytes


def _id(response) -> int:
    return int(re.search(r"/news/(\d+)$", response.headers["Location"]).group(1))


def _subscribe(app, email):
    client = app.test_client()
    login(client, email)
    response = submit(client, "/news/digest", {"weekly": "y"})
    assert response.status_code == 302
    assert "checked" in client.get("/news/digest").get_data(as_text=True)
    return client


def _run_digest(app) -> str:
    result = app.test_cli_runner().invoke(args=["news", "digest"])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_city_story_in_english_is_moderated_published_fed_and_digested(app, network, outbox):
    london, officer = app.test_client(), app.test_client()
    login(london, network["London"]["delegate"])
    login(officer, network["secretariat"])
    _subscribe(app, network["reader"])  # a public reader, English
    _subscribe(app, network["Seoul"]["delegate"])  # a member, Korean

    form = {
        "title_en": "London opens walk-in testing in every borough",
        "summary_en": "Thirty-two walk-in centres, open seven days a week.",
        "body_en": "The Mayor of London opened **32 walk-in centres**. "
        "[Details](https://london.example/testing)",
        "category": "news",
        "visibility": "public",
        "image_alt_en": "A walk-in testing tent in Southwark",
        "image": (io.BytesIO(png_bytes()), "tent.png"),
        "action": "submit",
    }
    response = submit(london, "/news/new", form, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    item_id = _id(response)
    with app.app_context():
        item = item_by_id(item_id)
        assert item.state == NewsState.SUBMITTED
        assert item.city.name_en == "London" and item.image_type == "image/png"
    # The secretariat hears of it; the public does not see it yet.
    assert outbox.to(network["secretariat"], "awaits moderation")
    assert client_get(app, "/news/").count("walk-in testing") == 0
    assert app.test_client().get(f"/news/{item_id}").status_code == 404

    queue = officer.get("/secretariat/news").get_data(as_text=True)
    assert "London opens walk-in testing" in queue
    response = submit(officer, f"/news/{item_id}/approve", {"next": "queue"},
                      page="/secretariat/news")  # fmt: skip
    assert response.status_code == 302

    public = app.test_client()
    listing = public.get("/news/").get_data(as_text=True)
    assert "London opens walk-in testing in every borough" in listing
    page = public.get(f"/news/{item_id}").get_data(as_text=True)
    assert "<strong>32 walk-in centres</strong>" in page
    assert 'alt="A walk-in testing tent in Southwark"' in page
    city_link = re.search(r'<a href="(/cities/[a-z0-9-]+)">London</a>', page).group(1)
    image = public.get(f"/news/{item_id}/image")
    assert image.status_code == 200 and image.mimetype == "image/png"
    city_page = public.get(city_link)
    assert "London opens walk-in testing" in city_page.get_data(as_text=True)

    feed = feedparser.parse(public.get("/news.atom").get_data())
    [entry] = [e for e in feed.entries if "walk-in" in e.title]
    assert entry.link == f"http://localhost/news/{item_id}"

    assert "queued 2" in _run_digest(app)
    [english] = outbox.to(network["reader"])
    assert english["Content-Language"] == "en"
    assert "London opens walk-in testing in every borough" in body_of(english)
    assert f"http://localhost/news/{item_id}" in body_of(english)
    [korean] = outbox.to(network["Seoul"]["delegate"])
    assert korean["Content-Language"] == "ko"
    assert "queued 0" in _run_digest(app)  # a re-run sends nothing twice
    assert len(outbox.to(network["reader"])) == 1


def client_get(app, url: str) -> str:
    return app.test_client().get(url).get_data(as_text=True)


def test_a_korean_story_from_seoul_in_korean(app, network, outbox):
    seoul, officer = app.test_client(), app.test_client()
    login(seoul, network["Seoul"]["delegate"])
    seoul.get("/language/ko")
    login(officer, network["secretariat"])
    _subscribe(app, network["Seoul"]["delegate"])
    _subscribe(app, network["Hanoi"]["delegate"])

    new_page = seoul.get("/news/new").get_data(as_text=True)
    assert '<html lang="ko"' in new_page
    assert 'value="chair_note"' not in new_page  # not a city's category
    form = {
        "title_ko": "서울시, 감염병 대응 도시연대(CAAP) 창설 제안",
        "summary_ko": "박원순 시장은 2020년 6월 2일 시장단 회의에서 도시연대를 제안했습니다.",
        "body_ko": "42개 도시가 **서울 선언문**에 뜻을 모았습니다.",
        "category": "announcement",
        "visibility": "members",
        "action": "submit",
    }
    response = submit(seoul, "/news/new", form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    item_id = _id(response)
    submit(officer, f"/news/{item_id}/approve", {}, page=f"/news/{item_id}")

    page = seoul.get(f"/news/{item_id}").get_data(as_text=True)
    assert "서울시, 감염병 대응 도시연대(CAAP) 창설 제안" in page
    assert "<strong>서울 선언문</strong>" in page
    listing = seoul.get("/news/").get_data(as_text=True)
    assert "서울시, 감염병 대응 도시연대(CAAP) 창설 제안" in listing
    assert "badge-members" in listing
    # On an English page the Korean-only title is marked as Korean.
    english = app.test_client()
    login(english, network["Hanoi"]["delegate"])
    assert 'lang="ko"><a href="/news/' in english.get("/news/").get_data(as_text=True)
    # Members only: not in the public feed, not on the public list.
    assert "도시연대(CAAP)" not in client_get(app, "/news/")
    assert "도시연대(CAAP)" not in client_get(app, "/news.atom")

    _run_digest(app)
    [korean] = outbox.to(network["Seoul"]["delegate"])
    assert korean["Content-Language"] == "ko"
    assert "서울시, 감염병 대응 도시연대(CAAP) 창설 제안" in body_of(korean)
    assert "2020년 6월 2일" in body_of(korean)
    [hanoi] = outbox.to(network["Hanoi"]["delegate"])  # members-only reaches a member, in English
    assert hanoi["Content-Language"] == "en" and "도시연대(CAAP)" in body_of(hanoi)


def test_a_rejected_story_mails_its_author_the_reason_in_their_language(app, network, outbox):
    seoul, officer = app.test_client(), app.test_client()
    login(seoul, network["Seoul"]["delegate"])
    login(officer, network["secretariat"])
    response = submit(seoul, "/news/new", {"title_en": "Our new mascot", "title_ko": "새 마스코트",
                                           "category": "news", "visibility": "public",
                                           "action": "submit"})  # fmt: skip
    item_id = _id(response)
    response = submit(officer, f"/news/{item_id}/reject",
                      {"reason": "Please add what the mascot does for prevention."},
                      page="/secretariat/news")  # fmt: skip
    assert response.status_code == 302
    with app.app_context():
        item = item_by_id(item_id)
        assert item.state == NewsState.REJECTED
    [mail] = outbox.to(network["Seoul"]["delegate"])
    assert mail["Content-Language"] == "ko"
    assert "Please add what the mascot does for prevention." in body_of(mail)
    # The author changes it and submits it again from the link in the mail.
    edit = link_in(mail, f"/news/{item_id}/edit")
    response = submit(seoul, edit, {"title_en": "Our new mascot washes its hands",
                                    "title_ko": "새 마스코트", "category": "news",
                                    "visibility": "public", "action": "submit"})  # fmt: skip
    assert response.status_code == 302
    with app.app_context():
        assert item_by_id(item_id).state == NewsState.SUBMITTED
    # An empty reason is refused, nothing changes.
    submit(officer, f"/news/{item_id}/reject", {"reason": ""}, page="/secretariat/news")
    with app.app_context():
        assert item_by_id(item_id).state == NewsState.SUBMITTED
        assert (
            db.session.scalar(select(NewsItem.rejection_reason).where(NewsItem.id == item_id)) == ""
        )
