"""Helpers for the end-to-end fault matrix (tests/test_fault_*.py) and other end-to-end tests.

- `private_stack`: a whole stack (web, RQ workers, simulator) on its own Redis, for
  tests that kill processes, restart Redis or need another roster, so the session
  stack the other end-to-end tests share is never disturbed.
- `call_intervals` / `overlaps`: when each simulated phone had a live call, from the
  simulator's own timelines, to prove no phone ever had two calls at once.
- `history_times`: a request's transitions with epoch times, for bounds.
"""

from __future__ import annotations

import math
import os
import signal
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from dispatch.requests import RequestStore
from tests.support.redis_server import RedisServer, start_redis
from tests.support.settings import e2e_settings
from tests.support.stack import Stack, start_stack

# Time for the queue to hand a job to a worker and for it to run, on a shared 2-core machine
# running `make test`'s test processes: every fault test's bound is a product bound from
# the settings plus this one allowance, stated once. (1 s was enough for one test process.)
SCHEDULING_SLACK = 3.0


@contextmanager
def private_stack(workers: int = 2, server: RedisServer | None = None, **overrides: Any) -> Iterator[Stack]:
    """Start a stack on `server` (or a fresh embedded Redis) with e2e settings + `overrides`."""
    own = server is None
    redis_server = server or start_redis()
    try:
        stack = start_stack(e2e_settings(redis_server.url, **overrides), workers=workers)
        try:
            yield stack
        finally:
            stack.stop()
    finally:
        if own:  # also when the stack failed to start: no Redis left behind
            stop_redis(redis_server)


def redis_pid(server: RedisServer) -> int:
    assert server.pid is not None, "an embedded Redis"
    return server.pid


def stop_redis(server: RedisServer, sig: int = signal.SIGTERM) -> None:
    """Stop an embedded redis-server with `sig` (SIGKILL: a crash) and wait until it has exited."""
    if server.embedded is None or server.embedded.proc is None:
        server.stop()
        return
    proc = server.embedded.proc
    if proc.poll() is None:
        os.kill(proc.pid, sig)
    proc.wait(timeout=10)


def call_intervals(calls: list[dict[str, Any]]) -> dict[str, list[tuple[float, float, str]]]:
    """Per phone number: (start, end, sid) of each call leg, from the simulator's timeline
    (monotonic seconds). A leg ends when it ended, or when the network accepted our REST
    hang-up for it (as Twilio's answer to that request says it is over); one still live
    ends at +inf."""
    out: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
    for call in calls:
        timeline = call.get("timeline") or []
        if not timeline:
            continue
        start = timeline[0]["t"]
        end = next((e["t"] for e in timeline if e["text"].startswith(("ended:", "REST update: hang up"))), math.inf)
        out[call["number"]].append((start, end, call["sid"]))
    return out


def overlaps(calls: list[dict[str, Any]], numbers: set[str]) -> list[str]:
    """Descriptions of every pair of calls to one of `numbers` that were live at once."""
    found = []
    for number, legs in call_intervals(calls).items():
        if number not in numbers:
            continue
        legs.sort()
        busy_until, busy_sid = -math.inf, ""
        for start, end, sid in legs:
            if start < busy_until:
                found.append(
                    f"{number[-4:]}: {sid[:10]} started at {start:.3f} while {busy_sid[:10]} "
                    f"was live until {busy_until:.3f}"
                )
            if end > busy_until:
                busy_until, busy_sid = end, sid
    return found


def epoch(iso: str) -> float:
    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()


def history_times(stack: Stack, request_id: str) -> list[tuple[float, str, dict[str, Any]]]:
    """(epoch, event, data) for each transition of a request, oldest first."""
    store = RequestStore(stack.redis, stack.settings.retention_seconds)
    return [(epoch(h["ts"]), h["event"], h["data"]) for h in store.history(request_id)]


def wait_until(pred, timeout: float, what: str, interval: float = 0.02):  # type: ignore[no-untyped-def]
    """Poll `pred()` until truthy; return its value or fail naming `what`."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout:.1f}s (last: {last!r})")
