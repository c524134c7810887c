"""Named conference rooms: who is in, whether the room has started, and its events.

All methods run under the network lock and return the status-callback events they
produced; the caller posts them after releasing the lock, so no HTTP happens while
the lock is held. Rules (Twilio's): a room starts when a participant with
startConferenceOnEnter=true is present; a participant with endConferenceOnExit=true
leaving ends it for everyone; a room with nobody left ends.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from simulator.calls import API_VERSION, new_sid, rfc2822, utcnow

EVENT_NAMES = {
    "start": "conference-start",
    "end": "conference-end",
    "join": "participant-join",
    "leave": "participant-leave",
}


@dataclass
class Participant:
    call_sid: str
    number: str
    start_on_enter: bool
    end_on_exit: bool
    muted: bool = False
    joined: float = field(default_factory=time.monotonic)
    removed: str = ""  # why the room let go of this participant, once it has
    created: Any = field(default_factory=utcnow)

    def resource(self, room: "Room") -> dict[str, Any]:
        """The REST representation (Conferences/{sid}/Participants), shaped like Twilio's."""
        return {
            "account_sid": room.account_sid,
            "call_sid": self.call_sid,
            "label": None,
            "call_sid_to_coach": None,
            "coaching": False,
            "conference_sid": room.sid,
            "date_created": rfc2822(self.created),
            "date_updated": rfc2822(self.created),
            "end_conference_on_exit": self.end_on_exit,
            "muted": self.muted,
            "hold": False,
            "start_conference_on_enter": self.start_on_enter,
            "status": "connected",
            "queue_time": None,
            "uri": f"{room.uri_base}/Participants/{self.call_sid}.json",
        }


@dataclass
class Room:
    sid: str
    name: str
    account_sid: str
    state: str = "init"  # init → in-progress → completed (Twilio's conference states)
    participants: dict[str, Participant] = field(default_factory=dict)
    callback: tuple[str, str, set[str]] | None = None
    seq: int = 0
    created: Any = field(default_factory=utcnow)
    history: list[str] = field(default_factory=list)
    end_reason: str = ""
    ending_call: str = ""
    updated: Any = field(default_factory=utcnow)

    @property
    def started(self) -> bool:
        return self.state == "in-progress"

    @property
    def uri_base(self) -> str:
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Conferences/{self.sid}"

    def resource(self) -> dict[str, Any]:
        """The REST representation (Conferences.json), shaped like Twilio's so the SDK parses it."""
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "friendly_name": self.name,
            "region": "us1",
            "sid": self.sid,
            "status": self.state,
            "date_created": rfc2822(self.created),
            "date_updated": rfc2822(self.updated),
            "reason_conference_ended": self.end_reason or None,
            "call_sid_ending_conference": self.ending_call or None,
            "uri": self.uri_base + ".json",
            "subresource_uris": {
                "participants": self.uri_base + "/Participants.json",
                "recordings": self.uri_base + "/Recordings.json",
            },
        }

    def snapshot(self) -> dict[str, Any]:
        return {
            "sid": self.sid,
            "name": self.name,
            "state": self.state,
            "started": self.started,
            "date_created": rfc2822(self.created),
            "end_reason": self.end_reason,
            "participants": [
                {
                    "call": p.call_sid,
                    "number": p.number,
                    "start_conference_on_enter": p.start_on_enter,
                    "end_conference_on_exit": p.end_on_exit,
                    "muted": p.muted,
                }
                for p in self.participants.values()
            ],
            "events": list(self.history),
        }


def _bool(value: bool) -> str:
    return "true" if value else "false"


class Conferences:
    """All rooms; at most one active room per friendly name."""

    def __init__(self, account_sid: str):
        self.account_sid = account_sid
        self.rooms: dict[str, Room] = {}
        self.active: dict[str, str] = {}

    def _event(self, room: Room, name: str, p: Participant | None = None, **extra: str) -> dict[str, Any] | None:
        room.history.append(name)
        if room.callback is None:
            return None
        url, method, wanted = room.callback
        if name not in {EVENT_NAMES[w] for w in wanted if w in EVENT_NAMES}:
            return None
        room.seq += 1
        params = {
            "AccountSid": room.account_sid,
            "ConferenceSid": room.sid,
            "FriendlyName": room.name,
            "StatusCallbackEvent": name,
            "SequenceNumber": str(room.seq),
            "Timestamp": rfc2822(utcnow()) or "",
        }
        if p is not None:
            params.update(
                CallSid=p.call_sid,
                Muted=_bool(p.muted),
                Hold="false",
                Coaching="false",
                EndConferenceOnExit=_bool(p.end_on_exit),
                StartConferenceOnEnter=_bool(p.start_on_enter),
            )
        params.update(extra)
        return {"url": url, "method": method, "params": params}

    def join(
        self,
        name: str,
        call_sid: str,
        number: str,
        start_on_enter: bool,
        end_on_exit: bool,
        muted: bool = False,
        callback: tuple[str, str, set[str]] | None = None,
    ) -> tuple[Room, Participant, list[dict[str, Any]]]:
        sid = self.active.get(name)
        room = self.rooms.get(sid) if sid else None
        if room is None or room.state == "completed":
            room = Room(sid=new_sid("CF"), name=name, account_sid=self.account_sid)
            self.rooms[room.sid] = room
            self.active[name] = room.sid
        if room.callback is None and callback is not None:
            room.callback = callback  # the first participant that names a statusCallback sets the room's
        p = Participant(call_sid, number, start_on_enter, end_on_exit, muted)
        room.participants[call_sid] = p
        room.updated = utcnow()
        events = [self._event(room, "participant-join", p)]
        if start_on_enter and room.state == "init":
            room.state = "in-progress"
            room.updated = utcnow()
            events.append(self._event(room, "conference-start"))
        return room, p, [e for e in events if e]

    def leave(
        self, room: Room, p: Participant, reason: str, call_status: str
    ) -> tuple[list[dict[str, Any]], list[str]]:
        """Take `p` out; return the events and the call sids the room released because it ended."""
        if room.participants.pop(p.call_sid, None) is None:
            return [], []
        room.updated = utcnow()
        events = [
            self._event(room, "participant-leave", p, ReasonParticipantLeft=reason, ParticipantCallStatus=call_status)
        ]
        released: list[str] = []
        if room.state != "completed" and (p.end_on_exit or not room.participants):
            why = (
                "participant-with-end-conference-on-exit-left"
                if p.end_on_exit and room.participants
                else "last-participant-left"
            )
            released = self.end(room, why, p.call_sid, events)
        return [e for e in events if e], released

    def end(self, room: Room, why: str, ending_call: str, events: list[dict[str, Any] | None]) -> list[str]:
        room.state = "completed"
        room.end_reason = why
        room.ending_call = ending_call
        room.updated = utcnow()
        if self.active.get(room.name) == room.sid:
            del self.active[room.name]
        released = []
        for other in room.participants.values():
            other.removed = other.removed or "participant_with_end_conference_on_exit_left"
            released.append(other.call_sid)
        events.append(
            self._event(room, "conference-end", ReasonConferenceEnded=why, CallSidEndingConference=ending_call)
        )
        return released

    def snapshot(self) -> list[dict[str, Any]]:
        return [room.snapshot() for room in self.rooms.values()]
