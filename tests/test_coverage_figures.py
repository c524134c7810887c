"""Coverage figures: counted once at each request's end, whoever ends it; kept after the
records expire; rebuilt from the records still in retention. On the real (embedded) Redis."""

from __future__ import annotations

import time
from datetime import date, datetime
from zoneinfo import ZoneInfo

from dispatch import clock
from dispatch.coverage_cells import BUCKETS, addition, bucket_of
from dispatch.states import State

TZ = ZoneInfo("America/New_York")


def _today():
    return datetime.now(tz=TZ).date()


def _connected(ctx, later, *, language="spa", precinct="75", handler="liaison", tti=12.0, talk=300.0):
    """A request that reached an interpreter `tti` s after queueing and talked `talk` s."""
    rec = ctx.requests.create(
        {"channel": "voice", "language": language, "precinct": precinct, "caller_kind": "precinct"},
        state=State.QUEUED,
    )
    later(tti)
    if handler == "liaison":
        ctx.requests.apply(rec.id, "offer", fields={"offer_liaison": "l-garcia"})
        out = ctx.requests.apply(rec.id, "liaison_connected", fields={"handler_kind": "liaison"})
    else:
        ctx.requests.apply(rec.id, "vendor_dial")
        out = ctx.requests.apply(rec.id, "vendor_connected", fields={"handler_kind": "vendor"})
    later(tti + talk)
    return out.record


def _cell(rec):
    return datetime.fromtimestamp(rec.created_at, tz=TZ).hour


def test_a_completed_request_is_counted_once_with_its_minutes_and_bucket(wiring, later, r):
    ctx = wiring.ctx
    rec = _connected(ctx, later, tti=12.0, talk=300.0)
    ended = wiring.call_ends.interpreter_left(rec, "CA-interpreter")
    assert ended is not None and ended.state == State.COMPLETED
    hour = _cell(rec)
    cells = wiring.coverage.day_cells(datetime.fromtimestamp(rec.created_at, tz=TZ).date())
    values = [int(v) for v in cells[f"75|spa|{hour}|liaison"].split()]
    assert values[0] == 1 and values[1] == 300
    assert values[2:] == [1 if i == bucket_of(12.0) else 0 for i in range(BUCKETS)]

    # The interpreter's status callback delivered again: the transition does not apply, nothing changes.
    assert wiring.call_ends.interpreter_left(rec, "CA-interpreter") is None
    # Counting the same end again directly (a second listener, a rebuild): refused by the marker.
    assert wiring.coverage.count(ctx.requests.get(rec.id)) is False
    assert wiring.coverage.day_cells(datetime.fromtimestamp(rec.created_at, tz=TZ).date()) == cells


def test_every_way_a_request_ends_is_counted_under_its_outcome(wiring, later):
    ctx = wiring.ctx
    made = {}
    for outcome in ("abandoned", "failed", "cancelled"):
        rec = ctx.requests.create({"language": "hat", "precinct": "46"}, state=State.QUEUED)
        made[outcome] = rec
    ctx.requests.apply(made["abandoned"].id, "abandon")  # the officer hung up (call_ends)
    ctx.requests.apply(made["failed"].id, "fail")  # no route left (vendor bridge, sweeper)
    wiring.sergeant.cancel(made["cancelled"].id, "test")  # a sergeant's cancel
    vendor = _connected(ctx, later, language="hat", precinct="46", handler="vendor", tti=50.0, talk=90.0)
    ctx.requests.apply(vendor.id, "complete")
    day = datetime.fromtimestamp(vendor.created_at, tz=TZ).date()
    cells = wiring.coverage.day_cells(day)
    by_outcome = {}
    for cell, packed in cells.items():
        precinct, language, _hour, outcome = cell.split("|")
        assert (precinct, language) == ("46", "hat")
        by_outcome[outcome] = by_outcome.get(outcome, 0) + int(packed.split()[0])
    assert by_outcome == {"abandoned": 1, "failed": 1, "cancelled": 1, "vendor": 1}
    tallies = wiring.coverage.tallies(day, day)
    assert tallies[("46", "hat")].secs("vendor") == 90
    assert sum(tallies[("46", "hat")].unmet.values()) == 3  # vendor, abandoned, failed; not the cancel


def test_the_figures_hold_no_number_no_request_id_and_no_text(wiring, later, r):
    ctx = wiring.ctx
    rec = ctx.requests.create(
        {"language": "spa", "precinct": "75", "caller": "+17185550101", "callback_number": "+19175550110"},
        state=State.QUEUED,
    )
    ctx.requests.apply(rec.id, "abandon")
    day = datetime.fromtimestamp(rec.created_at, tz=TZ).date()
    stored = str(wiring.coverage.day_cells(day))
    for secret in ("5550101", "5550110", rec.id):
        assert secret not in stored
    key_names = [k.decode() for k in r.keys("ird:coverage:day:*")]
    assert key_names and not any(rec.id in k for k in key_names)


def test_the_figures_outlive_the_records_and_are_kept_for_years(wiring, later, r):
    ctx = wiring.ctx
    rec = _connected(ctx, later, tti=4.0, talk=61.0)
    ctx.requests.apply(rec.id, "complete")
    day = datetime.fromtimestamp(rec.created_at, tz=TZ).date()
    # The record expires (its retention ends): real Redis expiry, made due at once.
    for key in r.keys(f"ird:request:{rec.id}*"):
        r.pexpire(key, 1)
    deadline = time.monotonic() + 10
    while r.exists(f"ird:request:{rec.id}") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert ctx.requests.get(rec.id) is None
    tally = wiring.coverage.tallies(day, day)[("75", "spa")]
    assert tally.n("liaison") == 1 and tally.secs("liaison") == 61
    years = r.ttl(f"ird:coverage:day:{day.isoformat()}") / 86400
    assert wiring.settings.coverage_retention_days <= years <= wiring.settings.coverage_retention_days + 2


def test_rebuild_counts_what_was_missed_and_recounts_complete_days_from_the_records(wiring, later, r):
    ctx = wiring.ctx
    recs = [_connected(ctx, later, tti=t, talk=120.0) for t in (3.0, 25.0)]
    for rec in recs:
        ctx.requests.apply(rec.id, "complete")
    ab = ctx.requests.create({"language": "ben", "precinct": "109"}, state=State.QUEUED)
    ctx.requests.apply(ab.id, "abandon")
    day = datetime.fromtimestamp(ab.created_at, tz=TZ).date()
    before = wiring.coverage.day_cells(day)

    # A count lost (Redis was away at the end): its cell is gone, its marker never written.
    r.delete(f"ird:coverage:day:{day.isoformat()}", f"ird:coverage:counted:{ab.id}")
    records = ctx.requests.get_many(ctx.requests.closed_ids(0, limit=10_000))
    done = wiring.coverage.rebuild(records, complete_since=None)
    assert (done.counted, done.already) == (1, 2)
    assert wiring.coverage.day_cells(day) == {k: v for k, v in before.items() if k.startswith("109|")}

    # Recounting complete days drops their figures and counts every record again: the same cells.
    done = wiring.coverage.rebuild(records, complete_since=day)
    assert (done.counted, done.days_reset) == (3, 1)
    assert wiring.coverage.day_cells(day) == before
    # And again: nothing is counted twice.
    assert wiring.coverage.rebuild(records, complete_since=None).counted == 0
    assert wiring.coverage.day_cells(day) == before


def test_a_month_cache_is_dropped_when_a_late_end_lands_in_its_month(wiring, later, r, monkeypatch):
    """A finished month is read from its cache; a count for that month afterwards is not lost."""
    ctx = wiring.ctx
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 10, 31, 23, 0, tzinfo=TZ).timestamp())
    first = ctx.requests.create({"language": "kor", "precinct": "75"}, state=State.QUEUED)
    second = ctx.requests.create({"language": "kor", "precinct": "75"}, state=State.QUEUED)
    ctx.requests.apply(first.id, "abandon")
    october = date(2026, 10, 1)
    assert wiring.coverage.month(october)[("75", "kor")].n("abandoned") == 1
    assert r.exists("ird:coverage:month:2026-10")
    ctx.requests.apply(second.id, "fail")  # ends after the cache was made
    assert not r.exists("ird:coverage:month:2026-10")
    tally = wiring.coverage.month(october)[("75", "kor")]
    assert (tally.n("abandoned"), tally.n("failed")) == (1, 1)
    assert tally.unmet == {5 * 24 + 23: 2}  # Saturday (Monday is 0) 23:00 local


def test_a_request_without_precinct_or_language_is_counted_all_the_same(wiring):
    rec = wiring.ctx.requests.create({"channel": "sms"}, state=State.QUEUED)
    wiring.ctx.requests.apply(rec.id, "fail")
    cells = wiring.coverage.day_cells(datetime.fromtimestamp(rec.created_at, tz=TZ).date())
    assert [c.rsplit("|", 2)[0] for c in cells] == ["-|und"]


def test_an_unfinished_request_adds_nothing(wiring):
    rec = wiring.ctx.requests.create({"language": "spa", "precinct": "75"}, state=State.QUEUED)
    assert addition(rec, "America/New_York") is None
    assert wiring.coverage.count(rec) is False
    assert wiring.coverage.day_cells(_today()) == {}


def test_a_cached_period_takes_in_a_late_end_on_a_past_day_and_todays_ends_at_once(wiring, r, monkeypatch):
    ctx = wiring.ctx
    three_days_ago = datetime(2026, 11, 28, 12, 0, tzinfo=TZ).timestamp()
    today_noon = three_days_ago + 3 * 86400
    monkeypatch.setattr(clock, "now", lambda: three_days_ago)
    early = ctx.requests.create({"language": "urd", "precinct": "109"}, state=State.QUEUED)
    late = ctx.requests.create({"language": "urd", "precinct": "109"}, state=State.QUEUED)
    ctx.requests.apply(early.id, "abandon")
    monkeypatch.setattr(clock, "now", lambda: today_noon)
    week = (date(2026, 11, 25), date(2026, 12, 1))

    def abandoned() -> int:
        return wiring.coverage.tallies(*week, cache=True)[("109", "urd")].n("abandoned")

    assert abandoned() == 1
    assert r.keys("ird:coverage:period:*")  # the days before yesterday are summed once and kept
    ctx.requests.apply(late.id, "abandon")  # created three days ago, ends today: that day's figures change
    assert abandoned() == 2
    for when in (today_noon - 86400, today_noon):  # yesterday's and today's ends are read live
        monkeypatch.setattr(clock, "now", lambda when=when: when)
        rec = ctx.requests.create({"language": "urd", "precinct": "109"}, state=State.QUEUED)
        ctx.requests.apply(rec.id, "abandon")
    monkeypatch.setattr(clock, "now", lambda: today_noon)
    assert abandoned() == 4
    assert all(0 < r.ttl(k) <= 2 * 86400 for k in r.keys("ird:coverage:period:*"))


def test_a_period_rolled_forward_a_day_equals_the_period_summed_afresh(wiring, r, monkeypatch):
    ctx = wiring.ctx
    base = datetime(2026, 11, 20, 9, 0, tzinfo=TZ).timestamp()
    for day, language in enumerate(["spa", "spa", "tir", "kor", "spa", "hat", "ben", "spa", "urd"]):
        monkeypatch.setattr(clock, "now", lambda d=day: base + d * 86400)
        rec = ctx.requests.create({"language": language, "precinct": "75"}, state=State.QUEUED)
        ctx.requests.apply(rec.id, "abandon" if day % 2 else "fail")
    today = datetime(2026, 11, 29, 12, 0, tzinfo=TZ)
    monkeypatch.setattr(clock, "now", lambda: today.timestamp() - 86400)
    d = today.date()
    from datetime import timedelta

    yesterday_week = wiring.coverage.tallies(d - timedelta(days=7), d - timedelta(days=1), cache=True)
    monkeypatch.setattr(clock, "now", lambda: today.timestamp())
    rolled = wiring.coverage.tallies(d - timedelta(days=6), d, cache=True)
    fresh = wiring.coverage.tallies(d - timedelta(days=6), d, cache=False)
    assert rolled == fresh and rolled != yesterday_week
    assert ("75", "tir") in yesterday_week  # Nov 22's only request ...
    assert ("75", "tir") not in rolled  # ... left the period: no empty row stays


def test_a_recount_leaves_the_days_before_it_alone(wiring, monkeypatch):
    """A request of the day before the recount's first day, ended on that day: counted once."""
    ctx = wiring.ctx
    evening = datetime(2026, 11, 27, 23, 50, tzinfo=TZ).timestamp()
    monkeypatch.setattr(clock, "now", lambda: evening)
    crossing = ctx.requests.create({"language": "pol", "precinct": "75"}, state=State.QUEUED)
    monkeypatch.setattr(clock, "now", lambda: evening + 1200)  # 00:10 the next day
    ctx.requests.apply(crossing.id, "abandon")
    records = ctx.requests.get_many(ctx.requests.closed_ids(0, limit=100))
    done = wiring.coverage.rebuild(records, complete_since=date(2026, 11, 28))
    assert done.counted == 0
    assert wiring.coverage.tallies(date(2026, 11, 27), date(2026, 11, 28))[("75", "pol")].n("abandoned") == 1


def test_columns_sum_encoded_tallies_as_adding_their_cells_would():
    from dispatch.coverage_cells import Tallies, add_day
    from dispatch.coverage_columns import Columns, decode, encode

    monday, tuesday = date(2026, 11, 30), date(2026, 12, 1)
    day1 = {"75|spa|14|liaison": "2 300 1 1 0 0 0 0 0 0 0 0 0 0", "75|spa|3|vendor": "1 60 0 0 0 0 0 0 1 0 0 0 0 0"}
    day2 = {"75|spa|3|vendor": "1 120 0 0 0 1 0 0 0 0 0 0 0 0", "46|hat|3|failed": "3 0 0 0 0 0 0 0 0 0 0 0 0 0"}
    one: Tallies = {}
    two: Tallies = {}
    both: Tallies = {}
    add_day(one, monday, day1)
    add_day(two, tuesday, day2)
    add_day(both, monday, day1)
    add_day(both, tuesday, day2)
    assert decode(encode(one)) == one
    columns = Columns()
    columns.add(encode(one))
    columns.add(encode(two))
    assert columns.tallies() == both
    assert both[("75", "spa")].unmet == {3: 1, 24 + 3: 1}
