"""``flask --app cacnet`` commands for operators: create-user, seed-demo (db upgrade is Flask-Migrate's)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import select

from cacnet.core.db import db
from cacnet.core.errors import ServiceError

ROLE_CHOICES = ("delegate", "city-admin", "signatory", "secretariat", "admin")


def init_app(app: Flask) -> None:
    app.cli.add_command(create_user_command)
    app.cli.add_command(reset_two_factor_command)
    app.cli.add_command(seed_demo_command)
    from cacnet.core.jobs import worker_command
    from cacnet.statement.seal import seal_cli

    app.cli.add_command(seal_cli)
    app.cli.add_command(worker_command)
    from cacnet.resources.views import resources_cli

    app.cli.add_command(resources_cli)
    from cacnet.core.deliveries import deliveries_cli

    app.cli.add_command(deliveries_cli)
    from cacnet.links.checker import links_cli

    app.cli.add_command(links_cli)
    from cacnet.news.digest import news_cli

    app.cli.add_command(news_cli)


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLE_CHOICES), required=True)
@click.option(
    "--city", "city_slug", help="Slug of the member city (delegates, city admins, signatories)."
)
@click.option(
    "--name", default=None, help="Display name (defaults to the part of the e-mail before @)."
)
@click.option("--password", default=None, help="Prompted for when not given.")
@with_appcontext
def create_user_command(email, role, city_slug, name, password):
    """Create an account, e.g. the first secretariat officer."""
    from cacnet.accounts import services
    from cacnet.accounts.models import UserRole
    from cacnet.cities.models import City

    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    city = None
    if city_slug:
        city = db.session.scalar(select(City).where(City.slug == city_slug))
        if city is None:
            raise click.UsageError(f"no city with the slug {city_slug!r}")
    user_role = {
        "delegate": UserRole.DELEGATE,
        "signatory": UserRole.DELEGATE,
        "city-admin": UserRole.CITY_ADMIN,
        "secretariat": UserRole.SECRETARIAT,
        "admin": UserRole.ADMIN,
    }[role]
    try:
        user = services.create_user(
            email, name=name or email.split("@")[0], role=user_role, password=password, city=city
        )
        if role == "signatory":
            services.grant_signing_authority(None, user, "granted by the operator (create-user)")
        db.session.commit()
    except ServiceError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message))
    click.echo(f"created {user.email} ({role})")


@click.command("reset-two-factor")
@click.argument("email")
@click.option("--reason", required=True, help="Why (kept in the audit log).")
@with_appcontext
def reset_two_factor_command(email, reason):
    """Clear an account's second factor (lost phone and recovery codes); they enrol again."""
    from flask import current_app

    from cacnet.accounts import services, two_factor

    app = current_app._get_current_object()
    with app.test_request_context(base_url=app.config["BASE_URL"]):  # links in the notice mail
        user = services.get_user_by_email(email)
        if user is None:
            raise click.UsageError(f"no account with the e-mail address {email!r}")
        try:
            two_factor.reset(None, user, reason)
            db.session.commit()
        except ServiceError as error:
            db.session.rollback()
            raise click.ClickException(str(error.message))
    click.echo(f"two-step sign-in reset for {user.email}; they set it up again at next sign-in")


@click.command("seed-demo")
@with_appcontext
def seed_demo_command():
    """Load demo cities, an application and accounts. Running it again changes nothing."""
    from cacnet.core.demo import seed_demo

    for line in seed_demo():
        click.echo(line)
