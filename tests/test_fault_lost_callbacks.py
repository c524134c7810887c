"""Ghost calls: the final status callbacks of a connected call never arrive.

Twilio does not retry status callbacks; with the web process down or restarting, the
ones that end a call are simply lost, and the request used to stay "connected" and its
liaison "on a call" for good. End to end on a private stack (its own Redis, web app, two
real RQ workers, the simulator) with a short RECONCILE_SECONDS: the simulator loses every
status callback while the officer hangs up, and the reconciler, asking the network
itself, closes the request and frees the liaison within its bound, who then takes the
next call. A second stack shows ghosts left by a restart closed as a worker starts.
"""

from __future__ import annotations

import time

import pytest

from dispatch import clock
from dispatch.languages import default_catalog
from dispatch.liaisons import IDLE, ON_CALL, LiaisonBoard
from dispatch.requests import RequestStore
from dispatch.states import State
from simulator.calls import TERMINAL
from tests.support.faults import SCHEDULING_SLACK, history_times, private_stack, wait_until

pytestmark = pytest.mark.e2e

RECONCILE_SECONDS = 1.0


@pytest.fixture(scope="module")
def rstack():
    with private_stack(reconcile_seconds=RECONCILE_SECONDS) as running:
        yield running


@pytest.fixture
def stack(rstack):
    rstack.reset()
    yield rstack


def _one_spanish_speaker_on_duty(stack):
    """Who takes a Spanish call is then beyond doubt: this liaison, who accepts."""
    liaison, *others = [speaker for speaker in stack.roster.liaisons if "spa" in speaker.languages]
    for other in others:
        LiaisonBoard(stack.redis).set_duty(other.id, False)
    stack.sim.set_parties({liaison.phone: {"answer": "after", "answer_after": 0.1, "inputs": [{"digits": "1"}]}})
    return liaison


def _asks_for_spanish(stack, line: str) -> str:
    return stack.sim.place_call(
        line,
        stack.roster.service_number,
        inputs=[{"digits": default_catalog().get("spa").keypad + "#"}, {"digits": "1"}],
    )


def test_lost_final_callbacks_the_reconciler_frees_the_liaison_for_the_next_call(stack):
    s = stack.settings
    liaison = _one_spanish_speaker_on_duty(stack)
    call = _asks_for_spanish(stack, stack.roster.precincts[0].lines[0])
    rec = stack.wait_request(lambda r: r.state == State.CONNECTED, what="connected to the liaison")
    assert rec.handler_id == liaison.id
    stack.sim.wait_for(
        lambda: [c for c in stack.sim.conferences() if c["name"] == rec.conference and len(c["participants"]) == 2],
        timeout=10,
    )

    # The service hears nothing more from the network: the officer hangs up, then the
    # liaison, the room ends, and every status callback of it is lost.
    stack.sim.faults(lose_callbacks=[{"count": 1000}])
    hung_up = time.time()
    stack.sim.hangup(call)
    [leg] = [c["sid"] for c in stack.sim.calls() if c["to"] == liaison.phone and c["status"] == "in-progress"]
    stack.sim.hangup(leg)
    stack.sim.wait_for(lambda: all(c["status"] in TERMINAL for c in stack.sim.calls()), timeout=10)
    lost = [e["text"] for e in stack.sim.log() if e["text"].endswith("lost (fault)")]
    assert "status callback (completed) lost (fault)" in lost and any("conference-end" in t for t in lost)
    stack.sim.clear_faults()

    # A connected call is asked about once connected RECONCILE_SECONDS; runs come every
    # RECONCILE_SECONDS: closed within two of them of the hang-up.
    bound = 2 * RECONCILE_SECONDS + SCHEDULING_SLACK
    done = stack.wait_request(
        lambda r: r.id == rec.id and r.state == State.COMPLETED,
        timeout=bound + 5,
        what="the ghost closed by the reconciler",
    )
    [(closed_at, event, data)] = [h for h in history_times(stack, rec.id) if h[1].startswith(("complete", "reconcile"))]
    assert event == "reconcile_complete" and data["ended_by"] == "reconciled"
    assert data["interpreter_call"] == "completed" and data["officer_call"] == "completed"
    assert done.outcome == "ended (reconciled)"
    assert closed_at - hung_up <= bound, f"closed {closed_at - hung_up:.2f}s after the hang-up (bound {bound}s)"
    print(f"\nghost closed {closed_at - hung_up:.2f}s after the hang-up (bound {bound:.1f}s)")
    # Freed just after the request closed (the same job, its next write), then the usual wrap-up.
    board = LiaisonBoard(stack.redis)
    wait_until(lambda: board.status(liaison.id).state != ON_CALL, timeout=SCHEDULING_SLACK, what="the liaison freed")
    wait_until(
        lambda: board.status(liaison.id).state == IDLE,
        timeout=s.wrapup_seconds + SCHEDULING_SLACK,
        what="the liaison's wrap-up over",
    )

    # The liaison takes the next call.
    _asks_for_spanish(stack, stack.roster.precincts[1].lines[0])
    nxt = stack.wait_request(
        lambda r: r.id != rec.id and r.state == State.CONNECTED, timeout=10, what="the next call connected"
    )
    assert nxt.handler_id == liaison.id
    assert [e for _, e, _ in history_times(stack, nxt.id)] == ["created", "offer", "liaison_connected"]


def test_ghosts_left_by_a_restart_are_closed_as_a_worker_starts():
    """Calls that ended while nothing was up to hear it: connected records and an "on a
    call" liaison are waiting for the workers when they start. The period is an hour, so
    only the run each worker asks for at start can close them."""
    with private_stack(reconcile_seconds=3600.0) as stack:
        store = RequestStore(stack.redis, stack.settings.retention_seconds)
        liaison = stack.roster.liaisons[0]
        an_hour_ago = clock.now() - 3600
        ghosts = []
        for n in range(3):
            rec = store.create(
                {
                    "channel": "voice",
                    "language": "spa",
                    "language_name": "Spanish",
                    "officer_call": f"CA{n:032d}",
                    "caller": stack.roster.precincts[0].lines[0],
                    "precinct": stack.roster.precincts[0].id,
                },
                state=State.QUEUED,
            )
            store.apply(rec.id, "vendor_dial")
            kind = ("liaison", liaison.id) if n == 0 else ("vendor", "vendor")
            store.apply(
                rec.id,
                "vendor_connected",
                fields={
                    "handler_kind": kind[0],
                    "handler_id": kind[1],
                    "handler_call": f"CA{n + 10:032d}",
                    "connected_at": an_hour_ago,
                },
            )
            ghosts.append(rec.id)
        board = LiaisonBoard(stack.redis)
        board.mark_on_call(liaison.id, ghosts[0])

        stack.start_worker()
        wait_until(
            lambda: all(stack.request(g).state == State.COMPLETED for g in ghosts),
            timeout=20,
            what="ghosts closed by the starting worker",
        )
        for g in ghosts:
            assert [e for _, e, _ in history_times(stack, g)][-1] == "reconcile_complete"
            assert history_times(stack, g)[-1][2]["interpreter_call"] == "unknown"
        wait_until(
            lambda: board.status(liaison.id).state != ON_CALL,
            timeout=SCHEDULING_SLACK,
            what="the ghost's liaison freed",
        )
