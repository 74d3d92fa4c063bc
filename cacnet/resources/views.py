"""The resource exchange's pages: the board, posting, a post with its responses and threads, and
a city's dashboard. Thin: every rule is in ``services``."""

from __future__ import annotations

import time
from datetime import date

import click
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from cacnet.cities.models import Contact
from cacnet.cities.regions import MACRO_REGIONS
from cacnet.core.db import db
from cacnet.core.errors import PermissionDenied, ServiceError
from cacnet.core.i18n import current_language
from cacnet.core.web import members_only as web_members_only
from cacnet.core.web import show_service_error
from cacnet.resources import services
from cacnet.resources.forms import (
    CONDITION_LABELS,
    KIND_LABELS,
    URGENCY_LABELS,
    DecisionForm,
    MessageForm,
    PostForm,
    RespondForm,
    SettleForm,
)
from cacnet.resources.matching import matches_for
from cacnet.resources.models import (
    PostState,
    ResourceCategory,
    ResourcePost,
    ResourceResponse,
    ResponseState,
)

bp = Blueprint("resources", __name__)


def _labels():
    from flask_babel import lazy_gettext as _l
    from flask_babel import lazy_pgettext

    return {
        "post_states": {
            PostState.OPEN: _l("open"),
            PostState.PARTLY_MET: _l("partly met"),
            PostState.MET: _l("met"),
            PostState.CLOSED: _l("closed"),
            PostState.WITHDRAWN: lazy_pgettext("post", "withdrawn"),
            PostState.EXPIRED: _l("expired"),
        },
        "response_states": {
            ResponseState.PENDING: _l("waiting for an answer"),
            ResponseState.ACCEPTED: _l("accepted"),
            ResponseState.DECLINED: _l("declined"),
            ResponseState.WITHDRAWN: lazy_pgettext("response", "withdrawn"),
            ResponseState.DELIVERED: _l("delivered"),
            ResponseState.FELL_THROUGH: _l("fell through"),
        },
        "kinds": KIND_LABELS,
        "urgencies": URGENCY_LABELS,
        "conditions": CONDITION_LABELS,
        "units": services.UNIT_LABELS,
    }


members_only = web_members_only(services.MEMBERS_ONLY)


@bp.app_template_filter("quantity")
def _quantity_filter(value) -> str:
    return services.format_quantity(value) if value is not None else ""


@bp.app_template_filter("unit_label")
def _unit_label_filter(unit: str) -> str:
    return services.unit_label(unit)


@bp.app_context_processor
def _exchange_helpers():
    def unread_messages() -> int:
        try:
            return services.unread_count(current_user) if services.is_member(current_user) else 0
        except Exception:  # noqa: BLE001 - a count in the menu must never break a page
            return 0

    def category_name(category: ResourceCategory) -> str:
        if current_language() == "ko" and category.name_ko:
            return category.name_ko
        return category.name_en

    def quantity(value) -> str:
        return services.format_quantity(value) if value is not None else ""

    return {
        "exchange_labels": _labels(),
        "unread_messages": unread_messages,
        "category_name": category_name,
        "quantity": quantity,
        "is_exchange_member": lambda: services.is_member(current_user),
    }


def _categories() -> list[ResourceCategory]:
    return list(
        db.session.scalars(
            select(ResourceCategory)
            .where(ResourceCategory.active.is_(True))
            .order_by(ResourceCategory.group, ResourceCategory.position, ResourceCategory.id)
        )
    )


def _post_or_404(uuid: str) -> ResourcePost:
    post = services.visible_post(current_user, uuid)
    if post is None:
        abort(404)
    return post


def _response_or_404(uuid: str) -> ResourceResponse:
    response = db.session.scalar(select(ResourceResponse).where(ResourceResponse.uuid == uuid))
    if response is None or not services.can_see_post(current_user, response.post):
        abort(404)
    if not (current_user.is_secretariat or services.is_side(current_user, response)):
        abort(404)
    return response


# --- the board ---------------------------------------------------------------------------------


def _board_query() -> services.BoardQuery:
    args = request.args
    return services.BoardQuery(
        q=(args.get("q") or "")[:200].strip(),
        kind=args.get("kind") or "",
        category=(args.get("category") or "")[:60],
        country=(args.get("country") or "")[:2].upper(),
        region=args.get("region") if args.get("region") in MACRO_REGIONS else "",
        urgency=args.get("urgency") or "",
        status=args.get("status") or "live",
        sort=args.get("sort") or "urgency",
        page=args.get("page", 1, type=int) or 1,
    )


@bp.get("/resources/")
@members_only
def board():
    from cacnet.core.i18n import country_choices

    query = _board_query()
    pagination = services.board_page(current_user, query)
    return render_template(
        "resources/board.html",
        pagination=pagination,
        totals=services.accepted_totals(p.id for p in pagination.items),
        query=query,
        categories=_categories(),
        regions=MACRO_REGIONS,
        countries=country_choices(),
        statuses=services.STATUS_FILTERS,
        today=date.today(),
        count_cap=services.COUNT_CAP,
    )


# --- posting -----------------------------------------------------------------------------------


def _post_form(form: PostForm) -> PostForm:
    form.category_id.choices = [(0, _("Choose a category"))] + [
        (c.id, c.name_ko if current_language() == "ko" and c.name_ko else c.name_en)
        for c in _categories()
    ]
    contacts = (
        db.session.scalars(
            select(Contact)
            .where(Contact.city_id == current_user.city_id)
            .order_by(Contact.position, Contact.id)
        ).all()
        if current_user.city_id
        else []
    )
    form.contact_id.choices = [(0, _("No one in particular"))] + [
        (c.id, f"{c.name}{', ' + c.title if c.title else ''}") for c in contacts
    ]
    from cacnet.catalogue.services import public_products

    language = current_language()
    form.product_id.choices = [(0, _("None"))] + [
        (p.id, f"{p.name(language)} ({p.company.name(language)})") for p in public_products()
    ]
    return form


def _post_data(form: PostForm) -> services.PostData:
    return services.PostData(
        kind=form.kind.data or "",
        category_id=form.category_id.data or 0,
        title_en=form.title_en.data or "",
        title_ko=form.title_ko.data or "",
        description_en=form.description_en.data or "",
        description_ko=form.description_ko.data or "",
        quantity=form.quantity.data or "",
        unit=form.unit.data or "",
        urgency=form.urgency.data or "",
        available_from=form.available_from.data,
        needed_by=form.needed_by.data,
        expires_on=form.expires_on.data,
        delivery_note=form.delivery_note.data or "",
        conditions=form.conditions.data or "",
        contact_id=form.contact_id.data or None,
        product_id=form.product_id.data or None,
    )


@bp.route("/resources/new", methods=["GET", "POST"])
@members_only
def new_post():
    form = _post_form(PostForm())
    if request.method == "GET":
        if request.args.get("kind") in ("offer", "request"):
            form.kind.data = request.args["kind"]
        try:
            services.require_active_delegate(current_user)
        except PermissionDenied as error:
            flash(str(error.message), "error")
            return redirect(url_for("resources.board"))
    if form.validate_on_submit():
        try:
            post = services.create_post(current_user, _post_data(form))
            db.session.commit()
        except ServiceError as error:
            show_service_error(form, error)
        else:
            flash(_("Your post is on the board."), "success")
            return redirect(url_for("resources.post_page", uuid=post.uuid))
    elif request.method == "POST":
        flash(_("Please correct the marked fields."), "error")
    return render_template("resources/edit.html", form=form, post=None), (
        422 if request.method == "POST" else 200
    )


@bp.route("/resources/<uuid>/edit", methods=["GET", "POST"])
@members_only
def edit_post(uuid: str):
    post = _post_or_404(uuid)
    if post.city_id != current_user.city_id:
        abort(403)
    form = _post_form(PostForm(obj=post if request.method == "GET" else None))
    if request.method == "GET":
        form.kind.data = post.kind.value
        form.quantity.data = services.format_quantity(post.quantity)
        form.urgency.data = post.urgency.value
        form.conditions.data = post.conditions.value
        form.contact_id.data = post.contact_id or 0
        form.product_id.data = post.product_id or 0
    if form.validate_on_submit():
        try:
            services.update_post(current_user, post, _post_data(form))
            db.session.commit()
        except ServiceError as error:
            db.session.rollback()
            show_service_error(form, error)
        else:
            flash(_("The post is updated."), "success")
            return redirect(url_for("resources.post_page", uuid=post.uuid))
    elif request.method == "POST":
        flash(_("Please correct the marked fields."), "error")
    return render_template("resources/edit.html", form=form, post=post)


@bp.post("/resources/<uuid>/<action>")
@members_only
def post_action(uuid: str, action: str):
    actions = {"close": services.close_post, "withdraw": services.withdraw_post}
    if action not in actions:
        abort(404)
    post = _post_or_404(uuid)
    form = SettleForm()
    if form.validate_on_submit():
        try:
            actions[action](current_user, post)
            db.session.commit()
        except ServiceError as error:
            db.session.rollback()
            show_service_error(None, error)
        else:
            flash(_("The post is closed.") if action == "close" else _("The post is withdrawn."),
                  "success")  # fmt: skip
    return redirect(url_for("resources.post_page", uuid=post.uuid))


# --- a post ------------------------------------------------------------------------------------


@bp.get("/resources/<uuid>")
@members_only
def post_page(uuid: str):
    from cacnet.cities.services import contact_visibility

    post = _post_or_404(uuid)
    if services.expire_if_due(post):
        db.session.commit()
    responses = services.visible_responses(current_user, post)
    for response in responses:
        if services.is_side(current_user, response):
            services.mark_read(current_user, response)
    db.session.commit()
    contact = None
    if post.contact_id:
        contact = db.session.scalar(
            select(Contact).where(Contact.id == post.contact_id, contact_visibility(current_user))
        )
    matches = matches_for(current_user, post)
    is_poster = current_user.city_id == post.city_id
    can_respond = (
        not is_poster
        and current_user.city_id is not None
        and current_user.acts_for_active_city
        and post.is_live
        and not any(r.state == ResponseState.PENDING and r.city_id == current_user.city_id
                    for r in responses)
    )  # fmt: skip
    left = services.remaining(post)
    form = RespondForm()
    if request.method == "GET" and not form.quantity.data:
        form.quantity.data = services.format_quantity(left)
    return render_template(
        "resources/post.html",
        post=post,
        responses=responses,
        left=left,
        accepted=post.quantity - left if left <= post.quantity else post.quantity,
        contact=contact,
        matches=matches,
        is_poster=is_poster,
        can_act=current_user.acts_for_active_city,
        can_respond=can_respond,
        form=form,
        csrf_form=SettleForm(),
    )


@bp.post("/resources/<uuid>/respond")
@members_only
def respond(uuid: str):
    post = _post_or_404(uuid)
    form = RespondForm()
    if form.validate_on_submit():
        try:
            services.respond(current_user, post, form.quantity.data, form.message.data or "",
                             form.proposed_date.data)  # fmt: skip
            db.session.commit()
        except ServiceError as error:
            db.session.rollback()
            show_service_error(None, error)
        else:
            flash(_("Your response is sent; the city that posted it will answer."), "success")
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
    return redirect(url_for("resources.post_page", uuid=post.uuid) + "#responses")


@bp.post("/resources/responses/<uuid>/<action>")
@members_only
def response_action(uuid: str, action: str):
    response = _response_or_404(uuid)
    post = response.post
    back = url_for("resources.post_page", uuid=post.uuid) + f"#response-{response.uuid}"
    done = {
        "accept": _("The response is accepted."),
        "decline": _("The response is declined."),
        "withdraw": _("Your response is withdrawn."),
        "delivered": _("Marked as delivered."),
        "fell-through": _("Marked as fallen through; the quantity is available again."),
        "message": _("Your message is sent."),
    }
    if action not in done:
        abort(404)
    form = {"accept": DecisionForm, "decline": DecisionForm, "message": MessageForm}.get(
        action, SettleForm
    )()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
        return redirect(back)
    try:
        if action == "accept":
            services.accept(current_user, response, form.quantity.data, form.message.data or "")
        elif action == "decline":
            services.decline(current_user, response, form.message.data or "")
        elif action == "withdraw":
            services.withdraw_response(current_user, response)
        elif action in ("delivered", "fell-through"):
            services.settle(current_user, response, action == "delivered", form.message.data or "")
        else:
            services.post_message(current_user, response, form.body.data)
        db.session.commit()
    except ServiceError as error:
        db.session.rollback()
        show_service_error(None, error)
    else:
        flash(done[action], "success")
    return redirect(back)


# --- my city's exchange ------------------------------------------------------------------------


@bp.get("/resources/mine")
@members_only
def dashboard():
    if current_user.city_id is None:
        return redirect(url_for("resources.board"))
    return render_template("resources/dashboard.html", **services.dashboard(current_user))


# --- the daily work ----------------------------------------------------------------------------


@click.group("resources")
def resources_cli():
    """The resource exchange's scheduled work."""


@resources_cli.command("tick")
@with_appcontext
def tick_command():
    """Expire posts past their date, remind posters before expiry, send the daily digests. Run it
    from cron if you like (hourly is fine: each step does its work once); the app also queues it
    by itself at most once an hour."""
    done = run_tick()
    click.echo(", ".join(f"{key} {value}" for key, value in done.items()))


def run_tick() -> dict[str, int]:
    """The tick as a background job: with a request context for the e-mails' links."""
    app = current_app._get_current_object()
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        return services.tick()


TICK_EVERY = 3600  # seconds
_next_check = 0.0  # per process: look at the shared cache at most once a minute


@bp.before_app_request
def auto_tick():
    """Queue the exchange's clock work at most once an hour across all app servers (an atomic
    add in the shared cache elects one request), so expiry, reminders and digests happen even
    where nobody set up cron."""
    global _next_check
    if not current_app.config.get("RESOURCES_AUTO_TICK", True) or request.endpoint == "static":
        return
    now = time.monotonic()
    if now < _next_check:
        return
    _next_check = now + 60
    from cacnet.core.cache import cache
    from cacnet.core.jobs import enqueue

    try:
        if cache.add("resources:tick", 1, timeout=TICK_EVERY):
            enqueue("cacnet.resources.views.run_tick")
    except Exception:  # noqa: BLE001 - the clock work must never break a page
        current_app.logger.exception("could not queue the exchange's tick")
