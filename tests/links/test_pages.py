"""The cities network through the HTTP client: city administrators list their pages, the
secretariat enters organisations, the public reads them by region; in English and Korean; bad
input and who may do what."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from cacnet.core.audit import AuditEvent
from cacnet.core.db import db
from cacnet.links import services
from cacnet.links.models import NetworkLink, Organisation
from tests.conftest import csrf_token, login, submit
from tests.links.conftest import user

SEOUL_EN = "https://english.seoul.go.kr/covid"
SEOUL_KO = "https://www.seoul.go.kr/coronaV/coronaStatus.do"


def _count(app, model=NetworkLink) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _headings(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r"<h2[^>]*>(.*?)</h2>", html)]


def test_a_city_admin_lists_pages_and_the_public_sees_them_by_region(
    app, client, network, add_organisation, add_link
):
    seoul, london = network["Seoul"], network["London"]
    who = add_organisation()
    add_link(("organisation", who), "https://www.who.int/emergencies/diseases/novel-coronavirus-2019",
             "Coronavirus disease (COVID-19) pandemic")  # fmt: skip
    add_link(("city", london["city_id"]), "https://www.london.gov.uk/coronavirus",
             "Coronavirus (COVID-19) in London")  # fmt: skip

    login(client, seoul["admin"])
    manage = f"/cities/{seoul['slug']}/links"
    response = submit(client, manage, {"url": SEOUL_EN, "title": "Seoul COVID-19 updates",
                                       "language": "en"})  # fmt: skip
    assert response.status_code == 302 and response.headers["Location"].endswith(manage)
    response = submit(client, manage, {"url": SEOUL_KO, "title": "서울시 코로나19 발생동향",
                                       "language": "ko"}, follow_redirects=True)  # fmt: skip
    page = response.get_data(as_text=True)
    assert "The link has been added." in page
    assert "Not checked yet" in page and "서울시 코로나19 발생동향" in page

    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.action == "network_link_added")
        ).all()
        assert len(actions) == 4

    submit(client, "/auth/logout")
    public = client.get("/cities/network").get_data(as_text=True)
    assert _headings(public) == ["International organisations", "Asia", "Europe"]
    assert public.index("World Health Organization") < public.index(">Seoul</a>")
    assert public.index(">Seoul</a>") < public.index(">London</a>")
    assert (f'<a href="{SEOUL_KO}" hreflang="ko" lang="ko" rel="noopener noreferrer nofollow">'
            "서울시 코로나19 발생동향</a>") in public  # fmt: skip
    assert f'href="{SEOUL_EN}" hreflang="en" lang="en"' in public
    assert "(Korean)" in public and "Could not be reached" not in public

    city_page = client.get(f"/cities/{seoul['slug']}").get_data(as_text=True)
    assert "Official pandemic pages" in city_page and SEOUL_KO in city_page
    assert "Manage links" not in city_page
    assert 'href="/cities/network"' in client.get("/cities/").get_data(as_text=True)


def test_the_secretariat_adds_who_with_its_link_in_korean(app, client, network):
    login(client, network["secretariat"])
    client.get("/language/ko")
    response = submit(client, "/secretariat/links", {
        "name_en": "World Health Organization", "name_ko": "세계보건기구", "acronym": "WHO",
        "website": "https://www.who.int"})  # fmt: skip
    assert response.status_code == 302
    org_page = response.headers["Location"]
    with app.app_context():
        who = db.session.scalar(select(Organisation))
        assert (who.name_ko, who.acronym) == ("세계보건기구", "WHO")
    html = client.get(org_page).get_data(as_text=True)
    assert '<html lang="ko"' in html
    response = client.post(org_page, data={
        "link-csrf_token": csrf_token(html),
        "link-url": "https://www.who.int/ko/emergencies/diseases/novel-coronavirus-2019",
        "link-title": "코로나바이러스감염증-19", "link-language": "ko"})  # fmt: skip
    assert response.status_code == 302
    submit(client, "/auth/logout")
    client.get("/language/ko")
    public = client.get("/cities/network").get_data(as_text=True)
    assert '<html lang="ko"' in public
    assert "세계보건기구 (WHO)" in public and "World Health Organization" not in public
    assert (
        'hreflang="ko" lang="ko" rel="noopener noreferrer nofollow">코로나바이러스감염증-19'
        in public
    )
    assert "(한국어)" in public  # the language named in the page's language


def test_the_secretariat_renames_and_removes_an_organisation(
    app, client, network, add_organisation, add_link
):
    who = add_organisation()
    add_link(("organisation", who), "https://www.who.int/covid")
    login(client, network["secretariat"])
    page = f"/secretariat/links/organisations/{who}"
    html = client.get(page).get_data(as_text=True)
    response = client.post(page, data={
        "part": "organisation", "org-csrf_token": csrf_token(html),
        "org-name_en": "World Health Organization", "org-name_ko": "세계 보건 기구",
        "org-acronym": "WHO", "org-website": "https://www.who.int/"})  # fmt: skip
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Organisation, who).name_ko == "세계 보건 기구"
    response = submit(client, f"{page}/delete", page=page)
    assert response.status_code == 302
    assert _count(app, Organisation) == 0 and _count(app) == 0


def test_a_city_admin_edits_orders_and_removes_links(app, client, network, add_link):
    seoul = network["Seoul"]
    owner = ("city", seoul["city_id"])
    first = add_link(owner, "https://english.seoul.go.kr/covid", "First")
    second = add_link(owner, "https://www.seoul.go.kr/corona", "Second", "ko")
    login(client, seoul["admin"])
    manage = f"/cities/{seoul['slug']}/links"
    response = submit(client, f"/links/{second}/up", page=manage)
    assert response.headers["Location"].endswith(manage)
    with app.app_context():
        assert [x.id for x in services.links_of(db.session.get(NetworkLink, first).city)] == [
            second, first]  # fmt: skip
    response = submit(client, f"/links/{first}/edit", {
        "url": "https://english.seoul.go.kr/covid-19", "title": "Seoul COVID-19",
        "language": "en"})  # fmt: skip
    assert response.status_code == 302
    with app.app_context():
        link = db.session.get(NetworkLink, first)
        assert (link.url, link.title) == ("https://english.seoul.go.kr/covid-19", "Seoul COVID-19")
    submit(client, f"/links/{first}/delete", page=manage)
    assert _count(app) == 1


BAD_LINKS = [
    ({"url": "javascript:alert(1)"}, "Enter a web address starting with http:// or https://."),
    ({"url": "data:text/html,<script>alert(1)</script>"}, "starting with http:// or https://"),
    ({"url": "https://exa mple.org/"}, "Enter a valid web address."),
    ({"url": ""}, "Enter the page's web address."),
    ({"title": "<script>alert(1)</script>"}, "Use plain text, without < or >"),
    ({"title": '<b onmouseover="x()">Seoul</b>'}, "Use plain text, without < or >"),
    ({"title": ""}, "Enter the page's title."),
    ({"language": "xx"}, "Not a valid choice"),
    ({"language": ""}, "Choose the page's language from the list."),
]


@pytest.mark.parametrize(("change", "message"), BAD_LINKS)
def test_bad_links_are_refused_with_a_message_and_nothing_stored(
    app, client, network, change, message
):
    seoul = network["Seoul"]
    login(client, seoul["admin"])
    data = {"url": SEOUL_EN, "title": "Seoul COVID-19", "language": "en", **change}
    response = submit(client, f"/cities/{seoul['slug']}/links", data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in unescape(html)
    assert "<script>alert(1)</script>" not in html
    assert _count(app) == 0


def test_a_page_listed_twice_is_refused(app, client, network, add_link):
    seoul = network["Seoul"]
    add_link(("city", seoul["city_id"]), SEOUL_EN)
    login(client, seoul["admin"])
    response = submit(client, f"/cities/{seoul['slug']}/links",
                      {"url": SEOUL_EN, "title": "Again", "language": "en"})  # fmt: skip
    assert "This page is already in the list." in unescape(response.get_data(as_text=True))
    assert _count(app) == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name_en": "<script>alert(1)</script>"}, "Use plain text"),
        ({"name_ko": "<i>세계보건기구</i>"}, "Use plain text"),
        ({"acronym": "W<H>O"}, "Use plain text"),
        ({"website": "javascript:alert(1)"}, "starting with http:// or https://"),
        ({"name_en": ""}, "Enter the organisation's name in English."),
        ({"name_ko": ""}, "Enter the organisation's name in Korean."),
    ],
)
def test_bad_organisations_are_refused(app, client, network, change, message):
    login(client, network["secretariat"])
    data = {"name_en": "World Health Organization", "name_ko": "세계보건기구", "acronym": "WHO",
            "website": "https://www.who.int", **change}  # fmt: skip
    response = submit(client, "/secretariat/links", data)
    assert response.status_code == 200
    assert message in unescape(response.get_data(as_text=True))
    assert _count(app, Organisation) == 0


@pytest.mark.parametrize(
    ("url", "title", "language", "field"),
    [
        ("javascript:alert(1)", "Seoul", "en", "url"),
        ("ftp://example.org/file", "Seoul", "en", "url"),
        ("http://", "Seoul", "en", "url"),
        ("https://example.org/" + "a" * 500, "Seoul", "en", "url"),
        ("https://example.org/\u0000", "Seoul", "en", "url"),
        ("https://example.org/", "<img src=x onerror=alert(1)>", "en", "title"),
        ("https://example.org/", "Seoul\u0007", "en", "title"),
        ("https://example.org/", "Seoul", "klingon", "language"),
    ],
)
def test_the_service_refuses_bad_links_whatever_the_form(
    app_ctx, network, url, title, language, field
):
    from cacnet.cities.models import City
    from cacnet.core.errors import ServiceError

    city = db.session.get(City, network["Seoul"]["city_id"])
    with pytest.raises(ServiceError) as refused:
        services.add_link(user(network["Seoul"]["admin"]), city,
                          services.LinkData(url, title, language))  # fmt: skip
    assert refused.value.field == field
    db.session.rollback()
    assert db.session.scalar(select(func.count(NetworkLink.id))) == 0


# --- who may do what ---------------------------------------------------------------------------

ROLES = ["anonymous", "seoul_delegate", "london_delegate", "london_admin", "seoul_admin",
         "hanoi_admin", "secretariat", "admin"]  # fmt: skip


def _sign_in(client, network, role: str) -> None:
    emails = {
        "seoul_delegate": network["Seoul"]["delegate"],
        "london_delegate": network["London"]["delegate"],
        "london_admin": network["London"]["admin"],
        "seoul_admin": network["Seoul"]["admin"],
        "hanoi_admin": network["Hanoi"]["admin"],
        "secretariat": network["secretariat"],
        "admin": network["admin"],
    }
    if role != "anonymous":
        login(client, emails[role])


@pytest.mark.parametrize("role", ROLES)
def test_who_may_manage_seouls_links(app, client, network, add_link, role):
    link_id = add_link(("city", network["Seoul"]["city_id"]), SEOUL_EN, "Seoul COVID-19")
    _sign_in(client, network, role)
    may = role in ("seoul_admin", "secretariat", "admin")
    manage = f"/cities/{network['Seoul']['slug']}/links"
    response = client.get(manage)
    if role == "anonymous":
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    else:
        assert response.status_code == (200 if may else 403)
    # A token from any page of the session (signed-in pages carry one).
    html = client.get(f"/cities/{network['Seoul']['slug']}").get_data(as_text=True)
    token = csrf_token(html) if 'name="csrf_token"' in html else ""
    for url, data in (
        (manage, {"url": "https://evil.example/", "title": "Not ours", "language": "en"}),
        (f"/links/{link_id}/edit", {"url": SEOUL_EN, "title": "Changed", "language": "en"}),
        (f"/links/{link_id}/delete", {}),
    ):
        response = client.post(url, data={"csrf_token": token, **data})
        if not may:  # anonymous: sent to sign in (or refused for the missing token)
            assert response.status_code in ((302, 400) if role == "anonymous" else (403,))
    with app.app_context():
        titles = db.session.scalars(select(NetworkLink.title)).all()
    if not may:
        assert titles == ["Seoul COVID-19"]
    # Everyone sees the public page and the city page's section.
    assert client.get("/cities/network").status_code == 200
    city_page = client.get(f"/cities/{network['Seoul']['slug']}").get_data(as_text=True)
    assert ("Manage links" in city_page) == may


@pytest.mark.parametrize("role", ROLES)
def test_only_the_secretariat_manages_organisations(
    app, client, network, add_organisation, add_link, role
):
    who = add_organisation()
    add_link(("organisation", who), "https://www.who.int/covid", "WHO COVID-19")
    _sign_in(client, network, role)
    may = role in ("secretariat", "admin")
    for page in ("/secretariat/links", f"/secretariat/links/organisations/{who}"):
        response = client.get(page)
        if role == "anonymous":
            assert response.status_code == 302
        else:
            assert response.status_code == (200 if may else 403)
    link_id = add_link(("organisation", who), "https://www.who.int/other", "Other")
    assert client.get(f"/links/{link_id}/edit").status_code == (
        200 if may else 302 if role == "anonymous" else 403)  # fmt: skip


def test_a_suspended_citys_admin_cannot_manage_but_its_links_stay_public(
    app, client, network, add_link
):
    hanoi = network["Hanoi"]
    add_link(("city", hanoi["city_id"]), "https://hanoi.gov.vn/covid", "Hà Nội COVID-19", "vi")
    login(client, hanoi["admin"])
    response = client.get(f"/cities/{hanoi['slug']}/links")
    assert response.status_code == 403
    submit(client, "/auth/logout")
    public = client.get("/cities/network").get_data(as_text=True)
    assert 'lang="vi"' in public and "Hà Nội COVID-19" in public
