"""The demo catalogue: fictional companies, vetted through the services, one entry waiting, the
demo mask offer linked; seeding twice changes nothing."""

from sqlalchemy import func, select

from cacnet.catalogue.demo import seed_catalogue
from cacnet.catalogue.models import Company, EntryState, Product
from cacnet.core.db import db
from cacnet.resources.models import ResourcePost


def test_seed_catalogue_once(app, create_member_city, create_user):
    from cacnet.accounts.models import UserRole

    create_member_city("Seoul", "KR")
    create_user("secretariat@caap.example", role=UserRole.SECRETARIAT.value)
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        made = seed_catalogue()
        db.session.commit()
        assert made == 6
        assert seed_catalogue() == 0
        states = dict(db.session.execute(
            select(Product.state, func.count(Product.id)).group_by(Product.state)).all())  # fmt: skip
        assert states == {EntryState.VETTED: 5, EntryState.PENDING: 1}
        names = db.session.scalars(select(Company.name_en)).all()
        assert all(any(w in n for w in ("Example", "Sample", "Demo", "Placeholder")) for n in names)
        assert db.session.scalar(select(func.count(ResourcePost.id))) == 0
