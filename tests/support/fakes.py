"""In-memory stand-ins for the two outward ports, for Flask-level tests.

End-to-end tests use the real adapter against the simulator instead; these keep
handler tests fast and let them assert exactly which calls the domain placed.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from dispatch.telephony import CallInfo, CallRequest, TelephonyError

_ids = itertools.count(1)


@dataclass
class FakeTelephony:
    calls: list[CallRequest] = field(default_factory=list)
    hangups: list[str] = field(default_factory=list)
    redirects: list[tuple[str, str]] = field(default_factory=list)
    sms: list[tuple[str, str, str]] = field(default_factory=list)
    sids: list[str] = field(default_factory=list)
    statuses: dict[str, str] = field(default_factory=dict)  # call sid → status fetch_call reports
    rooms: dict[str, list[str]] = field(default_factory=dict)  # in-progress conference → call sids
    known: dict[str, CallInfo] = field(default_factory=dict)  # call sid → who called whom
    fetched: list[str] = field(default_factory=list)
    refuse_redirects: int = 0  # the next n redirects raise (500)

    def place_call(self, call: CallRequest) -> str:
        self.calls.append(call)
        sid = f"CA{next(_ids):032d}"
        self.sids.append(sid)
        self.known[sid] = CallInfo(sid, "in-progress", call.from_, call.to)
        return sid

    def inbound(self, sid: str, from_: str, to: str, status: str = "in-progress") -> None:
        """A call the network knows of that the service did not place (an officer calling in)."""
        self.known[sid] = CallInfo(sid, status, from_, to)

    def hangup(self, call_sid: str) -> bool:
        self.hangups.append(call_sid)
        return True

    def redirect(self, call_sid: str, url: str) -> bool:
        if self.refuse_redirects > 0:
            self.refuse_redirects -= 1
            raise TelephonyError("update call: 500 after 3 tries", status=500)
        self.redirects.append((call_sid, url))
        return True

    def fetch_call(self, call_sid: str) -> CallInfo | None:
        """Calls this fake placed (or was told of by `inbound`) are in progress unless `statuses`
        says otherwise; others unknown unless `statuses` names them."""
        self.fetched.append(call_sid)
        info, status = self.known.get(call_sid), self.statuses.get(call_sid)
        if info is None:
            return CallInfo(call_sid, status, "", "") if status else None
        return CallInfo(info.sid, status or info.status, info.from_, info.to)

    def conference_participants(self, friendly_name: str) -> list[str] | None:
        return list(self.rooms[friendly_name]) if friendly_name in self.rooms else None

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
            elif task == "reconcile":
                from dispatch.reconcile import Reconciler

                Reconciler(dispatcher.ctx).run()
            elif task in ("dial_vendor", "tell_caller", "hang_up"):
                getattr(dispatcher, task)(*args)
            elif task.startswith("rejoin_"):
                getattr(dispatcher.rejoin, task.removeprefix("rejoin_"))(*args)
