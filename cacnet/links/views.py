"""The cities network pages: the public list by region, a city's links (its editors), the
secretariat's organisations and overview of broken links. Thin: the rules are in ``services``
and ``checker``."""

from __future__ import annotations

import time

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from cacnet.accounts.forms import ConfirmForm
from cacnet.cities.models import City
from cacnet.core.db import db
from cacnet.core.errors import ServiceError
from cacnet.core.i18n import language_name
from cacnet.core.web import show_service_error, staff_required
from cacnet.links import checker, services
from cacnet.links.forms import LinkForm, OrganisationForm
from cacnet.links.models import NetworkLink, Organisation

bp = Blueprint("links", __name__)

ERROR_LABELS = {
    checker.TIMEOUT: _l("no answer in time"),
    checker.CONNECTION: _l("the connection failed"),
    checker.NAME: _l("the site's name is unknown"),
    checker.PRIVATE: _l("not a public address"),
    checker.REDIRECT_LOOP: _l("too many redirections"),
    checker.TLS: _l("the site's certificate was refused"),
    checker.BAD_ADDRESS: _l("the address cannot be fetched"),
}


def error_label(link: NetworkLink) -> str:
    if not link.last_error:
        return ""
    if link.last_error.startswith("http ") and link.last_status_code:
        return _("the server answered %(code)d", code=link.last_status_code)
    return str(ERROR_LABELS.get(link.last_error, link.last_error))


@bp.app_context_processor
def _links_helpers():
    return {"link_error": error_label, "link_language": language_name}


def _link_data(form: LinkForm) -> services.LinkData:
    return services.LinkData(
        url=form.url.data or "", title=form.title.data or "", language=form.language.data or ""
    )


def _org_data(form: OrganisationForm) -> services.OrganisationData:
    return services.OrganisationData(
        name_en=form.name_en.data or "",
        name_ko=form.name_ko.data or "",
        acronym=form.acronym.data or "",
        website=form.website.data or "",
    )


# --- the public page ---------------------------------------------------------------------------


@bp.get("/cities/network")
def network():
    return render_template(
        "links/network.html",
        groups=services.network_groups(),
        is_secretariat=getattr(current_user, "is_secretariat", False),
    )


# --- a city's links ----------------------------------------------------------------------------


def _city(slug: str) -> City:
    city = db.session.scalar(select(City).where(City.slug == slug))
    if city is None:
        abort(404)
    return city


def _add_link(owner, form: LinkForm) -> bool:
    if form.validate_on_submit():
        try:
            services.add_link(current_user, owner, _link_data(form))
        except ServiceError as error:
            show_service_error(form, error)
        else:
            flash(_("The link has been added."), "success")
            return True
    elif request.method == "POST":
        flash(_("Please correct the marked fields."), "error")
    return False


@bp.route("/cities/<slug>/links", methods=["GET", "POST"])
@login_required
def city_links(slug: str):
    city = _city(slug)
    services.require_manager(current_user, city)
    form = LinkForm()
    if _add_link(city, form):
        return redirect(url_for("links.city_links", slug=city.slug))
    return render_template(
        "links/manage.html",
        owner=city,
        owner_name=city.name_en,
        back=url_for("cities.city_page", slug=city.slug),
        links=services.links_of(city),
        form=form,
        action=url_for("links.city_links", slug=city.slug),
    )


# --- one link (of a city or an organisation) ---------------------------------------------------


def _managed_link(link_id: int) -> NetworkLink:
    link = db.session.get(NetworkLink, link_id)
    if link is None:
        abort(404)
    services.require_manager(current_user, link.owner)
    return link


def _owner_page(link: NetworkLink) -> str:
    if link.city_id is not None:
        return url_for("links.city_links", slug=link.city.slug)
    return url_for("links.organisation", organisation_id=link.organisation_id)


@bp.route("/links/<int:link_id>/edit", methods=["GET", "POST"])
@login_required
def edit_link(link_id: int):
    link = _managed_link(link_id)
    form = LinkForm(obj=link)
    if form.validate_on_submit():
        try:
            services.update_link(current_user, link, _link_data(form))
        except ServiceError as error:
            show_service_error(form, error)
        else:
            flash(_("The link has been saved."), "success")
            return redirect(_owner_page(link))
    elif request.method == "POST":
        flash(_("Please correct the marked fields."), "error")
    return render_template("links/edit.html", link=link, form=form, back=_owner_page(link))


@bp.post("/links/<int:link_id>/<any(delete, up, down, check):action>")
@login_required
def link_action(link_id: int, action: str):
    link = _managed_link(link_id)
    back = _owner_page(link)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if action == "delete":
        services.remove_link(current_user, link)
        flash(_("The link has been removed."), "success")
    elif action == "check":
        result = checker.check_link(link.id)
        if result is None:
            flash(_("Link checking is turned off on this server."), "info")
        elif result.ok:
            flash(_("The page could be reached."), "success")
        else:
            flash(_("The page could not be reached."), "error")
    else:
        services.move_link(current_user, link, -1 if action == "up" else 1)
    return redirect(back)


# --- the secretariat ---------------------------------------------------------------------------


@bp.route("/secretariat/links", methods=["GET", "POST"])
@staff_required
def secretariat():
    form = OrganisationForm()
    if form.validate_on_submit():
        try:
            organisation = services.add_organisation(current_user, _org_data(form))
        except ServiceError as error:
            show_service_error(form, error)
        else:
            flash(_("The organisation has been added."), "success")
            return redirect(url_for("links.organisation", organisation_id=organisation.id))
    elif request.method == "POST":
        flash(_("Please correct the marked fields."), "error")
    return render_template(
        "links/secretariat.html",
        form=form,
        organisations=services.organisations(),
        broken=services.broken_links(),
        checking=current_app.config.get("LINK_CHECK_ENABLED", True),
    )


def _organisation(organisation_id: int) -> Organisation:
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        abort(404)
    return organisation


@bp.route("/secretariat/links/organisations/<int:organisation_id>", methods=["GET", "POST"])
@staff_required
def organisation(organisation_id: int):
    organisation = _organisation(organisation_id)
    form = LinkForm(prefix="link")
    org_form = OrganisationForm(obj=organisation, prefix="org")
    if request.method == "POST" and request.form.get("part") == "organisation":
        if org_form.validate_on_submit():
            try:
                services.update_organisation(current_user, organisation, _org_data(org_form))
            except ServiceError as error:
                show_service_error(org_form, error)
            else:
                flash(_("The organisation has been saved."), "success")
                return redirect(url_for("links.organisation", organisation_id=organisation.id))
        else:
            flash(_("Please correct the marked fields."), "error")
    elif _add_link(organisation, form):
        return redirect(url_for("links.organisation", organisation_id=organisation.id))
    return render_template(
        "links/manage.html",
        owner=organisation,
        owner_name=organisation.name(),
        back=url_for("links.secretariat"),
        links=services.links_of(organisation),
        form=form,
        org_form=org_form,
        action=url_for("links.organisation", organisation_id=organisation.id),
    )


@bp.post("/secretariat/links/organisations/<int:organisation_id>/delete")
@staff_required
def delete_organisation(organisation_id: int):
    organisation = _organisation(organisation_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.remove_organisation(current_user, organisation)
    flash(_("The organisation and its links have been removed."), "success")
    return redirect(url_for("links.secretariat"))


# --- the periodic run --------------------------------------------------------------------------

_next_look = 0.0  # per process: look at the shared cache at most once a minute


@bp.before_app_request
def check_periodically():
    """Queue a run of the link checker at most once every LINK_CHECK_INTERVAL_HOURS across all
    app servers (an atomic add in the shared cache elects one request), as the delivery queue's
    hourly safety net does. Never inline (``JOBS_SYNC``), never when checking is off."""
    global _next_look
    config = current_app.config
    if not config.get("LINK_CHECK_AUTO", True) or not config.get("LINK_CHECK_ENABLED", True):
        return
    if config.get("JOBS_SYNC") or request.endpoint == "static":
        return
    now = time.monotonic()
    if now < _next_look:
        return
    _next_look = now + 60
    from cacnet.core.cache import cache
    from cacnet.core.jobs import enqueue

    every = max(int(float(config.get("LINK_CHECK_INTERVAL_HOURS") or 24) * 3600), 60)
    try:
        if cache.add("links:periodic-check", 1, timeout=every):
            enqueue(checker.RUN_CHECKS)
    except Exception:  # noqa: BLE001 - the checker's upkeep must never break a page
        current_app.logger.exception("could not queue the link checker's run")
