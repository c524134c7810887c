"""Actions on a request from outside its call: a duty sergeant's on the dashboard (cancel, send
to the vendor now, offer to the liaisons again) and a supervisor's CANCEL by text.

Each returns the record it changed, or None when the request was not in a state the action
applies to (refused: the dashboard says so and the audit log records it).
"""

from __future__ import annotations

from dataclasses import dataclass

from dispatch.call_ends import CallEnds
from dispatch.context import Service
from dispatch.records import RequestRecord
from dispatch.states import State
from dispatch.vendor_bridge import VendorBridge


@dataclass(eq=False)
class SergeantActions(Service):
    vendor: VendorBridge
    call_ends: CallEnds

    def cancel(self, request_id: str, reason: str) -> RequestRecord | None:
        """Cancel a waiting request: its ringing calls stopped, the officer's call hung up."""
        rec = self.store.get(request_id)
        if rec is None:
            return None
        out = self.store.apply(request_id, "cancel", data={"reason": reason}, deadline=None)
        if out.record is None:
            return None
        self.call_ends.stop_pending_calls(rec)
        if rec.officer_call:
            self.ctx.jobs.submit("hang_up", rec.id, rec.officer_call)
        return out.record

    def send_to_vendor_now(self, request_id: str) -> RequestRecord | None:
        """Skip the liaisons: dial the vendor for a request still waiting for one."""
        rec = self.store.get(request_id)
        if rec is None or rec.state not in (State.QUEUED, State.OFFERING):
            return None
        return self.vendor.to_vendor(rec, "sent by sergeant")

    def offer_again(self, request_id: str) -> RequestRecord | None:
        """Forget who was already offered it and try the liaisons again."""
        rec = self.store.get(request_id)
        if rec is None or rec.state != State.QUEUED:
            return None
        self.store.forget_tried(request_id)
        self.ctx.jobs.submit("route", request_id)
        return rec
