"""Bad input is refused with a clear message and nothing stored; the search across languages;
the database's own checks; the secretariat adds an area."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from cacnet.core.db import db
from cacnet.library.models import CaseAttachment, CaseLink, LibraryCase
from tests.conftest import csrf_token, login, submit
from tests.library.conftest import user
from tests.library.test_journey import _case_form

SCRIPT = '<script>alert("x")</script>'


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("field", ["title_en", "title_ko"])
def test_markup_in_a_title_is_refused(app, client, network, field):
    login(client, network["Seoul"]["delegate"])
    response = submit(client, "/library/new", _case_form(network["areas"], **{field: SCRIPT}))
    assert response.status_code == 422
    assert "Use plain text, without" in response.get_data(as_text=True)
    assert "<script>alert" not in response.get_data(as_text=True)
    with app.app_context():
        assert _count(LibraryCase) == 0


def test_markup_in_the_service_title_is_refused_too(app, network):
    from cacnet.core.errors import ServiceError
    from cacnet.library import services

    with app.test_request_context(base_url=app.config["BASE_URL"]):
        data = services.CaseData(area_id=network["areas"]["education"], started_on=date(2020, 3, 1),
                                 title_ko="<b>원격 수업</b>")  # fmt: skip
        with pytest.raises(ServiceError) as raised:
            services.create_case(user(network["Seoul"]["delegate"]), data)
        assert raised.value.field == "title_ko"
        db.session.rollback()
        assert _count(LibraryCase) == 0


def test_markdown_fields_are_rendered_sanitised(app, client, network):
    login(client, network["Seoul"]["delegate"])
    hostile = f"{SCRIPT}\n\n<img src=x onerror=alert(1)> [click](javascript:alert(1)) **bold**"
    form = _case_form(
        network["areas"],
        action="publish",
        summary_en=hostile,
        summary_ko=hostile,
        body_en=hostile,
        body_ko=hostile,
        results_en=hostile,
        results_ko=hostile,
    )
    response = submit(client, "/library/new", form)
    assert response.status_code == 302
    for language in ("en", "ko"):
        client.get(f"/language/{language}")
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "<script>alert" not in page
        assert "onerror" not in page.replace("onerror=alert(1)&gt;", "")  # only as escaped text
        assert 'href="javascript' not in page
        assert "<strong>bold</strong>" in page
        assert "&lt;script&gt;" in page
        listing = client.get("/library/").get_data(as_text=True)
        assert "<script>alert" not in listing
    export = client.get("/library.json")
    assert export.mimetype == "application/json"


def test_a_javascript_link_is_refused(app, client, network, make_case):
    case_id = make_case(network["Seoul"]["delegate"])
    login(client, network["Seoul"]["delegate"])
    for url in ("javascript:alert(1)", "JavaScript://example.org/%0aalert(1)",
                "data:text/html,hi", "ftp://example.org/x"):  # fmt: skip
        response = submit(client, f"/library/{case_id}/links",
                          {"link-title": "Click", "link-url": url},
                          page=f"/library/{case_id}/attachments")  # fmt: skip
        assert response.status_code == 422, url
        assert "Enter a web address starting with http:// or https://." in response.get_data(
            as_text=True
        )
    response = submit(client, f"/library/{case_id}/links",
                      {"link-title": SCRIPT, "link-url": "https://example.org/"},
                      page=f"/library/{case_id}/attachments")  # fmt: skip
    assert response.status_code == 422
    with app.app_context():
        assert _count(CaseLink) == 0
    from cacnet.core.errors import ServiceError
    from cacnet.library import services

    with app.test_request_context(base_url=app.config["BASE_URL"]), pytest.raises(ServiceError):
        services.add_link(
            user(network["Seoul"]["delegate"]),
            db.session.get(LibraryCase, case_id),
            "x",
            "javascript:alert(1)",
        )


def test_an_attachment_that_lies_about_its_type_is_refused(app, client, network, make_case):
    case_id = make_case(network["Seoul"]["delegate"])
    login(client, network["Seoul"]["delegate"])
    for name, data in (("report.pdf", b"%PDF-1.4 not really a pdf"),
                       ("photo.png", b"<html><script>alert(1)</script></html>"),
                       ("photo.jpg", b"\xff\xd8\xff\xe0 broken")):  # fmt: skip
        url = f"/library/{case_id}/attachments"
        token = csrf_token(client.get(url).get_data(as_text=True))
        response = client.post(url, data={"csrf_token": token, "file": (io.BytesIO(data), name)},
                               content_type="multipart/form-data")  # fmt: skip
        assert response.status_code == 422, name
        assert "is not a PDF document or a PNG, JPEG or WebP image" in response.get_data(
            as_text=True
        )
    with app.app_context():
        assert _count(CaseAttachment) == 0


def test_attachments_are_limited_in_size_and_number(app, network, make_case):
    from cacnet.core.errors import ServiceError
    from cacnet.library import services
    from tests.helpers import pdf_bytes

    case_id = make_case(network["Seoul"]["delegate"])
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        actor, case = user(network["Seoul"]["delegate"]), db.session.get(LibraryCase, case_id)
        with pytest.raises(ServiceError, match="at most 10 MB"):
            services.add_attachment(actor, case, "big.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024))
        for pages in range(1, 11):
            services.add_attachment(actor, case, f"{pages}.pdf", pdf_bytes(pages))
        with pytest.raises(ServiceError, match="at most 10 attachments"):
            services.add_attachment(actor, case, "11.pdf", pdf_bytes(11))
        db.session.rollback()
        assert _count(CaseAttachment) == 10


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"started_on": "2020-03-16", "ended_on": "2020-03-01"},
         "The end cannot be before the start."),
        ({"started_on": (date.today() + timedelta(days=2)).isoformat()},
         "The start cannot be in the future."),
        ({"title_en": "", "title_ko": ""}, "Give the case a title in English or in Korean"),
        ({"title_ko": ""}, "Text in Korean needs a Korean title."),
        ({"area_id": ""}, "This field is required."),
        ({"area_id": "999999"}, "Not a valid choice"),
        ({"visibility": "secret"}, "Not a valid choice"),
    ],
)  # fmt: skip
def test_bad_case_input_gives_a_message_and_stores_nothing(app, client, network, changes,
                                                           message):  # fmt: skip
    login(client, network["Seoul"]["delegate"])
    response = submit(client, "/library/new", _case_form(network["areas"], **changes))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert _count(LibraryCase) == 0


def test_a_delegate_cannot_write_for_another_city(app, network):
    from cacnet.core.errors import PermissionDenied
    from cacnet.library import services

    with app.test_request_context(base_url=app.config["BASE_URL"]):
        data = services.CaseData(area_id=network["areas"]["education"], started_on=date(2020, 3, 1),
                                 title_en="Distance learning",
                                 city_id=network["Hanoi"]["city_id"])  # fmt: skip
        with pytest.raises(PermissionDenied):
            services.create_case(user(network["Seoul"]["delegate"]), data)


@pytest.mark.parametrize(
    "values",
    [
        {"title_en": "", "title_ko": ""},
        {"title_en": "", "title_ko": "원격 수업", "summary_en": "Summary without its title"},
        {"title_en": "x", "started_on": date(2020, 3, 2), "ended_on": date(2020, 3, 1)},
        {"title_en": "x", "state": "published"},
    ],
)
def test_the_database_checks_the_rules_too(app, network, values):
    from cacnet.library.models import CaseState

    with app.app_context():
        row = {"city_id": network["Seoul"]["city_id"], "area_id": network["areas"]["education"],
               "started_on": date(2020, 3, 1), "state": CaseState.DRAFT, **values}  # fmt: skip
        db.session.add(LibraryCase(**row))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_a_link_must_be_http_in_the_database(app, network, make_case):
    case_id = make_case(network["Seoul"]["delegate"])
    with app.app_context():
        db.session.add(CaseLink(case_id=case_id, title="x", url="javascript:alert(1)"))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


# --- search across languages -------------------------------------------------------------------


def test_search_across_the_two_languages(app, client, network, make_case):
    seoul = network["Seoul"]["delegate"]
    korean_only = make_case(seoul, title_en="", title_ko="드라이브스루 선별진료소",
                            summary_ko="차에 탄 채로 검사를 받습니다.")  # fmt: skip
    both = make_case(network["Hanoi"]["delegate"], title_en="Drive-through screening",
                     title_ko="드라이브스루 검사")  # fmt: skip

    def found(query):
        page = client.get("/library/", query_string={"q": query}).get_data(as_text=True)
        return {case_id for case_id in (korean_only, both) if f'href="/library/{case_id}"' in page}

    # an English query finds only the case that has an English title
    assert found("drive-through") == {both}
    assert found("Drive-Through screening") == {both}
    # a Korean query finds the Korean-only case (and the other, which has a Korean title too)
    assert found("선별진료소") == {korean_only}
    assert found("드라이브스루") == {korean_only, both}
    # the Korean-only case is shown in Korean, marked as such, on the English page
    page = client.get("/library/").get_data(as_text=True)
    assert f'<a href="/library/{korean_only}" lang="ko">드라이브스루 선별진료소</a>' in page
    # a LIKE wildcard is matched literally
    assert found("%") == set()

    from cacnet.library.search import find

    with app.test_request_context(base_url=app.config["BASE_URL"]):
        from flask_login import AnonymousUserMixin

        hits = find("drive-through", AnonymousUserMixin(), 10)
        assert [h.url for h in hits] == [f"/library/{both}"]
        hits = find("선별진료소", AnonymousUserMixin(), 10)
        assert [(h.title, h.lang) for h in hits] == [("드라이브스루 선별진료소", "ko")]


def test_sorting_and_pages(app, client, network, make_case):
    ids = [make_case(network["Seoul"]["delegate"], title_en=f"Case {n}",
                     started_on=date(2020, 1, 1) + timedelta(days=n)) for n in range(22)]  # fmt: skip
    page = client.get("/library/").get_data(as_text=True)
    assert page.index(f'href="/library/{ids[21]}"') < page.index(f'href="/library/{ids[20]}"')
    assert f'href="/library/{ids[0]}"' not in page  # on page 2
    assert f'href="/library/{ids[0]}"' in client.get("/library/?page=2").get_data(as_text=True)
    page = client.get("/library/?sort=oldest").get_data(as_text=True)
    assert page.index(f'href="/library/{ids[0]}"') < page.index(f'href="/library/{ids[1]}"')
    page = client.get("/library/?sort=published").get_data(as_text=True)
    assert f'href="/library/{ids[21]}"' in page
    assert client.get("/library/?sort=bogus&page=999&area=nope").status_code == 200


# --- areas -------------------------------------------------------------------------------------


def test_the_secretariat_adds_an_area_and_it_is_a_choice(app, client, network):
    login(client, network["secretariat"])
    response = submit(client, "/secretariat/areas", {"name_en": "Mental health",
                                                     "name_ko": "정신 건강"})  # fmt: skip
    assert response.status_code == 302
    page = client.get("/secretariat/areas").get_data(as_text=True)
    assert "Mental health" in page and "정신 건강" in page
    assert "Mental health" in client.get("/library/new").get_data(as_text=True)
    assert '<option value="mental-health">' in client.get("/library/").get_data(as_text=True)
    response = submit(client, "/secretariat/areas", {"name_en": "<b>x</b>", "name_ko": "정신"})
    assert response.status_code == 422
    response = submit(client, "/secretariat/areas", {"name_en": "mental health",
                                                     "name_ko": "마음 건강"})  # fmt: skip
    assert response.status_code == 422
    assert "There is already an area of that name." in response.get_data(as_text=True)


def test_only_the_secretariat_sees_the_areas_page(app, client, network):
    assert client.get("/secretariat/areas").status_code == 302
    login(client, network["Seoul"]["admin"])
    assert client.get("/secretariat/areas").status_code == 403
