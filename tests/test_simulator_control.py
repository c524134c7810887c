"""The control API and client: scripts, reset, wait_for, the log's masking, trickle, the CLI, load."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from simulator.trickle import trickle
from tests.support.simulator_harness import Harness

OFFICER = "+12125550111"
ROOT = Path(__file__).resolve().parents[1]


def test_party_scripts_are_validated_and_merged(h):
    h.sim.set_parties({"+12125550131": {"answer": "never"}})
    h.sim.set_parties({"+12125550132": {"answer": "after", "answer_after": 2, "inputs": [{"digits": "1"}]}})
    assert set(h.sim.parties()) == {"+12125550131", "+12125550132"}
    for bad in (
        {"answer": "sometimes"},
        {"inputs": [{"digits": "1x"}]},
        {"inputs": [{"nothing": 1}]},
        {"answer_after": -1},
    ):
        with pytest.raises(RuntimeError, match="400"):
            h.sim.set_parties({"+12125550133": bad})


def test_each_call_gets_a_fresh_copy_of_the_script(h):
    h.sim.set_parties({OFFICER: {"inputs": [{"digits": "7"}]}})
    h.app.on("/voice/incoming", '<Response><Gather action="/voice/a" numDigits="1"/></Response>')
    first, second = h.sim.place_call(OFFICER), h.sim.place_call(OFFICER)
    h.ended(first), h.ended(second)
    assert [r["form"]["Digits"] for r in h.app.wait_hits("/voice/a", 2)] == ["7", "7"]


def test_reset_stops_live_calls_silently_and_forgets_everything(h):
    h.app.on("/voice/incoming", '<Response><Pause length="1000"/></Response>')
    h.sim.set_parties({"+12125550131": {"answer": "never"}})
    h.sim.place_call(OFFICER)
    h.app.wait_hits("/voice/incoming")
    h.sim.faults([{"status": 500}])
    h.sim.reset()
    assert h.sim.calls() == [] and h.sim.parties() == {} and h.sim.log() == [] and h.sim.conferences() == []
    time.sleep(0.2)
    assert h.app.hits("/voice/status") == [], "a reset call posts nothing more to the app"
    assert h.twilio.calls.create(to="+12125550131", from_=h.NUMBER, url=h.url("/x")).status == "queued"


def test_reset_posts_no_conference_event_for_the_legs_it_ends(h):
    """`make run` stops the simulator first: the legs it ends must not tell the app they left a room."""
    h.app.on(
        "/voice/incoming",
        '<Response><Dial><Conference statusCallback="/voice/room" statusCallbackEvent="join leave">'
        "room-1</Conference></Dial></Response>",
    )
    h.sim.place_call(OFFICER)
    h.app.wait_hits("/voice/room")
    h.sim.reset()
    time.sleep(0.3)
    events = [hit["form"]["StatusCallbackEvent"] for hit in h.app.hits("/voice/room")]
    assert events == ["participant-join"], events


def test_wait_for_returns_the_value_or_fails_with_the_network_state(h):
    h.app.on("/voice/incoming", '<Response><Pause length="1000"/></Response>')
    sid = h.sim.place_call(OFFICER)
    assert h.sim.wait_for(lambda: h.sim.call(sid)["status"] == "in-progress") is True
    with pytest.raises(AssertionError) as err:
        h.sim.wait_for(lambda: h.sim.call(sid)["status"] == "completed", timeout=0.2)
    message = str(err.value)
    assert "within 0.2s" in message and sid[:10] in message and "in-progress" in message
    assert "+12125550111" not in message


def test_log_lines_mask_phone_numbers(h, capsys):
    h.simulator.network.log.echo = True
    h.app.on("/voice/incoming", "<Response><Say>Call back on +17185550175 or 212-555-0188.</Say></Response>")
    sid = h.sim.place_call(OFFICER)
    h.ended(sid)
    h.sim.send_sms("+12125550150", h.NUMBER, "spa")
    h.sim.wait_for(lambda: any("sms" in e["text"] for e in h.sim.log()))
    out = capsys.readouterr().out
    entries = h.sim.log()
    everything = out + "\n".join(e["text"] for e in entries)
    assert not re.search(r"\d{7,}", everything.replace("-", "")), "no full phone number in any log line"
    assert "•••0175" in everything and "•••0111" in everything
    assert re.search(r"^\d\d:\d\d:\d\d\.\d{3} CA\w{6}… •••0111→•••0100 say: ", out, re.M)
    assert [e["seq"] for e in entries] == sorted(e["seq"] for e in entries)
    later = h.sim.log(after=entries[-2]["seq"])
    assert later == entries[-1:]


def test_trickle_places_calls_from_rotating_callers_until_stopped(h):
    h.app.on("/voice/incoming", '<Response><Gather action="/voice/a" numDigits="1"/></Response>')
    stop = threading.Event()
    callers = ["+12125550111", "+12125550112"]
    scripts = [[{"digits": "1"}], [{"digits": "2"}]]
    worker = threading.Thread(target=lambda: trickle(h.sim, callers, h.NUMBER, scripts, 0.1, stop))
    worker.start()
    h.sim.wait_for(lambda: len(h.sim.calls()) >= 4)
    stop.set()
    worker.join(2)
    assert not worker.is_alive()
    calls = sorted(h.sim.calls(), key=lambda c: c["date_created"] or "")
    assert {c["from"] for c in calls} == set(callers)
    digits = [r["form"]["Digits"] for r in h.app.wait_hits("/voice/a", 4)]
    assert set(digits) <= {"1", "2"}


def test_cli_serves_the_control_api():
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simulator",
            "--port",
            "0",
            "--app-url",
            "http://127.0.0.1:9",
            "--account-sid",
            "AC" + "1" * 32,
            "--auth-token",
            "t",
            "--number",
            "+12125550100",
            "--time-scale",
            "0.1",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        url = re.search(r"listening on (http://\S+)", line).group(1)  # type: ignore[union-attr]
        assert requests.get(url + "/sim/calls", timeout=5).json() == []
        assert requests.get(url + "/", timeout=5).json()["time_scale"] == 0.1
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def test_party_hangup_from_the_control_api(h):
    h.app.on("/voice/incoming", '<Response><Pause length="1000"/></Response>')
    sid = h.sim.place_call(OFFICER)
    h.app.wait_hits("/voice/incoming")
    h.sim.hangup(sid)
    assert h.ended(sid, timeout=3)["end_reason"] == "caller hung up"
    with pytest.raises(RuntimeError, match="404"):
        h.sim.hangup("CA" + "0" * 32)


def test_two_hundred_concurrent_calls():
    """200 inbound calls live at once, each through Say, Gather and its action; then all hang up."""
    with Harness(time_scale=0.01, webhook_timeout=30) as h:
        h.app.on(
            "/voice/incoming",
            "<Response><Say>Please hold while we connect you.</Say>"
            '<Gather action="/voice/a" numDigits="1"/></Response>',
        )
        h.app.on("/voice/a", '<Response><Pause length="100000"/></Response>')
        sids = [h.sim.place_call(f"+1212555{1000 + i:04d}", inputs=[{"digits": "1"}]) for i in range(200)]
        assert len(set(sids)) == 200
        h.app.wait_hits("/voice/a", 200, timeout=30)
        assert sum(c["status"] == "in-progress" for c in h.sim.calls()) == 200
        for sid in sids:
            h.sim.hangup(sid)
        h.app.wait_hits("/voice/status", 200, timeout=30)
        assert all(c["status"] == "completed" for c in h.sim.calls())
        assert all(r["valid"] for r in h.app.hits())
