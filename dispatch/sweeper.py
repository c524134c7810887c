"""The sweeper: the safety net that bounds every waiting state.

Every waiting state has a deadline in Redis (requests.py keeps them in one sorted set). The
sweeper, a periodic job, looks again at each request whose deadline passed: a lost routing
job, a killed worker or a callback that never came delays a call by seconds, never strands
it. It also frees liaisons held by a worker that died between claiming them and ringing them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from dispatch import clock
from dispatch.call_ends import CallEnds
from dispatch.context import Service
from dispatch.liaisons import ON_CALL, RINGING
from dispatch.offer_outcomes import OfferOutcomes
from dispatch.offers import Offers, hedge_at, offer_deadline, window_end
from dispatch.rejoin_ends import RejoinEnds
from dispatch.settings import callback_bound, offer_bound, vendor_bound
from dispatch.sms.notices import tell_texter_it_failed
from dispatch.states import ON_THE_LINE, State
from dispatch.telephony import TelephonyError
from dispatch.vendor_bridge import VendorBridge

log = logging.getLogger("dispatch.sweeper")


@dataclass(eq=False)
class Sweeper(Service):
    offers: Offers
    offer_outcomes: OfferOutcomes
    vendor: VendorBridge
    call_ends: CallEnds
    rejoin_ends: RejoinEnds

    def sweep(self) -> int:
        """Review every overdue request and free liaisons stuck by a crash; how many were due."""
        now = clock.now()
        due = self.store.due(now)
        # A surge's backlog: requests still waiting for their routing are left to it, in one
        # write, instead of each being read and reviewed.
        waiting = self.ctx.jobs.waiting_ids("route") & set(due) if due else set()
        self.store.postpone(waiting, now + self.ctx.settings.queued_stuck_after)
        for request_id in due:
            if request_id in waiting:
                continue
            try:
                self.review(request_id)
            except TelephonyError as exc:
                log.warning("sweep: request %s: %s", request_id, exc)
        self.free_stuck_liaisons()
        return len(due)

    def review(self, request_id: str) -> None:
        """Look again at a request whose deadline passed."""
        settings = self.ctx.settings
        rec = self.store.get(request_id)
        if rec is not None and rec.state == State.REJOINING:
            self.rejoin_ends.review(rec)
            return
        if rec is None or not rec.waiting:
            self.store.set_deadline(request_id, None)
            return
        now = clock.now()
        if rec.state == State.NEW:
            if now - rec.created_at > callback_bound(settings):
                out = self.store.apply(rec.id, "fail", fields={"outcome": "call-back not answered"}, deadline=None)
                if out.record is not None:
                    tell_texter_it_failed(self.ctx, out.record)
            return
        if rec.state == State.QUEUED:
            self.store.set_deadline(rec.id, min(now + settings.queued_stuck_after, window_end(settings, rec) + 0.01))
            self.offers.route(rec.id)  # its routing was lost (sweep() leaves those still waiting alone)
        elif rec.state == State.OFFERING:
            offer_over = rec.offer_at is not None and now >= rec.offer_at + offer_bound(settings)
            if now >= window_end(settings, rec):
                self.vendor.to_vendor(rec, "liaison window closed")
            elif offer_over:
                self.offer_outcomes.time_out(rec)
            elif (hedge := hedge_at(settings, rec)) is not None and now >= hedge:
                hedged = self.vendor.hedge(rec) or rec
                self.store.set_deadline(rec.id, offer_deadline(settings, hedged, rec.offer_at or now))
            else:
                self.store.set_deadline(rec.id, offer_deadline(settings, rec, rec.offer_at or now))
        elif rec.state == State.VENDOR_DIALING:
            if rec.vendor_at is not None and now >= rec.vendor_at + vendor_bound(settings):
                if rec.vendor_call:
                    self.call_ends.hang_up(rec.id, rec.vendor_call)
                self.vendor.vendor_failed(rec.id, rec.vendor_token, "timeout")
            else:
                self.store.set_deadline(rec.id, (rec.vendor_at or now) + vendor_bound(settings))

    def free_stuck_liaisons(self) -> None:
        """A liaison held for a request that is not ringing them (a worker died between claim
        and offer) goes back to the pool after the grace period."""
        now = clock.now()
        settings = self.ctx.settings
        board = self.ctx.liaisons
        for status in board.statuses([liaison.id for liaison in self.ctx.roster.liaisons]):
            if status.state not in (RINGING, ON_CALL) or (status.since or now) > now - settings.grace_seconds:
                continue
            rec = self.store.get(status.request) if status.request else None
            if status.state == RINGING and rec and rec.state == State.OFFERING and rec.offer_liaison == status.id:
                continue
            if status.state == RINGING and rec and rec.state in ON_THE_LINE and rec.handler_id == status.id:
                board.mark_on_call(status.id, rec.id)  # died between accept and marking
                continue
            if status.state == ON_CALL and rec and rec.state in ON_THE_LINE and rec.handler_id == status.id:
                continue  # on a call, or waiting on the line for their officer to rejoin
            if (
                status.state == RINGING
                and status.request
                and (status.since or now) > now - offer_bound(settings)
                and status.id in self.store.tried(status.request)
            ):
                continue  # offered and declined: still on our call until its status callback frees them
            board.release(
                status.id,
                status.request,
                wrapup=settings.wrapup_seconds if status.state == ON_CALL else 0,
                keep_place=status.state == RINGING,
                only_if=(status.state,),
            )
            log.warning("liaison %s was stuck %s for %s; released", status.id, status.state, status.request)
