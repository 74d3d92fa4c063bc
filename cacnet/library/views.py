"""The library's pages: the list with its search and filters, a case, writing and changing a
case, its attachments and links, publishing, and the open-data export /library.json. Thin: the
rules are in ``services``."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from cacnet.areas import services as areas
from cacnet.core.db import db
from cacnet.core.errors import ServiceError
from cacnet.core.i18n import country_name
from cacnet.core.text import render_markdown
from cacnet.core.uploads import send_stored
from cacnet.core.web import show_service_error
from cacnet.library import services
from cacnet.library.forms import (
    SORT_LABELS,
    ActionForm,
    AttachmentForm,
    CaseForm,
    LinkForm,
)
from cacnet.library.models import CaseAttachment, CaseLink, CaseVisibility, LibraryCase

bp = Blueprint("library", __name__)


@bp.app_context_processor
def _library_helpers():
    return {"render_markdown": render_markdown}


def _case_or_login(case_id: int) -> LibraryCase:
    """The case if the visitor may see it. A visitor who is not signed in is asked to sign in
    whether or not the case exists (members-only cases are linked from members' mail and pages),
    so the answer tells nobody which cases exist."""
    case = services.visible_case(current_user, case_id)
    if case is None:
        if not current_user.is_authenticated:
            abort(current_app.login_manager.unauthorized())
        abort(404)
    return case


def _editable(case_id: int) -> LibraryCase:
    case = _case_or_login(case_id)
    if not services.can_edit(current_user, case):
        abort(403)
    return case


# --- the list ----------------------------------------------------------------------------------


@bp.get("/library/")
def case_list():
    args = request.args
    query = services.CaseQuery(
        q=(args.get("q") or "")[:200].strip(),
        area=(args.get("area") or "")[:60],
        city=(args.get("city") or "")[:120],
        country=(args.get("country") or "")[:2],
        sort=args.get("sort") if args.get("sort") in services.SORTS else "newest",
        page=args.get("page", 1, type=int) or 1,
    )
    cities = services.filter_cities(current_user)
    countries = sorted({c.country_code for c in cities}, key=lambda code: country_name(code))
    return render_template(
        "library/list.html",
        pagination=services.list_page(current_user, query),
        query=query,
        area_choices=areas.slug_choices(_("All areas")),
        cities=cities,
        countries=countries,
        sort_labels=SORT_LABELS,
        can_write=services.can_write(current_user),
    )


# --- a case ------------------------------------------------------------------------------------


@bp.get("/library/<int:case_id>")
def case_page(case_id: int):
    case = _case_or_login(case_id)
    can_edit = services.can_edit(current_user, case)
    return render_template(
        "library/case.html",
        case=case,
        can_edit=can_edit,
        action_form=ActionForm(),
    )


def _form(form: CaseForm, case: LibraryCase | None = None) -> CaseForm:
    form.area_id.choices = areas.choices(_("Choose an area"))
    if current_user.is_secretariat:
        form.city_id.choices = [(c.id, c.name_en) for c in services.member_cities()]
    else:
        del form.city_id
    return form


def _data(form: CaseForm) -> services.CaseData:
    area_id = form.area_id.data
    return services.CaseData(
        area_id=int(area_id) if area_id and str(area_id).isdigit() else None,
        started_on=form.started_on.data,
        ended_on=form.ended_on.data,
        title_en=form.title_en.data or "",
        title_ko=form.title_ko.data or "",
        summary_en=form.summary_en.data or "",
        summary_ko=form.summary_ko.data or "",
        body_en=form.body_en.data or "",
        body_ko=form.body_ko.data or "",
        results_en=form.results_en.data or "",
        results_ko=form.results_ko.data or "",
        visibility=form.visibility.data or "",
        city_id=form.city_id.data if "city_id" in form else None,
    )


def _render_form(form: CaseForm, case: LibraryCase | None, status: int = 200):
    return render_template("library/edit.html", form=form, case=case), status


@bp.route("/library/new", methods=["GET", "POST"])
def new_case():
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    services.require_writer(current_user)  # a 403 with the reason for anyone else
    form = _form(CaseForm())
    if request.method == "GET":
        if "city_id" in form and current_user.city_id:
            form.city_id.data = current_user.city_id
        return _render_form(form, None)
    if form.validate_on_submit():
        publish = request.form.get("action") == "publish"
        try:
            case = services.create_case(current_user, _data(form), publish=publish)
        except ServiceError as error:
            show_service_error(form, error)
        else:
            if publish:
                flash(_("The case is published."), "success")
            else:
                flash(_("The draft is saved. Add attachments and links, then publish it."),
                      "success")  # fmt: skip
            return redirect(url_for("library.case_page", case_id=case.id))
    else:
        flash(_("Please correct the marked fields."), "error")
    return _render_form(form, None, 422)


@bp.route("/library/<int:case_id>/edit", methods=["GET", "POST"])
def edit_case(case_id: int):
    case = _editable(case_id)
    form = _form(CaseForm(obj=case if request.method == "GET" else None), case)
    if request.method == "GET":
        form.area_id.data = str(case.area_id)
        form.visibility.data = case.visibility.value
        return _render_form(form, case)
    if form.validate_on_submit():
        try:
            services.update_case(current_user, case, _data(form))
        except ServiceError as error:
            show_service_error(form, error)
        else:
            flash(_("The case is saved."), "success")
            return redirect(url_for("library.case_page", case_id=case.id))
    else:
        flash(_("Please correct the marked fields."), "error")
    return _render_form(form, case, 422)


@bp.post("/library/<int:case_id>/<any(publish, unpublish):action>")
def change_state(case_id: int, action: str):
    case = _editable(case_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        if action == "publish":
            services.publish_case(current_user, case)
        else:
            services.unpublish_case(current_user, case)
    except ServiceError as error:
        show_service_error(None, error)
    else:
        if action == "publish":
            flash(_("The case is published."), "success")
        else:
            flash(_("The case is back to a draft: only its city and the secretariat see it."),
                  "success")  # fmt: skip
    return redirect(url_for("library.case_page", case_id=case.id))


# --- attachments and links ---------------------------------------------------------------------


@bp.route("/library/<int:case_id>/attachments", methods=["GET", "POST"])
def attachments(case_id: int):
    case = _editable(case_id)
    form = AttachmentForm()
    link_form = LinkForm(prefix="link")
    status = 200
    if request.method == "POST":
        status = 422
        storage = form.file.data
        if not form.validate_on_submit():
            abort(400)
        if not storage or not getattr(storage, "filename", ""):
            form.file.errors = [_("Choose a file to attach.")]
        else:
            try:
                services.add_attachment(current_user, case, storage.filename, storage.read())
            except ServiceError as error:
                show_service_error(form, error)
            else:
                flash(_("The attachment is added."), "success")
                return redirect(url_for("library.attachments", case_id=case.id))
    return render_template("library/attachments.html", case=case, form=form,
                           link_form=link_form, action_form=ActionForm()), status  # fmt: skip


@bp.post("/library/<int:case_id>/links")
def add_link(case_id: int):
    case = _editable(case_id)
    form = AttachmentForm()
    link_form = LinkForm(prefix="link")
    if link_form.validate_on_submit():
        try:
            services.add_link(current_user, case, link_form.title.data, link_form.url.data)
        except ServiceError as error:
            show_service_error(link_form, error)
        else:
            flash(_("The link is added."), "success")
            return redirect(url_for("library.attachments", case_id=case.id) + "#links")
    else:
        flash(_("Please correct the marked fields."), "error")
    return render_template("library/attachments.html", case=case, form=form,
                           link_form=link_form, action_form=ActionForm()), 422  # fmt: skip


@bp.post("/library/<int:case_id>/attachments/<int:attachment_id>/remove")
def remove_attachment(case_id: int, attachment_id: int):
    case = _editable(case_id)
    found = db.session.get(CaseAttachment, attachment_id)
    if found is None or found.case_id != case.id:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.remove_attachment(current_user, found)
    except ServiceError as error:
        show_service_error(None, error)
    else:
        flash(_("The attachment is removed."), "success")
    return redirect(url_for("library.attachments", case_id=case.id))


@bp.post("/library/<int:case_id>/links/<int:link_id>/remove")
def remove_link(case_id: int, link_id: int):
    case = _editable(case_id)
    found = db.session.get(CaseLink, link_id)
    if found is None or found.case_id != case.id:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.remove_link(current_user, found)
    except ServiceError as error:
        show_service_error(None, error)
    else:
        flash(_("The link is removed."), "success")
    return redirect(url_for("library.attachments", case_id=case.id) + "#links")


@bp.get("/library/<int:case_id>/attachments/<int:attachment_id>")
def attachment(case_id: int, attachment_id: int):
    """The file, only to those who may see the case (checked before anything is read)."""
    case = _case_or_login(case_id)
    found = db.session.get(CaseAttachment, attachment_id)
    if found is None or found.case_id != case.id:
        abort(404)
    public = case.is_published and case.visibility == CaseVisibility.PUBLIC
    return send_stored(found.sha256, services.UPLOAD_FOLDER, found.extension, found.content_type,
                       cache_control="public, max-age=3600" if public else "private, no-store",
                       download_name=found.filename,
                       as_attachment=found.content_type == "application/pdf")  # fmt: skip


# --- the open-data export ----------------------------------------------------------------------


def case_json(case: LibraryCase) -> dict:
    return {
        "id": case.id,
        "url": url_for("library.case_page", case_id=case.id, _external=True),
        "title": {"en": case.title_en or None, "ko": case.title_ko or None},
        "summary": {"en": case.summary_en or None, "ko": case.summary_ko or None},
        "description": {"en": case.body_en or None, "ko": case.body_ko or None},
        "results": {"en": case.results_en or None, "ko": case.results_ko or None},
        "area": {"slug": case.area.slug, "en": case.area.name_en, "ko": case.area.name_ko},
        "city": {
            "name": case.city.name_en,
            "local_name": case.city.name_local or None,
            "country": case.city.country_code,
            "url": url_for("cities.city_page", slug=case.city.slug, _external=True),
        },
        "started_on": case.started_on.isoformat(),
        "ended_on": case.ended_on.isoformat() if case.ended_on else None,
        "visibility": case.visibility.value,
        "published_at": case.published_at.isoformat() if case.published_at else None,
        "links": [{"title": link.title, "url": link.url} for link in case.links],
        "attachments": [
            {
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "url": url_for(
                    "library.attachment", case_id=case.id, attachment_id=a.id, _external=True
                ),
            }
            for a in case.attachments
        ],
    }


@bp.get("/library.json")
def export_json():
    """The published cases the viewer may see (visitors: the public ones), as open data."""
    cases = services.exported_cases(current_user)
    response = jsonify({"cases": [case_json(c) for c in cases], "count": len(cases)})
    response.headers["Cache-Control"] = (
        "private, no-store" if current_user.is_authenticated else "public, max-age=300"
    )
    response.headers["Vary"] = "Cookie"
    return response
