"""Benchmark: the officer's first two webhooks under gunicorn, against a bare Flask baseline.

    .venv/bin/python -m bench.webhooks [--duration 20] [--concurrency 32] [--slice 5]
                                       [--client auto|wrk|python] [--log-level INFO]

Starts an embedded Redis and two gunicorn servers with the Procfile's `web` settings (read
from the Procfile: 2 workers x 2 threads, --reuse-port) on loopback: the real app
(`wsgi:app`) and a bare Flask app answering a fixed TwiML document (bench/_bare_app.py).
`--concurrency` keep-alive clients then POST for `--duration` seconds to each of, taking
turns in `--slice`-second slices:

  bare      the fixed-TwiML endpoint (same request bytes as "incoming")
  incoming  POST /voice/incoming            (signature, roster, TwiML; no Redis but one read a
                                             second of whether a dropped officer may rejoin)
  language  POST /voice/incoming/language   (signature, roster, language resolution, TwiML);
            a mix of keypad codes and speech results

Every request carries a valid X-Twilio-Signature computed with twilio's RequestValidator over
PUBLIC_BASE_URL = the gunicorn address. Callers are the roster's precinct lines and
supervisors' cells (known callers, the normal path); the caller rate limit (counted where a
call joins the queue, which "0" does here) is raised to 1e9 per minute for the run.

The load client is `wrk` (C, one thread, Lua script cycling through pre-signed requests)
when installed (Debian: apt-get install -y wrk), else a small asyncio raw-socket client in
this process. Prints requests/s, p50/p99 latency (wrk's quantiles, merged across slices),
the ratio to the bare endpoint and gunicorn's CPU per request; exits 1 if p99 >= 50 ms or
throughput < 70% of bare. Bounded: ~3 x (duration + warm-up) + start-up, and a hard limit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

from bench._figures import print_machine, table, tree_rss_cpu, verdict
from bench._stack import Stack, gunicorn_shape, hard_limit
from launcher.ports import free_port

P99_TARGET_MS = 50.0
RATIO_TARGET = 0.70
VARIANTS = 2000  # distinct signed requests per endpoint (different CallSids, callers, inputs)
LANGUAGE_INPUTS = [  # what officers key or say at the language prompt
    {"Digits": "1"},
    {"Digits": "2"},
    {"Digits": "4"},
    {"Digits": "6"},
    {"Digits": "12"},
    {"Digits": "5"},
    {"Digits": "3"},
    {"Digits": "105"},
    {"SpeechResult": "Spanish", "Confidence": "0.93"},
    {"SpeechResult": "I need Russian please", "Confidence": "0.91"},
    {"SpeechResult": "Haitian Creole", "Confidence": "0.9"},
    {"SpeechResult": "Bengali", "Confidence": "0.88"},
]


# ------------------------------------------------------------------------------ signed requests
def _call_params(rng: random.Random, caller: str, service: str, account: str) -> dict[str, str]:
    sid = "CA" + "".join(rng.choice("0123456789abcdef") for _ in range(32))
    return {
        "AccountSid": account,
        "ApiVersion": "2010-04-01",
        "CallSid": sid,
        "CallStatus": "in-progress",
        "Direction": "inbound",
        "From": caller,
        "To": service,
        "Called": service,
        "Caller": caller,
        "CallerCountry": "US",
        "CallerState": "NY",
        "CalledCountry": "US",
        "CalledState": "NY",
    }


def build_requests(st: Stack, endpoint: str, n: int) -> list[tuple[str, str, str]]:
    """(path?query, form body, X-Twilio-Signature) tuples, signed as Twilio signs them."""
    from twilio.request_validator import RequestValidator

    from dispatch.context import load_catalog_for, load_roster_for

    roster = load_roster_for(st.settings, load_catalog_for(st.settings))
    callers = [line for p in roster.precincts for line in p.lines] + [s.cell for s in roster.supervisors]
    validator = RequestValidator(st.auth_token)
    rng = random.Random(8)
    out = []
    for i in range(n):
        params = _call_params(rng, callers[i % len(callers)], roster.service_number, st.settings.twilio_account_sid)
        if endpoint == "incoming":
            path = "/voice/incoming"
        else:
            path = "/voice/incoming/language?t=0"
            params.update(LANGUAGE_INPUTS[i % len(LANGUAGE_INPUTS)])
        signature = validator.compute_signature(st.settings.public_base_url + path, params)
        out.append((path, urlencode(params), signature))
    return out


def check_once(base: str, reqs: list[tuple[str, str, str]], expect: str) -> None:
    """One request of each kind must succeed with TwiML before we time anything."""
    import requests

    path, body, sig = reqs[0]
    resp = requests.post(
        base + path,
        data=body,
        timeout=10,
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sig},
    )
    if resp.status_code != 200 or expect not in resp.text:
        raise SystemExit(f"sanity check failed for {path}: {resp.status_code} {resp.text[:200]}")


# ------------------------------------------------------------------------------ wrk client
LUA = r"""
local reqs, n, i = {}, 0, 0
local threads = {}
local DATA = dofile("@DATA@")
function setup(thread) table.insert(threads, thread) end
function init(args)
  for _, r in ipairs(DATA) do
    n = n + 1
    reqs[n] = wrk.format("POST", r[1], {["Content-Type"] = "application/x-www-form-urlencoded",
                                        ["X-Twilio-Signature"] = r[3]}, r[2])
  end
  i = math.random(n)
end
function request()
  i = (i % n) + 1
  return reqs[i]
end
function done(summary, latency, requests)
  local e = summary.errors
  local f = io.open("@HIST@", "w")
  for k = 1, 2000 do  -- the latency quantile function at 0.05% steps (exact histogram access is O(n^2))
    f:write(latency:percentile(k / 20), "\n")
  end
  f:close()
  io.write(string.format('WRKJSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d}\n', summary.requests, summary.duration, e.connect, e.read,
    e.write, e.status, e.timeout))
end
"""


def _lua_data(reqs: list[tuple[str, str, str]], path: Path) -> None:
    def q(s: str) -> str:
        return "[==[" + s + "]==]"

    with open(path, "w") as f:
        f.write("return {\n")
        for p, body, sig in reqs:
            f.write("{%s,%s,%s},\n" % (q(p), q(body), q(sig)))
        f.write("}\n")


class Result:
    """Requests, seconds, errors and latency samples as (µs, weight), mergeable across slices."""

    def __init__(self) -> None:
        self.requests = 0
        self.seconds = 0.0
        self.errors = 0
        self.samples: list[tuple[float, float]] = []

    def add(self, other: "Result") -> None:
        self.requests += other.requests
        self.seconds += other.seconds
        self.errors += other.errors
        self.samples.extend(other.samples)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def pct_ms(self, q: float) -> float:
        total = sum(w for _, w in self.samples)
        if not total:
            return float("nan")
        seen = 0.0
        for value, weight in sorted(self.samples):
            seen += weight
            if seen >= q / 100.0 * total - 1e-9:
                return value / 1e3
        return max(v for v, _ in self.samples) / 1e3

    @property
    def max_ms(self) -> float:
        return max(v for v, _ in self.samples) / 1e3 if self.samples else float("nan")


def run_wrk(base: str, reqs: list[tuple[str, str, str]], duration: float, concurrency: int, workdir: Path) -> Result:
    data = workdir / f"reqs-{reqs[0][0].strip('/').replace('/', '_').split('?')[0]}.lua"
    if not data.exists():
        _lua_data(reqs, data)
    hist = workdir / "latency.hist"
    script = workdir / "signed_post.lua"
    script.write_text(LUA.replace("@DATA@", str(data)).replace("@HIST@", str(hist)))
    cmd = [
        "wrk",
        "-t1",
        f"-c{concurrency}",
        f"-d{max(1, int(round(duration)))}s",
        "--timeout",
        "5s",
        "-s",
        str(script),
        base + "/",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = proc.communicate(timeout=duration + 30)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    line = next((l for l in out.splitlines() if l.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError("wrk produced no summary:\n" + out)
    s = json.loads(line[len("WRKJSON ") :])
    res = Result()
    res.requests, res.seconds = s["requests"], s["duration_us"] / 1e6
    res.errors = s["connect"] + s["read"] + s["write"] + s["status"] + s["timeout"]
    quantiles = [float(x) for x in hist.read_text().split()]
    weight = res.requests / len(quantiles) if quantiles else 0.0
    res.samples = [(v, weight) for v in quantiles]
    return res


# ------------------------------------------------------------------------------ asyncio client
async def _conn_loop(
    host: str, port: int, payloads: list[bytes], offset: int, stop_at: float, lat: list[float], counts: dict[str, int]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    i = offset
    try:
        while time.perf_counter() < stop_at:
            i = (i + 1) % len(payloads)
            t0 = time.perf_counter()
            writer.write(payloads[i])
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            lat.append(time.perf_counter() - t0)
            counts["ok" if status == 200 else "bad"] += 1
            if b"connection: close" in head.lower():
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
    finally:
        writer.close()


def run_python(base: str, reqs: list[tuple[str, str, str]], duration: float, concurrency: int, workdir: Path) -> Result:
    host, port = base.split("//", 1)[1].split(":")
    payloads = [
        (
            f"POST {p} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"X-Twilio-Signature: {sig}\r\nContent-Length: {len(body)}\r\n\r\n{body}"
        ).encode()
        for p, body, sig in reqs
    ]
    lat: list[float] = []
    counts = {"ok": 0, "bad": 0}

    async def main() -> float:
        start = time.perf_counter()
        stop_at = start + duration
        await asyncio.gather(
            *[_conn_loop(host, int(port), payloads, k * 61, stop_at, lat, counts) for k in range(concurrency)]
        )
        return time.perf_counter() - start

    res = Result()
    res.seconds = asyncio.run(main())
    res.requests, res.errors = len(lat), counts["bad"]
    res.samples = [(x * 1e6, 1.0) for x in lat]
    return res


# ------------------------------------------------------------------------------ main
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=20.0, help="measured seconds per endpoint (default 20)")
    ap.add_argument("--concurrency", type=int, default=32, help="concurrent keep-alive clients (default 32)")
    ap.add_argument(
        "--slice",
        type=float,
        default=5.0,
        help="run the endpoints in turn in slices of this many seconds until each has had "
        "--duration (default 5: bare/incoming/language x4), so a burst of load from "
        "elsewhere on the machine hits all three alike",
    )
    ap.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds per endpoint first")
    ap.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    ap.add_argument("--log-level", default="INFO", help="the app's LOG_LEVEL (default INFO, as deployed)")
    args = ap.parse_args()
    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
    if client == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian: apt-get install -y wrk); use --client python")
    slices = max(1, int(round(args.duration / max(1.0, args.slice))))
    slice_s = args.duration / slices
    hard_limit(120 + 3 * (args.warmup + args.duration + slices * 3))
    run = run_wrk if client == "wrk" else run_python

    print_machine(f"webhooks under gunicorn ({gunicorn_shape()}, the Procfile's web entry), loopback")
    print(
        f"   client: {client}{' (1 thread, Lua script of pre-signed requests)' if client == 'wrk' else ' (asyncio, in this process)'}, "
        f"{args.concurrency} keep-alive connections, {args.duration:.0f}s per endpoint in {slices} slices "
        f"of {slice_s:.0f}s, after {args.warmup:.0f}s warm-up; CALLER_RATE_LIMIT=1000000000; LOG_LEVEL={args.log_level}"
    )
    with Stack(
        workers=0, simulator=False, settings={"CALLER_RATE_LIMIT": "1000000000"}, log_level=args.log_level
    ) as st:
        bare = st.serve("web", port=free_port(), name="web-bare", app="bench._bare_app:app")
        st.wait_http(bare + "/healthz")
        reqs = {
            "incoming": build_requests(st, "incoming", VARIANTS),
            "language": build_requests(st, "language", VARIANTS),
        }
        check_once(st.web_url, reqs["incoming"], "<Gather")
        check_once(st.web_url, reqs["language"], "<Gather")
        check_once(bare, reqs["incoming"], "<Gather")
        app_pids = [p for p in st.procs.pids("web") if p not in st.procs.pids("web-bare")]
        phases = [
            ("bare Flask, fixed TwiML", bare, st.procs.pids("web-bare"), reqs["incoming"]),
            ("POST /voice/incoming", st.web_url, app_pids, reqs["incoming"]),
            ("POST /voice/incoming/language", st.web_url, app_pids, reqs["language"]),
        ]
        totals = {name: Result() for name, *_ in phases}
        cpu = {name: 0.0 for name, *_ in phases}
        loads = []
        for name, url, _pids, rq in phases:
            run(url, rq, args.warmup, args.concurrency, st.tmp)
        for _ in range(slices):
            loads.append(os.getloadavg()[0])
            for name, url, pids, rq in phases:
                _, c0 = tree_rss_cpu(pids)
                totals[name].add(run(url, rq, slice_s, args.concurrency, st.tmp))
                cpu[name] += tree_rss_cpu(pids)[1] - c0
        st.procs.check_alive()
    base_rps = totals[phases[0][0]].rps
    rows, failures = [], []
    for name, *_ in phases:
        r = totals[name]
        ratio = r.rps / base_rps if base_rps else float("nan")
        rows.append(
            [
                name,
                r.requests,
                r.rps,
                r.pct_ms(50),
                r.pct_ms(99),
                r.max_ms,
                r.errors,
                f"{ratio:.0%}",
                f"{cpu[name] / r.seconds:.2f}",
                f"{cpu[name] / r.requests * 1e6:.0f}",
            ]
        )
        if name.startswith("POST"):
            if r.pct_ms(99) >= P99_TARGET_MS:
                failures.append(f"{name}: p99 {r.pct_ms(99):.1f} ms >= {P99_TARGET_MS:.0f} ms")
            if ratio < RATIO_TARGET:
                failures.append(f"{name}: {ratio:.0%} of the bare endpoint's req/s < {RATIO_TARGET:.0%}")
        if r.errors:
            failures.append(f"{name}: {r.errors} errors or non-2xx answers")
    print()
    print(
        table(
            [
                "endpoint",
                "requests",
                "req/s",
                "p50 ms",
                "p99 ms",
                "max ms",
                "errors",
                "vs bare",
                "server CPUs",
                "server CPU µs/req",
            ],
            rows,
        )
    )
    print(
        f"\n   1-min load average during the run: {min(loads):.2f}..{max(loads):.2f} (2 CPUs; includes this "
        f"benchmark). server CPUs = gunicorn CPU-seconds per second; the client and the rest use the remainder."
    )
    print(f"   targets: p99 < {P99_TARGET_MS:.0f} ms and >= {RATIO_TARGET:.0%} of the bare endpoint's req/s")
    return verdict(failures)


if __name__ == "__main__":
    sys.exit(main())
