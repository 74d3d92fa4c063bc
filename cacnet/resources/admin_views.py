"""The exchange's exports, category subscriptions, and the secretariat's moderation page. Thin:
the rules are in ``exports``, ``digest`` and ``moderation``."""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from cacnet.accounts.forms import ConfirmForm
from cacnet.core.db import db
from cacnet.core.errors import ServiceError
from cacnet.core.web import show_service_error, staff_required
from cacnet.resources import digest, exports, moderation
from cacnet.resources.admin_forms import (
    GROUP_LABELS,
    CategoryAddForm,
    CategorySubscribeForm,
    PostHideForm,
)
from cacnet.resources.models import CategoryGroup, PostState, ResourceCategory, ResourcePost
from cacnet.resources.views import members_only  # noqa: E402 - one guard for both blueprints

bp = Blueprint("resources_admin", __name__)


@bp.context_processor
def _helpers():
    return {"group_labels": GROUP_LABELS, "post_states": tuple(PostState)}


def _categories_by_group(active_only: bool = True) -> list[tuple[CategoryGroup, list]]:
    stmt = select(ResourceCategory).order_by(ResourceCategory.position, ResourceCategory.id)
    if active_only:
        stmt = stmt.where(ResourceCategory.active.is_(True))
    categories = list(db.session.scalars(stmt))
    return [(g, [c for c in categories if c.group == g]) for g in CategoryGroup]


# --- exports -----------------------------------------------------------------------------------


def _export(chunks, mimetype: str, extension: str) -> Response:
    response = Response(stream_with_context(chunks), mimetype=mimetype)
    response.charset = "utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="resource-exchange-{date.today().isoformat()}.{extension}"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/resources/export.csv")
@members_only
def export_csv():
    chunks = exports.csv_chunks(current_user, exports.query_from_args(request.args))
    return _export(chunks, "text/csv", "csv")


@bp.get("/resources/export.json")
@members_only
def export_json():
    chunks = exports.json_chunks(current_user, exports.query_from_args(request.args))
    return _export(chunks, "application/json", "json")


# --- subscriptions -----------------------------------------------------------------------------


@bp.route("/resources/subscriptions", methods=["GET", "POST"])
@members_only
def subscriptions():
    groups = _categories_by_group()
    form = CategorySubscribeForm()
    form.categories.choices = [(c.id, c.name_en) for _g, cs in groups for c in cs]
    if form.validate_on_submit():
        try:
            digest.subscribe(current_user, form.categories.data or [])
            db.session.commit()
        except ServiceError as error:
            show_service_error(form, error)
        else:
            flash(_("Your choice of categories is saved."), "success")
            return redirect(url_for("resources_admin.subscriptions"))
    elif request.method == "POST":
        flash(_("Please correct the marked fields."), "error")
    chosen = (
        set(form.categories.data or [])
        if request.method == "POST"
        else {s.category_id for s in digest.subscriptions(current_user)}
    )
    return render_template("resources/subscriptions.html", form=form, groups=groups, chosen=chosen)


# --- the secretariat ---------------------------------------------------------------------------


def _post(uuid: str) -> ResourcePost:
    post = db.session.scalar(select(ResourcePost).where(ResourcePost.uuid == uuid))
    if post is None:
        abort(404)
    return post


def _secretariat_page(category_form: CategoryAddForm | None = None):
    return render_template(
        "resources/admin/index.html",
        stats=moderation.statistics(),
        hidden=moderation.hidden_posts(current_user),
        groups=_categories_by_group(active_only=False),
        category_form=category_form or CategoryAddForm(),
        unhide_form=ConfirmForm(),
    )


@bp.get("/secretariat/resources/")
@staff_required
def secretariat():
    return _secretariat_page()


@bp.route("/secretariat/resources/<uuid>/hide", methods=["GET", "POST"])
@staff_required
def hide_post(uuid: str):
    post = _post(uuid)
    form = PostHideForm()
    if form.validate_on_submit():
        try:
            moderation.hide_post(current_user, post, form.reason.data)
            db.session.commit()
        except ServiceError as error:
            show_service_error(form, error)
        else:
            flash(_("The post is hidden and its city has been told why."), "success")
            return redirect(url_for("resources_admin.secretariat"))
    elif request.method == "POST":
        flash(_("Please correct the marked fields."), "error")
    return render_template("resources/admin/hide.html", post=post, form=form)


@bp.post("/secretariat/resources/<uuid>/unhide")
@staff_required
def unhide_post(uuid: str):
    post = _post(uuid)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        moderation.unhide_post(current_user, post)
        db.session.commit()
    except ServiceError as error:
        show_service_error(None, error)
    else:
        flash(_("The post is shown on the exchange again."), "success")
    return redirect(url_for("resources_admin.secretariat"))


@bp.post("/secretariat/resources/categories")
@staff_required
def add_category():
    form = CategoryAddForm()
    if form.validate_on_submit():
        try:
            category = moderation.add_category(
                current_user, form.slug.data, form.group.data, form.name_en.data,
                form.name_ko.data or "", form.default_unit.data,
            )  # fmt: skip
            db.session.commit()
        except ServiceError as error:
            show_service_error(form, error)
        else:
            flash(_("The category %(name)s is added.", name=category.name_en), "success")
            return redirect(url_for("resources_admin.secretariat") + "#categories")
    else:
        flash(_("Please correct the marked fields."), "error")
    return _secretariat_page(form)
