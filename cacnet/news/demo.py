"""News for the demo (seed-demo), from the seeds: the CAC platform passing 2 million views, Seoul
hosting the CAC Global Summit 2020, and Seoul proposing the alliance (5 June 2020), with their
original dates; a note from the chair, a members-only announcement, and Jakarta's story awaiting
the secretariat's moderation. Made through the services; skipped when there is news already."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from cacnet.accounts.models import User
from cacnet.cities.models import City, make_slug
from cacnet.core.db import db
from cacnet.news import services
from cacnet.news.models import NewsItem

# The seeds give the date of the third release (5 June 2020). The first gives its figure "as of
# May 5, 2020" and the second announces the summit of 1-5 June without a date of its own: we use
# the day of the figure and the Friday before the summit.
SEED_ITEMS = (
    {
        "published_at": datetime(2020, 5, 5, 0, 0, tzinfo=UTC),
        "title_en": "CAC platform sharing Seoul's COVID-19 response passes 2 million views",
        "title_ko": "서울시 코로나19 대응 공유 플랫폼 CAC, 조회수 200만 회 돌파",
        "summary_en": "CAC (Cities Against COVID-19), the online platform Seoul opened on 9 April "
        "2020 to share its measures with cities around the world, reached 2,349,782 views by "
        "5 May 2020, within its first month.",
        "summary_ko": "서울시가 세계 도시와 코로나19 대응 정책을 공유하기 위해 2020년 4월 9일 개설한 "
        "온라인 플랫폼 CAC(Cities Against COVID-19)의 조회수가 개설 한 달 만인 2020년 5월 5일 "
        "기준 2,349,782회를 기록했습니다.",
        "body_en": "Seoul launched the CAC website at the request of international organisations "
        "and cities that wished to learn from its response to COVID-19. It recorded up to "
        "230,000 views a day.\n\n"
        "The platform has five parts: the **Mayor's Note**, **Daily Updates**, "
        "**Countermeasures**, the **Cities Network** and **News**. It covers drive-through and "
        "walk-in screening centres and support for small businesses, links to the COVID-19 "
        "pages of 74 cities and 12 international organisations, and presents specimen "
        "collection kits and diagnostic reagents from 45 companies certified and permitted "
        "to export.",
        "body_ko": "서울시는 코로나19 대응을 배우고자 하는 국제기구와 해외 도시의 요청에 따라 CAC "
        "웹사이트를 개설했습니다. 하루 최대 23만 회의 조회수를 기록했습니다.\n\n"
        "플랫폼은 **시장 메시지**, **일일 현황**, **대응 정책**, **도시 네트워크**, **소식** "
        "다섯 부분으로 구성됩니다. 드라이브스루·워크스루 선별진료소 운영과 소상공인 지원 대책을 "
        "소개하고, 74개 도시와 12개 국제기구의 코로나19 관련 웹사이트를 연결하며, 품질 인증과 "
        "수출 허가를 받은 45개 기업의 검체 채취 키트와 진단 시약을 소개합니다.",
        "category": "news",
        "city": "Seoul",
    },
    {
        "published_at": datetime(2020, 5, 29, 0, 0, tzinfo=UTC),
        "title_en": "Seoul hosts the CAC Global Summit 2020 online, 1–5 June",
        "title_ko": "서울시, 6월 1~5일 온라인 국제회의 ‘CAC 글로벌 서밋 2020’ 개최",
        "summary_en": "About 120 mayors, scholars and experts from around the world meet by "
        "video for five days to discuss overcoming the COVID-19 crisis and preparing for the "
        "post-coronavirus era, in fifteen sessions under the slogan “Together We Stand”.",
        "summary_ko": "전 세계 시장과 학자, 전문가 등 약 120명이 5일 동안 화상으로 모여 코로나19 "
        "위기 극복과 포스트 코로나 시대 대비를 논의합니다. 15개 세션으로 진행되며 슬로건은 "
        "“Together We Stand”입니다.",
        "body_en": "The conference covers ten areas of the post-coronavirus era, among them "
        "prevention measures, climate and environment, culture, public transportation and the "
        "smart city. On Tuesday 2 June, the Mayoral Meeting joins mayors from about 40 cities, "
        "including Moscow and Jakarta, and will propose an international organisation of "
        "cities against infectious diseases.\n\n"
        "Every session is streamed live in Korean and English on the Seoul Metropolitan "
        "Government's YouTube channels.",
        "body_ko": "회의는 방역, 기후·환경, 문화, 대중교통, 스마트 시티 등 포스트 코로나 시대의 "
        "10개 분야를 다룹니다. 6월 2일(화) 시장단 회의에는 모스크바와 자카르타 등 약 40개 도시의 "
        "시장이 참여하며, 감염병 대응 국제 도시 기구 창설을 제안합니다.\n\n"
        "모든 세션은 서울시 유튜브 채널에서 한국어와 영어로 생중계됩니다.",
        "category": "announcement",
        "city": "Seoul",
    },
    {
        "published_at": datetime(2020, 6, 5, 0, 0, tzinfo=UTC),
        "title_en": "Seoul proposes an international organisation of cities against pandemics",
        "title_ko": "서울시, 감염병 대응 국제 도시 협력기구 창설 제안",
        "summary_en": "At the Mayoral Meeting of the CAC Global Summit 2020 on 2 June, Seoul's "
        "Mayor proposed an intercity network, tentatively named the Cities Alliance Against "
        "Pandemic (CAAP); mayors and governors from 42 cities agreed to establish it and jointly "
        "declared the Seoul Statement.",
        "summary_ko": "6월 2일 CAC 글로벌 서밋 2020 시장단 회의에서 서울시장이 도시 간 네트워크인 "
        "‘감염병 대응 도시연대(CAAP)’(가칭) 창설을 제안했으며, 42개 도시의 시장과 주지사가 창설에 "
        "뜻을 모으고 서울 선언문을 공동으로 발표했습니다.",
        "body_en": "CAAP will be the first international organisation of world cities dealing "
        "with infectious diseases. In the Seoul Statement, cities commit to early recognition of "
        "infectious diseases and preemptive cooperation, sharing information, swiftly supplying "
        "human and material resources in a crisis, exchanging professionals, and supporting the "
        "free movement of people and goods.\n\n"
        "London, Maryland, Jakarta and Moscow presented their responses; mayors from 14 more "
        "cities, including Toronto, Delhi, Budapest and Hanoi, shared their efforts.",
        "body_ko": "CAAP는 감염병을 다루는 세계 최초의 국제 도시 기구가 될 것입니다. 서울 선언문에서 "
        "도시들은 감염병 조기 인지와 선제 대응 협력, 정보 공유, 위기 시 인적·물적 자원의 신속한 "
        "지원, 전문 인력 교류, 사람과 물자의 자유로운 이동 지원을 약속했습니다.\n\n"
        "런던, 메릴랜드, 자카르타, 모스크바가 대응 전략을 발표했고, 토론토, 델리, 부다페스트, "
        "하노이 등 14개 도시의 시장이 각 도시의 노력을 공유했습니다.",
        "category": "news",
        "city": "Seoul",
    },
)

CHAIR_NOTE = {
    "title_en": "A note from the chair: together we stand",
    "title_ko": "의장 메시지: 함께하면 이겨낼 수 있습니다",
    "body_en": "The alliance was proposed at the CAC Global Summit 2020 so that cities learn "
    "early of what threatens them, share what works, and help each other with people and "
    "supplies when a crisis comes.\n\n"
    "This site is where member cities do that: raise alerts, exchange resources, and tell each "
    "other their stories here.\n\n"
    "*The chair's office, CAAP Secretariat*",
    "body_ko": "감염병 대응 도시연대는 도시들이 위협을 일찍 알리고, 효과적인 대응을 공유하며, "
    "위기가 닥쳤을 때 인력과 물자로 서로 돕기 위해 CAC 글로벌 서밋 2020에서 제안되었습니다.\n\n"
    "회원 도시는 이 사이트에서 경보를 발령하고, 자원을 교류하며, 서로의 소식을 전합니다.\n\n"
    "*의장실, CAAP 사무국*",
    "category": "chair_note",
}

MEMBERS_NOTICE = {
    "title_en": "Focal points: please check your city's contacts",
    "title_ko": "담당자 여러분: 도시 연락처를 확인하여 주십시오",
    "summary_en": "Alerts reach the focal points each city lists. Please check that your "
    "city's primary focal point is current.",
    "summary_ko": "경보는 각 도시가 등록한 담당자에게 전달됩니다. 도시의 주 담당자 정보가 최신인지 "
    "확인하여 주십시오.",
    "category": "announcement",
    "visibility": "members",
}

JAKARTA_STORY = {
    "title_en": "Jakarta: the crisis as an opportunity for digital innovation and the green "
    "economy",
    "summary_en": "At the Mayoral Meeting on 2 June 2020, Jakarta's Governor Anies Baswedan said "
    "that 80 percent of the confirmed cases had come from Jakarta, and that the city would take "
    "the crisis as an opportunity for a future shift to digital innovation and the green "
    "economy.",
    "category": "news",
}


def _user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


def seed_news() -> int:
    """Create the demo news (once); returns how many items were made."""
    if db.session.scalar(select(func.count(NewsItem.id))):
        return 0
    officer, jakarta = _user("secretariat@caap.example"), _user("jakarta@cities.example")
    seoul = db.session.scalar(select(City).where(City.slug == make_slug("Seoul", "KR")))
    if officer is None or seoul is None:
        return 0
    made = 0
    for row in SEED_ITEMS:
        values = {k: v for k, v in row.items() if k not in ("published_at", "city")}
        item = services.save_item(officer, services.NewsData(**values, city_id=seoul.id),
                                  None, "publish")  # fmt: skip
        item.published_at = row["published_at"]
        made += 1
    services.save_item(officer, services.NewsData(**CHAIR_NOTE), None, "publish")
    services.save_item(officer, services.NewsData(**MEMBERS_NOTICE), None, "publish")
    made += 2
    if jakarta is not None and jakarta.acts_for_active_city:
        services.save_item(jakarta, services.NewsData(**JAKARTA_STORY), None, "submit")
        made += 1
    db.session.flush()
    return made
