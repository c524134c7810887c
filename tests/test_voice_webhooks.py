"""Voice webhooks at the Flask level: signed like Twilio, fake phone network, real Redis.

These pin down the rules a live call depends on: every answer is valid TwiML,
wrong keys are asked again, and duplicate or out-of-order callbacks change nothing.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlsplit

import pytest

from dispatch.states import State
from tests.support.signing import signed_post

OFFICER_CALL = "CA" + "f" * 32


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def post(client, settings, path, **params):
    params.setdefault("CallSid", OFFICER_CALL)
    params.setdefault("AccountSid", settings.twilio_account_sid)
    response = signed_post(client, settings, path, params)
    assert response.status_code == 200, response.data
    root = ET.fromstring(response.data)
    assert root.tag == "Response"
    return root


def said(root) -> str:
    return " ".join(el.text or "" for el in root.iter("Say"))


def line(ctx) -> str:
    return ctx.roster.precincts[0].lines[0]


def queue_spanish(client, settings, ctx, call_sid: str = OFFICER_CALL):
    spa = ctx.catalog.get("spa")
    root = post(client, settings, "/voice/incoming", From=line(ctx), CallSid=call_sid)
    action = root.find("Gather").get("action")
    root = post(client, settings, path_of(action), From=line(ctx), CallSid=call_sid, Digits=spa.keypad)
    confirm = root.find("Gather").get("action")
    assert "Spanish" in said(root)
    root = post(client, settings, path_of(confirm), From=line(ctx), CallSid=call_sid, Digits="1")
    conference = root.find("Dial/Conference")
    assert conference is not None and conference.text.startswith("req-R")
    return conference.text.removeprefix("req-"), confirm


def test_unsigned_or_badly_signed_webhook_is_refused_and_changes_nothing(client, settings, ctx):
    assert client.post("/voice/incoming", data={"From": line(ctx), "CallSid": OFFICER_CALL}).status_code == 403
    bad = client.post("/voice/incoming", data={"From": line(ctx)}, headers={"X-Twilio-Signature": "AAAA"})
    assert bad.status_code == 403
    assert ctx.requests.open_ids() == []


def test_known_line_is_asked_for_a_language(client, settings, ctx):
    root = post(client, settings, "/voice/incoming", From=line(ctx))
    gather = root.find("Gather")
    assert gather is not None and "speech" in gather.get("input") and gather.get("finishOnKey") == "#"
    assert "language code" in said(root)


def test_confirmed_language_queues_one_request_and_routes_it(client, settings, ctx, jobs):
    request_id, _ = queue_spanish(client, settings, ctx)
    rec = ctx.requests.get(request_id)
    assert rec.state == State.QUEUED and rec.language == "spa" and rec.officer_call == OFFICER_CALL
    assert ("route", (request_id,)) in jobs.submitted


def test_confirm_delivered_twice_queues_once(client, settings, ctx):
    request_id, confirm = queue_spanish(client, settings, ctx)
    root = post(client, settings, path_of(confirm), From=line(ctx), Digits="1")
    assert root.find("Dial/Conference").text == f"req-{request_id}"
    assert ctx.requests.open_ids() == [request_id]


def test_choose_again_and_bad_confirm_key(client, settings, ctx):
    spa = ctx.catalog.get("spa")
    root = post(client, settings, "/voice/incoming/language?t=0", From=line(ctx), Digits=spa.keypad)
    confirm = path_of(root.find("Gather").get("action"))
    root = post(client, settings, confirm, From=line(ctx), Digits="7")
    assert "press 1 or 2" in said(root).lower() and root.find("Gather") is not None
    root = post(client, settings, confirm, From=line(ctx), Digits="2")
    assert "language code" in said(root)
    assert ctx.requests.open_ids() == []


def test_ambiguous_name_offers_a_short_menu(client, settings, ctx):
    root = post(
        client, settings, "/voice/incoming/language?t=0", From=line(ctx), SpeechResult="Chinese", Confidence="0.9"
    )
    text = said(root)
    assert "Mandarin" in text and "Cantonese" in text
    choose = path_of(root.find("Gather").get("action"))
    root = post(client, settings, choose, From=line(ctx), Digits="1")
    assert "You selected" in said(root)


def test_low_confidence_speech_is_asked_again(client, settings, ctx):
    root = post(
        client, settings, "/voice/incoming/language?t=0", From=line(ctx), SpeechResult="Spanish", Confidence="0.1"
    )
    assert "did not recognise" in said(root) or "did not get that" in said(root)
    assert ctx.requests.open_ids() == []


def test_zero_means_unknown_language_and_goes_to_the_vendor(client, settings, ctx, jobs, telephony):
    from dispatch.routing import Dispatcher

    post(client, settings, "/voice/incoming/language?t=0", From=line(ctx), Digits="0")
    [request_id] = ctx.requests.open_ids()
    jobs.drain(Dispatcher(ctx))
    rec = ctx.requests.get(request_id)
    assert rec.state == State.VENDOR_DIALING
    [call] = telephony.calls
    assert call.to == ctx.roster.vendor.number
    assert call.send_digits == ctx.roster.vendor.dtmf_for(ctx.roster.vendor.unknown_language_code)


@pytest.fixture
def offered(client, settings, ctx, jobs, telephony):
    """A Spanish request whose first offer is ringing a liaison."""
    from dispatch.routing import Dispatcher

    request_id, _ = queue_spanish(client, settings, ctx)
    jobs.drain(Dispatcher(ctx))
    assert ctx.requests.get(request_id).state == State.OFFERING
    return request_id, telephony.calls[-1]


def test_no_answer_delivered_twice_moves_on_once(client, settings, ctx, jobs, telephony, offered):
    from dispatch.routing import Dispatcher

    request_id, call = offered
    for _ in range(2):
        post(client, settings, path_of(call.status_callback), CallSid=telephony.sids[-1], CallStatus="no-answer")
    jobs.drain(Dispatcher(ctx))
    history = [h["event"] for h in ctx.requests.history(request_id)]
    assert history.count("offer_ended") == 1
    assert len(telephony.calls) == 2, "exactly one next offer, not two"


def test_late_no_answer_after_accept_changes_nothing(client, settings, ctx, offered, telephony):
    request_id, call = offered
    sid = telephony.sids[-1]
    root = post(client, settings, path_of(call.url), CallSid=sid, CallStatus="in-progress")
    gather = root.find("Gather")
    assert "Spanish" in said(root) and gather.get("numDigits") == "1"
    root = post(client, settings, path_of(gather.get("action")), CallSid=sid, Digits="1")
    assert root.find("Dial/Conference").text == f"req-{request_id}"
    post(client, settings, path_of(call.status_callback), CallSid=sid, CallStatus="no-answer")
    post(client, settings, path_of(call.status_callback), CallSid=sid, CallStatus="ringing")
    rec = ctx.requests.get(request_id)
    assert rec.state == State.CONNECTED and rec.handler_id == query(call.url)["l"]
    assert ctx.liaisons.status(rec.handler_id).state == "on_call"


def test_offer_answered_after_the_request_moved_on_is_turned_away(client, settings, ctx, offered, telephony):
    from dispatch.routing import Dispatcher

    request_id, call = offered
    Dispatcher(ctx).send_to_vendor_now(request_id)
    root = post(client, settings, path_of(call.url), CallSid=telephony.sids[0], CallStatus="in-progress")
    assert "no longer waiting" in said(root) and root.find("Hangup") is not None


def test_officer_hangup_delivered_twice_abandons_once_and_stops_the_ringing(
    client, settings, ctx, offered, telephony, jobs, app
):
    request_id, _ = offered
    jobs.submitted.clear()
    for _ in range(2):
        post(client, settings, "/voice/status", CallSid=OFFICER_CALL, CallStatus="completed")
    history = [h["event"] for h in ctx.requests.history(request_id)]
    assert history.count("abandon") == 1
    assert telephony.hangups == [], "the callback does not wait on the phone network"
    assert jobs.submitted == [("hang_up", (request_id, telephony.sids[0]))]
    jobs.drain(app.extensions["dispatcher"])
    assert telephony.hangups == [telephony.sids[0]]
    liaison = query(telephony.calls[0].url)["l"]
    assert ctx.liaisons.status(liaison).state == "idle"


def test_old_vendor_attempt_callback_is_ignored_after_retry(client, settings, ctx, jobs, telephony):
    from dispatch.routing import Dispatcher

    post(client, settings, "/voice/incoming/language?t=0", From=line(ctx), Digits="0")
    [request_id] = ctx.requests.open_ids()
    jobs.drain(Dispatcher(ctx))
    main = telephony.calls[-1]
    post(client, settings, path_of(main.status_callback), CallSid=telephony.sids[-1], CallStatus="busy")
    assert len(telephony.calls) == 1, "the alternate is dialled by a worker, not inside Twilio's callback"
    jobs.drain(Dispatcher(ctx))
    alternate = telephony.calls[-1]
    assert alternate.to == ctx.roster.vendor.alternate
    post(client, settings, path_of(main.status_callback), CallSid=telephony.sids[0], CallStatus="busy")
    jobs.drain(Dispatcher(ctx))
    assert ctx.requests.get(request_id).state == State.VENDOR_DIALING
    assert len(telephony.calls) == 2
    post(client, settings, path_of(alternate.url), CallSid=telephony.sids[-1], CallStatus="in-progress")
    assert ctx.requests.get(request_id).state == State.CONNECTED


def test_hold_prompt_gives_place_in_line_and_the_residents_sentence(client, settings, ctx):
    request_id, _ = queue_spanish(client, settings, ctx)
    root = post(client, settings, f"/voice/hold?r={request_id}&n=0")
    says = root.findall("Say")
    spa = ctx.catalog.get("spa")
    assert says[0].text == spa.hold_sentence and says[0].get("language") == spa.twilio_voice
    assert "number 1 in line" in said(root)
    assert root.find("Redirect") is not None
    again = post(client, settings, f"/voice/hold?r={request_id}&n=1")
    assert spa.hold_sentence not in said(again), "the resident hears the sentence once"


def test_unknown_caller_refused_when_configured(ctx, r, telephony, jobs):
    from dataclasses import replace

    from webhooks import create_app

    ctx.settings = replace(ctx.settings, unknown_callers="refuse")
    app = create_app(context=ctx)
    root = post(app.test_client(), ctx.settings, "/voice/incoming", From="+13475550100")
    assert root.find("Hangup") is not None and root.find("Gather") is None
    assert ctx.requests.open_ids() == []


def test_prompts_rendered_once_still_carry_each_calls_own_precinct_tries_and_language(client, settings, ctx):
    """The greeting and read-backs are rendered once and reused (webhooks/twiml.cached_twiml):
    a PIN-identified officer of one precinct must never get another precinct's menu, nor a
    read-back of another language or try count."""
    unknown = "+12125550177"
    menus = {}
    for p in ctx.roster.precincts[:2]:
        root = post(client, settings, f"/voice/incoming/pin?p={p.id}&t=0", From=unknown, Digits=p.pin)
        menus[p.id] = query(root.find("Gather").get("action"))
        assert menus[p.id]["p"] == p.id
    for tries in ("0", "1"):
        for code, name in (("1", "Spanish"), ("4", "Russian")):
            p = ctx.roster.precincts[1]
            root = post(client, settings, f"/voice/incoming/language?t={tries}&p={p.id}", From=unknown, Digits=code)
            assert name in said(root)
            q = query(root.find("Gather").get("action"))
            assert (q["t"], q["p"]) == (tries, p.id)
            assert ctx.catalog.get(q["lang"]).name == name
    again = post(client, settings, "/voice/incoming/language?t=1", From=line(ctx), Digits="999")
    assert "did not recognise" in said(again) and query(again.find("Gather").get("action"))["t"] == "2"
