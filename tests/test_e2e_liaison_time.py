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
    first = next(person for person in stack.roster.liaisons if "spa" in person.languages)
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
        stack.sim.wait_for(lambda n=n: len(_texts_to(stack, first.phone)) == n, timeout=10)
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


def _routed_at(stack, rec) -> float:
    """When the request was first offered or sent to the vendor (the worker's clock)."""
    from datetime import datetime

    for h in _history(stack, rec):
        if h["event"] in ("offer", "vendor_dial"):
            return datetime.fromisoformat(h["ts"]).timestamp()
    raise AssertionError(f"{rec.id} was never routed")


def test_a_booked_liaison_is_never_rung_during_the_event_and_its_travel_time_but_right_after(stack):
    import time

    from dispatch.bookings import Booking, BookingStore

    first = next(person for person in stack.roster.liaisons if "spa" in person.languages)
    _only_on_duty(stack, first, "spa")
    stack.sim.set_parties({first.phone: {"answer": "after", "answer_after": 0.1, "inputs": [{"digits": "1"}]}})
    _vendor_answers(stack)
    travel = stack.settings.booking_travel_minutes * 60
    start = time.time() + travel + 1.0
    end = start + 2.0
    BookingStore(stack.redis).add(Booking("", "Corona community base", "", start, end, ("spa",), (first.id,)))
    blocked_until = end + travel
    while time.time() < start - travel:  # the travel time before the event has begun
        time.sleep(0.05)
    seen = []
    for _ in range(20):
        _call(stack, "spa", line=len(seen))
        rec = stack.wait_request(
            lambda r: r.id not in seen and r.state == State.CONNECTED, timeout=25, what="a connected request"
        )
        seen.append(rec.id)
        if rec.handler_kind == "liaison":
            break
    records = [stack.request(i) for i in seen]
    during = [r for r in records if _routed_at(stack, r) < blocked_until]
    assert during, "some requests were routed while the booking held the liaison"
    phases = {
        ("before" if _routed_at(stack, r) < start else "event" if _routed_at(stack, r) < end else "after")
        for r in during
    }
    assert "before" in phases, "a request routed in the travel time before the event"
    for r in during:
        assert r.handler_kind == "vendor", r.id
        assert not any(h["event"] == "offer" for h in _history(stack, r)), f"{r.id} rang the booked liaison"
    last = records[-1]
    assert last.handler_kind == "liaison" and last.handler_id == first.id, "rung right after the travel time"
    assert _routed_at(stack, last) >= blocked_until
    assert len(_rung(stack, first)) == 1


def test_a_call_out_reaches_only_off_duty_speakers_and_their_on_takes_the_next_request(stack):
    from tests.support.dashboard_http import Browser

    speaker = next(person for person in stack.roster.liaisons if "ben" in person.languages)
    assert [person.id for person in stack.roster.liaisons if "ben" in person.languages] == [speaker.id]
    board = LiaisonBoard(stack.redis)
    board.set_duty(speaker.id, False)
    other_off = next(person for person in stack.roster.liaisons if "ben" not in person.languages)
    board.set_duty(other_off.id, False)
    _vendor_answers(stack)
    _call(stack, "ben")
    first = stack.wait_request(lambda r: r.handler_kind == "vendor", timeout=25, what="Bengali request at the vendor")

    sergeant = Browser(stack.base_url)
    assert sergeant.sign_in("sergeant").status_code in (302, 303)
    rows = sergeant.get(stack.base_url + "/dashboard/api/queue", timeout=30).json()["active"]
    assert next(r for r in rows if r["id"] == first.id)["callout_language"] == "ben"
    board_rows = sergeant.get(stack.base_url + "/dashboard/api/liaisons", timeout=30).json()["liaisons"]
    assert [person["id"] for person in board_rows if person["callout"] and "Bengali" in person["languages"]] == [
        speaker.id
    ]
    resp = sergeant.act("/dashboard/callouts/ben")
    assert resp.status_code == 200 and resp.json()["texted"] == 1

    wording = "Bengali requests are waiting. Reply ON to take calls now."
    assert stack.sim.wait_for(lambda: _texts_to(stack, speaker.phone) == [wording])
    callouts = [m for m in stack.sim.messages() if m["body"] == wording]
    assert [m["to"] for m in callouts] == [speaker.phone], "only the off-duty speaker of Bengali"
    assert first.caller not in wording and first.id not in wording

    stack.sim.set_parties({speaker.phone: {"answer": "after", "answer_after": 0.1, "inputs": [{"digits": "1"}]}})
    stack.sim.send_sms(speaker.phone, stack.roster.service_number, "ON")
    stack.sim.wait_for(lambda: any("ON duty" in t for t in _texts_to(stack, speaker.phone)))
    _call(stack, "ben", line=1)
    nxt = stack.wait_request(
        lambda r: r.id != first.id and r.state == State.CONNECTED, timeout=25, what="next Bengali request"
    )
    assert nxt.handler_kind == "liaison" and nxt.handler_id == speaker.id
    assert float(stack.redis.hget(keys.liaison(speaker.id), "duty_until")) > nxt.created_at, "on until midnight"
