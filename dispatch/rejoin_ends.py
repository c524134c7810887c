"""How the wait for a dropped officer ends (rejoin.py tells the whole story): the officer comes
back (`rejoining → connected`), the interpreter hangs up, or RECONNECT_GRACE runs out
(`rejoining → completed`). Each end leaves `rejoining` through a guarded transition and stops a
call-back that may still be ringing, so whichever end comes first wins and the others change
nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from dispatch import clock
from dispatch.context import Service
from dispatch.legs import free_interpreter, hang_up
from dispatch.records import RequestRecord
from dispatch.rejoin_numbers import RejoinNumbers
from dispatch.sms.notices import tell_texter_the_receipt
from dispatch.states import State

log = logging.getLogger("dispatch.rejoin")


@dataclass(eq=False)
class RejoinEnds(Service):
    """The ends of a rejoin's wait: the rejoin webhooks (the officer back), the call-end services
    (the interpreter left) and the sweeper (the grace over) call these."""

    numbers: RejoinNumbers

    # ---------------------------------------------------------------- the officer is back
    def waiting_for(self, number: str) -> RequestRecord | None:
        """The request whose interpreter waits for this number's officer, if any."""
        if not number or not self.numbers.may_be_waiting():
            return None
        request_id = self.numbers.request_for(self.ctx.pseudonyms.of(number))
        rec = self.store.get(request_id) if request_id else None
        return rec if rec is not None and rec.state == State.REJOINING else None

    def officer_back(self, request_id: str, call_sid: str, via: str, guard: tuple[str, str]) -> RequestRecord | None:
        """The officer's new leg `call_sid` rejoins: the record to put them in its room, or None.

        `guard` is ("recall", token) for the call-back the officer answered, or
        ("rejoin_token", token) for the drop a new call from their number rejoins."""
        rec = self.store.get(request_id)
        if rec is None or not call_sid:
            return None
        out = self.store.apply(
            request_id,
            "officer_rejoined",
            guard=guard,
            fields={
                "officer_call": call_sid,
                "recall": "",
                "recall_at": None,
                "rejoin_until": None,
                "rejoins": rec.rejoins + 1,
            },
            data={"via": via, "after": round(clock.now() - (rec.dropped_at or 0.0), 1)},
            deadline=None,
        )
        if not out.applied:
            again = self.store.get(request_id)
            # the same key press delivered twice: the same answer
            return again if again and again.state == State.CONNECTED and again.officer_call == call_sid else None
        self.store.link_call(call_sid, request_id, "officer")
        log.info("request %s: the officer rejoined (%s)", request_id, via)
        recall_call = rec.recall_call
        if recall_call and recall_call != call_sid:
            self.ctx.jobs.submit("hang_up", request_id, recall_call)  # a call-back still ringing
        if rec.interpreter_at == "prompt":
            self.ctx.jobs.submit("rejoin_redirect", request_id, rec.rejoin_token, "back")
        return out.record

    # ---------------------------------------------------------------- ends
    def interpreter_left(self, rec: RequestRecord) -> None:
        """The interpreter hung up while the officer was away (the request is complete):
        stop a call-back that may still be ringing."""
        if rec.recall_call:
            self.ctx.jobs.submit("hang_up", rec.id, rec.recall_call)

    def review(self, rec: RequestRecord) -> None:
        """The sweeper: past the grace period, release the interpreter and complete the
        request, whatever was lost on the way (a job, a callback, a worker)."""
        until = rec.rejoin_until or 0.0
        now = clock.now()
        if now < until:
            self.store.set_deadline(rec.id, until)
            return
        out = self.store.apply(
            rec.id,
            "rejoin_expired",
            guard=("rejoin_token", rec.rejoin_token),
            fields={"outcome": "officer did not rejoin"},
            data={"after": self.ctx.settings.reconnect_grace},
            deadline=None,
        )
        if not out.applied:
            return
        if out.record is not None:
            tell_texter_the_receipt(self.ctx, out.record)
        log.info(
            "request %s: the officer did not rejoin within %gs; interpreter released",
            rec.id,
            self.ctx.settings.reconnect_grace,
        )
        free_interpreter(self.ctx, rec)
        for sid in (rec.handler_call, rec.recall_call):
            if sid:
                hang_up(self.ctx, rec.id, sid)
