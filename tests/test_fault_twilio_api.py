"""Fault 4: the Twilio REST API answering 429, 500, or not answering in time.

End to end through the running stack: the simulator serves the injected faults to the
next REST requests the service makes (`sim.faults`), the real twilio SDK inside the
RQ workers meets them, and the tests assert what people would notice: retried with
backoff, never a second call to the same phone, and after the last try the request
moves on (next liaison, alternate vendor number, or a clear failure) with an entry
the sergeants see in the request history and on the events stream.
"""

from __future__ import annotations

import logging

import pytest

from dispatch import events, keys
from dispatch.languages import default_catalog
from dispatch.states import State
from tests.test_fault_support import history_times, overlaps

pytestmark = pytest.mark.e2e

ACCEPT = {"answer": "after", "answer_after": 0.1, "inputs": [{"digits": "1"}]}


def _spanish(stack):
    return [l for l in stack.roster.liaisons if "spa" in l.languages]


def _line(stack) -> str:
    return stack.roster.precincts[0].lines[0]


def _officer_asks_for_spanish(stack, first, second, first_script=ACCEPT, second_script=ACCEPT) -> str:
    stack.sim.set_parties({l.phone: {"answer": "never"} for l in stack.roster.liaisons})
    stack.sim.set_parties({first.phone: first_script, second.phone: second_script})
    stack.redis.zadd(keys.LIAISONS_AVAILABLE, {first.id: 1000, second.id: 1001})
    keypad = default_catalog().get("spa").keypad
    return stack.sim.place_call(
        _line(stack), stack.roster.service_number, inputs=[{"digits": keypad + "#"}, {"digits": "1"}]
    )


def _faults_served(stack) -> list[str]:
    return [e["text"] for e in stack.sim.log() if e["text"].startswith("fault: REST")]


def _dial_errors(stack, request_id: str) -> list[dict]:
    return [
        e.data
        for e in events.read(stack.redis, after="0", count=100000)
        if e.request == request_id and e.event == "dial_error"
    ]


def _calls_to(stack, number: str) -> list[dict]:
    return [c for c in stack.sim.calls() if c["to"] == number]


def test_429_then_500_are_retried_and_the_liaison_is_rung_once(stack):
    first, second, *_ = _spanish(stack)
    stack.sim.faults([{"status": 429}, {"status": 500}])
    _officer_asks_for_spanish(stack, first, second)
    rec = stack.wait_request(lambda r: r.state == State.CONNECTED, what="connected after two retries")
    assert rec.handler_id == first.id
    assert len(_faults_served(stack)) == 2
    assert len(_calls_to(stack, first.phone)) == 1, "two failed tries, one call"
    assert _calls_to(stack, second.phone) == []
    assert [e for _, e, _ in history_times(stack, rec.id)] == ["created", "offer", "liaison_connected"]
    assert _dial_errors(stack, rec.id) == [], "a retry that worked is not an error"


def test_500_on_every_try_moves_on_to_the_next_liaison_and_the_sergeants_see_why(stack):
    first, second, *_ = _spanish(stack)
    stack.sim.faults([{"status": 500, "count": stack.settings.twilio_retries}])
    _officer_asks_for_spanish(stack, first, second)
    rec = stack.wait_request(lambda r: r.state == State.CONNECTED, what="connected to the next liaison")
    assert rec.handler_id == second.id
    steps = [(e, d.get("liaison"), d.get("outcome")) for _, e, d in history_times(stack, rec.id)]
    assert steps == [
        ("created", None, None),
        ("offer", first.id, None),
        ("offer_ended", first.id, "dial-failed"),
        ("offer", second.id, None),
        ("liaison_connected", second.id, None),
    ]
    assert _dial_errors(stack, rec.id) == [{"to": first.id, "status": 500, "maybe_placed": False}]
    assert len(_faults_served(stack)) == stack.settings.twilio_retries
    assert _calls_to(stack, first.phone) == [], "the network refused every try: the phone never rang"
    from dispatch.liaisons import LiaisonBoard

    status = LiaisonBoard(stack.redis).status(first.id)
    assert status.state == "idle" and status.available_at == 1000, "never rung, so they keep their place"


def test_429_on_every_try_of_the_vendor_goes_to_the_alternate_number(stack):
    vendor = stack.roster.vendor
    stack.sim.set_parties({l.phone: {"answer": "never"} for l in stack.roster.liaisons})
    stack.sim.set_parties(
        {
            vendor.number: {"answer": "after", "answer_after": 0.1},
            vendor.alternate: {"answer": "after", "answer_after": 0.1},
        }
    )
    stack.sim.faults([{"status": 429, "count": stack.settings.twilio_retries}])
    stack.sim.place_call(_line(stack), stack.roster.service_number, inputs=[{"digits": "0#"}])
    rec = stack.wait_request(lambda r: r.state == State.CONNECTED, what="connected via the alternate")
    assert rec.vendor_attempt == "alternate" and rec.handler_kind == "vendor"
    steps = [(e, d.get("outcome")) for _, e, d in history_times(stack, rec.id)]
    assert steps == [
        ("created", None),
        ("vendor_dial", None),
        ("vendor_retry", "dial-failed"),
        ("vendor_connected", None),
    ]
    assert _dial_errors(stack, rec.id) == [{"to": "vendor", "status": 429, "maybe_placed": False}]
    assert _calls_to(stack, vendor.number) == [] and len(_calls_to(stack, vendor.alternate)) == 1


def test_both_vendor_numbers_refused_the_request_fails_and_the_officer_hears_it(stack):
    stack.sim.faults([{"status": 500, "count": 2 * stack.settings.twilio_retries}])
    call = stack.sim.place_call(_line(stack), stack.roster.service_number, inputs=[{"digits": "0#"}])
    rec = stack.wait_request(lambda r: r.state == State.FAILED, what="failed request")
    assert rec.outcome == "vendor dial-failed"
    assert [e for _, e, _ in history_times(stack, rec.id)] == ["created", "vendor_dial", "vendor_retry", "fail"]
    assert len(_dial_errors(stack, rec.id)) == 2
    stack.sim.wait_for(
        lambda: any("No interpreter could be reached" in e["text"] for e in stack.sim.log() if e.get("call") == call),
        timeout=10,
    )
    assert _calls_to(stack, stack.roster.vendor.number) == []


def test_a_create_that_times_out_is_not_repeated_and_the_late_call_still_connects(stack):
    first, second, *_ = _spanish(stack)
    s = stack.settings
    # The create hangs past the SDK's timeout, then the network places the call anyway.
    stack.sim.faults([{"hang": s.twilio_http_timeout + 0.5}])
    _officer_asks_for_spanish(stack, first, second)
    rec = stack.wait_request(lambda r: r.state == State.CONNECTED, timeout=15, what="connected")
    assert rec.handler_id == first.id
    assert len(_calls_to(stack, first.phone)) == 1, "a create that may have gone through is never repeated"
    assert _calls_to(stack, second.phone) == []
    assert _dial_errors(stack, rec.id) == [{"to": first.id, "status": None, "maybe_placed": True}]
    assert overlaps(stack.sim.calls(), {l.phone for l in stack.roster.liaisons}) == []


def test_a_hang_up_the_network_refuses_does_not_stop_the_move_to_the_vendor(stack):
    """A sergeant sends a request to the vendor while a liaison's phone rings; the API
    refuses the hang-up on every try. The vendor is still dialled at once."""
    from dispatch.context import build_context
    from dispatch.routing import Dispatcher
    from workers.jobqueue import RQJobs

    first, second, *_ = _spanish(stack)
    vendor = stack.roster.vendor
    stack.sim.set_parties({vendor.number: {"answer": "after", "answer_after": 0.1}})
    _officer_asks_for_spanish(stack, first, second, {"answer": "never"}, {"answer": "never"})
    ringing = stack.sim.wait_for(lambda: [c for c in _calls_to(stack, first.phone) if c["status"] == "ringing"])
    rec = stack.wait_request(
        lambda r: r.state == State.OFFERING and r.offer_call == ringing[0]["sid"], what="offer with its call sid"
    )
    sergeant = Dispatcher(build_context(stack.settings, jobs=RQJobs.from_settings(stack.settings)))
    stack.sim.faults([{"status": 500, "count": stack.settings.twilio_retries}])
    assert sergeant.send_to_vendor_now(rec.id)
    rec = stack.wait_request(
        lambda r: r.id == rec.id and r.state == State.CONNECTED, timeout=10, what="connected to the vendor"
    )
    assert rec.handler_kind == "vendor" and rec.vendor_attempt == "main"
    assert len(_faults_served(stack)) == stack.settings.twilio_retries
    from dispatch.liaisons import LiaisonBoard

    assert LiaisonBoard(stack.redis).status(first.id).state == "idle"


def test_a_call_back_the_network_refuses_fails_the_texted_request_with_a_text(stack):
    supervisor = stack.roster.supervisors[0]
    stack.sim.faults([{"status": 503, "count": stack.settings.twilio_retries}])
    stack.sim.send_sms(supervisor.cell, stack.roster.service_number, "spanish")
    rec = stack.wait_request(lambda r: r.state == State.FAILED, what="failed texted request")
    assert rec.outcome == "call-back dial-failed"
    assert [c for c in stack.sim.calls() if c["to"] == supervisor.cell] == []
    texts = stack.sim.wait_for(
        lambda: [
            m["body"]
            for m in stack.sim.messages()
            if m["to"] == supervisor.cell and m["body"].startswith(f"Request {rec.id}") and "closed" in m["body"]
        ],
        timeout=10,
    )
    assert texts


# ---------------------------------------------------------------- what the errors carry


def test_a_refusal_naming_the_number_is_logged_masked(caplog):
    """Twilio's 4xx messages often quote the number ("Invalid 'To' Phone Number:
    +1..."); the adapter's error, and so every log line built from it, masks it."""
    from dispatch.telephony import CallRequest, TelephonyError
    from dispatch.telephony.twilio_adapter import TwilioTelephony
    from tests.support.http_stub import HttpStub, Scripted

    stub = HttpStub()
    try:
        stub.script(
            Scripted(
                400,
                {"code": 21211, "status": 400, "message": "The 'To' number +16465550120 is not a valid phone number."},
            ),
            Scripted(400, {"code": 21608, "status": 400, "message": "The number 16465550120 is unverified."}),
        )
        t = TwilioTelephony("AC" + "1" * 32, "token", api_base_url=stub.url, retries=1, backoff=0.01)
        call = CallRequest(
            to="+16465550120",
            from_="+12125550100",
            url="https://x/voice/offer",
            status_callback="https://x/voice/offer/status",
            timeout=20,
        )
        for _ in range(2):
            with pytest.raises(TelephonyError) as err:
                t.place_call(call)
            text = str(err.value)
            assert "6465550120" not in text and "0120" in text, text
            logging.getLogger("dispatch.routing").warning("could not ring: %s", err.value)
    finally:
        stub.stop()
    assert "6465550120" not in caplog.text
