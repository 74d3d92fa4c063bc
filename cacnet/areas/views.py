"""The secretariat's page of the areas of work: the list, and a form to add one."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from cacnet.accounts.forms import REQUIRED
from cacnet.areas import services
from cacnet.core.errors import ServiceError
from cacnet.core.forms import plain_text, strip
from cacnet.core.web import show_service_error, staff_required

bp = Blueprint("areas", __name__)


class AreaAddForm(FlaskForm):
    name_en = StringField(_l("Name in English"), filters=[strip],
                          validators=[DataRequired(message=REQUIRED),
                                      Length(max=services.MAX_NAME), plain_text])  # fmt: skip
    name_ko = StringField(_l("Name in Korean"), filters=[strip],
                          validators=[DataRequired(message=REQUIRED),
                                      Length(max=services.MAX_NAME), plain_text])  # fmt: skip


@bp.route("/secretariat/areas", methods=["GET", "POST"])
@staff_required
def secretariat_areas():
    form = AreaAddForm()
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            try:
                area = services.add_area(current_user, form.name_en.data, form.name_ko.data)
            except ServiceError as error:
                show_service_error(form, error)
            else:
                flash(_("The area %(name)s is added.", name=area.name()), "success")
                return redirect(url_for("areas.secretariat_areas"))
        else:
            flash(_("Please correct the marked fields."), "error")
    return render_template("areas/list.html", areas=services.all_areas(), form=form), status
