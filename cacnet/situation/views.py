"""The situation pages: a city's figures as charts and a table (public), their downloads, the
form and upload of the city's delegates, and the comparison of cities per 100,000 inhabitants.
Thin: every rule is in ``services`` and ``imports``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select

from cacnet.accounts.forms import ConfirmForm
from cacnet.cities.models import City
from cacnet.core.db import db
from cacnet.core.errors import PermissionDenied, ServiceError
from cacnet.core.web import show_service_error
from cacnet.situation import charts, exports, imports, services
from cacnet.situation.forms import SituationDayForm, SituationUploadForm
from cacnet.situation.models import MEASURES, SituationDay
from cacnet.situation.services import FiguresRefused

bp = Blueprint("situation", __name__)

PERIODS = {"30": 30, "90": 90, "365": 365, "all": None}
DEFAULT_PERIOD = "90"
MAX_SPAN_DAYS = 3660  # ten years: a longer chart would not be readable anyway
RECENT_DAYS = 60  # reported days listed on the delegates' page
LAST_SHOWN_DAY = date(2199, 12, 31)


@bp.app_context_processor
def _situation_helpers():
    return {
        "situation_labels": services.MEASURE_LABELS,
        "situation_hints": services.MEASURE_HINTS,
        "situation_count": lambda v, decimals=0: (
            "" if v is None else charts.format_number(v, decimals)
        ),
    }


def _city(slug: str) -> City:
    city = db.session.scalar(select(City).where(City.slug == slug))
    if city is None:
        abort(404)
    return city


def _kept(city: City) -> City | None:
    """The city a merged duplicate now points at (None when ``city`` was not merged)."""
    return db.session.get(City, city.merged_into_id) if city.merged_into_id else None


def _date_arg(name: str) -> tuple[date | None, bool]:
    """(the date in the query string, whether it was given but not understood)."""
    text = (request.args.get(name) or "").strip()[:10]
    if not text:
        return None, False
    try:
        value = date.fromisoformat(text)
    except ValueError:
        return None, True
    if not services.FIRST_DAY <= value <= LAST_SHOWN_DAY:  # and no arithmetic past year 9999
        return None, True
    return value, False


@dataclass
class Period:
    start: date
    end: date
    choice: str  # one of PERIODS, or "" for dates chosen by hand
    note: str = ""


def _period(first: date | None, last: date | None, today: date) -> Period:
    """The period the query string asks for: ``period`` (30, 90 or 365 days, or all) ending on
    the last reported day, or ``from`` and ``to``; by default the last 90 reported days."""
    end_default = last or today
    start_arg, bad_start = _date_arg("from")
    end_arg, bad_end = _date_arg("to")
    note = (
        _("A date was not understood; the default period is shown.")
        if (bad_start or bad_end)
        else ""
    )
    choice = request.args.get("period") if request.args.get("period") in PERIODS else ""
    if start_arg or end_arg:
        end = end_arg or end_default
        start = start_arg or end - timedelta(days=PERIODS[DEFAULT_PERIOD] - 1)
        choice = ""
    else:
        choice = choice or DEFAULT_PERIOD
        end = end_default
        days = PERIODS[choice]
        start = (first or end) if days is None else end - timedelta(days=days - 1)
        if first is not None and start < first <= end:
            start = first  # no empty stretch before the first figures
    if start > end:
        start, end = end, start
    if (end - start).days >= MAX_SPAN_DAYS:
        start = end - timedelta(days=MAX_SPAN_DAYS - 1)
        note = _("At most ten years are shown at a time.")
    return Period(start, end, choice, note)


# --- a city's figures --------------------------------------------------------------------------


@bp.get("/cities/<slug>/situation")
def city_situation(slug: str):
    city = _city(slug)
    kept = _kept(city)
    if kept is not None:
        return redirect(url_for("situation.city_situation", slug=kept.slug), code=301)
    first, last = services.reported_span(city.id)
    period = _period(first, last, services.city_today(city))
    rows = services.days_between(city.id, period.start, period.end)
    measures = services.measures_present(rows)
    chart_list = [
        (m, charts.measure_chart(city, m, rows, period.start, period.end, f"chart-{m}"))
        for m in measures
    ]
    return render_template(
        "situation/city.html",
        city=city,
        period=period,
        periods=PERIODS,
        first=first,
        last=last,
        rows=list(reversed(rows)),
        measures=measures,
        charts=chart_list,
        has_notes=any(r.note for r in rows),
        can_publish=services.can_publish(current_user, city),
    )


MEASURE_RULE = "<any(new_cases, active_cases, hospitalised, tests_done, vaccinated):measure>"


@bp.get(f"/cities/<slug>/situation/{MEASURE_RULE}.svg")
def chart_svg(slug: str, measure: str):
    """One chart as an SVG file (for a city's own website or a report), same period rules."""
    city = _city(slug)
    kept = _kept(city)
    if kept is not None:
        return redirect(url_for("situation.chart_svg", slug=kept.slug, measure=measure), code=301)
    first, last = services.reported_span(city.id)
    period = _period(first, last, services.city_today(city))
    rows = services.days_between(city.id, period.start, period.end)
    chart = charts.measure_chart(city, measure, rows, period.start, period.end, f"chart-{measure}")
    body = render_template("situation/chart.svg", chart=chart)
    response = Response(body, mimetype="image/svg+xml")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _download_rows(city: City):
    start, _bad = _date_arg("from")
    end, _bad = _date_arg("to")
    return start, end, services.days_between(city.id, start, end)


@bp.get("/cities/<slug>/situation.csv")
def download_csv(slug: str):
    city = _city(slug)
    _start, _end, rows = _download_rows(city)
    return Response(
        exports.csv_text(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{city.slug}-situation.csv"'},
    )


@bp.get("/cities/<slug>/situation.json")
def download_json(slug: str):
    city = _city(slug)
    start, end, rows = _download_rows(city)
    return Response(exports.json_text(city, rows, start, end), mimetype="application/json")


# --- publishing --------------------------------------------------------------------------------


def _publisher_city(slug: str) -> City:
    city = _city(slug)
    services.require_publisher(current_user, city)  # PermissionDenied: the 403 page
    return city


def _edit_page(city: City, form=None, upload_form=None, problems=None, status: int = 200):
    recent = list(
        db.session.scalars(
            select(SituationDay)
            .where(SituationDay.city_id == city.id)
            .order_by(SituationDay.day.desc())
            .limit(RECENT_DAYS)
        )
    )
    return render_template(
        "situation/edit.html",
        city=city,
        form=form or SituationDayForm(),
        upload_form=upload_form or SituationUploadForm(),
        problems=problems,
        recent=recent,
        measures=MEASURES,
        columns=imports.COLUMNS,
        korean_headers=imports.KOREAN_HEADERS,
    ), status


def _day_data(form: SituationDayForm) -> services.DayFigures:
    return services.DayFigures(
        day=form.day.data,
        note=form.note.data or "",
        **{m: getattr(form, m).data or None for m in MEASURES},
    )


@bp.route("/cities/<slug>/situation/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str):
    city = _publisher_city(slug)
    form = SituationDayForm()
    if request.method == "GET":
        wanted, _bad = _date_arg("day")
        row = services.day_row(city, wanted) if wanted else None
        form.day.data = wanted or services.city_today(city) - timedelta(days=1)
        if row is not None:
            for measure in MEASURES:
                value = getattr(row, measure)
                getattr(form, measure).data = "" if value is None else str(value)
            form.note.data = row.note
        return _edit_page(city, form)
    if form.validate_on_submit():
        try:
            outcome = services.record_day(current_user, city, _day_data(form))
            db.session.commit()
        except FiguresRefused as error:
            db.session.rollback()
            for problem in error.problems:
                field = getattr(form, problem.column or "", None)
                if field is not None:
                    field.errors = [*field.errors, problem.message]
            flash(str(error.message), "error")
        except ServiceError as error:
            show_service_error(form, error)
        else:
            day = form.day.data
            messages = {
                "created": _("The figures of %(day)s are published.", day=charts.format_day(day)),
                "updated": _("The figures of %(day)s are updated.", day=charts.format_day(day)),
                "unchanged": _("Nothing was changed."),
            }
            flash(messages[outcome], "success")
            return redirect(url_for("situation.edit", slug=city.slug))
    else:
        flash(_("Please correct the marked fields."), "error")
    return _edit_page(city, form, status=422)


@bp.post("/cities/<slug>/situation/upload")
@login_required
def upload(slug: str):
    city = _publisher_city(slug)
    upload_form = SituationUploadForm()
    if not upload_form.validate_on_submit():
        flash(_("Please correct the marked fields."), "error")
        return _edit_page(city, upload_form=upload_form, status=422)
    file = upload_form.file.data
    data = file.read(imports.MAX_FILE_BYTES + 1)
    try:
        result = imports.import_figures(current_user, city, data, file.filename or "")
        db.session.commit()
    except FiguresRefused as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return _edit_page(city, upload_form=upload_form, problems=error, status=422)
    except ServiceError as error:
        show_service_error(upload_form, error)
        return _edit_page(city, upload_form=upload_form, status=422)
    total = result.created + result.updated + result.unchanged
    flash(
        _(
            "The file is imported: %(days)s from %(first)s to %(last)s (%(created)d new, "
            "%(updated)d changed, %(unchanged)d unchanged).",
            days=ngettext("%(num)d day", "%(num)d days", total),
            first=charts.format_day(result.first),
            last=charts.format_day(result.last),
            created=result.created,
            updated=result.updated,
            unchanged=result.unchanged,
        ),
        "success",
    )
    return redirect(url_for("situation.city_situation", slug=city.slug))


@bp.post("/cities/<slug>/situation/<day>/delete")
@login_required
def delete(slug: str, day: str):
    city = _publisher_city(slug)
    try:
        wanted = date.fromisoformat(day)
    except ValueError:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.delete_day(current_user, city, wanted)
        db.session.commit()
    except ServiceError as error:
        show_service_error(None, error)
    else:
        flash(_("The figures of %(day)s are deleted.", day=charts.format_day(wanted)), "success")
    return redirect(url_for("situation.edit", slug=city.slug))


@bp.get("/situation/mine")
@login_required
def mine():
    """A delegate's way in: their own city's figures form."""
    if current_user.city is None:
        raise PermissionDenied(_("Only delegates of a member city publish figures."))
    return redirect(url_for("situation.edit", slug=current_user.city.slug))


# --- comparison --------------------------------------------------------------------------------


@bp.get("/situation/compare")
def compare():
    available = services.cities_with_figures()
    slugs = list(dict.fromkeys(s[:120] for s in request.args.getlist("city") if s))
    notes = []
    if len(slugs) > charts.MAX_SERIES:
        notes.append(
            _(
                "At most %(max)d cities can be compared at once; the first %(max)d are shown.",
                max=charts.MAX_SERIES,
            )
        )
        slugs = slugs[: charts.MAX_SERIES]
    found = {
        c.slug: c
        for c in db.session.scalars(
            select(City).where(City.slug.in_(slugs), City.merged_into_id.is_(None))
        )
    }
    chosen = [found[s] for s in slugs if s in found]
    measure = request.args.get("measure")
    measure = measure if measure in MEASURES else MEASURES[0]
    spans = [services.reported_span(c.id) for c in chosen]
    firsts = [f for f, _ in spans if f]
    lasts = [last for _, last in spans if last]
    today = max((services.city_today(c) for c in chosen), default=date.today())
    period = _period(min(firsts, default=None), max(lasts, default=None), today)
    if period.note:
        notes.append(period.note)
    comparison = services.compare(chosen, measure, period.start, period.end)
    chart = None
    rows = []
    if comparison.compared:
        label = services.measure_label(measure)
        chart = charts.build_chart(
            "chart-compare",
            _("%(measure)s per 100,000 inhabitants", measure=label),
            period.start,
            period.end,
            [
                charts.Series(
                    c.city.name_en,
                    [float(v) if v is not None else None for _d, v in c.values],
                    decimals=2,
                )
                for c in comparison.compared
            ],
            table_note=_("The figures are also in the table on this page."),
        )
        for index in reversed(range(len(comparison.compared[0].values))):
            day = comparison.compared[0].values[index][0]
            cells = [(c.values[index][1], c.raw.get(day)) for c in comparison.compared]
            if any(v is not None for v, _raw in cells):
                rows.append((day, cells))
    return render_template(
        "situation/compare.html",
        available=available,
        chosen=chosen,
        chosen_slugs=set(slugs),
        measure=measure,
        measures=MEASURES,
        period=period,
        comparison=comparison,
        chart=chart,
        styles=charts.STYLES,
        rows=rows,
        notes=notes,
    )
