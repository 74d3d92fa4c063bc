from sqlalchemy import select

from cacnet.accounts.models import User
from cacnet.areas import services
from cacnet.areas.models import Area
from cacnet.core.audit import AuditEvent
from cacnet.core.db import db
from cacnet.core.errors import PermissionDenied, ServiceError


def test_the_summits_ten_areas_in_order(app_ctx, areas):
    names = [(a.slug, a.name_en, a.name_ko) for a in services.all_areas()]
    assert names == list(services.DEFAULT_AREAS)
    services.ensure_defaults()  # idempotent
    assert db.session.scalar(select(db.func.count(Area.id))) == 10


def test_secretariat_adds_an_area_after_the_ten(app_ctx, areas, secretariat, create_member_city):
    officer = db.session.scalar(select(User).where(User.email == secretariat))
    area = services.add_area(officer, "  Tourism ", "관광")
    assert (area.slug, area.name_en, area.position) == ("tourism", "Tourism", 11)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "area_added"))
    for name_en, name_ko in (("tourism", "다른"), ("Other", "관광"), ("", "관광2"), ("X", " ")):
        try:
            services.add_area(officer, name_en, name_ko)
        except ServiceError:
            pass
        else:
            raise AssertionError(f"{name_en!r}/{name_ko!r} was accepted")
    assert db.session.scalar(select(db.func.count(Area.id))) == 11
    _city, admin_email = create_member_city("Hanoi", "VN")
    delegate = db.session.scalar(select(User).where(User.email == admin_email))
    try:
        services.add_area(delegate, "Housing", "주거")
    except PermissionDenied:
        pass
    else:
        raise AssertionError("a delegate added an area")
