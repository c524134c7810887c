"""The coverage report page and its CSV downloads, for sergeants and commanders.

Read only: the figures are the anonymous coverage sums (dispatch.coverage_figures), the census
import and the roster; dispatch.coverage_report computes, this shapes. The page needs no script
(charts are SVG drawn here) and prints on its own.
"""

from __future__ import annotations

import csv
import io

from flask import Response, abort, g, render_template, request

from dispatch.census import LimitedEnglish
from dispatch.census_store import CensusStore
from dispatch.coverage_report import (
    PERIODS,
    Period,
    PeriodError,
    Report,
    build,
    hour_label,
    period_from,
    places,
)
from dispatch.coverage_tables import tables
from webhooks.dashboard import coverage_charts
from webhooks.dashboard.auth import page
from webhooks.dashboard.blueprint import bp
from webhooks.deps import ctx, settings, wiring

REPORT_ROLES = frozenset({"sergeant", "commander"})
TABLES = ("precincts", "priorities", "hours")
PAGE_ROWS = 200  # precinct × language rows on the page (a year city-wide has thousands); the CSV has all
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _allowed() -> None:
    if g.user.role not in REPORT_ROLES:
        abort(403, description="the coverage report is for sergeants and commanders")


_LIMITED: dict[tuple[str, int], LimitedEnglish] = {}  # the last import's figures per precinct, this process


def _limited_english(census: CensusStore) -> LimitedEnglish:
    """The census summed per precinct once per import (and roster), not per page: a city's
    tracts are thousands of rows."""
    precincts = {p.id: p.geographies for p in ctx().roster.precincts}
    key = (census.about().get("imported_at", ""), hash(tuple(precincts.items())))
    found = _LIMITED.get(key)
    if found is None:
        found = LimitedEnglish.of(census.load(), precincts)
        _LIMITED.clear()
        _LIMITED[key] = found
    return found


def _report(period: Period, rows_limit: int | None = None) -> Report:
    c = ctx()
    census = CensusStore(c.redis)
    tallies = wiring().coverage.tallies(period.start, period.end, cache=period.name != "custom")
    where = places(c.roster, c.catalog, census.groups())
    return build(tallies, _limited_english(census), where, settings().vendor_rate_per_minute, period, rows_limit)


def _period() -> Period:
    return period_from(request.args, wiring().coverage.today(), settings().coverage_retention_days)


@bp.get("/coverage")
@page
def coverage() -> Response:
    _allowed()
    try:
        period = _period()
    except PeriodError as exc:
        return Response(_render(None, str(exc)), status=400, mimetype="text/html")
    return Response(_render(period), mimetype="text/html")


def _render(period: Period | None, error: str = "") -> str:
    report = _report(period, PAGE_ROWS) if period else None
    about = CensusStore(ctx().redis).about()
    query = {"period": period.name} if period else {}
    if period and period.name == "custom":
        query.update({"from": period.start.isoformat(), "to": period.end.isoformat()})
    return render_template(
        "dashboard/coverage.html",
        user=g.user,
        csrf=g.user.csrf,
        report=report,
        error=error,
        periods=PERIODS,
        chosen=period.name if period else request.args.get("period", "")[:10],
        custom_from=request.args.get("from", "")[:10],
        custom_to=request.args.get("to", "")[:10],
        query=query,
        tables=TABLES,
        census_source=about.get("source", ""),
        rate=settings().vendor_rate_per_minute,
        hour_label=hour_label,
        bars=coverage_charts.vendor_minutes_bars(report) if report else "",
        heatmap=coverage_charts.unmet_heatmap(report) if report else "",
    )


def _cell(value: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    return "'" + value if value.startswith(_FORMULA_START) else value


@bp.get("/coverage/<name>.csv")
@page
def coverage_csv(name: str) -> Response:
    _allowed()
    if name not in TABLES:
        abort(404)
    try:
        period = _period()
    except PeriodError as exc:
        abort(400, description=str(exc))
    header, rows = tables(_report(period))[name]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([_cell(v) for v in row] for row in rows)
    filename = f"coverage-{name}-{period.start.isoformat()}-to-{period.end.isoformat()}.csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
