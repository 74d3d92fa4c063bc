"""The public directory and city pages; profile, logo and contact editing."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select

from cacnet.accounts.forms import ConfirmForm
from cacnet.cities import hooks, services
from cacnet.cities.forms import (
    AREA_LABELS,
    VISIBILITY_LABELS,
    CityProfileForm,
    ContactForm,
    DirectoryFilterForm,
    LogoForm,
)
from cacnet.cities.models import City, Contact
from cacnet.cities.regions import MACRO_REGIONS, macro_region
from cacnet.core.db import db
from cacnet.core.errors import ServiceError
from cacnet.core.i18n import language_name
from cacnet.core.text import render_markdown
from cacnet.core.uploads import send_stored
from cacnet.core.web import show_service_error

bp = Blueprint("cities", __name__)


def _city(slug: str) -> City:
    city = db.session.scalar(select(City).where(City.slug == slug))
    if city is None:
        abort(404)
    return city


def _editable_city(slug: str) -> City:
    city = _city(slug)
    services.require_editor(current_user, city)
    return city


@bp.get("/cities/")
def directory():
    statuses = services.public_statuses(current_user)
    form = DirectoryFilterForm(request.args, statuses=statuses)
    form.validate()
    query = services.DirectoryQuery(
        q=form.q.data or "",
        country=form.country.data if not form.country.errors else "",
        region=form.region.data if form.region.data in MACRO_REGIONS else "",
        status=form.status.data if not form.status.errors else "",
        sort=form.sort.data if not form.sort.errors else "name",
        page=request.args.get("page", 1, type=int) or 1,
        per_page=int(form.per_page.data) if form.per_page.data and not form.per_page.errors else 20,
        facets=hooks.facet_values(request.args),
    )
    pagination = services.directory_page(current_user, query)
    return render_template(
        "cities/directory.html",
        form=form,
        pagination=pagination,
        query=query,
        facets=hooks.DIRECTORY_FACETS,
    )


@bp.get("/cities/<slug>")
def city_page(slug: str):
    city = _city(slug)
    if city.merged_into_id is not None:
        kept = db.session.get(City, city.merged_into_id)
        return redirect(url_for("cities.city_page", slug=kept.slug), code=301)
    return render_template(
        "cities/city.html",
        city=city,
        contacts=services.visible_contacts(current_user, city),
        description=render_markdown(city.description),
        can_edit=services.can_edit(current_user, city),
        m49=MACRO_REGIONS.get(macro_region(city.country_code) or ""),
        sections=_sections(city),
    )


def _sections(city: City) -> list[tuple[str, dict]]:
    """The sections other capabilities add to the city page (cacnet.cities.hooks)."""
    found = []
    for section in hooks.CITY_PAGE_SECTIONS:
        context = section.context(city, current_user)
        if context is not None:
            found.append((section.template, context))
    return found


@bp.get("/cities/<slug>/logo.png")
def logo(slug: str):
    city = _city(slug)
    if not city.logo_sha256:
        abort(404)
    return send_stored(
        city.logo_sha256, "logos", "png", "image/png", cache_control="public, max-age=86400"
    )


@bp.route("/cities/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str):
    city = _editable_city(slug)
    form = CityProfileForm(obj=city)
    if request.method == "POST" and "lookup" in request.form:
        # Fill the coordinates from the offline gazetteer; the user reviews and saves.
        form.validate()
        found = services.lookup_coordinates(form.name_en.data, form.country_code.data)
        if found:
            form.latitude.data, form.longitude.data = found["latitude"], found["longitude"]
            form.latitude.raw_data = form.longitude.raw_data = None  # render the found values
            if not form.timezone.data:
                form.timezone.data = found["timezone"]
            flash(_("Coordinates found. Check them and save."), "info")
        else:
            flash(
                _(
                    "No place of this name was found in this country. Enter the coordinates by hand."
                ),
                "error",
            )
        for field in form:
            field.errors = []
        return render_template("cities/edit.html", city=city, form=form, logo_form=LogoForm())
    if form.validate_on_submit():
        data = services.ProfileData(
            name_en=form.name_en.data,
            name_local=form.name_local.data or "",
            country_code=form.country_code.data,
            region=form.region.data or "",
            population=form.population.data,
            latitude=float(form.latitude.data) if form.latitude.data is not None else None,
            longitude=float(form.longitude.data) if form.longitude.data is not None else None,
            mayor_name=form.mayor_name.data or "",
            mayor_title=form.mayor_title.data or "",
            website=form.website.data or "",
            response_page=form.response_page.data or "",
            description=form.description.data or "",
            languages=form.languages.data or [],
            timezone=form.timezone.data or "",
        )
        try:
            changes = services.update_profile(current_user, city, data)
        except ServiceError as error:
            show_service_error(form, error)
        else:
            db.session.commit()
            flash(
                _("The profile has been saved.") if changes else _("Nothing was changed."),
                "success",
            )
            return redirect(url_for("cities.city_page", slug=city.slug))
    elif request.method == "POST":
        flash(_("Please correct the marked fields."), "error")
    return render_template("cities/edit.html", city=city, form=form, logo_form=LogoForm())


@bp.post("/cities/<slug>/logo")
@login_required
def upload_logo(slug: str):
    city = _editable_city(slug)
    form = LogoForm()
    if form.validate_on_submit():
        try:
            services.set_logo(current_user, city, form.logo.data.read())
        except ServiceError as error:
            show_service_error(None, error)
        else:
            db.session.commit()
            flash(_("The logo has been saved."), "success")
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
    return redirect(url_for("cities.edit", slug=city.slug))


@bp.post("/cities/<slug>/logo/delete")
@login_required
def delete_logo(slug: str):
    city = _editable_city(slug)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.remove_logo(current_user, city)
    db.session.commit()
    flash(_("The logo has been removed."), "success")
    return redirect(url_for("cities.edit", slug=city.slug))


# --- contacts ----------------------------------------------------------------------------------


def _contact_data(form: ContactForm) -> services.ContactData:
    return services.ContactData(
        name=form.name.data or "",
        title=form.title.data or "",
        department=form.department.data or "",
        email=form.email.data or "",
        phone=form.phone.data or "",
        languages=form.languages.data or [],
        area=form.area.data,
        visibility=form.visibility.data,
        is_primary=bool(form.is_primary.data),
    )


@bp.route("/cities/<slug>/contacts", methods=["GET", "POST"])
@login_required
def contacts(slug: str):
    city = _editable_city(slug)
    form = ContactForm()
    if form.validate_on_submit():
        try:
            services.add_contact(current_user, city, _contact_data(form))
        except ServiceError as error:
            show_service_error(form, error)
        else:
            db.session.commit()
            flash(_("The contact has been added."), "success")
            return redirect(url_for("cities.contacts", slug=city.slug))
    elif request.method == "POST":
        flash(_("Please correct the marked fields."), "error")
    return render_template(
        "cities/contacts.html",
        city=city,
        form=form,
        contacts=city.contacts,
        area_labels=AREA_LABELS,
        visibility_labels=VISIBILITY_LABELS,
    )


def _contact(city: City, contact_id: int) -> Contact:
    contact = db.session.get(Contact, contact_id)
    if contact is None or contact.city_id != city.id:
        abort(404)
    return contact


@bp.route("/cities/<slug>/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
@login_required
def edit_contact(slug: str, contact_id: int):
    city = _editable_city(slug)
    contact = _contact(city, contact_id)
    form = ContactForm(obj=contact)
    if request.method == "GET":
        form.area.data, form.visibility.data = contact.area.value, contact.visibility.value
    if form.validate_on_submit():
        try:
            services.update_contact(current_user, contact, _contact_data(form))
        except ServiceError as error:
            show_service_error(form, error)
        else:
            db.session.commit()
            flash(_("The contact has been saved."), "success")
            return redirect(url_for("cities.contacts", slug=city.slug))
    elif request.method == "POST":
        flash(_("Please correct the marked fields."), "error")
    return render_template("cities/contact_edit.html", city=city, contact=contact, form=form)


@bp.post("/cities/<slug>/contacts/<int:contact_id>/<any(delete, up, down):action>")
@login_required
def contact_action(slug: str, contact_id: int, action: str):
    city = _editable_city(slug)
    contact = _contact(city, contact_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if action == "delete":
        services.remove_contact(current_user, contact)
        flash(_("The contact has been removed."), "success")
    else:
        services.move_contact(current_user, contact, -1 if action == "up" else 1)
    db.session.commit()
    return redirect(url_for("cities.contacts", slug=city.slug))


BADGE_LABELS = {
    "approved": _l("Member"),
    "suspended": _l("Suspended"),
    "withdrawn": _l("Former member"),
}


def membership_badge(city: City) -> Markup:
    """The city's membership as a badge; the public sees a suspended city simply as a member."""
    state = city.membership_state.value
    if state == "suspended" and not _sees_suspension():
        state = "approved"
    return Markup('<span class="badge state-{}">{}</span>').format(state, BADGE_LABELS[state])


def _sees_suspension() -> bool:
    if "sees_suspension" not in g:
        from cacnet.membership.models import MembershipState

        g.sees_suspension = MembershipState.SUSPENDED in services.public_statuses(current_user)
    return g.sees_suspension


def phone_display(e164: str) -> str:
    """+82221330000 -> +82 2-2133-0000, for people to read."""
    import phonenumbers

    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def language_names(codes) -> str:
    return ", ".join(language_name(code) for code in codes)


@bp.app_context_processor
def _template_helpers():
    return {
        "area_labels": AREA_LABELS,
        "membership_badge": membership_badge,
        "language_names": language_names,
        "phone_display": phone_display,
    }


# --- the map and GeoJSON -----------------------------------------------------------------------


def _query_from_args() -> services.DirectoryQuery:
    """The directory's filters from the query string, for the map and the GeoJSON."""
    args = request.args
    return services.DirectoryQuery(
        q=(args.get("q") or "")[:200],
        country=(args.get("country") or "")[:2],
        region=args.get("region") if args.get("region") in MACRO_REGIONS else "",
        status=args.get("status") or "",
        facets=hooks.facet_values(args),
    )


MAP_COLUMNS = (City.id, City.slug, City.name_en, City.name_local, City.country_code,
               City.latitude, City.longitude)  # fmt: skip
LIST_UNDER_MAP = 300


@bp.get("/cities/map")
def map_page():
    from sqlalchemy.orm import load_only

    from cacnet.cities.map import HEIGHT, WIDTH, map_points

    query = _query_from_args()
    stmt = services.directory_select(current_user, query).options(load_only(*MAP_COLUMNS[1:]))
    points = map_points(db.session.scalars(stmt))
    return render_template(
        "cities/map.html",
        points=points,
        width=WIDTH,
        height=HEIGHT,
        list_limit=LIST_UNDER_MAP,
        directory_url=url_for("cities.directory", **request.args.to_dict(flat=True)),
    )


@bp.get("/cities.geojson")
def geojson():
    """The cities the directory's filters find, with coordinates, as RFC 7946 GeoJSON; each with
    the contacts this viewer may see. Two queries whatever the number of cities."""
    from cacnet.membership.models import CURRENT_MEMBER_STATES, Membership, MembershipState

    query = _query_from_args()
    filtered = services.directory_select(current_user, query).where(City.latitude.is_not(None))
    ids = filtered.with_only_columns(City.id).order_by(None).scalar_subquery()
    rows = db.session.execute(
        filtered.with_only_columns(*MAP_COLUMNS, City.population, Membership.state).outerjoin(
            Membership,
            (Membership.city_id == City.id) & Membership.state.in_(CURRENT_MEMBER_STATES),
        )
    ).all()
    contacts: dict[int, list[dict]] = {}
    for contact in db.session.scalars(
        select(Contact)
        .where(Contact.city_id.in_(ids), services.contact_visibility(current_user))
        .order_by(Contact.city_id, Contact.position, Contact.id)
    ):
        contacts.setdefault(contact.city_id, []).append(
            {
                "name": contact.name,
                "title": contact.title,
                "department": contact.department,
                "email": contact.email,
                "phone": contact.phone,
                "area": contact.area.value,
                "languages": contact.languages,
                "primary": contact.is_primary,
            }
        )
    sees_suspension = MembershipState.SUSPENDED in services.public_statuses(current_user)
    features = []
    for row in rows:
        state = row.state or MembershipState.WITHDRAWN
        if state == MembershipState.SUSPENDED and not sees_suspension:
            state = MembershipState.APPROVED
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [row.longitude, row.latitude]},
                "properties": {
                    "slug": row.slug,
                    "name": row.name_en,
                    "name_local": row.name_local,
                    "country": row.country_code,
                    "population": row.population,
                    "status": MembershipState(state).value,
                    "url": url_for("cities.city_page", slug=row.slug, _external=True),
                    "contacts": contacts.get(row.id, []),
                },
            }
        )
    response = jsonify({"type": "FeatureCollection", "features": features})
    response.mimetype = "application/geo+json"
    return response
