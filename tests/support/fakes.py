"""In-memory stand-ins for the two outward ports (the phone network, the job queue), for tests
at the domain and Flask level: bootstrap.py wires them in place of the twilio SDK and RQ.

End-to-end tests use the real adapters against the simulator instead; these keep handler
tests fast and let them assert exactly which calls the domain placed and which jobs it asked for.
"""

from __future__ import annotations

import importlib
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


# What drain() runs: the routing and call jobs. The texts ("notify") and a texted request's
# call-back ("call_back") are only recorded, for the tests that look for them.
RUN_BY_DRAIN = frozenset(
    {
        "route",
        "dial_vendor",
        "tell_caller",
        "hang_up",
        "withdraw_offer",
        "sweep",
        "reconcile",
        "rejoin_dropped",
        "rejoin_call_back",
        "rejoin_redirect",
    }
)


@dataclass
class RecordingJobs:
    """Records submitted jobs; `drain()` runs them inline, in order, until none are left:
    the very job functions an RQ worker runs (adapters.rq_jobs.TASKS), on the wiring the test
    bound with workers.runtime.use (the `wiring` fixture does)."""

    submitted: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    def submit(self, task: str, *args: str) -> None:
        self.submitted.append((task, args))

    def waiting_ids(self, task: str) -> set[str]:
        return {args[0] for t, args in self.submitted if t == task and args}

    def drain(self, run: frozenset[str] = RUN_BY_DRAIN) -> None:
        """Run the jobs in `run` as a worker would (including those they submit); drop the rest."""
        from adapters.rq_jobs import TASKS

        while self.submitted:
            task, args = self.submitted.pop(0)
            if task in run:
                module, _, name = TASKS[task].rpartition(".")
                getattr(importlib.import_module(module), name)(*args)
