"""The REST side, driven by the official twilio SDK: outbound calls, updates, errors, faults, SMS."""

from __future__ import annotations

import time

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from simulator.eventlog import mask_text
from simulator.testing import Harness, SimulatorHttpClient

LIAISON = "+12125550131"


@pytest.fixture
def h():
    with Harness() as harness:
        yield harness


def _create(h, to=LIAISON, **kwargs):
    params = dict(
        to=to,
        from_=h.NUMBER,
        url=h.url("/voice/offer?r=R1"),
        method="POST",
        status_callback=h.url("/voice/offer/status"),
        status_callback_method="POST",
        timeout=5,
    )
    params.update(kwargs)
    return h.twilio.calls.create(**params)


def test_answered_call_reports_every_requested_progress_event(h):
    h.sim.set_parties({LIAISON: {"answer": "after", "answer_after": 0.1}})
    h.app.on("/voice/offer", "<Response><Say>Interpretation request.</Say></Response>")
    call = _create(h, status_callback_event=["initiated", "ringing", "answered", "completed"])
    assert call.sid.startswith("CA") and len(call.sid) == 34
    assert call.status == "queued" and call.direction == "outbound-api" and call.to == LIAISON
    assert call.account_sid == h.ACCOUNT_SID and call.api_version == "2010-04-01" and call.date_created
    events = h.app.wait_hits("/voice/offer/status", 4)
    assert [e["form"]["CallStatus"] for e in events] == ["initiated", "ringing", "in-progress", "completed"]
    assert [e["form"]["SequenceNumber"] for e in events] == ["0", "1", "2", "3"]
    assert all(e["form"]["CallbackSource"] == "call-progress-events" and e["form"]["Timestamp"] for e in events)
    assert events[-1]["form"]["CallDuration"] == "0" and events[0]["form"]["Direction"] == "outbound-api"
    offer = h.app.wait_hits("/voice/offer")[0]
    assert offer["args"] == {"r": "R1"} and offer["form"]["CallStatus"] == "in-progress"
    assert h.twilio.calls(call.sid).fetch().status == "completed"
    assert [c.sid for c in h.twilio.calls.list(to=LIAISON)] == [call.sid]
    assert all(r["valid"] for r in h.app.hits())


@pytest.mark.parametrize(
    "behaviour, expected",
    [
        ({"answer": "never"}, "no-answer"),
        ({"answer": "busy", "answer_after": 0.05}, "busy"),
        ({"answer": "failed", "answer_after": 0.05}, "failed"),
        ({"answer": "after", "answer_after": 5.0}, "no-answer"),  # slower than the 1 s Timeout
    ],
)
def test_unanswered_outcomes_post_only_the_terminal_status_by_default(h, behaviour, expected):
    h.sim.set_parties({LIAISON: behaviour})
    call = _create(h, timeout=1)
    final = h.app.wait_hits("/voice/offer/status")[0]["form"]
    assert final["CallStatus"] == expected and final["CallSid"] == call.sid
    assert h.sim.wait_for(lambda: h.sim.call(call.sid)["status"] == expected)
    time.sleep(0.1)
    assert len(h.app.hits("/voice/offer/status")) == 1 and h.app.hits("/voice/offer") == []


def test_send_digits_are_delivered_before_the_twiml_and_checked(h):
    h.sim.set_parties({LIAISON: {"answer": "after", "answer_after": 0.05, "expect_send_digits": "ww1234#ww5678#"}})
    h.app.on("/voice/offer", '<Response><Pause length="5"/></Response>')
    call = _create(h, send_digits="ww1234#ww5678#")
    done = h.ended(call.sid)
    assert done["received_digits"] == "ww1234#ww5678#" and done["digits_matched"] is True
    texts = h.texts(call.sid)
    sent = texts.index("SendDigits: 14 DTMF keys sent, expected sequence complete")
    assert sent < texts.index("POST /voice/offer?r=R1")
    assert not any("1234" in t for t in texts), "DTMF (account, PIN) stays out of the log"


def test_wrong_send_digits_make_the_vendor_hang_up(h):
    h.sim.set_parties({LIAISON: {"answer": "after", "answer_after": 0.05, "expect_send_digits": "ww1234#"}})
    h.app.on("/voice/offer", '<Response><Pause length="100"/></Response>')
    call = _create(h, send_digits="ww9999#")
    done = h.ended(call.sid, timeout=3)
    assert done["digits_matched"] is False and done["status"] == "completed"
    assert any("DTMF mismatch" in t for t in h.texts(call.sid))


def test_rest_redirect_abandons_the_running_twiml(h):
    h.sim.set_parties({LIAISON: {"answer": "after", "answer_after": 0.05}})
    h.app.on("/voice/offer", '<Response><Pause length="1000"/><Say>Never</Say></Response>')
    h.app.on("/voice/moved", "<Response><Say>Moved along</Say></Response>")
    call = _create(h)
    h.app.wait_hits("/voice/offer")
    updated = h.twilio.calls(call.sid).update(url=h.url("/voice/moved?x=1"), method="POST")
    assert updated.sid == call.sid
    h.ended(call.sid)
    assert h.app.wait_hits("/voice/moved")[0]["args"] == {"x": "1"}
    texts = h.texts(call.sid)
    assert 'say: "Moved along"' in texts and 'say: "Never"' not in texts


def test_rest_inline_twiml_update(h):
    h.app.on("/voice/offer", '<Response><Pause length="1000"/></Response>')
    call = _create(h)
    h.app.wait_hits("/voice/offer")
    h.twilio.calls(call.sid).update(twiml="<Response><Say>Inline</Say></Response>")
    h.ended(call.sid)
    assert 'say: "Inline"' in h.texts(call.sid)


def test_rest_hangup_then_updating_an_ended_call_is_21220(h):
    h.app.on("/voice/offer", '<Response><Pause length="1000"/></Response>')
    call = _create(h)
    h.app.wait_hits("/voice/offer")
    h.twilio.calls(call.sid).update(status="completed")
    assert h.ended(call.sid, timeout=3)["status"] == "completed"
    with pytest.raises(TwilioRestException) as err:
        h.twilio.calls(call.sid).update(url=h.url("/voice/x"))
    assert err.value.status == 400 and err.value.code == 21220
    assert "not in-progress" in err.value.msg


def test_canceling_a_ringing_call(h):
    h.sim.set_parties({LIAISON: {"answer": "never"}})
    call = _create(h, timeout=30, status_callback_event=["ringing"])
    h.app.wait_hits("/voice/offer/status", where=lambda r: r["form"]["CallStatus"] == "ringing")
    h.twilio.calls(call.sid).update(status="canceled")
    assert h.ended(call.sid, timeout=3)["status"] == "canceled"
    assert h.app.wait_hits("/voice/offer/status", 2)[-1]["form"]["CallStatus"] == "canceled"


def test_twilio_shaped_errors(h):
    with pytest.raises(TwilioRestException) as missing:
        h.twilio.calls("CA" + "0" * 32).fetch()
    assert missing.value.status == 404 and missing.value.code == 20404
    with pytest.raises(TwilioRestException) as bad_to:
        _create(h, to="12345")
    assert bad_to.value.status == 400 and bad_to.value.code == 21211
    intruder = Client(h.ACCOUNT_SID, "wrong-token", http_client=SimulatorHttpClient(h.simulator.url))
    with pytest.raises(TwilioRestException) as denied:
        intruder.calls.create(to=LIAISON, from_=h.NUMBER, url=h.url("/x"))
    assert denied.value.status == 401 and denied.value.code == 20003
    raw = requests.post(f"{h.simulator.url}/2010-04-01/Accounts/{h.ACCOUNT_SID}/Calls.json", data={})
    assert raw.status_code == 401 and raw.json() == {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }
    assert h.sim.calls() == []


def test_fault_injection_serves_429_500_and_a_hang_in_order(h):
    h.sim.faults([{"status": 429}, {"status": 500}, {"hang": 0.6}])
    with pytest.raises(TwilioRestException) as first:
        _create(h)
    assert first.value.status == 429
    with pytest.raises(TwilioRestException) as second:
        _create(h)
    assert second.value.status == 500
    slow = Client(h.ACCOUNT_SID, h.AUTH_TOKEN, http_client=SimulatorHttpClient(h.simulator.url, timeout=0.2))
    with pytest.raises(requests.exceptions.Timeout):
        slow.calls.create(to=LIAISON, from_=h.NUMBER, url=h.url("/voice/offer"))
    assert _create(h).status == "queued"  # faults used up
    h.sim.wait_for(lambda: len(h.sim.calls()) == 2)  # the hung create still went through, as Twilio's may


def test_outbound_sms_is_recorded_with_status_callbacks(h):
    msg = h.twilio.messages.create(
        to="+12125550177", from_=h.NUMBER, body="Interpreter on the way.", status_callback=h.url("/sms/status")
    )
    assert msg.sid.startswith("SM") and len(msg.sid) == 34 and msg.status == "queued"
    sent = h.sim.wait_for(lambda: h.sim.messages())
    assert sent[0]["to"] == "+12125550177" and sent[0]["body"] == "Interpreter on the way."
    assert sent[0]["source"] == "rest"
    statuses = [r["form"]["MessageStatus"] for r in h.app.wait_hits("/sms/status", 2)]
    assert statuses == ["sent", "delivered"]
    with pytest.raises(TwilioRestException) as bad:
        h.twilio.messages.create(to="not-a-number", from_=h.NUMBER, body="x")
    assert bad.value.code == 21211


OFFICER = "+12125550111"


def test_conferences_and_their_participants_as_twilio_lists_them(h):
    """A room waiting (init), started (in-progress) and over (completed), read through the SDK."""
    h.sim.set_parties({LIAISON: {"answer": "after", "answer_after": 0.05}})
    h.app.on(
        "/voice/incoming",
        '<Response><Dial><Conference startConferenceOnEnter="false" '
        'waitUrl="">req-R00007</Conference></Dial></Response>',
    )
    h.app.on("/voice/offer", "<Response><Dial><Conference>req-R00007</Conference></Dial></Response>")
    officer = h.sim.place_call(OFFICER)
    h.sim.wait_for(lambda: h.twilio.conferences.list(friendly_name="req-R00007", status="init"))
    [waiting] = h.twilio.conferences.list(friendly_name="req-R00007", status="init")
    assert waiting.sid.startswith("CF") and waiting.friendly_name == "req-R00007"
    assert [p.call_sid for p in h.twilio.conferences(waiting.sid).participants.list()] == [officer]
    assert h.twilio.conferences.list(friendly_name="req-R00007", status="in-progress") == []

    liaison = _create(h).sid
    h.sim.wait_for(lambda: h.twilio.conferences.list(friendly_name="req-R00007", status="in-progress"))
    room = h.twilio.conferences(waiting.sid).fetch()
    assert room.status == "in-progress" and room.account_sid == h.ACCOUNT_SID
    people = h.twilio.conferences(room.sid).participants.list()
    assert [p.call_sid for p in people] == [officer, liaison]
    assert [(p.start_conference_on_enter, p.end_conference_on_exit, p.status) for p in people] == [
        (False, False, "connected"),
        (True, False, "connected"),
    ]
    assert h.twilio.conferences.list(friendly_name="req-R00099", status="in-progress") == []

    h.sim.hangup(officer)
    h.sim.hangup(liaison)
    h.sim.wait_for(lambda: h.twilio.conferences(room.sid).fetch().status == "completed")
    assert h.twilio.conferences(room.sid).participants.list() == []
    assert [c.sid for c in h.twilio.conferences.list(friendly_name="req-R00007", status="completed")] == [room.sid]
    assert h.twilio.conferences(room.sid).fetch().reason_conference_ended == "last-participant-left"
    with pytest.raises(TwilioRestException) as unknown:
        h.twilio.conferences("CF" + "0" * 32).fetch()
    assert unknown.value.status == 404


def test_a_fault_may_name_the_request_it_is_for(h):
    """Faults for one call's updates leave every other request alone, in any order."""
    h.sim.set_parties({LIAISON: {"answer": "after", "answer_after": 0.05}, "+12125550132": {"answer": "after"}})
    h.app.on("/voice/offer", '<Response><Pause length="60"/></Response>')
    first, second = _create(h), _create(h, to="+12125550132")
    h.sim.faults([{"status": 500, "count": 2, "method": "POST", "path": f"/Calls/{first.sid}.json"}])
    assert h.twilio.calls(first.sid).fetch().sid == first.sid  # a GET: not this fault's
    assert h.twilio.calls(second.sid).update(status="completed").sid == second.sid
    for _ in range(2):
        with pytest.raises(TwilioRestException) as refused:
            h.twilio.calls(first.sid).update(url=h.url("/voice/dropped"))
        assert refused.value.status == 500
    assert h.twilio.calls(first.sid).update(status="completed").sid == first.sid  # used up
    served = [e["text"] for e in h.sim.log() if e["text"].startswith("fault:")]
    ending = mask_text(f"/Calls/{first.sid}.json answered 500")  # the log masks digit runs, in sids too
    assert len(served) == 2 and all(t.startswith("fault: REST POST /") and t.endswith(ending) for t in served)


def test_lost_status_callbacks_are_never_delivered_and_the_loss_can_be_cleared(h):
    h.sim.set_parties({LIAISON: {"answer": "after", "answer_after": 0.05, "hangup_after": 0.1}})
    h.app.on("/voice/offer", '<Response><Pause length="60"/></Response>')
    h.sim.faults(lose_callbacks=[{"path": "/voice/offer/status", "count": 1}])
    lost = _create(h, status_callback_event=["completed"])
    h.sim.wait_for(lambda: h.sim.call(lost.sid)["status"] == "completed")
    assert any(e["text"] == "status callback (completed) lost (fault)" for e in h.sim.log() if e["call"] == lost.sid)
    delivered = _create(h, status_callback_event=["completed"])  # the one loss is used up
    assert h.app.wait_hits("/voice/offer/status")[0]["form"]["CallSid"] == delivered.sid

    h.sim.faults(lose_callbacks=[{"count": 100}], rest=[{"status": 500, "count": 5}])
    h.sim.clear_faults()
    again = _create(h, status_callback_event=["completed"])
    h.app.wait_hits("/voice/offer/status", 2)
    assert [r["form"]["CallSid"] for r in h.app.hits("/voice/offer/status")] == [delivered.sid, again.sid]
