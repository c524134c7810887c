"""Fault 7: duplicate and out-of-order deliveries of every callback kind change nothing.

Table-driven, at the Flask level (signed like Twilio, real Redis, fake phone network):
each row brings a request to the point where a callback matters, delivers it, takes a
snapshot of everything the service owns (the record, its history, the events stream,
every liaison's state, calls placed / hung up / redirected, texts, jobs queued), then
delivers the same callback again — or the callbacks Twilio sends *before* it, late —
and asserts the snapshot did not move and the answer was the same TwiML.

Kinds covered here that tests/test_voice_webhooks.py and tests/test_sms_*.py do not:
offer answer (accept, decline), the whisper URL, offer status after a completed call,
vendor answer, vendor status after a connected call, officer call status after a
connected call, conference status, the call-back status after joining, a texted YES.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlsplit

import pytest

from dispatch import keys
from dispatch.routing import Caller, Dispatcher
from dispatch.sms import replies
from dispatch.states import State
from tests.support.signing import signed_post

OFFICER = "CA" + "0f" * 16


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def deliver(client, settings, path: str, params: dict[str, str]) -> bytes:
    params = dict(params, AccountSid=settings.twilio_account_sid)
    response = signed_post(client, settings, path, params)
    assert response.status_code == 200, (path, response.data[:200])
    assert ET.fromstring(response.data).tag == "Response"
    return response.data


@dataclass
class World:
    client: object
    settings: object
    ctx: object
    jobs: object
    telephony: object
    dispatcher: Dispatcher

    def post(self, path: str, **params: str) -> bytes:
        return deliver(self.client, self.settings, path, params)

    def drain(self) -> None:
        self.jobs.drain(self.dispatcher)


def snapshot(w: World, request_id: str) -> dict:
    r = w.ctx.redis
    return {
        "record": {k.decode(): v.decode() for k, v in r.hgetall(keys.request(request_id)).items()},
        "history": [json.dumps(h, sort_keys=True) for h in w.ctx.requests.history(request_id)],
        "events": r.xlen(keys.EVENTS),
        "deadline": r.zscore(keys.DEADLINES, request_id),
        "liaisons": [
            (s.id, s.state, s.request, s.available_at)
            for s in w.ctx.liaisons.statuses([l.id for l in w.ctx.roster.liaisons])
        ],
        "calls": [c.to for c in w.telephony.calls],
        "hangups": list(w.telephony.hangups),
        "redirects": list(w.telephony.redirects),
        "sms": list(w.telephony.sms),
        "jobs": list(w.jobs.submitted),
        "open": w.ctx.requests.open_ids(),
    }


# ---------------------------------------------------------------- getting to the moment


def _open(w: World, language: str | None = "spa", channel_call: str = OFFICER) -> str:
    precinct = w.ctx.roster.precincts[0]
    rec = w.dispatcher.open_request(
        Caller(precinct.lines[0], "precinct", precinct.id),
        w.ctx.catalog.get(language) if language else None,
        officer_call=channel_call,
    )
    w.drain()
    return rec.id


def offered(w: World):
    request_id = _open(w)
    assert w.ctx.requests.get(request_id).state == State.OFFERING
    return request_id, w.telephony.calls[-1], w.telephony.sids[-1]


def liaison_connected(w: World):
    request_id, call, sid = offered(w)
    w.post(path_of(call.url), CallSid=sid, CallStatus="in-progress")
    w.post(answer_path(call), CallSid=sid, Digits="1")
    assert w.ctx.requests.get(request_id).state == State.CONNECTED
    return request_id, call, sid


def answer_path(call) -> str:
    return path_of(call.url).replace("/voice/offer?", "/voice/offer/answer?")


def vendor_dialing(w: World):
    request_id = _open(w, language=None)
    assert w.ctx.requests.get(request_id).state == State.VENDOR_DIALING
    return request_id, w.telephony.calls[-1], w.telephony.sids[-1]


def vendor_connected(w: World):
    request_id, call, sid = vendor_dialing(w)
    w.post(path_of(call.url), CallSid=sid, CallStatus="in-progress")
    assert w.ctx.requests.get(request_id).state == State.CONNECTED
    return request_id, call, sid


def texted(w: World):
    from dispatch.sms.service import Inbound, SmsService, place_callback

    SmsService(w.ctx, w.dispatcher).handle(Inbound(w.ctx.roster.supervisors[0].cell, "spanish", "SM" + "1" * 32))
    (request_id,) = w.ctx.requests.open_ids()
    w.jobs.submitted.clear()
    place_callback(w.ctx, request_id)
    return request_id, w.telephony.calls[-1], w.telephony.sids[-1]


def called_back_and_waiting(w: World):
    request_id, call, sid = texted(w)
    w.post(path_of(call.url), CallSid=sid, CallStatus="in-progress")
    w.drain()
    assert w.ctx.requests.get(request_id).state == State.OFFERING
    return request_id, call, sid


# ---------------------------------------------------------------- the table
# Each row: (setup, first deliveries, replayed deliveries, answers must match).
# A delivery is (path builder, params builder) over what the setup returned.

Delivery = tuple[Callable, Callable]


def _d(path: Callable, **params) -> Delivery:
    return (path, lambda rid, call, sid: {k: (v(rid, call, sid) if callable(v) else v) for k, v in params.items()})


OFFER_STATUS = lambda rid, call, sid: path_of(call.status_callback)  # noqa: E731
OFFER_URL = lambda rid, call, sid: path_of(call.url)  # noqa: E731
OFFER_ANSWER = lambda rid, call, sid: answer_path(call)  # noqa: E731
VENDOR_URL = OFFER_URL
VENDOR_STATUS = OFFER_STATUS
CALL_STATUS = lambda rid, call, sid: "/voice/status"  # noqa: E731
CONFERENCE = lambda rid, call, sid: f"/voice/conference?r={rid}"  # noqa: E731
CALLBACK_URL = OFFER_URL
CALLBACK_STATUS = OFFER_STATUS
SID = lambda rid, call, sid: sid  # noqa: E731

ROWS = {
    # ---- duplicates
    "offer answer: accept twice": (
        offered,
        [_d(OFFER_URL, CallSid=SID, CallStatus="in-progress"), _d(OFFER_ANSWER, CallSid=SID, Digits="1")],
        [_d(OFFER_ANSWER, CallSid=SID, Digits="1")],
        True,
    ),
    "offer answer: decline twice": (
        offered,
        [_d(OFFER_URL, CallSid=SID, CallStatus="in-progress"), _d(OFFER_ANSWER, CallSid=SID, Digits="2")],
        [_d(OFFER_ANSWER, CallSid=SID, Digits="2")],
        True,
    ),
    "offer whisper URL twice": (
        offered,
        [_d(OFFER_URL, CallSid=SID, CallStatus="in-progress")],
        [_d(OFFER_URL, CallSid=SID, CallStatus="in-progress")],
        True,
    ),
    "offer status: completed twice after the liaison hung up": (
        liaison_connected,
        [_d(OFFER_STATUS, CallSid=SID, CallStatus="completed")],
        [_d(OFFER_STATUS, CallSid=SID, CallStatus="completed")],
        False,
    ),
    "vendor answer twice": (
        vendor_dialing,
        [_d(VENDOR_URL, CallSid=SID, CallStatus="in-progress")],
        [_d(VENDOR_URL, CallSid=SID, CallStatus="in-progress")],
        True,
    ),
    "vendor status: completed twice after the vendor hung up": (
        vendor_connected,
        [_d(VENDOR_STATUS, CallSid=SID, CallStatus="completed")],
        [_d(VENDOR_STATUS, CallSid=SID, CallStatus="completed")],
        False,
    ),
    "officer call status: completed twice while connected": (
        liaison_connected,
        [_d(CALL_STATUS, CallSid=OFFICER, CallStatus="completed")],
        [_d(CALL_STATUS, CallSid=OFFICER, CallStatus="completed")],
        False,
    ),
    "conference status: officer leaves, delivered twice": (
        offered,
        [_d(CONFERENCE, CallSid=OFFICER, StatusCallbackEvent="participant-leave")],
        [_d(CONFERENCE, CallSid=OFFICER, StatusCallbackEvent="participant-leave")],
        False,
    ),
    "conference leave and call status completed (the same hang-up twice)": (
        offered,
        [_d(CONFERENCE, CallSid=OFFICER, StatusCallbackEvent="participant-leave")],
        [_d(CALL_STATUS, CallSid=OFFICER, CallStatus="completed")],
        False,
    ),
    "call-back status: no-answer twice": (
        texted,
        [_d(CALLBACK_STATUS, CallSid=SID, CallStatus="no-answer")],
        [_d(CALLBACK_STATUS, CallSid=SID, CallStatus="no-answer")],
        False,
    ),
    "call-back status: completed twice after joining": (
        called_back_and_waiting,
        [_d(CALLBACK_STATUS, CallSid=SID, CallStatus="completed")],
        [_d(CALLBACK_STATUS, CallSid=SID, CallStatus="completed")],
        False,
    ),
    # ---- out of order: what Twilio sends earlier arrives after the end
    "offer status: initiated/ringing/answered after no-answer": (
        offered,
        [_d(OFFER_STATUS, CallSid=SID, CallStatus="no-answer")],
        [_d(OFFER_STATUS, CallSid=SID, CallStatus=s) for s in ("initiated", "ringing", "in-progress")],
        False,
    ),
    "offer status: ringing after the liaison accepted and hung up": (
        liaison_connected,
        [_d(OFFER_STATUS, CallSid=SID, CallStatus="completed")],
        [_d(OFFER_STATUS, CallSid=SID, CallStatus=s) for s in ("ringing", "in-progress", "no-answer")],
        False,
    ),
    "vendor status: initiated/ringing after busy": (
        vendor_dialing,
        [_d(VENDOR_STATUS, CallSid=SID, CallStatus="busy")],
        [_d(VENDOR_STATUS, CallSid=SID, CallStatus=s) for s in ("initiated", "ringing", "completed")],
        False,
    ),
    "vendor status: ringing/answered after the vendor hung up": (
        vendor_connected,
        [_d(VENDOR_STATUS, CallSid=SID, CallStatus="completed")],
        [_d(VENDOR_STATUS, CallSid=SID, CallStatus=s) for s in ("ringing", "in-progress", "busy")],
        False,
    ),
    "officer call status: ringing/in-progress after completed": (
        offered,
        [_d(CALL_STATUS, CallSid=OFFICER, CallStatus="completed")],
        [_d(CALL_STATUS, CallSid=OFFICER, CallStatus=s) for s in ("ringing", "in-progress", "completed")],
        False,
    ),
    "conference status: join/start after the officer left": (
        offered,
        [_d(CONFERENCE, CallSid=OFFICER, StatusCallbackEvent="participant-leave")],
        [
            _d(CONFERENCE, CallSid=OFFICER, StatusCallbackEvent=e)
            for e in ("conference-start", "participant-join", "participant-leave", "conference-end")
        ],
        False,
    ),
    "offer answer: accept after the officer hung up": (
        offered,
        [_d(CALL_STATUS, CallSid=OFFICER, CallStatus="completed")],
        [_d(OFFER_URL, CallSid=SID, CallStatus="in-progress"), _d(OFFER_ANSWER, CallSid=SID, Digits="1")],
        False,
    ),
    "offer answer: accept after the liaison's call reported completed": (
        offered,
        [_d(OFFER_URL, CallSid=SID, CallStatus="in-progress"), _d(OFFER_STATUS, CallSid=SID, CallStatus="completed")],
        [_d(OFFER_ANSWER, CallSid=SID, Digits="1")],
        False,
    ),
    "vendor answer after the officer hung up": (
        vendor_dialing,
        [_d(CALL_STATUS, CallSid=OFFICER, CallStatus="completed")],
        [_d(VENDOR_URL, CallSid=SID, CallStatus="in-progress")],
        False,
    ),
    "call-back status: ringing/in-progress after completed": (
        called_back_and_waiting,
        [_d(CALLBACK_STATUS, CallSid=SID, CallStatus="completed")],
        [_d(CALLBACK_STATUS, CallSid=SID, CallStatus=s) for s in ("ringing", "in-progress", "no-answer")],
        False,
    ),
    "call-back answer after the call back reported no-answer": (
        texted,
        [_d(CALLBACK_STATUS, CallSid=SID, CallStatus="no-answer")],
        [_d(CALLBACK_URL, CallSid=SID, CallStatus="in-progress")],
        False,
    ),
}


@pytest.mark.parametrize("name", list(ROWS))
def test_a_repeated_or_late_callback_changes_nothing(client, settings, ctx, jobs, telephony, name):
    setup, first, replay, same_answer = ROWS[name]
    w = World(client, settings, ctx, jobs, telephony, Dispatcher(ctx))
    rid, call, sid = setup(w)
    answers = []
    for path, params in first:
        answers.append(w.post(path(rid, call, sid), **params(rid, call, sid)))
    w.drain()
    before = snapshot(w, rid)
    again = []
    for path, params in replay:
        again.append(w.post(path(rid, call, sid), **params(rid, call, sid)))
    w.drain()
    after = snapshot(w, rid)
    assert after == before, {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    if same_answer:
        assert again[-1] == answers[-1], (answers[-1], again[-1])


def test_a_redelivered_accept_keeps_the_liaison_on_the_call(client, settings, ctx, jobs, telephony):
    """The case the table's first row guards: Twilio retried the accept because our
    first answer was slow; answering "no longer waiting" would hang up the liaison the
    request is now connected to."""
    w = World(client, settings, ctx, jobs, telephony, Dispatcher(ctx))
    rid, call, sid = liaison_connected(w)
    root = ET.fromstring(w.post(answer_path(call), CallSid=sid, Digits="1"))
    assert root.find("Dial/Conference").text == f"req-{rid}"
    assert root.find("Hangup") is None


def test_a_redelivered_vendor_answer_keeps_the_vendor_on_the_call(client, settings, ctx, jobs, telephony):
    w = World(client, settings, ctx, jobs, telephony, Dispatcher(ctx))
    rid, call, sid = vendor_connected(w)
    root = ET.fromstring(w.post(path_of(call.url), CallSid=sid, CallStatus="in-progress"))
    assert root.find("Dial/Conference").text == f"req-{rid}"
    other = ET.fromstring(w.post(path_of(call.url), CallSid="CA" + "9" * 32, CallStatus="in-progress"))
    assert other.find("Hangup") is not None, "a different leg on the same URL is still turned away"


# ---------------------------------------------------------------- texts


def _text(client, settings, ctx, body: str, sid: str) -> str:
    params = {
        "From": ctx.roster.supervisors[0].cell,
        "To": ctx.roster.service_number,
        "Body": body,
        "MessageSid": sid,
        "NumMedia": "0",
    }
    return ET.fromstring(deliver(client, settings, "/sms/incoming", params)).find("Message").text


def test_a_redelivered_yes_and_a_late_question_open_one_request(client, settings, ctx, jobs, r):
    question = _text(client, settings, ctx, "spansh", "SM" + "a1" * 16)
    assert question.startswith("Did you mean Spanish?")
    yes = _text(client, settings, ctx, "YES", "SM" + "b2" * 16)
    (request_id,) = ctx.requests.open_ids()
    assert yes.startswith(f"Request {request_id}")
    assert _text(client, settings, ctx, "YES", "SM" + "b2" * 16) == yes, "the YES redelivered"
    assert _text(client, settings, ctx, "spansh", "SM" + "a1" * 16) == question, "the question redelivered late"
    assert not r.exists(keys.sms_pending(ctx.roster.supervisors[0].cell)), "the late copy did not re-arm YES"
    assert _text(client, settings, ctx, "YES", "SM" + "c3" * 16) == replies.NOTHING_TO_CONFIRM
    assert ctx.requests.open_ids() == [request_id]
    assert jobs.submitted == [("call_back", (request_id,))]
