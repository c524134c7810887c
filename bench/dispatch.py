"""Benchmark: from "queued" to the first call at the phone network, in a surge and at a steady rate.

    .venv/bin/python -m bench.dispatch [--surge 1000] [--rate 10] [--steady-seconds 30]
                                       [--workers 2] [--submitters 8]

Starts an embedded Redis, gunicorn (`wsgi:app`, the Procfile's settings), `--workers` RQ
worker processes (`python -m workers.worker`) and the phone simulator (bench/_sim.py,
which timestamps every REST call-create it receives), with bench/data/roster.bench.yaml:
20 liaisons on duty, the vendor with an alternate. All on loopback.

Requests are opened in this process exactly as the IVR's confirm webhook opens them
(`Dispatcher.open_request` with the RQ jobs adapter: record created in state queued,
the request put in the route inbox and a drainer job started if one is free), with a mix of languages (most spoken by a liaison, some not,
some unknown, a few urgent). For each request, latency = the simulator's receipt of the
first REST call-create for it (liaison offer or vendor dial) - the record's `queued_at`;
"routed" = the history's offer/vendor_dial timestamp - queued_at (the decision, before
the HTTP call).

Phases, in this order on the same two workers:
  1. empty jobs: `--surge` RQ jobs that do nothing (`time.time`), enqueued in one pipeline;
     drain = last job finished - first enqueued (RQ's own timestamps).
  2. surge: `--surge` requests opened by `--submitters` threads at once (many web processes
     taking calls); interpreter phones only ring, so just the 'initiated'/'ringing' status
     callbacks come back. drain = last first call - first queued.
  3. steady: `--rate` requests per second for `--steady-seconds`; liaisons answer and
     accept, the vendor answers, calls last 5 s (the whole call flow runs).
Targets: steady p99 queued->first call < 250 ms; surge drain rate >= half the empty-job rate.
Bounded: each phase has a deadline (surge: 180 s); the whole run stops by --max-seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import threading
import time
from urllib.parse import parse_qs, urlsplit

from bench._figures import LoadMeter, pct, print_machine, table, verdict
from bench._stack import Stack, hard_limit

P99_TARGET_MS = 250.0
DRAIN_RATIO_TARGET = 0.5
# (language, weight): spoken by bench liaisons, not spoken by any (vendor), unknown, urgent
LANGUAGE_MIX = [
    ("spa", 40),
    ("cmn", 8),
    ("yue", 4),
    ("rus", 6),
    ("ben", 4),
    ("hat", 4),
    ("kor", 3),
    ("ara", 3),
    ("pol", 3),
    ("vie", 3),
    ("tgl", 2),
    ("por", 2),
    ("urd", 2),
    ("fra", 2),
    ("jpn", 3),
    ("fas", 3),
    ("tur", 2),
    (None, 4),
    ("urgent", 2),
]


class Opener:
    """Opens requests the way the confirm webhook does, from any number of threads."""

    def __init__(self, st: Stack, seed: int):
        from dispatch.routing import Caller, Dispatcher

        self.ctx = st.context()
        self.dispatcher = Dispatcher(self.ctx)
        self.catalog = self.ctx.catalog
        roster = self.ctx.roster
        self.callers = [Caller(line, "precinct", p.id) for p in roster.precincts for line in p.lines]
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.n = 0
        langs, weights = zip(*LANGUAGE_MIX)
        self.langs, self.weights = langs, weights

    def open_one(self) -> str:
        with self.lock:
            self.n += 1
            n = self.n
            choice = self.rng.choices(self.langs, self.weights)[0]
        urgent = choice == "urgent"
        language = None if choice in (None, "urgent") else self.catalog.get(choice)
        if urgent:
            language = self.catalog.get("spa")
        caller = self.callers[n % len(self.callers)]
        sid = "CA" + f"{n:032x}"
        rec = self.dispatcher.open_request(caller, language, urgent=urgent, officer_call=sid)
        return rec.id


def request_of(url: str) -> str:
    return (parse_qs(urlsplit(url).query).get("r") or [""])[0]


def first_calls(st: Stack, since: int, ids: set[str], deadline: float) -> tuple[dict[str, float], int]:
    """Poll the simulator until every id in `ids` has had a call placed (or the deadline)."""
    first: dict[str, float] = {}
    index = since
    while time.time() < deadline:
        new = st.sim_arrivals(index)
        index += len(new)
        for a in new:
            rid = request_of(a["url"])
            if rid in ids and rid not in first:
                first[rid] = a["t"]
        if len(first) >= len(ids):
            break
        time.sleep(0.25)
    return first, index


def record_times(st: Stack, ids: list[str]) -> dict[str, tuple[float, float | None]]:
    """queued_at and the first routing decision (offer / vendor_dial history entry) per request."""
    from dispatch import keys

    assert st.redis is not None
    pipe = st.redis.pipeline(transaction=False)
    for rid in ids:
        pipe.hget(keys.request(rid), "queued_at")
        pipe.lrange(keys.history(rid), 0, 5)
    replies = pipe.execute()
    out = {}
    for i, rid in enumerate(ids):
        queued = float(replies[2 * i]) if replies[2 * i] else float("nan")
        routed = None
        for raw in replies[2 * i + 1]:
            entry = json.loads(raw)
            if entry["event"] in ("offer", "vendor_dial"):
                routed = (
                    dt.datetime.strptime(entry["ts"], "%Y-%m-%dT%H:%M:%S.%fZ")
                    .replace(tzinfo=dt.timezone.utc)
                    .timestamp()
                )
                break
        out[rid] = (queued, routed)
    return out


def latencies(st: Stack, ids: list[str], first: dict[str, float]) -> tuple[list[float], list[float], float, float]:
    """(queued->first call ms, queued->routed ms, first queued_at, last first-call t)."""
    times = record_times(st, ids)
    to_call = [(first[r] - times[r][0]) * 1e3 for r in ids if r in first]
    to_route = [(times[r][1] - times[r][0]) * 1e3 for r in ids if times[r][1] is not None]
    first_queued = min(q for q, _ in times.values())
    last_call = max(first.values()) if first else float("nan")
    return to_call, to_route, first_queued, last_call


def phase_empty_jobs(st: Stack, n: int) -> dict:
    from rq import Queue
    from rq.job import Job
    from rq.registry import FinishedJobRegistry

    from workers.jobqueue import DISPATCH_QUEUE

    q = Queue(DISPATCH_QUEUE, connection=st.redis)
    finished = FinishedJobRegistry(DISPATCH_QUEUE, connection=st.redis)
    target = finished.count + n
    jobs = [Queue.prepare_data("time.time", result_ttl=600, timeout=60, failure_ttl=3600) for _ in range(n)]
    t0 = time.time()
    enqueued = q.enqueue_many(jobs)
    submit_s = time.time() - t0
    ids = [j.id for j in enqueued]
    deadline = time.time() + 120
    while time.time() < deadline and finished.count < target:
        time.sleep(0.1)
    done = [j for j in Job.fetch_many(ids, connection=st.redis) if j and j.ended_at]

    def ts(d: dt.datetime) -> float:
        return d.replace(tzinfo=dt.timezone.utc).timestamp() if d.tzinfo is None else d.timestamp()

    first_enq = min(ts(j.enqueued_at) for j in done)
    last_end = max(ts(j.ended_at) for j in done)
    waits = [(ts(j.started_at) - ts(j.enqueued_at)) * 1e3 for j in done]
    return {
        "n": n,
        "done": len(done),
        "submit_s": submit_s,
        "drain_s": last_end - first_enq,
        "p50": pct(waits, 50),
        "p99": pct(waits, 99),
    }


def phase_surge(st: Stack, n: int, submitters: int, deadline: float = 180.0) -> dict:
    since = len(st.sim_arrivals())
    opener = Opener(st, seed=1)
    ids: list[str] = []
    lock = threading.Lock()
    per = [n // submitters + (1 if i < n % submitters else 0) for i in range(submitters)]

    def submit(k: int) -> None:
        for _ in range(k):
            rid = opener.open_one()
            with lock:
                ids.append(rid)

    t0 = time.time()
    threads = [threading.Thread(target=submit, args=(k,)) for k in per]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    submit_s = time.time() - t0
    first, _ = first_calls(st, since, set(ids), t0 + deadline)
    to_call, to_route, first_q, last_call = latencies(st, ids, first)
    return {
        "n": n,
        "done": len(first),
        "submit_s": submit_s,
        "drain_s": last_call - first_q,
        "p50": pct(to_call, 50),
        "p99": pct(to_call, 99),
        "max": max(to_call) if to_call else float("nan"),
        "route_p50": pct(to_route, 50),
        "route_p99": pct(to_route, 99),
    }


def phase_steady(st: Stack, rate: float, seconds: float) -> dict:
    since = len(st.sim_arrivals())
    opener = Opener(st, seed=2)
    ids: list[str] = []
    interval = 1.0 / rate
    start = time.time()
    k = 0
    while True:
        due = start + k * interval
        if due >= start + seconds:
            break
        now = time.time()
        if due > now:
            time.sleep(due - now)
        ids.append(opener.open_one())
        k += 1
    achieved = len(ids) / (time.time() - start)
    first, _ = first_calls(st, since, set(ids), time.time() + 60)
    to_call, to_route, _, _ = latencies(st, ids, first)
    return {
        "n": len(ids),
        "done": len(first),
        "rate": achieved,
        "p50": pct(to_call, 50),
        "p99": pct(to_call, 99),
        "max": max(to_call) if to_call else float("nan"),
        "route_p50": pct(to_route, 50),
        "route_p99": pct(to_route, 99),
    }


def settle(st: Stack, timeout: float = 60.0) -> None:
    """Wait until no job is queued or running (what a previous phase left behind)."""
    from rq import Queue
    from rq.registry import StartedJobRegistry

    from workers.jobqueue import DISPATCH_QUEUE, PERIODIC_QUEUE

    deadline = time.time() + timeout
    while time.time() < deadline:
        busy = sum(
            len(Queue(q, connection=st.redis)) + StartedJobRegistry(q, connection=st.redis).count
            for q in (DISPATCH_QUEUE, PERIODIC_QUEUE)
        )
        if busy == 0:
            return
        time.sleep(0.2)


def usage_delta(before: dict, after: dict, seconds: float) -> str:
    parts = []
    for name in after:
        if name in before:
            parts.append(f"{name} {(after[name][1] - before[name][1]) / seconds:.2f}")
    return ", ".join(parts)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--surge", type=int, default=1000, help="requests in the surge (default 1000)")
    ap.add_argument("--rate", type=float, default=10.0, help="steady requests per second (default 10)")
    ap.add_argument("--steady-seconds", type=float, default=30.0, help="length of the steady run (default 30)")
    ap.add_argument("--workers", type=int, default=2, help="RQ worker processes (default 2)")
    ap.add_argument("--submitters", type=int, default=8, help="threads opening the surge (default 8)")
    ap.add_argument("--max-seconds", type=float, default=600, help="hard bound on the whole run")
    args = ap.parse_args()
    hard_limit(args.max_seconds)
    print_machine(f"dispatch: {args.workers} RQ workers, 20 liaisons, the vendor; simulator on loopback")
    results = {}
    cpu_notes = {}
    # Realistic service timings (the defaults), except a short wrap-up so liaisons come back
    # during the steady run; the simulator speeds up prompts (Say/Gather) 20x.
    with Stack(workers=args.workers, settings={"WRAPUP_SECONDS": "5"}) as st:
        extra = [p for p in [st.redis_pid()] if p]
        # Empty jobs and the surge: interpreter phones only ring (see the docstring); the
        # steady run: the whole call flow. reset() also sets the simulated parties.
        for name, run, answer in (
            ("empty", lambda: phase_empty_jobs(st, args.surge), False),
            ("surge", lambda: phase_surge(st, args.surge, args.submitters), False),
            ("steady", lambda: phase_steady(st, args.rate, args.steady_seconds), True),
        ):
            st.reset(answer=answer)
            time.sleep(1.0)
            meter, before, t0 = LoadMeter(extra), st.group_usage(), time.time()
            results[name] = run()
            secs = time.time() - t0
            cpu_notes[name] = (meter.others(), usage_delta(before, st.group_usage(), secs))
            settle(st)
        st.procs.check_alive()

    e, s, d = results["empty"], results["surge"], results["steady"]
    empty_rate = e["done"] / e["drain_s"] if e["drain_s"] > 0 else float("nan")
    surge_rate = s["done"] / s["drain_s"] if s["drain_s"] > 0 else float("nan")
    ratio = surge_rate / empty_rate
    print()
    print(
        table(
            [
                "phase",
                "requests",
                "done",
                "submitted in s",
                "drained in s",
                "per s",
                "p50 ms",
                "p99 ms",
                "routed p50 ms",
                "routed p99 ms",
                "other load (CPUs)",
            ],
            [
                [
                    "empty RQ jobs (queued -> started)",
                    e["n"],
                    e["done"],
                    e["submit_s"],
                    e["drain_s"],
                    empty_rate,
                    e["p50"],
                    e["p99"],
                    "-",
                    "-",
                    f"{cpu_notes['empty'][0]:.2f}",
                ],
                [
                    "surge (queued -> first call)",
                    s["n"],
                    s["done"],
                    s["submit_s"],
                    s["drain_s"],
                    surge_rate,
                    s["p50"],
                    s["p99"],
                    s["route_p50"],
                    s["route_p99"],
                    f"{cpu_notes['surge'][0]:.2f}",
                ],
                [
                    f"steady {args.rate:g}/s (queued -> first call)",
                    d["n"],
                    d["done"],
                    "-",
                    "-",
                    d["rate"],
                    d["p50"],
                    d["p99"],
                    d["route_p50"],
                    d["route_p99"],
                    f"{cpu_notes['steady'][0]:.2f}",
                ],
            ],
        )
    )
    print(f"\n   surge drain rate / empty-job drain rate = {ratio:.2f} (target >= {DRAIN_RATIO_TARGET})")
    for name, (_others, usage) in cpu_notes.items():
        print(f"   CPUs used during {name}: {usage}")
    failures = []
    if d["p99"] >= P99_TARGET_MS:
        failures.append(f"steady p99 {d['p99']:.0f} ms >= {P99_TARGET_MS:.0f} ms")
    if ratio < DRAIN_RATIO_TARGET:
        failures.append(f"surge drained at {ratio:.2f} of the empty-job rate < {DRAIN_RATIO_TARGET}")
    for name, r in (("surge", s), ("steady", d)):
        if r["done"] < r["n"]:
            failures.append(f"{name}: {r['n'] - r['done']} requests never had a call placed")
    return verdict(failures)


if __name__ == "__main__":
    sys.exit(main())
