"""The Statement's public pages and the secretariat's drafting of new versions."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from cacnet.accounts.forms import ConfirmForm
from cacnet.core.db import db
from cacnet.core.errors import ServiceError
from cacnet.core.text import render_markdown
from cacnet.core.web import show_service_error, staff_required
from cacnet.statement import services
from cacnet.statement.forms import StatementDraftForm
from cacnet.statement.models import StatementVersion

bp = Blueprint("statement", __name__)


def _render_version(version: StatementVersion, *, preview: bool = False):
    return render_template(
        "statement/statement.html",
        version=version,
        body_en=render_markdown(version.body_en),
        body_ko=render_markdown(version.body_ko),
        current=services.current_version(),
        versions=services.published_versions(),
        preview=preview,
    )


@bp.get("/statement")
def current():
    version = services.current_version()
    if version is None:
        abort(404)
    return _render_version(version)


@bp.get("/statement/v/<int:number>")
def version(number: int):
    found = services.published_version(number)
    if found is None:
        abort(404)
    return _render_version(found)


@bp.get("/statement/v/<int:number>/diff")
def diff(number: int):
    new = services.published_version(number)
    against = request.args.get("against", number - 1, type=int)
    old = services.published_version(against) if against is not None else None
    if new is None or old is None or old.number == new.number:
        abort(404)
    return render_template(
        "statement/diff.html",
        new=new,
        old=old,
        title_changed=(old.title_en != new.title_en, old.title_ko != new.title_ko),
        diff_en=services.diff(old.body_en, new.body_en),
        diff_ko=services.diff(old.body_ko, new.body_ko),
        versions=services.published_versions(),
    )


# --- the secretariat ---------------------------------------------------------------------------


def _any_version(number: int) -> StatementVersion:
    from sqlalchemy import select

    found = db.session.scalar(select(StatementVersion).where(StatementVersion.number == number))
    if found is None:
        abort(404)
    return found


@bp.get("/secretariat/statement/")
@staff_required
def versions():
    return render_template(
        "statement/versions.html",
        versions=services.all_versions(current_user),
        draft=services.open_draft(),
        form=ConfirmForm(),
    )


@bp.post("/secretariat/statement/new")
@staff_required
def new_draft():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        draft = services.create_draft(current_user)
    except ServiceError as error:
        show_service_error(None, error)
        return redirect(url_for("statement.versions"))
    db.session.commit()
    return redirect(url_for("statement.edit_draft", number=draft.number))


@bp.route("/secretariat/statement/<int:number>/edit", methods=["GET", "POST"])
@staff_required
def edit_draft(number: int):
    draft = _any_version(number)
    if draft.is_published:
        flash(_("A published version can never be changed."), "error")
        return redirect(url_for("statement.versions"))
    form = StatementDraftForm(obj=draft)
    if form.validate_on_submit():
        data = services.VersionText(
            form.title_en.data, form.title_ko.data, form.body_en.data, form.body_ko.data,
            form.note.data or "",
        )  # fmt: skip
        try:
            services.update_draft(current_user, draft, data)
        except ServiceError as error:
            show_service_error(form, error)
        else:
            db.session.commit()
            flash(_("The draft has been saved."), "success")
            return redirect(url_for("statement.preview_draft", number=number))
    elif request.method == "POST":
        flash(_("Please correct the marked fields."), "error")
    return render_template("statement/edit.html", form=form, draft=draft)


@bp.get("/secretariat/statement/<int:number>/preview")
@staff_required
def preview_draft(number: int):
    draft = _any_version(number)
    if draft.is_published:
        return redirect(url_for("statement.version", number=number))
    return _render_version(draft, preview=True)


@bp.post("/secretariat/statement/<int:number>/<any(publish, delete):action>")
@staff_required
def draft_action(number: int, action: str):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    draft = _any_version(number)
    try:
        if action == "publish":
            services.publish(current_user, draft)
        else:
            services.delete_draft(current_user, draft)
    except ServiceError as error:
        show_service_error(None, error)
        return redirect(url_for("statement.versions"))
    db.session.commit()
    if action == "publish":
        flash(_("Version %(number)d is published.", number=number), "success")
        return redirect(url_for("statement.current"))
    flash(_("The draft has been deleted."), "success")
    return redirect(url_for("statement.versions"))
