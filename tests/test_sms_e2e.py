"""A texted request end to end: simulator → SMS webhook → RQ worker calls back →
the supervisor answers → routing → a liaison joins the same conference.

Asserts what the supervisor would notice: the reply, the call back, the interpreter
on the line, and the short texts about it.
"""

from __future__ import annotations

import pytest

from config.phone import mask
from dispatch import keys
from dispatch.states import State

pytestmark = pytest.mark.e2e


def _texts_to(stack, number: str) -> list[str]:
    return [m["body"] for m in stack.sim.messages() if m["to"] == number]


def _silence_liaisons(stack) -> None:
    stack.sim.set_parties({l.phone: {"answer": "never"} for l in stack.roster.liaisons})


def test_text_call_back_and_interpreter_connected(stack):
    supervisor = stack.roster.supervisors[0]
    speakers = [l for l in stack.roster.liaisons if "rus" in l.languages]
    first = speakers[0]
    _silence_liaisons(stack)
    stack.redis.zadd(keys.LIAISONS_AVAILABLE, {l.id: 1000 + i for i, l in enumerate(speakers)})
    stack.sim.set_parties(
        {
            first.phone: {"answer": "after", "answer_after": 0.2, "inputs": [{"digits": "1"}]},
            supervisor.cell: {"answer": "after", "answer_after": 0.3},
        }
    )
    stack.sim.send_sms(
        supervisor.cell, stack.roster.service_number, "Пожалуйста, помогите, мой муж упал и не может встать"
    )

    reply = stack.sim.wait_for(lambda: [t for t in _texts_to(stack, supervisor.cell) if t.startswith("Request R")])
    assert "Russian" in reply[0] and "Calling this phone now" in reply[0]

    rec = stack.wait_request(lambda r: r.state == State.CONNECTED, timeout=20, what="connected texted request")
    assert rec.channel == "sms" and rec.language == "rus" and rec.handler_kind == "liaison"
    assert rec.handler_id == first.id and rec.caller == supervisor.cell
    callbacks = [c for c in stack.sim.calls() if c["to"] == supervisor.cell]
    assert len(callbacks) == 1 and callbacks[0]["from"] == stack.roster.service_number
    assert rec.officer_call == callbacks[0]["sid"]
    room = stack.sim.wait_for(
        lambda: [c for c in stack.sim.conferences() if c["name"] == rec.conference and len(c["participants"]) == 2],
        timeout=10,
    )
    assert room
    connecting = stack.sim.wait_for(
        lambda: [t for t in _texts_to(stack, supervisor.cell) if "interpreter is being connected" in t]
    )
    assert connecting[0] == f"Request {rec.id}: a Russian interpreter is being connected. Stay on the line."
    assert all(len(t) <= 160 for t in _texts_to(stack, supervisor.cell))


def test_unanswered_call_back_to_a_texted_number_fails_with_a_text(stack):
    supervisor = stack.roster.supervisors[1]
    scene_line = "+17185550175"
    stack.sim.set_parties({scene_line: {"answer": "busy"}})
    stack.sim.send_sms(supervisor.cell, stack.roster.service_number, "ES URGENT call back 718-555-0175")
    rec = stack.wait_request(lambda r: r.state == State.FAILED, timeout=20, what="failed texted request")
    assert rec.callback_number == mask(scene_line), "a number not in the roster is kept masked once dialled"
    assert rec.outcome == "call-back busy" and rec.urgent
    assert [c["to"] for c in stack.sim.calls()] == [scene_line]
    texts = stack.sim.wait_for(lambda: [t for t in _texts_to(stack, supervisor.cell) if "nobody answered" in t])
    assert texts[0].startswith(f"Request {rec.id} (Spanish)")
