"""A delegate of Seoul publishes a case with an attachment and a link; the public finds it by
filter and by search, reads it, downloads the attachment, and sees it on Seoul's page. In English
and in Korean."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from cacnet.core.audit import AuditEvent
from cacnet.core.db import db
from cacnet.library.models import CaseAttachment, CaseLink, LibraryCase
from tests.conftest import login, submit
from tests.helpers import pdf_bytes

CASE = {
    "area_id": None,  # set from the areas
    "title_en": "Walk-in screening centres",
    "title_ko": "워크스루 선별진료소",
    "summary_en": "Booths where a sample is taken in a minute without contact.",
    "summary_ko": "1분 만에 비접촉으로 검체를 채취하는 부스입니다.",
    "body_en": "Opened at **Seoul National University Hospital**.",
    "body_ko": "**서울대학교병원**에 설치했습니다.",
    "results_en": "- 100,000 tests",
    "results_ko": "",
    "started_on": "2020-03-16",
    "ended_on": "",
    "visibility": "public",
}


def _case_form(areas, **changes):
    return {**CASE, "area_id": str(areas["quarantine-measures"]), "action": "draft", **changes}


@pytest.mark.parametrize("language", ["en", "ko"])
def test_delegate_publishes_and_the_public_finds_it(app, client, network, language):
    client.get(f"/language/{language}")
    login(client, network["Seoul"]["delegate"])
    response = submit(client, "/library/new", _case_form(network["areas"]))
    assert response.status_code == 302, response.get_data(as_text=True)
    case_id = int(re.search(r"/library/(\d+)$", response.headers["Location"]).group(1))

    response = client.post(
        f"/library/{case_id}/attachments",
        data={"csrf_token": _token(client, f"/library/{case_id}/attachments"),
              "file": (io.BytesIO(pdf_bytes()), "screening-report.pdf")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert response.status_code == 302
    response = submit(client, f"/library/{case_id}/links",
                      {"link-title": "Seoul's announcement",
                       "link-url": "https://english.seoul.go.kr/walk-through"},
                      page=f"/library/{case_id}/attachments")  # fmt: skip
    assert response.status_code == 302
    response = submit(client, f"/library/{case_id}/publish", {}, page=f"/library/{case_id}")
    assert response.status_code == 302

    with app.app_context():
        case = db.session.get(LibraryCase, case_id)
        assert case.state.value == "published" and case.published_at is not None
        assert case.city_id == network["Seoul"]["city_id"]
        assert "walk-in" in case.search_text and "서울" in case.search_text
        actions = set(db.session.scalars(select(AuditEvent.action)))
        assert {"library_case_created", "library_attachment_added", "library_link_added",
                "library_case_published"} <= actions  # fmt: skip
        attachment_id = db.session.scalar(select(CaseAttachment.id))

    client.get("/auth/logout")
    public = app.test_client()
    public.get(f"/language/{language}")
    # by the area filter, the city, the country and a search in either language
    for query in ("area=quarantine-measures", "city=seoul-kr", "country=KR", "q=walk-in",
                  "q=선별진료소", "q=seoul+screening"):  # fmt: skip
        page = public.get(f"/library/?{query}").get_data(as_text=True)
        assert f'href="/library/{case_id}"' in page, query
    page = public.get("/library/?area=education").get_data(as_text=True)
    assert f'href="/library/{case_id}"' not in page

    page = public.get(f"/library/{case_id}").get_data(as_text=True)
    if language == "ko":
        assert "<h1>워크스루 선별진료소</h1>" in page
        assert '<p class="case-other-title" lang="en">Walk-in screening centres</p>' in page
        assert "<strong>서울대학교병원</strong>" in page
        # the results exist only in English: shown, marked as English
        assert '<div class="markdown" lang="en">' in page
        assert 'lang="ko"' in page.split("<html", 1)[1][:40]
    else:
        assert "<h1>Walk-in screening centres</h1>" in page
        assert "<strong>Seoul National University Hospital</strong>" in page
    assert 'href="/cities/seoul-kr"' in page
    assert ('<a href="https://english.seoul.go.kr/walk-through" rel="nofollow noopener '
            'noreferrer">Seoul&#39;s announcement</a>') in page  # fmt: skip
    download = public.get(f"/library/{case_id}/attachments/{attachment_id}")
    assert download.status_code == 200
    assert download.mimetype == "application/pdf"
    assert download.data.startswith(b"%PDF-")

    city_page = public.get("/cities/seoul-kr").get_data(as_text=True)
    assert 'id="city-library-heading"' in city_page
    assert f'href="/library/{case_id}"' in city_page

    export = public.get("/library.json").get_json()
    assert [c["id"] for c in export["cases"]] == [case_id]
    assert export["cases"][0]["title"] == {"en": CASE["title_en"], "ko": CASE["title_ko"]}
    assert export["cases"][0]["links"][0]["url"] == "https://english.seoul.go.kr/walk-through"


def _token(client, url):
    from tests.conftest import csrf_token

    return csrf_token(client.get(url).get_data(as_text=True))


def test_delegate_unpublishes_and_the_public_no_longer_sees_it(app, client, network, make_case):
    case_id = make_case(network["Seoul"]["delegate"])
    assert app.test_client().get(f"/library/{case_id}").status_code == 200
    login(client, network["Seoul"]["admin"])
    assert submit(client, f"/library/{case_id}/unpublish", {},
                  page=f"/library/{case_id}").status_code == 302  # fmt: skip
    anonymous = app.test_client()
    assert anonymous.get(f"/library/{case_id}").status_code == 302  # asked to sign in
    assert anonymous.get("/library.json").get_json()["cases"] == []


def test_secretariat_writes_for_any_member_city_and_edits_any(app, client, network, make_case):
    hanoi_case = make_case(network["Hanoi"]["delegate"])
    login(client, network["secretariat"])
    form = _case_form(network["areas"], city_id=str(network["Seoul"]["city_id"]),
                      action="publish")  # fmt: skip
    response = submit(client, "/library/new", form)
    assert response.status_code == 302
    response = submit(client, f"/library/{hanoi_case}/edit",
                      {**form, "city_id": str(network["Hanoi"]["city_id"]),
                       "title_en": "Hanoi's rice ATMs"})  # fmt: skip
    assert response.status_code == 302
    with app.app_context():
        titles = dict(db.session.execute(select(LibraryCase.city_id, LibraryCase.title_en)).all())
        assert titles[network["Hanoi"]["city_id"]] == "Hanoi's rice ATMs"
        assert titles[network["Seoul"]["city_id"]] == CASE["title_en"]


def test_another_city_cannot_change_a_case(app, client, network, make_case):
    case_id = make_case(network["Seoul"]["delegate"])
    login(client, network["Hanoi"]["delegate"])
    assert client.get(f"/library/{case_id}/edit").status_code == 403
    assert client.get(f"/library/{case_id}/attachments").status_code == 403
    with app.app_context():
        assert db.session.scalar(select(CaseLink.id)) is None
