"""The call-back of a texted request: the supervisor's phone (or the number the text gave) is
rung; answered, it joins the request's conference and waits exactly like an officer who
called in.

Placed by a job (`place`), answered at /voice/callback (`answered`), ended at
/voice/callback/status (`ended`). Each runs once per request however often it is delivered.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from dispatch import urls as paths
from dispatch.call_ends import CallEnds
from dispatch.context import Service
from dispatch.intake import Intake
from dispatch.phone import mask
from dispatch.pseudonyms import kept_number
from dispatch.records import RequestRecord
from dispatch.sms.notices import tell_texter_it_failed
from dispatch.states import State
from dispatch.telephony import ENDED, CallRequest, TelephonyError

log = logging.getLogger("dispatch.sms")


@dataclass(eq=False)
class CallBacks(Service):
    intake: Intake
    call_ends: CallEnds

    def place(self, request_id: str) -> str | None:
        """Ring the supervisor (or the texted callback number) for a NEW request; the job body.

        A dial the network refused outright fails the request and texts the supervisor.
        """
        rec = self.store.get(request_id)
        if rec is None or rec.state != State.NEW:
            return None
        if not self.ctx.deliveries.first("callback", request_id):
            return None
        to = rec.callback_number or rec.caller
        try:
            sid = self.ctx.telephony.place_call(
                CallRequest(
                    to=to,
                    from_=self.ctx.roster.service_number,
                    url=self.ctx.urls(paths.CALLBACK, request=request_id),
                    status_callback=self.ctx.urls(paths.CALLBACK_STATUS, request=request_id),
                    timeout=self.ctx.settings.callback_ring_timeout,
                )
            )
        except TelephonyError as exc:
            log.warning("request %s: could not call back %s: %s", request_id, mask(to), exc)
            self._forget_callback_number(rec)
            if not exc.maybe_placed:
                self.fail(request_id, "dial-failed")
            return None
        self.store.link_call(sid, request_id, "callback", fields={"callback_call": sid})
        self._forget_callback_number(rec)
        log.info("request %s: calling back %s", request_id, mask(to))
        return sid

    def _forget_callback_number(self, rec: RequestRecord) -> None:
        """The call-back is dialled (once per request): a callback number outside the roster is
        needed no more, so the record keeps it masked, with its keyed hash to spot a repeat."""
        number = rec.callback_number
        if number and kept_number(self.ctx.roster, number) != number:
            self.store.set_fields(
                rec.id, {"callback_number": mask(number), "callback_key": self.ctx.pseudonyms.of(number)}
            )

    def answered(self, request_id: str, call_sid: str) -> RequestRecord | None:
        """The called-back phone answered: queue the request for an interpreter (once) and text
        that one is being connected. The record as it left it (None if unknown)."""
        rec = self.store.get(request_id)
        if rec is None or rec.state != State.NEW or not call_sid:
            return rec
        after = self.intake.start(request_id, call_sid)
        if (
            after is not None
            and after.state != State.NEW
            and after.officer_call == call_sid
            and self.ctx.deliveries.first("callback-answered", request_id)
        ):
            log.info("request %s: call back answered, queued", request_id)
            self.ctx.jobs.submit("notify", request_id, "connecting")
        return after

    def ended(self, request_id: str, call_sid: str, status: str) -> None:
        """How the call-back ended: unanswered → the request fails and the supervisor gets a
        text; hung up after joining → the officer-left path of the voice flow."""
        rec = self.store.get(request_id)
        if rec is None or status not in ENDED:
            return
        if rec.state == State.NEW:
            self.fail(request_id, status)
        elif rec.officer_call == call_sid:
            self.call_ends.officer_call_ended(call_sid)

    def fail(self, request_id: str, why: str) -> RequestRecord | None:
        """A NEW request whose call-back did not connect: fail it and queue the text."""
        out = self.store.apply(
            request_id, "fail", fields={"outcome": f"call-back {why}"}, data={"outcome": why}, deadline=None
        )
        if out.record is not None:
            log.info("request %s: call back %s; failed", request_id, why)
            tell_texter_it_failed(self.ctx, out.record)
        return out.record
