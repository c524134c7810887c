"""The officer's call end to end: simulator → webhooks → Redis → RQ workers → simulator.

Every test dials in as a simulated officer and asserts what an officer, a liaison
or the vendor would notice: who got rung, who was connected, what the vendor's IVR
received, and what the sergeants see in the request record.
"""

from __future__ import annotations

import pytest

from dispatch import keys
from dispatch.phone import mask
from dispatch.states import State

pytestmark = pytest.mark.e2e


def _spanish(stack):
    return [liaison for liaison in stack.roster.liaisons if "spa" in liaison.languages]


def _keypad(stack, language_id: str) -> str:
    from dispatch.languages import default_catalog

    return default_catalog().get(language_id).keypad


def _line(stack) -> str:
    return stack.roster.precincts[0].lines[0]


def _order(stack, liaisons) -> None:
    """Make `liaisons` the longest idle, in this order."""
    stack.redis.zadd(keys.LIAISONS_AVAILABLE, {liaison.id: 1000 + i for i, liaison in enumerate(liaisons)})


def _history(stack, rec):
    from dispatch.requests import RequestStore

    return RequestStore(stack.redis, 3600).history(rec.id)


def _silence_everyone(stack) -> None:
    stack.sim.set_parties({liaison.phone: {"answer": "never"} for liaison in stack.roster.liaisons})


def test_liaison_accepts_and_joins_the_officer(stack):
    first, *_ = _spanish(stack)
    _silence_everyone(stack)
    _order(stack, _spanish(stack))
    stack.sim.set_parties({first.phone: {"answer": "after", "answer_after": 0.2, "inputs": [{"digits": "1"}]}})
    stack.sim.place_call(
        _line(stack), stack.roster.service_number, inputs=[{"digits": _keypad(stack, "spa") + "#"}, {"digits": "1"}]
    )
    rec = stack.wait_request(lambda r: r.state == State.CONNECTED, what="connected request")
    assert rec.language == "spa" and rec.handler_kind == "liaison" and rec.handler_id == first.id
    assert rec.precinct == stack.roster.precincts[0].id
    assert rec.time_to_interpreter is not None and rec.time_to_interpreter < 10
    room = stack.sim.wait_for(
        lambda: [c for c in stack.sim.conferences() if c["name"] == rec.conference and len(c["participants"]) == 2],
        timeout=10,
    )
    assert room
    events = [h["event"] for h in _history(stack, rec)]
    assert events == ["created", "offer", "liaison_connected"]


def test_first_liaison_declines_second_accepts(stack):
    first, second, *_ = _spanish(stack)
    _silence_everyone(stack)
    _order(stack, [first, second])
    stack.sim.set_parties(
        {
            first.phone: {"answer": "after", "answer_after": 0.1, "inputs": [{"digits": "2"}]},
            second.phone: {"answer": "after", "answer_after": 0.1, "inputs": [{"digits": "1"}]},
        }
    )
    stack.sim.place_call(
        _line(stack),
        stack.roster.service_number,
        inputs=[{"speech": "Spanish please", "confidence": 0.9}, {"digits": "1"}],
    )
    rec = stack.wait_request(lambda r: r.state == State.CONNECTED, what="connected request")
    assert rec.handler_id == second.id
    hist = _history(stack, rec)
    offers = [(h["event"], h["data"].get("liaison"), h["data"].get("outcome")) for h in hist if "offer" in h["event"]]
    assert offers[:3] == [("offer", first.id, None), ("offer_ended", first.id, "declined"), ("offer", second.id, None)]
    assert stack.request(rec.id).state == State.CONNECTED


def _expect_vendor(stack, language: str | None, **party):
    """The vendor line answers and checks it receives exactly account, PIN and language."""
    from dispatch.languages import default_catalog

    vendor = stack.roster.vendor
    code = (
        vendor.unknown_language_code
        if language is None
        else (vendor.language_codes.get(language) or default_catalog().get(language).vendor_code)
    )
    expected = vendor.dtmf_for(code)
    stack.sim.set_parties(
        {vendor.number: {"answer": "after", "answer_after": 0.1, "expect_send_digits": expected, **party}}
    )
    return expected


def test_no_liaison_speaks_it_so_the_vendor_gets_the_exact_dtmf(stack):
    speakers = {lang for liaison in stack.roster.liaisons for lang in liaison.languages}
    assert "tir" not in speakers
    expected = _expect_vendor(stack, "tir")
    stack.sim.place_call(
        _line(stack), stack.roster.service_number, inputs=[{"digits": _keypad(stack, "tir") + "#"}, {"digits": "1"}]
    )
    rec = stack.wait_request(lambda r: r.state == State.CONNECTED, what="vendor-connected request")
    assert rec.handler_kind == "vendor" and rec.vendor_attempt == "main"
    vendor_calls = [c for c in stack.sim.calls() if c["to"] == stack.roster.vendor.number]
    assert len(vendor_calls) == 1
    assert vendor_calls[0]["received_digits"] == expected
    assert vendor_calls[0]["digits_matched"] is True
    assert [h["data"].get("reason") for h in _history(stack, rec) if h["event"] == "vendor_dial"] == [
        "no liaison available"
    ]


def test_vendor_main_number_fails_and_the_alternate_answers(stack):
    vendor = stack.roster.vendor
    assert vendor.alternate
    stack.sim.set_parties(
        {vendor.number: {"answer": "failed"}, vendor.alternate: {"answer": "after", "answer_after": 0.1}}
    )
    stack.sim.place_call(_line(stack), stack.roster.service_number, inputs=[{"digits": "0#"}])
    rec = stack.wait_request(lambda r: r.state == State.CONNECTED, what="connected via alternate")
    assert rec.vendor_attempt == "alternate" and rec.handler_kind == "vendor"
    assert rec.language is None
    events = [h["event"] for h in _history(stack, rec)]
    assert events == ["created", "vendor_dial", "vendor_retry", "vendor_connected"]


def test_both_vendor_numbers_fail_the_caller_hears_it_and_can_retry(stack):
    vendor = stack.roster.vendor
    stack.sim.set_parties({vendor.number: {"answer": "busy"}, vendor.alternate: {"answer": "failed"}})
    call = stack.sim.place_call(_line(stack), stack.roster.service_number, inputs=[{"digits": "0#"}, {"digits": "1"}])
    failed = stack.wait_request(lambda r: r.state == State.FAILED, what="failed request")
    assert failed.outcome.startswith("vendor")
    retried = stack.wait_request(lambda r: r.previous == failed.id, what="retry after failure")
    assert retried.officer_call == failed.officer_call
    log = " ".join(e["text"] for e in stack.sim.log() if e.get("call") == call)
    assert "No interpreter could be reached" in log


def test_caller_hangs_up_while_a_liaison_is_ringing(stack):
    first, *_ = _spanish(stack)
    _silence_everyone(stack)
    _order(stack, _spanish(stack))
    stack.sim.place_call(
        _line(stack),
        stack.roster.service_number,
        inputs=[{"digits": _keypad(stack, "spa") + "#"}, {"digits": "1"}],
        hangup_after=1.5,
    )
    rec = stack.wait_request(lambda r: r.state == State.ABANDONED, what="abandoned request")
    assert any(h["event"] == "offer" for h in _history(stack, rec))
    liaison_calls = stack.sim.wait_for(
        lambda: [
            c
            for c in stack.sim.calls()
            if c["to"] == first.phone and c["status"] in ("canceled", "completed", "no-answer")
        ],
        timeout=10,
    )
    assert liaison_calls, "the ringing liaison's phone must stop ringing"
    from dispatch.liaisons import LiaisonBoard

    assert LiaisonBoard(stack.redis).status(first.id).state == "idle"


def test_wrong_keys_and_unclear_speech_are_asked_again(stack):
    _expect_vendor(stack, None)
    call = stack.sim.place_call(
        _line(stack),
        stack.roster.service_number,
        inputs=[
            {"digits": "77777#"},
            {"speech": "uh the thing", "confidence": 0.2},
            {"digits": _keypad(stack, "spa") + "#"},
            {"digits": "7"},  # 3, 4 and 5 have meanings at the read-back (issue 17)
            {"digits": "1"},
        ],
    )
    rec = stack.wait_request(lambda r: r.language == "spa", what="Spanish request")
    assert rec.caller_kind == "precinct"
    text = " ".join(e["text"] for e in stack.sim.log() if e.get("call") == call)
    assert text.count("did not recognise") + text.count("did not get that") >= 2
    assert "please press 1 or 2" in text.lower()


def test_three_bad_tries_go_to_the_vendor_not_a_dead_end(stack):
    _expect_vendor(stack, None)
    stack.sim.place_call(
        _line(stack),
        stack.roster.service_number,
        inputs=[{"digits": "77777#"}, {"digits": "88888#"}, {"silence": True}],
    )
    rec = stack.wait_request(lambda r: r.state in (State.VENDOR_DIALING, State.CONNECTED), what="vendor request")
    assert rec.language is None


def test_unknown_caller_identifies_with_precinct_and_pin(stack):
    precinct = stack.roster.precincts[0]
    stranger = "+13475550199"
    assert stack.roster.caller(stranger) is None
    stack.sim.place_call(
        stranger,
        stack.roster.service_number,
        inputs=[
            {"digits": "999#"},
            {"digits": precinct.id + "#"},
            {"digits": "0000#"},
            {"digits": precinct.pin + "#"},
            {"digits": "0#"},
        ],
    )
    rec = stack.wait_request(lambda r: r.caller_kind == "pin", what="PIN caller's request")
    assert rec.precinct == precinct.id
    assert rec.caller == mask(stranger), "a number not in the roster is kept masked"


def test_unknown_caller_who_never_identifies_queues_nothing(stack):
    call = stack.sim.place_call(
        "+13475550198", stack.roster.service_number, inputs=[{"digits": "1#"}, {"digits": "2#"}, {"digits": "3#"}]
    )
    stack.sim.wait_for(lambda: stack.sim.call(call)["status"] == "completed", timeout=10)
    assert stack.requests() == []
    text = " ".join(e["text"] for e in stack.sim.log() if e.get("call") == call)
    assert "desk sergeant" in text


@pytest.mark.parametrize("urgent_key", ["9", "9#"])
def test_urgent_goes_straight_to_the_vendor(stack, urgent_key):
    """9 alone (the menu takes it when the line times out) and 9 then # alike, as the code card says."""
    _silence_everyone(stack)
    _expect_vendor(stack, "spa")
    stack.sim.place_call(
        _line(stack),
        stack.roster.service_number,
        inputs=[{"digits": urgent_key}, {"digits": _keypad(stack, "spa") + "#"}],
    )
    rec = stack.wait_request(lambda r: r.state == State.CONNECTED, what="urgent request connected")
    assert rec.urgent and rec.handler_kind == "vendor"
    assert not any(h["event"] == "offer" for h in _history(stack, rec)), "urgent skips the liaison window"


def test_interpreter_leaving_lets_the_officer_press_1_for_another(stack):
    first, second, *_ = _spanish(stack)
    _silence_everyone(stack)
    _order(stack, [first, second])
    stack.sim.set_parties(
        {
            first.phone: {"answer": "after", "answer_after": 0.1, "inputs": [{"digits": "1"}], "hangup_after": 1.0},
            second.phone: {"answer": "after", "answer_after": 0.1, "inputs": [{"digits": "1"}]},
        }
    )
    stack.sim.place_call(
        _line(stack),
        stack.roster.service_number,
        inputs=[{"digits": _keypad(stack, "spa") + "#"}, {"digits": "1"}, {"digits": "1"}],
    )
    done = stack.wait_request(lambda r: r.state == State.COMPLETED, what="first request completed")
    again = stack.wait_request(
        lambda r: r.previous == done.id and r.state == State.CONNECTED, what="second interpreter connected"
    )
    assert done.handler_id == first.id and again.handler_id == second.id
