"""A living exchange for the demo (seed-demo): offers and requests across the founding cities,
some met, some partly met, one expired, with responses and messages. Made through the services,
as the cities' administrators (<city>@cities.example); skipped when the exchange has posts."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from cacnet.accounts.models import User
from cacnet.core.db import db
from cacnet.resources import services
from cacnet.resources.models import ResourceCategory, ResourcePost
from cacnet.resources.taxonomy import ensure_taxonomy

# (poster, kind, category, title_en, title_ko, quantity, unit, urgency, days to expiry,
#  [(responder, quantity, message, accepted quantity or None, settle: None | "delivered")])
DEMO_POSTS = [
    ("seoul", "request", "test-kits", "PCR test kits for the second wave", "2차 유행 대비 PCR 진단 키트",
     "10000", "kits", "critical", 20,
     [("london", "6000", "We can ship 6,000 kits from our reserve this week.", "6000", "delivered"),
      ("jakarta", "6000", "6,000 kits are ready in Jakarta.", "4000", None)]),
    ("london", "offer", "epidemiologists", "Field epidemiologists for outbreak investigation", "",
     "4", "people", "high", 45,
     [("hanoi", "2", "Two epidemiologists would help our contact-tracing teams.", "2", None)]),
    ("delhi", "request", "oxygen", "Medical oxygen cylinders", "의료용 산소 실린더",
     "500", "cylinders", "critical", 15,
     [("moscow", "200", "We can send 200 cylinders by air.", "200", None),
      ("budapest", "100", "100 cylinders available.", None, None)]),
    ("jakarta", "offer", "masks", "KF94 masks", "KF94 마스크",
     "200000", "pieces", "normal", 60, []),
    ("toronto", "offer", "training", "Contact-tracing training (online)", "접촉자 추적 교육(온라인)",
     "10", "sessions", "normal", 90,
     [("seoul", "2", "Our new tracers would join two sessions.", None, None)]),
    ("losangeles", "request", "ventilators", "ICU ventilators", "중환자실 인공호흡기",
     "50", "units", "high", 30, []),
    ("hanoi", "request", "gowns", "Protective gowns for field hospitals", "",
     "20000", "pieces", "high", 5, []),  # expired below, to show how it looks
]  # fmt: skip


def _admin(slug: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == f"{slug}@cities.example"))


def seed_exchange() -> int:
    """Create the demo exchange (once); returns how many posts were made."""
    ensure_taxonomy()
    if db.session.scalar(select(func.count(ResourcePost.id))):
        return 0
    today = date.today()
    made = 0
    for (poster, kind, category, title_en, title_ko, quantity, unit, urgency, days,
         responses) in DEMO_POSTS:  # fmt: skip
        actor = _admin(poster)
        if actor is None or not actor.acts_for_active_city:
            continue
        category_id = db.session.scalar(
            select(ResourceCategory.id).where(ResourceCategory.slug == category)
        )
        post = services.create_post(
            actor,
            services.PostData(
                kind=kind, category_id=category_id, title_en=title_en, title_ko=title_ko,
                quantity=quantity, unit=unit, urgency=urgency,
                needed_by=today + timedelta(days=min(days, 14)) if kind == "request" else None,
                expires_on=today + timedelta(days=days),
                description_en="Posted for the demo of the CAAP resource exchange.",
            ),
        )  # fmt: skip
        made += 1
        answered = []
        for responder, amount, message, accepted, settle in responses:
            other = _admin(responder)
            if other is None or not other.acts_for_active_city:
                continue
            answered.append(
                (other, services.respond(other, post, amount, message), accepted, settle)
            )
        db.session.flush()
        for other, response, accepted, settle in answered:
            if accepted:
                services.accept(actor, response, accepted, "Thank you — accepted.")
                services.post_message(
                    other, response, "We will confirm the shipping date tomorrow."
                )
                if settle == "delivered":
                    services.settle(actor, response, True, "Received in good order.")
    db.session.flush()
    # one post expired, as the clock would have done it
    gowns = db.session.scalar(
        select(ResourcePost).where(ResourcePost.title_en == "Protective gowns for field hospitals")
    )
    if gowns is not None:
        gowns.expires_on = today - timedelta(days=2)
        services.expire_posts(today)
    return made
