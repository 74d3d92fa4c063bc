"""Demo data for a new user's first look: founding cities of CAAP, an application waiting for the
secretariat, and accounts for every role. Made through the real service functions, so it carries
audit records and obeys every rule; running it again adds nothing."""

from __future__ import annotations

from collections.abc import Iterator

from flask import current_app
from sqlalchemy import select

from cacnet.accounts import services as accounts
from cacnet.accounts.models import User, UserRole
from cacnet.cities.models import City, make_slug
from cacnet.core.db import db, utcnow
from cacnet.membership import services as membership
from cacnet.membership.models import Membership, MembershipState, city_name_key

DEMO_PASSWORD = "Together-We-Stand-2020"  # noqa: S105 - printed for the demo on purpose

# (English name, local name, country, region, population, website, delegate locale)
FOUNDING_CITIES = [
    (
        "Seoul",
        "서울특별시",
        "KR",
        "Seoul Capital Area",
        9_411_000,
        "https://english.seoul.go.kr",
        "ko",
    ),
    ("London", "London", "GB", "England", 8_982_000, "https://www.london.gov.uk", "en"),
    (
        "Jakarta",
        "Daerah Khusus Ibukota Jakarta",
        "ID",
        "Java",
        10_560_000,
        "https://jakarta.go.id",
        "en",
    ),
    ("Moscow", "Москва", "RU", "Central Federal District", 12_655_000, "https://www.mos.ru", "en"),
    ("Toronto", "Toronto", "CA", "Ontario", 2_794_000, "https://www.toronto.ca", "en"),
    (
        "Delhi",
        "दिल्ली",
        "IN",
        "National Capital Territory",
        16_787_000,
        "https://delhi.gov.in",
        "en",
    ),
    ("Budapest", "Budapest", "HU", "Central Hungary", 1_706_000, "https://budapest.hu", "en"),
    ("Hanoi", "Hà Nội", "VN", "Red River Delta", 8_054_000, "https://hanoi.gov.vn", "en"),
    ("Los Angeles", "Los Angeles", "US", "California", 3_898_000, "https://lacity.gov", "en"),
]
PENDING_CITY = ("Ulaanbaatar", "Улаанбаатар", "MN", "", 1_540_000, "https://ulaanbaatar.mn", "en")


def _user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


def _staff(email: str, name: str, role: UserRole) -> User:
    user = _user(email)
    if user is None:
        user = accounts.create_user(email, name=name, role=role, password=DEMO_PASSWORD)
    return user


def _apply(row) -> Membership:
    name_en, name_local, country, region, population, website, locale = row
    email = f"{name_en.lower().replace(' ', '')}@cities.example"
    existing = db.session.scalar(
        select(Membership).where(
            Membership.city_name_key == city_name_key(name_en), Membership.country_code == country
        )
    )
    if existing is not None:
        return existing
    applicant = accounts.register_applicant(
        email,
        name=f"{name_en} focal point",
        title="International Relations Officer",
        password=DEMO_PASSWORD,
        locale=locale,
    )
    applicant.email_verified_at = utcnow()  # as if they had confirmed the link we mail
    data = membership.ApplicationData(name_en, name_local, country, region, population, website)
    return membership.submit_application(data, applicant, locale)


# Focal points for the demo: (city, name, title, department, phone, area, visibility, primary)
DEMO_CONTACTS = [
    (
        "Seoul",
        "Na Baek-ju",
        "Director-General",
        "Citizens' Health Bureau",
        "+82 2 2133 7500",
        "health",
        "public",
        True,
    ),
    (
        "Seoul",
        "Park Ji-hoon",
        "Team Leader",
        "Quarantine Support",
        "+82 2 2133 7600",
        "quarantine",
        "members",
        False,
    ),
    (
        "Seoul",
        "Choi Yuna",
        "Liaison Officer",
        "International Relations",
        "+82 2 2133 5200",
        "communications",
        "secretariat",
        False,
    ),
    (
        "London",
        "Amelia Hughes",
        "Director of Public Health",
        "Greater London Authority",
        "+44 20 7983 4000",
        "health",
        "public",
        True,
    ),
    (
        "Jakarta",
        "Dewi Lestari",
        "Head of Health Office",
        "Dinas Kesehatan",
        "+62 21 4287 0000",
        "health",
        "public",
        True,
    ),
    (
        "Hanoi",
        "Nguyen Van An",
        "Deputy Director",
        "Department of Health",
        "+84 24 3998 5765",
        "health",
        "members",
        True,
    ),
    (
        "Toronto",
        "Sarah Chen",
        "Associate Medical Officer",
        "Toronto Public Health",
        "+1 416 338 7600",
        "health",
        "public",
        True,
    ),
]


def _profile(officer: User, row) -> None:
    """Coordinates and time zone from the offline gazetteer, and a few focal points."""
    from cacnet.cities import services as cities

    name_en, _, country = row[0], row[1], row[2]
    city = db.session.scalar(select(City).where(City.slug == make_slug(name_en, country)))
    if city is None:
        return
    if city.latitude is None:
        found = cities.lookup_coordinates(name_en, country)
        if found:
            data = cities.ProfileData(
                name_en=city.name_en,
                name_local=city.name_local,
                country_code=city.country_code,
                region=city.region,
                population=city.population,
                website=city.website,
                latitude=found["latitude"],
                longitude=found["longitude"],
                timezone=found["timezone"],
                description=f"{city.name_en} is a founding member of the Cities Alliance Against Pandemic.",
                languages=["en"]
                if country in ("GB", "US", "CA")
                else ["en", _local_language(country)],
            )
            cities.update_profile(officer, city, data)
    if not city.contacts:
        for c_city, name, title, dept, phone, area, visibility, primary in DEMO_CONTACTS:
            if c_city == name_en:
                cities.add_contact(
                    officer,
                    city,
                    cities.ContactData(
                        name=name,
                        title=title,
                        department=dept,
                        phone=phone,
                        area=area,
                        visibility=visibility,
                        is_primary=primary,
                        email=f"{name.lower().replace(' ', '.')}@{name_en.lower().replace(' ', '')}.example",
                    ),
                )


def _local_language(country: str) -> str:
    return {"KR": "ko", "ID": "id", "RU": "ru", "IN": "hi", "HU": "hu", "VN": "vi"}.get(
        country, "en"
    )


# (city, signatory, title, state) — Seoul is left for the demo signatory to sign.
DEMO_SIGNATORIES = [
    ("London", "Sadiq Khan", "Mayor of London", "verified"),
    ("Jakarta", "Anies Baswedan", "Governor of Jakarta", "verified"),
    ("Moscow", "Sergey Sobyanin", "Mayor of Moscow", "verified"),
    ("Delhi", "Arvind Kejriwal", "Chief Minister of Delhi", "verified"),
    ("Hanoi", "Nguyễn Đức Chung", "Chairman of the Hanoi People's Committee", "verified"),
    ("Los Angeles", "Eric Garcetti", "Mayor of Los Angeles", "verified"),
    ("Toronto", "John Tory", "Mayor of Toronto", "submitted"),
    ("Budapest", "Gergely Karácsony", "Mayor of Budapest", "withdrawn"),
]


def _endorsements(officer: User) -> None:
    """Signatories and endorsements of version 1, so the signatory list is alive."""
    from datetime import date, timedelta

    from cacnet.statement import endorsements
    from cacnet.statement.models import Endorsement
    from cacnet.statement.services import current_version

    version = current_version()
    if version is None:
        return
    for offset, (name_en, person, title, state) in enumerate(DEMO_SIGNATORIES):
        row = next(r for r in FOUNDING_CITIES if r[0] == name_en)
        city = db.session.scalar(select(City).where(City.slug == make_slug(name_en, row[2])))
        if city is None:
            continue
        already = select(Endorsement.id).where(
            Endorsement.city_id == city.id, Endorsement.version_id == version.id
        )
        if db.session.scalar(already) is not None:
            continue
        email = f"{name_en.lower().replace(' ', '')}.mayor@cities.example"
        signer = _user(email) or accounts.create_user(
            email, name=person, title=title, role=UserRole.DELEGATE, city=city,
            password=DEMO_PASSWORD,
        )  # fmt: skip
        if not signer.is_signatory:
            accounts.grant_signing_authority(officer, signer, "Demo: letter of authority")
        data = endorsements.EndorsementData(
            signatory_name=person, signatory_title=title, place=name_en,
            signed_on=date(2020, 6, 5) + timedelta(days=offset), signature_data_url="",
            authorised=True, typed_signature=person,
        )  # fmt: skip
        endorsement = endorsements.endorse(signer, version, data, DEMO_PASSWORD)
        if state in ("verified", "withdrawn"):
            endorsements.verify(officer, endorsement)
        if state == "withdrawn":
            endorsements.withdraw(signer, endorsement, "Demo: withdrawn to show how it is listed.")


def seed_demo() -> Iterator[str]:
    app = current_app._get_current_object()
    issue_on_change = app.config.get("ISSUE_DOCUMENTS_ON_CHANGE")
    app.config["ISSUE_DOCUMENTS_ON_CHANGE"] = False  # certificates render on first request instead
    try:
        yield from _seed(app)
    finally:
        app.config["ISSUE_DOCUMENTS_ON_CHANGE"] = issue_on_change


def _seed(app) -> Iterator[str]:
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        secretariat = _staff(
            "secretariat@caap.example", "CAAP Secretariat Officer", UserRole.SECRETARIAT
        )
        _staff("admin@caap.example", "CAAP Operator", UserRole.ADMIN)
        for row in FOUNDING_CITIES:
            application = _apply(row)
            if application.state == MembershipState.SUBMITTED:
                membership.approve(secretariat, application)
        _apply(PENDING_CITY)
        db.session.flush()

        for row in FOUNDING_CITIES:
            _profile(secretariat, row)

        seoul = db.session.scalar(select(City).where(City.slug == make_slug("Seoul", "KR")))
        if _user("seoul.delegate@cities.example") is None:
            accounts.create_user(
                "seoul.delegate@cities.example",
                name="Kim Ji-woo",
                title="Public Health Officer",
                role=UserRole.DELEGATE,
                city=seoul,
                password=DEMO_PASSWORD,
                locale="ko",
            )
        if _user("seoul.mayor@cities.example") is None:
            mayor = accounts.create_user(
                "seoul.mayor@cities.example",
                name="Mayor's Office of Seoul",
                title="Mayor",
                role=UserRole.DELEGATE,
                city=seoul,
                password=DEMO_PASSWORD,
                locale="ko",
            )
            accounts.grant_signing_authority(secretariat, mayor, "Demo: letter of authority")
        _endorsements(secretariat)
        db.session.commit()

        from cacnet.resources.demo import seed_exchange

        if seed_exchange():
            db.session.commit()

        from cacnet.catalogue.demo import seed_catalogue

        if seed_catalogue():
            db.session.commit()

        from cacnet.alerts.demo import seed_alerts

        if seed_alerts():
            db.session.commit()

        from cacnet.situation.demo import seed_situation

        if seed_situation():
            db.session.commit()

        from cacnet.library.demo import seed_library

        if seed_library():
            db.session.commit()
        from cacnet.links.demo import seed_links

        seed_links()  # each addition commits itself
        from cacnet.news.demo import seed_news

        if seed_news():
            db.session.commit()
        from cacnet.events.demo import seed_events

        if seed_events():
            db.session.commit()

    from cacnet.statement import documents, seal

    if seal.certificate_info(app.instance_path) is None:
        info = seal.init_seal(app.instance_path)
        yield f"Made a self-signed seal for this test deployment (fingerprint {info.fingerprint})."
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        issued = documents.issue_current_declaration_now()
        if issued is not None and issued.state.value == "issued":
            yield f"The sealed declaration {issued.document_id} is at /declaration.pdf."

    yield f"Demo data ready at {app.config['BASE_URL']}. Every demo account's password: {DEMO_PASSWORD}"
    yield "  secretariat@caap.example       secretariat (the queue at /secretariat/)"
    yield "  admin@caap.example             admin"
    yield "  seoul@cities.example           city admin of Seoul (invites colleagues)"
    yield "  seoul.delegate@cities.example  delegate of Seoul"
    yield "  seoul.mayor@cities.example     signatory of Seoul (Seoul has not signed yet: try it)"
    yield "  london.mayor@cities.example    signatory of London (likewise for the other cities)"
    yield "  london@cities.example          city admin of London (likewise for the other cities)"
    yield "  ulaanbaatar@cities.example     applicant whose application awaits the secretariat"
    yield "The resource exchange (/resources/) has demo offers, requests, responses and messages."
    yield "Alerts (/alerts/): Hanoi's warning, acknowledged by Seoul with similar signals."
    yield "Seoul, London, Jakarta and Toronto publish six weeks of figures (/situation/compare)."
    yield "The countermeasure library (/library/): Seoul's measures of 2020 and a few others."
    yield "News (/news/): Seoul's 2020 releases, a note from the chair; Jakarta's story awaits."
    yield "Events (/events/): the CAC Global Summit 2020 and its 15 sessions, and a 2027 webinar."
    yield (
        "Secretariat and admin accounts set up two-step sign-in at their first sign-in: scan the "
        "QR code with any TOTP app (FreeOTP, Aegis, Google or Microsoft Authenticator)."
    )
