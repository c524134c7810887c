"""Routing rules at the domain level: real Redis, fake phone network, jobs run inline."""

from __future__ import annotations

import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from dispatch import keys
from dispatch.liaisons import RINGING
from dispatch.roster import Caller
from dispatch.states import State
from dispatch.telephony import TelephonyError


@pytest.fixture
def d(wiring):
    """The services (bootstrap.Wiring): d.intake, d.offers, d.vendor, d.sweeper, ..."""
    return wiring


def caller(ctx) -> Caller:
    p = ctx.roster.precincts[0]
    return Caller(p.lines[0], "precinct", p.id)


def speakers(ctx, lang: str):
    return [liaison for liaison in ctx.roster.liaisons if lang in liaison.languages]


def open_and_route(d, ctx, jobs, lang="spa", **kw):
    rec = d.intake.open_request(caller(ctx), ctx.catalog.get(lang) if lang else None, **kw)
    jobs.drain()
    return ctx.requests.get(rec.id)


def test_concurrent_deliveries_of_one_confirmation_open_one_request(d, ctx):
    results = []

    def go():
        results.append(d.intake.open_request(caller(ctx), ctx.catalog.get("spa"), officer_call="CA" + "1" * 32).id)

    threads = [threading.Thread(target=go) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1
    assert ctx.requests.open_ids() == [results[0]]


def test_offers_the_longest_idle_speaker_on_duty(d, ctx, jobs, telephony):
    first, second = speakers(ctx, "spa")[:2]
    ctx.redis.zadd(keys.LIAISONS_AVAILABLE, {second.id: 1, first.id: 2})
    rec = open_and_route(d, ctx, jobs)
    assert rec.state == State.OFFERING and rec.offer_liaison == second.id
    assert telephony.calls[-1].to == second.phone
    assert telephony.calls[-1].timeout == ctx.settings.liaison_ring_timeout


def test_duty_and_language_overrides_decide_who_is_offered(d, ctx, jobs, telephony):
    spa = speakers(ctx, "spa")
    for liaison in spa:
        ctx.liaisons.set_duty(liaison.id, False)
    other = next(liaison for liaison in ctx.roster.liaisons if "spa" not in liaison.languages)
    ctx.liaisons.set_languages(other.id, ["spa"])
    rec = open_and_route(d, ctx, jobs)
    assert rec.offer_liaison == other.id


def test_nobody_on_duty_goes_to_the_vendor_with_its_language_code(d, ctx, jobs, telephony):
    for liaison in ctx.roster.liaisons:
        ctx.liaisons.set_duty(liaison.id, False)
    rec = open_and_route(d, ctx, jobs)
    assert rec.state == State.VENDOR_DIALING
    call = telephony.calls[-1]
    assert call.to == ctx.roster.vendor.number and call.send_digits == d.vendor.dtmf("spa")
    assert ctx.catalog.get("spa").vendor_code in call.send_digits or ctx.roster.vendor.language_codes.get("spa")


def test_urgent_and_unknown_language_skip_liaisons(d, ctx, jobs, telephony):
    urgent = open_and_route(d, ctx, jobs, urgent=True)
    unknown = open_and_route(d, ctx, jobs, lang=None)
    assert urgent.state == unknown.state == State.VENDOR_DIALING
    assert telephony.calls[-1].send_digits == ctx.roster.vendor.dtmf_for(ctx.roster.vendor.unknown_language_code)
    assert all(c.to in (ctx.roster.vendor.number,) for c in telephony.calls)


def test_a_failed_dial_keeps_the_liaisons_place_and_tries_the_next(ctx, jobs, telephony, rewire):
    first, second = speakers(ctx, "spa")[:2]
    ctx.redis.zadd(keys.LIAISONS_AVAILABLE, {first.id: 1, second.id: 2})

    class Flaky(type(telephony)):
        def place_call(self, call):
            if call.to == first.phone:
                raise TelephonyError("500 after 3 tries", status=500)
            return super().place_call(call)

    d = rewire(telephony=Flaky())
    rec = open_and_route(d, ctx, jobs)
    assert rec.offer_liaison == second.id
    assert ctx.liaisons.status(first.id).state == "idle"
    outcomes = [h["data"].get("outcome") for h in ctx.requests.history(rec.id) if h["event"] == "offer_ended"]
    assert outcomes == ["dial-failed"], "the sergeants see why the first offer ended"


def test_sweeper_ends_an_offer_nobody_answered_and_offers_the_next(ctx, jobs, telephony, rewire):
    d = rewire(liaison_ring_timeout=1, whisper_timeout=1, grace_seconds=0.1)
    rec = open_and_route(d, ctx, jobs)
    first = rec.offer_liaison
    ctx.requests.set_fields(rec.id, {"offer_at": time.time() - 10})
    ctx.requests.set_deadline(rec.id, 0)
    d.sweeper.sweep()
    jobs.drain()
    rec = ctx.requests.get(rec.id)
    assert rec.state == State.OFFERING and rec.offer_liaison != first
    assert telephony.sids[0] in telephony.hangups, "the unanswered phone is hung up"


def test_an_unanswered_offer_queues_the_next_offer_before_the_liaisons_missed_call_text(ctx, jobs, rewire):
    """With one worker left, the jobs run in order: the officer's wait must not include the text."""
    d = rewire(liaison_ring_timeout=1, whisper_timeout=1, grace_seconds=0.1)
    rec = open_and_route(d, ctx, jobs)
    ctx.requests.set_fields(rec.id, {"offer_at": time.time() - 10})
    ctx.requests.set_deadline(rec.id, 0)
    d.sweeper.sweep()
    tasks = [task for task, _ in jobs.submitted]
    assert "text_liaison" in tasks, "the liaison is told they missed it"
    assert tasks.index("route") < tasks.index("text_liaison"), tasks


def test_sweeper_sends_to_the_vendor_when_the_window_closes(d, ctx, jobs, telephony):
    rec = open_and_route(d, ctx, jobs)
    ctx.requests.set_fields(rec.id, {"queued_at": time.time() - ctx.settings.liaison_window - 1})
    ctx.requests.set_deadline(rec.id, 0)
    d.sweeper.sweep()
    rec = ctx.requests.get(rec.id)
    assert rec.state == State.VENDOR_DIALING
    assert ctx.liaisons.status(parse_qs(urlsplit(telephony.calls[0].url).query)["liaison"][0]).state == "idle"


def test_sweeper_requeues_a_request_whose_routing_job_was_lost(d, ctx, jobs, telephony):
    rec = d.intake.open_request(caller(ctx), ctx.catalog.get("spa"))
    jobs.submitted.clear()  # the job vanished with a dead worker
    ctx.requests.set_deadline(rec.id, 0)
    d.sweeper.sweep()
    assert ctx.requests.get(rec.id).state == State.OFFERING


def test_sweeper_leaves_a_request_still_waiting_for_its_routing_to_the_worker_that_will_route_it(
    d, ctx, jobs, telephony
):
    """A surge's backlog outlives QUEUED_STUCK_AFTER: the sweeper must not ring a second
    phone, nor do the routing work a second time, for a request a worker is about to route."""
    rec = d.intake.open_request(caller(ctx), ctx.catalog.get("spa"))
    ctx.requests.set_deadline(rec.id, 0)
    d.sweeper.sweep()
    assert ctx.requests.get(rec.id).state == State.QUEUED
    assert telephony.calls == []
    assert ctx.requests.due(time.time() + ctx.settings.queued_stuck_after + 1) == [rec.id], "looked at again later"
    jobs.drain()
    assert ctx.requests.get(rec.id).state == State.OFFERING
    assert len(telephony.calls) == 1


def test_sweeper_moves_a_silent_vendor_dial_to_the_alternate_then_fails(d, ctx, jobs, telephony):
    rec = open_and_route(d, ctx, jobs, lang=None)
    for expected in (ctx.roster.vendor.alternate, None):
        ctx.requests.set_fields(rec.id, {"vendor_at": time.time() - 100})
        ctx.requests.set_deadline(rec.id, 0)
        d.sweeper.sweep()
        jobs.drain()  # the alternate is dialled by a job, not inside the sweep
        if expected:
            assert telephony.calls[-1].to == expected
    final = ctx.requests.get(rec.id)
    assert final.state == State.FAILED and "timeout" in final.outcome


def test_a_liaison_claimed_by_a_worker_that_died_is_freed_after_grace(d, ctx):
    liaison = ctx.roster.liaisons[0]
    assert ctx.liaisons.claim([liaison.id], "R09999") == liaison.id
    ctx.redis.hset(keys.liaison(liaison.id), "since", time.time() - ctx.settings.grace_seconds - 1)
    d.sweeper.sweep()
    assert ctx.liaisons.status(liaison.id).state == "idle"


def test_a_ringing_liaison_is_not_freed_while_their_offer_is_live(d, ctx, jobs):
    rec = open_and_route(d, ctx, jobs)
    ctx.redis.hset(keys.liaison(rec.offer_liaison), "since", time.time() - 60)
    d.sweeper.free_stuck_liaisons()
    assert ctx.liaisons.status(rec.offer_liaison).state == RINGING


def test_place_in_line_counts_waiting_requests_for_the_same_language(d, ctx):
    for liaison in ctx.roster.liaisons:
        ctx.liaisons.set_duty(liaison.id, False)
    a = d.intake.open_request(caller(ctx), ctx.catalog.get("spa"))
    b = d.intake.open_request(caller(ctx), ctx.catalog.get("rus"))
    c = d.intake.open_request(caller(ctx), ctx.catalog.get("spa"))
    assert [d.intake.position(ctx.requests.get(x.id)) for x in (a, b, c)] == [1, 1, 2]


def test_place_in_line_moves_up_as_those_ahead_are_served_or_leave(d, ctx):
    for liaison in ctx.roster.liaisons:
        ctx.liaisons.set_duty(liaison.id, False)
    first, second, third = (d.intake.open_request(caller(ctx), ctx.catalog.get("spa")) for _ in range(3))
    unknown = d.intake.open_request(caller(ctx), None)
    assert [d.intake.position(ctx.requests.get(x.id)) for x in (first, second, third, unknown)] == [1, 2, 3, 1]
    ctx.requests.apply(first.id, "cancel", deadline=None)
    ctx.requests.apply(second.id, "offer", fields={"offer_id": "o1"})  # still waiting: still in line
    assert [d.intake.position(ctx.requests.get(x.id)) for x in (second, third)] == [1, 2]
    ctx.requests.apply(second.id, "liaison_connected", fields={"handler_kind": "liaison"}, deadline=None)
    assert d.intake.position(ctx.requests.get(third.id)) == 1


def test_place_in_line_is_one_read_however_many_requests_are_open(d, ctx, monkeypatch):
    """Every hold prompt asks: it must not read every open request to answer."""
    for liaison in ctx.roster.liaisons:
        ctx.liaisons.set_duty(liaison.id, False)
    opened = [d.intake.open_request(caller(ctx), ctx.catalog.get("spa")) for _ in range(40)]

    def read_all(*args, **kwargs):
        raise AssertionError("read every open request")

    monkeypatch.setattr(ctx.requests, "get_many", read_all)
    assert d.intake.position(ctx.requests.get(opened[-1].id)) == 40


def test_the_alternate_is_dialled_once_even_if_its_job_runs_twice_or_late(d, ctx, jobs, telephony):
    """vendor_failed moves to the alternate in the callback and leaves the dial to a job:
    a repeated job, or one for an attempt that has moved on, places no second call."""
    rec = open_and_route(d, ctx, jobs, lang=None)
    d.vendor.vendor_call_ended(rec.id, ctx.requests.get(rec.id).vendor_token, telephony.sids[-1], "busy")
    [(task, args)] = jobs.submitted
    assert task == "dial_vendor" and len(telephony.calls) == 1
    d.vendor.dial_vendor(*args)
    d.vendor.dial_vendor(*args)
    assert [c.to for c in telephony.calls] == [ctx.roster.vendor.number, ctx.roster.vendor.alternate]
    d.vendor.dial_vendor(rec.id, "an-older-token")
    assert len(telephony.calls) == 2
