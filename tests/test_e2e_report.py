"""Issue 17 end to end: simulator → webhooks → Redis → RQ workers → simulator. What the officer's
report and the victim need: an interpreter of the gender asked for, the vendor told of the
preference, an incident number and the vendor interpreter's ID keyed by voice on the record."""

from __future__ import annotations

import pytest

from dispatch import keys
from dispatch.languages import default_catalog
from dispatch.liaisons import LiaisonBoard
from dispatch.requests import RequestStore
from dispatch.states import State

pytestmark = pytest.mark.e2e


def _keypad(language_id: str) -> str:
    return default_catalog().get(language_id).keypad


def _line(stack) -> str:  # type: ignore[no-untyped-def]
    return stack.roster.precincts[0].lines[0]


def _garcia_reyes(stack):  # type: ignore[no-untyped-def]
    garcia, reyes = stack.roster.liaison("l-garcia"), stack.roster.liaison("l-reyes")
    assert (garcia.gender, reyes.gender) == ("female", "male") and {"spa"} <= set(garcia.languages) & set(
        reyes.languages
    )
    stack.sim.set_parties({liaison.phone: {"answer": "never"} for liaison in stack.roster.liaisons})
    stack.redis.zadd(keys.LIAISONS_AVAILABLE, {reyes.id: 1000, garcia.id: 1001})  # the male speaker first in line
    return garcia, reyes


def _vendor_expects(stack, language: str, gender: str, **party):  # type: ignore[no-untyped-def]
    vendor = stack.roster.vendor
    code = vendor.language_codes.get(language) or default_catalog().get(language).vendor_code
    expected = vendor.dtmf_for(code, vendor.gender_code(gender) or "")
    stack.sim.set_parties(
        {vendor.number: {"answer": "after", "answer_after": 0.1, "expect_send_digits": expected, **party}}
    )
    return expected


def test_a_female_preference_reaches_the_female_liaison_and_the_male_speaker_is_never_rung(stack):
    garcia, reyes = _garcia_reyes(stack)
    stack.sim.set_parties({garcia.phone: {"answer": "after", "answer_after": 0.2, "inputs": [{"digits": "1"}]}})
    call = stack.sim.place_call(
        _line(stack), stack.roster.service_number, inputs=[{"digits": _keypad("spa") + "#"}, {"digits": "3"}]
    )
    rec = stack.wait_request(lambda r: r.state == State.CONNECTED, what="connected request")
    assert rec.gender == "female" and rec.handler_kind == "liaison" and rec.handler_id == garcia.id
    assert [c for c in stack.sim.calls() if c["to"] == reyes.phone] == [], "the male liaison was rung"
    text = " ".join(e["text"] for e in stack.sim.log() if e.get("call") == call)
    assert "Press 3 for a female interpreter" in text and "A female interpreter." in text


def test_no_free_female_liaison_sends_the_vendor_the_gender_code(stack):
    garcia, reyes = _garcia_reyes(stack)
    LiaisonBoard(stack.redis).set_duty(garcia.id, False)
    expected = _vendor_expects(stack, "spa", "female")
    assert expected.endswith(stack.roster.vendor.gender_codes["female"])
    stack.sim.place_call(
        _line(stack), stack.roster.service_number, inputs=[{"digits": _keypad("spa") + "#"}, {"digits": "3"}]
    )
    rec = stack.wait_request(lambda r: r.state == State.CONNECTED, what="vendor-connected request")
    assert rec.handler_kind == "vendor" and not rec.gender_unsent
    [vendor_call] = [c for c in stack.sim.calls() if c["to"] == stack.roster.vendor.number]
    assert vendor_call["received_digits"] == expected and vendor_call["digits_matched"] is True
    assert [c for c in stack.sim.calls() if c["to"] == reyes.phone] == []


def test_incident_number_and_vendor_interpreter_id_keyed_by_voice(stack):
    _vendor_expects(stack, "tir", "", hangup_after=1.0)
    call = stack.sim.place_call(
        _line(stack),
        stack.roster.service_number,
        inputs=[
            {"digits": _keypad("tir") + "#"},
            {"digits": "5"},
            {"digits": "2026012345#"},
            {"digits": "1"},
            {"digits": "2"},  # the interpreter has left: record their ID
            {"digits": "4711#"},
        ],
    )
    rec = stack.wait_request(lambda r: r.interpreter_ref, timeout=20, what="request with an interpreter ID")
    assert rec.state == State.COMPLETED and rec.handler_kind == "vendor"
    assert (rec.incident, rec.interpreter_ref) == ("2026012345", "4711")
    history = [h["event"] for h in RequestStore(stack.redis, 3600).history(rec.id)]
    assert history[-1] == "interpreter_id_set"
    text = " ".join(e["text"] for e in stack.sim.log() if e.get("call") == call)
    # (the simulator's log masks a run of ten digits as it would a phone number)
    assert "You selected Tigrinya. Incident number " in text and "Interpreter ID 4 7 1 1 recorded." in text


def _texts_to(stack, number: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [m["body"] for m in stack.sim.messages() if m["to"] == number]


def test_a_texted_request_with_preference_and_incident_then_an_id_and_the_receipt(stack):
    garcia, reyes = _garcia_reyes(stack)
    supervisor = stack.roster.supervisors[0]
    stack.sim.set_parties(
        {
            garcia.phone: {"answer": "after", "answer_after": 0.2, "inputs": [{"digits": "1"}], "hangup_after": 1.5},
            supervisor.cell: {"answer": "after", "answer_after": 0.2},
        }
    )
    stack.sim.send_sms(supervisor.cell, stack.roster.service_number, "spa female inc 2026-012345")
    reply = stack.sim.wait_for(lambda: [t for t in _texts_to(stack, supervisor.cell) if t.startswith("Request R")])
    assert "Spanish, female interpreter, inc 2026-012345" in reply[0]
    done = stack.wait_request(lambda r: r.state == State.COMPLETED, timeout=20, what="completed texted request")
    assert (done.handler_id, done.gender, done.incident) == (garcia.id, "female", "2026-012345")
    assert [c for c in stack.sim.calls() if c["to"] == reyes.phone] == []
    receipt = stack.sim.wait_for(lambda: [t for t in _texts_to(stack, supervisor.cell) if t.startswith("Receipt")])
    assert receipt[0].startswith(f"Receipt {done.id}: Spanish, liaison Ana Garcia (l-garcia), inc 2026-012345, ")
    assert " UTC, wait " in receipt[0]

    stack.sim.send_sms(supervisor.cell, stack.roster.service_number, f"ID {done.id} 4711")
    stack.sim.wait_for(lambda: [t for t in _texts_to(stack, supervisor.cell) if "interpreter ID recorded" in t])
    assert stack.request(done.id).interpreter_ref == "4711"
