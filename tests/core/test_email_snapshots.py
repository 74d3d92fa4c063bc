"""Every e-mail text, in both languages, compared with its reviewed snapshot in tests/snapshots/.

A change to a message shows up here as a diff to read. After an intended change, run
``CACNET_UPDATE_SNAPSHOTS=1 pytest tests/core/test_email_snapshots.py`` and review the new files.
"""

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from cacnet.core.mail import render_mail

SNAPSHOTS = Path(__file__).resolve().parents[1] / "snapshots" / "emails"
TEMPLATES = sorted(
    p.relative_to(Path(__file__).resolve().parents[2] / "templates").as_posix()
    for p in (Path(__file__).resolve().parents[2] / "templates").glob("*/emails/*.txt")
)

city = SimpleNamespace(name_en="Budapest", name_local="Budapest Főváros", country_code="HU")
user = SimpleNamespace(name="Anna Kovács", email="anna@budapest.example", city=city)
membership = SimpleNamespace(
    city_name_en="Budapest",
    country_code="HU",
    reason="The letter of intent is not signed.",
    applicant=user,
)
endorsement = SimpleNamespace(
    city=city, version=SimpleNamespace(number=2), signatory_name="Gergely Karácsony",
    signatory_title="Mayor of Budapest", reason="The signature does not match the letter.",
)  # fmt: skip
from datetime import date  # noqa: E402
from decimal import Decimal  # noqa: E402

seoul = SimpleNamespace(name_en="Seoul", name_local="서울특별시", country_code="KR")
post = SimpleNamespace(
    title="PCR test kits for the second wave", kind=SimpleNamespace(value="request"),
    city=seoul, quantity=Decimal("10000"), unit="kits", needed_by=date(2026, 12, 1),
    urgency=SimpleNamespace(value="critical"), expires_on=date(2026, 12, 11),
)  # fmt: skip
response = SimpleNamespace(city=city, quantity=Decimal("6000"), accepted_quantity=Decimal("4000"))
from cacnet.alerts.models import Severity, SignalType  # noqa: E402

hanoi = SimpleNamespace(name_en="Hanoi", name_local="Hà Nội", country_code="VN")
alert = SimpleNamespace(
    what="Severe acute respiratory infection (SARI)", city=hanoi, district="Dong Da",
    signal_type=SignalType.CLUSTER, severity=Severity.WARNING, first_observed_on=date(2026, 11, 17),
    cases=23, deaths=1, actions="Case finding in the district's schools and markets.",
    source_links=["https://example.org/hanoi/report-1"], contact=None,
    contact_text="Department of Health, Hanoi: +84 24 3998 5765",
)  # fmt: skip
alert_update = SimpleNamespace(
    body="Sequencing points to influenza A(H3N2); no new deaths.", cases=31, deaths=None,
    severity_from=Severity.WARNING, severity_to=Severity.EMERGENCY,
)  # fmt: skip
from datetime import UTC, datetime  # noqa: E402

broken_link = SimpleNamespace(
    title="서울시 코로나19 발생동향", url="https://www.seoul.go.kr/coronaV/coronaStatus.do",
    broken_since=datetime(2026, 11, 20, 3, 0, tzinfo=UTC),
)  # fmt: skip
news_item = SimpleNamespace(
    title_en="London opens walk-in testing in every borough", title_ko="", city=SimpleNamespace(
        name_en="London", name_local="London", country_code="GB"),
)  # fmt: skip
digest_items = [
    {"title": "Seoul proposes the Cities Alliance Against Pandemic", "lang": "en",
     "summary": "At the Mayoral Meeting of the CAC Global Summit 2020,\n42 cities agreed.",
     "category": "news", "published_at": datetime(2020, 6, 5, 9, 0, tzinfo=UTC), "city": "Seoul",
     "members_only": False, "link": "http://localhost/news/3"},
    {"title": "Dues for 2021", "lang": "en", "summary": "", "category": "announcement",
     "published_at": datetime(2020, 6, 8, 9, 0, tzinfo=UTC), "city": "", "members_only": True,
     "link": "http://localhost/news/4"},
]  # fmt: skip
CONTEXT = {
    "news_item": news_item,
    "digest_items": digest_items,
    "news_link": "http://localhost/news/",
    "unsubscribe_link": "http://localhost/news/digest/unsubscribe/TOKEN",
    "alert": alert,
    "update": alert_update,
    "change": "recovery_code_used",
    "left": 3,
    "post": post,
    "response": response,
    "responder": city,
    "sender": user,
    "message": "We can ship 6,000 kits from our reserve this week.",
    "delivered": True,
    "reason": "This duplicates another post of your city.",
    "items": [{"post": post, "category": "Test kits", "link": "http://localhost/resources/1"}],
    "count": 1,
    "more": 0,
    "board_link": "http://localhost/resources/",
    "subscriptions_link": "http://localhost/resources/subscriptions",
    "endorsement": endorsement,
    "recipient": user,
    "version": SimpleNamespace(number=2),
    "diff_link": "http://localhost/statement/v/2/diff",
    "user": user,
    "applicant": user,
    "inviter": user,
    "city": city,
    "membership": membership,
    "invitation": SimpleNamespace(email="bela@budapest.example"),
    "city_name": "Budapest",
    "link": "http://localhost/link/TOKEN",
    "login_link": "http://localhost/auth/login",
    "apply_link": "http://localhost/apply",
    "hours": 72,
    "days": 14,
    "owner_name": "Seoul",
    "links": [broken_link],
    "manage_link": "http://localhost/cities/seoul-kr/links",
    "entry": SimpleNamespace(name_en="Example RT-PCR reagent kit", name_ko="예시 RT-PCR 시약"),
}


@pytest.mark.parametrize("locale", ["en", "ko"])
@pytest.mark.parametrize("template", TEMPLATES)
def test_email_text_matches_its_snapshot(app_ctx, template, locale):
    subject, body = render_mail(template, locale, **CONTEXT)
    assert subject and body.strip()
    assert "{{" not in body and "{%" not in body
    text = f"Subject: {subject}\n\n{body}"
    path = SNAPSHOTS / locale / template.replace("/emails/", "__")
    if os.environ.get("CACNET_UPDATE_SNAPSHOTS"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no snapshot for {template} ({locale}); see this module's docstring"
    assert text == path.read_text(encoding="utf-8")
