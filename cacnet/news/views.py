"""The news pages: the list, an item, writing and changing, the secretariat's moderation queue,
/news.atom, and the weekly digest's setting and unsubscribe link. Thin: the rules are in
``services`` and ``digest``."""

from __future__ import annotations

from urllib.parse import urlparse

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from cacnet.core.cache import cache
from cacnet.core.db import db
from cacnet.core.errors import PermissionDenied, ServiceError
from cacnet.core.i18n import current_language
from cacnet.core.permissions import is_network_member
from cacnet.core.text import render_markdown
from cacnet.core.uploads import send_stored
from cacnet.core.web import show_service_error, staff_required
from cacnet.news import digest, services
from cacnet.news.forms import (
    CATEGORY_LABELS,
    STATE_LABELS,
    VISIBILITY_LABELS,
    ActionForm,
    DigestForm,
    NewsForm,
    RejectForm,
)
from cacnet.news.models import NewsCategory, NewsItem, NewsState

bp = Blueprint("news", __name__)

FEED_TTL = 60  # seconds

bp.before_app_request(digest.weekly_trigger)


@bp.app_template_filter("news_category")
def _category_label(value) -> str:
    try:
        return str(CATEGORY_LABELS[NewsCategory(value)])
    except ValueError:
        return str(value)


@bp.app_context_processor
def _news_helpers():
    return {
        "news_labels": {
            "categories": CATEGORY_LABELS,
            "states": STATE_LABELS,
            "visibility": VISIBILITY_LABELS,
        },
        "news_markdown": render_markdown,
    }


def _item_or_404(item_id: int) -> NewsItem:
    item = services.visible_item(current_user, item_id)
    if item is None:
        abort(404)
    return item


def _text(item: NewsItem) -> dict:
    """The item's texts in the page's language (or the other one when that is all there is),
    with the language they are in, for the ``lang`` attribute."""
    locale = current_language()
    title, title_lang = item.title_for(locale)
    summary, summary_lang = item.summary_for(locale)
    body, body_lang = item.body_for(locale)
    alt, alt_lang = item.alt_for(locale)
    return {
        "title": title,
        "title_lang": title_lang,
        "summary": summary,
        "summary_lang": summary_lang,
        "body": render_markdown(body),
        "body_lang": body_lang,
        "alt": alt,
        "alt_lang": alt_lang,
    }


# --- reading -----------------------------------------------------------------------------------


@bp.get("/news/")
def news_list():
    category = (request.args.get("category") or "")[:20]
    if category and category not in {c.value for c in NewsCategory}:
        category = ""
    page = request.args.get("page", 1, type=int) or 1
    pagination = services.list_page(current_user, category, page)
    return render_template(
        "news/list.html",
        pagination=pagination,
        category=category,
        text=_text,
        can_write=services.can_write(current_user),
        own=services.own_items(current_user),
        is_member=is_network_member(current_user),
    )


@bp.get("/news/<int:item_id>")
def detail(item_id: int):
    item = _item_or_404(item_id)
    return render_template(
        "news/detail.html",
        item=item,
        t=_text(item),
        can_edit=services.can_edit(current_user, item),
        can_withdraw=services.can_withdraw(current_user, item),
        can_submit=services.can_edit(current_user, item)
        and not current_user.is_secretariat
        and item.state in services.EDITABLE_BY_CITY,
        can_moderate=current_user.is_authenticated
        and current_user.is_secretariat
        and item.state in (NewsState.SUBMITTED, NewsState.DRAFT),
        action_form=ActionForm(),
        reject_form=RejectForm(),
    )


@bp.get("/news/<int:item_id>/image")
def image(item_id: int):
    item = _item_or_404(item_id)
    if not item.image_sha256:
        abort(404)
    public = item.state == NewsState.PUBLISHED and item.is_public
    return send_stored(item.image_sha256, "news", item.image_extension, item.image_type,
                       cache_control=("public" if public else "private") + ", max-age=3600")  # fmt: skip


@bp.get("/news.atom")
def feed():
    """The public published items, newest first (members-only items never appear here)."""
    body = cache.get(services.FEED_CACHE_KEY)
    if body is None:
        items = services.feed_items()
        updated = max((i.updated_at for i in items), default=None)
        authority = urlparse(current_app.config["BASE_URL"]).hostname or "localhost"
        body = render_template(
            "news/feed.atom.xml", items=items, updated=updated, tag_authority=authority
        )
        cache.set(services.FEED_CACHE_KEY, body, timeout=FEED_TTL)
    response = Response(body, mimetype="application/atom+xml")
    response.headers["Cache-Control"] = f"public, max-age={FEED_TTL}"
    return response


# --- writing -----------------------------------------------------------------------------------


def _form(form: NewsForm) -> NewsForm:
    categories = list(CATEGORY_LABELS.items())
    if not current_user.is_secretariat:
        categories = [(c, label) for c, label in categories if c in services.CITY_CATEGORIES]
    form.category.choices = [(c.value, label) for c, label in categories]
    if current_user.is_secretariat:
        form.city_id.choices = [(0, _("None: the secretariat's item"))] + [
            (c.id, c.name_en) for c in services.member_cities()
        ]
    else:
        del form.city_id
    return form


def _data(form: NewsForm) -> services.NewsData:
    upload = form.image.data
    image_bytes = upload.read() if upload and getattr(upload, "filename", "") else None
    return services.NewsData(
        title_en=form.title_en.data or "",
        title_ko=form.title_ko.data or "",
        summary_en=form.summary_en.data or "",
        summary_ko=form.summary_ko.data or "",
        body_en=form.body_en.data or "",
        body_ko=form.body_ko.data or "",
        category=form.category.data or "news",
        visibility=form.visibility.data or "public",
        city_id=(form.city_id.data or None) if getattr(form, "city_id", None) is not None else None,
        image=image_bytes,
        remove_image=bool(form.remove_image.data),
        image_alt_en=form.image_alt_en.data or "",
        image_alt_ko=form.image_alt_ko.data or "",
    )


def _done_message(item: NewsItem, action: str) -> str:
    if item.state == NewsState.PUBLISHED:
        return _("The item is published.")
    if item.state == NewsState.SUBMITTED:
        return _("The story is sent to the secretariat, who will publish it or tell you why not.")
    return _("The draft is saved. Only your city and the secretariat see it.")


def _save(form: NewsForm, item: NewsItem | None):
    action = request.form.get("action") or "save"
    if form.validate_on_submit():
        try:
            item = services.save_item(current_user, _data(form), item, action)
            db.session.commit()
        except ServiceError as error:
            show_service_error(form, error)
        else:
            flash(_done_message(item, action), "success")
            return redirect(url_for("news.detail", item_id=item.id))
    flash(_("Please correct the marked fields."), "error")
    return render_template("news/edit.html", form=form, item=item), 422


@bp.route("/news/new", methods=["GET", "POST"])
@login_required
def new():
    if not services.can_write(current_user):
        try:
            services.require_writer(current_user)
        except PermissionDenied as error:
            flash(str(error.message), "error")
        return redirect(url_for("news.news_list"))
    form = _form(NewsForm())
    if request.method == "GET":
        return render_template("news/edit.html", form=form, item=None)
    return _save(form, None)


@bp.route("/news/<int:item_id>/edit", methods=["GET", "POST"])
@login_required
def edit(item_id: int):
    item = _item_or_404(item_id)
    if not services.can_edit(current_user, item):
        flash(_("You cannot change this item."), "error")
        return redirect(url_for("news.detail", item_id=item.id))
    if request.method == "GET":
        form = _form(NewsForm(obj=item))
        form.category.data = item.category.value
        form.visibility.data = item.visibility.value
        if getattr(form, "city_id", None) is not None:
            form.city_id.data = item.city_id or 0
        return render_template("news/edit.html", form=form, item=item)
    return _save(_form(NewsForm()), item)


@bp.post("/news/<int:item_id>/<any(submit, approve, withdraw):action>")
@login_required
def item_action(item_id: int, action: str):
    item = _item_or_404(item_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        {"submit": services.submit, "approve": services.approve,
         "withdraw": services.withdraw}[action](current_user, item)  # fmt: skip
        db.session.commit()
    except ServiceError as error:
        show_service_error(None, error)
    else:
        flash({"submit": _("The story is sent to the secretariat, who will publish it or tell "
                           "you why not."),
               "approve": _("The item is published."),
               "withdraw": _("The item is withdrawn.")}[action], "success")  # fmt: skip
    if action == "approve" and request.form.get("next") == "queue":
        return redirect(url_for("news.moderation"))
    return redirect(url_for("news.detail", item_id=item.id))


@bp.post("/news/<int:item_id>/reject")
@staff_required
def reject(item_id: int):
    item = _item_or_404(item_id)
    form = RejectForm()
    if form.validate_on_submit():
        try:
            services.reject(current_user, item, form.reason.data)
            db.session.commit()
        except ServiceError as error:
            show_service_error(form, error)
        else:
            flash(_("The story is sent back; its author is told why."), "success")
            return redirect(url_for("news.moderation"))
    for errors in form.errors.values():
        for message in errors:
            flash(str(message), "error")
    return redirect(url_for("news.moderation"))


@bp.get("/secretariat/news")
@staff_required
def moderation():
    return render_template(
        "news/moderation.html",
        items=services.moderation_queue(current_user),
        text=_text,
        action_form=ActionForm(),
        reject_form=RejectForm(),
    )


# --- the digest --------------------------------------------------------------------------------


@bp.route("/news/digest", methods=["GET", "POST"])
@login_required
def digest_settings():
    form = DigestForm()
    if form.validate_on_submit():
        services.set_digest(current_user, bool(form.weekly.data))
        db.session.commit()
        flash(_("You will receive the weekly news digest.") if form.weekly.data
              else _("You will not receive the news digest."), "success")  # fmt: skip
        return redirect(url_for("news.digest_settings"))
    if request.method == "GET":
        form.weekly.data = services.is_subscribed(current_user)
    return render_template("news/digest.html", form=form)


@bp.route("/news/digest/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    """The link in every digest: works without signing in (the token is signed)."""
    if digest.read_unsubscribe_token(token) is None:
        abort(404)
    form = ActionForm()
    done = False
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        services.unsubscribe_by_token(token)
        db.session.commit()
        done = True
    return render_template("news/unsubscribe.html", form=form, done=done)
