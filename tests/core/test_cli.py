"""The operator's commands: create-user and seed-demo."""

from sqlalchemy import func, select

from cacnet.accounts.models import User, UserRole
from cacnet.cities.models import City
from cacnet.core.db import db
from cacnet.membership.models import Membership, MembershipState
from tests.conftest import login
from tests.statement.test_versions import version_1  # noqa: F401 - fixture


def test_create_user_for_every_role(app, create_member_city):
    create_member_city("Seoul", "KR")
    runner = app.test_cli_runner()
    cases = [
        ("boss@caap.example", ["--role", "secretariat"], UserRole.SECRETARIAT),
        ("op@caap.example", ["--role", "admin"], UserRole.ADMIN),
        ("d@seoul.example", ["--role", "delegate", "--city", "seoul-kr"], UserRole.DELEGATE),
        ("a@seoul.example", ["--role", "city-admin", "--city", "seoul-kr"], UserRole.CITY_ADMIN),
        ("m@seoul.example", ["--role", "signatory", "--city", "seoul-kr"], UserRole.DELEGATE),
    ]
    for email, args, _role in cases:
        result = runner.invoke(
            args=["create-user", email, *args, "--password", "Lotus-lantern-festival-77"]
        )
        assert result.exit_code == 0, result.output
    with app.app_context():
        for email, _, role in cases:
            user = db.session.scalar(select(User).where(User.email == email))
            assert user.role == role
        assert db.session.scalar(select(User).where(User.email == "m@seoul.example")).is_signatory
    assert (
        login(app.test_client(), "boss@caap.example", "Lotus-lantern-festival-77").status_code
        == 302
    )


def test_create_user_prompts_for_the_password(app):
    result = app.test_cli_runner().invoke(
        args=["create-user", "p@caap.example", "--role", "secretariat"],
        input="Lotus-lantern-festival-77\nLotus-lantern-festival-77\n",
    )
    assert result.exit_code == 0, result.output


def test_create_user_refuses_bad_input(app):
    runner = app.test_cli_runner()
    for args, message in [
        (
            [
                "create-user",
                "d@x.example",
                "--role",
                "delegate",
                "--password",
                "Lotus-lantern-festival-77",
            ],
            "needs a city",
        ),
        (
            [
                "create-user",
                "d@x.example",
                "--role",
                "delegate",
                "--city",
                "nowhere",
                "--password",
                "x",
            ],
            "no city",
        ),
        (
            ["create-user", "s@x.example", "--role", "secretariat", "--password", "password1234"],
            "common",
        ),
        (["create-user", "s@x.example", "--role", "king", "--password", "x"], "Invalid value"),
    ]:
        result = runner.invoke(args=args)
        assert result.exit_code != 0 and message in result.output, result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_seed_demo_is_idempotent_and_every_demo_login_works(app, version_1):  # noqa: F811
    from cacnet.core.demo import DEMO_PASSWORD

    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "secretariat@caap.example" in first.output
    with app.app_context():
        counts = (
            db.session.scalar(select(func.count()).select_from(User)),
            db.session.scalar(select(func.count()).select_from(City)),
            db.session.scalar(select(func.count()).select_from(Membership)),
        )
        slugs = set(db.session.scalars(select(City.slug)))
        assert {
            "seoul-kr",
            "london-gb",
            "jakarta-id",
            "moscow-ru",
            "toronto-ca",
            "delhi-in",
            "budapest-hu",
            "hanoi-vn",
        } <= slugs
        pending = db.session.scalars(
            select(Membership).where(Membership.state == MembershipState.SUBMITTED)
        ).all()
        assert [m.city_name_en for m in pending] == ["Ulaanbaatar"]
    with app.app_context():
        from cacnet.statement.models import Endorsement

        states = sorted(db.session.scalars(select(Endorsement.state)))
        assert states.count("verified") == 6 and states.count("submitted") == 1
        assert states.count("withdrawn") == 1
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    with app.app_context():
        assert counts == (
            db.session.scalar(select(func.count()).select_from(User)),
            db.session.scalar(select(func.count()).select_from(City)),
            db.session.scalar(select(func.count()).select_from(Membership)),
        )
        assert len(db.session.scalars(select(Endorsement.id)).all()) == 8
    for email in (
        "secretariat@caap.example",
        "admin@caap.example",
        "seoul@cities.example",
        "seoul.delegate@cities.example",
        "seoul.mayor@cities.example",
    ):
        client = app.test_client()
        assert login(client, email, DEMO_PASSWORD).status_code == 302, email
