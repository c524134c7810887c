"""From a text to an interpreter, at the Flask level: the call-back job, the answered
call joining the request's conference, routing, the notices, and every way the call
back can fail. Real Redis, fake phone network; jobs are run by hand.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import pytest

from dispatch import clock, keys
from dispatch.routing import Dispatcher
from dispatch.sms.service import failure_hook, place_callback, send_notice
from dispatch.states import State
from dispatch.telephony import TelephonyError
from tests.support.signing import signed_post

CALLBACK_SID = "CA" + "c" * 32


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def text(client, settings, ctx, body: str, sid: str = "SM" + "1" * 32) -> str:
    params = {
        "From": ctx.roster.supervisors[0].cell,
        "To": ctx.roster.service_number,
        "Body": body,
        "MessageSid": sid,
        "NumMedia": "0",
    }
    response = signed_post(client, settings, "/sms/incoming", params)
    assert response.status_code == 200
    return ET.fromstring(response.data).find("Message").text


def voice(client, settings, url_or_path: str, **params) -> ET.Element:
    params.setdefault("AccountSid", settings.twilio_account_sid)
    response = signed_post(client, settings, path_of(url_or_path) if "://" in url_or_path else url_or_path, params)
    assert response.status_code == 200, response.data
    root = ET.fromstring(response.data)
    assert root.tag == "Response"
    return root


def said(root) -> str:
    return " ".join(el.text or "" for el in root.iter("Say"))


def open_one(client, settings, ctx, jobs, body: str = "spanish"):
    text(client, settings, ctx, body)
    (request_id,) = ctx.requests.open_ids()
    assert jobs.submitted.pop() == ("call_back", (request_id,))
    return request_id


def test_the_call_back_rings_the_supervisor_with_the_request_in_its_urls(client, settings, ctx, jobs, telephony):
    request_id = open_one(client, settings, ctx, jobs)
    sid = place_callback(ctx, request_id)
    (call,) = telephony.calls
    assert call.to == ctx.roster.supervisors[0].cell and call.from_ == ctx.roster.service_number
    assert path_of(call.url) == f"/voice/callback?r={request_id}"
    assert path_of(call.status_callback) == f"/voice/callback/status?r={request_id}"
    assert call.timeout == settings.callback_ring_timeout
    assert ctx.requests.get(request_id).extra["callback_call"] == sid
    assert ctx.requests.call_link(sid)["request"] == request_id


def test_a_texted_callback_number_is_rung_instead(client, settings, ctx, jobs, telephony):
    request_id = open_one(client, settings, ctx, jobs, "ES callback 718 555 0175")
    place_callback(ctx, request_id)
    assert telephony.calls[0].to == "+17185550175"


def test_the_call_back_job_twice_rings_once(client, settings, ctx, jobs, telephony):
    request_id = open_one(client, settings, ctx, jobs)
    assert place_callback(ctx, request_id) is not None
    assert place_callback(ctx, request_id) is None
    assert len(telephony.calls) == 1


def test_answered_call_back_joins_the_conference_queues_and_routes_to_a_liaison(client, settings, ctx, jobs, telephony):
    request_id = open_one(client, settings, ctx, jobs, "spanish")
    place_callback(ctx, request_id)
    root = voice(client, settings, telephony.calls[0].url, CallSid=CALLBACK_SID, CallStatus="in-progress")
    assert "Spanish" in said(root) and "R 1" in said(root)
    conference = root.find("Dial/Conference")
    assert conference.text == f"req-{request_id}"
    # the supervisor's leg ending keeps the interpreter for a rejoin, as an officer's does
    assert conference.get("startConferenceOnEnter") == "false" and conference.get("endConferenceOnExit") == "false"
    rec = ctx.requests.get(request_id)
    assert rec.state == State.QUEUED and rec.officer_call == CALLBACK_SID and rec.queued_at is not None
    assert ("notify", (request_id, "connecting")) in jobs.submitted
    assert ("route", (request_id,)) in jobs.submitted

    # The same answer delivered again changes nothing and still joins the room.
    again = voice(client, settings, telephony.calls[0].url, CallSid=CALLBACK_SID, CallStatus="in-progress")
    assert again.find("Dial/Conference").text == f"req-{request_id}"
    assert [j for j in jobs.submitted if j[0] == "notify"] == [("notify", (request_id, "connecting"))]

    send_notice(ctx, request_id, "connecting")
    assert telephony.sms[-1] == (
        ctx.roster.supervisors[0].cell,
        ctx.roster.service_number,
        f"Request {request_id}: a Spanish interpreter is being connected. Stay on the line.",
    )
    jobs.drain(Dispatcher(ctx))
    rec = ctx.requests.get(request_id)
    assert rec.state == State.OFFERING
    liaison = ctx.roster.liaison(rec.offer_liaison)
    assert "spa" in liaison.languages and telephony.calls[-1].to == liaison.phone

    # The supervisor hangs up while waiting: abandoned, like an officer hanging up.
    voice(client, settings, telephony.calls[0].status_callback, CallSid=CALLBACK_SID, CallStatus="completed")
    assert ctx.requests.get(request_id).state == State.ABANDONED


@pytest.mark.parametrize("status", ["no-answer", "busy", "failed"])
def test_an_unanswered_call_back_fails_the_request_and_texts_why(client, settings, ctx, jobs, telephony, status):
    request_id = open_one(client, settings, ctx, jobs, "russian")
    place_callback(ctx, request_id)
    root = voice(client, settings, telephony.calls[0].status_callback, CallSid=telephony.sids[0], CallStatus=status)
    assert list(root) == []
    rec = ctx.requests.get(request_id)
    assert rec.state == State.FAILED and rec.outcome == f"call-back {status}"
    assert jobs.submitted == [("notify", (request_id, "failed"))]
    send_notice(ctx, request_id, "failed")
    assert telephony.sms[-1][2] == (
        f"Request {request_id} (Russian): we called but nobody answered, so it is "
        "closed. Text the language again to retry."
    )
    # A late status callback changes nothing more.
    voice(client, settings, telephony.calls[0].status_callback, CallSid=telephony.sids[0], CallStatus="completed")
    assert len(jobs.submitted) == 1


def test_the_sweeper_fails_a_call_back_nobody_reported(client, settings, ctx, jobs, telephony, monkeypatch):
    request_id = open_one(client, settings, ctx, jobs, "bengali")
    place_callback(ctx, request_id)
    later = clock.now() + settings.callback_ring_timeout + settings.grace_seconds + 1
    monkeypatch.setattr(clock, "now", lambda: later)
    Dispatcher(ctx, on_failed=failure_hook(ctx)).sweep()
    assert ctx.requests.get(request_id).state == State.FAILED
    assert jobs.submitted == [("notify", (request_id, "failed"))]


def test_a_call_back_the_network_refuses_fails_at_once(client, settings, ctx, jobs, telephony, monkeypatch):
    request_id = open_one(client, settings, ctx, jobs)

    def refuse(call):
        raise TelephonyError("invalid number", status=400)

    monkeypatch.setattr(telephony, "place_call", refuse)
    assert place_callback(ctx, request_id) is None
    assert ctx.requests.get(request_id).outcome == "call-back dial-failed"
    assert jobs.submitted == [("notify", (request_id, "failed"))]


def test_answering_a_cancelled_request_hangs_up(client, settings, ctx, jobs, telephony):
    request_id = open_one(client, settings, ctx, jobs)
    place_callback(ctx, request_id)
    text(client, settings, ctx, "CANCEL", sid="SM" + "2" * 32)
    root = voice(client, settings, telephony.calls[0].url, CallSid=CALLBACK_SID)
    assert root.find("Hangup") is not None and root.find("Dial") is None
    assert "no longer open" in said(root)
    assert ctx.requests.get(request_id).state == State.CANCELLED


def test_a_vendor_failure_in_the_web_process_texts_the_supervisor(client, settings, ctx, jobs, telephony, app):
    request_id = open_one(client, settings, ctx, jobs, "0 urgent")
    place_callback(ctx, request_id)
    voice(client, settings, telephony.calls[0].url, CallSid=CALLBACK_SID)
    jobs.submitted.clear()
    dispatcher = app.extensions["dispatcher"]
    dispatcher.route(request_id)
    rec = ctx.requests.get(request_id)
    assert rec.state == State.VENDOR_DIALING
    dispatcher.vendor_failed(request_id, rec.extra["vendor_token"], "busy")
    rec = ctx.requests.get(request_id)
    dispatcher.vendor_failed(request_id, rec.extra["vendor_token"], "busy")
    assert ctx.requests.get(request_id).state == State.FAILED
    assert ("notify", (request_id, "failed")) in jobs.submitted
    send_notice(ctx, request_id, "failed")
    assert "no interpreter could be reached" in telephony.sms[-1][2]


def test_notices_go_only_to_texted_requests(ctx, telephony):
    rec = ctx.requests.create(
        {"channel": "voice", "caller": "+17185550101", "language": "spa", "language_name": "Spanish"},
        state=State.QUEUED,
    )
    assert send_notice(ctx, rec.id, "failed") is None and telephony.sms == []
    assert send_notice(ctx, "R99999", "failed") is None


def test_the_job_functions_are_registered():
    from workers.jobqueue import TASKS

    assert TASKS["call_back"] == "workers.callbacks.call_back"
    assert TASKS["notify"] == "workers.notifications.notify"
    import workers.callbacks
    import workers.notifications

    assert callable(workers.callbacks.call_back) and callable(workers.notifications.notify)


def test_callback_urls_need_a_signature(client, ctx):
    assert client.post("/voice/callback?r=R00001", data={"CallSid": CALLBACK_SID}).status_code == 403
    assert client.post("/voice/callback/status?r=R00001", data={"CallStatus": "no-answer"}).status_code == 403


def test_answer_for_an_unknown_request_hangs_up(client, settings):
    root = voice(client, settings, "/voice/callback?r=R424242", CallSid=CALLBACK_SID)
    assert root.find("Hangup") is not None
    root = voice(client, settings, "/voice/callback/status?r=R424242", CallSid=CALLBACK_SID, CallStatus="busy")
    assert list(root) == []


def test_pending_keys_are_short_lived(client, settings, ctx, r):
    text(client, settings, ctx, "spansh")
    assert 0 < r.ttl(keys.sms_pending(ctx.roster.supervisors[0].cell)) <= 600
