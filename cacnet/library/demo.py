"""Demo cases of the countermeasure library (seed-demo): Seoul's measures of 2020 in English and
Korean (one for members only, one in Korean only) and a few of other founding cities, written
through the real service by each city's delegate or administrator. Nothing is made when the
library already has cases."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from cacnet.accounts.models import User
from cacnet.areas import services as areas
from cacnet.core.db import db
from cacnet.library import services
from cacnet.library.models import LibraryCase

# (author, area, started, ended, visibility, title_en, title_ko, summary_en, summary_ko,
#  body_en, results_en)
CASES = [
    ("seoul.delegate@cities.example", "quarantine-measures", date(2020, 3, 2), None, "public",
     "Drive-through screening centres", "드라이브스루 선별진료소",
     "People are tested without leaving their cars: ten minutes from arrival to departure, "
     "with no contact between the people tested.",
     "차에서 내리지 않고 검사를 받습니다. 도착부터 출발까지 10분, 검사받는 사람끼리 접촉이 "
     "없습니다.",
     "Sites in public car parks, staffed in shifts. **Registration, consultation, sampling and "
     "disinfection** take place through the car window.",
     "- Four times as many tests a day as a walk-in clinic\n- No infection of staff reported"),
    ("seoul.delegate@cities.example", "quarantine-measures", date(2020, 3, 16), None, "public",
     "Walk-in screening booths", "워크스루 선별진료소",
     "Sealed booths with negative pressure: a sample is taken through gloves in the wall, in "
     "about a minute.",
     "음압 부스에서 벽에 붙은 장갑으로 약 1분 만에 검체를 채취합니다.",
     "The booths need no change of protective clothing between people and are disinfected in "
     "minutes.",
     "- Over 1,000 tests a day at the first hospital site"),
    ("seoul.delegate@cities.example", "quarantine-measures", date(2020, 2, 20), None, "members",
     "Contact tracing with a rapid response team", "역학조사 신속대응반",
     "Epidemiological investigators, card and phone data within the law, and public notices "
     "of the places visited by confirmed cases.",
     "법에 따른 카드·휴대전화 자료와 확진자 동선 공개로 역학조사를 신속하게 진행합니다.",
     "How the team is organised, the data requested and how privacy is protected. "
     "For member cities only: the operating manual is attached on request.",
     "Contacts of a case identified within 24 hours in most clusters."),
    ("seoul.delegate@cities.example", "welfare", date(2020, 3, 30), date(2020, 12, 31), "public",
     "Support for small businesses", "소상공인 지원",
     "Emergency grants and zero-interest loans for shops and self-employed people who lost "
     "income.",
     "매출이 줄어든 소상공인과 자영업자에게 긴급 지원금과 무이자 융자를 제공합니다.",
     "Applications online in one form; payment within two weeks.",
     "- About 410,000 businesses supported"),
    ("seoul.delegate@cities.example", "education", date(2020, 4, 9), date(2020, 12, 18), "public",
     "Distance learning for every pupil", "모든 학생을 위한 원격 수업",
     "Tablets lent to pupils without a device, free mobile data and training for teachers.",
     "기기가 없는 학생에게 태블릿을 빌려주고 무료 데이터와 교사 연수를 제공합니다.",
     "", ""),
    ("seoul.delegate@cities.example", "public-transportation", date(2020, 5, 13), None, "public",
     "Safe public transport", "안전한 대중교통",
     "Masks required on the metro and buses, disinfection of every carriage and fewer "
     "passengers at peak times.",
     "지하철과 버스에서 마스크 착용을 의무화하고 모든 차량을 소독하며 혼잡 시간대 승객을 "
     "분산합니다.",
     "Crowding is shown in real time in the transport app.",
     "No cluster traced to the metro in 2020."),
    ("seoul.delegate@cities.example", "culture", date(2020, 4, 1), None, "public",
     "Untact culture events", "언택트 문화 행사",
     "Concerts, exhibitions and festivals online and in drive-in formats.",
     "공연, 전시, 축제를 온라인과 드라이브인 방식으로 엽니다.",
     "", ""),
    ("london@cities.example", "public-transportation", date(2020, 6, 15), None, "public",
     "Face coverings on public transport", "",
     "Face coverings required on buses, trains and the Underground; hand sanitiser at stations.",
     "", "", ""),
    ("hanoi@cities.example", "welfare", date(2020, 4, 11), date(2020, 5, 31), "public",
     "Rice ATMs", "쌀 ATM",
     "Machines that hand out free rice to people who lost their income during the lockdown.",
     "봉쇄 기간에 소득을 잃은 사람에게 무료로 쌀을 나눠 주는 기계입니다.",
     "", ""),
    ("toronto@cities.example", "urban-sharing", date(2020, 7, 2), None, "public",
     "Outdoor dining on the streets", "",
     "Curb lanes and parking spaces turned into patios for restaurants.", "", "", ""),
]  # fmt: skip

KOREAN_ONLY = ("seoul.delegate@cities.example", "urban-sharing", date(2020, 9, 16),
               "서울시 공공배달앱 제로배달 유니온",
               "소상공인의 배달 수수료 부담을 줄이기 위한 공공 배달 앱입니다.",
               "가맹점 수수료 **2% 이하**, 서울사랑상품권으로 결제할 수 있습니다.")  # fmt: skip


def _author(email: str) -> User | None:
    found = db.session.scalar(select(User).where(User.email == email))
    return found if found is not None and services.can_write(found) else None


def seed_library() -> int:
    """Make the demo cases (idempotent: nothing when any case exists); how many were made."""
    areas.ensure_defaults()
    if db.session.scalar(select(func.count(LibraryCase.id))):
        return 0
    area_ids = {a.slug: a.id for a in areas.all_areas()}
    made = 0
    for (email, area, started, ended, visibility, title_en, title_ko, summary_en, summary_ko,
         body_en, results_en) in CASES:  # fmt: skip
        author = _author(email)
        if author is None:
            continue
        services.create_case(
            author,
            services.CaseData(
                area_id=area_ids[area], started_on=started, ended_on=ended,
                visibility=visibility, title_en=title_en, title_ko=title_ko,
                summary_en=summary_en, summary_ko=summary_ko, body_en=body_en,
                results_en=results_en,
            ),
            publish=True,
        )  # fmt: skip
        made += 1
    email, area, started, title_ko, summary_ko, body_ko = KOREAN_ONLY
    author = _author(email)
    if author is not None:
        services.create_case(
            author,
            services.CaseData(area_id=area_ids[area], started_on=started, title_ko=title_ko,
                              summary_ko=summary_ko, body_ko=body_ko),
            publish=True,
        )  # fmt: skip
        made += 1
    return made
