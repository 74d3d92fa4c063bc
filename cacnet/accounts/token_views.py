"""The account's personal API tokens: list, create (the token is shown once), revoke."""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from cacnet.accounts import api_tokens
from cacnet.accounts.forms import ApiTokenCreateForm, ConfirmForm
from cacnet.accounts.models import ApiToken, TokenScope
from cacnet.core.db import db
from cacnet.core.errors import ServiceError
from cacnet.core.web import show_service_error

bp = Blueprint("tokens", __name__)

SCOPE_LABELS = {TokenScope.READ: _l("read"), TokenScope.WRITE: _l("read and write")}
STATE_LABELS = {"live": _l("active"), "expired": _l("expired"), "revoked": _l("revoked")}


def _form() -> ApiTokenCreateForm:
    form = ApiTokenCreateForm()
    if not api_tokens.may_write(current_user):
        form.scope.choices = [c for c in form.scope.choices if c[0] == TokenScope.READ.value]
    return form


def _page(form: ApiTokenCreateForm, *, created: ApiToken | None = None, plaintext: str = ""):
    response = make_response(
        render_template(
            "accounts/tokens.html",
            form=form,
            tokens=api_tokens.tokens_of(current_user),
            created=created,
            plaintext=plaintext,
            may_write=api_tokens.may_write(current_user),
            state_of=api_tokens.token_state,
            scope_labels=SCOPE_LABELS,
            state_labels=STATE_LABELS,
        )
    )
    # The page may carry a token in clear: keep it out of every cache.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    form = _form()
    if form.validate_on_submit():
        try:
            token, plaintext = api_tokens.create_token(
                current_user, form.name.data, form.scope.data, expires_in_days=form.expires.data
            )
            db.session.commit()
        except ServiceError as error:
            show_service_error(form, error)
        else:
            # Shown in this response only: never put in the session, a flash or a redirect.
            form.name.data = ""
            return _page(form, created=token, plaintext=plaintext)
    return _page(form)


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    try:
        api_tokens.revoke_token(current_user, token)
        db.session.commit()
    except ServiceError as error:
        show_service_error(None, error)
    else:
        flash(_("The token %(name)s is revoked.", name=token.name), "success")
    return redirect(url_for("tokens.tokens"))
