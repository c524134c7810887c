"""<Dial>: bridging to numbers and named conference rooms, as Twilio runs them."""

from __future__ import annotations

import time

import pytest

from simulator.testing import Harness

OFFICER = "+12125550111"
VENDOR = "+12125550190"
LIAISON = "+12125550131"


@pytest.fixture
def h():
    with Harness() as harness:
        yield harness


def test_dial_number_sends_digits_bridges_then_posts_the_action(h):
    h.sim.set_parties(
        {VENDOR: {"answer": "after", "answer_after": 0.05, "hangup_after": 0.4, "expect_send_digits": "ww12#"}}
    )
    h.app.on(
        "/voice/incoming",
        f'<Response><Dial action="/voice/after" timeout="5">'
        f'<Number sendDigits="ww12#">{VENDOR}</Number></Dial><Say>Not reached</Say></Response>',
    )
    h.app.on("/voice/after", "<Response><Say>The interpreter left.</Say><Hangup/></Response>")
    sid = h.sim.place_call(OFFICER)
    h.ended(sid)
    after = h.app.wait_hits("/voice/after")[0]["form"]
    child = next(c for c in h.sim.calls() if c["direction"] == "outbound-dial")
    assert after["DialCallStatus"] == "completed" and after["DialCallSid"] == child["sid"]
    assert after["DialBridged"] == "true" and int(after["DialCallDuration"]) >= 0
    assert after["CallSid"] == sid and after["CallStatus"] == "in-progress"
    assert child["parent"] == sid and child["to"] == VENDOR and child["from"] == OFFICER
    assert child["received_digits"] == "ww12#" and child["digits_matched"] is True
    assert child["status"] == "completed"
    texts = h.texts(sid)
    assert 'say: "The interpreter left."' in texts and 'say: "Not reached"' not in texts


def test_unanswered_dial_without_action_continues_with_the_next_verb(h):
    h.sim.set_parties({VENDOR: {"answer": "never"}})
    h.app.on("/voice/incoming", f'<Response><Dial timeout="1">{VENDOR}</Dial><Say>Nobody answered.</Say></Response>')
    sid = h.sim.place_call(OFFICER)
    h.ended(sid)
    assert 'say: "Nobody answered."' in h.texts(sid)
    child = next(c for c in h.sim.calls() if c["direction"] == "outbound-dial")
    assert child["status"] == "no-answer"


@pytest.mark.parametrize("answer, status", [("busy", "busy"), ("failed", "failed")])
def test_dial_action_reports_busy_and_failed(h, answer, status):
    h.sim.set_parties({VENDOR: {"answer": answer, "answer_after": 0.05}})
    h.app.on("/voice/incoming", f'<Response><Dial action="/voice/after"><Number>{VENDOR}</Number></Dial></Response>')
    h.ended(h.sim.place_call(OFFICER))
    after = h.app.wait_hits("/voice/after")[0]["form"]
    assert after["DialCallStatus"] == status and after["DialBridged"] == "false"


def test_caller_hanging_up_ends_the_bridged_leg_and_still_posts_the_action(h):
    h.sim.set_parties({VENDOR: {"answer": "after", "answer_after": 0.05}})
    h.app.on("/voice/incoming", f'<Response><Dial action="/voice/after">{VENDOR}</Dial></Response>')
    sid = h.sim.place_call(OFFICER)
    h.sim.wait_for(lambda: "dial: connected to •••0190" in h.texts(sid))
    h.sim.hangup(sid)
    h.ended(sid)
    child = h.sim.wait_for(
        lambda: [c for c in h.sim.calls() if c["direction"] == "outbound-dial" and c["status"] == "completed"]
    )
    assert child[0]["parent"] == sid
    after = h.app.wait_hits("/voice/after")[0]["form"]
    assert after["CallStatus"] == "completed" and after["DialCallStatus"] == "completed"


def _officer_room(h, room="R00042"):
    return (
        f'<Response><Dial action="/voice/after?who=officer">'
        f'<Conference startConferenceOnEnter="false" endConferenceOnExit="true" beep="false" '
        f'waitUrl="/voice/hold" waitMethod="POST" statusCallback="/voice/conference" '
        f'statusCallbackEvent="start end join leave">{room}</Conference></Dial></Response>'
    )


def _interpreter_room(room="R00042", action=True):
    attr = ' action="/voice/after?who=interpreter"' if action else ""
    return (
        f'<Response><Dial{attr}><Conference startConferenceOnEnter="true" '
        f'endConferenceOnExit="false">{room}</Conference></Dial><Say>Room over.</Say></Response>'
    )


def test_wait_music_loops_until_the_interpreter_starts_the_room(h):
    h.app.on("/voice/incoming", _officer_room(h))
    h.app.on("/voice/hold", '<Response><Say>Please hold.</Say><Pause length="2"/></Response>')
    h.app.on("/voice/interp", _interpreter_room())
    officer = h.sim.place_call(OFFICER)
    h.app.wait_hits("/voice/hold", 3)  # the wait document is fetched again each time it ends
    room = h.sim.conferences()[0]
    assert room["name"] == "R00042" and room["state"] == "init" and len(room["participants"]) == 1
    h.twilio.calls.create(to=LIAISON, from_=h.NUMBER, url=h.url("/voice/interp"))
    started = h.sim.wait_for(
        lambda: [c for c in h.sim.conferences() if c["state"] == "in-progress" and len(c["participants"]) == 2]
    )
    assert {p["call"] for p in started[0]["participants"]} >= {officer}
    h.sim.wait_for(lambda: "wait music stopped: the room started" in h.texts(officer))
    holds = len(h.app.hits("/voice/hold"))
    time.sleep(0.3)
    assert len(h.app.hits("/voice/hold")) == holds, "wait music stops once the room starts"
    assert h.sim.call(officer)["conference"] == "R00042"


def test_officer_leaving_ends_the_room_for_everyone_with_status_callbacks(h):
    h.app.on("/voice/incoming", _officer_room(h))
    h.app.on("/voice/hold", '<Response><Pause length="5"/><Redirect>/voice/hold?n=1</Redirect></Response>')
    h.app.on("/voice/interp", _interpreter_room(action=False))
    officer = h.sim.place_call(OFFICER)
    h.app.wait_hits("/voice/hold")
    liaison = h.twilio.calls.create(to=LIAISON, from_=h.NUMBER, url=h.url("/voice/interp")).sid
    h.sim.wait_for(lambda: [c for c in h.sim.conferences() if len(c["participants"]) == 2])
    h.sim.hangup(officer)
    h.ended(officer)
    done = h.ended(liaison)
    assert 'say: "Room over."' in h.texts(liaison), "the interpreter's Dial ended, next verb ran"
    assert done["status"] == "completed"
    officer_after = h.app.wait_hits("/voice/after")[0]["form"]
    assert officer_after["DialCallStatus"] == "answered" and officer_after["CallSid"] == officer
    assert officer_after["CallStatus"] == "completed", "the officer hung up: the action is told, its reply ignored"
    events = h.app.wait_hits("/voice/conference", 5)
    # Callbacks travel concurrently, as Twilio's do; SequenceNumber gives their order.
    events = sorted(events, key=lambda e: int(e["form"]["SequenceNumber"]))
    seen = [(e["form"]["StatusCallbackEvent"], e["form"].get("CallSid")) for e in events]
    assert seen[:3] == [("participant-join", officer), ("participant-join", liaison), ("conference-start", None)]
    assert ("participant-leave", officer) in seen and ("conference-end", None) in seen
    first = events[0]["form"]
    assert first["ConferenceSid"].startswith("CF") and first["FriendlyName"] == "R00042"
    assert first["StartConferenceOnEnter"] == "false" and first["EndConferenceOnExit"] == "true"
    assert first["Muted"] == "false" and first["Hold"] == "false" and first["AccountSid"] == h.ACCOUNT_SID
    assert sorted(int(e["form"]["SequenceNumber"]) for e in events) == list(range(1, len(events) + 1))
    assert all(e["valid"] for e in events)
    room = h.sim.conferences()[0]
    assert room["state"] == "completed" and room["participants"] == []


def test_an_officer_not_ending_the_room_leaves_the_interpreter_in_it_who_can_be_moved_and_rejoined(h):
    """What a dropped officer's rejoin relies on: endConferenceOnExit=false keeps the room for
    the interpreter; a REST redirect takes their leg out (no Dial action) to run a Gather; a
    new leg of the officer and the same interpreter leg meet again in a room of that name."""
    h.app.on("/voice/incoming", _officer_room(h).replace('endConferenceOnExit="true"', 'endConferenceOnExit="false"'))
    h.app.on("/voice/hold", '<Response><Pause length="5"/></Response>')
    h.app.on("/voice/interp", _interpreter_room())
    h.app.on(
        "/voice/prompt",
        '<Response><Gather numDigits="1" action="/voice/pressed"><Say>Press 1.</Say></Gather></Response>',
    )
    h.app.on("/voice/pressed", _interpreter_room())
    h.sim.set_parties({LIAISON: {"answer": "after", "answer_after": 0.05, "inputs": [{"digits": "1"}]}})
    officer = h.sim.place_call(OFFICER)
    h.app.wait_hits("/voice/hold")
    liaison = h.twilio.calls.create(to=LIAISON, from_=h.NUMBER, url=h.url("/voice/interp")).sid
    h.sim.wait_for(lambda: [c for c in h.sim.conferences() if len(c["participants"]) == 2])
    h.sim.hangup(officer)
    h.ended(officer)
    room = h.sim.wait_for(
        lambda: [c for c in h.sim.conferences() if [p["call"] for p in c["participants"]] == [liaison]]
    )
    assert room[0]["state"] == "in-progress" and h.sim.call(liaison)["status"] == "in-progress"
    h.twilio.calls(liaison).update(url=h.url("/voice/prompt"), method="POST")
    h.app.wait_hits("/voice/pressed")
    assert not [hit for hit in h.app.hits("/voice/after") if hit["args"].get("who") == "interpreter"], (
        "a redirected leg's Dial action is not requested"
    )
    again = h.sim.place_call(OFFICER)
    rooms = h.sim.wait_for(
        lambda: [
            c
            for c in h.sim.conferences()
            if c["state"] == "in-progress" and {p["call"] for p in c["participants"]} == {again, liaison}
        ]
    )
    assert rooms[0]["name"] == "R00042" and rooms[0]["sid"] != room[0]["sid"], "a new room of the same name"


def test_wait_music_follows_redirects_then_starts_over_from_the_wait_url(h):
    h.app.on("/voice/incoming", _officer_room(h))
    h.app.on("/voice/hold", '<Response><Pause length="1"/><Redirect>/voice/hold2?n=1</Redirect></Response>')
    h.app.on("/voice/hold2", "<Response><Say>Still holding.</Say></Response>")
    officer = h.sim.place_call(OFFICER)
    h.app.wait_hits("/voice/hold2", 2)
    paths = [r["path"] for r in h.app.hits() if r["path"].startswith("/voice/hold")]
    assert paths[:4] == ["/voice/hold", "/voice/hold2", "/voice/hold", "/voice/hold2"]
    assert any("wait music: say" in t for t in h.texts(officer))


def test_officer_hanging_up_while_waiting_posts_participant_leave(h):
    h.app.on("/voice/incoming", _officer_room(h))
    h.app.on("/voice/hold", '<Response><Say>Please hold.</Say><Pause length="50"/></Response>')
    officer = h.sim.place_call(OFFICER)
    h.app.wait_hits("/voice/hold")
    h.sim.hangup(officer)
    h.ended(officer)
    leave = h.app.wait_hits(
        "/voice/conference", where=lambda r: r["form"]["StatusCallbackEvent"] == "participant-leave"
    )
    assert leave[0]["form"]["CallSid"] == officer
    assert h.app.wait_hits("/voice/after")[0]["form"]["CallStatus"] == "completed"
    assert h.sim.conferences()[0]["state"] == "completed"


def test_rest_redirect_pulls_a_participant_out_of_the_room(h):
    h.app.on("/voice/incoming", _officer_room(h))
    h.app.on("/voice/hold", '<Response><Pause length="50"/></Response>')
    h.app.on("/voice/dropped", "<Response><Say>The interpreter has left.</Say></Response>")
    officer = h.sim.place_call(OFFICER)
    h.app.wait_hits("/voice/hold")
    h.twilio.calls(officer).update(url=h.url("/voice/dropped"), method="POST")
    h.ended(officer)
    assert 'say: "The interpreter has left."' in h.texts(officer)
    assert h.app.hits("/voice/after") == [], "a redirect abandons the Dial without its action"
    assert h.sim.conferences()[0]["participants"] == []


def test_number_url_whisper_runs_on_the_callee_before_bridging(h):
    h.sim.set_parties(
        {
            LIAISON: {"answer": "after", "answer_after": 0.05, "inputs": [{"digits": "2"}]},
            VENDOR: {"answer": "after", "answer_after": 0.05, "inputs": [{"digits": "1"}], "hangup_after": 0.5},
        }
    )
    h.app.on(
        "/voice/whisper",
        '<Response><Gather action="/voice/whisper/answer" numDigits="1">'
        "<Say>Press 1 to accept.</Say></Gather></Response>",
    )
    h.app.on(
        "/voice/whisper/answer",
        lambda form, args: "<Response/>" if form["Digits"] == "1" else "<Response><Hangup/></Response>",
    )
    h.app.on(
        "/voice/incoming",
        f'<Response><Dial action="/voice/after"><Number url="/voice/whisper">{LIAISON}'
        f"</Number></Dial><Say>unreachable</Say></Response>",
    )
    h.app.on(
        "/voice/after",
        f'<Response><Dial action="/voice/after2"><Number url="/voice/whisper">{VENDOR}</Number></Dial></Response>',
    )
    sid = h.sim.place_call(OFFICER)
    h.ended(sid)
    declined = h.app.wait_hits("/voice/after")[0]["form"]
    assert declined["DialCallStatus"] == "completed" and declined["DialBridged"] == "false"
    accepted = h.app.wait_hits("/voice/after2")[0]["form"]
    assert accepted["DialCallStatus"] == "completed" and accepted["DialBridged"] == "true"
    whispers = h.app.wait_hits("/voice/whisper", 2)
    assert {w["form"]["Direction"] for w in whispers} == {"outbound-dial"}
    assert {w["form"]["ParentCallSid"] for w in whispers} == {sid}


def test_several_numbers_ring_at_once_and_the_first_to_answer_wins(h):
    slow, quick = "+12125550141", "+12125550142"
    h.sim.set_parties(
        {
            slow: {"answer": "after", "answer_after": 2.0},
            quick: {"answer": "after", "answer_after": 0.05, "hangup_after": 0.2},
        }
    )
    h.app.on(
        "/voice/incoming",
        f'<Response><Dial action="/voice/after"><Number>{slow}</Number><Number>{quick}</Number></Dial></Response>',
    )
    h.ended(h.sim.place_call(OFFICER))
    after = h.app.wait_hits("/voice/after")[0]["form"]
    legs = {c["to"]: c for c in h.sim.calls() if c["direction"] == "outbound-dial"}
    assert after["DialCallSid"] == legs[quick]["sid"] and after["DialCallStatus"] == "completed"
    assert h.sim.wait_for(lambda: h.sim.call(legs[slow]["sid"])["status"] == "canceled")
