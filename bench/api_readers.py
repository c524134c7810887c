"""Benchmark: a sergeant's action latency while 16 tools poll the dashboard's JSON API, with
API tokens (this code) and with HTTP Basic (the code before tokens).

    .venv/bin/python -m bench.api_readers [--readers 16] [--interval 1.0] [--seconds 20]
                                                [--action-every 0.5] [--basic-ref REF]

Starts an embedded Redis and the Procfile's `dashboard` process (gunicorn, 1 process, nice 5,
bench/data/roster.bench.yaml). A signed-in sergeant toggles a liaison's duty (POST
/dashboard/liaisons/<id>/duty, as the page does: CSRF header, confirmed) every
--action-every seconds; each action's latency is measured from the moment it was sent.
Meanwhile --readers tools each GET /dashboard/api/queue every --interval seconds (from a
separate process at nice 10, standing in for other computers). Phases of --seconds each:

  tokens, no readers    this code, the sergeant alone
  tokens, 16 readers    this code, the readers with `Authorization: Bearer <token>`
  Basic, no readers     the code at --basic-ref, the sergeant alone
  Basic, 16 readers     the code at --basic-ref, the readers with HTTP Basic (viewer's password)

The Basic phases run the tree at --basic-ref (default: the parent of the commit that added
dispatch/api_tokens.py, the last code whose API took HTTP Basic), exported with `git archive`
into a temporary directory and served by the same gunicorn command (`--chdir`) on the same
Redis. Without git history they are skipped, and the table says so.
Target: with token readers, the action's p90 is at most 2 x that without readers + 10 ms.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from bench._figures import LoadMeter, pct, print_machine, table, verdict
from bench._stack import Stack, hard_limit
from config.settings import ROOT
from launcher.ports import free_port

SERGEANT, SERGEANT_PASSWORD = "sergeant", "sergeant-demo"  # the bench roster's demo users (sample hashes)
VIEWER, VIEWER_PASSWORD = "viewer", "viewer-demo"
READ_PATH = "/dashboard/api/queue"
P90_FACTOR, P90_SLACK_MS = 2.0, 10.0


# ------------------------------------------------------------------------------ the readers (child process)
def readers_main(argv: list[str]) -> None:
    """`python -m bench.api_readers readers ...`: n threads polling READ_PATH; writes [status, ms] pairs as JSON."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--base")
    ap.add_argument("--authorization")
    ap.add_argument("--n", type=int)
    ap.add_argument("--interval", type=float)
    ap.add_argument("--seconds", type=float)
    ap.add_argument("--out")
    a = ap.parse_args(argv)
    out: list[tuple[int, float]] = []
    stop = time.monotonic() + a.seconds

    def poll(k: int) -> None:
        s = requests.Session()
        s.headers["Authorization"] = a.authorization
        due = time.monotonic() + a.interval * k / a.n  # spread over the interval
        while due < stop:
            time.sleep(max(0.0, due - time.monotonic()))
            t0 = time.monotonic()
            try:
                code = s.get(a.base + READ_PATH, timeout=60).status_code
            except requests.RequestException:
                code = 0
            out.append((code, (time.monotonic() - t0) * 1e3))
            due = max(due + a.interval, time.monotonic())  # a slow answer delays the next poll (as a tool's loop)

    threads = [threading.Thread(target=poll, args=(k,)) for k in range(a.n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    Path(a.out).write_text(json.dumps(out))


# ------------------------------------------------------------------------------ the driver
def sign_in(base: str) -> requests.Session:
    s = requests.Session()
    page = s.get(base + "/dashboard/signin", timeout=30)
    m = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    if not m:
        raise RuntimeError(f"no sign-in form at {base} ({page.status_code})")
    resp = s.post(
        base + "/dashboard/signin",
        allow_redirects=False,
        timeout=60,
        data={"csrf_token": m.group(1), "username": SERGEANT, "password": SERGEANT_PASSWORD},
    )
    if resp.status_code not in (302, 303):
        raise RuntimeError(f"sign-in failed: {resp.status_code} {resp.text[:200]}")
    csrf = re.search(r'data-csrf="([^"]+)"', s.get(base + "/dashboard", timeout=30).text)
    if not csrf:
        raise RuntimeError("no CSRF token on the page")
    s.headers["X-CSRF-Token"] = csrf.group(1)
    return s


def actions(base: str, liaison: str, every: float, seconds: float) -> list[float]:
    """The sergeant's duty toggles, one per `every` seconds; latency (ms) from when each was due."""
    s = sign_in(base)
    lat: list[float] = []
    start = time.monotonic()
    n = 0
    while True:
        due = start + n * every
        if due > start + seconds:
            return lat
        time.sleep(max(0.0, due - time.monotonic()))
        resp = s.post(
            f"{base}/dashboard/liaisons/{liaison}/duty",
            timeout=60,
            data={"duty": ("off", "on")[n % 2], "confirm": "yes"},
        )
        if resp.status_code != 200:
            raise RuntimeError(f"the action failed: {resp.status_code} {resp.text[:200]}")
        lat.append((time.monotonic() - due) * 1e3)
        n += 1


def phase(st: Stack, base: str, liaison: str, authorization: str | None, args: argparse.Namespace) -> dict:
    readers = None
    out = st.tmp / f"readers-{time.monotonic_ns()}.json"
    if authorization:
        readers = subprocess.Popen(
            [
                "nice",
                "-n",
                "10",
                sys.executable,
                "-m",
                "bench.api_readers",
                "readers",
                "--base",
                base,
                "--authorization",
                authorization,
                "--n",
                str(args.readers),
                "--interval",
                str(args.interval),
                "--seconds",
                str(args.seconds + 2),
                "--out",
                str(out),
            ]
        )
        time.sleep(2.0)  # the readers under way before the sergeant starts
    meter = LoadMeter()
    lat = actions(base, liaison, args.action_every, args.seconds)
    others = meter.others()
    reads: list = []
    if readers is not None:
        readers.wait(timeout=args.seconds + 120)
        reads = json.loads(out.read_text())
    ok = [ms for code, ms in reads if code == 200]
    return {"lat": lat, "reads": len(reads), "read_ok": len(ok), "read_p50": pct(ok, 50), "others": others}


def basic_tree(ref: str | None, dest: Path) -> tuple[str, Path] | tuple[None, str]:
    """Export the code at `ref` (default: the last before API tokens) into `dest`; (ref, dir) or (None, why)."""
    try:
        if ref is None:
            added = subprocess.run(
                ["git", "-C", str(ROOT), "log", "--diff-filter=A", "--format=%H", "--", "dispatch/api_tokens.py"],
                capture_output=True,
                text=True,
                check=True,
            )
            first = added.stdout.split()[-1] if added.stdout.split() else ""
            if not first:
                return None, "no commit adds dispatch/api_tokens.py in this history"
            ref = first + "^"
        sha = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", ref], capture_output=True, text=True, check=True
        ).stdout.strip()
        dest.mkdir()
        archive = subprocess.Popen(["git", "-C", str(ROOT), "archive", ref], stdout=subprocess.PIPE)
        subprocess.run(["tar", "-x", "-C", str(dest)], stdin=archive.stdout, check=True)
        if archive.wait() != 0:
            return None, f"git archive {ref} failed"
        return sha, dest
    except (OSError, subprocess.CalledProcessError) as exc:
        return None, f"no git history here ({exc})"


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "readers":
        readers_main(sys.argv[2:])
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--readers", type=int, default=16, help="polling tools (default 16)")
    ap.add_argument("--interval", type=float, default=1.0, help="seconds between one tool's polls (default 1)")
    ap.add_argument("--seconds", type=float, default=20.0, help="measured seconds per phase (default 20)")
    ap.add_argument("--action-every", type=float, default=0.5, help="seconds between the sergeant's actions")
    ap.add_argument("--basic-ref", default=None, help="the code with HTTP Basic (default: before API tokens)")
    args = ap.parse_args()
    hard_limit(240 + 4 * (args.seconds + 10))

    print_machine(
        f"a sergeant's action while {args.readers} tools poll {READ_PATH} every {args.interval:g} s "
        "(the Procfile's dashboard process)"
    )
    print(
        f"   {args.seconds:.0f} s per phase, an action every {args.action_every:g} s; readers in one process "
        "at nice 10. The machine is shared: 'others' is CPU other processes used meanwhile."
    )
    rows, results = [], {}
    with Stack(workers=0, web=False, simulator=False) as st:
        from dispatch import api_tokens

        liaison = st.roster().liaisons[0].id
        token = api_tokens.create(st.redis, "bench")
        new = st.start_dashboard()
        results["tokens, no readers"] = phase(st, new, liaison, None, args)
        results[f"tokens, {args.readers} readers"] = phase(st, new, liaison, f"Bearer {token}", args)
        st.procs.stop(["dashboard"])
        ref, tree = basic_tree(args.basic_ref, st.tmp / "basic-tree")
        if ref is None:
            print(f"   Basic phases skipped: {tree}")
        else:
            print(f"   Basic phases: the code at {ref} (git archive), same gunicorn command with --chdir")
            port = free_port()
            old = st.serve("dashboard", port=port, name="dashboard-basic", extra_args=("--chdir", str(tree)))
            st.wait_http(old + "/healthz")
            basic = "Basic " + base64.b64encode(f"{VIEWER}:{VIEWER_PASSWORD}".encode()).decode()
            probe = requests.get(old + READ_PATH, headers={"Authorization": basic}, timeout=60)
            if probe.status_code != 200:
                raise RuntimeError(f"the code at {ref} does not take HTTP Basic ({probe.status_code})")
            results["Basic, no readers"] = phase(st, old, liaison, None, args)
            results[f"Basic, {args.readers} readers"] = phase(st, old, liaison, basic, args)
        st.procs.check_alive()
    for name, r in results.items():
        lat = r["lat"]
        rows.append(
            [
                name,
                len(lat),
                pct(lat, 50),
                pct(lat, 90),
                pct(lat, 99),
                max(lat) if lat else float("nan"),
                f"{r['read_ok']}/{r['reads']}",
                r["read_p50"],
                f"{r['others']:.2f}",
            ]
        )
    print(
        table(
            ["phase", "actions", "p50 ms", "p90 ms", "p99 ms", "max ms", "reads ok", "read p50 ms", "others (CPUs)"],
            rows,
        )
    )
    failures = []
    alone, loaded = results["tokens, no readers"]["lat"], results[f"tokens, {args.readers} readers"]["lat"]
    bound = P90_FACTOR * pct(alone, 90) + P90_SLACK_MS
    if pct(loaded, 90) > bound:
        failures.append(f"with token readers the action's p90 is {pct(loaded, 90):.1f} ms > {bound:.1f} ms")
    r = results[f"tokens, {args.readers} readers"]
    if r["read_ok"] != r["reads"]:
        failures.append(f"{r['reads'] - r['read_ok']} token reads failed")
    return verdict(failures)


if __name__ == "__main__":
    sys.exit(main())
