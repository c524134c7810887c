"""A dropped officer rejoins their interpreter: connected → rejoining → connected.

Patrol cells drop in elevators and subways. When the officer's leg ends while an interpreter
is connected, the interpreter's leg is kept (the officer's conference leg no longer ends the
room) and a job moves it out of the room to a prompt: press 1 and the officer is called back.
The officer answering the call-back and pressing 1 (a voicemail never does), or calling the
service again from the same number, goes back into the request's room with the same
interpreter leg. After RECONNECT_GRACE the sweeper hangs the interpreter up and completes the
request, so the time billed while waiting is bounded.

Two services share the work and never call each other: `RejoinWait` (here) enters the wait and
acts within it (the drop, the interpreter's prompt, the call-back); `RejoinEnds`
(rejoin_ends.py) leaves it (the officer back, the interpreter gone, the grace over).

Every step is a guarded transition (states.py): `rejoin_token` names the drop and `recall` the
call-back in flight ("" when none), so a repeated key press, a late status callback or a
redelivered webhook changes nothing. The officer's number is not stored for this: the call-back
asks the network for the dropped call's number, and "the same number calls again" is matched
through its keyed hash (rejoin_numbers.py), kept for the grace period.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from enum import StrEnum

from dispatch import clock
from dispatch import urls as paths
from dispatch.context import Context, Service
from dispatch.legs import new_token
from dispatch.phone import mask
from dispatch.records import RequestRecord
from dispatch.rejoin_numbers import RejoinNumbers
from dispatch.states import State
from dispatch.telephony import CallRequest, TelephonyError

log = logging.getLogger("dispatch.rejoin")

_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def officer_number(ctx: Context, rec: RequestRecord) -> str | None:
    """The dropped officer's number, from the network (records may hold it only masked);
    the record's own number if the network cannot say and it is a full one."""
    dropped = rec.dropped_call
    try:
        info = ctx.telephony.fetch_call(dropped) if dropped else None
    except TelephonyError as exc:
        log.warning("request %s: could not look up the dropped call: %s", rec.id, exc)
        info = None
    if info is not None:
        # An officer who called in is the caller; one we called (a texted request's
        # call-back, an earlier rejoin call-back) is the callee.
        number = info.to if info.from_ == ctx.roster.service_number else info.from_
        if _E164.fullmatch(number):
            return number
    for number in (rec.callback_number, rec.caller):
        if number and _E164.fullmatch(number):
            return number
    return None


class Step(StrEnum):
    """Where the interpreter's leg goes next (the rejoin webhooks turn it into TwiML)."""

    PROMPT = "prompt"  # ask: press 1 to call the officer back
    CALLING = "calling"  # a call-back is on its way: wait in the room
    ROOM = "room"  # the officer is back: into the room
    GONE = "gone"  # nothing to wait for (request over, or not this request's interpreter)


@dataclass(frozen=True)
class Next:
    """The interpreter's next step, and the request as it is (for ROOM and CALLING: its room)."""

    step: Step
    record: RequestRecord | None = None


@dataclass(eq=False)
class RejoinWait(Service):
    """While the officer is away: keep the interpreter, prompt them, call the officer back. The
    call-end services and the reconciler (a drop), the rejoin webhooks and jobs call these."""

    numbers: RejoinNumbers

    # ---------------------------------------------------------------- the drop
    def officer_dropped(self, rec: RequestRecord, call_sid: str) -> RequestRecord | None:
        """The officer's leg `call_sid` ended while an interpreter was connected: keep the
        interpreter, and (a job) prompt them and remember the officer's number. The record
        (rejoining), or None when that leg was not the request's officer any more."""
        token = new_token()
        now = clock.now()
        until = now + self.ctx.settings.reconnect_grace
        out = self.store.apply(
            rec.id,
            "officer_dropped",
            guard=("officer_call", call_sid),
            fields={
                "rejoin_token": token,
                "rejoin_until": until,
                "dropped_call": call_sid,
                "dropped_at": now,
                "drops": rec.drops + 1,
                "recall": "",
                "recall_call": None,
                "interpreter_at": "room",
            },
            data={"interpreter": rec.handler_kind, "grace": self.ctx.settings.reconnect_grace},
            deadline=until,
        )
        if out.applied:
            log.info(
                "request %s: the officer's leg ended; %s interpreter waits up to %gs",
                rec.id,
                rec.handler_kind or "the",
                self.ctx.settings.reconnect_grace,
            )
            self.ctx.jobs.submit("rejoin_dropped", rec.id, token)
        return out.record

    def dropped(self, request_id: str, token: str) -> None:
        """Job: remember the officer's number (hashed) for the grace period, and move the
        interpreter from the now silent room to the prompt."""
        rec = self._rejoining(request_id, token)
        if rec is None:
            return
        number = officer_number(self.ctx, rec)
        if number and rec.rejoin_until:
            self.numbers.remember(self.ctx.pseudonyms.of(number), rec.id, rec.rejoin_until)
        self.redirect(request_id, token, "dropped")

    # ---------------------------------------------------------------- the interpreter
    def interpreter_step(self, request_id: str, call_sid: str) -> Next:
        """The interpreter's leg asks what to do now (the prompt URL, looping)."""
        rec = self.store.get(request_id)
        if rec is None or rec.finished or not call_sid or rec.handler_call != call_sid:
            return Next(Step.GONE)
        if rec.state == State.CONNECTED:
            self._interpreter_at(rec.id, "room")
            return Next(Step.ROOM, rec)
        if rec.recall:
            self._interpreter_at(rec.id, "room")
            return Next(Step.CALLING, rec)
        self._interpreter_at(rec.id, "prompt")
        return Next(Step.PROMPT, rec)

    def call_back_asked(self, request_id: str, token: str, call_sid: str) -> Next:
        """The interpreter pressed 1 at the prompt of drop `token`: call the officer back,
        once however often they press it."""
        rec = self.store.get(request_id)
        if rec is None or rec.state != State.REJOINING or rec.rejoin_token != token or rec.handler_call != call_sid:
            return self.interpreter_step(request_id, call_sid)
        recall = new_token()
        now = clock.now()
        out = self.store.apply(
            request_id,
            "call_officer_back",
            guard=("recall", ""),
            fields={
                "recall": recall,
                "recall_at": now,
                "recall_call": None,
                "interpreter_at": "room",
            },
            data={"asked_by": rec.handler_kind or "interpreter"},
        )
        if out.record is not None:
            log.info("request %s: the interpreter asked for the officer to be called back", request_id)
            self.ctx.jobs.submit("rejoin_call_back", request_id, recall)
            return Next(Step.CALLING, out.record)
        after = self.store.get(request_id)
        if after is not None and after.state == State.REJOINING and after.recall:
            return Next(Step.CALLING, after)  # already calling: the same answer, no second call
        return self.interpreter_step(request_id, call_sid)

    def redirect(self, request_id: str, token: str, why: str) -> None:
        """Job: move the interpreter's leg to the prompt URL, which decides where it goes.

        `why` is "dropped", "no-answer" or "call-failed" (to the prompt, while rejoining) or
        "back" (into the room: the officer called in again while the interpreter was at the prompt)."""
        rec = self.store.get(request_id)
        if rec is None or not rec.handler_call:
            return
        if why == "back":
            if rec.state != State.CONNECTED or rec.interpreter_at != "prompt":
                return
        elif rec.state != State.REJOINING or rec.rejoin_token != token or rec.recall:
            return
        url = self.ctx.urls(paths.REJOIN, request=rec.id, drop=rec.rejoin_token, why=why)
        try:
            if not self.ctx.telephony.redirect(rec.handler_call, url):
                log.info("request %s: the interpreter's leg had already ended", rec.id)
        except TelephonyError as exc:
            log.warning("request %s: could not move the interpreter (%s): %s", rec.id, why, exc)

    # ---------------------------------------------------------------- the call-back
    def call_back(self, request_id: str, recall: str) -> None:
        """Job: ring the dropped officer's number; answering and pressing 1 rejoins."""
        rec = self.store.get(request_id)
        if rec is None or rec.state != State.REJOINING or rec.recall != recall:
            return
        if not self.ctx.deliveries.first("recall", recall):
            return  # this call-back was placed already (the job delivered twice)
        number = officer_number(self.ctx, rec)
        if number is None:
            log.warning("request %s: the officer's number is unknown; cannot call back", request_id)
            self.call_back_ended(request_id, recall, "", "number-unknown")
            return
        where = dict(request=request_id, recall=recall)
        try:
            sid = self.ctx.telephony.place_call(
                CallRequest(
                    to=number,
                    from_=self.ctx.roster.service_number,
                    url=self.ctx.urls(paths.REJOIN_OFFICER, **where),
                    status_callback=self.ctx.urls(paths.REJOIN_OFFICER_STATUS, **where),
                    timeout=self.ctx.settings.callback_ring_timeout,
                    status_events=("completed",),
                )
            )
        except TelephonyError as exc:
            log.warning("request %s: could not call the officer back at %s: %s", request_id, mask(number), exc)
            if not exc.maybe_placed:
                self.call_back_ended(request_id, recall, "", "dial-failed")
            return
        self.store.link_call(sid, request_id, "recall", fields={"recall_call": sid})
        log.info("request %s: calling the officer back at %s", request_id, mask(number))

    def call_back_answered(self, request_id: str, recall: str) -> RequestRecord | None:
        """The call-back was answered: the request, if the officer may still rejoin with it."""
        rec = self.store.get(request_id)
        if rec is None or rec.state != State.REJOINING or rec.recall != recall:
            return None
        return rec

    def call_back_ended(self, request_id: str, recall: str, call_sid: str, status: str) -> None:
        """How a call-back ended. Before the officer rejoined: it failed, and the interpreter
        is told (they may press 1 again); after: the officer's leg ended again."""
        rec = self.store.get(request_id)
        if rec is None:
            return
        if call_sid and rec.state == State.CONNECTED and rec.officer_call == call_sid:
            self.officer_dropped(rec, call_sid)
            return
        if call_sid and rec.recall_call not in (None, "", call_sid):
            return  # not the call-back in flight
        out = self.store.apply(
            request_id,
            "call_back_failed",
            guard=("recall", recall),
            fields={
                "recall": "",
                "recall_call": None,
                "recall_at": None,
            },
            data={"outcome": status},
        )
        if out.applied and out.record is not None:
            log.info("request %s: the call-back ended %s before the officer rejoined", request_id, status)
            why = "call-failed" if status in ("failed", "dial-failed", "number-unknown") else "no-answer"
            self.ctx.jobs.submit("rejoin_redirect", request_id, out.record.rejoin_token, why)

    # ---------------------------------------------------------------- helpers
    def _rejoining(self, request_id: str, token: str) -> RequestRecord | None:
        rec = self.store.get(request_id)
        if rec is None or rec.state != State.REJOINING or rec.rejoin_token != token:
            return None
        return rec

    def _interpreter_at(self, request_id: str, where: str) -> None:
        """Where the interpreter's TwiML last put them: a rejoining officer's job moves them
        into the room only if they are at the prompt."""
        self.store.set_fields(request_id, {"interpreter_at": where})
