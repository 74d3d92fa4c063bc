"""The membership state machine. Every transition is one function here: it checks the actor and
the current state, changes the state, writes the audit record and queues the e-mails, which are
sent only after the caller's commit. Views and (later) the API call these and nothing else."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError

from cacnet.accounts import services as accounts
from cacnet.accounts.models import TokenPurpose, User, UserRole
from cacnet.cities.models import City, make_slug
from cacnet.core import audit, uploads
from cacnet.core.db import db, utcnow
from cacnet.core.errors import PermissionDenied, ServiceError, StateConflict
from cacnet.core.i18n import is_country_code
from cacnet.core.mail import queue_mail
from cacnet.core.permissions import require_secretariat
from cacnet.membership.models import (
    CURRENT_MEMBER_STATES,
    OPEN_STATES,
    TRANSITIONS,
    Membership,
    MembershipState,
    city_name_key,
)


@dataclass
class ApplicationData:
    city_name_en: str
    city_name_local: str
    country_code: str
    region: str
    population: int | None
    website: str
    letter: bytes | None = None
    letter_filename: str | None = None


@dataclass
class ApplicantData:
    name: str
    title: str
    email: str
    password: str


def _open_application_exists(name_en: str, country_code: str) -> bool:
    return (
        db.session.scalar(
            select(Membership.id).where(
                Membership.city_name_key == city_name_key(name_en),
                Membership.country_code == country_code,
                Membership.state.in_(OPEN_STATES),
            )
        )
        is not None
    )


def _validate(data: ApplicationData) -> None:
    if not is_country_code(data.country_code):
        raise ServiceError(_l("Choose a country from the list."), field="country_code")
    if data.population is not None and not 0 <= data.population <= 100_000_000:
        raise ServiceError(_l("Enter a population between 0 and 100 million."), field="population")
    if data.letter is not None:
        if len(data.letter) > current_app.config["MAX_LETTER_BYTES"]:
            raise ServiceError(_l("The letter of intent may be at most 10 MB."), field="letter")
        if not uploads.looks_like_pdf(data.letter):
            raise ServiceError(_l("The letter of intent must be a PDF document."), field="letter")
    if _open_application_exists(data.city_name_en, data.country_code):
        raise ServiceError(
            _l("This city has already applied or is already a member."), field="city_name_en"
        )


def may_apply(user: User) -> bool:
    """Anyone without a city may apply; a delegate of a withdrawn city may apply to return."""
    if user.is_staff:
        return False
    return user.city is None or user.city.active_membership is None


def secretariat_addresses() -> list[tuple[str, str]]:
    staff = db.session.scalars(
        select(User).where(
            User.role.in_([UserRole.SECRETARIAT, UserRole.ADMIN]), User.disabled_at.is_(None)
        )
    ).all()
    addresses = [(u.email, u.locale) for u in staff]
    extra = current_app.config.get("SECRETARIAT_NOTIFY_EMAIL")
    if extra and extra.lower() not in {a for a, _ in addresses}:
        addresses.append((extra, "en"))
    return addresses


def _change_state(
    membership: Membership, transition_name: str, actor: User | None, reason: str = ""
) -> MembershipState:
    transition = TRANSITIONS[transition_name]
    if membership.state != transition.source:
        raise StateConflict(
            _l(
                "This application is %(state)s, so it cannot be changed this way.",
                state=state_label(membership.state),
            )
        )
    reason = (reason or "").strip()
    if transition.reason_required and not reason:
        raise ServiceError(_l("Give a reason."), field="reason")
    previous = membership.state
    membership.state = transition.target
    membership.reason = reason
    if actor is not None and actor.is_staff:
        membership.decided_at = utcnow()
        membership.decided_by_id = actor.id
    audit.record(
        f"membership_{transition.name}",
        membership,
        actor=actor,
        from_state=previous,
        to_state=transition.target,
        reason=reason,
        details={"city": membership.city_name_en, "country": membership.country_code},
    )
    return previous


def _mail_applicant(membership: Membership, template: str, **context) -> None:
    applicant = membership.applicant
    queue_mail(
        applicant.email,
        f"membership/emails/{template}.txt",
        applicant.locale,
        membership=membership,
        applicant=applicant,
        **context,
    )


def _store_letter(membership: Membership, data: ApplicationData) -> None:
    if data.letter is not None:
        membership.letter_sha256 = uploads.store(data.letter, "letters", "pdf")
        membership.letter_filename = (data.letter_filename or "letter.pdf")[:255]
        membership.letter_size = len(data.letter)


def submit_application(
    data: ApplicationData, applicant: ApplicantData | User, locale: str
) -> Membership | None:
    """Record an application and start the e-mail check.

    ``applicant`` is new account data (anonymous visitor) or the signed-in user. A signed-in user
    whose address is verified skips the check. A visitor giving an address that already has an
    account gets no new account and no application: that address is told instead, so the form
    reveals nothing about who has an account (returns None).
    """
    _validate(data)
    if isinstance(applicant, User):
        user = applicant
        if not may_apply(user):
            raise PermissionDenied(_l("Your account already belongs to a city or the secretariat."))
        if (
            user.city is not None
            and make_slug(data.city_name_en, data.country_code) != user.city.slug
        ):
            # A delegate of a withdrawn city may apply again, for that city only.
            raise ServiceError(
                _l("You can apply again only for your own city, %(city)s.", city=user.city.name_en),
                field="city_name_en",
            )
    else:
        email = accounts.normalise_email(applicant.email)
        existing = accounts.get_user_by_email(email)
        if existing is not None:
            queue_mail(
                existing.email,
                "membership/emails/apply_existing_account.txt",
                existing.locale,
                user=existing,
                city_name=data.city_name_en,
                login_link=url_for("accounts.login", _external=True),
            )
            audit.record("application_with_existing_email", existing, object_type="user")
            return None
        user = accounts.register_applicant(
            email,
            name=applicant.name,
            title=applicant.title,
            password=applicant.password,
            locale=locale,
            extra_names=(data.city_name_en, data.city_name_local),
        )

    membership = Membership(
        city_name_en=data.city_name_en.strip(),
        city_name_local=data.city_name_local.strip(),
        city_name_key=city_name_key(data.city_name_en),
        country_code=data.country_code,
        region=data.region.strip(),
        population=data.population,
        website=data.website.strip(),
        applicant=user,
        state=MembershipState.PENDING_VERIFICATION,
    )
    _store_letter(membership, data)
    db.session.add(membership)
    db.session.flush()
    audit.record(
        "membership_applied",
        membership,
        actor=user,
        to_state=MembershipState.PENDING_VERIFICATION,
        details={"city": membership.city_name_en, "country": membership.country_code},
    )
    if user.email_verified_at is not None:
        _submit(membership, user)
    else:
        token = accounts.issue_email_token(user, membership)
        _mail_applicant(
            membership,
            "verify_application",
            link=url_for("membership.confirm", token=token, _external=True),
            hours=current_app.config["EMAIL_TOKEN_HOURS"],
        )
    return membership


def _submit(membership: Membership, actor: User) -> None:
    _change_state(membership, "verify", actor)
    membership.submitted_at = utcnow()
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise StateConflict(
            _l("This city has already applied or is already a member."), field="city_name_en"
        )
    _mail_applicant(membership, "application_received")
    for address, locale in secretariat_addresses():
        queue_mail(
            address,
            "membership/emails/new_application.txt",
            locale,
            membership=membership,
            link=url_for("membership.application", uuid=membership.uuid, _external=True),
        )


def resend_verification(user: User, membership: Membership) -> None:
    """Send the applicant a fresh confirmation link (the first may have expired or been lost)."""
    if membership.applicant_id != user.id:
        raise PermissionDenied(_l("This application is not yours."))
    if membership.state != MembershipState.PENDING_VERIFICATION:
        raise StateConflict(_l("This application has already been confirmed."))
    token = accounts.issue_email_token(user, membership)
    audit.record("membership_verification_resent", membership, actor=user)
    _mail_applicant(
        membership,
        "verify_application",
        link=url_for("membership.confirm", token=token, _external=True),
        hours=current_app.config["EMAIL_TOKEN_HOURS"],
    )


def find_verification(token: str):
    return accounts.find_token(token, TokenPurpose.VERIFY_APPLICATION)


def confirm_application(token: str) -> Membership:
    """The applicant's confirm button: the address is verified and the application reaches the
    secretariat. The link works once."""
    row = find_verification(token)
    if row is None or row.membership is None:
        raise StateConflict(_l("This link has expired or has already been used."))
    membership = row.membership
    accounts.consume_token(row)
    if membership.applicant.email_verified_at is None:
        membership.applicant.email_verified_at = utcnow()
    _submit(membership, membership.applicant)
    return membership


def approve(actor: User, membership: Membership, reason: str = "") -> City:
    """Make the city a member: its city record is created (or, after a withdrawal, reused) and the
    applicant becomes the city's first administrator."""
    require_secretariat(actor)
    with db.session.no_autoflush:  # the membership may not be flushed as approved without its city
        _change_state(membership, "approve", actor, reason)
        slug = make_slug(membership.city_name_en, membership.country_code)
        city = db.session.scalar(select(City).where(City.slug == slug))
        if city is None:
            city = City(
                slug=slug,
                name_en=membership.city_name_en,
                name_local=membership.city_name_local,
                country_code=membership.country_code,
                region=membership.region,
                population=membership.population,
                website=membership.website,
            )
            db.session.add(city)
        membership.city = city
    applicant = membership.applicant
    if applicant.city_id is None and not applicant.is_staff:
        applicant.city = city
        applicant.role = UserRole.CITY_ADMIN
    db.session.flush()
    db.session.expire(city, ["active_membership"])
    _mail_applicant(
        membership,
        "approved",
        city=city,
        login_link=url_for("accounts.login", _external=True),
    )
    return city


def record_membership(actor: User, city: City) -> Membership:
    """Record that ``city`` is a current member on the secretariat's word, with no application
    (cities imported into the directory): an approved membership that ``actor`` applied for and
    decided now. No e-mail: the city has no account yet. Refused if the city is a member already or
    an application under its name is open (the database refuses that too)."""
    require_secretariat(actor)
    clash = and_(
        Membership.city_name_key == city_name_key(city.name_en),
        Membership.country_code == city.country_code,
        Membership.state.in_(OPEN_STATES),
    )
    if city.id is not None:
        current = and_(Membership.city_id == city.id, Membership.state.in_(CURRENT_MEMBER_STATES))
        clash = or_(clash, current)
    if db.session.scalar(select(Membership.id).where(clash).limit(1)) is not None:
        raise StateConflict(_l("This city has already applied or is already a member."))
    now = utcnow()
    membership = Membership(
        state=MembershipState.APPROVED,
        city_name_en=city.name_en,
        city_name_local=city.name_local or "",
        city_name_key=city_name_key(city.name_en),
        country_code=city.country_code,
        region=city.region or "",
        population=city.population,
        website=city.website or "",
        applicant_id=actor.id,
        submitted_at=now,
        decided_at=now,
        decided_by_id=actor.id,
        city=city,
    )
    db.session.add(membership)
    db.session.flush()
    db.session.expire(city, ["active_membership"])
    audit.record(
        "membership_recorded",
        membership,
        actor=actor,
        to_state=MembershipState.APPROVED,
        details={"city": city.slug, "country": city.country_code},
    )
    return membership


def reject(actor: User, membership: Membership, reason: str) -> None:
    require_secretariat(actor)
    _change_state(membership, "reject", actor, reason)
    _mail_applicant(membership, "rejected", apply_link=url_for("membership.apply", _external=True))


def suspend(actor: User, membership: Membership, reason: str) -> None:
    require_secretariat(actor)
    _change_state(membership, "suspend", actor, reason)
    _mail_applicant(membership, "suspended")


def reinstate(actor: User, membership: Membership, reason: str = "") -> None:
    require_secretariat(actor)
    _change_state(membership, "reinstate", actor, reason)
    _mail_applicant(membership, "reinstated")


def withdraw(actor: User, membership: Membership, reason: str) -> None:
    """Record the city's withdrawal from the alliance (the secretariat records it)."""
    require_secretariat(actor)
    _change_state(membership, "withdraw", actor, reason)
    _mail_applicant(membership, "withdrawn")


ACTIONS = {
    "approve": approve,
    "reject": reject,
    "suspend": suspend,
    "reinstate": reinstate,
    "withdraw": withdraw,
}


def state_label(state: MembershipState) -> str:
    return str(STATE_LABELS[state])


STATE_LABELS = {
    MembershipState.PENDING_VERIFICATION: _l("awaiting e-mail check"),
    MembershipState.SUBMITTED: _l("submitted"),
    MembershipState.APPROVED: _l("approved"),
    MembershipState.REJECTED: _l("rejected"),
    MembershipState.SUSPENDED: _l("suspended"),
    MembershipState.WITHDRAWN: _l("withdrawn"),
}
