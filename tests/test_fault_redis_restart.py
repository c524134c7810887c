"""Fault 6: Redis killed in the middle of traffic and started again (append-only file on).

A private embedded Redis with appendonly (fsync always, as tests/support/redis_server
sets it; production uses everysec, see README) and a private stack on it. Officers call
in six languages, so requests are queued, ringing liaisons and dialling the vendor when
the redis-server process is SIGKILLed; it stays down for a moment, then starts again on
the same port and directory, replaying its append-only file.

Asserted: every request opened before the crash is still there with its whole history
and reaches a final state within a bound from the settings (plus the outage); while
Redis is down officers waiting in a conference keep hearing the hold prompts (not a
promise of a direct vendor line that never comes); both worker processes and the web
app reconnect by themselves (no restart), and a new call afterwards is served end to end.
"""

from __future__ import annotations

import time

import pytest
import requests

from dispatch import keys
from dispatch.languages import default_catalog
from dispatch.requests import RequestStore
from dispatch.states import TERMINAL, State
from tests.support.faults import (
    SCHEDULING_SLACK,
    history_times,
    private_stack,
    redis_pid,
    stop_redis,
    wait_until,
)
from tests.support.redis_server import free_port, start_redis

# With `make test`'s four processes, the heaviest stacks run one after another (--dist loadgroup).
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("heavy")]

OUTAGE = 2.0  # seconds Redis stays down
RECONNECT = 7.0  # RQ's worker waits 1 s, then 2 s, then 4 s between reconnect attempts
SETTINGS = dict(liaison_window=8.0)
TALK = 2.0  # an interpreter hangs up this long after answering: the request completes


def _keypad(language: str) -> str:
    return default_catalog().get(language).keypad + "#"


def test_redis_killed_and_restarted_mid_traffic_loses_no_request(tmp_path):
    port, dbdir = free_port(), str(tmp_path)
    first_server = start_redis(appendonly=True, port=port, dbdir=dbdir)
    servers = [first_server]
    try:
        with private_stack(server=first_server, **SETTINGS) as stack:
            s = stack.settings
            roster = stack.roster
            slow_accept = {"answer": "after", "answer_after": 1.5, "inputs": [{"digits": "1"}], "hangup_after": TALK}
            stack.sim.set_parties({liaison.phone: slow_accept for liaison in roster.liaisons})
            stack.sim.set_parties(
                {
                    roster.vendor.number: {"answer": "after", "answer_after": 1.5, "hangup_after": TALK},
                    roster.vendor.alternate: {"answer": "after", "answer_after": 0.5, "hangup_after": TALK},
                }
            )
            phones = [line for p in roster.precincts for line in p.lines] + [x.cell for x in roster.supervisors]
            languages = ["spa", "spa", "rus", "cmn", "tir", None]
            officers = []
            for phone, language in zip(phones, languages, strict=False):  # as many officers as languages
                keys_in = [{"digits": _keypad(language)}, {"digits": "1"}] if language else [{"digits": "0#"}]
                officers.append(stack.sim.place_call(phone, roster.service_number, inputs=keys_in, hangup_after=30))
            store = RequestStore(stack.redis, s.retention_seconds)
            opened = wait_until(
                lambda: len(stack.requests()) == len(languages) and stack.requests(), 15, "six requests opened"
            )
            wait_until(
                lambda: any(r.state in (State.OFFERING, State.VENDOR_DIALING) for r in stack.requests()),
                10,
                "traffic in flight",
            )
            before = {r.id: (r.state, [h["event"] for h in store.history(r.id)]) for r in stack.requests()}
            assert len(before) == len(opened)

            # Officers waiting in their request's room now (on a loaded machine another may still be
            # in the menu, and a menu step that cannot reach Redis rightly puts them to the vendor).
            on_hold = {
                p["call"] for room in stack.sim.conferences() if not room["started"] for p in room["participants"]
            } & set(officers)

            # ---- the crash: the redis-server process dies with the traffic in flight
            stop_redis(first_server, sig=9)
            crashed_at = time.time()
            time.sleep(OUTAGE)
            hold_log_mark = max((e["seq"] for e in stack.sim.log()), default=0)
            servers.append(start_redis(appendonly=True, port=port, dbdir=dbdir))
            restarted_at = time.time()
            assert redis_pid(servers[-1]) != redis_pid(first_server)

            # ---- nothing acknowledged before the crash is lost
            for request_id, (_state, events) in before.items():
                rec = store.get(request_id)
                assert rec is not None, f"{request_id} lost"
                now_events = [h["event"] for h in store.history(request_id)]
                assert now_events[: len(events)] == events, (request_id, events, now_events)

            # ---- every one of them reaches a final state within its bound
            vendor_bound = s.vendor_ring_timeout + s.grace_seconds
            bound = s.liaison_window + 2 * vendor_bound + s.sweep_interval + RECONNECT + SCHEDULING_SLACK + TALK
            settle_by = time.time() + bound
            while time.time() < settle_by:
                if all((r := store.get(i)) and r.state in TERMINAL for i in before):
                    break
                time.sleep(0.1)
            else:
                raise AssertionError(
                    f"not settled {bound:.1f}s after the restart; workers exit codes "
                    f"{[p.poll() for p in stack.workers]}; "
                    + "; ".join(
                        f"{i} {store.get(i).state.value} "
                        f"{[(round(t - crashed_at, 1), e) for t, e, _ in history_times(stack, i)]}"
                        for i in before
                    )
                )
            settled_at = time.time()
            final = {i: store.get(i) for i in before}
            states = {i: f"{r.state.value} by {r.handler_kind or '-'}" for i, r in final.items()}
            for rid in before:
                times = history_times(stack, rid)
                assert times[-1][0] - times[0][0] <= bound + OUTAGE + 15, (rid, times)

            # ---- officers on hold kept hearing hold prompts, not a direct-vendor promise
            during = [
                e["text"]
                for e in stack.sim.log()
                if e["seq"] <= hold_log_mark
                and e.get("call") in on_hold
                and e["time"] >= time.strftime("%H:%M:%S", time.localtime(crashed_at))
            ]
            assert not [t for t in during if "Connecting you directly" in t], during

            # ---- the processes recovered by themselves
            assert all(p.poll() is None for p in stack.workers), "a worker process exited on the outage"
            wait_until(
                lambda: stack.redis.zcount(keys.WORKER_HEARTBEAT, time.time() - 2, "+inf") >= 2,
                10,
                "both workers beating again",
            )
            health = requests.get(stack.base_url + "/healthz", timeout=5)
            assert health.status_code == 200 and health.json()["redis"] == "ok"

            # ---- and a new call is served end to end
            stack.sim.set_parties({roster.vendor.number: {"answer": "after", "answer_after": 0.1}})
            new_call = stack.sim.place_call(phones[6], roster.service_number, inputs=[{"digits": "0#"}])
            fresh = stack.wait_request(
                lambda r: r.officer_call == new_call and r.state == State.CONNECTED,
                timeout=15,
                what="a call after the restart connected",
            )
            assert fresh.id not in before
            for rid in before:
                print(
                    rid,
                    [
                        (round(t - crashed_at, 1), e, d.get("outcome") or d.get("reason") or "")
                        for t, e, d in history_times(stack, rid)
                    ],
                )
            print(
                f"\nRedis down {restarted_at - crashed_at:.1f}s; {len(before)} requests in flight, none lost; "
                f"all finished {settled_at - restarted_at:.1f}s after the restart (bound {bound:.1f}s): {states}"
            )
    finally:
        for server in servers:
            stop_redis(server)
