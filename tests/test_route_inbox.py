"""The route inbox and its drainers (workers/route_inbox.py, workers/dispatching.py) on real
Redis: each request is routed once, a surge is routed a few at a time, and no wake-up or
dead drainer leaves a request waiting."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from rq import Queue

from dispatch import keys
from workers.dispatching import drain_inbox
from workers.jobqueue import RQJobs
from workers.route_inbox import RouteInbox


@pytest.fixture
def inbox(r) -> RouteInbox:
    return RouteInbox(r, slots=2, lease_seconds=10)


def test_the_first_requests_start_one_drainer_per_slot_and_no_more(inbox):
    assert inbox.add("R00001", "a") == 0
    assert inbox.add("R00002", "b") == 1
    assert inbox.add("R00003", "c") is None, "both slots have a drainer: it will take this one"
    assert inbox.waiting() == 3


def test_a_request_asked_for_twice_is_routed_once(inbox):
    inbox.add("R00001", "a")
    inbox.add("R00001", "b")
    assert inbox.take(0, "a", 10) == ["R00001"]
    assert inbox.take(0, "a", 10) == []


def test_drainers_take_the_oldest_first_and_give_the_slot_back_when_empty(inbox, r):
    for i in range(5):
        inbox.add(f"R0000{i}", "a" if i == 0 else "x")
    assert inbox.take(0, "a", 3) == ["R00000", "R00001", "R00002"]
    assert inbox.take(0, "a", 3) == ["R00003", "R00004"]
    assert r.get(keys.route_drainer(0)) == b"a", "still draining: the lease is renewed"
    assert inbox.take(0, "a", 3) == []
    assert r.get(keys.route_drainer(0)) is None
    assert inbox.add("R00009", "next") == 0, "the next request starts a drainer again: no lost wake-up"


def test_a_drainer_whose_slot_was_taken_over_stops(inbox):
    inbox.add("R00001", "a")
    inbox.r.set(keys.route_drainer(0), "successor")
    assert inbox.take(0, "a", 10) is None
    assert inbox.waiting() == 1, "nothing taken by the stale drainer"


def test_hand_over_leaves_a_successor_only_if_requests_still_wait(inbox):
    inbox.add("R00001", "a")
    inbox.add("R00002", "b")
    assert inbox.take(0, "a", 1) == ["R00001"]
    assert inbox.hand_over(0, "a", "a2") == 0, "R00002 still waits: a successor on the freed slot"
    inbox.take(0, "a2", 10)
    assert inbox.hand_over(0, "a2", "a3") is None
    assert inbox.r.get(keys.route_drainer(0)) is None


def test_a_dead_drainer_is_replaced_only_while_requests_wait(r):
    inbox = RouteInbox(r, slots=1, lease_seconds=0.05)
    assert inbox.resume("k") is None and "R00001" not in inbox.members()
    assert inbox.add("R00001", "dies") == 0
    assert inbox.resume("k") is None and "R00001" in inbox.members(), "its drainer is alive"
    time.sleep(0.1)  # the drainer died: its lease runs out
    assert inbox.resume("k") == 0, "a new drainer for the slot"


def test_a_drainer_routes_everything_once_a_few_at_a_time(inbox):
    ids = [f"R{i:05d}" for i in range(1, 41)]
    for i in ids:
        inbox.add(i, "t0" if i == ids[0] else "other")
    routed: list[str] = []
    lock = threading.Lock()
    state = {"now": 0, "max": 0}

    def route(request_id: str) -> None:
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        time.sleep(0.01)  # the phone network's answer
        with lock:
            routed.append(request_id)
            state["now"] -= 1

    with ThreadPoolExecutor(max_workers=4) as pool:
        done = drain_inbox(inbox, 0, "t0", route, pool, budget=30)
    assert done == 40
    assert sorted(routed) == ids
    assert 2 <= state["max"] <= 4, state


def test_one_failing_route_does_not_stop_the_others(inbox):
    for i in range(1, 6):
        inbox.add(f"R{i:05d}", "t0" if i == 1 else "x")
    routed = []

    def route(request_id: str) -> None:
        if request_id == "R00002":
            raise RuntimeError("Redis went away for a moment")
        routed.append(request_id)

    with ThreadPoolExecutor(max_workers=2) as pool:
        assert drain_inbox(inbox, 0, "t0", route, pool, budget=30) == 5
    assert sorted(routed) == ["R00001", "R00003", "R00004", "R00005"]


def test_a_drainer_stops_taking_when_its_time_is_up(inbox):
    for i in range(1, 11):
        inbox.add(f"R{i:05d}", "t0" if i == 1 else "x")
    with ThreadPoolExecutor(max_workers=1) as pool:
        done = drain_inbox(inbox, 0, "t0", lambda _: time.sleep(0.05), pool, budget=0.12)
    assert 1 <= done < 10
    assert inbox.waiting() == 10 - done, "the rest wait for the successor"


def test_rq_jobs_enqueue_a_drainer_only_when_a_slot_is_free(r, settings):
    # Queues of their own: the session stack's live workers serve "dispatch" on this Redis.
    queue, periodic = Queue("inbox-test", connection=r), Queue("inbox-test-periodic", connection=r)
    jobs = RQJobs(queue, periodic, RouteInbox(r, slots=2))
    for i in range(1, 6):
        jobs.submit("route", f"R{i:05d}")
    drainers = [j for j in queue.get_jobs() if j.func_name == "workers.dispatching.drain"]
    assert [j.args[0] for j in drainers] == ["0", "1"]
    assert "R00003" in jobs.waiting_ids("route") and "R00099" not in jobs.waiting_ids("route")
    assert len(queue) == 2, "the waiting check started no third drainer: both slots are held"


def test_the_sweeper_learns_what_waits_in_one_read_and_a_dead_drainer_is_replaced(r):
    # Queues of their own: the session stack's live workers serve "dispatch" on this Redis.
    queue, periodic = Queue("inbox-test", connection=r), Queue("inbox-test-periodic", connection=r)
    jobs = RQJobs(queue, periodic, RouteInbox(r, slots=1, lease_seconds=0.05))
    jobs.submit("route", "R00001")
    jobs.submit("route", "R00002")
    assert len(queue) == 1
    queue.empty()  # the drainer's job died with its worker ...
    time.sleep(0.1)  # ... and its lease ran out
    assert jobs.waiting_ids("route") == {"R00001", "R00002"}
    assert [j.func_name for j in queue.get_jobs()] == ["workers.dispatching.drain"], "a new drainer"
    assert jobs.waiting_ids("notify") == set()
