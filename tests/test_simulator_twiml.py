"""The simulator follows the app's TwiML as Twilio would, with signed, Twilio-shaped webhooks."""

from __future__ import annotations

import pytest

from simulator.testing import Harness

CALLER = "+12125550111"


@pytest.fixture
def h():
    with Harness() as harness:
        yield harness


def test_say_gather_digits_then_action_with_twilio_fields_and_valid_signatures(h):
    h.app.on(
        "/voice/incoming",
        """<Response><Say voice="Polly.Joanna" language="en-US">Interpretation service.</Say>
        <Gather action="/voice/lang?t=0" method="POST" numDigits="2" timeout="3">
          <Say>Enter the language code.</Say></Gather><Say>Never reached</Say></Response>""",
    )
    h.app.on("/voice/lang", lambda form, args: f"<Response><Say>You chose {form['Digits']}</Say><Hangup/></Response>")
    sid = h.sim.place_call(CALLER, h.NUMBER, inputs=[{"digits": "12"}])
    call = h.ended(sid)
    assert call["status"] == "completed" and call["direction"] == "inbound" and call["number"] == CALLER
    first = h.app.wait_hits("/voice/incoming")[0]["form"]
    assert first["CallStatus"] == "ringing"
    assert {
        k: first[k] for k in ("AccountSid", "ApiVersion", "CallSid", "Direction", "From", "To", "Called", "Caller")
    } == {
        "AccountSid": h.ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "CallSid": sid,
        "Direction": "inbound",
        "From": CALLER,
        "To": h.NUMBER,
        "Called": h.NUMBER,
        "Caller": CALLER,
    }
    action = h.app.wait_hits("/voice/lang")[0]
    assert action["args"] == {"t": "0"}
    assert action["form"]["Digits"] == "12" and action["form"]["CallStatus"] == "in-progress"
    status = h.app.wait_hits("/voice/status")[0]["form"]
    assert status["CallStatus"] == "completed" and status["CallSid"] == sid and "CallDuration" in status
    assert status["CallbackSource"] == "call-progress-events"
    assert all(r["valid"] for r in h.app.hits()), "every webhook must carry a valid X-Twilio-Signature"
    texts = h.texts(sid)
    assert 'say (Polly.Joanna, en-US): "Interpretation service."' in texts
    assert "gather: digits 12" in texts and 'say: "You chose 12"' in texts
    assert 'say: "Never reached"' not in texts


def test_gather_finish_key_and_speech(h):
    h.app.on(
        "/voice/incoming",
        """<Response>
        <Gather action="/voice/a" input="dtmf speech" timeout="2"><Say>Code or language?</Say></Gather></Response>""",
    )
    h.app.on("/voice/a", """<Response><Gather action="/voice/b" input="dtmf speech"/></Response>""")
    h.app.on("/voice/b", "<Response><Hangup/></Response>")
    sid = h.sim.place_call(CALLER, inputs=[{"digits": "42#"}, {"speech": "Spanish please", "confidence": 0.92}])
    h.ended(sid)
    first = h.app.wait_hits("/voice/a")[0]["form"]
    assert first["Digits"] == "42" and first["FinishedOnKey"] == "#"
    second = h.app.wait_hits("/voice/b")[0]["form"]
    assert second["SpeechResult"] == "Spanish please" and second["Confidence"] == "0.92"
    assert "Digits" not in second


def test_silence_falls_through_and_action_on_empty_result(h):
    h.app.on(
        "/voice/incoming",
        """<Response>
        <Gather action="/voice/never" timeout="1"><Say>Press a key.</Say></Gather>
        <Say>We did not get that.</Say>
        <Gather action="/voice/empty" actionOnEmptyResult="true" timeout="1"/></Response>""",
    )
    h.app.on("/voice/empty", "<Response><Say>Empty result posted.</Say></Response>")
    sid = h.sim.place_call(CALLER, inputs=[{"silence": True}])  # second gather: script exhausted → silence
    h.ended(sid)
    assert h.app.hits("/voice/never") == []
    empty = h.app.wait_hits("/voice/empty")[0]["form"]
    assert "Digits" not in empty and "SpeechResult" not in empty
    texts = h.texts(sid)
    assert texts.index('say: "We did not get that."') < texts.index('say: "Empty result posted."')


def test_redirect_with_get_and_pause_takes_scaled_time(h):
    h.app.on(
        "/voice/incoming",
        '<Response><Pause length="10"/><Redirect method="GET">/voice/next?step=2</Redirect>'
        "<Say>Skipped</Say></Response>",
    )
    h.app.on("/voice/next", "<Response><Say>Second document</Say></Response>")
    sid = h.sim.place_call(CALLER)
    h.ended(sid)
    first, second = h.app.wait_hits("/voice/incoming")[0], h.app.wait_hits("/voice/next")[0]
    assert second["method"] == "GET" and second["args"]["step"] == "2" and second["args"]["CallSid"] == sid
    assert second["valid"]
    assert second["t"] - first["t"] >= 10 * 0.02 * 0.9, "Pause length=10 at time_scale 0.02 is 0.2 s"
    assert 'say: "Skipped"' not in h.texts(sid)


def test_document_that_runs_out_ends_the_call_and_unknown_verbs_hang_up(h):
    h.app.on("/voice/incoming", "<Response><Say>One</Say><Record/><Say>Two</Say></Response>")
    sid = h.sim.place_call(CALLER)
    call = h.ended(sid)
    texts = h.texts(sid)
    assert any("error 12200" in t and "<Record>" in t for t in texts)
    assert 'say: "Two"' not in texts and call["status"] == "completed"


def test_play_digits_reach_the_party(h):
    h.app.on("/voice/incoming", '<Response><Play digits="ww1234#"/><Play>http://x.test/a.mp3</Play></Response>')
    sid = h.sim.place_call(CALLER)
    assert h.ended(sid)["received_digits"] == "ww1234#"


def test_primary_500_uses_the_fallback_url_with_error_code(h):
    h.app.on("/voice/incoming", 500)
    h.app.on("/voice/fallback", "<Response><Say>Connecting you directly.</Say></Response>")
    sid = h.sim.place_call(CALLER)
    h.ended(sid)
    fb = h.app.wait_hits("/voice/fallback")[0]["form"]
    assert fb["ErrorCode"] == "11200" and fb["ErrorUrl"] == h.url("/voice/incoming") and fb["CallSid"] == sid
    assert 'say: "Connecting you directly."' in h.texts(sid)


def test_invalid_xml_then_failing_fallback_says_application_error(h):
    h.app.on("/voice/incoming", "this is not xml")
    h.app.on("/voice/fallback", 503)
    sid = h.sim.place_call(CALLER)
    call = h.ended(sid)
    assert h.app.wait_hits("/voice/fallback")[0]["form"]["ErrorCode"] == "12100"
    assert any("an application error has occurred" in t for t in h.texts(sid))
    assert call["status"] == "completed"


def test_failing_action_url_also_goes_to_the_fallback(h):
    h.app.on("/voice/incoming", '<Response><Gather action="/voice/boom" numDigits="1"/></Response>')
    h.app.on("/voice/boom", 500)
    h.app.on("/voice/fallback", "<Response><Say>Recovered</Say></Response>")
    sid = h.sim.place_call(CALLER, inputs=[{"digits": "1"}])
    h.ended(sid)
    assert h.app.wait_hits("/voice/fallback")[0]["form"]["ErrorUrl"] == h.url("/voice/boom")


def test_caller_hanging_up_mid_call_posts_completed_with_duration(h):
    h.app.on("/voice/incoming", '<Response><Pause length="1000"/></Response>')
    sid = h.sim.place_call(CALLER, hangup_after=0.3)
    call = h.ended(sid, timeout=5)
    assert call["status"] == "completed" and "hung up" in call["end_reason"]
    status = h.app.wait_hits("/voice/status")[0]["form"]
    assert status["CallStatus"] == "completed" and status["CallDuration"] == "0"


def test_reject_before_answer(h):
    h.app.on("/voice/incoming", '<Response><Reject reason="busy"/></Response>')
    sid = h.sim.place_call(CALLER)
    assert h.ended(sid)["status"] == "busy"
    assert h.app.wait_hits("/voice/status")[0]["form"]["CallStatus"] == "busy"
