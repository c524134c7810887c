"""VENDOR_HEDGE_AFTER: the vendor dialled while liaisons still ring; the first interpreter into
the room stays. Real Redis, the fake phone network, jobs run inline, webhooks signed."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from dispatch import keys
from dispatch.liaisons import IDLE, ON_CALL, RINGING
from dispatch.offer_outcomes import OfferReply
from dispatch.roster import Caller
from dispatch.states import State
from tests.support.voice import said, voice

FIVE = str(Path(__file__).parent / "data" / "roster_five_liaisons.yaml")
HEDGED = {"parallel_offers": 2, "vendor_hedge_after": 10.0, "liaison_window": 45.0, "roster_file": FIVE}
pytestmark = pytest.mark.settings(**HEDGED)


@pytest.fixture
def d(wiring):
    return wiring


def q(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def hedged(d, ctx, jobs, telephony):
    """A Spanish request ringing two liaisons, then 10 s into its wait: the vendor dialled too.
    The record, the liaisons' calls {liaison: (sid, url)}, and the vendor's (sid, url)."""
    ids = [liaison.id for liaison in ctx.roster.liaisons]
    ctx.redis.zadd(keys.LIAISONS_AVAILABLE, {lid: n for n, lid in enumerate(ids, 1)})
    p = ctx.roster.precincts[0]
    rec = d.intake.open_request(Caller(p.lines[0], "precinct", p.id), ctx.catalog.get("spa"))
    jobs.drain()
    rung = {q(c.url)["liaison"]: (sid, c.url) for c, sid in zip(telephony.calls, telephony.sids, strict=True)}
    assert len(rung) == 2 and ctx.requests.get(rec.id).vendor_attempt == ""
    ctx.requests.set_fields(rec.id, {"queued_at": time.time() - 10.5})
    ctx.requests.set_deadline(rec.id, 0)
    d.sweeper.sweep()
    rec = ctx.requests.get(rec.id)
    vendor = telephony.calls[-1]
    assert vendor.to == ctx.roster.vendor.number and vendor.send_digits == d.vendor.dtmf("spa")
    return rec, rung, (telephony.sids[-1], vendor.url)


def test_the_vendor_is_dialled_while_the_liaisons_still_ring(d, ctx, jobs, telephony):
    rec, rung, _ = hedged(d, ctx, jobs, telephony)
    assert rec.state == State.OFFERING and rec.vendor_attempt == "hedge" and rec.vendor_token
    assert {ctx.liaisons.status(lid).state for lid in rung} == {RINGING}
    d.sweeper.sweep()
    assert len(telephony.calls) == 3, "dialled once"


def test_two_workers_hedging_from_the_same_stale_record_dial_the_vendor_once(d, ctx, jobs, telephony):
    """route() hedges at once when VENDOR_HEDGE_AFTER has passed, and the sweeper may act on the
    record it read before that: both hold a record without a vendor attempt."""
    rec, _, _ = hedged(d, ctx, jobs, telephony)
    stale = replace(rec, vendor_attempt="", vendor_token="")
    assert d.vendor.hedge(stale) is None
    assert [c.to for c in telephony.calls].count(ctx.roster.vendor.number) == 1, "the vendor dialled once"


def test_a_liaison_accepting_first_hangs_the_vendor_call_up(d, ctx, jobs, telephony, client, settings):
    rec, rung, (vendor_sid, vendor_url) = hedged(d, ctx, jobs, telephony)
    lid, (sid, url) = next(iter(rung.items()))
    assert d.offer_outcomes.offer_reply(rec.id, q(url)["offer"], lid, "1", sid).reply == OfferReply.ACCEPTED
    jobs.drain()
    assert vendor_sid in telephony.hangups
    rec = ctx.requests.get(rec.id)
    assert rec.state == State.CONNECTED and rec.handler_id == lid and not rec.vendor_token
    # The vendor answering late (its DTMF just sent) is hung up, and changes nothing.
    root = voice(client, settings, vendor_url, CallSid=vendor_sid)
    assert root.find("Hangup") is not None and root.find("Dial") is None
    d.vendor.vendor_call_ended(rec.id, q(vendor_url)["dial"], vendor_sid, "completed")
    assert ctx.requests.get(rec.id).handler_id == lid


def test_the_vendor_reaching_the_room_first_keeps_the_call_and_the_liaisons_are_released(
    d, ctx, jobs, telephony, client, settings
):
    rec, rung, (vendor_sid, vendor_url) = hedged(d, ctx, jobs, telephony)
    (heard, (heard_sid, heard_url)), (ringing, (ringing_sid, _)) = rung.items()
    voice(client, settings, heard_url, CallSid=heard_sid)  # one liaison hears the whisper
    root = voice(client, settings, vendor_url, CallSid=vendor_sid)
    assert root.find("Dial/Conference").text == f"req-{rec.id}"
    rec = ctx.requests.get(rec.id)
    assert rec.state == State.CONNECTED and rec.handler_kind == "vendor"
    jobs.drain()
    assert ringing_sid in telephony.hangups and ctx.liaisons.status(ringing).state == IDLE
    assert telephony.redirects == [(heard_sid, heard_url)]
    assert "Another interpreter has taken this request" in said(voice(client, settings, heard_url, CallSid=heard_sid))
    assert d.offer_outcomes.offer_reply(rec.id, q(heard_url)["offer"], heard, "1", heard_sid).reply == OfferReply.GONE
    d.offer_outcomes.offer_call_ended(rec.id, q(heard_url)["offer"], heard, heard_sid, "completed")
    assert ctx.liaisons.status(heard).state == IDLE
    assert ON_CALL not in {ctx.liaisons.status(lid).state for lid in rung}


def test_when_every_liaison_says_no_the_vendor_dial_under_way_carries_on(d, ctx, jobs, telephony):
    rec, rung, _ = hedged(d, ctx, jobs, telephony)
    token = rec.vendor_token
    for lid, (sid, url) in rung.items():
        d.offer_outcomes.offer_call_ended(rec.id, q(url)["offer"], lid, sid, "no-answer")
    jobs.drain()
    rec = ctx.requests.get(rec.id)
    assert rec.state == State.VENDOR_DIALING and rec.vendor_token == token
    assert len(telephony.calls) == 3, "no second vendor call, no new round"


def test_the_window_closing_on_a_hedged_request_dials_nobody_new(d, ctx, jobs, telephony):
    rec, rung, _ = hedged(d, ctx, jobs, telephony)
    ctx.requests.set_fields(rec.id, {"queued_at": time.time() - ctx.settings.liaison_window - 1})
    ctx.requests.set_deadline(rec.id, 0)
    d.sweeper.sweep()
    jobs.drain()
    rec = ctx.requests.get(rec.id)
    assert rec.state == State.VENDOR_DIALING and rec.vendor_attempt == "hedge"
    assert len(telephony.calls) == 3
    assert {ctx.liaisons.status(lid).state for lid in rung} == {IDLE}


def test_a_failed_hedge_leaves_the_liaisons_ringing(d, ctx, jobs, telephony):
    rec, rung, (vendor_sid, vendor_url) = hedged(d, ctx, jobs, telephony)
    d.vendor.vendor_call_ended(rec.id, q(vendor_url)["dial"], vendor_sid, "busy")
    rec = ctx.requests.get(rec.id)
    assert rec.state == State.OFFERING and not rec.vendor_token and rec.vendor_attempt == "hedge-failed"
    assert {ctx.liaisons.status(lid).state for lid in rung} == {RINGING}


def test_urgent_requests_still_go_straight_to_the_vendor(d, ctx, jobs, telephony):
    p = ctx.roster.precincts[0]
    rec = d.intake.open_request(Caller(p.lines[0], "precinct", p.id), ctx.catalog.get("spa"), urgent=True)
    jobs.drain()
    assert ctx.requests.get(rec.id).state == State.VENDOR_DIALING
    assert [c.to for c in telephony.calls] == [ctx.roster.vendor.number]


def test_a_liaison_accepting_while_the_vendor_call_is_being_placed_gets_it_hung_up_at_once(
    ctx, jobs, telephony, rewire
):
    accepted = []

    class Racy(type(telephony)):
        def place_call(self, call):
            sid = super().place_call(call)
            if call.to == ctx.roster.vendor.number:  # the liaison presses 1 before the create returns
                liaison = next(c for c in self.calls if "liaison=" in c.url)
                where = q(liaison.url)
                accepted.append(
                    d.offer_outcomes.offer_reply(where["request"], where["offer"], where["liaison"], "1", "CAx")
                )
            return sid

    racy = Racy()
    d = rewire(telephony=racy)
    ids = [liaison.id for liaison in ctx.roster.liaisons]
    ctx.redis.zadd(keys.LIAISONS_AVAILABLE, {lid: n for n, lid in enumerate(ids, 1)})
    p = ctx.roster.precincts[0]
    rec = d.intake.open_request(Caller(p.lines[0], "precinct", p.id), ctx.catalog.get("spa"))
    jobs.drain()
    ctx.requests.set_fields(rec.id, {"queued_at": time.time() - 10.5})
    ctx.requests.set_deadline(rec.id, 0)
    d.sweeper.sweep()
    assert accepted and accepted[0].reply == OfferReply.ACCEPTED
    assert racy.sids[-1] in racy.hangups, "the vendor call placed for nothing is hung up"
    assert ctx.requests.get(rec.id).handler_kind == "liaison"


def test_the_last_liaison_declining_while_the_vendor_is_dialled_hears_their_goodbye(d, ctx, jobs, telephony):
    rec, rung, _ = hedged(d, ctx, jobs, telephony)
    (b, (b_sid, b_url)), (a, (a_sid, a_url)) = rung.items()  # b: the round's first, named on the record
    assert ctx.requests.get(rec.id).offer_liaison == b
    d.offer_outcomes.offer_call_ended(rec.id, q(a_url)["offer"], a, a_sid, "no-answer")
    assert d.offer_outcomes.offer_reply(rec.id, q(b_url)["offer"], b, "2", b_sid).reply == OfferReply.DECLINED
    jobs.drain()
    assert ctx.requests.get(rec.id).state == State.VENDOR_DIALING
    assert b_sid not in telephony.hangups, "their 'Declined. Thank you.' is not cut off"
    assert ctx.liaisons.status(b).state == RINGING, "held until that call ends"
    d.offer_outcomes.offer_call_ended(rec.id, q(b_url)["offer"], b, b_sid, "completed")
    assert ctx.liaisons.status(b).state == IDLE
