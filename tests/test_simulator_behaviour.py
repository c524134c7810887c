"""Field-model people in the simulator: keys that cut a prompt, pauses, and seeded draws."""

from __future__ import annotations

import pytest

from simulator.parties import PartyBook, PartyError

CALLER = "+12125550111"
LONG_PROMPT = " ".join(["word"] * 100)  # 40 s of speech: 0.8 s at the harness's time scale


def test_a_key_pressed_during_a_gathers_prompt_cuts_it(h):
    h.app.on(
        "/voice/incoming",
        f"""<Response><Gather action="/voice/code" timeout="5"><Say>{LONG_PROMPT}</Say></Gather></Response>""",
    )
    h.app.on("/voice/code", lambda form, args: "<Response><Hangup/></Response>")
    sid = h.sim.place_call(CALLER, inputs=[{"digits": "11#", "after": 0.0}])
    h.ended(sid)
    assert h.app.wait_hits("/voice/code")[0]["form"]["Digits"] == "11"
    assert "gather: a key cut the prompt (barge-in)" in h.texts(sid)


def test_without_after_the_prompt_plays_out_first(h):
    h.app.on(
        "/voice/incoming", """<Response><Gather action="/voice/code"><Say>Enter a code.</Say></Gather></Response>"""
    )
    h.app.on("/voice/code", "<Response><Hangup/></Response>")
    sid = h.sim.place_call(CALLER, inputs=[{"digits": "11#", "pause": 0.01}])
    h.ended(sid)
    assert h.app.wait_hits("/voice/code")[0]["form"]["Digits"] == "11"
    assert "gather: a key cut the prompt (barge-in)" not in h.texts(sid)


def test_a_pause_longer_than_the_gathers_timeout_is_no_input(h):
    h.app.on(
        "/voice/incoming",
        """<Response><Gather action="/voice/code" actionOnEmptyResult="true" timeout="1">
        <Say>Enter a code.</Say></Gather></Response>""",
    )
    h.app.on("/voice/code", "<Response><Hangup/></Response>")
    sid = h.sim.place_call(CALLER, inputs=[{"digits": "11#", "pause": 5.0}])  # timeout 1 s x 0.02
    h.ended(sid)
    assert "Digits" not in h.app.wait_hits("/voice/code")[0]["form"]


def _drawn(seed: int, calls: int = 40) -> list[tuple[str, float, str, float | None]]:
    book = PartyBook(default_answer_after=1.0)
    book.merge(
        {
            "+12125550150": {
                "draw": {
                    "seed": seed,
                    "no_answer": 0.3,
                    "answer_after": [3, 15],
                    "decline": 0.2,
                    "key_after": [1, 4],
                    "staffed_after": [15, 40],
                }
            }
        }
    )
    runs = [book.run_for("+12125550150") for _ in range(calls)]
    return [(r.answer, r.answer_after, r.inputs[0]["digits"], r.staffed_after) for r in runs]


def test_a_drawn_party_differs_call_to_call_within_its_ranges_and_repeats_with_its_seed():
    first = _drawn(7)
    assert first == _drawn(7)
    assert first != _drawn(8)
    answers = [a for a, *_ in first]
    assert "never" in answers and "after" in answers
    assert {d for *_, d, _ in first} == {"1", "2"}
    assert all(3 <= after <= 15 for _, after, _, _ in first)
    assert all(15 <= staffed <= 40 for *_, staffed in first)


@pytest.mark.parametrize(
    "draw",
    [{"no_answer": 1.5}, {"answer_after": [5, 1]}, {"answer_after": "soon"}, {"colour": "blue"}, [1, 2]],
)
def test_a_malformed_draw_is_refused_with_the_reason(draw):
    with pytest.raises(PartyError, match="draw"):
        PartyBook(1.0).merge({"+12125550150": {"draw": draw}})


def test_a_keys_timing_must_be_a_number():
    with pytest.raises(PartyError, match="after"):
        PartyBook(1.0).merge({"+12125550150": {"inputs": [{"digits": "1", "after": "soon"}]}})
