"""Today's figures: the arithmetic on known inputs (pure, no Redis)."""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from dispatch.records import RequestRecord
from dispatch.stats import day_figures, histogram, percentile, start_of_day

DAY = 1_700_000_000.0  # an arbitrary "midnight" for records


def rec(
    n: int,
    state: str,
    created: float = DAY + 60,
    queued: float | None = None,
    tti: float | None = None,
    handler: str = "",
    language: str = "Spanish",
) -> RequestRecord:
    """A record as Redis would hold it; `tti` sets connected_at = queued_at + tti."""
    queued = created if queued is None else queued
    raw = {
        "id": f"R{n:05d}",
        "state": state,
        "language_name": language,
        "created_at": repr(created),
        "queued_at": repr(queued),
        "handler_kind": handler,
    }
    if tti is not None:
        raw["connected_at"] = repr(queued + tti)
    return RequestRecord.from_hash(raw)


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50, 5.5),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90, 9.1),
        ([10, 1, 7, 3], 50, 5.0),  # unsorted input, even count: mean of the middle two
        ([4, 8, 15, 16, 23], 50, 15.0),
        ([4, 8, 15, 16, 23], 90, 20.2),  # rank 3.6: 16 + 0.6 * (23 - 16)
        ([42.0], 90, 42.0),
        ([3, 9], 0, 3.0),
        ([3, 9], 100, 9.0),
    ],
)
def test_percentile_interpolates_between_closest_ranks(values, q, expected):
    assert percentile(values, q) == pytest.approx(expected)


def test_percentile_of_nothing_is_none_and_q_is_checked():
    assert percentile([], 50) is None
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_day_figures_counts_outcomes_times_and_shares():
    records = [
        rec(1, "completed", tti=10, handler="liaison"),
        rec(2, "completed", tti=20, handler="liaison"),
        rec(3, "connected", tti=30, handler="vendor", language="Mandarin"),
        rec(4, "completed", tti=40, handler="liaison"),
        rec(5, "abandoned", language="Mandarin"),
        rec(6, "failed", language="Tigrinya"),
        rec(7, "queued"),
        rec(8, "offering", language=""),
        rec(9, "cancelled"),
        rec(10, "completed", created=DAY - 5, tti=999, handler="vendor"),  # yesterday: left out
    ]
    figures = day_figures(records, since=DAY)
    assert figures.requests == 9
    assert (figures.waiting, figures.connected, figures.completed) == (2, 1, 3)
    assert (figures.abandoned, figures.failed, figures.cancelled) == (1, 1, 1)
    assert figures.interpreted == 4
    assert figures.median_tti == pytest.approx(25.0)  # 10, 20, 30, 40
    assert figures.p90_tti == pytest.approx(37.0)  # rank 2.7: 30 + 0.7 * 10
    assert (figures.by_liaison, figures.by_vendor) == (3, 1)
    assert figures.liaison_share == pytest.approx(0.75) and figures.vendor_share == pytest.approx(0.25)
    assert [(c.language, c.count) for c in figures.by_language] == [
        ("Spanish", 5),
        ("Mandarin", 2),
        ("Tigrinya", 1),
        ("Unknown language", 1),
    ]


def test_an_empty_day_has_no_times_or_shares_rather_than_zeros():
    figures = day_figures([rec(1, "queued", created=DAY - 1)], since=DAY)
    assert figures.requests == 0
    assert figures.median_tti is None and figures.p90_tti is None
    assert figures.liaison_share is None and figures.vendor_share is None
    assert figures.as_dict()["by_language"] == []


def test_start_of_day_is_local_midnight_even_on_a_dst_change():
    tz = "America/New_York"
    spring = datetime(2024, 3, 10, 15, 30, tzinfo=ZoneInfo(tz)).timestamp()  # the day clocks go forward
    assert start_of_day(spring, tz) == datetime(2024, 3, 10, 0, 0, tzinfo=ZoneInfo(tz)).timestamp()
    assert spring - start_of_day(spring, tz) == (15 * 60 + 30) * 60 - 3600  # a 23-hour day
    late = datetime(2024, 11, 3, 23, 59, tzinfo=ZoneInfo(tz)).timestamp()
    assert start_of_day(late, tz) == datetime(2024, 11, 3, tzinfo=ZoneInfo(tz)).timestamp()


def test_histogram_is_cumulative_and_ends_with_everything():
    buckets = histogram([1, 5, 5.5, 31, 400], bounds=(5, 30, 60))
    assert buckets == [(5.0, 2), (30.0, 3), (60.0, 4), (math.inf, 5)]


def test_the_officers_wait_is_split_into_time_in_line_and_time_ringing():
    def split(n: int, queue: float, ring: float, handler: str = "liaison") -> RequestRecord:
        base = rec(n, "completed", tti=queue + ring, handler=handler)
        return RequestRecord.from_hash(
            {
                **dict(base.extra),
                "id": base.id,
                "state": "completed",
                "created_at": repr(base.created_at),
                "queued_at": repr(base.queued_at),
                "dialled_at": repr(base.queued_at + queue),
                "connected_at": repr(base.queued_at + queue + ring),
                "handler_kind": handler,
            }
        )

    records = [split(1, 0.0, 10.0), split(2, 2.0, 20.0), split(3, 4.0, 30.0, "vendor"), split(4, 6.0, 40.0)]
    wait = day_figures([*records, rec(5, "queued")], since=DAY).wait
    assert wait.queue.p50 == pytest.approx(3.0) and wait.ring.p50 == pytest.approx(25.0)
    assert wait.ring.p90 == pytest.approx(37.0) and wait.queue.p99 == pytest.approx(5.94)
    assert wait.total.p50 == pytest.approx(28.0)  # 10, 22, 34, 46


def test_a_record_from_before_the_split_counts_in_the_total_only():
    old = rec(1, "completed", tti=12.0, handler="liaison")  # no dialled_at: opened by an earlier version
    wait = day_figures([old], since=DAY).wait
    assert wait.total.p50 == pytest.approx(12.0) and wait.queue.p50 is None and wait.ring.p90 is None
    assert day_figures([old], since=DAY).as_dict()["wait"]["total"]["p50"] == pytest.approx(12.0)


def test_the_time_in_the_menu_counts_where_the_network_reported_the_call():
    base = rec(1, "completed", tti=20.0, handler="liaison")
    with_start = RequestRecord.from_hash(
        {
            "id": "R00001",
            "state": "completed",
            "created_at": repr(base.created_at),
            "queued_at": repr(base.queued_at),
            "connected_at": repr(base.queued_at + 20),
            "call_started_at": repr(base.queued_at - 7.0),
            "handler_kind": "liaison",
        }
    )
    wait = day_figures([with_start, rec(2, "completed", tti=30.0, handler="liaison")], since=DAY).wait
    assert wait.menu.p50 == pytest.approx(7.0) and wait.total.p50 == pytest.approx(25.0)
