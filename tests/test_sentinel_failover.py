"""Redis Sentinel failover for real: the master SIGKILLed in the middle of traffic.

A master, one replica and three sentinels (the embedded redis-server; a sentinel is the same
binary run with --sentinel) on loopback, every server with `min-replicas-to-write 1` and
`min-replicas-max-lag 10` as README's Deployment asks; the Procfile's `web` (two gunicorn
processes) and `callbacks`, two RQ worker processes and the simulated phone network, all
finding Redis through REDIS_SENTINELS. Officers call every half second; meanwhile a counter
is incremented and RQ jobs are enqueued as fast as the master takes them, so what the
failover loses can be counted. The master is killed with SIGKILL. Once the sentinels have
promoted the replica, the old master is started again (a supervisor's restart) and the
sentinels make it a replica of the new one.

Shown: the replica promoted; no web or worker process restarted, each found the new master by
itself; every officer call, placed before, during or after the failover, reached an
interpreter (through the queue, or straight to the vendor while no master took writes),
none left on hold; every request ended and every liaison is free again; what the failover
lost (acknowledged writes, RQ jobs, requests), measured; calls after the recovery are
queued and answered by a liaison. The figures are printed (`-s`) for docs/reliability.md.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

import pytest
import redis
import requests
from rq import Queue
from rq.job import Job, JobStatus

from adapters.redis_connection import connect, unavailable
from adapters.rq_jobs import DISPATCH_QUEUE
from dispatch import keys
from dispatch.languages import default_catalog
from dispatch.liaisons import ON_CALL, RINGING, LiaisonBoard
from dispatch.requests import RequestStore
from dispatch.states import TERMINAL, State
from launcher.sentinel import SentinelRedis, SentinelTimings
from launcher.stack import Ports, Stack, settings_env
from simulator.client import SimulatorClient
from tests.support.faults import epoch, wait_until
from tests.support.settings import e2e_settings

# With `make test`'s four processes, the heaviest stacks run one after another (--dist loadgroup).
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("heavy")]

TIMINGS = SentinelTimings(down_after_ms=3000, failover_timeout_ms=2000)
MAX_LAG = 10  # min-replicas-max-lag, as README's Deployment sets it
CALL_EVERY = 0.5  # an officer calls this often, all through the test
TALK = 2.0  # an interpreter hangs up this long after answering
OFFICER_STAYS = 30.0  # an officer hangs up this long after the service answered (well past the ~5 s failover,
# so a test process slowed by the other three of `make test` does not leave a caller who gave up)
AFTER_RECOVERY = 8.0  # calls go on this long once the master takes writes again (the workers, reconnecting,
# take a few seconds on a loaded machine to free the liaisons the outage left ringing)
VENDOR_RING = 6  # VENDOR_RING_TIMEOUT: the other durations are scaled down ~15x, the recovery is not; a vendor
# dial placed as the workers come back must have time to be answered (30 s in production)
SCHEDULED = (1, 3, 8, 16)  # seconds after the crash: RQ jobs scheduled then (enqueue_in)
LANGUAGES = ("spa", "rus", "cmn", "spa", "ben")
CONNECTED = ("liaison_connected", "vendor_connected")


@dataclass
class Traffic:
    """Officers calling every `every` seconds from the roster's phones, in a thread."""

    sim: SimulatorClient
    phones: list[str]
    service_number: str
    every: float
    placed: list[tuple[float, str]] = field(default_factory=list)  # (epoch, CallSid)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Traffic:
        self._thread = threading.Thread(target=self._run, daemon=True, name="officers")
        self._thread.start()
        return self

    def _run(self) -> None:
        i = 0
        while not self._stop.is_set():
            language = default_catalog().get(LANGUAGES[i % len(LANGUAGES)])
            sid = self.sim.place_call(
                self.phones[i % len(self.phones)],
                self.service_number,
                inputs=[{"digits": language.keypad + "#"}, {"digits": "1"}],
                hangup_after=OFFICER_STAYS,
            )
            self.placed.append((time.time(), sid))
            i += 1
            self._stop.wait(self.every)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)


@dataclass
class Writes:
    """Writes acknowledged by whichever master the sentinels name, as fast as it takes them:
    a counter (INCR) and RQ jobs on the dispatch queue, each acknowledgement remembered."""

    sentinels: tuple[tuple[str, int], ...]
    counter_times: list[float] = field(default_factory=list)  # when each value 1, 2, ... was acknowledged
    jobs_acked: list[str] = field(default_factory=list)
    first_refusal: float | None = None
    back_at: float | None = None  # the first write acknowledged after `since`
    since: float = float("inf")
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> Writes:
        for target in (self._count, self._enqueue):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def _acked(self, sent: float) -> None:
        # Only a write *sent* after the crash counts: one the old master answered just before
        # dying may reach this thread later, when the machine is busy.
        if self.back_at is None and sent > self.since:
            self.back_at = time.time()

    def _refused(self, exc: Exception) -> None:
        assert unavailable(exc), exc
        if self.first_refusal is None and time.time() > self.since and not isinstance(exc, redis.ConnectionError):
            self.first_refusal = time.time()

    def _count(self) -> None:
        client = connect("", self.sentinels)
        while not self._stop.is_set():
            try:
                sent = time.time()
                client.incr("probe:counter")
                self.counter_times.append(time.time())
                self._acked(sent)
            except redis.RedisError as exc:
                self._refused(exc)
                self._stop.wait(0.02)

    def _enqueue(self) -> None:
        queue = Queue(DISPATCH_QUEUE, connection=connect("", self.sentinels))
        n = 0
        while not self._stop.is_set():
            try:
                job = queue.enqueue("tests.support.probe_job.probe", n, result_ttl=600, failure_ttl=600)
                self.jobs_acked.append(job.id)
                n += 1
            except redis.RedisError as exc:
                self._refused(exc)
            self._stop.wait(0.05)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(10)


@contextmanager
def sentinel_stack(tmp_path: Path, replicas: int) -> Iterator[tuple[SentinelRedis, Stack, SimulatorClient]]:
    """The Redis group, then the Procfile's web and callbacks, two workers and the simulator,
    every process given REDIS_SENTINELS (and a REDIS_URL naming the first master, never used)."""
    group = SentinelRedis(tmp_path / "redis", replicas=replicas, timings=TIMINGS, min_replicas_max_lag=MAX_LAG).start()
    stack = None
    try:
        ports = Ports.free()
        settings = replace(
            e2e_settings(
                group.servers[0].url,
                redis_sentinels=group.sentinels,
                caller_rate_limit=1000,
                reconcile_seconds=2.0,
                vendor_ring_timeout=VENDOR_RING,
            ),
            public_base_url=ports.url("web"),
            status_callback_base_url=ports.url("callbacks"),
            twilio_api_base_url=ports.url("sim"),
        )
        env = dict(os.environ, **settings_env(settings), PYTHONUNBUFFERED="1", LOG_LEVEL="WARNING")
        stack = Stack(
            env,
            ports,
            served=("web", "callbacks"),
            workers=2,
            simulator="simulator",
            simulator_args=["--time-scale", "0.05", "--default-answer-after", "0.2", "--quiet"],
            output=tmp_path / "logs",
        )
        stack.start()
        yield group, stack, SimulatorClient(ports.url("sim"))
    finally:
        if stack is not None:
            stack.stop()
        group.stop()


def _records(stack: Stack) -> dict[str, object]:
    store = RequestStore(stack.redis, stack.settings.retention_seconds)
    ids = [
        k.decode().rsplit(":", 1)[1] for k in stack.redis.scan_iter(keys.PREFIX + "request:R*") if k.count(b":") == 2
    ]
    return {rec.id: rec for rec in store.get_many(ids) if rec is not None}


def _reached_interpreter(stack: Stack, calls: dict[str, dict], records: dict, vendor: set[str]) -> dict[str, str]:
    """CallSid → how its officer reached an interpreter: 'queue' (a request of theirs was
    connected), 'direct' (the call itself dialled the vendor, who answered), or '' (never)."""
    store = RequestStore(stack.redis, stack.settings.retention_seconds)
    by_call: dict[str, list] = {}
    for rec in records.values():
        by_call.setdefault(rec.officer_call, []).append(rec)
    out = {}
    for sid, call in calls.items():
        if call["direction"] != "inbound":
            continue
        queued = any(h["event"] in CONNECTED for rec in by_call.get(sid, []) for h in store.history(rec.id))
        direct = any(calls[c]["number"] in vendor and calls[c]["answered"] for c in call["children"] if c in calls)
        out[sid] = "queue" if queued else "direct" if direct else ""
    return out


@pytest.mark.parametrize("replicas", [1, 2])
def test_master_killed_mid_traffic_the_replica_takes_over_and_no_officer_is_stranded(tmp_path, replicas):
    with sentinel_stack(tmp_path, replicas) as (group, stack, sim):
        roster = stack.roster()
        s = stack.settings
        vendor = {roster.vendor.number, roster.vendor.alternate}
        sim.set_parties(
            {
                liaison.phone: {
                    "answer": "after",
                    "answer_after": 0.5,
                    "inputs": [{"digits": "1"}],
                    "hangup_after": TALK,
                }
                for liaison in roster.liaisons
            }
        )
        sim.set_parties({n: {"answer": "after", "answer_after": 0.3, "hangup_after": TALK} for n in vendor})
        phones = [line for p in roster.precincts for line in p.lines] + [x.cell for x in roster.supervisors]
        traffic = Traffic(sim, phones, roster.service_number, CALL_EVERY).start()
        writes = Writes(group.sentinels).start()
        try:
            wait_until(
                lambda: sum(r.state == State.CONNECTED for r in _records(stack).values()) >= 2,
                20,
                "traffic flowing: two requests connected",
            )
            before = _records(stack)
            # RQ's scheduler (every worker runs one, in a process of its own, on a connection RQ
            # rebuilds from the worker's): jobs due during the failover and after it
            scheduler_queue = Queue(DISPATCH_QUEUE, connection=stack.redis)
            scheduled = [
                scheduler_queue.enqueue_in(
                    timedelta(seconds=due), "tests.support.probe_job.probe", -due, result_ttl=600, failure_ttl=600
                ).id
                for due in SCHEDULED
            ]

            # ---- the crash
            old = group.master()
            killed = time.time()
            group.kill(old)
            writes.since = time.time()  # the process is gone: nothing it acknowledges from here on
            new = group.wait_master(other_than=old)
            promoted = time.time()
            counter_kept = int(redis.Redis(port=new.port).get("probe:counter") or 0)
            assert group.role(new) == "master" and new is not old
            if replicas == 1:
                # No replica in sync: the promoted master refuses writes (min-replicas-to-write 1) ...
                with pytest.raises(redis.ResponseError, match="NOREPLICAS"):
                    redis.Redis(port=new.port).set("probe:refused", 1)
                # ... until the old master's host is back, made a replica of the new master
                group.restart(old)
                group.wait_replica_of(old, new)
            wait_until(lambda: writes.back_at, 30, "a write acknowledged again")
            resumed = writes.back_at
            time.sleep(AFTER_RECOVERY)
        finally:
            traffic.stop()
            writes.stop()

        # ---- the phones hang up; every request ends, nothing waits, nobody is held
        bound = OFFICER_STAYS + s.reconnect_grace + 2 * s.reconcile_seconds + 5.0
        try:
            wait_until(lambda: all(r.state in TERMINAL for r in _records(stack).values()), bound, "every request ended")
        except AssertionError:
            store = RequestStore(stack.redis, s.retention_seconds)
            raise AssertionError(
                "not ended: "
                + "; ".join(
                    f"{r.id} {r.state.value} "
                    f"{[(round(epoch(h['ts']) - killed, 1), h['event']) for h in store.history(r.id)]}"
                    for r in _records(stack).values()
                    if r.state not in TERMINAL
                )
            ) from None
        records = _records(stack)
        calls = {c["sid"]: c for c in sim.calls()}
        how = _reached_interpreter(stack, calls, records, vendor)
        placed = {sid: t for t, sid in traffic.placed}

        # every officer reached an interpreter, whenever they called ...
        stranded = {sid: calls[sid]["status"] for sid, way in how.items() if not way}
        assert not stranded, f"officer calls that never reached an interpreter: {stranded}"
        # ... through the queue, or straight to the vendor while no master took writes
        in_flight = [sid for sid, t in placed.items() if t < killed and not _connected_by(stack, records, sid, killed)]
        # a call asks for its request this long after it is placed (the menu needs no Redis)
        lead = max(
            r.created_at - placed[r.officer_call]
            for r in records.values()
            if r.officer_call in placed and placed[r.officer_call] < killed
        )
        during = [sid for sid, t in placed.items() if killed < t < resumed - lead - 0.2]
        after = [sid for sid, t in placed.items() if t > resumed + 0.5]
        direct = [sid for sid in placed if how[sid] == "direct"]
        assert during and all(how[sid] == "direct" for sid in during), (
            f"no writes for {resumed - killed:.1f} s, calls ask {lead:.1f} s in",
            {sid: how[sid] for sid in during},
        )
        # calls after the recovery: queued again, and answered by a liaison
        assert after and all(how[sid] == "queue" for sid in after), {sid: how[sid] for sid in after}
        store = RequestStore(stack.redis, s.retention_seconds)
        assert any(r.officer_call in after and r.handler_kind == "liaison" for r in records.values()), (
            "no call after the recovery was answered by a liaison: "
            + "; ".join(
                f"{r.id} {r.language} {[(round(epoch(h['ts']) - resumed, 1), h['event']) for h in store.history(r.id)]}"
                for r in records.values()
                if r.officer_call in after
            )
        )

        # ---- what the failover lost: only writes acknowledged within the documented window
        # the counter's values 1..n were acknowledged in order before the kill; those above what the
        # promoted master holds were lost with the old one
        acked_before = [t for t in writes.counter_times if t < killed]
        counter_lost = acked_before[counter_kept:]
        assert all(t >= killed - MAX_LAG for t in counter_lost)
        lost_requests = {rid: rec for rid, rec in before.items() if rid not in records}
        assert all(rec.created_at >= killed - MAX_LAG for rec in lost_requests.values()), lost_requests
        # RQ: every job enqueued around the failover finished, but for at most one per worker
        # (popped by BLPOP as the master died, its answer lost: RQ runs a job at most once)
        wait_until(lambda: Queue(DISPATCH_QUEUE, connection=stack.redis).count == 0, 15, "the dispatch queue drained")
        jobs = Job.fetch_many(writes.jobs_acked, connection=stack.redis)
        statuses = [j.get_status() if j is not None else None for j in jobs]
        unfinished = [st for st in statuses if st != JobStatus.FINISHED]
        assert len(unfinished) <= stack.n_workers, unfinished
        assert statuses.count(None) <= len(counter_lost) + stack.n_workers

        # ... and every job scheduled before the crash ran, due during the outage or after it
        def scheduled_status() -> list:
            return [
                j.get_status() if j is not None else None for j in Job.fetch_many(scheduled, connection=stack.redis)
            ]

        try:
            wait_until(lambda: set(scheduled_status()) == {JobStatus.FINISHED}, 15, "the scheduled jobs finished")
        except AssertionError:
            raise AssertionError(f"scheduled jobs: {scheduled_status()}") from None

        # ---- no process restarted or exited: each found the new master by itself
        assert stack.exited() == [], [c.name for c in stack.exited()]
        health = requests.get(stack.ports.url("web") + "/healthz", timeout=5).json()
        assert health["redis"] == "ok" and health["workers"] == stack.n_workers, health
        board = LiaisonBoard(stack.redis)
        busy = {
            liaison.id: st
            for liaison in roster.liaisons
            if (st := board.status(liaison.id).state) in (RINGING, ON_CALL)
        }
        assert not busy, busy

        print(
            f"\nSentinel failover, {replicas} replica(s): every sentinel named the new master "
            f"{promoted - killed:.1f} s after the SIGKILL "
            f"(down-after {TIMINGS.down_after_ms} ms, failover-timeout {TIMINGS.failover_timeout_ms} ms); "
            f"no write taken for {resumed - killed:.1f} s; {len(direct)} of {len(placed)} officer calls went "
            f"straight to the vendor ({len(during)} placed in the outage); {len(in_flight)} calls in flight at "
            f"the kill, all reached an interpreter ({sum(how[c] == 'queue' for c in in_flight)} through the queue); "
            f"lost: {len(counter_lost)} of {len(acked_before)} acknowledged counter writes, "
            f"{len(lost_requests)} of {len(before)} requests, RQ jobs {len(unfinished)} of {len(jobs)} "
            f"not finished ({[str(st) for st in unfinished]})"
        )


def _connected_by(stack: Stack, records: dict, call_sid: str, when: float) -> bool:
    """Whether a request of this call had an interpreter connected before `when`."""
    store = RequestStore(stack.redis, stack.settings.retention_seconds)
    return any(
        h["event"] in CONNECTED and epoch(h["ts"]) < when
        for rec in records.values()
        if rec.officer_call == call_sid
        for h in store.history(rec.id)
    )


def _forget(r: redis.Redis, rec) -> None:  # type: ignore[no-untyped-def]
    """What a failover drops of a request opened in its last instant: the record, its history,
    its place among the open requests, the deadlines and the route inbox, its call's link."""
    r.delete(keys.request(rec.id), keys.history(rec.id), keys.tried(rec.id), keys.call(rec.officer_call))
    for zset in (keys.OPEN_REQUESTS, keys.DEADLINES, keys.ROUTE_INBOX, keys.waiting_line(rec.language or "")):
        r.zrem(zset, rec.id)


def test_an_officer_holding_for_a_request_the_failover_lost_is_put_through_to_the_vendor(stack):
    roster = stack.roster
    vendor = roster.vendor
    language = default_catalog().get("spa")
    stack.sim.set_parties({liaison.phone: {"answer": "never"} for liaison in roster.liaisons})
    stack.sim.set_parties({vendor.number: {"answer": "after", "answer_after": 0.2}})
    call = stack.sim.place_call(
        roster.precincts[0].lines[0],
        roster.service_number,
        inputs=[{"digits": language.keypad + "#"}, {"digits": "1"}],
        hangup_after=30,
    )
    rec = stack.wait_request(lambda r: r.officer_call == call, what="the officer's request")
    stack.sim.wait_for(lambda: stack.sim.call(call)["conference"] == rec.conference)

    _forget(stack.redis, rec)

    dtmf = vendor.dtmf_for(vendor.language_codes.get("spa") or language.vendor_code)

    def at_the_vendor_in_spanish():
        legs = [stack.sim.call(sid) for sid in stack.sim.call(call)["children"]]
        return [
            leg for leg in legs if leg["to"] == vendor.number and leg["answered"] and dtmf in leg["received_digits"]
        ]

    stack.sim.wait_for(at_the_vendor_in_spanish, timeout=10)
    moved = [e for e in stack.sim.log() if e["call"] == call and e["text"].startswith("REST update")]
    assert len(moved) == 1, moved
    assert stack.request(rec.id) is None  # nothing of the lost request came back
