"""Benchmark: memory after a surge and over a long steady run; Redis bytes per request; caps.

    .venv/bin/python -m bench.memory [--duration 600] [--rate 10] [--surge 1000]
                                     [--retention 120] [--sample 15]

Starts the stack of bench/dispatch.py (embedded Redis, gunicorn `wsgi:app`, 2 RQ workers,
the phone simulator, bench/data/roster.bench.yaml), with RETENTION_SECONDS=--retention so
that expiry happens within the run (production keeps 30 days; the mechanism is the same).
Every call is answered (liaisons accept, the vendor answers, calls last 5 s), so requests
run to completion.

1. A surge of --surge requests; when they are all finished: resident memory (RSS) of the
   web processes (gunicorn master + workers) and the RQ workers, and Redis bytes per
   request record = MEMORY USAGE of its hash + its history list (plus, listed apart,
   its call links, idempotency key and tried-set).
2. --rate requests per second for --duration seconds, sampling every --sample seconds:
   RSS, Redis used_memory, key counts, the events stream's length, the closed-requests
   index. Growth = least-squares slope over the second half of the run.
Checks: the events stream stays within EVENTS_MAXLEN (approximate trimming: +1%); every
request key has a TTL no longer than the retention; Redis memory, key counts and RSS stop
growing once the retention period has passed (second-half slope within a few % per minute).
Bounded: surge phase <= 240 s, then --duration, then a few seconds.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time

from bench._figures import LoadMeter, print_machine, table, tree_rss_cpu
from bench._stack import Stack, hard_limit
from bench.dispatch import Opener, phase_surge, settle

GROWTH_LIMIT = 0.02  # of the mean, per minute, over the second half


def slope_per_min(points: list[tuple[float, float]]) -> float:
    if len(points) < 3:
        return float("nan")
    n = len(points)
    mx = sum(t for t, _ in points) / n
    my = sum(v for _, v in points) / n
    sxx = sum((t - mx) ** 2 for t, _ in points)
    return (sum((t - mx) * (v - my) for t, v in points) / sxx) * 60 if sxx else float("nan")


def request_keys(st: Stack) -> dict[str, int]:
    from dispatch import keys

    assert st.redis is not None
    counts = {"request": 0, "history": 0, "tried": 0, "call": 0, "once": 0, "other ird:": 0}
    for key in st.redis.scan_iter(keys.PREFIX + "*", count=2000):
        k = key.decode()
        if k.startswith(keys.PREFIX + "request:R"):
            if k.endswith(":history"):
                counts["history"] += 1
            elif k.endswith(":tried"):
                counts["tried"] += 1
            else:
                counts["request"] += 1
        elif k.startswith(keys.PREFIX + "call:"):
            counts["call"] += 1
        elif k.startswith(keys.PREFIX + "once:"):
            counts["once"] += 1
        else:
            counts["other ird:"] += 1
    return counts


def wait_finished(st: Stack, timeout: float) -> int:
    """Wait until no request is open (all reached a final state); returns how many still are."""
    from dispatch import keys

    assert st.redis is not None
    deadline = time.time() + timeout
    while time.time() < deadline:
        left = st.redis.zcard(keys.OPEN_REQUESTS)
        if left == 0:
            return 0
        time.sleep(1.0)
    return int(st.redis.zcard(keys.OPEN_REQUESTS))


def bytes_per_request(st: Stack, sample: int = 200) -> dict[str, float]:
    """Mean MEMORY USAGE of a finished request's keys, over up to `sample` requests."""
    from dispatch import keys

    assert st.redis is not None
    ids = [x.decode() for x in st.redis.zrange(keys.CLOSED_REQUESTS, 0, sample - 1)]
    totals = {"hash": 0, "history": 0, "tried": 0, "calls": 0, "once": 0}
    n = 0
    for rid in ids:
        h = st.redis.memory_usage(keys.request(rid), samples=0)
        if not h:
            continue
        n += 1
        totals["hash"] += h
        totals["history"] += st.redis.memory_usage(keys.history(rid), samples=0) or 0
        totals["tried"] += st.redis.memory_usage(keys.tried(rid), samples=0) or 0
        rec = st.redis.hgetall(keys.request(rid))
        for field in (b"officer_call", b"offer_call", b"vendor_call", b"handler_call"):
            sid = rec.get(field)
            if sid:
                totals["calls"] += st.redis.memory_usage(keys.call(sid.decode()), samples=0) or 0
        officer = rec.get(b"officer_call", b"").decode()
        if officer:
            totals["once"] += st.redis.memory_usage(keys.once("open", f"{officer}:"), samples=0) or 0
    return {k: v / n for k, v in totals.items()} | {"n": n} if n else {"n": 0}


def ttl_check(st: Stack, retention: int, limit: int = 3000) -> tuple[int, list[str]]:
    """(keys checked, keys without a TTL or with one above the retention) among request keys."""
    from dispatch import keys

    assert st.redis is not None
    checked, bad = 0, []
    for prefix in ("request:R*", "call:*", "once:*"):
        for key in st.redis.scan_iter(keys.PREFIX + prefix, count=2000):
            ttl = st.redis.ttl(key)
            checked += 1
            if ttl == -1 or ttl > retention:  # -2: expired between SCAN and TTL
                fields = st.redis.hkeys(key) if st.redis.type(key) == b"hash" else []
                bad.append(f"{key.decode()} ttl={ttl} fields={sorted(f.decode() for f in fields)[:6]}")
            if checked >= limit:
                return checked, bad
    return checked, bad


def sample(st: Stack) -> dict[str, float]:
    from dispatch import keys

    assert st.redis is not None
    web_rss, _ = tree_rss_cpu(st.procs.pids("web"))
    worker_rss, _ = tree_rss_cpu(st.procs.pids("worker"))
    info = st.redis.info("memory")
    return {
        "t": time.time(),
        "web_rss": web_rss,
        "worker_rss": worker_rss,
        "redis_used": info["used_memory"] / 2**20,
        "dbsize": st.redis.dbsize(),
        "events": st.redis.xlen(keys.EVENTS),
        "closed": st.redis.zcard(keys.CLOSED_REQUESTS),
        "open": st.redis.zcard(keys.OPEN_REQUESTS),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=600.0, help="steady run, seconds (default 600)")
    ap.add_argument("--rate", type=float, default=10.0, help="steady requests per second (default 10)")
    ap.add_argument("--surge", type=int, default=1000, help="requests in the surge (default 1000)")
    ap.add_argument("--retention", type=int, default=120, help="RETENTION_SECONDS for the run (default 120)")
    ap.add_argument("--sample", type=float, default=15.0, help="seconds between samples (default 15)")
    args = ap.parse_args()
    hard_limit(args.duration + 420)
    print_machine(
        f"memory: surge of {args.surge}, then {args.rate:g}/s for {args.duration:.0f}s "
        f"(RETENTION_SECONDS={args.retention})"
    )
    with Stack(workers=2, settings={"RETENTION_SECONDS": str(args.retention), "WRAPUP_SECONDS": "5"}) as st:
        maxlen = st.settings.events_maxlen
        st.reset(answer=True)
        start = sample(st)
        surge = phase_surge(st, args.surge, 8)
        left = wait_finished(st, 120)
        settle(st, 30)
        after_surge = sample(st)
        per_request = bytes_per_request(st)

        # The steady run: open requests at a fixed rate from one thread, sample meanwhile.
        opener = Opener(st, seed=4)
        stop = threading.Event()
        opened = [0]

        def pace() -> None:
            t0 = time.time()
            k = 0
            while not stop.is_set():
                due = t0 + k / args.rate
                delay = due - time.time()
                if delay > 0 and stop.wait(delay):
                    return
                opener.open_one()
                opened[0] += 1
                k += 1

        meter = LoadMeter([p for p in [st.redis_pid()] if p])
        samples = [sample(st)]
        t_start = time.time()
        thread = threading.Thread(target=pace, daemon=True)
        thread.start()
        try:
            while time.time() - t_start < args.duration:
                time.sleep(min(args.sample, max(0.0, args.duration - (time.time() - t_start))))
                samples.append(sample(st))
                st.procs.check_alive()
        finally:
            stop.set()
            thread.join(timeout=10)
        others = meter.others()
        ttl_checked, ttl_bad = ttl_check(st, args.retention)
        keys_end = request_keys(st)
        end = samples[-1]

    print()
    print(
        table(
            [
                "when",
                "web RSS MiB",
                "workers RSS MiB",
                "Redis used MiB",
                "Redis keys",
                "events stream",
                "closed index",
                "open",
            ],
            [
                [
                    "start",
                    start["web_rss"],
                    start["worker_rss"],
                    start["redis_used"],
                    start["dbsize"],
                    start["events"],
                    start["closed"],
                    start["open"],
                ],
                [
                    f"after the surge ({surge['done']}/{surge['n']} dialled, {left} still open)",
                    after_surge["web_rss"],
                    after_surge["worker_rss"],
                    after_surge["redis_used"],
                    after_surge["dbsize"],
                    after_surge["events"],
                    after_surge["closed"],
                    after_surge["open"],
                ],
                [
                    f"end of {args.duration:.0f}s at {args.rate:g}/s ({opened[0]} more requests)",
                    end["web_rss"],
                    end["worker_rss"],
                    end["redis_used"],
                    end["dbsize"],
                    end["events"],
                    end["closed"],
                    end["open"],
                ],
            ],
        )
    )
    if per_request.get("n"):
        core = per_request["hash"] + per_request["history"]
        print(
            f"\n   Redis bytes per finished request (mean of {per_request['n']:.0f}): hash {per_request['hash']:.0f} + "
            f"history {per_request['history']:.0f} = {core:.0f}; also call links {per_request['calls']:.0f}, "
            f"idempotency key {per_request['once']:.0f}, tried-set {per_request['tried']:.0f} "
            f"-> {core + per_request['calls'] + per_request['once'] + per_request['tried']:.0f} in all"
        )
    half = [s for s in samples if s["t"] >= t_start + args.duration / 2]
    rows, failures = [], []
    for name, key in (
        ("web RSS MiB", "web_rss"),
        ("workers RSS MiB", "worker_rss"),
        ("Redis used MiB", "redis_used"),
        ("Redis keys", "dbsize"),
        ("events stream entries", "events"),
        ("closed-requests index", "closed"),
    ):
        pts = [(s["t"], float(s[key])) for s in half]
        mean = sum(v for _, v in pts) / len(pts) if pts else float("nan")
        slope = slope_per_min(pts)
        rel = slope / mean if mean else float("nan")
        rows.append(
            [
                name,
                min(v for _, v in pts) if pts else "-",
                max(v for _, v in pts) if pts else "-",
                f"{slope:+.2f}",
                f"{rel:+.1%}",
            ]
        )
        if args.duration >= 4 * args.retention and rel == rel and rel > GROWTH_LIMIT:
            failures.append(f"{name} still grows {rel:+.1%}/min in the second half")
    print(f"\n   second half of the steady run ({len(half)} samples, every {args.sample:.0f}s):")
    print(table(["measure", "min", "max", "slope per min", "slope / mean"], rows))
    cap = maxlen * 1.01 + 100
    print(
        f"\n   events stream: at most {max(s['events'] for s in samples)} entries (EVENTS_MAXLEN={maxlen}); "
        f"request keys with a TTL within the retention: {ttl_checked - len(ttl_bad)}/{ttl_checked}; "
        f"key counts at the end: {keys_end}"
    )
    print(f"   other load during the steady run: {others:.2f} CPUs")
    if max(s["events"] for s in samples) > cap:
        failures.append(f"events stream grew past EVENTS_MAXLEN ({max(s['events'] for s in samples)} > {maxlen})")
    if ttl_bad:
        print("   keys without a TTL: " + "; ".join(ttl_bad[:5]))
        failures.append(f"{len(ttl_bad)} request keys without a TTL (or above the retention)")
    if args.duration < 4 * args.retention:
        print(f"   (growth not judged: the run is shorter than 4 x the retention of {args.retention}s)")
    if failures:
        print("FAIL: " + "; ".join(failures), file=sys.stderr)
        return 1
    print("OK: nothing grows without bound")
    return 0


if __name__ == "__main__":
    sys.exit(main())
