"""The secretariat's tools for the city directory: importing a CSV list of cities (with a preview
and a progress bar) and merging a duplicate city into the one that stays."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from cacnet.accounts.forms import ConfirmForm
from cacnet.cities import imports
from cacnet.cities.admin_forms import CityImportForm, CityMergeForm
from cacnet.cities.imports import ImportState
from cacnet.cities.merge import find_city, merge_cities, plan_merge
from cacnet.core.db import db
from cacnet.core.errors import ServiceError
from cacnet.core.web import show_service_error, staff_required

bp = Blueprint("cities_admin", __name__)

IMPORT_STATE_LABELS = {
    ImportState.VALIDATING: _l("checking the rows"),
    ImportState.READY: _l("waiting for confirmation"),
    ImportState.APPLYING: _l("being written"),
    ImportState.DONE: _l("done"),
    ImportState.CANCELLED: _l("cancelled"),
    ImportState.FAILED: _l("failed"),
}

FIELD_LABELS = {
    "name_en": _l("City name in English"),
    "name_local": _l("City name in the local language"),
    "region": _l("Region, province or state"),
    "population": _l("Population"),
    "website": _l("Official website"),
    "latitude": _l("Latitude"),
    "longitude": _l("Longitude"),
    "mayor_name": _l("Mayor's name"),
    "mayor_title": _l("Mayor's title"),
    "response_page": _l("Pandemic-response page"),
    "description": _l("Short description"),
    "languages": _l("Languages"),
    "timezone": _l("Time zone"),
    "logo_sha256": _l("Logo"),
}


@bp.context_processor
def _helpers():
    return {"import_state_labels": IMPORT_STATE_LABELS, "field_labels": FIELD_LABELS}


# --- import ------------------------------------------------------------------------------------


def _job(uuid: str) -> imports.CityImport:
    job = imports.get_import(uuid)
    if job is None:
        abort(404)
    return job


@bp.route("/secretariat/cities/import", methods=["GET", "POST"])
@staff_required
def import_upload():
    form = CityImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read(imports.MAX_IMPORT_BYTES + 1)
        try:
            job = imports.start_import(current_user, upload.filename or "", data)
            db.session.commit()  # the rows are checked in the background from here on
        except ServiceError as error:
            show_service_error(form, error)
        else:
            return redirect(url_for("cities_admin.import_status", uuid=job.uuid))
    elif request.method == "POST":
        flash(_("Please correct the marked fields."), "error")
    return render_template("cities/admin/import.html", form=form, recent=imports.recent_imports())


@bp.get("/secretariat/cities/import/<uuid>")
@staff_required
def import_status(uuid: str):
    job = _job(uuid)
    preview = None
    if job.state == ImportState.READY:
        try:
            preview = imports.preview(job)
        except ServiceError as error:
            flash(str(error.message), "error")
    return render_template(
        "cities/admin/import_status.html",
        job=job,
        status=imports.status(job),
        preview=preview,
        form=ConfirmForm(),
    )


@bp.get("/secretariat/cities/import/<uuid>/status.json")
@staff_required
def import_status_json(uuid: str):
    response = jsonify(imports.status(_job(uuid)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/secretariat/cities/import/<uuid>/confirm")
@staff_required
def import_confirm(uuid: str):
    job = _job(uuid)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        imports.confirm_import(current_user, job)
        db.session.commit()  # the worker writes the changes from here on
    except ServiceError as error:
        show_service_error(None, error)
    return redirect(url_for("cities_admin.import_status", uuid=uuid))


@bp.post("/secretariat/cities/import/<uuid>/cancel")
@staff_required
def import_cancel(uuid: str):
    job = _job(uuid)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        imports.cancel_import(current_user, job)
        db.session.commit()
    except ServiceError as error:
        show_service_error(None, error)
        return redirect(url_for("cities_admin.import_status", uuid=uuid))
    flash(_("The import was cancelled. Nothing was written to the directory."), "success")
    return redirect(url_for("cities_admin.import_upload"))


# --- merge -------------------------------------------------------------------------------------


def _chosen_cities(form: CityMergeForm):
    """The two cities the form names, or None with the form's fields marked."""
    duplicate, keep = find_city(form.duplicate.data), find_city(form.keep.data)
    for field, city in ((form.duplicate, duplicate), (form.keep, keep)):
        if city is None:
            field.errors = [*field.errors, _("No city has this short name.")]
    if duplicate is None or keep is None:
        return None
    return duplicate, keep


@bp.route("/secretariat/cities/merge", methods=["GET", "POST"])
@staff_required
def merge():
    """Choose the two cities, then see what the merge would move (nothing is written here)."""
    # A GET may name the cities (?duplicate=…&keep=…), e.g. from a link on a city's page.
    form = CityMergeForm() if request.method == "POST" else CityMergeForm(request.args or None)
    plan = None
    if form.validate_on_submit():
        chosen = _chosen_cities(form)
        if chosen is not None:
            try:
                plan = plan_merge(current_user, *chosen)
            except ServiceError as error:
                show_service_error(form, error)
    elif request.method == "POST":
        flash(_("Please correct the marked fields."), "error")
    return render_template("cities/admin/merge.html", form=form, plan=plan)


@bp.post("/secretariat/cities/merge/confirm")
@staff_required
def merge_confirm():
    form = CityMergeForm()
    if form.validate_on_submit():
        chosen = _chosen_cities(form)
        if chosen is not None:
            duplicate, keep = chosen
            try:
                merge_cities(current_user, duplicate, keep)
                db.session.commit()
            except ServiceError as error:
                show_service_error(form, error)
            else:
                flash(
                    _(
                        "%(duplicate)s was merged into %(keep)s.",
                        duplicate=duplicate.slug,
                        keep=keep.slug,
                    ),
                    "success",
                )
                return redirect(url_for("cities_admin.merge"))
    else:
        flash(_("Please correct the marked fields."), "error")
    return render_template("cities/admin/merge.html", form=form, plan=None)
