"""The coverage report's tables as CSV rows: what each download holds, the page's figures
unrounded where the page rounds them for reading."""

from __future__ import annotations

from dispatch.coverage_cells import OUTCOMES
from dispatch.coverage_report import DAYS, Report, hour_label


def _num(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def tables(report: Report) -> dict[str, tuple[list[str], list[list[str]]]]:
    """Every table of the page as CSV rows (header, rows), by the name its download uses."""
    rows = [
        [
            r.precinct,
            r.precinct_name,
            r.language,
            r.language_name,
            str(r.requests),
            *(str(r.by_outcome[o]) for o in OUTCOMES),
            _num(r.liaison_share, 3),
            _num(r.vendor_minutes),
            _num(r.vendor_cost, 2),
            _num(r.p50),
            _num(r.p90),
            str(r.unmet),
            " ".join(f"{hour_label(s)}={n}" for s, n in r.unmet_hours),
            "" if r.limited_english is None else str(r.limited_english),
            str(r.liaisons),
        ]
        for r in report.rows
    ]
    priorities = [
        [
            str(p.rank),
            p.language,
            p.language_name,
            _num(p.vendor_minutes),
            _num(p.vendor_cost, 2),
            str(p.unmet),
            "" if p.limited_english is None else str(p.limited_english),
            str(p.liaisons),
            p.why,
        ]
        for p in report.priorities
    ]
    hours = [[DAYS[s // 24], f"{s % 24:02d}:00", str(n)] for s, n in enumerate(report.unmet_by_hour)]
    return {
        "precincts": (
            [
                "precinct",
                "precinct_name",
                "language",
                "language_name",
                "requests",
                *OUTCOMES,
                "liaison_share",
                "vendor_minutes",
                "vendor_cost",
                "tti_p50_s",
                "tti_p90_s",
                "unmet",
                "unmet_hours",
                "limited_english",
                "liaisons",
            ],
            rows,
        ),
        "priorities": (
            [
                "rank",
                "language",
                "language_name",
                "vendor_minutes",
                "vendor_cost",
                "unmet",
                "limited_english",
                "liaisons",
                "why",
            ],
            priorities,
        ),
        "hours": (["day", "hour", "unmet"], hours),
    }
