"""<Dial>: bridge to other phones (<Number>) or put the leg in a named room (<Conference>).

When the Dial ends, its action URL (if any) is requested with DialCallStatus and the
call continues with the TwiML that comes back; without an action, the verbs after the
Dial run. If the caller hangs up during the Dial, the action is still requested (with
CallStatus=completed) and its answer ignored, as Twilio does.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET

from simulator.calls import CallEnded, MusicOver, Redirected, Source
from simulator.eventlog import mask
from simulator.twiml import AppError, Interpreter, attr_bool, attr_float

if TYPE_CHECKING:
    from simulator.calls import Call
    from simulator.conference import Participant, Room
    from simulator.network import Network

SUPPORTED_NOUNS = {"Number", "Conference"}
DEFAULT_WAIT_URL = "default hold music"
MIN_MUSIC_LOOP = 0.05  # seconds: an empty wait document must not spin the CPU


def run_dial(interp: Interpreter, el: ET.Element, base: str | None) -> Source | None:
    leg = interp.leg
    action_url = el.get("action")
    action = interp.resolve(base, action_url) if action_url else None
    method = (el.get("method") or "POST").upper()
    nouns = [child for child in el if isinstance(child.tag, str)]
    if not nouns and (el.text or "").strip():
        bare = ET.Element("Number")
        bare.text = el.text
        nouns = [bare]
    unsupported = [n.tag for n in nouns if n.tag not in SUPPORTED_NOUNS]
    if not nouns or unsupported:
        what = f"<{unsupported[0]}>" if unsupported else "nothing to dial"
        leg.event(f"error 12200: <Dial> with {what} is not supported: hanging up")
        raise CallEnded("TwiML error 12200 (<Dial>)")
    try:
        if nouns[0].tag == "Conference":
            result = _conference(interp, nouns[0], base)
        else:
            result = _numbers(interp, [n for n in nouns if n.tag == "Number"], el, base)
    except CallEnded as ended:
        if action and not ended.silent and leg.live():
            _post_after_hangup(interp, action, method, ended.dial_params)
        raise
    leg.event(f"dial ended: {result['DialCallStatus']}")
    return Source(action, method, result) if action else None


def _post_after_hangup(interp: Interpreter, action: str, method: str, dial_params: dict[str, str]) -> None:
    """The caller hung up mid-Dial: Twilio still tells the action URL, and ignores the reply."""
    leg = interp.leg
    with leg.net.lock:
        params = leg.call.webhook_params()
    params.update(dial_params, CallStatus="completed")
    leg.net.webhooks.send(action, params, method)


# ---- <Number> ------------------------------------------------------------------------------
def _numbers(interp: Interpreter, numbers: list[ET.Element], dial: ET.Element, base: str | None) -> dict[str, str]:
    leg, net = interp.leg, interp.leg.net
    call = leg.call
    timeout = attr_float(dial, "timeout", 30.0)
    caller_id = dial.get("callerId") or call.from_
    children: list[Call] = []
    for noun in numbers:
        attrs = dict(noun.attrib)
        if attrs.get("url"):
            attrs["url"] = interp.resolve(base, attrs["url"])
        children.append(net.start_child(call, (noun.text or "").strip(), attrs, timeout, caller_id))
    leg.event("dial: ringing " + ", ".join(mask(c.to) for c in children))

    def outcome(winner: Call | None) -> dict[str, str]:
        chosen = winner or children[0]
        if winner is not None or any(c.answered for c in children):
            status = "completed"
        else:
            finals = [c.status for c in children]
            status = next((s for s in ("busy", "failed", "no-answer", "canceled") if s in finals), "no-answer")
        return {
            "DialCallStatus": status,
            "DialCallSid": chosen.sid,
            "DialCallDuration": str(chosen.duration()),
            "DialBridged": "true" if winner is not None else "false",
        }

    winner: Call | None = None
    try:
        leg.wait(None, until=lambda: any(c.bridged for c in children) or all(c.ended for c in children))
        with net.lock:
            winner = next((c for c in children if c.bridged and not c.ended), None)
        for other in children:
            if other is not winner:
                net.interrupt(other, CallEnded("another number answered first"))
        if winner is not None:
            leg.event(f"dial: connected to {mask(winner.to)}")
            leg.wait(None, until=lambda: winner.ended or not winner.bridged)
            _settle(net, winner)
    except (CallEnded, Redirected) as exc:
        why = "caller hung up" if isinstance(exc, CallEnded) and exc.by_party else "the calling leg moved on"
        for child in children:
            net.interrupt(child, CallEnded(why, silent=getattr(exc, "silent", False)))
        for child in children:
            _settle(net, child)
        if isinstance(exc, CallEnded):
            exc.dial_params = outcome(winner)
        raise
    return outcome(winner)


def _settle(net: Network, child: Call, timeout: float = 2.0) -> None:
    """Give a child leg a moment to finish, so DialCallDuration and its status are final."""
    deadline = time.monotonic() + timeout
    with net.lock:
        while not child.ended and time.monotonic() < deadline:
            child.cond.wait(timeout=0.05)


# ---- <Conference> --------------------------------------------------------------------------
def _conference(interp: Interpreter, noun: ET.Element, base: str | None) -> dict[str, str]:
    leg, net = interp.leg, interp.leg.net
    call = leg.call
    name = (noun.text or "").strip()
    wait_url = noun.get("waitUrl")
    wait_url = DEFAULT_WAIT_URL if wait_url is None else (interp.resolve(base, wait_url) if wait_url.strip() else "")
    callback = None
    if noun.get("statusCallback"):
        wanted = set((noun.get("statusCallbackEvent") or "start end").replace(",", " ").split())
        callback = (
            interp.resolve(base, noun.get("statusCallback") or ""),
            (noun.get("statusCallbackMethod") or "POST").upper(),
            wanted,
        )
    with net.lock:
        room, me, events = net.rooms.join(
            name,
            call.sid,
            call.number,
            attr_bool(noun, "startConferenceOnEnter", True),
            attr_bool(noun, "endConferenceOnExit", False),
            attr_bool(noun, "muted", False),
            callback,
        )
        call.conference = name
        net.notify_room(room)
        count = len(room.participants)
    leg.event(f"conference {name}: joined ({count} in the room, {'started' if room.started else 'waiting'})")
    net.post_events(events)
    reason, call_status = "participant_updated_via_api", "in-progress"
    try:
        while True:
            with net.lock:
                started, released = room.started, bool(me.removed) or room.state == "completed"
            if released:
                break
            if started:
                leg.wait(None, until=lambda: bool(me.removed) or room.state == "completed")
                break
            _wait_music(interp, room, me, wait_url, (noun.get("waitMethod") or "POST").upper())
    except CallEnded as ended:
        reason, call_status = "participant_hung_up", "completed"
        ended.dial_params = {"DialCallStatus": "answered", "ConferenceSid": room.sid}
        raise
    finally:
        with net.lock:
            events, released_sids = net.rooms.leave(room, me, me.removed or reason, call_status)
            call.conference = None
            net.notify_room(room, released_sids)
        why = me.removed or reason
        room_ended = ", room ended" if room.state == "completed" else ""
        leg.event(f"conference {name}: left ({why.replace('_', ' ')}){room_ended}")
        if leg.live():  # after a reset (the simulator stopping) the network posts nothing more
            net.post_events(events)
    return {"DialCallStatus": "answered", "ConferenceSid": room.sid}


def _wait_music(interp: Interpreter, room: Room, me: Participant, wait_url: str, wait_method: str) -> None:
    """Play the waitUrl's TwiML in a loop until the room starts or lets this participant go."""
    leg = interp.leg

    def over() -> bool:
        return room.started or bool(me.removed) or room.state == "completed"

    if wait_url in ("", DEFAULT_WAIT_URL):
        if wait_url:
            leg.event("wait music: Twilio's default hold music")
        leg.wait(None, until=over)
        return
    music = Interpreter(leg, mode="music", dial=run_dial)
    leg.music_stop = over
    try:
        while True:
            began = time.monotonic()
            try:
                music.run(Source(wait_url, wait_method))
            except AppError:
                leg.event("wait music: waitUrl failed, waiting in silence")
                leg.music_stop = None
                leg.wait(None, until=over)
                return
            spent = time.monotonic() - began
            if spent < MIN_MUSIC_LOOP:
                leg.wait(MIN_MUSIC_LOOP - spent)
    except MusicOver:
        why = "the room started" if room.started else "the room let go"
        leg.event(f"wait music stopped: {why}")
        return
    finally:
        leg.music_stop = None
