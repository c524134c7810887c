"""Liaisons' time end to end (issue 18): missed offers and the pause, bookings keeping a liaison
off the phone, call-outs. Officers call the simulator; liaisons' phones and texts are the
simulator's; the assertions are what a liaison or a sergeant would notice."""

from __future__ import annotations

import pytest

from dispatch import keys
from dispatch.liaisons import LiaisonBoard
from dispatch.requests import RequestStore
from dispatch.states import State

pytestmark = pytest.mark.e2e


def _keypad(language_id: str) -> str:
    from dispatch.languages import default_catalog

    return default_catalog().get(language_id).keypad


def _texts_to(stack, number: str) -> list[str]:
    return [m["body"] for m in stack.sim.messages() if m["to"] == number]


def _rung(stack, liaison) -> list[dict]:
    return [c for c in stack.sim.calls() if c["to"] == liaison.phone]


def _history(stack, rec) -> list[dict]:
    return RequestStore(stack.redis, 3600).history(rec.id)


def _only_on_duty(stack, keep, language: str) -> None:
    """Every other speaker of `language` off duty: `keep` alone may be offered it."""
    board = LiaisonBoard(stack.redis)
    for liaison in stack.roster.liaisons:
        if language in liaison.languages and liaison.id != keep.id:
            board.set_duty(liaison.id, False)


def _vendor_answers(stack) -> None:
    stack.sim.set_parties({stack.roster.vendor.number: {"answer": "after", "answer_after": 0.1}})


def _call(stack, language: str, line: int = 0) -> str:
    precinct = stack.roster.precincts[0]
    return stack.sim.place_call(
        precinct.lines[line % len(precinct.lines)],
        stack.roster.service_number,
        inputs=[{"digits": _keypad(language) + "#"}, {"digits": "1"}],
        hangup_after=30,
    )


def _nth_request(stack, n: int, pred, what: str):
    return stack.wait_request(lambda r: int(r.id[1:]) == n and pred(r), timeout=25, what=what)


def test_two_missed_offers_text_twice_pause_and_on_brings_them_back(stack):
    first = next(l for l in stack.roster.liaisons if "spa" in l.languages)
    _only_on_duty(stack, first, "spa")
    stack.sim.set_parties({first.phone: {"answer": "never"}})
    _vendor_answers(stack)
    requests = []
    for n in (1, 2):
        _call(stack, "spa")
        rec = stack.wait_request(
            lambda r: r.id not in requests and r.handler_kind == "vendor", timeout=25, what=f"request {n} at the vendor"
        )
        requests.append(rec.id)
        ended = [h["data"] for h in _history(stack, rec) if h["event"] == "offer_ended"]
        assert ended == [{"liaison": first.id, "outcome": "no-answer"}]
        stack.sim.wait_for(lambda: len(_texts_to(stack, first.phone)) == n, timeout=10)
    missed, paused = _texts_to(stack, first.phone)
    assert missed.startswith("Missed a Spanish request at ") and missed.endswith("Reply OFF if you are not available.")
    assert "Paused after 2 missed calls" in paused and paused.endswith("Reply ON to take calls again.")

    _call(stack, "spa")
    third = stack.wait_request(
        lambda r: r.id not in requests and r.handler_kind == "vendor", timeout=25, what="third request at the vendor"
    )
    requests.append(third.id)
    assert not any(h["event"] == "offer" for h in _history(stack, third)), "a paused liaison is not offered calls"
    assert len(_rung(stack, first)) == 2

    stack.sim.send_sms(first.phone, stack.roster.service_number, "ON")
    stack.sim.wait_for(lambda: any("You are ON" in t or "ON duty" in t for t in _texts_to(stack, first.phone)))
    stack.sim.set_parties({first.phone: {"answer": "after", "answer_after": 0.1, "inputs": [{"digits": "1"}]}})
    _call(stack, "spa")
    fourth = stack.wait_request(
        lambda r: r.id not in requests and r.state == State.CONNECTED, timeout=25, what="fourth request connected"
    )
    assert fourth.handler_kind == "liaison" and fourth.handler_id == first.id
    assert stack.redis.hget(keys.LIAISON_MISSES, first.id) is None, "an accepted offer starts the count again"
