"""PARALLEL_OFFERS: several liaisons rung at once, the first to press 1 takes the request, the
others hear it was taken and are free at once, in their place in line. Real Redis, the fake
phone network, jobs run inline; the liaisons' webhooks signed as Twilio signs them."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from dispatch import keys
from dispatch.liaisons import IDLE, ON_CALL, RINGING
from dispatch.offer_outcomes import OfferReply
from dispatch.roster import Caller
from dispatch.states import State
from tests.support.voice import said, voice

FIVE = str(Path(__file__).parent / "data" / "roster_five_liaisons.yaml")  # five Spanish speakers
pytestmark = pytest.mark.settings(parallel_offers=2, roster_file=FIVE)


@pytest.fixture
def d(wiring):
    return wiring


def spanish(ctx):
    return [liaison for liaison in ctx.roster.liaisons if "spa" in liaison.languages]


def open_round(d, ctx, jobs, telephony):
    """A Spanish request routed with the three Spanish speakers idle in a known order: the
    record and the round's calls by liaison id ({liaison: (sid, offer URL)})."""
    first, second, third = spanish(ctx)[:3]
    ctx.redis.zadd(keys.LIAISONS_AVAILABLE, {first.id: 1, second.id: 2, third.id: 3})
    p = ctx.roster.precincts[0]
    rec = d.intake.open_request(Caller(p.lines[0], "precinct", p.id), ctx.catalog.get("spa"))
    jobs.drain()
    rung = {}
    for call, sid in zip(telephony.calls, telephony.sids, strict=True):
        rung[parse_qs(urlsplit(call.url).query)["liaison"][0]] = (sid, call.url)
    return ctx.requests.get(rec.id), rung


def where(url: str) -> tuple[str, str, str]:
    q = parse_qs(urlsplit(url).query)
    return q["request"][0], q["offer"][0], q["liaison"][0]


def test_the_two_longest_idle_speakers_are_rung_at_once(d, ctx, jobs, telephony):
    first, second, third = spanish(ctx)[:3]
    rec, rung = open_round(d, ctx, jobs, telephony)
    assert rec.state == State.OFFERING and rec.offer_liaison == first.id
    assert set(rung) == {first.id, second.id}, "longest idle first, two at once"
    assert len({where(url)[1] for _, url in rung.values()}) == 1, "one round, one token"
    assert ctx.liaisons.status(first.id).state == RINGING and ctx.liaisons.status(second.id).state == RINGING
    assert ctx.liaisons.status(third.id).state == IDLE


def test_the_first_to_press_1_takes_it_and_the_other_hears_it_was_taken(d, ctx, jobs, telephony, client, settings):
    first, second = spanish(ctx)[:2]
    rec, rung = open_round(d, ctx, jobs, telephony)
    # Both pick up and hear the whisper; the second presses 1 first.
    for liaison in (first, second):
        sid, url = rung[liaison.id]
        assert "Press 1 to accept" in said(voice(client, settings, url, CallSid=sid))
    sid, url = rung[second.id]
    request_id, offer_id, _ = where(url)
    answer = d.offer_outcomes.offer_reply(request_id, offer_id, second.id, "1", sid)
    assert answer.reply == OfferReply.ACCEPTED
    rec = ctx.requests.get(rec.id)
    assert rec.state == State.CONNECTED and rec.handler_id == second.id
    assert ctx.liaisons.status(second.id).state == ON_CALL
    jobs.drain()
    other_sid, other_url = rung[first.id]
    assert telephony.redirects == [(other_sid, other_url)], "the other's call is sent to hear it was taken"
    root = voice(client, settings, other_url, CallSid=other_sid)
    assert "Another interpreter has taken this request" in said(root) and root.find("Hangup") is not None
    # Their key, too late, is answered the same way and changes nothing.
    late = d.offer_outcomes.offer_reply(request_id, offer_id, first.id, "1", other_sid)
    assert late.reply == OfferReply.GONE and ctx.requests.get(rec.id).handler_id == second.id
    # Held while on our call, then free in their old place in line: not a missed offer, no wrap-up.
    assert ctx.liaisons.status(first.id).state == RINGING
    d.offer_outcomes.offer_call_ended(request_id, offer_id, first.id, other_sid, "completed")
    status = ctx.liaisons.status(first.id)
    assert status.state == IDLE and status.available_at == 1.0
    assert ctx.liaisons.status(second.id).state == ON_CALL


def test_a_phone_still_ringing_when_the_other_accepts_is_cancelled_and_free_at_once(d, ctx, jobs, telephony):
    first, second = spanish(ctx)[:2]
    _, rung = open_round(d, ctx, jobs, telephony)
    sid, url = rung[first.id]
    d.offer_outcomes.offer_reply(*where(url)[:2], first.id, "1", sid)
    assert ctx.liaisons.status(second.id).state == IDLE, "free the moment the first pressed 1"
    assert ctx.liaisons.status(second.id).available_at == 2.0, "in their place in line"
    jobs.drain()
    assert telephony.hangups == [rung[second.id][0]] and telephony.redirects == []


def test_a_decline_while_the_other_still_rings_keeps_the_request_offered(d, ctx, jobs, telephony):
    first, second, third = spanish(ctx)[:3]
    rec, rung = open_round(d, ctx, jobs, telephony)
    sid, url = rung[first.id]
    request_id, offer_id, _ = where(url)
    assert d.offer_outcomes.offer_reply(request_id, offer_id, first.id, "2", sid).reply == OfferReply.DECLINED
    assert ctx.requests.get(rec.id).state == State.OFFERING
    assert len(telephony.calls) == 2, "nobody new is rung while the second still rings"
    # The second does not answer either: now the next round, the third speaker.
    d.offer_outcomes.offer_call_ended(request_id, offer_id, second.id, rung[second.id][0], "no-answer")
    jobs.drain()
    rec = ctx.requests.get(rec.id)
    assert rec.state == State.OFFERING and rec.offer_id != offer_id and rec.offer_liaison == third.id
    outcomes = [h["data"].get("outcome") for h in ctx.requests.history(rec.id) if h["event"] == "offer_ended"]
    assert outcomes == ["no-answer"], "one round ended, once"


def test_the_officer_hanging_up_stops_every_phone_of_the_round(d, ctx, jobs, telephony):
    first, second = spanish(ctx)[:2]
    rec, rung = open_round(d, ctx, jobs, telephony)
    telephony.inbound("CA" + "7" * 32, rec.caller, ctx.roster.service_number)
    ctx.requests.set_fields(rec.id, {"officer_call": "CA" + "7" * 32})
    ctx.requests.link_call("CA" + "7" * 32, rec.id, "officer")
    d.call_ends.officer_call_ended("CA" + "7" * 32)
    jobs.drain()
    assert ctx.requests.get(rec.id).state == State.ABANDONED
    assert sorted(telephony.hangups) == sorted(sid for sid, _ in rung.values())
    assert {ctx.liaisons.status(x.id).state for x in (first, second)} == {IDLE}


def test_the_window_closing_sends_it_to_the_vendor_and_frees_both(d, ctx, jobs, telephony):
    first, second = spanish(ctx)[:2]
    rec, rung = open_round(d, ctx, jobs, telephony)
    ctx.requests.set_fields(rec.id, {"queued_at": time.time() - ctx.settings.liaison_window - 1})
    ctx.requests.set_deadline(rec.id, 0)
    d.sweeper.sweep()
    assert ctx.requests.get(rec.id).state == State.VENDOR_DIALING
    assert sorted(telephony.hangups) == sorted(sid for sid, _ in rung.values())
    assert {ctx.liaisons.status(x.id).state for x in (first, second)} == {IDLE}


def test_a_round_whose_callbacks_were_lost_is_ended_by_the_sweeper(d, ctx, jobs, telephony):
    rec, rung = open_round(d, ctx, jobs, telephony)
    ctx.requests.set_fields(rec.id, {"offer_at": time.time() - 600})
    ctx.requests.set_deadline(rec.id, 0)
    d.sweeper.sweep()
    jobs.drain()
    rec2 = ctx.requests.get(rec.id)
    assert rec2.offer_id != rec.offer_id
    assert {sid for sid, _ in rung.values()} <= set(telephony.hangups)


def test_no_liaison_is_ever_rung_for_two_requests(d, ctx, jobs, telephony):
    p = ctx.roster.precincts[0]
    opened = [d.intake.open_request(Caller(line, "precinct", p.id), ctx.catalog.get("spa")) for line in p.lines[:2] * 2]
    jobs.drain()
    ringing: dict[str, str] = {}
    for call in telephony.calls:
        request_id, _, liaison_id = where(call.url) if "liaison=" in call.url else (None, None, None)
        if liaison_id:
            assert liaison_id not in ringing, f"{liaison_id} rung for {ringing.get(liaison_id)} and {request_id}"
            ringing[liaison_id] = request_id
    assert len(ringing) == len(spanish(ctx)) == 5, "every free speaker rung once: two, two, then the last one"
    for status in ctx.liaisons.statuses(list(ringing)):
        assert status.state == RINGING and status.request == ringing[status.id]
    assert len(opened) == 4


def test_the_first_dial_is_stamped_once_for_the_sergeants_split_of_the_wait(d, ctx, jobs, telephony):
    rec, rung = open_round(d, ctx, jobs, telephony)
    first_dial = rec.dialled_at
    assert first_dial is not None and first_dial >= rec.queued_at
    for lid, (sid, url) in rung.items():
        d.offer_outcomes.offer_call_ended(rec.id, where(url)[1], lid, sid, "no-answer")
    jobs.drain()
    again = ctx.requests.get(rec.id)
    assert again.offer_id != rec.offer_id and again.dialled_at == first_dial
