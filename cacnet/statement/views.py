"""The Statement's public pages and the secretariat's drafting of new versions."""

from __future__ import annotations

import csv
import hashlib
import io

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale, lazy_pgettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.http import is_resource_modified

from cacnet.accounts.forms import ConfirmForm
from cacnet.cities.regions import MACRO_REGIONS
from cacnet.core.cache import cache
from cacnet.core.db import db, utcnow
from cacnet.core.errors import ServiceError
from cacnet.core.text import render_markdown
from cacnet.core.uploads import stored_path
from cacnet.core.web import show_service_error, staff_required
from cacnet.statement import endorsements, services
from cacnet.statement import signatories as signatory_list
from cacnet.statement.forms import EndorsementDecisionForm, EndorsementForm, StatementDraftForm
from cacnet.statement.models import Endorsement, EndorsementState, StatementVersion

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
        signatory_count=0 if preview else signatory_list.verified_count(version),
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


# --- endorsements ------------------------------------------------------------------------------


@bp.route("/statement/sign", methods=["GET", "POST"])
@login_required
def sign():
    """The signatory reads the current version and endorses it for the city."""
    version = services.current_version()
    if version is None:
        abort(404)
    endorsements.require_signatory(current_user)
    existing = endorsements.active_endorsement(current_user.city_id, version.id)
    form = EndorsementForm()
    if request.method == "GET":
        form.signatory_name.data = current_user.name
        form.signatory_title.data = current_user.title
        form.place.data = current_user.city.name_en
        form.signed_on.data = utcnow().date()
    if existing is None and form.validate_on_submit():
        data = endorsements.EndorsementData(
            signatory_name=form.signatory_name.data,
            signatory_title=form.signatory_title.data,
            place=form.place.data,
            signed_on=form.signed_on.data,
            signature_data_url=form.signature.data or "",
            authorised=bool(form.authorised.data),
            typed_signature=form.typed_signature.data or "",
        )
        try:
            endorsements.endorse(
                current_user, version, data, form.password.data, form.code.data or ""
            )
        except ServiceError as error:
            if error.field in ("password", "code"):
                db.session.commit()  # keep the audit record of the failed re-authentication
            show_service_error(form, error)
        else:
            db.session.commit()
            flash(_("Thank you. The secretariat will verify the endorsement."), "success")
            return redirect(url_for("statement.sign"))
    elif request.method == "POST":
        flash(_("Please correct the marked fields."), "error")
    return render_template(
        "statement/sign.html",
        version=version,
        body_en=render_markdown(version.body_en),
        body_ko=render_markdown(version.body_ko),
        form=form,
        existing=existing,
        state_labels=STATE_LABELS,
    )


def _endorsement(uuid: str) -> Endorsement:
    found = db.session.scalar(select(Endorsement).where(Endorsement.uuid == uuid))
    if found is None:
        abort(404)
    return found


@bp.get("/secretariat/endorsements/")
@staff_required
def endorsement_queue():
    submitted = db.session.scalars(
        select(Endorsement)
        .where(Endorsement.state == EndorsementState.SUBMITTED)
        .options(selectinload(Endorsement.city), selectinload(Endorsement.signer))
        .order_by(Endorsement.signed_at)
    ).all()
    return render_template(
        "statement/queue.html", submitted=submitted, form=EndorsementDecisionForm()
    )


@bp.post("/secretariat/endorsements/<uuid>/<any(verify, return):action>")
@staff_required
def decide_endorsement(uuid: str, action: str):
    form = EndorsementDecisionForm()
    if not form.validate_on_submit():
        abort(400)
    endorsement = _endorsement(uuid)
    try:
        if action == "verify":
            endorsements.verify(current_user, endorsement)
        else:
            endorsements.return_endorsement(current_user, endorsement, form.reason.data or "")
        db.session.commit()
    except ServiceError as error:
        show_service_error(None, error)
    except StaleDataError:
        db.session.rollback()
        flash(_("Someone else changed this endorsement just now. Check it again."), "error")
    else:
        flash(_("The endorsement of %(city)s is %(state)s.", city=endorsement.city.name_en,
                state=STATE_LABELS[endorsement.state]), "success")  # fmt: skip
    return redirect(url_for("statement.endorsement_queue"))


@bp.post("/statement/endorsements/<uuid>/withdraw")
@login_required
def withdraw_endorsement(uuid: str):
    form = EndorsementDecisionForm()
    if not form.validate_on_submit():
        abort(400)
    endorsement = _endorsement(uuid)
    try:
        endorsements.withdraw(current_user, endorsement, form.reason.data or "")
        db.session.commit()
    except ServiceError as error:
        show_service_error(None, error)
    else:
        flash(_("The endorsement has been withdrawn."), "success")
    return redirect(url_for("statement.sign"))


@bp.get("/statement/endorsements/<uuid>/signature.png")
def signature(uuid: str):
    """The signature image: public once verified (or withdrawn, which is public too); before
    that, only the secretariat and the city's own delegates see it."""
    endorsement = _endorsement(uuid)
    public = endorsement.state in (EndorsementState.VERIFIED, EndorsementState.WITHDRAWN)
    insider = current_user.is_authenticated and (
        current_user.is_secretariat or current_user.city_id == endorsement.city_id
    )
    if not (public or insider):
        abort(404)
    path = stored_path(endorsement.signature_sha256, "signatures", "png")
    if not path.exists():
        abort(404)
    response = send_file(
        path, mimetype="image/png", etag=endorsement.signature_sha256, conditional=True
    )
    response.headers["Cache-Control"] = "public, max-age=86400" if public else "private, no-store"
    return response


def _query() -> signatory_list.SignatoryQuery:
    args = request.args
    region = args.get("region") or ""
    return signatory_list.SignatoryQuery(
        q=(args.get("q") or "")[:200].strip(),
        country=(args.get("country") or "")[:2].upper(),
        region=region if region in MACRO_REGIONS else "",
        sort=args.get("sort") or "date",
    )


def _cookieless() -> bool:
    cookies = request.cookies
    return not cookies or (
        current_app.config["SESSION_COOKIE_NAME"] not in cookies
        and current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") not in cookies
    )


def _serve_list(build, *, personal: bool = False):
    """Serve a representation of the signatory list with an ETag and Last-Modified.

    A conditional GET that matches is answered 304 from the cached fingerprint, without the
    database. Otherwise the body is served from the shared cache under its ETag, which covers the
    list's state, the query, the path and the language, so a cached body is never stale. Pages
    that show the signed-in visitor's menu (``personal``) are built for each visitor instead.
    """
    found = signatory_list.cached_fingerprint(request.args.get("version", type=int))
    if found is None:
        abort(404)
    version_id, _number, base, last_modified = found
    if _cookieless():
        # Neither a session nor a remember-me cookie: an anonymous visitor whose language comes
        # from the browser alone, so no user needs loading (the hot path of a public feed).
        viewer = "public"
        language = (
            request.accept_languages.best_match(current_app.config["LANGUAGES"])
            or (current_app.config["BABEL_DEFAULT_LOCALE"])
        )
    else:
        viewer = current_user.get_id() if (personal and current_user.is_authenticated) else "public"
        language = str(get_locale())
    key = f"{base}:{request.full_path}:{language}:{viewer}"
    tag = hashlib.sha256(key.encode()).hexdigest()[:32]
    headers = {
        "Cache-Control": "public, max-age=60" if viewer == "public" else "private, max-age=0"
    }
    if not is_resource_modified(request.environ, etag=tag, last_modified=last_modified):
        probe = Response(status=304, headers=headers)
        probe.set_etag(tag)
        probe.last_modified = last_modified
        probe.vary.add("Accept-Language")
        return probe
    cached = cache.get(f"signatories:body:{tag}") if viewer == "public" else None
    if cached is None:
        built = make_response(build(db.session.get(StatementVersion, version_id)))
        disposition = built.headers.get("Content-Disposition")
        cached = (built.get_data(), built.content_type, disposition)
        if viewer == "public":
            cache.set(f"signatories:body:{tag}", cached, timeout=signatory_list.BODY_TTL)
    body, content_type, disposition = cached
    response = Response(body, content_type=content_type, headers=headers)
    if disposition:
        response.headers["Content-Disposition"] = disposition
    response.set_etag(tag)
    response.last_modified = last_modified
    response.vary.add("Accept-Language")
    return response


@bp.get("/signatories")
def signatories():
    """The verified endorsements of a version (the current one unless ?version=), searchable and
    filterable, with counts by region; withdrawn ones listed apart."""

    def build(version):
        query = _query()
        pagination = signatory_list.verified_page(
            version, query, request.args.get("page", 1, type=int) or 1
        )
        return render_template(
            "statement/signatories.html",
            version=version,
            versions=services.published_versions(),
            pagination=pagination,
            verified=pagination.items,
            withdrawn=signatory_list.withdrawn(version, query),
            query=query,
            regions=MACRO_REGIONS,
            counts=signatory_list.counts_by_region(version),
        )

    return _serve_list(build, personal=True)


@bp.get("/signatories.json")
def signatories_json():
    def build(version):
        rows = signatory_list.public_endorsements(version, _query())
        return jsonify(
            version=version.number,
            text_sha256=version.text_sha256,
            published_at=version.published_at.isoformat(),
            signatories=[signatory_list.public_record(e, version) for e in rows],
        )

    return _serve_list(build)


CSV_COLUMNS = ("city", "city_local", "country", "region", "signatory_name", "signatory_title",
               "place", "signed_on", "state", "withdrawn_on", "withdrawal_reason", "version",
               "text_sha256", "record_sha256", "city_url", "id")  # fmt: skip


@bp.get("/signatories.csv")
def signatories_csv():
    def build(version):
        out = io.StringIO()
        out.write("\ufeff")  # a BOM, so spreadsheet programs read the Korean as UTF-8
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for e in signatory_list.public_endorsements(version, _query()):
            writer.writerow(signatory_list.public_record(e, version))
        response = Response(out.getvalue(), mimetype="text/csv")
        response.charset = "utf-8"
        response.headers["Content-Disposition"] = (
            f'attachment; filename="signatories-v{version.number}.csv"'
        )
        return response

    return _serve_list(build)


@bp.get("/signatories.atom")
def signatories_atom():
    """A feed of the verified endorsements of the current version, newest first."""

    def build(version):
        rows = [
            e
            for e in signatory_list.public_endorsements(version, signatory_list.SignatoryQuery())
            if e.state == EndorsementState.VERIFIED
        ]
        rows.sort(key=lambda e: e.decided_at or e.signed_at, reverse=True)
        xml = render_template(
            "statement/signatories.atom.xml",  # .xml: autoescaped
            version=version,
            entries=rows[:100],
            updated=max([e.decided_at for e in rows if e.decided_at] or [version.published_at]),
        )
        return Response(xml, mimetype="application/atom+xml")

    return _serve_list(build)


MAP_TTL = 60  # seconds: the member dots follow membership changes within a minute


@bp.get("/signatories/map.svg")
def signatories_map():
    """The members map with the version's signatories highlighted, as an SVG layer drawn over
    static/img/world.svg. Built from two narrow queries, cached for a minute per list state, and
    served with an ETag of its own content."""
    found = signatory_list.cached_fingerprint(request.args.get("version", type=int))
    if found is None:
        abort(404)
    version_id, number, base, _last = found
    key = f"signatories:map:{base}:{get_locale()}"
    cached = cache.get(key)
    if cached is None:
        from cacnet.cities.map import HEIGHT, WIDTH

        points = signatory_list.signatory_map(db.session.get(StatementVersion, version_id))
        body = render_template(
            "statement/signatories_map.svg",
            points=points,
            width=WIDTH,
            height=HEIGHT,
            title=_(
                "%(members)d member cities; the %(signatories)d signatories of version "
                "%(version)d are highlighted.",
                members=points.member_count + points.signatory_count,
                signatories=points.signatory_count,
                version=number,
            ),
        ).encode()
        cached = (body, hashlib.sha256(body).hexdigest()[:32])
        cache.set(key, cached, timeout=MAP_TTL)
    body, tag = cached
    response = Response(body, mimetype="image/svg+xml")
    response.set_etag(tag)
    response.headers["Cache-Control"] = f"public, max-age={MAP_TTL}"
    response.vary.add("Accept-Language")
    return response.make_conditional(request)


STATE_LABELS = {
    EndorsementState.SUBMITTED: _l("submitted"),
    EndorsementState.VERIFIED: _l("verified"),
    EndorsementState.RETURNED: _l("returned"),
    EndorsementState.WITHDRAWN: lazy_pgettext("endorsement", "withdrawn"),
}
