"""Benchmark: 50 dashboards' event streams open while a surge runs; delivery latency and the
effect on the phone webhooks.

    .venv/bin/python -m bench.stream [--browsers 50] [--surge 1000] [--seconds 40]
                                           [--rounds 2] [--webhook-rate 20] [--sim-normal]

Starts the same stack as bench/dispatch.py (embedded Redis, the Procfile's `web` and
`callbacks` gunicorns, 2 RQ workers, the phone simulator; bench/data/roster.bench.yaml)
plus the Procfile's `dashboard` process, which the pages use (as the proxy in front of
production sends /dashboard/ there); Twilio's webhooks go to `web`, its status callbacks
to `callbacks`. Phases of `--seconds` each, same load apart from the streams:

  without streams  a surge of `--surge` requests (opened as in bench/dispatch.py) and
                   signed POST /voice/incoming webhooks at `--webhook-rate` per second
                   (open loop, latency from when each was due; bench/_clients.py pace)
  with streams     the same, plus `--browsers` signed-in dashboard pages (one sign-in each,
                   as `sergeant`), each doing what dashboard.js does: GET /dashboard/stream
                   and apply the rows its messages carry; read the snapshot when the stream
                   opens and for the figures, and poll it while the server refuses the
                   stream (bench/_clients.py sse)

A 10-s warm-up (a fifth of the surge, with the pages) comes first and is not counted: the
first surge after a start pays one-time costs. Then `--rounds` pairs (without, with); the
verdict is on each kind pooled, since a 40-s phase's p99 rests on its 8 slowest webhooks.

The phone simulator stands in for Twilio, which does not share the service's CPUs: it runs
under SCHED_IDLE (bench/_sim.py --cpu-idle), taking only CPU the service leaves. At normal
priority (`--sim-normal`) its ~800 call threads, woken together by a burst of ring timeouts,
held both CPUs with up to 250 threads runnable, and the webhooks' tail measured that. The
pages stand in for browsers on other computers too: their process runs at nice 10
(`--pages-nice`), so that its CPU comes less out of the webhooks'; its own delays still count
in the stream latency, which can only look worse for it.

Stream latency = arrival at the client - the time in the event's Redis stream id (the
moment the event was appended, on the same machine). If /dashboard/stream is not there,
the stream clients are replaced by threads reading the event stream with XREAD BLOCK
(dispatch.events.read), and the table says so.
Targets: stream p99 < 250 ms; webhook p99 with streams <= 1.10 x without.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from bench._figures import LoadMeter, pct, print_machine, table, verdict
from bench._stack import Stack, hard_limit
from bench.dispatch import phase_surge
from bench.webhooks import build_requests
from config.settings import ROOT

STREAM_P99_TARGET_MS = 250.0
WEBHOOK_GROWTH_TARGET = 1.10
USER, PASSWORD = "sergeant", "sergeant-demo"  # the bench roster's demo user (sample hash)


def sign_in(base: str) -> str:
    """One browser's sign-in; returns its Cookie header value."""
    s = requests.Session()
    page = s.get(base + "/dashboard/signin", timeout=30)
    m = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    if not m:
        raise RuntimeError(f"no CSRF token on the sign-in page ({page.status_code})")
    resp = s.post(
        base + "/dashboard/signin",
        data={"csrf_token": m.group(1), "username": USER, "password": PASSWORD},
        allow_redirects=False,
        timeout=30,
    )
    if resp.status_code not in (302, 303):
        raise RuntimeError(f"sign-in failed: {resp.status_code} {resp.text[:200]}")
    return "; ".join(f"{c.name}={c.value}" for c in s.cookies)


def xread_readers(st: Stack, n: int, seconds: float, out: list) -> list[threading.Thread]:
    """Fallback when there is no SSE endpoint: n threads reading the stream with XREAD BLOCK."""
    from dispatch import events
    from dispatch.redis_conn import connect

    def read() -> None:
        r = connect(st.redis_url, socket_timeout=None)
        after = events.last_id(r)
        stop = time.time() + seconds
        while time.time() < stop:
            for ev in events.read(r, after=after, block_ms=1000):
                after = ev.id
                now = time.time()
                out.append((now, now * 1e3 - int(ev.id.split("-")[0])))

    threads = [threading.Thread(target=read, daemon=True) for _ in range(n)]
    for t in threads:
        t.start()
    return threads


def run_phase(
    st: Stack,
    args: argparse.Namespace,
    reqs_file: Path,
    browsers: int,
    sse: bool,
    dash: str,
    seconds: float,
    surge_n: int,
) -> dict:
    """One phase: the surge and the paced webhooks, with `browsers` pages open; raw samples."""
    st.reset(answer=False)  # (this also ends dashboard sessions: sign in afterwards)
    cookies = [sign_in(dash) for _ in range(browsers)] if browsers and sse else None
    xread = bool(browsers) and not sse
    time.sleep(1.0)
    procs = []
    xread_lat: list = []
    readers: list[threading.Thread] = []
    phase = len(list(st.tmp.glob("pace-*.json"))) + 1  # each phase's raw files stay (BENCH_KEEP_LOGS=1)
    stream_out = st.tmp / f"sse-{phase}.json"
    if cookies is not None:
        # One client process for all pages (more processes only add CPU contention on a
        # 2-CPU machine; in real life the browsers are elsewhere).
        cookie_file = st.tmp / f"cookies-{phase}.json"
        cookie_file.write_text(json.dumps(cookies))
        procs.append(
            subprocess.Popen(
                [
                    "nice",
                    "-n",
                    str(args.pages_nice),
                    sys.executable,
                    "-m",
                    "bench._clients",
                    "sse",
                    "--base",
                    dash,
                    "--cookies",
                    str(cookie_file),
                    "--seconds",
                    str(seconds + 4),
                    "--out",
                    str(stream_out),
                    "--settle",
                    "3",
                ],
                cwd=ROOT,
            )
        )
        time.sleep(3.0)  # let the browsers connect (and show if they cannot)
    elif xread:
        readers = xread_readers(st, browsers, seconds + 4, xread_lat)
        time.sleep(1.0)
    pace_out = st.tmp / f"pace-{phase}.json"
    meter = LoadMeter([p for p in [st.redis_pid()] if p])
    usage0 = st.group_usage()
    t0 = time.time()
    procs.append(
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench._clients",
                "pace",
                "--base",
                st.web_url,
                "--reqs",
                str(reqs_file),
                "--rate",
                str(args.webhook_rate),
                "--seconds",
                str(seconds),
                "--out",
                str(pace_out),
            ],
            cwd=ROOT,
        )
    )
    surge: dict = {}
    surge_thread = threading.Thread(
        target=lambda: surge.update(phase_surge(st, surge_n, 8, deadline=seconds)), daemon=True
    )
    surge_thread.start()
    try:
        for p in procs:
            p.wait(timeout=seconds + 60)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    surge_thread.join(timeout=5)
    for t in readers:
        t.join(timeout=10)
    usage1, elapsed = st.group_usage(), time.time() - t0
    t1 = t0 + seconds
    results = json.loads(pace_out.read_text())["results"]
    out: dict = {
        "hook": [lat for due, lat, status in results if due <= t1],
        "webhook_bad": sum(1 for due, lat, status in results if status != 200),
        "others": meter.others(),
        "surge": surge,
        "seconds": seconds,
        "lat": [],
        "shown": [],
        "snaps": [],
        "cpu": {g: (usage1[g][1] - usage0[g][1]) / elapsed for g in usage1 if g in usage0},
        "first_byte": [],
        "statuses": {},
        "errors": 0,
        "connected": 0,
        "streams": 0,
    }
    if cookies is not None:
        loaded = json.loads(stream_out.read_text())
        streams = loaded["streams"]
        out.update(
            client_cpu=loaded.get("client_cpu_s", 0.0) / (seconds + 4),
            client_cpu_peak=loaded.get("client_cpu_peak", 0.0),
            client_stall_max=loaded.get("client_stall_max_ms", 0.0),
            client_stall_p99=loaded.get("client_stall_p99_ms", 0.0),
        )
        out["lat"] = [l for s in streams for t, l in s["latency"] if t0 <= t <= t1 + 2]
        for s_ in streams:
            for code, k in s_["status"].items():
                out["statuses"][code] = out["statuses"].get(code, 0) + k
        out.update(
            connected=sum(1 for s in streams if s["status"].get("200")),
            streams=len(streams),
            first_byte=[x for s in streams for x in s["first_byte_s"]],
            errors=sum(s["errors"] for s in streams),
        )
        out["snaps"] = [(lat_, st_) for s_ in streams for t, lat_, st_ in s_.get("snapshots", []) if t0 <= t <= t1]
        out["shown"] = [l for s_ in streams for t, l in s_.get("shown", []) if t0 <= t <= t1 + 2]
    else:
        out["lat"] = [l for t, l in xread_lat if t0 <= t <= t1 + 2]
    return out


def pooled(phases: list[dict]) -> dict:
    """Several phases of the same kind as one sample."""
    out: dict = {"seconds": sum(p["seconds"] for p in phases), "statuses": {}}
    for key in ("hook", "lat", "shown", "snaps", "first_byte"):
        out[key] = [x for p in phases for x in p[key]]
    for key in ("webhook_bad", "errors", "connected", "streams"):
        out[key] = sum(p[key] for p in phases)
    for p in phases:
        for code, k in p["statuses"].items():
            out["statuses"][code] = out["statuses"].get(code, 0) + k
    out["others"] = sum(p["others"] for p in phases) / len(phases)
    out["cpu"] = {g: sum(p["cpu"].get(g, 0.0) for p in phases) / len(phases) for g in phases[0]["cpu"]}
    out["client_cpu"] = sum(p.get("client_cpu", 0.0) for p in phases) / len(phases)
    for key in ("client_cpu_peak", "client_stall_max", "client_stall_p99"):
        out[key] = max(p.get(key, 0.0) for p in phases)
    return out


def row(name: str, r: dict, streams: bool) -> list[object]:
    hook = r["hook"]
    cells: list[object] = [
        name,
        len(hook),
        r["webhook_bad"],
        pct(hook, 50),
        pct(hook, 99),
        max(hook) if hook else float("nan"),
    ]
    if streams:
        lat = r["lat"]
        cells += [len(lat), pct(lat, 50), pct(lat, 99), max(lat) if lat else float("nan")]
    else:
        cells += ["-", "-", "-", "-"]
    return [*cells, f"{r['others']:.2f}"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--browsers", type=int, default=50, help="dashboards with the event stream open (default 50)")
    ap.add_argument("--surge", type=int, default=1000, help="requests in the surge (default 1000)")
    ap.add_argument("--seconds", type=float, default=40.0, help="length of each phase (default 40)")
    ap.add_argument(
        "--rounds", type=int, default=2, help="pairs of phases (without, with), pooled for the verdict (default 2)"
    )
    ap.add_argument("--webhook-rate", type=float, default=20.0, help="signed /voice/incoming per second (default 20)")
    ap.add_argument(
        "--sim-normal",
        action="store_true",
        help="run the phone simulator at normal CPU priority (default: SCHED_IDLE, see bench/_sim.py)",
    )
    ap.add_argument(
        "--pages-nice",
        type=int,
        default=10,
        help="CPU niceness of the process playing the pages (default 10; see the module's docstring)",
    )
    ap.add_argument("--max-seconds", type=float, default=900, help="hard bound on the whole run")
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a service setting for this run, e.g. --set REQUEST_CONCURRENCY=32 (repeatable)",
    )
    args = ap.parse_args()
    hard_limit(args.max_seconds)
    print_machine(f"{args.browsers} dashboard event streams during a surge of {args.surge}")
    extra = dict(item.split("=", 1) for item in args.set)
    with Stack(
        workers=2,
        settings={"CALLER_RATE_LIMIT": "1000000000", "WRAPUP_SECONDS": "5", **extra},
        sim_cpu_idle=not args.sim_normal,
    ) as st:
        reqs_file = st.tmp / "incoming.json"
        reqs_file.write_text(json.dumps(build_requests(st, "incoming", 2000)))
        dash = st.start_dashboard()
        probe = requests.get(dash + "/dashboard/stream", timeout=10)
        has_sse = probe.status_code in (401, 403)
        print(
            f"   GET /dashboard/stream without signing in: {probe.status_code} -> "
            + ("measuring the SSE endpoint" if has_sse else "no SSE endpoint: measuring XREAD readers instead")
        )
        # Warm-up, not counted: the first surge after a start pays for threads, connections
        # and first imports, and otherwise lands in whichever phase runs first.
        run_phase(st, args, reqs_file, args.browsers, has_sse, dash, seconds=10, surge_n=args.surge // 5)
        without, with_ = [], []
        for _ in range(args.rounds):
            without.append(run_phase(st, args, reqs_file, 0, has_sse, dash, args.seconds, args.surge))
            with_.append(run_phase(st, args, reqs_file, args.browsers, has_sse, dash, args.seconds, args.surge))
        st.procs.check_alive()
    base, streamed = pooled(without), pooled(with_)
    what = "SSE /dashboard/stream" if has_sse else "XREAD readers (no SSE endpoint)"
    rows = []
    for k, (a, b) in enumerate(zip(without, with_), start=1):
        rows += [row(f"{k}: without streams", a, False), row(f"{k}: with {args.browsers} pages", b, True)]
    rows += [row("all without streams", base, False), row(f"all with {args.browsers} {what}", streamed, True)]
    print()
    print(
        table(
            [
                "phase",
                "webhooks",
                "failed",
                "hook p50 ms",
                "hook p99 ms",
                "hook max ms",
                "stream msgs",
                "stream p50 ms",
                "stream p99 ms",
                "stream max ms",
                "other load (CPUs)",
            ],
            rows,
        )
    )
    hook_base, hook_with = pct(base["hook"], 99), pct(streamed["hook"], 99)
    stream_p99 = pct(streamed["lat"], 99)
    growth = hook_with / hook_base if hook_base else float("nan")
    print(
        f"\n   {args.rounds} rounds of {args.seconds:.0f}-s phases (without, with), after a 10-s warm-up; "
        f"the verdict is on the pooled rows"
    )
    print(f"   webhook p99 with streams / without = {growth:.2f} (target <= {WEBHOOK_GROWTH_TARGET:.2f})")
    if has_sse:
        snaps = streamed["snaps"]
        print(
            f"   pages whose stream was answered 200: {streamed['connected']}/{streamed['streams']} (the server "
            f"allows DASHBOARD_MAX_STREAMS per process: the Procfile's dashboard entry sets it; the others poll); "
            f"time to first byte p99 {pct(streamed['first_byte'], 99):.2f} s, "
            f"max {max(streamed['first_byte'] or [float('nan')]):.2f} s; "
            f"client errors {streamed['errors']}; answers {streamed['statuses']}"
        )
        print(
            f"   the pages re-read /dashboard/api/snapshot {len(snaps)} times in {streamed['seconds']:.0f}s "
            f"({len(snaps) / streamed['seconds']:.1f}/s): p50 {pct([l for l, _ in snaps], 50):.0f} ms, "
            f"p99 {pct([l for l, _ in snaps], 99):.0f} ms, {sum(1 for _, code in snaps if code != 200)} not 200"
        )
        print(
            f"   the {args.browsers} simulated pages (one Python process) used {streamed['client_cpu']:.2f} CPUs of "
            f"the 2 on average, {streamed['client_cpu_peak']:.2f} in their busiest second; their loop was late by "
            f"up to {streamed['client_stall_max']:.0f} ms (p99 {streamed['client_stall_p99']:.0f} ms)"
        )
        print(
            f"   event -> shown on a streaming page (its row applied on arrival, or a snapshot read after it): "
            f"p50 {pct(streamed['shown'], 50):.0f} ms, p99 {pct(streamed['shown'], 99):.0f} ms "
            f"({len(streamed['shown'])} events x pages)"
        )
    print(
        f"   the phone simulator ran at {'normal CPU priority' if args.sim_normal else 'SCHED_IDLE'}, "
        f"the pages at nice {args.pages_nice}"
    )
    print(
        "   CPUs used per process group, without / with the pages: "
        + ", ".join(f"{g} {base['cpu'].get(g, 0.0):.2f} / {streamed['cpu'].get(g, 0.0):.2f}" for g in streamed["cpu"])
    )
    for name, phases in (("without", without), ("with", with_)):
        for k, r in enumerate(phases, start=1):
            s = r["surge"]
            if s:
                print(
                    f"   surge {k} {name} streams: {s['done']}/{s['n']} first calls placed within the phase, "
                    f"queued->first call p50 {s['p50']:.0f} ms"
                )
    failures = []
    if math.isnan(stream_p99) or stream_p99 >= STREAM_P99_TARGET_MS:
        failures.append(f"stream p99 {stream_p99:.0f} ms >= {STREAM_P99_TARGET_MS:.0f} ms")
    if growth > WEBHOOK_GROWTH_TARGET:
        failures.append(f"webhook p99 x{growth:.2f} with streams > x{WEBHOOK_GROWTH_TARGET:.2f}")
    if streamed["webhook_bad"]:
        failures.append(f"{streamed['webhook_bad']} webhooks failed or timed out with streams open")
    return verdict(failures)


if __name__ == "__main__":
    sys.exit(main())
