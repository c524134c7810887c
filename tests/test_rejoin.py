"""A dropped officer and the waiting interpreter at the Flask level (dispatch/rejoin.py,
webhooks/voice_rejoin.py): signed like Twilio, real Redis, a fake phone network, jobs run by
hand. The end-to-end runs through the simulator are in tests/test_e2e_rejoin.py.
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import pytest

from dispatch import clock, keys
from dispatch.roster import Caller
from dispatch.states import State
from tests.support.voice import query, said, voice

OFFICER = "CA" + "0f" * 16
AGAIN = "CA" + "a9" * 16
STRANGER = "+13475550199"  # not in the roster: identified by precinct PIN


class World:
    """The app with a fake network: open a request, connect an interpreter, drop the officer."""

    def __init__(self, app, client, settings, ctx, jobs, telephony):
        self.app, self.client, self.settings, self.ctx = app, client, settings, ctx
        self.jobs, self.telephony = jobs, telephony
        self.wiring = app.extensions["wiring"]

    def post(self, path: str, **params: str) -> ET.Element:
        return voice(self.client, self.settings, path, **params)

    def drain(self) -> None:
        self.jobs.drain()

    def rec(self, request_id: str):  # type: ignore[no-untyped-def]
        return self.ctx.requests.get(request_id)

    def history(self, request_id: str) -> list[str]:
        return [h["event"] for h in self.ctx.requests.history(request_id)]

    def line(self) -> str:
        return self.ctx.roster.precincts[0].lines[0]

    def connected(self, vendor: bool = False, number: str = "", kind: str = "precinct") -> tuple[str, str]:
        """A Spanish request (the vendor's: language unknown) with its interpreter on the line;
        returns (request id, the interpreter's call sid)."""
        precinct = self.ctx.roster.precincts[0]
        number = number or self.line()
        self.telephony.inbound(OFFICER, number, self.ctx.roster.service_number)
        rec = self.wiring.intake.open_request(
            Caller(number, kind, precinct.id), None if vendor else self.ctx.catalog.get("spa"), officer_call=OFFICER
        )
        self.drain()
        call, sid = self.telephony.calls[-1], self.telephony.sids[-1]
        if vendor:
            self.post(call.url, CallSid=sid, CallStatus="in-progress")
        else:
            self.post(call.url.replace("/voice/offer?", "/voice/offer/answer?"), CallSid=sid, Digits="1")
        assert self.rec(rec.id).state == State.CONNECTED
        return rec.id, sid

    def drop(self, call_sid: str = OFFICER) -> None:
        """The officer's cell drops: their call's final status callback."""
        self.post(
            "/voice/status",
            CallSid=call_sid,
            CallStatus="completed",
            From=self.line(),
            To=self.ctx.roster.service_number,
        )

    def prompt_url(self) -> str:
        """Where the rejoin job moved the interpreter's leg."""
        return self.telephony.redirects[-1][1]

    def snapshot(self, request_id: str) -> dict:
        r = self.ctx.redis
        return {
            "record": {k.decode(): v.decode() for k, v in r.hgetall(keys.request(request_id)).items()},
            "history": [json.dumps(h, sort_keys=True) for h in self.ctx.requests.history(request_id)],
            "events": r.xlen(keys.EVENTS),
            "liaisons": [
                (s.id, s.state, s.request, s.available_at)
                for s in self.ctx.liaisons.statuses([liaison.id for liaison in self.ctx.roster.liaisons])
            ],
            "calls": [c.to for c in self.telephony.calls],
            "hangups": list(self.telephony.hangups),
            "redirects": list(self.telephony.redirects),
            "jobs": list(self.jobs.submitted),
        }


@pytest.fixture
def w(app, client, settings, ctx, jobs, telephony) -> World:
    return World(app, client, settings, ctx, jobs, telephony)


def test_the_officer_s_leg_ending_keeps_the_interpreter_and_prompts_them(w):
    request_id, interpreter = w.connected()
    liaison = w.rec(request_id).handler_id
    w.drop()
    rec = w.rec(request_id)
    assert rec.state == State.REJOINING and rec.drops == 1
    assert w.ctx.liaisons.status(liaison).state == "on_call", "still on a call: not offered others"
    assert ("tell_caller", (request_id, "/voice/dropped")) not in w.jobs.submitted
    assert w.telephony.hangups == [], "nobody is hung up"
    w.drain()
    call_sid, url = w.telephony.redirects[-1]
    assert call_sid == interpreter and urlsplit(url).path == "/voice/rejoin"
    root = w.post(url, CallSid=interpreter)
    assert said(root) == (
        "The officer's line has ended. If the call was cut off, press 1 and we will call the "
        "officer back; otherwise hang up."
    )
    assert urlsplit(root.find("Gather").get("action")).path == "/voice/rejoin/answer"
    assert urlsplit(root.find("Redirect").text).path == "/voice/rejoin", "the prompt repeats"
    # the number is remembered for the grace period as a hash only
    found = {k: w.ctx.redis.get(k) for k in w.ctx.redis.scan_iter(keys.PREFIX + "rejoin:*")}
    assert found and not any(w.line()[2:].encode() in k + v for k, v in found.items())
    key = keys.rejoin_number(w.ctx.pseudonyms.of(w.line())).encode()
    assert found[key].decode() == request_id
    assert 0 < w.ctx.redis.pttl(key) <= w.settings.reconnect_grace * 1000


@pytest.mark.parametrize("vendor", [False, True], ids=["liaison", "vendor"])
def test_one_call_back_however_often_the_interpreter_presses_1(w, vendor):
    request_id, interpreter = w.connected(vendor=vendor)
    w.drop()
    w.drain()
    answer = w.post(w.prompt_url(), CallSid=interpreter).find("Gather").get("action")
    wrong = w.post(answer, CallSid=interpreter, Digits="7")
    assert "Please press 1" in said(wrong) and wrong.find("Gather") is not None
    first = w.post(answer, CallSid=interpreter, Digits="1")
    second = w.post(answer, CallSid=interpreter, Digits="1")
    assert ET.tostring(first) == ET.tostring(second)
    assert "calling the officer back" in said(first)
    assert first.find("Dial/Conference").text == f"req-{request_id}"
    assert [t for t, _ in w.jobs.submitted].count("rejoin_call_back") == 1
    w.drain()
    w.drain()
    [callback] = [c for c in w.telephony.calls if c.to == w.line()]
    assert callback.from_ == w.ctx.roster.service_number and urlsplit(callback.url).path == "/voice/rejoin/officer"
    assert OFFICER in w.telephony.fetched, "the number came from the network"


def _called_back(w: World) -> tuple[str, str, object]:
    request_id, interpreter = w.connected()
    w.drop()
    w.drain()
    answer = w.post(w.prompt_url(), CallSid=interpreter).find("Gather").get("action")
    w.post(answer, CallSid=interpreter, Digits="1")
    w.drain()
    return request_id, interpreter, w.telephony.calls[-1]


def test_the_officer_answering_the_call_back_and_pressing_1_rejoins_the_same_interpreter(w):
    request_id, interpreter, callback = _called_back(w)
    callback_sid = w.telephony.sids[-1]
    before = w.rec(request_id)
    root = w.post(callback.url, CallSid=callback_sid)
    assert "Press 1 to rejoin your Spanish interpreter" in said(root)
    root = w.post(root.find("Gather").get("action"), CallSid=callback_sid, Digits="1")
    assert "Reconnecting you to your Spanish interpreter" in said(root)
    assert root.find("Dial/Conference").text == f"req-{request_id}"
    rec = w.rec(request_id)
    assert rec.state == State.CONNECTED and rec.officer_call == callback_sid
    assert rec.handler_call == interpreter and rec.connected_at == before.connected_at
    assert w.history(request_id)[-3:] == ["officer_dropped", "call_officer_back", "officer_rejoined"]
    assert w.ctx.requests.call_link(callback_sid)["role"] == "officer"


def test_a_voicemail_answering_the_call_back_never_rejoins(w):
    request_id, _interpreter, callback = _called_back(w)
    callback_sid = w.telephony.sids[-1]
    root = w.post(callback.url, CallSid=callback_sid)
    for _ in range(w.settings.ivr_max_tries):
        if root.find("Redirect") is None:
            break
        root = w.post(root.find("Redirect").text, CallSid=callback_sid)  # no key pressed: asked again
    assert root.find("Hangup") is not None and root.find("Dial") is None
    assert w.rec(request_id).state == State.REJOINING
    w.post(callback.status_callback, CallSid=callback_sid, CallStatus="completed")  # the voicemail hangs up
    w.drain()
    assert w.history(request_id)[-1] == "call_back_failed" and query(w.prompt_url())["why"] == "no-answer"


def test_a_call_back_not_answered_is_told_to_the_interpreter_who_may_press_1_again(w):
    request_id, interpreter, callback = _called_back(w)
    status = callback.status_callback
    w.post(status, CallSid=w.telephony.sids[-1], CallStatus="no-answer")
    assert w.rec(request_id).state == State.REJOINING and w.rec(request_id).recall == ""
    w.drain()
    call_sid, url = w.telephony.redirects[-1]
    assert call_sid == interpreter and query(url)["why"] == "no-answer"
    root = w.post(url, CallSid=interpreter)
    assert said(root) == "The officer did not answer the call back. Press 1 to call the officer again, or hang up."
    w.post(root.find("Gather").get("action"), CallSid=interpreter, Digits="1")
    w.drain()
    assert len([c for c in w.telephony.calls if c.to == w.line()]) == 2
    assert w.history(request_id)[-3:] == ["call_officer_back", "call_back_failed", "call_officer_back"]


@pytest.mark.parametrize("vendor", [False, True], ids=["liaison", "vendor"])
def test_the_interpreter_hanging_up_while_rejoining_completes_and_frees_them(w, vendor):
    request_id, interpreter, callback = _called_back(w) if not vendor else (*w.connected(vendor=True), None)
    if vendor:
        w.drop()
        w.drain()
    rec = w.rec(request_id)
    assert rec.state == State.REJOINING and rec.handler_kind == ("vendor" if vendor else "liaison")
    leg = w.telephony.calls[0 if not vendor else -1]
    status_url = leg.status_callback
    w.post(status_url, CallSid=interpreter, CallStatus="completed")
    rec = w.rec(request_id)
    assert rec.state == State.COMPLETED and w.history(request_id)[-1] == "complete"
    assert not [j for j in w.jobs.submitted if j[0] == "tell_caller"], "no officer on the line to tell"
    if not vendor:
        assert w.ctx.liaisons.status(rec.handler_id).state == "wrapup"
        w.drain()
        assert w.telephony.sids[-1] in w.telephony.hangups, "the ringing call-back is stopped"


def test_the_officer_hanging_up_again_after_rejoining_drops_again(w):
    request_id, interpreter, callback = _called_back(w)
    callback_sid = w.telephony.sids[-1]
    w.post(w.post(callback.url, CallSid=callback_sid).find("Gather").get("action"), CallSid=callback_sid, Digits="1")
    w.post(callback.status_callback, CallSid=callback_sid, CallStatus="completed")
    rec = w.rec(request_id)
    assert rec.state == State.REJOINING and rec.drops == 2 and rec.dropped_call == callback_sid
    w.drain()
    assert w.telephony.redirects[-1][0] == interpreter


def test_late_and_repeated_callbacks_change_nothing(w):
    request_id, interpreter, callback = _called_back(w)
    callback_sid = w.telephony.sids[-1]
    rejoin = w.post(callback.url, CallSid=callback_sid).find("Gather").get("action")
    first = w.post(rejoin, CallSid=callback_sid, Digits="1")
    w.drain()
    before = w.snapshot(request_id)
    late = [
        ("/voice/status", dict(CallSid=OFFICER, CallStatus="completed")),  # the dropped leg, again
        (f"/voice/conference?request={request_id}", dict(CallSid=OFFICER, StatusCallbackEvent="participant-leave")),
        (callback.status_callback, dict(CallSid=callback_sid, CallStatus="in-progress")),
        (w.telephony.calls[0].status_callback, dict(CallSid=interpreter, CallStatus="in-progress")),
    ]
    for path, params in late:
        w.post(path, **params)
    again = w.post(rejoin, CallSid=callback_sid, Digits="1")
    assert ET.tostring(again) == ET.tostring(first), "a redelivered 1 gets the same room"
    assert w.snapshot(request_id) == before


def test_one_drop_reported_twice_is_one_drop(w):
    request_id, _interpreter = w.connected()
    w.post(f"/voice/conference?request={request_id}", CallSid=OFFICER, StatusCallbackEvent="participant-leave")
    w.drop()
    assert w.history(request_id).count("officer_dropped") == 1
    assert [t for t, _ in w.jobs.submitted].count("rejoin_dropped") == 1


@pytest.mark.parametrize("number,kind", [("", "precinct"), (STRANGER, "pin")], ids=["roster", "pin"])
def test_the_same_number_calling_again_is_offered_to_rejoin_first(w, number, kind):
    request_id, interpreter = w.connected(number=number, kind=kind)
    number = number or w.line()
    w.drop()
    w.drain()
    w.post(w.prompt_url(), CallSid=interpreter)  # the interpreter waits at the prompt
    menu = w.post("/voice/incoming", CallSid=AGAIN, From=number)
    assert "Press 1 to rejoin your Spanish interpreter" in said(menu)
    action = menu.find("Gather").get("action")
    other = w.post(action, CallSid=AGAIN, From=number, Digits="2")
    main = w.post(other.find("Redirect").text, CallSid=AGAIN, From=number)
    assert "rejoin" not in said(main) and main.find("Gather") is not None, "other keys: the main menu"
    root = w.post(action, CallSid=AGAIN, From=number, Digits="1")
    assert root.find("Dial/Conference").text == f"req-{request_id}"
    rec = w.rec(request_id)
    assert rec.state == State.CONNECTED and rec.officer_call == AGAIN and rec.handler_call == interpreter
    assert w.ctx.requests.open_ids() == [request_id], "no new request"
    w.drain()
    call_sid, url = w.telephony.redirects[-1]  # the interpreter, from the prompt into the room
    assert call_sid == interpreter and query(url)["why"] == "back"
    assert w.post(url, CallSid=interpreter).find("Dial/Conference") is not None


def test_callers_with_nothing_to_rejoin_get_the_menu_at_once(w):
    request_id, _interpreter = w.connected()
    w.drop()
    w.drain()
    other_line = w.ctx.roster.precincts[1].lines[0]
    menu = w.post("/voice/incoming", CallSid=AGAIN, From=other_line)
    assert "rejoin" not in said(menu) and "language" in said(menu).lower()


def test_the_first_menu_asks_redis_only_while_a_rejoin_may_be_waiting(w, monkeypatch):
    """The incoming-call webhook is the busiest: with nobody to rejoin it reads one key at
    most once a sweep interval, not once a call."""
    reads: list[str] = []
    real_get = w.ctx.redis.get
    monkeypatch.setattr(w.ctx.redis, "get", lambda key: reads.append(key) or real_get(key))
    monkeypatch.setattr(w.wiring.rejoin_ends.numbers, "_gate_seconds", 3600.0)  # however slow these posts are
    for i in range(5):
        w.post("/voice/incoming", CallSid=f"CA{i:032d}", From=w.line())
    assert reads == [keys.REJOIN_UNTIL]
    request_id, interpreter = w.connected()
    w.drop()
    w.drain()
    monkeypatch.setattr(w.wiring.rejoin_ends.numbers, "_gate_read_at", -math.inf)  # the interval has passed
    reads.clear()
    assert "rejoin" in said(w.post("/voice/incoming", CallSid=AGAIN, From=w.line()))
    assert keys.rejoin_number(w.ctx.pseudonyms.of(w.line())) in reads


def test_after_the_grace_the_interpreter_is_released_and_the_request_completed(w, monkeypatch):
    request_id, interpreter, callback = _called_back(w)
    liaison = w.rec(request_id).handler_id
    real = clock.now
    monkeypatch.setattr(clock, "now", lambda: real() + w.settings.reconnect_grace - 1)
    w.wiring.sweeper.sweep()
    assert w.rec(request_id).state == State.REJOINING, "not before the grace ends"
    monkeypatch.setattr(clock, "now", lambda: real() + w.settings.reconnect_grace + 0.01)
    w.wiring.sweeper.sweep()
    rec = w.rec(request_id)
    assert rec.state == State.COMPLETED and rec.outcome == "officer did not rejoin"
    assert w.history(request_id)[-1] == "rejoin_expired"
    assert interpreter in w.telephony.hangups and w.telephony.sids[-1] in w.telephony.hangups
    assert w.ctx.liaisons.status(liaison).state == "wrapup"
    menu = w.post("/voice/incoming", CallSid=AGAIN, From=w.line())
    assert "rejoin" not in said(menu)
    late = w.post(callback.url, CallSid=w.telephony.sids[-1])
    assert "no longer on the line" in said(late) and late.find("Hangup") is not None


def test_a_liaison_waiting_for_a_rejoin_is_not_freed_as_stuck(w, monkeypatch):
    request_id, _interpreter = w.connected()
    w.drop()
    liaison = w.rec(request_id).handler_id
    real = clock.now
    monkeypatch.setattr(clock, "now", lambda: real() + w.settings.grace_seconds * 10)
    w.wiring.sweeper.free_stuck_liaisons()
    assert w.ctx.liaisons.status(liaison).state == "on_call"


def test_forged_rejoin_requests_over_http_are_refused_and_call_nobody(w, gunicorn):
    """An attacker without the auth token posts the interpreter's "1" (which would ring a
    phone) and the officer's "1" (which would join the interpreter's room) to a real gunicorn."""
    import requests as http

    from tests.support.signing import signature

    request_id, interpreter = w.connected()
    w.drop()
    w.drain()
    server = gunicorn()
    token = w.rec(request_id).rejoin_token
    before = w.snapshot(request_id)
    attacks = [
        (f"/voice/rejoin/answer?request={request_id}&drop={token}", {"CallSid": interpreter, "Digits": "1"}, None),
        (f"/voice/rejoin/menu?request={request_id}", {"CallSid": AGAIN, "From": w.line(), "Digits": "1"}, None),
        # signed, but for another request's URL: the signature covers the query
        (
            f"/voice/rejoin/answer?request={request_id}&drop={token}",
            {"CallSid": interpreter, "Digits": "1"},
            f"/voice/rejoin/answer?request=R99999&drop={token}",
        ),
        (
            f"/voice/rejoin/officer/answer?request={request_id}&recall=x&tries=0",
            {"CallSid": AGAIN, "Digits": "1"},
            "/voice/incoming",
        ),
    ]

    def post(path: str, form: dict[str, str], signed_for: str | None) -> http.Response:
        headers = {"X-Twilio-Signature": signature(server.settings, signed_for, form)} if signed_for else {}
        return http.post(server.url + path, data=form, headers=headers, timeout=10)

    for path, form, signed_for in attacks:
        assert post(path, form, signed_for).status_code == 403, path
    assert w.snapshot(request_id) == before, "no call-back asked for (its job goes with it), nobody rejoined"
    # the same "1", signed as Twilio signs it, does ask for the call-back
    path, form, _ = attacks[0]
    assert post(path, form, path).status_code == 200
    assert w.rec(request_id).recall and w.history(request_id)[-1] == "call_officer_back"


def test_calling_again_while_the_call_back_rings_rejoins_and_stops_the_call_back(w):
    request_id, interpreter, callback = _called_back(w)
    ringing = w.telephony.sids[-1]
    menu = w.post("/voice/incoming", CallSid=AGAIN, From=w.line())
    root = w.post(menu.find("Gather").get("action"), CallSid=AGAIN, From=w.line(), Digits="1")
    assert root.find("Dial/Conference").text == f"req-{request_id}"
    assert w.rec(request_id).officer_call == AGAIN
    w.drain()
    assert ringing in w.telephony.hangups
    assert not [r for r in w.telephony.redirects if query(r[1]).get("m") == "back"], "already in the room"
    w.post(callback.status_callback, CallSid=ringing, CallStatus="canceled")  # the stopped call-back reports
    assert w.rec(request_id).state == State.CONNECTED and w.history(request_id)[-1] == "officer_rejoined"
    late = w.post(callback.url, CallSid=ringing)  # had it been answered anyway
    assert late.find("Dial") is None and late.find("Hangup") is not None
