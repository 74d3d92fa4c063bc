"""The first version of the Seoul Statement, as the app ships it.

The full official wording is not in the sources: these are the five commitments as reported on
5 June 2020, in English and Korean. The secretariat publishes the official text as a new version.
"""

TITLE_EN = "Seoul Statement of the Cities Alliance Against Pandemic"
TITLE_KO = "감염병 대응 도시연대 서울 선언문"

BODY_EN = """We, the mayors of the cities gathered at the CAC (Cities Against COVID-19) Global Summit
hosted by Seoul, found the Cities Alliance Against Pandemic and commit our cities to:

1. Form an early recognition system against infectious diseases and cooperate on pre-emptive
   responses.
2. Share information and make joint efforts to contain the diseases.
3. Swiftly supply human and material resources in an infectious-disease crisis.
4. Exchange human resources between cities to foster infectious-disease response professionals.
5. Support the free movement of people and goods between cities, and economic activity, to
   overcome social and economic difficulties.

Together We Stand."""

BODY_KO = """서울시가 주최한 CAC(Cities Against COVID-19) 글로벌 서밋에 모인 우리 도시의 시장들은
감염병 대응 도시연대를 창설하고, 우리 도시가 다음을 실천할 것을 약속한다.

1. 감염병 조기 인지 체계를 구축하고 선제적 대응에 협력한다.
2. 정보를 공유하고 감염병 확산 억제를 위해 공동으로 노력한다.
3. 감염병 위기 시 인적·물적 자원을 신속히 지원한다.
4. 도시 간 인력 교류를 통해 감염병 대응 전문 인력을 양성한다.
5. 사회·경제적 어려움을 극복하기 위해 도시 간 사람과 물자의 자유로운 이동과 경제 활동을
   지원한다.

함께하면 이겨냅니다."""

NOTE = (
    "Seeded with the five commitments as reported on 5 June 2020; the secretariat publishes the "
    "official wording as a new version."
)
PUBLISHED = "2020-06-05T00:00:00+00:00"
