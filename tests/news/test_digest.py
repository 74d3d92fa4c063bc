"""The weekly digest through a real SMTP server on loopback: each subscriber once, in their
language, with only what they may read; a re-run sends nothing twice; the unsubscribe link works
without signing in; nobody with nothing new is mailed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from cacnet.core.db import db, utcnow
from cacnet.core.deliveries import Delivery, DeliveryState
from cacnet.news import digest
from cacnet.news.models import NewsDigestRun
from tests.conftest import body_of, csrf_token, link_in
from tests.news.conftest import user


def _subscribe(app, *emails):
    from cacnet.news import services

    with app.test_request_context():
        for email in emails:
            services.set_digest(user(email), True)
        db.session.commit()


def _run(app, **kwargs) -> int:
    with app.app_context():
        return digest.run_digest(**kwargs)


def test_each_subscriber_gets_one_digest_with_what_they_may_read(app, network, make_item,
                                                                 smtp_server):  # fmt: skip
    officer = network["secretariat"]
    make_item(officer, title_en="The alliance opens its platform", title_ko="연대 플랫폼 개통",
              summary_ko="회원 도시의 소식을 전합니다.")  # fmt: skip
    make_item(officer, title_en="Dues for 2021", visibility="members", category="announcement")
    make_item(officer, action="save", title_en="A draft nobody is sent")
    subscribers = [network["reader"], network["Seoul"]["delegate"], network["London"]["delegate"],
                   network["Budapest"]["delegate"], officer]  # fmt: skip
    _subscribe(app, *subscribers)
    _subscribe(app, network["Hanoi"]["delegate"])
    # Hanoi's delegate changes their mind: the digest stops.
    from cacnet.news import services

    with app.test_request_context():
        services.set_digest(user(network["Hanoi"]["delegate"]), False)
        db.session.commit()

    assert _run(app) == 5
    for email in subscribers:
        assert len(smtp_server.to(email)) == 1, email
    assert not smtp_server.to(network["Hanoi"]["delegate"])

    reader = body_of(smtp_server.to(network["reader"])[0])
    assert "The alliance opens its platform" in reader
    assert "Dues for 2021" not in reader  # members only: not for a reader outside the alliance
    assert "A draft nobody is sent" not in reader
    for member in (network["London"]["delegate"], network["Budapest"]["delegate"], officer):
        assert "Dues for 2021" in body_of(smtp_server.to(member)[0])
    [korean] = smtp_server.to(network["Seoul"]["delegate"])
    assert korean["Content-Language"] == "ko"
    assert "연대 플랫폼 개통" in body_of(korean) and "회원 도시의 소식을 전합니다." in body_of(
        korean
    )
    assert "Dues for 2021" in body_of(korean)  # no Korean title: the English one

    # Again (the CLI twice, two servers): nothing more.
    assert _run(app) == 0
    assert len(smtp_server.messages) == 5
    with app.app_context():
        assert db.session.scalar(select(func.count(Delivery.id))) == 5
        assert set(db.session.scalars(select(Delivery.state))) == {DeliveryState.SENT}


def test_the_unsubscribe_link_works_without_signing_in(app, network, make_item, smtp_server):
    make_item(network["secretariat"], title_en="First week's news")
    _subscribe(app, network["London"]["delegate"])
    now = utcnow()
    assert _run(app, now=now) == 1
    [mail] = smtp_server.to(network["London"]["delegate"])
    link = link_in(mail, "/news/digest/unsubscribe/")
    anonymous = app.test_client()
    page = anonymous.get(link)
    assert page.status_code == 200
    response = anonymous.post(link, data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    assert response.status_code == 200
    # A forged token is not ours.
    assert anonymous.get("/news/digest/unsubscribe/eyJmb28iOjF9.forged").status_code == 404

    # Next week: new news, but London unsubscribed; nobody else subscribed.
    with app.test_request_context():
        from cacnet.news import services

        item = services.save_item(user(network["secretariat"]),
                                  services.NewsData(title_en="Second week's news"), None,
                                  "publish")  # fmt: skip
        item.published_at = now + timedelta(days=3)
        db.session.commit()
    assert _run(app, now=now + timedelta(days=7)) == 0
    assert len(smtp_server.messages) == 1


def test_nothing_new_sends_nothing_and_the_next_week_starts_where_the_last_ended(
    app, network, make_item, smtp_server
):
    _subscribe(app, network["London"]["delegate"], network["reader"])
    now = utcnow()
    assert _run(app, now=now) == 0  # nothing published: no mail at all
    assert smtp_server.messages == []
    make_item(network["secretariat"], title_en="Members' meeting", visibility="members")
    later = utcnow() + timedelta(days=7)
    assert _run(app, now=later) == 1  # only London may read it; the reader gets nothing
    assert len(smtp_server.to(network["London"]["delegate"])) == 1
    assert smtp_server.to(network["reader"]) == []
    with app.app_context():
        runs = db.session.scalars(select(NewsDigestRun).order_by(NewsDigestRun.id)).all()
        assert len(runs) == 2 and runs[1].window_start == runs[0].window_end
    # A third week: the item is not sent again.
    assert _run(app, now=later + timedelta(days=7)) == 0


def test_the_weekly_trigger_queues_the_digest_once_a_week(app, network, make_item, smtp_server,
                                                          monkeypatch):  # fmt: skip
    """The first request of an ISO week queues the digest in the background (never inline in a
    visitor's request); later requests that week queue nothing."""
    from cacnet.core import jobs
    from cacnet.core.cache import cache

    make_item(network["secretariat"], title_en="Weekly trigger news")
    _subscribe(app, network["London"]["delegate"])
    monkeypatch.setitem(app.config, "NEWS_DIGEST_AUTO", True)  # off for the other tests
    with app.app_context():
        cache.delete(f"news:digest:{digest.period_of(utcnow())}")
    client = app.test_client()
    digest._next_check = 0.0
    client.get("/news/")  # JOBS_SYNC (tests): the trigger stays out of the request
    assert smtp_server.messages == []
    monkeypatch.setitem(app.config, "JOBS_SYNC", False)
    digest._next_check = 0.0
    client.get("/news/")
    for _ in range(3):  # the digest job, then the delivery run it queues
        jobs.wait_for_threads()
    assert len(smtp_server.to(network["London"]["delegate"])) == 1
    make_item(network["secretariat"], title_en="Later the same week")
    digest._next_check = 0.0
    client.get("/news/")  # this week's digest is queued already: nobody is elected
    jobs.wait_for_threads()
    assert len(smtp_server.messages) == 1


def test_the_search_finds_korean_titles_from_a_korean_query(app, network, make_item):
    from cacnet.core.text import search_key
    from cacnet.search.registry import PROVIDERS

    make_item(network["secretariat"], title_ko="서울, 감염병 대응 도시연대 제안",
              title_en="Seoul proposes the alliance")  # fmt: skip
    make_item(network["secretariat"], title_ko="한국어 전용 소식")
    with app.test_request_context():
        from flask_login import AnonymousUserMixin

        find = PROVIDERS["news"].find
        assert [h.title for h in find(search_key("도시연대"), AnonymousUserMixin(), 5)] == [
            "Seoul proposes the alliance"  # the page's language (English) when there is one
        ]
        [hit] = find(search_key("한국어 전용"), AnonymousUserMixin(), 5)
        assert hit.title == "한국어 전용 소식" and hit.lang == "ko"
        assert find(search_key("ALLIANCE"), AnonymousUserMixin(), 5)[0].url.startswith("/news/")
