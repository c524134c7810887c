"""Benchmark: 50 dashboards' event streams open while a surge runs; delivery latency and the
effect on the phone webhooks.

    .venv/bin/python bench/bench_stream.py [--browsers 50] [--surge 1000] [--seconds 40]
                                           [--webhook-rate 20]

Starts the same stack as bench_dispatch.py (embedded Redis, gunicorn `wsgi:app` as the
Procfile's `web` entry runs it, 2 RQ workers, the phone simulator; bench/data/roster.bench.yaml)
plus the Procfile's `dashboard` process, which the pages use (as the proxy in front of
production sends /dashboard/ there); Twilio's webhooks and callbacks go to `web`.
Two phases of `--seconds` each, same load apart from the streams:

  without streams  a surge of `--surge` requests (opened as in bench_dispatch.py) and
                   signed POST /voice/incoming webhooks at `--webhook-rate` per second
                   (open loop, latency from when each was due; bench/_clients.py pace)
  with streams     the same, plus `--browsers` signed-in dashboard pages (one sign-in each,
                   as `sergeant`), each doing what dashboard.js does: GET /dashboard/stream
                   and apply the rows its messages carry; read the snapshot when the stream
                   opens and every 15 s (figures), and poll it every 3 s with stream retries
                   only while the server refuses the stream (bench/_clients.py sse)

Stream latency = arrival at the client - the time in the event's Redis stream id (the
moment the event was appended, on the same machine). If /dashboard/stream is not there,
the stream clients are replaced by threads reading the event stream with XREAD BLOCK
(dispatch.events.read), and the table says so.
Targets: stream p99 < 250 ms; webhook p99 with streams <= 1.10 x without.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import requests  # noqa: E402

from _stack import BENCH, PY, LoadMeter, Stack, hard_limit, pct, print_machine, table, verdict  # noqa: E402

STREAM_P99_TARGET_MS = 250.0
WEBHOOK_GROWTH_TARGET = 1.10
USER, PASSWORD = "sergeant", "sergeant-demo"   # the bench roster's demo user (sample hash)


def sign_in(base: str) -> str:
    """One browser's sign-in; returns its Cookie header value."""
    s = requests.Session()
    page = s.get(base + "/dashboard/signin", timeout=30)
    m = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    if not m:
        raise RuntimeError(f"no CSRF token on the sign-in page ({page.status_code})")
    resp = s.post(base + "/dashboard/signin", data={"csrf_token": m.group(1), "username": USER, "password": PASSWORD},
                  allow_redirects=False, timeout=30)
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


def run_phase(st: Stack, args: argparse.Namespace, reqs_file: Path, browsers: int, sse: bool, dash: str) -> dict:
    from bench_dispatch import phase_surge

    st.reset(answer=False)  # (this also ends dashboard sessions: sign in afterwards)
    cookies = [sign_in(dash) for _ in range(browsers)] if browsers and sse else None
    xread = bool(browsers) and not sse
    time.sleep(1.0)
    procs = []
    xread_lat: list = []
    readers: list[threading.Thread] = []
    stream_outs: list[Path] = []
    if cookies is not None:
        # One client process for all pages (more processes only add CPU contention on a
        # 2-CPU machine; in real life the browsers are elsewhere).
        for k in range(0, len(cookies), args.browsers):
            cookie_file = st.tmp / f"cookies{k}.json"
            cookie_file.write_text(json.dumps(cookies[k:k + args.browsers]))
            stream_outs.append(st.tmp / f"sse{k}.json")
            procs.append(subprocess.Popen([PY, str(BENCH / "_clients.py"), "sse", "--base", dash, "--cookies",
                                           str(cookie_file), "--seconds", str(args.seconds + 4),
                                           "--out", str(stream_outs[-1])]))
        time.sleep(3.0)  # let the browsers connect (and show if they cannot)
    elif xread:
        readers = xread_readers(st, args.browsers, args.seconds + 4, xread_lat)
        time.sleep(1.0)
    pace_out = st.tmp / "pace.json"
    meter = LoadMeter([p for p in [st.redis_pid()] if p])
    t0 = time.time()
    procs.append(subprocess.Popen([PY, str(BENCH / "_clients.py"), "pace", "--base", st.web_url, "--reqs",
                                   str(reqs_file), "--rate", str(args.webhook_rate), "--seconds", str(args.seconds),
                                   "--out", str(pace_out)]))
    surge: dict = {}
    surge_thread = threading.Thread(target=lambda: surge.update(phase_surge(st, args.surge, 8, deadline=args.seconds)),
                                    daemon=True)
    surge_thread.start()
    try:
        for p in procs:
            p.wait(timeout=args.seconds + 60)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    surge_thread.join(timeout=5)
    for t in readers:
        t.join(timeout=10)
    t1 = t0 + args.seconds
    others = meter.others()
    results = json.loads(pace_out.read_text())["results"]
    hook = [lat for due, lat, status in results if due <= t1]
    bad = sum(1 for due, lat, status in results if status != 200)
    out = {"webhooks": len(hook), "webhook_bad": bad, "hook_p50": pct(hook, 50), "hook_p99": pct(hook, 99),
           "hook_max": max(hook) if hook else float("nan"), "others": others, "surge": surge}
    if cookies is not None:
        loaded = [json.loads(f.read_text()) for f in stream_outs]
        streams = [s_ for d in loaded for s_ in d["streams"]]
        out["client_cpu"] = sum(d.get("client_cpu_s", 0.0) for d in loaded) / (args.seconds + 4)
        lat = [l for s in streams for t, l in s["latency"] if t0 <= t <= t1 + 2]
        statuses: dict[str, int] = {}
        for s_ in streams:
            for code, k in s_["status"].items():
                statuses[code] = statuses.get(code, 0) + k
        out.update(connected=sum(1 for s in streams if s["status"].get("200")), streams=len(streams), statuses=statuses,
                   first_byte_p99=pct([x for s in streams for x in s["first_byte_s"]], 99),
                   first_byte_max=max([x for s in streams for x in s["first_byte_s"]] or [float("nan")]),
                   errors=sum(s["errors"] for s in streams), messages=len(lat))
        snaps = [(lat_, st_) for s_ in streams for t, lat_, st_ in s_.get("snapshots", []) if t0 <= t <= t1]
        shown = [l for s_ in streams for t, l in s_.get("shown", []) if t0 <= t <= t1 + 2]
        out.update(shown_p50=pct(shown, 50), shown_p99=pct(shown, 99), shown=len(shown))
        out.update(snapshots=len(snaps), snap_p50=pct([l for l, _ in snaps], 50),
                   snap_p99=pct([l for l, _ in snaps], 99), snap_bad=sum(1 for _, code in snaps if code != 200))
    else:
        lat = [l for t, l in xread_lat if t0 <= t <= t1 + 2]
        out.update(messages=len(lat))
    out.update(stream_p50=pct(lat, 50), stream_p99=pct(lat, 99), stream_max=max(lat) if lat else float("nan"))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--browsers", type=int, default=50, help="dashboards with the event stream open (default 50)")
    ap.add_argument("--surge", type=int, default=1000, help="requests in the surge (default 1000)")
    ap.add_argument("--seconds", type=float, default=40.0, help="length of each phase (default 40)")
    ap.add_argument("--webhook-rate", type=float, default=20.0, help="signed /voice/incoming per second (default 20)")
    ap.add_argument("--max-seconds", type=float, default=600, help="hard bound on the whole run")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="a service setting for this run, e.g. --set REQUEST_CONCURRENCY=32 (repeatable)")
    args = ap.parse_args()
    hard_limit(args.max_seconds)
    print_machine(f"{args.browsers} dashboard event streams during a surge of {args.surge}")
    from bench_webhooks import build_requests

    extra = dict(item.split("=", 1) for item in args.set)
    with Stack(workers=2, settings={"CALLER_RATE_LIMIT": "1000000000", "WRAPUP_SECONDS": "5", **extra}) as st:
        reqs_file = st.tmp / "incoming.json"
        reqs_file.write_text(json.dumps(build_requests(st, "incoming", 2000)))
        dash = st.start_dashboard()
        probe = requests.get(dash + "/dashboard/stream", timeout=10)
        has_sse = probe.status_code in (401, 403)
        print(f"   GET /dashboard/stream without signing in: {probe.status_code} -> "
              + ("measuring the SSE endpoint" if has_sse else "no SSE endpoint: measuring XREAD readers instead"))
        base = run_phase(st, args, reqs_file, 0, has_sse, dash)
        streamed = run_phase(st, args, reqs_file, args.browsers, has_sse, dash)
        st.procs.check_alive()
    what = "SSE /dashboard/stream" if has_sse else "XREAD readers (no SSE endpoint)"
    rows = [["without streams", base["webhooks"], base["webhook_bad"], base["hook_p50"], base["hook_p99"],
             base["hook_max"], "-", "-", "-", "-", f"{base['others']:.2f}"],
            [f"with {args.browsers} {what}", streamed["webhooks"], streamed["webhook_bad"], streamed["hook_p50"],
             streamed["hook_p99"], streamed["hook_max"], streamed["messages"], streamed["stream_p50"],
             streamed["stream_p99"], streamed["stream_max"], f"{streamed['others']:.2f}"]]
    print()
    print(table(["phase", "webhooks", "failed", "hook p50 ms", "hook p99 ms", "hook max ms", "stream msgs",
                 "stream p50 ms", "stream p99 ms", "stream max ms", "other load (CPUs)"], rows))
    growth = streamed["hook_p99"] / base["hook_p99"] if base["hook_p99"] else float("nan")
    print(f"\n   webhook p99 with streams / without = {growth:.2f} (target <= {WEBHOOK_GROWTH_TARGET:.2f})")
    if has_sse:
        print(f"   pages whose stream was answered 200: {streamed['connected']}/{streamed['streams']} (the server "
              f"allows DASHBOARD_MAX_STREAMS per process: the Procfile's dashboard entry sets it; the others poll); time to first byte p99 "
              f"{streamed['first_byte_p99']:.2f} s, max {streamed['first_byte_max']:.2f} s; "
              f"client errors {streamed['errors']}; answers {streamed['statuses']}")
        print(f"   the pages re-read /dashboard/api/snapshot {streamed['snapshots']} times in {args.seconds:.0f}s "
              f"({streamed['snapshots'] / args.seconds:.1f}/s): p50 {streamed['snap_p50']:.0f} ms, "
              f"p99 {streamed['snap_p99']:.0f} ms, {streamed['snap_bad']} not 200")
        print(f"   the {args.browsers} simulated pages (one Python process) used {streamed['client_cpu']:.2f} CPUs of the 2")
        print(f"   event -> shown on a streaming page (its row applied on arrival, or a snapshot read after it): "
              f"p50 {streamed['shown_p50']:.0f} ms, p99 {streamed['shown_p99']:.0f} ms ({streamed['shown']} events x pages)")
    for name, r in (("without", base), ("with", streamed)):
        s = r["surge"]
        if s:
            print(f"   surge {name} streams: {s['done']}/{s['n']} first calls placed within the phase, "
                  f"queued->first call p50 {s['p50']:.0f} ms")
    failures = []
    if streamed["stream_p99"] != streamed["stream_p99"] or streamed["stream_p99"] >= STREAM_P99_TARGET_MS:
        failures.append(f"stream p99 {streamed['stream_p99']:.0f} ms >= {STREAM_P99_TARGET_MS:.0f} ms")
    if growth > WEBHOOK_GROWTH_TARGET:
        failures.append(f"webhook p99 x{growth:.2f} with streams > x{WEBHOOK_GROWTH_TARGET:.2f}")
    if streamed["webhook_bad"]:
        failures.append(f"{streamed['webhook_bad']} webhooks failed or timed out with streams open")
    return verdict(failures)


if __name__ == "__main__":
    sys.exit(main())
