"""Fault 3: a worker process SIGKILLed in the middle of a dispatch.

End to end on a private stack (its own Redis, web app, two real `python -m
workers.worker` processes, the simulator): the fault is injected for real — the RQ
worker that is inside `place_call` for a liaison offer is found through RQ's worker
registry and killed with SIGKILL — and the tests assert what officers and liaisons
would notice: the request still reaches an interpreter within the bound the settings
give, no liaison's phone rings twice for it, and no phone ever has two calls at once.

The "killed between two Redis writes" cases (claim without offer, offer ended but the
liaison not freed, vendor chosen but never dialled, accept recorded but the liaison not
marked on call) are tested at the domain level below, with the clock moved forward.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time

import psutil
import pytest
from rq import Worker

from dispatch import clock, keys
from dispatch.liaisons import IDLE, ON_CALL, RINGING
from dispatch.settings import offer_bound, vendor_bound
from dispatch.states import State
from tests.support.faults import SCHEDULING_SLACK, history_times, overlaps, private_stack, wait_until

pytestmark = pytest.mark.e2e


# The private stack: a long liaison window, so a re-offer after the sweeper is not cut
# short by the window closing, and a slow retry backoff, so a worker stays inside
# place_call (between a 500 and its retry) long enough to be killed there.
OVERRIDES = dict(liaison_window=20.0, twilio_retry_backoff=1.5, twilio_http_timeout=3.0)


@pytest.fixture(scope="module")
def kstack():
    with private_stack(**OVERRIDES) as running:
        yield running


@pytest.fixture
def stack(kstack):
    kstack.reset()
    orphans: list[int] = []
    kstack.orphans = orphans  # type: ignore[attr-defined]
    yield kstack
    # The killed worker's RQ scheduler child (a fork) outlives it; end it by its pid.
    for pid in orphans:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    live = [p for p in kstack.workers if p.poll() is None]
    for _ in range(2 - len(live)):
        _replace_worker(kstack)


def _replace_worker(stack) -> None:
    proc = stack.start_worker()
    name = f"{socket.gethostname()}.{proc.pid}"
    wait_until(
        lambda: (stack.redis.zscore(keys.WORKER_HEARTBEAT, name) or 0) > time.time() - 2,
        20,
        "replacement worker heartbeat",
    )


def _spanish(stack):
    return [liaison for liaison in stack.roster.liaisons if "spa" in liaison.languages]


def _call_in_spanish(stack, first, second, first_script, second_script) -> str:
    stack.sim.set_parties({liaison.phone: {"answer": "never"} for liaison in stack.roster.liaisons})
    stack.sim.set_parties({first.phone: first_script, second.phone: second_script})
    stack.redis.zadd(keys.LIAISONS_AVAILABLE, {first.id: 1000, second.id: 1001})
    from dispatch.languages import default_catalog

    keypad = default_catalog().get("spa").keypad
    return stack.sim.place_call(
        stack.roster.precincts[0].lines[0],
        stack.roster.service_number,
        inputs=[{"digits": keypad + "#"}, {"digits": "1"}],
    )


def _kill_the_dialling_worker(stack, fault_text: str) -> tuple[int, float]:
    """Wait until the simulator has served the injected REST fault, find the worker
    whose current job routes (a drainer), SIGKILL it; returns (pid, time of the kill)."""
    wait_until(
        lambda: [e for e in stack.sim.log() if e["text"].startswith("fault: REST POST") and fault_text in e["text"]],
        15,
        "the injected REST fault",
    )
    live = {p.pid: p for p in stack.workers if p.poll() is None}

    def busy_router():
        for w in Worker.all(connection=stack.redis):
            if w.pid in live and w.get_state() == "busy":
                job = w.get_current_job()
                if job is not None and job.func_name in ("workers.dispatching.route", "workers.dispatching.drain"):
                    return w.pid
        return None

    pid = wait_until(busy_router, 2.0, "a worker inside the route job", interval=0.01)
    stack.orphans.extend(c.pid for c in psutil.Process(pid).children(recursive=True))
    os.kill(pid, signal.SIGKILL)
    killed_at = time.time()
    live[pid].wait(timeout=5)
    return pid, killed_at


def test_worker_killed_before_the_call_is_placed_the_sweeper_offers_it_again(stack):
    s = stack.settings
    first, second, *_ = _spanish(stack)
    accept = {"answer": "after", "answer_after": 0.1, "inputs": [{"digits": "1"}]}
    # The first create answers 500: the worker sleeps in its retry backoff, inside
    # place_call, with no call placed yet. It dies there.
    stack.sim.faults([{"status": 500}])
    _call_in_spanish(stack, first, second, accept, accept)
    pid, killed_at = _kill_the_dialling_worker(stack, "answered 500")

    rec = stack.wait_request(
        lambda r: r.state == State.CONNECTED, timeout=offer_bound(s) + 10, what="connected after the kill"
    )
    assert rec.handler_id == second.id, "the first liaison was never rung, the second took it"
    steps = history_times(stack, rec.id)
    events = [(e, d.get("liaison"), d.get("outcome")) for _, e, d in steps]
    assert events == [
        ("created", None, None),
        ("offer", first.id, None),
        ("offer_ended", first.id, "timeout"),
        ("offer", second.id, None),
        ("liaison_connected", second.id, None),
    ]
    offered_at, ended_at, reoffered_at = steps[1][0], steps[2][0], steps[3][0]
    bound = offer_bound(s) + s.sweep_interval + SCHEDULING_SLACK
    assert offer_bound(s) - 0.05 <= ended_at - offered_at <= bound, (ended_at - offered_at, bound)
    assert reoffered_at - offered_at <= bound
    calls = stack.sim.calls()
    assert [c for c in calls if c["to"] == first.phone] == [], "no call ever reached the dead worker's liaison"
    assert len([c for c in calls if c["to"] == second.phone]) == 1
    assert overlaps(calls, {liaison.phone for liaison in stack.roster.liaisons}) == []
    from dispatch.liaisons import LiaisonBoard

    assert LiaisonBoard(stack.redis).status(first.id).state == IDLE, "the dead worker's claim was freed"
    print(
        f"\nkill→re-offer {reoffered_at - killed_at:.2f}s, offer held {ended_at - offered_at:.2f}s "
        f"(bound {bound:.2f}s), connected {rec.connected_at - killed_at:.2f}s after the kill"
    )


def test_worker_killed_while_the_create_is_in_flight_the_call_still_works(stack):
    """Twilio places the call even though the worker that asked died waiting for the
    answer: every callback carries the request and offer ids, so the liaison's accept
    still connects, the sweeper does not offer it again, and nobody is rung twice."""
    s = stack.settings
    first, second, *_ = _spanish(stack)
    accept = {"answer": "after", "answer_after": 0.2, "inputs": [{"digits": "1"}]}
    hang = s.twilio_http_timeout / 2  # the create completes after the worker is dead
    stack.sim.faults([{"hang": hang}])
    _call_in_spanish(stack, first, second, accept, accept)
    _pid, killed_at = _kill_the_dialling_worker(stack, "hangs")

    rec = stack.wait_request(
        lambda r: r.state == State.CONNECTED, timeout=offer_bound(s) + 10, what="connected to the first liaison"
    )
    assert rec.handler_id == first.id
    offered_at = next(t for t, e, _ in history_times(stack, rec.id) if e == "offer")
    # Past the offer's deadline: had the sweeper not known the offer was taken, it would act now.
    time.sleep(max(0.0, offered_at + offer_bound(s) + 2 * s.sweep_interval - time.time()))
    events = [e for _, e, _ in history_times(stack, rec.id)]
    assert events == ["created", "offer", "liaison_connected"], "the sweeper did not offer it again"
    calls = stack.sim.calls()
    assert len([c for c in calls if c["to"] == first.phone]) == 1
    assert [c for c in calls if c["to"] == second.phone] == []
    assert overlaps(calls, {liaison.phone for liaison in stack.roster.liaisons}) == []
    print(f"\nconnected {rec.connected_at - killed_at:.2f}s after the kill")


def test_worker_killed_mid_create_the_ringing_phone_is_still_stopped_when_the_officer_leaves(stack):
    """The dead worker never learnt the liaison call's sid; the call's own progress
    callback supplies it, so an officer hanging up still stops that phone at once and
    the liaison is not left ringing while being offered the next request."""
    first, second, *_ = _spanish(stack)
    hang = stack.settings.twilio_http_timeout / 2
    stack.sim.faults([{"hang": hang}])
    officer = _call_in_spanish(stack, first, second, {"answer": "never"}, {"answer": "never"})
    _kill_the_dialling_worker(stack, "hangs")
    ringing = wait_until(
        lambda: [c for c in stack.sim.calls() if c["to"] == first.phone and c["status"] == "ringing"],
        10,
        "the first liaison's phone ringing",
    )
    wait_until(
        lambda: (r := stack.requests()) and r[0].offer_call == ringing[0]["sid"],
        5,
        "the offer's call sid learnt from its progress callback",
    )
    stack.sim.hangup(officer)
    rec = stack.wait_request(lambda r: r.state == State.ABANDONED, what="abandoned request")
    ended = wait_until(
        lambda: (c := stack.sim.call(ringing[0]["sid"]))["status"] != "ringing" and c, 5, "the liaison's phone to stop"
    )
    assert ended["status"] == "canceled", ended
    assert "by the app" in ended["end_reason"]
    from dispatch.liaisons import LiaisonBoard

    # The app hangs up first and frees the liaison just after: wait for that, briefly.
    wait_until(lambda: LiaisonBoard(stack.redis).status(first.id).state == IDLE, 3, "the liaison freed")
    assert [e for _, e, _ in history_times(stack, rec.id)] == ["created", "offer", "abandon"]


# ---------------------------------------------------------------- between two Redis writes


def _queued_spanish(ctx, dispatcher):
    from dispatch.roster import Caller

    caller = Caller(ctx.roster.precincts[0].lines[0], "precinct", ctx.roster.precincts[0].id)
    return dispatcher.intake.open_request(caller, ctx.catalog.get("spa"), officer_call="CA" + "0" * 32)


def test_killed_between_claim_and_offer_the_liaison_is_freed_and_the_request_offered_once(
    ctx, jobs, telephony, later, wiring
):
    dispatcher = wiring
    rec = _queued_spanish(ctx, dispatcher)
    jobs.submitted.clear()  # the route job dies with its worker...
    speakers = dispatcher.offers.candidates("spa")
    ctx.redis.zadd(keys.LIAISONS_AVAILABLE, {liaison.id: 1000 + i for i, liaison in enumerate(speakers)})
    first = speakers[0]
    assert ctx.liaisons.claim([first.id], rec.id) == first.id  # ...right after claiming a liaison
    dispatcher.sweeper.sweep()
    assert ctx.liaisons.status(first.id).state == RINGING, "not freed before the grace period"
    assert telephony.calls == [] and ctx.requests.get(rec.id).state == State.QUEUED
    later(ctx.settings.grace_seconds + ctx.settings.queued_stuck_after + 0.1)
    dispatcher.sweeper.sweep()
    rec = ctx.requests.get(rec.id)
    assert rec.state == State.OFFERING, "the sweeper routed the orphaned request"
    assert [c.to for c in telephony.calls] == [ctx.roster.liaison(rec.offer_liaison).phone], "one offer, one call"
    assert ctx.liaisons.status(first.id).state == IDLE, "the stuck claim was freed"
    assert ctx.liaisons.status(first.id).available_at == 1000, "keeping their place in line"


def test_killed_between_offer_ended_and_release_the_liaison_is_freed(ctx, jobs, telephony, later, wiring):
    dispatcher = wiring
    rec = _queued_spanish(ctx, dispatcher)
    jobs.drain()
    rec = ctx.requests.get(rec.id)
    liaison = rec.offer_liaison
    # The transition is written; the worker dies before freeing the liaison and routing.
    ctx.requests.apply(
        rec.id,
        "offer_ended",
        guard=("offer_id", rec.offer_id),
        fields={"offer_id": None, "offer_liaison": None, "offer_call": None, "offer_at": None},
        data={"liaison": liaison, "outcome": "no-answer"},
        deadline=clock.now() + ctx.settings.queued_stuck_after,
    )
    later(ctx.settings.queued_stuck_after + 0.1)
    dispatcher.sweeper.sweep()
    rec = ctx.requests.get(rec.id)
    assert rec.state == State.OFFERING and rec.offer_liaison != liaison, "re-routed to the next liaison"
    # They were rung, so their phone may still be on our call: freed once an offer's
    # longest life has passed (ring + whisper + grace), not just the grace period.
    assert ctx.liaisons.status(liaison).state == RINGING
    later(offer_bound(ctx.settings) + 0.1)
    dispatcher.sweeper.sweep()
    assert ctx.liaisons.status(liaison).state == IDLE
    rec = ctx.requests.get(rec.id)
    assert rec.state == State.OFFERING and rec.offer_liaison != liaison, "re-routed to the next liaison"
    assert [c.to for c in telephony.calls].count(ctx.roster.liaison(liaison).phone) == 1


def test_killed_after_choosing_the_vendor_before_dialling_the_sweeper_dials_the_alternate(
    ctx, jobs, telephony, later, wiring
):
    dispatcher = wiring
    rec = _queued_spanish(ctx, dispatcher)
    jobs.submitted.clear()
    ctx.requests.apply(
        rec.id,
        "vendor_dial",
        fields={"vendor_token": "t0", "vendor_attempt": "main", "vendor_at": clock.now()},
        data={"reason": "urgent"},
        deadline=clock.now() + vendor_bound(ctx.settings),
    )
    s = ctx.settings
    later(s.vendor_ring_timeout + s.grace_seconds + 0.1)
    dispatcher.sweeper.sweep()
    rec = ctx.requests.get(rec.id)
    assert rec.state == State.VENDOR_DIALING and rec.vendor_attempt == "alternate"
    assert jobs.submitted == [("dial_vendor", (rec.id, rec.vendor_token))]
    jobs.drain()
    assert [c.to for c in telephony.calls] == [ctx.roster.vendor.alternate]


def test_killed_between_accept_and_marking_on_call_the_sweeper_marks_it(ctx, jobs, telephony, later, wiring):
    dispatcher = wiring
    rec = _queued_spanish(ctx, dispatcher)
    jobs.drain()
    rec = ctx.requests.get(rec.id)
    ctx.requests.apply(
        rec.id,
        "liaison_connected",
        guard=("offer_id", rec.offer_id),
        fields={"handler_kind": "liaison", "handler_id": rec.offer_liaison, "handler_call": telephony.sids[-1]},
        deadline=None,
    )
    later(ctx.settings.grace_seconds + 0.1)
    dispatcher.sweeper.sweep()
    status = ctx.liaisons.status(rec.offer_liaison)
    assert status.state == ON_CALL and status.request == rec.id
    assert len(telephony.calls) == 1
