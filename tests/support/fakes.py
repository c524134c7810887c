"""In-memory stand-ins for the two outward ports, for Flask-level tests.

End-to-end tests use the real adapter against the simulator instead; these keep
handler tests fast and let them assert exactly which calls the domain placed.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from dispatch.telephony import CallRequest
from dispatch.telephony.port import CallInfo

_ids = itertools.count(1)


@dataclass
class FakeTelephony:
    calls: list[CallRequest] = field(default_factory=list)
    hangups: list[str] = field(default_factory=list)
    redirects: list[tuple[str, str]] = field(default_factory=list)
    sms: list[tuple[str, str, str]] = field(default_factory=list)
    sids: list[str] = field(default_factory=list)
    known: dict[str, CallInfo] = field(default_factory=dict)   # what fetch_call answers
    fetched: list[str] = field(default_factory=list)

    def place_call(self, call: CallRequest) -> str:
        self.calls.append(call)
        sid = f"CA{next(_ids):032d}"
        self.sids.append(sid)
        self.known[sid] = CallInfo(sid, "queued", call.from_, call.to)
        return sid

    def inbound(self, sid: str, from_: str, to: str, status: str = "in-progress") -> None:
        """A call the network knows of that the service did not place (an officer calling in)."""
        self.known[sid] = CallInfo(sid, status, from_, to)

    def fetch_call(self, call_sid: str) -> CallInfo | None:
        self.fetched.append(call_sid)
        return self.known.get(call_sid)

    def hangup(self, call_sid: str) -> bool:
        self.hangups.append(call_sid)
        return True

    def redirect(self, call_sid: str, url: str) -> bool:
        self.redirects.append((call_sid, url))
        return True

    def send_sms(self, to: str, from_: str, body: str) -> str:
        self.sms.append((to, from_, body))
        return f"SM{next(_ids):032d}"


@dataclass
class RecordingJobs:
    """Records submitted jobs; `run_all(dispatcher)` executes routing ones inline."""

    submitted: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    def submit(self, task: str, *args: str) -> None:
        self.submitted.append((task, args))

    def waiting_ids(self, task: str) -> set[str]:
        return {args[0] for t, args in self.submitted if t == task and args}

    def drain(self, dispatcher) -> None:  # type: ignore[no-untyped-def]
        while self.submitted:
            task, args = self.submitted.pop(0)
            if task == "route":
                dispatcher.route(*args)
            elif task == "sweep":
                dispatcher.sweep()
            elif task in ("dial_vendor", "tell_caller", "hang_up"):
                getattr(dispatcher, task)(*args)
            elif task.startswith("rejoin_"):
                getattr(dispatcher.rejoin, task.removeprefix("rejoin_"))(*args)
