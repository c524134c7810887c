"""When a leg of the call ends: the interpreter leaves, the officer hangs up (or drops); and
telling the officer, and stopping the calls still ringing for a request.

Called from webhooks (status callbacks) and jobs. A webhook never waits on the phone
network: what it would have to ask of it (a hang-up, a redirect of the officer's call) is
submitted as a job here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from dispatch import clock
from dispatch import urls as paths
from dispatch.context import Service
from dispatch.legs import free_interpreter, hang_up
from dispatch.records import RequestRecord
from dispatch.rejoin import RejoinWait
from dispatch.rejoin_ends import RejoinEnds
from dispatch.ringing import stop_round
from dispatch.sms.notices import tell_texter_the_receipt
from dispatch.states import State

log = logging.getLogger("dispatch.call_ends")


def _secs(since: float | None) -> str:
    return f"{clock.now() - since:.1f}" if since else "?"


@dataclass(eq=False)
class CallEnds(Service):
    rejoin_wait: RejoinWait
    rejoin_ends: RejoinEnds

    def interpreter_left(self, rec: RequestRecord, call_sid: str) -> RequestRecord | None:
        """The interpreter hung up: the request is complete; the officer may ask for another
        (or, if the officer's leg had dropped, nobody is left to tell). The record (completed),
        or None when it had already ended."""
        free_interpreter(self.ctx, rec)
        out = self.store.apply(rec.id, "complete", data={"ended_by": "interpreter"}, deadline=None)
        if out.record is None:
            return None
        log.info("request %s: interpreter left after %ss", rec.id, _secs(rec.connected_at))
        tell_texter_the_receipt(self.ctx, out.record)
        if out.previous == State.REJOINING:
            self.rejoin_ends.interpreter_left(out.record)
        else:
            self.ctx.jobs.submit("tell_caller", rec.id, paths.DROPPED)
        return out.record

    def officer_call_ended(self, call_sid: str) -> RequestRecord | None:
        """The officer's leg ended: abandon a waiting request (stop its ringing calls); with an
        interpreter connected, keep the interpreter for a rejoin (rejoin.py). The request as
        it is now (None: the call is no officer's)."""
        link = self.store.call_link(call_sid)
        if not link or link.get("role") != "officer":
            return None
        rec = self.store.get(link["request"])
        if rec is None:
            return None
        if rec.waiting:
            out = self.store.apply(rec.id, "abandon", data={"after": _secs(rec.waiting_since)}, deadline=None)
            if out.record is None:
                return self.store.get(rec.id)
            log.info("request %s: caller hung up while waiting (%s)", rec.id, rec.state.value)
            self.stop_pending_calls(rec)
            return out.record
        if rec.state == State.CONNECTED:
            return self.rejoin_wait.officer_dropped(rec, call_sid) or self.store.get(rec.id)
        return rec

    def note_call_start(self, call_sid: str, started_at: float) -> None:
        """The network's final report of an officer's call says when it began: kept on its request
        (the first call's only), so the sergeant's figures can show the time spent in the menu."""
        link = self.store.call_link(call_sid)
        if not link or link.get("role") != "officer":
            return
        rec = self.store.get(link["request"])
        if rec is None or rec.call_started_at is not None or rec.officer_call != call_sid:
            return
        # Whole seconds on the network's side: a quick menu may seem to end before the call began.
        if rec.queued_at is not None and rec.queued_at - 3600 <= started_at <= rec.queued_at + 2:
            self.store.set_fields(rec.id, {"call_started_at": started_at})

    def stop_pending_calls(self, rec: RequestRecord) -> None:
        """Free the ringing liaison now; stop the ringing phones from a job.

        Called from webhooks (the officer hung up, a cancel by text or by a sergeant): a
        webhook never waits on the phone network, whose answers take hundreds of milliseconds
        and, with retries, seconds when it is failing; the web's few threads are for the calls
        coming in.
        """
        stop_round(self.ctx, rec)
        if rec.vendor_call:
            self.ctx.jobs.submit("hang_up", rec.id, rec.vendor_call)

    def hang_up(self, request_id: str, call_sid: str) -> None:
        """The hang_up job: stop a call a webhook wants stopped (see legs.hang_up)."""
        hang_up(self.ctx, request_id, call_sid)

    def tell_caller(self, request_id: str, path: str) -> None:
        """Redirect the officer's call to `path` (failed / interpreter left): a job.

        Raises TelephonyError when the network refuses: the job is then tried again later
        (adapters/rq_jobs.py), and meanwhile the hold loop tells a waiting officer what
        happened (webhooks/voice_room.py hold). A call that has moved on to a newer request
        (the officer already pressed 1) is left where it is.
        """
        rec = self.store.get(request_id)
        if rec is None or not rec.officer_call:
            return
        if self.store.call_link(rec.officer_call).get("request", rec.id) != rec.id:
            return
        self.ctx.telephony.redirect(rec.officer_call, self.ctx.urls(path, request=rec.id))

    def caller_not_told(self, request_id: str) -> None:
        """Every try to redirect the officer's call was refused: from now on the hold loop
        asks a waiting officer to call again instead of promising the retry menu."""
        log.warning("request %s: gave up redirecting the caller", request_id)
        self.store.set_fields(request_id, {"caller_not_told": "1"})
