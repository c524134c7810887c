"""Calls in flight during a deploy: URLs handed out before the query names were spelled out
(`r`, `o`, `l`, `v`, `k`, `m`, `t`, `u`, `p`, `c`, `n`, `lang`, `opts`) still work.

Twilio posts to the URLs it was given (a menu's action, the hold loop's redirect, an
interpreter's leg, a status callback) and signs them as they are, so a call that began
before the deploy keeps posting the old names until it ends: each is read as its new name.
"""

from __future__ import annotations

from dispatch.states import State
from tests.support.voice import OFFICER_CALL, line, path_of, post, query, queue_spanish, said

LIAISON_CALL = "CA" + "1" * 32
VENDOR_CALL = "CA" + "2" * 32


def _off_duty(ctx) -> None:  # type: ignore[no-untyped-def]
    for liaison in ctx.roster.liaisons:
        ctx.liaisons.set_duty(liaison.id, False)


def test_the_language_menu_under_its_old_names(client, settings, ctx):
    root = post(client, settings, "/voice/incoming/language?t=1&u=", From=line(ctx), Digits="999")
    assert "did not recognise" in said(root) and query(root.find("Gather").get("action"))["tries"] == "2"
    root = post(client, settings, "/voice/incoming/choose?opts=cmn,yue&t=0&u=", From=line(ctx), Digits="1")
    assert "You selected Mandarin" in said(root)
    root = post(client, settings, "/voice/incoming/confirm?lang=spa&t=0&c=0", From=line(ctx), Digits="1")
    request_id = root.find("Dial/Conference").text.removeprefix("req-")
    assert ctx.requests.get(request_id).language == "spa"


def test_a_pin_callers_precinct_under_its_old_name(client, settings, ctx):
    precinct = ctx.roster.precincts[0]
    root = post(client, settings, f"/voice/incoming/pin?p={precinct.id}&t=0", From="+13475550123", Digits=precinct.pin)
    assert query(root.find("Gather").get("action"))["precinct"] == precinct.id
    root = post(
        client, settings, f"/voice/incoming/confirm?lang=spa&t=0&c=0&p={precinct.id}", From="+13475550123", Digits="1"
    )
    rec = ctx.requests.get(root.find("Dial/Conference").text.removeprefix("req-"))
    assert (rec.caller_kind, rec.precinct) == ("pin", precinct.id)


def test_the_hold_loop_under_its_old_names(client, settings, ctx):
    _off_duty(ctx)
    request_id, _ = queue_spanish(client, settings, ctx)
    root = post(client, settings, f"/voice/hold?r={request_id}&n=3")
    assert "number 1 in line" in said(root)
    assert path_of(root.find("Redirect").text) == f"/voice/hold?request={request_id}&prompts=4"


def test_a_liaisons_offer_and_a_vendors_leg_under_their_old_names(client, settings, ctx, jobs, telephony):
    request_id, _ = queue_spanish(client, settings, ctx)
    jobs.drain()
    offer = query(telephony.calls[-1].url)
    old = f"r={offer['request']}&o={offer['offer']}&l={offer['liaison']}"
    root = post(client, settings, f"/voice/offer?{old}", CallSid=LIAISON_CALL)
    assert "Interpretation request, Spanish" in said(root)
    root = post(client, settings, f"/voice/offer/answer?{old}", CallSid=LIAISON_CALL, Digits="1")
    assert root.find("Dial/Conference").text == f"req-{request_id}"
    assert ctx.requests.get(request_id).state == State.CONNECTED

    _off_duty(ctx)
    other = ctx.roster.precincts[1].lines[0]
    root = post(
        client, settings, "/voice/incoming/confirm?lang=spa&t=0&c=0", From=other, CallSid="CA" + "3" * 32, Digits="1"
    )
    vendor_request = root.find("Dial/Conference").text.removeprefix("req-")
    jobs.drain()
    dial = query(telephony.calls[-1].url)
    assert dial["request"] == vendor_request
    root = post(client, settings, f"/voice/vendor?r={vendor_request}&v={dial['dial']}", CallSid=VENDOR_CALL)
    assert root.find("Dial/Conference").text == f"req-{vendor_request}"


def test_a_rejoin_prompt_under_its_old_names(client, settings, ctx, jobs, telephony, wiring):
    _off_duty(ctx)
    request_id, _ = queue_spanish(client, settings, ctx)
    jobs.drain()
    dial = query(telephony.calls[-1].url)
    post(client, settings, f"/voice/vendor?request={request_id}&dial={dial['dial']}", CallSid=VENDOR_CALL)
    wiring.call_ends.officer_call_ended(OFFICER_CALL)
    rec = ctx.requests.get(request_id)
    assert rec.state == State.REJOINING
    root = post(client, settings, f"/voice/rejoin?r={request_id}&k={rec.rejoin_token}&m=no-answer", CallSid=VENDOR_CALL)
    assert "did not answer the call back" in said(root)
    assert query(root.find("Gather").get("action"))["drop"] == rec.rejoin_token
