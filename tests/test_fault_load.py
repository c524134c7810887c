"""Fault 5: 200 requests arriving at once, 2 workers, 5 liaisons.

A private stack (its own Redis, web app, two `python -m workers.worker` processes, the
simulator) on tests/data/roster_five_liaisons.yaml: five Spanish-speaking liaisons, no
one else. 200 Spanish requests are opened at once from eight threads, so the two
workers and the sweeper race for the same five phones. The liaisons accept, decline
or let it ring, and hang up quickly; the vendor takes the rest.

Asserted from two independent records: the simulator's own call list (no liaison's
phone ever had two calls live at once) and the request histories (no liaison was
ever holding two offers or calls at once, never offered the same request twice); and
every request ends connected (then completed), failed or abandoned — none left
waiting — within a bound computed from the settings.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from dispatch.states import TERMINAL, State
from tests.support.faults import SCHEDULING_SLACK, history_times, overlaps, private_stack

# With `make test`'s four processes, the heaviest stacks run one after another (--dist loadgroup).
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("heavy")]

ROSTER = str(Path(__file__).parent / "data" / "roster_five_liaisons.yaml")
REQUESTS = 200
# 200 calls' webhooks and the simulator share one Python process here, so a webhook can
# take a second or two: the ring and window settings leave room for that (they are still
# far below production's), and every bound below is computed from them.
SETTINGS = dict(
    liaison_ring_timeout=4,
    whisper_timeout=2,
    liaison_window=10.0,
    vendor_ring_timeout=8,
    grace_seconds=1.0,
    wrapup_seconds=0.1,
    queued_stuck_after=2.0,
)
TALK = 3.0  # seconds an interpreter stays on the line once answered

# The events that end a liaison's hold on a request (history names).
_ENDS_OFFER = {"offer_ended", "vendor_dial", "abandon", "cancel", "fail"}
_ENDS_CALL = {"complete", "abandon", "cancel", "fail"}


def _liaison_spans(stack, request_ids) -> dict[str, list[tuple[float, float, str]]]:
    """Per liaison: (from, to, request) for every offer and accepted call, from histories."""
    spans: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
    for rid in request_ids:
        steps = history_times(stack, rid)
        holding: tuple[str, float] | None = None
        connected = False
        for ts, event, data in steps:
            if event == "offer":
                holding, connected = (data["liaison"], ts), False
            elif event == "liaison_connected" and holding:
                connected = True
            elif holding and (event in _ENDS_CALL if connected else event in _ENDS_OFFER):
                spans[holding[0]].append((holding[1], ts, rid))
                holding = None
        if holding:
            spans[holding[0]].append((holding[1], float("inf"), rid))
    return spans


def _procfile_web_concurrency() -> int:
    from launcher.procfile import command, option

    _, argv = command("web", {})
    return int(option(argv, "--workers")) * int(option(argv, "--threads"))


def _serve_like_the_procfile(stack) -> None:
    """The test web server starts a thread per request, without limit; production runs
    the Procfile's gunicorn workers x threads (2 x 2), so only that many webhooks run at
    once and the rest wait at the socket. Do the same here, or a 200-call burst exhausts
    the web process's Redis connection pool (100) — something production cannot reach."""
    inner = stack._server.app  # type: ignore[attr-defined]
    gate = threading.BoundedSemaphore(_procfile_web_concurrency())

    def app(environ, start_response):  # type: ignore[no-untyped-def]
        with gate:
            return list(inner(environ, start_response))

    stack._server.app = app  # type: ignore[attr-defined]


def test_200_requests_at_once_never_double_book_a_liaison_and_all_end():
    with private_stack(roster_file=ROSTER, **SETTINGS) as stack:
        _serve_like_the_procfile(stack)
        s = stack.settings
        liaisons = stack.roster.liaisons
        assert len(liaisons) == 5
        talk = {"answer": "after", "answer_after": 0.1, "hangup_after": TALK}
        stack.sim.set_parties(
            {
                liaisons[0].phone: dict(talk, inputs=[{"digits": "1"}]),
                liaisons[1].phone: dict(talk, inputs=[{"digits": "1"}]),
                liaisons[2].phone: dict(talk, inputs=[{"digits": "1"}]),
                liaisons[3].phone: {"answer": "after", "answer_after": 0.1, "inputs": [{"digits": "2"}]},
                liaisons[4].phone: {"answer": "never"},
                stack.roster.vendor.number: talk,
                stack.roster.vendor.alternate: talk,
            }
        )

        from bootstrap import bootstrap
        from dispatch.roster import Caller

        dispatcher = bootstrap(s)  # another web process: its jobs go to the stack's RQ workers
        ctx = dispatcher.ctx
        precinct = stack.roster.precincts[0]
        spanish = ctx.catalog.get("spa")

        def open_one(n: int) -> str:
            caller = Caller(precinct.lines[n % 2], "precinct", precinct.id)
            return dispatcher.intake.open_request(caller, spanish).id

        started = time.time()
        with ThreadPoolExecutor(8) as pool:
            ids = list(pool.map(open_one, range(REQUESTS)))
        opened_in = time.time() - started
        assert len(set(ids)) == REQUESTS

        # Every request: at most the liaison window, then the vendor's main number and its
        # alternate, each bounded by the sweeper; plus queue hand-over.
        vendor_bound = s.vendor_ring_timeout + s.grace_seconds
        bound = s.liaison_window + 2 * vendor_bound + 2 * s.sweep_interval + SCHEDULING_SLACK
        deadline = started + bound
        waiting: list = []
        while time.time() < deadline:
            records = ctx.requests.get_many(ids)
            waiting = [r for r in records if r.waiting]
            if not waiting:
                break
            time.sleep(0.2)
        all_out = time.time() - started
        assert waiting == [], f"{len(waiting)} still waiting after {bound:.1f}s: " + ", ".join(
            f"{r.id} {r.state.value}" for r in waiting[:10]
        )

        # Let the connected calls play out: interpreters hang up TALK seconds after answering.
        end_by = time.time() + TALK + 10
        while time.time() < end_by and any(r.state == State.CONNECTED for r in ctx.requests.get_many(ids)):
            time.sleep(0.2)
        records = ctx.requests.get_many(ids)
        states = defaultdict(int)
        for rec in records:
            states[rec.state.value] += 1
        assert all(r.state in TERMINAL for r in records), dict(states)
        assert all(r.state in (State.COMPLETED, State.FAILED, State.ABANDONED) for r in records), dict(states)
        by_liaison = sum(1 for r in records if r.handler_kind == "liaison")
        by_vendor = sum(1 for r in records if r.handler_kind == "vendor")

        calls = stack.sim.calls()
        phones = {liaison.phone for liaison in liaisons}
        assert overlaps(calls, phones) == [], "a liaison's phone had two calls at once"

        spans = _liaison_spans(stack, ids)
        double = []
        for liaison, held in spans.items():
            held.sort()
            for (_a0, a1, ra), (b0, _b1, rb) in itertools.pairwise(held):
                if b0 < a1:
                    double.append(f"{liaison}: {rb} offered at {b0:.3f} while holding {ra} until {a1:.3f}")
        assert double == [], double[:5]
        for rid in ids:
            offered = [d["liaison"] for _, e, d in history_times(stack, rid) if e == "offer"]
            assert len(offered) == len(set(offered)), f"{rid} offered twice to one liaison: {offered}"

        offers = sum(len(v) for v in spans.values())
        liaison_calls = [c for c in calls if c["number"] in phones]
        assert offers >= 5 and len(liaison_calls) == offers, (offers, len(liaison_calls))
        print(
            f"\n{REQUESTS} requests opened in {opened_in:.2f}s; none waiting after {all_out:.2f}s "
            f"(bound {bound:.2f}s); {offers} liaison offers ({len(liaison_calls)} liaison calls), "
            f"{by_liaison} by a liaison, {by_vendor} by the vendor; final states {dict(states)}"
        )


# ---------------------------------------------------------------- the two races the load test found


def test_a_stale_route_does_not_send_a_just_offered_request_to_the_vendor(ctx, jobs, telephony, wiring):
    """Two routes of one request (the job and the sweeper) race: the one that read it
    QUEUED must not move it to the vendor after the other offered it, or the offered
    liaison is left ringing, held for a request that no longer offers them."""
    from dispatch.roster import Caller

    dispatcher = wiring
    precinct = ctx.roster.precincts[0]
    rec = dispatcher.intake.open_request(
        Caller(precinct.lines[0], "precinct", precinct.id), ctx.catalog.get("spa"), officer_call="CA" + "1" * 32
    )
    stale = ctx.requests.get(rec.id)
    jobs.drain()  # the other route: offered
    offered = ctx.requests.get(rec.id)
    assert offered.state == State.OFFERING
    dispatcher.vendor.to_vendor(stale, "no liaison available")
    now = ctx.requests.get(rec.id)
    assert now.state == State.OFFERING and now.offer_id == offered.offer_id
    assert ctx.liaisons.status(offered.offer_liaison).request == rec.id
    assert [c.to for c in telephony.calls] == [ctx.roster.liaison(offered.offer_liaison).phone]
    dispatcher.vendor.to_vendor(now, "liaison window closed")  # with the current record it does go
    assert ctx.requests.get(rec.id).state == State.VENDOR_DIALING
    assert telephony.hangups == [telephony.sids[0]]
    assert ctx.liaisons.status(offered.offer_liaison).state == "idle"


def test_a_liaison_who_declined_is_not_offered_again_until_their_phone_hangs_up(
    client, ctx, jobs, telephony, settings, wiring
):
    """Pressing 2 leaves the liaison on our call ("Declined. Thank you.") for a moment;
    a new offer must not ring them until that call has ended."""
    from urllib.parse import urlsplit

    from dispatch.roster import Caller
    from tests.support.signing import signed_post

    dispatcher = wiring
    speakers = dispatcher.offers.candidates("spa")
    only = speakers[0]
    for other in speakers[1:]:
        ctx.liaisons.set_duty(other.id, False)
    precinct = ctx.roster.precincts[0]

    def request(n: int) -> str:
        rec = dispatcher.intake.open_request(
            Caller(precinct.lines[0], "precinct", precinct.id), ctx.catalog.get("spa"), officer_call=f"CA{n:032d}"
        )
        jobs.drain()
        return rec.id

    first = request(1)
    offer = telephony.calls[-1]
    assert offer.to == only.phone
    answer = urlsplit(offer.url)
    reply = signed_post(
        client,
        settings,
        answer.path.replace("/voice/offer", "/voice/offer/answer") + "?" + answer.query,
        {"CallSid": telephony.sids[-1], "Digits": "2"},
    )
    assert b"Declined" in reply.data
    second = request(2)
    assert ctx.requests.get(second).state == State.VENDOR_DIALING, "not offered to the liaison still on the line"
    assert [c.to for c in telephony.calls].count(only.phone) == 1
    status = urlsplit(offer.status_callback)
    signed_post(
        client, settings, status.path + "?" + status.query, {"CallSid": telephony.sids[0], "CallStatus": "completed"}
    )
    assert ctx.liaisons.status(only.id).state == "idle", "freed once their phone hung up"
    third = request(3)
    assert ctx.requests.get(third).offer_liaison == only.id
    assert ctx.requests.get(first).state == State.VENDOR_DIALING


def test_a_declined_liaison_whose_call_never_reports_is_freed_by_the_sweeper(ctx, jobs, telephony, monkeypatch, wiring):
    from dispatch import clock
    from dispatch.roster import Caller
    from dispatch.settings import offer_bound

    dispatcher = wiring
    precinct = ctx.roster.precincts[0]
    rec = dispatcher.intake.open_request(
        Caller(precinct.lines[0], "precinct", precinct.id), ctx.catalog.get("spa"), officer_call="CA" + "3" * 32
    )
    jobs.drain()
    rec = ctx.requests.get(rec.id)
    dispatcher.offer_outcomes.offer_reply(rec.id, rec.offer_id, rec.offer_liaison, "2", telephony.sids[-1])
    dispatcher.sweeper.sweep()
    assert ctx.liaisons.status(rec.offer_liaison).state == "ringing", "held while their phone may be live"
    real = clock.now
    monkeypatch.setattr(clock, "now", lambda: real() + ctx.settings.grace_seconds + 0.1)
    dispatcher.sweeper.sweep()
    assert ctx.liaisons.status(rec.offer_liaison).state == "ringing", "their call may still be live"
    monkeypatch.setattr(clock, "now", lambda: real() + offer_bound(ctx.settings) + 0.1)
    dispatcher.sweeper.sweep()
    assert ctx.liaisons.status(rec.offer_liaison).state == "idle"
