"""Merging a duplicate city into the city that stays: the secretariat's clean-up of the directory.

``plan_merge`` says what a merge would move (the preview); ``merge_cities`` does it, in the
caller's transaction. The duplicate keeps its row and slug, with ``merged_into_id`` set, so its old
links can lead to the city that stays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from cacnet.accounts.models import Invitation, SigningAuthority, User
from cacnet.cities.models import City, Contact
from cacnet.core import audit
from cacnet.core.db import db, utcnow
from cacnet.core.errors import ServiceError
from cacnet.core.permissions import require_secretariat
from cacnet.membership.models import CURRENT_MEMBER_STATES, Membership, MembershipState

# Profile fields the kept city takes from the duplicate when its own are empty. Coordinates go as
# a pair (see _fillable).
FILLABLE_FIELDS = (
    "name_local",
    "region",
    "population",
    "website",
    "mayor_name",
    "mayor_title",
    "response_page",
    "description",
    "languages",
    "timezone",
    "logo_sha256",
)


@dataclass
class MergePlan:
    duplicate: City
    keep: City
    users: list[User] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    # The duplicate's primary focal point, which stops being primary (the kept city has one).
    demoted_contacts: list[Contact] = field(default_factory=list)
    invitations: list[Invitation] = field(default_factory=list)
    # Open invitations of the duplicate to an address the kept city has also invited: revoked.
    revoked_invitations: list[Invitation] = field(default_factory=list)
    signing_authorities: list[SigningAuthority] = field(default_factory=list)
    memberships: list[Membership] = field(default_factory=list)
    # The duplicate's current membership, ended because the kept city has its own.
    ended_membership: Membership | None = None
    filled: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    # Cities merged earlier into the duplicate: they now point at the kept city.
    earlier_duplicates: list[City] = field(default_factory=list)

    @property
    def moves_anything(self) -> bool:
        return bool(
            self.users
            or self.contacts
            or self.invitations
            or self.signing_authorities
            or self.memberships
            or self.filled
            or self.earlier_duplicates
        )


def find_city(reference: str) -> City | None:
    """A city by its slug, or by the address of its page (``https://…/cities/seoul-kr``)."""
    slug = (reference or "").strip().rstrip("/").rsplit("/", 1)[-1].lower()
    if not slug:
        return None
    return db.session.scalar(select(City).where(City.slug == slug))


def _check(duplicate: City, keep: City) -> None:
    if duplicate.id == keep.id:
        raise ServiceError(_l("A city cannot be merged into itself."), field="keep")
    if duplicate.merged_into_id is not None:
        raise ServiceError(
            _l(
                "%(city)s has already been merged into another city.",
                city=duplicate.name_en,
            ),
            field="duplicate",
        )
    if keep.merged_into_id is not None:
        target = db.session.get(City, keep.merged_into_id)
        raise ServiceError(
            _l(
                "%(city)s has itself been merged into %(target)s: merge into that city instead.",
                city=keep.name_en,
                target=target.slug if target is not None else "?",
            ),
            field="keep",
        )


def _current_membership(city: City) -> Membership | None:
    return db.session.scalar(
        select(Membership).where(
            Membership.city_id == city.id, Membership.state.in_(CURRENT_MEMBER_STATES)
        )
    )


def _fillable(duplicate: City, keep: City) -> dict[str, tuple[Any, Any]]:
    filled = {}
    for name in FILLABLE_FIELDS:
        mine, theirs = getattr(keep, name), getattr(duplicate, name)
        if mine in (None, "", []) and theirs not in (None, "", []):
            filled[name] = (mine, theirs)
    if not keep.has_coordinates and duplicate.has_coordinates:
        filled["latitude"] = (keep.latitude, duplicate.latitude)
        filled["longitude"] = (keep.longitude, duplicate.longitude)
    return filled


def plan_merge(actor, duplicate: City, keep: City) -> MergePlan:
    """What merging ``duplicate`` into ``keep`` would do; refuses a merge that cannot be done."""
    require_secretariat(actor)
    _check(duplicate, keep)

    def rows(model, *where):
        return list(db.session.scalars(select(model).where(*where).order_by(model.id)))

    plan = MergePlan(duplicate=duplicate, keep=keep)
    plan.users = rows(User, User.city_id == duplicate.id)
    plan.contacts = rows(Contact, Contact.city_id == duplicate.id)
    keep_has_primary = db.session.scalar(
        select(func.count()).where(Contact.city_id == keep.id, Contact.is_primary.is_(True))
    )
    if keep_has_primary:
        plan.demoted_contacts = [c for c in plan.contacts if c.is_primary]
    plan.invitations = rows(Invitation, Invitation.city_id == duplicate.id)
    keep_open = set(
        db.session.scalars(
            select(Invitation.email).where(
                Invitation.city_id == keep.id,
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
            )
        )
    )
    plan.revoked_invitations = [
        i
        for i in plan.invitations
        if i.accepted_at is None and i.revoked_at is None and i.email in keep_open
    ]
    plan.signing_authorities = rows(SigningAuthority, SigningAuthority.city_id == duplicate.id)
    plan.memberships = rows(Membership, Membership.city_id == duplicate.id)
    theirs = _current_membership(duplicate)
    if theirs is not None and _current_membership(keep) is not None:
        plan.ended_membership = theirs
    plan.filled = _fillable(duplicate, keep)
    plan.earlier_duplicates = rows(City, City.merged_into_id == duplicate.id)
    return plan


def merge_cities(actor, duplicate: City, keep: City) -> MergePlan:
    """Merge ``duplicate`` into ``keep``: its users, contacts, invitations, signing authorities
    and memberships move to ``keep``; ``keep`` stays the one primary focal point and the one
    current membership (the duplicate's is ended as withdrawn, "merged into <slug>"); ``keep``'s
    empty profile fields are filled from the duplicate; the duplicate is marked merged. Audited;
    the caller commits. Returns what was done."""
    plan = plan_merge(actor, duplicate, keep)
    now = utcnow()
    details = {
        "into": keep.slug,
        "users": [u.id for u in plan.users],
        "contacts": [c.id for c in plan.contacts],
        "demoted_contacts": [c.id for c in plan.demoted_contacts],
        "invitations": [i.id for i in plan.invitations],
        "revoked_invitations": [i.id for i in plan.revoked_invitations],
        "signing_authorities": [g.id for g in plan.signing_authorities],
        "memberships": [m.id for m in plan.memberships],
        "ended_membership": plan.ended_membership.id if plan.ended_membership else None,
        "earlier_duplicates": [c.slug for c in plan.earlier_duplicates],
    }

    if plan.ended_membership is not None:
        membership = plan.ended_membership
        previous = membership.state
        membership.state = MembershipState.WITHDRAWN
        membership.reason = f"merged into {keep.slug}"
        membership.decided_at = now
        membership.decided_by_id = actor.id
        audit.record(
            "membership_withdraw",
            membership,
            actor=actor,
            from_state=previous,
            to_state=MembershipState.WITHDRAWN,
            reason=membership.reason,
            details={"city": duplicate.slug, "merged_into": keep.slug},
        )
        db.session.flush()  # ended before it joins the kept city, which has a current one

    for user in plan.users:
        user.city_id = keep.id
    last = db.session.scalar(select(func.max(Contact.position)).where(Contact.city_id == keep.id))
    for offset, contact in enumerate(plan.contacts, start=1):
        if contact in plan.demoted_contacts:
            contact.is_primary = False
        contact.city_id = keep.id
        contact.position = (last or 0) + offset
    for invitation in plan.invitations:
        if invitation in plan.revoked_invitations:
            invitation.revoked_at = now
        invitation.city_id = keep.id
    for grant in plan.signing_authorities:
        grant.city_id = keep.id
    for membership in plan.memberships:
        membership.city_id = keep.id
    for name, (_old, new) in plan.filled.items():
        setattr(keep, name, list(new) if isinstance(new, list) else new)
    for earlier in plan.earlier_duplicates:
        earlier.merged_into_id = keep.id
    duplicate.merged_into_id = keep.id
    db.session.flush()
    # Their relationships still point at the duplicate in this session: read them again.
    for moved in (
        *plan.users,
        *plan.contacts,
        *plan.invitations,
        *plan.signing_authorities,
        *plan.memberships,
    ):
        db.session.expire(moved)
    db.session.expire(duplicate, ["users", "contacts", "memberships", "active_membership"])
    db.session.expire(keep, ["users", "contacts", "memberships", "active_membership"])

    audit.record(
        "city_merged",
        duplicate,
        actor=actor,
        details=details,
    )
    audit.record(
        "city_merge_received",
        keep,
        actor=actor,
        details={
            "from": duplicate.slug,
            "changes": {k: {"old": o, "new": n} for k, (o, n) in plan.filled.items()},
        },
    )
    return plan
