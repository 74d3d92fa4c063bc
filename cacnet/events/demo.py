"""The CAC Global Summit 2020 (1-5 June 2020, Seoul, online) with its fifteen sessions as the
seeds give them (times in KST, the organising SMG office, the participating countries), and one
upcoming webinar so the "upcoming" list is not empty. Made through the service as the
secretariat; the UIDs are fixed, so running it again adds nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from cacnet.accounts.models import User, UserRole
from cacnet.areas import services as areas
from cacnet.cities.models import City
from cacnet.core.db import db
from cacnet.events import services
from cacnet.events.models import Event

SEOUL = "Asia/Seoul"
SUMMIT_UID = "cac-global-summit-2020@cacnet"
STREAM_EN = "https://www.youtube.com/seoulcityofficial"
STREAM_KO = "https://www.youtube.com/seoullive"
VENUE = "Seoul City Hall, 8F Multipurpose Hall, and online"
WEBINAR_UID = "caap-webinar-2027-early-warning@cacnet"

# (start, end in KST, English title, Korean title, area slug, organiser, countries, topic,
#  cities (English names of demo cities), speakers (name, role, city))
SESSIONS = [
    ("2020-06-01 11:00", "2020-06-01 12:00", "Pre-Summit Day", "사전 행사의 날", None,
     "Public Communications Bureau", [],
     "COVID-19 as seen by international influencers residing in Korea", [], []),
    ("2020-06-02 22:00", "2020-06-02 23:30", "Mayoral Meeting", "시장단 회의", None,
     "Planning and Administration Office", [],
     "Sharing of cases of overcoming COVID-19 by city governments worldwide and future "
     "cooperation", ["Seoul", "Moscow", "Jakarta"],
     [("Park Won-soon", "Mayor of Seoul", "Seoul")]),
    ("2020-06-03 09:00", "2020-06-03 11:10", "Discussion on Climate and Environment",
     "기후·환경 분야 토론", "climate-environment", "Climate & Environment Headquarters",
     ["US", "CA"],
     "Observation of major social transitions after the COVID-19 situation triggered by "
     "climate crisis", [],
     [("Park Won-soon", "Mayor of Seoul", "Seoul"),
      ("Choe Jae-chun", "Chair Professor, Ewha Womans University", ""),
      ("Samuel Bowles", "Author of The Moral Economy", "")]),
    ("2020-06-03 13:00", "2020-06-03 14:30", "Discussion on Quarantine Measures",
     "방역 분야 토론", "quarantine-measures", "Citizens' Health Bureau", ["US", "CN"],
     "Sharing of COVID-19 quarantine measures by the SMG and major global cities",
     ["Los Angeles"], [("Na Baek-ju", "Director-General, SMG Citizens' Health Bureau", "Seoul")]),
    ("2020-06-03 15:30", "2020-06-03 17:00", "Discussion on Education", "교육 분야 토론",
     "education", "Seoul Metropolitan Office of Education", ["NZ", "US"],
     "Cases of distance learning and plans for expansion", [], []),
    ("2020-06-03 18:00", "2020-06-03 19:30", "Discussion on Urban Sharing", "도시 공유 분야 토론",
     "urban-sharing", "Seoul Innovation Bureau", ["IT", "BE", "ES", "NL", "US"],
     "Discussion for direction of urban sharing in the post-COVID-19 era and case studies",
     [], []),
    ("2020-06-03 21:00", "2020-06-03 22:30", "Discussion on Citizen Participation",
     "시민 참여 분야 토론", "citizen-participation", "Seoul Democracy Committee", ["ES", "HK"],
     "Actions against COVID-19 taken by the civil society and local communities", [], []),
    ("2020-06-04 08:00", "2020-06-04 09:30", "Conversation with Jared Diamond",
     "재레드 다이아몬드와의 대담", None, "Seoul Institute", ["US"],
     "Observation of major social transitions after the COVID-19 crisis", ["Los Angeles"],
     [("Jared Diamond", "Author of Guns, Germs, and Steel", "Los Angeles"),
      ("Park Won-soon", "Mayor of Seoul", "Seoul")]),
    ("2020-06-04 16:00", "2020-06-04 17:00", "Discussion on Culture", "문화 분야 토론", "culture",
     "Culture Headquarters", ["GB", "CH"],
     "Direction for growth of culture and arts in the post-COVID-19 era", [], []),
    ("2020-06-04 18:00", "2020-06-04 19:30", "Discussion on Welfare", "복지 분야 토론", "welfare",
     "Welfare Policy Office", [],
     "Support cases for groups vulnerable to disaster measures, and the role of the public "
     "sector for effective support", [], []),
    ("2020-06-04 23:00", "2020-06-05 00:30", "Discussion on Public Transportation",
     "대중교통 분야 토론", "public-transportation", "City Transportation Office",
     ["CN", "GB", "SG"],
     "Meeting on sharing of cases of countermeasures against COVID-19 for sustainable public "
     "transportation", [], []),
    ("2020-06-05 07:45", "2020-06-05 09:00", "Discussion on Smart City", "스마트 시티 분야 토론",
     "smart-city", "Smart City Policy Bureau", ["SG", "IT"],
     "Cases of countermeasures against COVID-19 through use of ICT", [], []),
    ("2020-06-05 10:00", "2020-06-05 11:00", "Global Summit Discussion Forum",
     "글로벌 서밋 종합 토론회", None, "Media Foundation TBS", [],
     "Results and tasks of the CAC Global Summit 2020", [], []),
    ("2020-06-05 13:30", "2020-06-05 16:00", "Innovative Companies IR", "혁신기업 IR", None,
     "Economic Policy Office", [], "“22 Outstanding Companies in 2020s”", [], []),
    ("2020-06-05 17:00", "2020-06-05 18:30", "Discussion on Sports", "체육 분야 토론", "sports",
     "Tourism & Sports Bureau", ["TW", "US", "MY"],
     "Open meeting for preventive measures in sports for safe operation of sports games",
     [], []),
]  # fmt: skip


def _local(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M")


def _city_ids(names: list[str]) -> list[int]:
    return [
        city_id
        for name in names
        if (city_id := db.session.scalar(select(City.id).where(City.name_en == name)))
    ]


def _speakers(rows) -> list[services.SpeakerData]:
    return [
        services.SpeakerData(name, role, (_city_ids([city]) or [None])[0] if city else None)
        for name, role, city in rows
    ]


def seed_events() -> int:
    """Make the summit, its sessions and the webinar where missing; returns how many were made."""
    areas.ensure_defaults()
    officer = db.session.scalar(
        select(User).where(User.role == UserRole.SECRETARIAT).order_by(User.id)
    )
    if officer is None:
        return 0
    made = 0
    summit = db.session.scalar(select(Event).where(Event.uid == SUMMIT_UID))
    if summit is None:
        summit = services.create_event(
            officer,
            services.EventData(
                kind="summit",
                title_en="CAC Global Summit 2020",
                title_ko="CAC 글로벌 서밋 2020",
                description_en=(
                    "Cities Against COVID-19 Global Summit 2020, hosted by the Seoul "
                    "Metropolitan Government: *Cooperation and Solidarity between Municipal "
                    "Governments in Response to COVID-19*. Fifteen sessions, including the "
                    "Mayoral Meeting that adopted the Seoul Statement. Slogan: “Together We "
                    "Stand”."
                ),
                description_ko=(
                    "서울특별시가 주최한 CAC(Cities Against COVID-19) 글로벌 서밋 2020: "
                    "*코로나19 대응을 위한 도시 간 협력과 연대*. 서울 선언문을 채택한 시장단 "
                    "회의를 비롯한 15개 세션. 슬로건: “Together We Stand”."
                ),
                start=_local("2020-06-01 11:00"),
                end=_local("2020-06-05 18:30"),
                timezone=SEOUL,
                organiser="Seoul Metropolitan Government",
                venue=VENUE,
                stream_url=STREAM_EN,
                stream_url_ko=STREAM_KO,
                interpretation=["en", "ko"],
                city_ids=_city_ids(["Seoul"]),
            ),
            uid=SUMMIT_UID,
        )
        made += 1
    area_ids = {a.slug: a.id for a in areas.all_areas()}
    for n, row in enumerate(SESSIONS, start=1):
        start, end, title_en, title_ko, area, organiser, countries, topic, cities, speakers = row
        uid = f"cac-global-summit-2020-session-{n:02d}@cacnet"
        if db.session.scalar(select(Event.id).where(Event.uid == uid)) is not None:
            continue
        services.create_event(
            officer,
            services.EventData(
                kind="session",
                parent_id=summit.id,
                title_en=title_en,
                title_ko=title_ko,
                description_en=topic,
                start=_local(start),
                end=_local(end),
                timezone=SEOUL,
                area_id=area_ids.get(area) if area else None,
                organiser=organiser,
                venue=VENUE,
                stream_url=STREAM_EN,
                stream_url_ko=STREAM_KO,
                interpretation=["en", "ko"],
                countries=countries,
                city_ids=_city_ids(cities),
                speakers=_speakers(speakers),
            ),
            uid=uid,
        )
        made += 1
    if db.session.scalar(select(Event.id).where(Event.uid == WEBINAR_UID)) is None:
        services.create_event(
            officer,
            services.EventData(
                kind="webinar",
                title_en="Early warning between cities: five years of alerts",
                title_ko="도시 간 조기 경보: 경보 5년의 경험",
                description_en=(
                    "Member cities share how they raise and acknowledge alerts, and what the "
                    "secretariat learnt from them."
                ),
                start=_local("2027-03-16 09:00"),
                end=_local("2027-03-16 10:30"),
                timezone="Europe/London",
                area_id=area_ids.get("quarantine-measures"),
                organiser="CAAP Secretariat",
                venue="Online",
                stream_url="https://www.youtube.com/seoulcityofficial",
                interpretation=["en", "ko"],
                city_ids=_city_ids(["London", "Hanoi", "Seoul"]),
            ),
            uid=WEBINAR_UID,
        )
        made += 1
    return made
