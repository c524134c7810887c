"""Racing liaisons and the vendor, end to end: simulator → webhooks → Redis → RQ workers.

A stack of its own with PARALLEL_OFFERS=2 and the vendor hedge at once (VENDOR_HEDGE_AFTER
tiny: the vendor is dialled as the first round rings), prompts at a time scale slow enough for
a whisper to be heard, and a whisper that waits long for a key (WHISPER_TIMEOUT), so what a
test races is people's key presses, not the machine's speed.
"""

from __future__ import annotations

import itertools

import pytest

from dispatch import keys
from dispatch.liaisons import IDLE
from dispatch.states import State

pytestmark = pytest.mark.e2e
TAKEN = 'say (Polly.Joanna, en-US): "Another interpreter has taken this request. Thank you."'


@pytest.fixture(scope="module")
def race_session():
    from tests.support.redis_server import start_redis
    from tests.support.settings import e2e_settings
    from tests.support.stack import start_stack

    server = start_redis(db=2)
    try:  # a stack that fails to start must not leave its Redis running
        server.client().flushdb()
        settings = e2e_settings(
            server.url,
            parallel_offers=2,
            vendor_hedge_after=0.01,
            whisper_timeout=30,
            liaison_ring_timeout=30,
            vendor_ring_timeout=30,
            liaison_window=120.0,
        )
        running = start_stack(settings, time_scale=0.3)
        yield running
        running.stop()
    finally:
        server.stop()


@pytest.fixture
def race(race_session):
    race_session.reset()
    return race_session


def spanish(stack):
    first, second = (liaison for liaison in stack.roster.liaisons if "spa" in liaison.languages)
    stack.redis.zadd(keys.LIAISONS_AVAILABLE, {first.id: 1, second.id: 2})
    return first, second


def call_in(stack) -> None:
    from dispatch.languages import default_catalog

    code = default_catalog().get("spa").keypad + "#"
    stack.sim.place_call(
        stack.roster.precincts[0].lines[0],
        stack.roster.service_number,
        inputs=[{"digits": code, "after": 0.05}, {"digits": "1", "after": 0.05}],
    )


def calls_to(stack, number: str) -> list[dict]:
    return [c for c in stack.sim.calls() if c["to"] == number and c["direction"] == "outbound-api"]


def texts(call: dict) -> list[str]:
    return [t["text"] for t in call["timeline"]]


def ended(stack, number: str) -> dict:
    return stack.sim.wait_for(
        lambda: next(
            (
                c
                for c in calls_to(stack, number)
                if c["status"] != "in-progress" and c["status"] not in ("queued", "ringing")
            ),
            None,
        ),
        timeout=15,
    )


def test_two_liaisons_rung_at_once_the_second_hears_it_was_taken_when_the_first_presses_1(race):
    first, second = spanish(race)
    vendor = race.roster.vendor
    race.sim.set_parties(
        {
            first.phone: {"answer": "after", "answer_after": 0.3, "inputs": [{"digits": "1", "after": 0.3}]},
            second.phone: {"answer": "after", "answer_after": 0.1, "inputs": [{"silence": True}]},
            vendor.number: {"answer": "never"},
        }
    )
    call_in(race)
    rec = race.wait_request(lambda r: r.state == State.CONNECTED, what="connected request")
    assert rec.handler_kind == "liaison" and rec.handler_id == first.id
    other = ended(race, second.phone)
    heard = texts(other)
    assert TAKEN in heard, heard
    assert not any(t.startswith("gather: digits") for t in heard), "the second never pressed a key"
    pressed = next(t["t"] for t in calls_to(race, first.phone)[0]["timeline"] if t["text"] == "gather: digits 1")
    told = next(t["t"] for t in other["timeline"] if t["text"] == TAKEN)
    assert pressed < told
    race.sim.wait_for(lambda: race.redis.hget(keys.liaison(second.id), "state") == IDLE.encode(), timeout=15)
    assert race.redis.hget(keys.liaison(second.id), "request") == b""
    # The vendor, dialled as the round rang, was hung up before anyone answered it.
    [hedge] = calls_to(race, vendor.number)
    race.sim.wait_for(lambda: race.sim.call(hedge["sid"])["status"] == "canceled", timeout=15)


def test_a_hedged_vendor_call_is_hung_up_when_a_liaison_accepts_first(race):
    first, second = spanish(race)
    vendor = race.roster.vendor
    race.sim.set_parties(
        {
            first.phone: {"answer": "after", "answer_after": 0.1, "inputs": [{"digits": "1", "after": 0.1}]},
            second.phone: {"answer": "never"},
            # Answers at once; its DTMF (about 5 s of tones at this time scale's 0.3) is still playing.
            vendor.number: {"answer": "after", "answer_after": 0.1, "expect_send_digits": None},
        }
    )
    call_in(race)
    rec = race.wait_request(lambda r: r.state == State.CONNECTED, what="connected request")
    assert rec.handler_kind == "liaison" and rec.handler_id == first.id
    [hedge] = calls_to(race, vendor.number)
    done = race.sim.wait_for(
        lambda: (c := race.sim.call(hedge["sid"]))["status"] in ("completed", "canceled") and c, timeout=15
    )
    assert done["conference"] is None, "the vendor's call never reached the officer's room"
    assert race.request(rec.id).handler_id == first.id


def test_a_vendor_interpreter_arriving_first_keeps_the_call_and_the_ringing_liaisons_are_released(race):
    first, second = spanish(race)
    vendor = race.roster.vendor
    race.sim.set_parties(
        {
            first.phone: {"answer": "after", "answer_after": 0.1, "inputs": [{"silence": True}]},  # hears the whisper
            second.phone: {"answer": "never"},  # only rings
            vendor.number: {"answer": "after", "answer_after": 0.1},
        }
    )
    call_in(race)
    rec = race.wait_request(lambda r: r.state == State.CONNECTED, what="connected request")
    assert rec.handler_kind == "vendor"
    heard = texts(ended(race, first.phone))
    assert TAKEN in heard, heard
    rang = ended(race, second.phone)
    assert rang["status"] == "canceled" and not rang["answered"]
    for liaison in (first, second):
        race.sim.wait_for(
            lambda one=liaison: race.redis.hget(keys.liaison(one.id), "state") == IDLE.encode(), timeout=15
        )
    assert race.request(rec.id).handler_kind == "vendor"


def test_no_liaison_ever_holds_two_calls(race):
    first, second = spanish(race)
    vendor = race.roster.vendor
    race.sim.set_parties(
        {
            first.phone: {
                "answer": "after",
                "answer_after": 0.2,
                "inputs": [{"digits": "1", "pause": 0.1}],
                "hangup_after": 1.0,
            },
            second.phone: {"answer": "after", "answer_after": 0.1, "inputs": [{"digits": "2", "pause": 0.1}]},
            vendor.number: {"answer": "after", "answer_after": 0.5, "hangup_after": 1.0},
        }
    )
    for _ in range(4):
        call_in(race)
    race.sim.wait_for(
        lambda: (
            len([r for r in race.requests() if r.connected_at]) == 4 and all(not r.waiting for r in race.requests())
        ),
        timeout=40,
    )
    for liaison in (first, second):
        legs = sorted(
            (c["marks"]["created"], c["marks"].get("ended", float("inf")))
            for c in race.sim.calls()
            if c["to"] == liaison.phone
        )
        for (_, end), (start, _) in itertools.pairwise(legs):
            assert start >= end, f"{liaison.id} was rung while still on another call"
