"""Benchmark: the coverage report on a year of figures, city-wide.

    .venv/bin/python -m bench.coverage [--per-day 1500] [--repeat 5]

Generates 365 days of coverage cells for 77 precincts × 240 languages (the default catalog's
first 240), sparse as real demand is: --per-day requests a day, the languages Zipf-distributed
(Spanish about a fifth, the 240th a few a year), precincts of uneven size, more requests in the
evening, outcomes by whether a liaison of the bench roster speaks the language. The cells are
written in the store's own format (dispatch.coverage_cells) to an embedded Redis, with a census
of 30 tracts a precinct. Then the report page is rendered through the app (GET
/dashboard/coverage, a signed-in session) for 7, 30 and 365 days:
- cold: nothing cached (the first page after a rebuild);
- late end: finished months cached, the period's sum not (after a count on a day before
  yesterday, or a rebuild);
- new day: yesterday's page of the period was seen, its sum is rolled forward a day;
- warm: the period's sum of the days before yesterday cached.
Also the cost of counting one request's end (the Lua script). Target: the 365-day page, warm,
under 1 s (p50 of --repeat renders); exits 1 when missed.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bench._figures import print_machine, table, verdict
from bootstrap import bootstrap, load_languages, load_roster_file
from config.settings import ROOT, Settings
from dispatch import keys
from dispatch.census import GroupFigures
from dispatch.census_store import CensusStore
from dispatch.coverage_cells import WIDTH, bucket_of, pack
from dispatch.records import RequestRecord
from dispatch.roster import Precinct
from launcher.embedded_redis import EmbeddedRedis
from launcher.ports import free_port

TARGET_S = 1.0
PRECINCTS, LANGUAGES, DAYS, TRACTS = 77, 240, 365, 30
HOUR_WEIGHTS = [2, 1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 6, 6, 6, 7, 8, 9, 9, 8, 7, 5, 4, 3]
OUTCOME_NAMES = ("liaison", "vendor", "abandoned", "failed", "cancelled")
GROUPS = {
    "Spanish": ["spa"],
    "Chinese (incl. Mandarin, Cantonese)": ["cmn", "yue"],
    "Haitian": ["hat"],
    "Russian": ["rus"],
    "Bengali": ["ben"],
    "Korean": ["kor"],
    "Arabic": ["ara"],
    "Urdu": ["urd"],
    "Polish": ["pol"],
    "Vietnamese": ["vie"],
    "Tagalog (incl. Filipino)": ["tgl"],
    "Other and unspecified languages": [],
}
WITH_LIAISON = (0.72, 0.20, 0.05, 0.01, 0.02)
WITHOUT_LIAISON = (0.0, 0.82, 0.11, 0.02, 0.05)


def generate(r, settings: Settings, roster, catalog, per_day: int, seed: int) -> dict[str, int]:
    """Write a year of day cells, ending today; returns counts of what was written."""
    rng = random.Random(seed)
    languages = [lang.id for lang in catalog.all()][:LANGUAGES]
    lang_w = [1 / (i + 1) ** 1.1 for i in range(len(languages))]
    precincts = [p.id for p in roster.precincts]
    prec_w = [rng.lognormvariate(0, 0.6) for _ in precincts]
    spoken = {lang for liaison in roster.liaisons for lang in liaison.languages}
    tz = ZoneInfo(roster.timezone)
    today = datetime.now(tz=tz).date()
    cells = 0
    pipe = r.pipeline(transaction=False)
    for d in range(DAYS):
        day = today - timedelta(days=d)
        totals: dict[str, list[int]] = defaultdict(lambda: [0] * WIDTH)
        n = max(1, int(rng.gauss(per_day, per_day * 0.1)))
        langs = rng.choices(languages, weights=lang_w, k=n)
        precs = rng.choices(precincts, weights=prec_w, k=n)
        hours = rng.choices(range(24), weights=HOUR_WEIGHTS, k=n)
        for lang, prec, hour in zip(langs, precs, hours, strict=True):
            outcome = rng.choices(OUTCOME_NAMES, weights=WITH_LIAISON if lang in spoken else WITHOUT_LIAISON)[0]
            values = totals[f"{prec}|{lang}|{hour}|{outcome}"]
            values[0] += 1
            if outcome in ("liaison", "vendor"):
                values[1] += int(rng.lognormvariate(6.2, 0.6))
                values[2 + bucket_of(rng.expovariate(1 / (15 if outcome == "liaison" else 70)))] += 1
        end = datetime(day.year, day.month, day.day, tzinfo=tz) + timedelta(days=1)
        key = keys.coverage_day(day.isoformat())
        pipe.hset(key, mapping={cell: pack(v) for cell, v in totals.items()})
        pipe.expireat(key, int(end.timestamp()) + settings.coverage_retention_days * 86400)
        cells += len(totals)
        if d % 30 == 29:
            pipe.execute()
    pipe.execute()
    return {"days": DAYS, "cells": cells, "languages": len(languages), "precincts": len(precincts)}


def census_for(roster, rng: random.Random) -> dict[str, dict[str, GroupFigures]]:
    groups = list(GROUPS)
    out = {}
    for p in roster.precincts:
        for geo in p.geographies:
            figures = {}
            for g in groups:
                speakers = int(rng.lognormvariate(5, 1.2))
                figures[g] = GroupFigures(speakers, int(speakers * rng.uniform(0.2, 0.6)))
            out[geo] = figures
    return out


def bench_roster(settings: Settings, catalog):
    base = load_roster_file(replace(settings, roster_file=str(ROOT / "bench" / "data" / "roster.bench.yaml")), catalog)
    precincts = tuple(
        Precinct(
            id=str(i + 1),
            name=f"Precinct {i + 1}",
            lines=(f"+1212555{i:04d}",),
            pin="1234",
            geographies=tuple(f"1400000US3600{i:03d}{t:04d}" for t in range(TRACTS)),
        )
        for i in range(PRECINCTS)
    )
    return replace(base, precincts=precincts)


CPU: list[float] = []  # this process's CPU seconds per render (wall time depends on the machine's load)


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        out.append(time.perf_counter() - start)
        CPU.append(time.process_time() - cpu)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-day", type=int, default=1500, help="requests a day city-wide (default 1500)")
    parser.add_argument("--repeat", type=int, default=5, help="renders per measurement (default 5)")
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()
    print_machine(f"coverage report: {PRECINCTS} precincts × {LANGUAGES} languages × {DAYS} days")
    with tempfile.TemporaryDirectory(prefix="bench-coverage-") as tmp:
        server = EmbeddedRedis(free_port(), Path(tmp), appendonly=False).start()
        try:
            return run(server.url, args)
        finally:
            server.stop()


def run(redis_url: str, args: argparse.Namespace) -> int:
    settings = replace(Settings(secret_key="bench", local_mode=True, vendor_rate_per_minute=1.5), redis_url=redis_url)
    catalog = load_languages(settings)
    roster = bench_roster(settings, catalog)
    wiring = bootstrap(settings, roster=roster)
    r = wiring.ctx.redis
    started = time.perf_counter()
    made = generate(r, settings, roster, catalog, args.per_day, args.seed)
    census = census_for(roster, random.Random(args.seed))
    CensusStore(r).replace(census, "generated", [], GROUPS)
    print(
        f"   generated {made['cells']:,} cells ({args.per_day:,} requests a day, {made['precincts']} precincts, "
        f"{made['languages']} languages, {made['days']} days) and {len(census):,} census tracts "
        f"in {time.perf_counter() - started:.1f} s; Redis used_memory {r.info('memory')['used_memory'] / 2**20:.1f} MB"
    )

    from webhooks import create_app
    from webhooks.dashboard import auth

    app = create_app(wiring)
    client = app.test_client()
    with app.test_request_context():
        signed = auth.start_session(roster.user("sergeant") or roster.users[0])
    with client.session_transaction() as sess:
        sess["sid"] = signed.session_id

    def render(period: str) -> None:
        resp = client.get(f"/dashboard/coverage?period={period}")
        assert resp.status_code == 200, resp.status_code

    def drop_periods() -> None:
        r.delete(*r.keys(keys.coverage_period("*", "*", "*")), "-")

    def drop_months() -> None:  # and the periods' sums: the first page after a rebuild
        r.delete(*r.keys(keys.coverage_month("*")), "-")
        drop_periods()

    def new_day(days: int) -> None:  # yesterday's page was seen (its sum ends 3 days back); today's not yet
        drop_periods()
        today = wiring.coverage.today()
        wiring.coverage.tallies(today - timedelta(days=days), today - timedelta(days=3), cache=True)

    rows = []
    figures, cpu = {}, {}
    for period in ("7", "30", "365"):
        cold, late, first = [], [], []
        for _ in range(args.repeat):
            drop_months()
            cold += timed(lambda p=period: render(p), 1)
        for _ in range(args.repeat):
            drop_periods()
            late += timed(lambda p=period: render(p), 1)
        for _ in range(args.repeat):
            new_day(int(period))
            first += timed(lambda p=period: render(p), 1)
        CPU.clear()
        warm = timed(lambda p=period: render(p), args.repeat)
        figures[period] = statistics.median(warm)
        cpu[period] = statistics.median(CPU)
        rows.append(
            [
                f"{period} days",
                *(f"{f(x) * 1000:.0f}" for x in (cold, late, first, warm) for f in (statistics.median, max)),
            ]
        )
    size = len(client.get("/dashboard/coverage?period=365").get_data())
    print(
        table(
            ["page", "cold p50 ms", "max", "late end p50", "max", "new day p50", "max", "warm p50", "max"],
            rows,
        )
    )
    print(f"   365-day page: {size / 1024:.0f} KB of HTML")
    print("   warm, this process's CPU per render: " + ", ".join(f"{p} days {cpu[p] * 1000:.0f} ms" for p in cpu))

    rec = RequestRecord.from_hash(
        {
            "id": "R1",
            "state": "completed",
            "precinct": "1",
            "language": "spa",
            "handler_kind": "liaison",
            "created_at": repr(time.time()),
            "queued_at": repr(time.time()),
            "connected_at": repr(time.time() + 9),
            "ended_at": repr(time.time() + 400),
        }
    )
    count = [replace(rec, id=f"R{i}") for i in range(2000)]
    spent = timed(lambda: [wiring.coverage.count(x) for x in count], 1)[0]
    print(f"   counting a request's end (the Lua script, one round trip): {spent / len(count) * 1e6:.0f} µs each")
    slow = figures["365"] >= TARGET_S
    return verdict([f"365-day report, warm, p50 {figures['365']:.2f} s (target < {TARGET_S:.0f} s)"] if slow else [])


if __name__ == "__main__":
    sys.exit(main())
