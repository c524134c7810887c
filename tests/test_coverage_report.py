"""The coverage report's figures against a hand computation on a small fixed data set (pure)."""

from __future__ import annotations

from datetime import date

import pytest

from dispatch.census import GroupFigures, LimitedEnglish, group_key
from dispatch.coverage_cells import BUCKETS, Tallies, add_day
from dispatch.coverage_report import Period, PeriodError, Places, build, period_from, quantile
from dispatch.coverage_tables import tables


def cell(count: int, seconds: int = 0, bucket: dict[int, int] | None = None) -> str:
    buckets = [0] * BUCKETS
    for i, n in (bucket or {}).items():
        buckets[i] = n
    return " ".join(str(v) for v in [count, seconds, *buckets])


MONDAY, SATURDAY = date(2026, 11, 30), date(2026, 12, 5)
PERIOD = Period(MONDAY, SATURDAY, "custom")


def fixed_tallies() -> Tallies:
    tallies: Tallies = {}
    add_day(
        tallies,
        MONDAY,
        {
            "75|spa|14|liaison": cell(3, 900, {0: 1, 1: 2}),  # tti <=5 s once, (5, 10] s twice
            "75|spa|2|vendor": cell(1, 600, {6: 1}),  # (45, 60] s
            "75|spa|2|abandoned": cell(1),
            "75|hat|23|failed": cell(2),
            "46|hat|10|vendor": cell(1, 1200, {10: 1}),  # (180, 300] s
            "46|hat|10|cancelled": cell(1),
        },
    )
    add_day(tallies, SATURDAY, {"75|spa|2|vendor": cell(1, 300, {11: 1})})  # over 300 s
    return tallies


CENSUS = {
    "G1": {"Spanish": GroupFigures(100, 40), "Haitian": GroupFigures(50, 30)},
    "G2": {"Spanish": GroupFigures(200, 60)},
    "G3": {"Haitian": GroupFigures(80, 25)},
    "G4": {"Korean": GroupFigures(300, 200)},  # in no precinct
}
PLACES = Places(
    precinct_names={"75": "75th Precinct", "46": "46th Precinct"},
    precinct_geographies={"75": ("G1", "G2"), "46": ("G3",)},
    liaisons_by_language={"spa": 2},
    language_name={"spa": "Spanish", "hat": "Haitian Creole", "kor": "Korean"}.get,
    language_groups={"spa": "spanish", "hat": "haitian", "kor": "korean"},
)


def test_the_rows_equal_the_hand_computation():
    report = build(
        fixed_tallies(), LimitedEnglish.of(CENSUS, PLACES.precinct_geographies), PLACES, rate=2.0, period=PERIOD
    )
    rows = {(r.precinct, r.language): r for r in report.rows}
    assert [(r.precinct, r.language) for r in report.rows] == [("75", "spa"), ("75", "hat"), ("46", "hat")]

    spa = rows[("75", "spa")]
    assert spa.requests == 6  # 3 liaison + 2 vendor + 1 abandoned
    assert spa.by_outcome == {"liaison": 3, "vendor": 2, "abandoned": 1, "failed": 0, "cancelled": 0}
    assert spa.liaison_share == pytest.approx(0.5)
    assert spa.vendor_minutes == pytest.approx(15.0)  # (600 + 300) s
    assert spa.vendor_cost == pytest.approx(30.0)
    # buckets: 1 in [0,5], 2 in (5,10], 1 in (45,60], 1 over 300. p50: rank 2.5 falls in (5,10]
    # after 1: 5 + 5 * 1.5 / 2 = 8.75. p90: rank 4.5 falls in the last bucket: 300.
    assert spa.p50 == pytest.approx(8.75)
    assert spa.p90 == pytest.approx(300.0)
    assert spa.unmet == 3
    assert spa.unmet_hours == ((2, 2), (5 * 24 + 2, 1))  # Mon 02:00 twice, Sat 02:00 once
    assert spa.limited_english == 100  # 40 + 60 in G1, G2
    assert spa.liaisons == 2

    hat75 = rows[("75", "hat")]
    assert (hat75.requests, hat75.liaison_share, hat75.vendor_minutes) == (2, 0.0, 0.0)
    assert hat75.p50 is None and hat75.unmet_hours == ((23, 2),) and hat75.limited_english == 30

    hat46 = rows[("46", "hat")]
    assert (hat46.requests, hat46.unmet, hat46.vendor_cost) == (2, 1, 40.0)  # the cancel is not unmet
    assert hat46.p50 == pytest.approx(240.0)  # 180 + 120 * 0.5
    assert hat46.p90 == pytest.approx(288.0)  # 180 + 120 * 0.9
    assert hat46.limited_english == 25


def test_the_totals_hours_and_priorities_equal_the_hand_computation():
    report = build(
        fixed_tallies(), LimitedEnglish.of(CENSUS, PLACES.precinct_geographies), PLACES, rate=2.0, period=PERIOD
    )
    assert report.requests == 10
    assert report.liaison_share == pytest.approx(0.3)
    assert report.vendor_minutes == pytest.approx(35.0)
    assert report.vendor_cost == pytest.approx(70.0)
    assert {s: n for s, n in enumerate(report.unmet_by_hour) if n} == {2: 2, 10: 1, 23: 2, 122: 1}
    # Vendor minutes: Haitian 20, Spanish 15. Without a liaison, by limited-English residents:
    # Korean 200, Haitian 55 (30 + 25). A language's rank is the better of its places.
    assert [(p.rank, p.language) for p in report.priorities] == [(1, "hat"), (2, "kor"), (3, "spa")]
    hat, kor, spa = report.priorities
    assert hat.why == "#1 by vendor minutes; #2 by limited-English residents, no liaison"
    assert (kor.why, kor.limited_english, kor.vendor_minutes) == ("#1 by limited-English residents, no liaison", 200, 0)
    assert (spa.why, spa.limited_english, spa.liaisons) == ("#2 by vendor minutes", 100, 2)


CHINESE, SLAVIC = (
    group_key("Chinese (incl. Mandarin, Cantonese)"),
    group_key("Russian, Polish, or other Slavic languages"),
)


def test_a_group_of_several_languages_is_one_priority_and_a_liaison_for_any_covers_it():
    census = {
        "G1": {"Chinese (incl. Mandarin, Cantonese)": GroupFigures(900, 500)},
        "G2": {"Russian, Polish, or other Slavic languages": GroupFigures(300, 90)},
    }
    places = Places(
        precinct_names={},
        precinct_geographies={},
        liaisons_by_language={"yue": 1},  # one liaison speaks Cantonese: the Chinese group is covered
        language_name=str,
        language_groups={"cmn": CHINESE, "yue": CHINESE, "rus": SLAVIC, "pol": SLAVIC},
        group_labels={SLAVIC: "Russian, Polish, or other Slavic languages"},
    )
    report = build({}, LimitedEnglish.of(census, {}), places, rate=0.0, period=PERIOD)
    assert [(p.rank, p.language, p.language_name, p.limited_english) for p in report.priorities] == [
        (1, SLAVIC, "Russian, Polish, or other Slavic languages", 90)
    ]


def test_without_a_rate_or_a_census_those_columns_are_empty_not_zero():
    report = build(fixed_tallies(), LimitedEnglish.of({}, PLACES.precinct_geographies), PLACES, rate=0.0, period=PERIOD)
    assert report.vendor_cost is None and not report.has_census
    assert all(r.vendor_cost is None and r.limited_english is None for r in report.rows)
    header, rows = tables(report)["precincts"]
    assert rows[0][header.index("vendor_cost")] == "" and rows[0][header.index("limited_english")] == ""


def test_the_csv_tables_carry_the_same_figures():
    report = build(
        fixed_tallies(), LimitedEnglish.of(CENSUS, PLACES.precinct_geographies), PLACES, rate=2.0, period=PERIOD
    )
    header, rows = tables(report)["precincts"]
    first = dict(zip(header, rows[0], strict=True))
    assert first["requests"] == "6" and first["vendor_minutes"] == "15.0" and first["vendor_cost"] == "30.00"
    assert first["tti_p50_s"] == "8.8" and first["unmet_hours"] == "Mon 02:00=2 Sat 02:00=1"
    header, hours = tables(report)["hours"]
    assert len(hours) == 168 and hours[2] == ["Mon", "02:00", "2"]


def test_quantile_of_nothing_is_none():
    assert quantile([0] * BUCKETS, 50) is None


TODAY = date(2026, 12, 2)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({}, (date(2026, 11, 3), TODAY)),
        ({"period": "7"}, (date(2026, 11, 26), TODAY)),
        ({"period": "365"}, (date(2025, 12, 3), TODAY)),
        ({"period": "custom", "from": "2026-01-01", "to": "2026-01-31"}, (date(2026, 1, 1), date(2026, 1, 31))),
    ],
)
def test_periods(args, expected):
    period = period_from(args, TODAY, kept_days=1825)
    assert (period.start, period.end) == expected


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ({"period": "12"}, "choose a period"),
        ({"period": "custom", "from": "2026-02-01"}, "needs a start and an end"),
        ({"period": "custom", "from": "yesterday", "to": "2026-02-01"}, "needs a start and an end"),
        ({"period": "custom", "from": "2026-02-02", "to": "2026-02-01"}, "starts after it ends"),
        ({"period": "custom", "from": "2026-02-02", "to": "2026-12-03"}, "in the future"),
        ({"period": "custom", "from": "2020-01-01", "to": "2026-02-01"}, "kept 1825 days"),
    ],
)
def test_a_bad_period_is_refused_with_a_reason(args, reason):
    with pytest.raises(PeriodError, match=reason):
        period_from(args, TODAY, kept_days=1825)


def test_a_page_of_rows_keeps_the_totals_hours_and_priorities_of_all():
    limited = LimitedEnglish.of(CENSUS, PLACES.precinct_geographies)
    full = build(fixed_tallies(), limited, PLACES, rate=2.0, period=PERIOD)
    page = build(fixed_tallies(), limited, PLACES, rate=2.0, period=PERIOD, rows_limit=1)
    assert page.rows == full.rows[:1] and (page.row_count, full.row_count) == (3, 3)
    assert (page.requests, page.vendor_minutes, page.unmet_by_hour) == (
        full.requests,
        full.vendor_minutes,
        full.unmet_by_hour,
    )
    assert page.priorities == full.priorities
