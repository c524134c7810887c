"""The reconciler: the phone network's own word on calls whose final callbacks never came.

Twilio does not retry a status callback. When the ones that end a call are lost (the web
process down, a restart), a connected request stays "connected" and its liaison "on a
call" for good: connected is not a waiting state, so the sweeper, which trusts that
callbacks come, has nothing to time out. Every RECONCILE_SECONDS, and once when a worker
starts, the reconciler asks the network (REST: a call's status, a conference's
participants) about each request that has been in a state longer than that state's
bound, and closes what has ended: the transitions `reconcile_complete` and
`reconcile_abandon`, named apart so the history shows it was the reconciler, not a
callback, and recording "ended (reconciled)" as the outcome.

It never closes what is live. A request is closed only when the call that carries it has
ended in the network's own words (a connected request's interpreter leg, a waiting
request's officer call), and only by a guarded transition from the state and leg it was
read in: a request that moved on meanwhile, or whose late callback got there first, is
left alone. A connected request whose officer has gone but whose interpreter is still on
the line is left too (the interpreter's hang-up ends it, or a later run). States it does
not know are never touched; another state is one entry in `Reconciler.checks`.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from dispatch import clock
from dispatch import urls as paths
from dispatch.context import Service
from dispatch.counters import RECONCILER_FINDINGS
from dispatch.leases import Leases
from dispatch.legs import free_interpreter
from dispatch.records import RequestRecord
from dispatch.rejoin import RejoinWait
from dispatch.ringing import stop_round
from dispatch.settings import DispatchSettings, offer_bound, vendor_bound
from dispatch.sms.notices import tell_texter_the_receipt
from dispatch.states import State
from dispatch.telephony import LIVE, CallInfo, TelephonyError

log = logging.getLogger("dispatch.reconcile")

LEASE = "reconcile"
ENDED = "ended (reconciled)"
ABANDONED = "Caller hung up (reconciled)"
BUDGET = 30.0  # seconds one run may take (RQ's job timeout is 60); what is left waits for the next run


@dataclass(frozen=True)
class Check:
    """How long a request may stay in a state before the network is asked, and the asking."""

    since: Callable[[RequestRecord], float | None]  # when its clock started
    bound: Callable[[DispatchSettings], float]
    close: Callable[[RequestRecord], bool]  # True when it closed the request


def _status(call: CallInfo | None) -> str:
    return call.status if call is not None else "unknown"


def _live(call: CallInfo | None) -> bool:
    return call is not None and call.status in LIVE  # anything else, or a sid unknown to it, has ended


@dataclass(eq=False)
class Reconciler(Service):
    rejoin_wait: RejoinWait
    leases: Leases
    budget: float = BUDGET
    checks: dict[State, Check] = field(init=False)

    def __post_init__(self) -> None:
        self.checks = {
            State.CONNECTED: Check(lambda r: r.connected_at, lambda s: s.reconcile_seconds, self._connected),
            State.OFFERING: Check(lambda r: r.waiting_since, offer_bound, self._officer_gone),
            State.VENDOR_DIALING: Check(lambda r: r.waiting_since, vendor_bound, self._officer_gone),
        }

    def due(self, now: float) -> list[RequestRecord]:
        """Open requests past their state's bound, longest first."""
        found = []
        for rec in self.store.get_many(self.store.open_ids()):
            check = self.checks.get(rec.state)
            since = check.since(rec) if check else None
            if check and since is not None and now - since >= check.bound(self.ctx.settings):
                found.append((since, rec.id, rec))
        return [rec for _, _, rec in sorted(found, key=lambda x: x[:2])]

    def run(self) -> int:
        """One pass over the due requests; returns how many it closed. Two passes at once
        (two workers starting together) would only ask twice: the second one stands down."""
        token = secrets.token_hex(8)
        if not self.leases.take(LEASE, token, int(self.budget * 2)):
            return 0
        try:
            started, closed = time.monotonic(), 0
            due = self.due(clock.now())
            for n, rec in enumerate(due):
                if time.monotonic() - started > self.budget:
                    log.warning("reconcile: out of time, %d requests left for the next run", len(due) - n)
                    break
                try:
                    closed += self.checks[rec.state].close(rec)
                except TelephonyError as exc:
                    log.warning("reconcile: request %s: %s; asking again next run", rec.id, exc)
            return closed
        finally:
            self.leases.give_back(LEASE, token)

    # ---------------------------------------------------------------- per state
    def _connected(self, rec: RequestRecord) -> bool:
        """Closed once the interpreter's leg has ended (and is in no room): the request is
        over, as interpreter_left would have had it. An officer still waiting in the room
        is told, as then (the retry menu)."""
        handler_call = rec.handler_call
        if not handler_call:
            return False  # nothing to ask the network about
        interpreter = self.ctx.telephony.fetch_call(handler_call)
        if _live(interpreter):
            return self._officer_dropped_unheard(rec)
        room = self.ctx.telephony.conference_participants(rec.conference)
        if room is not None and handler_call in room:
            return False  # the network's two answers disagree: ask again next run
        officer = self.ctx.telephony.fetch_call(rec.officer_call) if rec.officer_call else None
        officer_waiting = _live(officer) and room is not None and rec.officer_call in room
        out = self.store.apply(
            rec.id,
            "reconcile_complete",
            guard=("handler_call", handler_call),
            fields={"outcome": ENDED},
            data={"ended_by": "reconciled", "interpreter_call": _status(interpreter), "officer_call": _status(officer)},
            deadline=None,
        )
        if not out.applied:
            return False
        self.ctx.counters.add(RECONCILER_FINDINGS, "ended")
        free_interpreter(self.ctx, rec)
        if out.record is not None:
            tell_texter_the_receipt(self.ctx, out.record)
        log.warning(
            "request %s: ended (reconciled): its final callbacks never came; interpreter call %s, officer call %s",
            rec.id,
            _status(interpreter),
            _status(officer),
        )
        if officer_waiting:
            self.ctx.jobs.submit("tell_caller", rec.id, paths.DROPPED)
        return True

    def _officer_dropped_unheard(self, rec: RequestRecord) -> bool:
        """The interpreter is still on, but the officer's leg has ended and left the room and
        its callbacks were lost: the drop the service never heard of. Treated as the heard
        one is (rejoin.py), so the interpreter is asked at once and the grace bounds the rest;
        the request is not closed here."""
        if not rec.officer_call:
            return False
        officer = self.ctx.telephony.fetch_call(rec.officer_call)
        if _live(officer):
            return False
        room = self.ctx.telephony.conference_participants(rec.conference)
        if room is not None and rec.officer_call in room:
            return False  # the network's two answers disagree: ask again next run
        if self.rejoin_wait.officer_dropped(rec, rec.officer_call):
            self.ctx.counters.add(RECONCILER_FINDINGS, "officer_dropped")
            log.warning(
                "request %s: the officer's leg ended unheard (its callbacks lost, call %s); the "
                "interpreter is asked whether to call back",
                rec.id,
                _status(officer),
            )
        return False

    def _officer_gone(self, rec: RequestRecord) -> bool:
        """A waiting request whose officer's call has ended is abandoned, its ringing calls
        stopped: otherwise liaisons would go on being rung, and the vendor connected, for
        nobody."""
        if not rec.officer_call:
            return False
        officer = self.ctx.telephony.fetch_call(rec.officer_call)
        if _live(officer):
            return False
        out = self.store.apply(
            rec.id,
            "reconcile_abandon",
            guard=("officer_call", rec.officer_call),
            fields={"outcome": ABANDONED},
            data={"officer_call": _status(officer), "ended_by": "reconciled"},
            deadline=None,
        )
        if not out.applied or out.record is None:
            return False
        self.ctx.counters.add(RECONCILER_FINDINGS, "abandoned")
        done = out.record  # as it was when abandoned: the calls ringing for it then
        stop_round(self.ctx, done)
        if done.vendor_call:
            self.ctx.jobs.submit("hang_up", done.id, done.vendor_call)
        log.warning(
            "request %s: caller hung up (reconciled) while %s: its call's final callback never came",
            rec.id,
            rec.state.value,
        )
        return True
