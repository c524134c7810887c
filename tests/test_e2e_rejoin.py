"""A dropped patrol cell, end to end: simulator → webhooks → Redis → RQ workers → simulator.

The officer's leg ends mid-call (their phone hangs up, as a cell that drops does) while the
interpreter stays on the line. Each test asserts what the officer, the interpreter and the
sergeant would notice: the same interpreter leg (the same call, never hung up) in the room
with the officer again, one call-back however the keys were pressed, and after the grace
period the interpreter released, the liaison free and the request completed with the reason.
"""

from __future__ import annotations

import pytest

from dispatch import keys
from dispatch.liaisons import LiaisonBoard
from dispatch.states import State
from tests.support.faults import SCHEDULING_SLACK, history_times

pytestmark = pytest.mark.e2e


def _line(stack) -> str:
    return stack.roster.precincts[0].lines[0]


def _spanish_liaison(stack, inputs: list[dict]):
    """Only the first Spanish liaison answers; they press 1 to accept, then `inputs`."""
    first = next(liaison for liaison in stack.roster.liaisons if "spa" in liaison.languages)
    stack.sim.set_parties({liaison.phone: {"answer": "never"} for liaison in stack.roster.liaisons})
    stack.sim.set_parties({first.phone: {"answer": "after", "answer_after": 0.1, "inputs": [{"digits": "1"}, *inputs]}})
    stack.redis.zadd(keys.LIAISONS_AVAILABLE, {first.id: 1})
    return first


def _connected_spanish_call(stack) -> tuple[str, object]:
    from dispatch.languages import default_catalog

    officer = stack.sim.place_call(
        _line(stack),
        stack.roster.service_number,
        inputs=[{"digits": default_catalog().get("spa").keypad + "#"}, {"digits": "1"}],
    )
    rec = stack.wait_request(lambda r: r.state == State.CONNECTED, what="connected request")
    _both_in_the_room(stack, rec.conference, officer, rec.handler_call)
    return officer, rec


def _both_in_the_room(stack, name: str, officer: str, interpreter: str) -> None:
    stack.sim.wait_for(
        lambda: any(
            room["name"] == name
            and room["state"] != "completed"
            and {p["call"] for p in room["participants"]} == {officer, interpreter}
            for room in stack.sim.conferences()
        ),
        timeout=15,
    )


def _said(stack, call_sid: str) -> str:
    return " ".join(e["text"] for e in stack.sim.log() if e["call"] == call_sid)


def _events(stack, rec) -> list[str]:
    return [event for _t, event, _d in history_times(stack, rec.id)]


def _at(stack, rec, event: str) -> float:
    return next(t for t, e, _d in history_times(stack, rec.id) if e == event)


def _ended_at(stack, call_sid: str) -> float:
    """When the simulator ended a call (its own clock, as every timeline)."""
    return next(e["t"] for e in stack.sim.call(call_sid)["timeline"] if e["text"].startswith("ended:"))


def _prompted_at(stack, call_sid: str) -> float:
    return next(
        e["t"]
        for e in stack.sim.call(call_sid)["timeline"]
        if "say" in e["text"] and "The officer's line has ended" in e["text"]
    )


def test_a_dropped_officer_is_called_back_into_the_room_with_the_same_interpreter(stack):
    liaison = _spanish_liaison(stack, inputs=[{"digits": "1"}])  # 1 at the prompt
    stack.sim.set_parties({_line(stack): {"answer": "after", "answer_after": 0.2, "inputs": [{"digits": "1"}]}})
    officer, rec = _connected_spanish_call(stack)
    interpreter = rec.handler_call

    stack.sim.hangup(officer)  # the cell drops
    back = stack.wait_request(
        lambda r: r.id == rec.id and r.state == State.CONNECTED and r.officer_call != officer,
        what="officer back in the room",
    )
    callback = back.officer_call
    _both_in_the_room(stack, rec.conference, callback, interpreter)

    assert back.handler_call == interpreter and stack.sim.call(interpreter)["status"] == "in-progress"
    assert stack.sim.call(callback)["to"] == _line(stack), "the officer's own number was called back"
    assert "The officer's line has ended. If the call was cut off, press 1" in _said(stack, interpreter)
    assert "rejoin your Spanish interpreter" in _said(stack, callback)
    assert back.connected_at == rec.connected_at, "the time to an interpreter is the first connection's"
    assert _events(stack, rec) == [
        "created",
        "offer",
        "liaison_connected",
        "officer_dropped",
        "call_officer_back",
        "officer_rejoined",
    ]
    assert LiaisonBoard(stack.redis).status(liaison.id).state == "on_call"
    assert [c["sid"] for c in stack.sim.calls() if c["to"] == _line(stack)] == [callback], "one call-back"
    rejoined = _at(stack, rec, "officer_rejoined") - _at(stack, rec, "officer_dropped")
    print(
        f"\ndrop→prompt {_prompted_at(stack, interpreter) - _ended_at(stack, officer):.2f}s, "
        f"drop→rejoined by call-back {rejoined:.2f}s"
    )


def test_an_unanswered_call_back_is_told_and_the_interpreter_may_ask_again(stack):
    _spanish_liaison(stack, inputs=[{"digits": "1"}, {"digits": "1"}])
    stack.sim.set_parties({_line(stack): {"answer": "after", "answer_after": 30}})  # rings on
    officer, rec = _connected_spanish_call(stack)
    interpreter = rec.handler_call
    stack.sim.hangup(officer)

    first = stack.sim.wait_for(
        lambda: [c["sid"] for c in stack.sim.calls() if c["to"] == _line(stack) and c["direction"] == "outbound-api"],
        timeout=15,
    )[0]
    stack.sim.set_parties({_line(stack): {"answer": "after", "answer_after": 0.2, "inputs": [{"digits": "1"}]}})
    stack.sim.hangup(first)  # the officer's phone declines the first call-back (busy)
    back = stack.wait_request(
        lambda r: r.id == rec.id and r.state == State.CONNECTED and r.officer_call != officer,
        what="officer back after a second call-back",
    )
    assert back.officer_call != first and back.handler_call == interpreter
    assert "The officer did not answer the call back. Press 1 to call the officer again" in _said(stack, interpreter)
    assert _events(stack, rec)[3:] == [
        "officer_dropped",
        "call_officer_back",
        "call_back_failed",
        "call_officer_back",
        "officer_rejoined",
    ]
    _both_in_the_room(stack, rec.conference, back.officer_call, interpreter)


def test_a_dropped_officer_calling_again_rejoins_the_vendor_from_the_first_menu(stack):
    vendor = stack.roster.vendor
    stack.sim.set_parties({vendor.number: {"answer": "after", "answer_after": 0.1}})  # waits silently at the prompt
    officer = stack.sim.place_call(_line(stack), stack.roster.service_number, inputs=[{"digits": "0#"}])
    rec = stack.wait_request(lambda r: r.state == State.CONNECTED, what="vendor connected")
    interpreter = rec.handler_call
    _both_in_the_room(stack, rec.conference, officer, interpreter)

    stack.sim.hangup(officer)
    stack.wait_request(lambda r: r.id == rec.id and r.state == State.REJOINING, what="rejoining")
    stack.sim.wait_for(lambda: "press 1 and we will call the officer back" in _said(stack, interpreter), timeout=15)
    again = stack.sim.place_call(_line(stack), stack.roster.service_number, inputs=[{"digits": "1"}])
    back = stack.wait_request(lambda r: r.id == rec.id and r.state == State.CONNECTED, what="officer back")
    assert back.officer_call == again and back.handler_call == interpreter
    _both_in_the_room(stack, rec.conference, again, interpreter)
    assert "Press 1 to rejoin your interpreter" in _said(stack, again)
    assert [h for h in _events(stack, rec) if h.startswith("officer")] == ["officer_dropped", "officer_rejoined"]
    assert [r.id for r in stack.requests()] == [rec.id], "no second request was opened"
    assert not [c for c in stack.sim.calls() if c["direction"] == "outbound-api" and c["to"] == _line(stack)]
    joined = [e["t"] for e in stack.sim.call(interpreter)["timeline"] if "joined" in e["text"]][-1]
    pressed = next(e["t"] for e in stack.sim.call(again)["timeline"] if e["text"].startswith("gather: digits 1"))
    print(f"\nofficer's 1 at the first menu→vendor back in the room {joined - pressed:.2f}s")


def test_an_officer_who_does_not_come_back_frees_the_interpreter_after_the_grace(stack):
    liaison = _spanish_liaison(stack, inputs=[])  # hears the prompt, presses nothing, stays on
    officer, rec = _connected_spanish_call(stack)
    interpreter = rec.handler_call
    stack.sim.hangup(officer)
    s = stack.settings
    done = stack.wait_request(
        lambda r: r.id == rec.id and r.finished,
        timeout=s.reconnect_grace + s.sweep_interval + 10,
        what="completed after the grace",
    )
    assert done.state == State.COMPLETED and done.outcome == "officer did not rejoin"
    times = {event: t for t, event, _d in history_times(stack, rec.id)}
    assert (
        s.reconnect_grace
        <= times["rejoin_expired"] - times["officer_dropped"]
        <= s.reconnect_grace + s.sweep_interval + SCHEDULING_SLACK
    )
    ended = stack.sim.wait_for(lambda: (c := stack.sim.call(interpreter))["status"] == "completed" and c, timeout=10)
    assert "hung up by the app" in ended["end_reason"], "we released the interpreter"
    status = LiaisonBoard(stack.redis).status(liaison.id)
    assert status.state in ("wrapup", "idle") and status.request == ""
    waited = _ended_at(stack, interpreter) - _ended_at(stack, officer)
    # bounded by the grace: plus a sweep, and the allowance twice (the drop's callback reaching the
    # web app, the sweep's job reaching a worker and hanging up)
    assert waited <= s.reconnect_grace + s.sweep_interval + 2 * SCHEDULING_SLACK, "billed time while waiting"
    print(
        f"\nexpired {times['rejoin_expired'] - times['officer_dropped'] - s.reconnect_grace:.2f}s after the grace; "
        f"the interpreter's leg outlived the officer's by {waited:.2f}s (grace {s.reconnect_grace:g}s)"
    )
    assert not [c for c in stack.sim.calls() if c["direction"] == "outbound-api" and c["to"] == _line(stack)]
