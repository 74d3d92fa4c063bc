"""The cities network of the demo (seed-demo): international organisations entered by the
secretariat and the founding cities' official pandemic pages, through the real services.
Idempotent: an organisation already there (by English name) and a page a city already lists
are left alone. The addresses are the organisations' and cities' own public COVID-19 pages;
the checker will say when one of them moves."""

from __future__ import annotations

from sqlalchemy import select

from cacnet.accounts.models import User, UserRole
from cacnet.cities.models import City, make_slug
from cacnet.core.db import db
from cacnet.links import services
from cacnet.links.models import NetworkLink, Organisation

# (English name, Korean name, acronym, website, [(url, title, language)])
ORGANISATIONS = [
    ("World Health Organization", "세계보건기구", "WHO", "https://www.who.int", [
        ("https://www.who.int/emergencies/diseases/novel-coronavirus-2019",
         "Coronavirus disease (COVID-19) pandemic", "en"),
        ("https://www.who.int/fr/emergencies/diseases/novel-coronavirus-2019",
         "Maladie à coronavirus 2019 (COVID-19)", "fr"),
    ]),
    ("WHO Regional Office for the Western Pacific", "세계보건기구 서태평양지역사무처", "WPRO",
     "https://www.who.int/westernpacific", [
        ("https://www.who.int/westernpacific/emergencies/covid-19",
         "COVID-19 in the Western Pacific", "en"),
    ]),
    ("United Nations", "국제연합", "UN", "https://www.un.org", [
        ("https://www.un.org/en/coronavirus", "United Nations: COVID-19 response", "en"),
    ]),
    ("UN-Habitat", "유엔 해비타트", "", "https://unhabitat.org", [
        ("https://unhabitat.org/covid-19", "UN-Habitat COVID-19 response", "en"),
    ]),
    ("United Cities and Local Governments", "세계지방정부연합", "UCLG", "https://www.uclg.org", [
        ("https://www.uclg.org/en/issues/live-learning-experience-beyondtheoutbreak",
         "#BeyondTheOutbreak: live learning experience", "en"),
    ]),
    ("Organisation for Economic Co-operation and Development", "경제협력개발기구", "OECD",
     "https://www.oecd.org", [
        ("https://www.oecd.org/coronavirus/en/", "OECD policy responses to coronavirus", "en"),
    ]),
]  # fmt: skip

# (city, country, [(url, title, language)])
CITY_LINKS = [
    ("Seoul", "KR", [
        ("http://english.seoul.go.kr/covid", "Seoul COVID-19 updates", "en"),
        ("https://www.seoul.go.kr/coronaV/coronaStatus.do", "서울시 코로나19 발생동향", "ko"),
    ]),
    ("London", "GB", [
        ("https://www.london.gov.uk/coronavirus", "Coronavirus (COVID-19) in London", "en"),
    ]),
    ("Toronto", "CA", [
        ("https://www.toronto.ca/home/covid-19/", "COVID-19: City of Toronto", "en"),
    ]),
    ("Jakarta", "ID", [
        ("https://corona.jakarta.go.id", "Jakarta Tanggap COVID-19", "id"),
    ]),
    ("Moscow", "RU", [
        ("https://www.mos.ru/city/projects/covid-19/", "Коронавирус: меры в Москве", "ru"),
    ]),
    ("Los Angeles", "US", [
        ("https://corona-virus.la", "City of Los Angeles COVID-19 information", "en"),
    ]),
]  # fmt: skip


def seed_links() -> int:
    """Add what is missing; returns how many links were added (each service call commits)."""
    officer = db.session.scalar(
        select(User).where(User.role == UserRole.SECRETARIAT, User.disabled_at.is_(None))
    )
    if officer is None:
        return 0
    added = 0
    for name_en, name_ko, acronym, website, links in ORGANISATIONS:
        organisation = db.session.scalar(
            select(Organisation).where(Organisation.name_en == name_en)
        )
        if organisation is None:
            organisation = services.add_organisation(
                officer, services.OrganisationData(name_en, name_ko, acronym, website)
            )
        added += _add_missing(officer, organisation, NetworkLink.organisation_id, links)
    for name, country, links in CITY_LINKS:
        city = db.session.scalar(select(City).where(City.slug == make_slug(name, country)))
        if city is None:
            continue
        added += _add_missing(officer, city, NetworkLink.city_id, links)
    return added


def _add_missing(officer, owner, column, links) -> int:
    added = 0
    for url, title, language in links:
        if db.session.scalar(
            select(NetworkLink.id).where(column == owner.id, NetworkLink.url == url)
        ):
            continue
        services.add_link(officer, owner, services.LinkData(url, title, language))
        added += 1
    return added
