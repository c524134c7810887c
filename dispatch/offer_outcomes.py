"""How an offer turns out: the liaison's pick-up and key press, and the offer's end.

Offers (offers.py) rings a round of liaisons; every answer and end of that round comes here:
the whisper answered, 1 (accepted: the request is theirs, the round's other phones stop) or 2
(declined), no answer, busy, a call that ends without an accept, or the sweeper timing the
round out. An offer that did not end in an accept frees the liaison and queues the request
for its next route (a job, so this never calls Offers back), or lets a vendor dial already
under way (the hedge) carry it.

Every method moves the request through a guarded transition (requests.py), named by the
offer's token: a late, duplicate or out-of-order callback finds the guard closed and
changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from enum import StrEnum

from dispatch import clock, offer_rounds
from dispatch import urls as paths
from dispatch.call_ends import CallEnds
from dispatch.context import Service
from dispatch.legs import already_connected
from dispatch.liaisons import RINGING
from dispatch.missed_offers import offer_settled
from dispatch.records import OFFER_CLEARED, RequestRecord
from dispatch.ringing import stop_round
from dispatch.states import ON_THE_LINE, State
from dispatch.telephony import NOT_ANSWERED, TelephonyError
from dispatch.vendor_bridge import VendorBridge

log = logging.getLogger("dispatch.offers")  # one phase, one logger: ringing and its outcomes read as one story


class OfferReply(StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"
    ASK_AGAIN = "ask_again"
    GONE = "gone"  # the request moved on (taken, abandoned, sent to the vendor)


@dataclass(frozen=True)
class OfferAnswer:
    """What a liaison's key press did, and the request as it left it (ACCEPTED: the room to join)."""

    reply: OfferReply
    record: RequestRecord | None


@dataclass(eq=False)
class OfferOutcomes(Service):
    """The answers and ends of the offers Offers placed (webhooks, the withdraw job, the sweeper)."""

    vendor: VendorBridge
    call_ends: CallEnds

    def offer_is_current(self, request_id: str, offer_id: str) -> RequestRecord | None:
        """The request, while offer `offer_id` is still the one ringing for it."""
        rec = self.store.get(request_id)
        return rec if rec and rec.state == State.OFFERING and rec.offer_id == offer_id else None

    def offer_answered(self, request_id: str, offer_id: str, liaison_id: str) -> RequestRecord | None:
        """A liaison picked up: the request while their offer is current (they hear the whisper;
        if another takes the request now, their call is redirected rather than cut)."""
        rec = self.offer_is_current(request_id, offer_id)
        if rec is not None:
            ttl = offer_rounds.key_ttl(self.ctx.settings.retention_seconds)
            offer_rounds.answered(self.ctx.redis, request_id, offer_id, liaison_id, ttl)
        return rec

    def taken_by_another(self, request_id: str, liaison_id: str) -> bool:
        """The request has an interpreter, and not this liaison: what a liaison too late hears."""
        rec = self.store.get(request_id)
        return bool(rec and rec.state in ON_THE_LINE and rec.handler_id != liaison_id)

    def withdraw_call(self, request_id: str, offer_id: str, liaison_id: str, call_sid: str) -> None:
        """The withdraw_offer job: a liaison hearing the whisper of a request another interpreter
        has taken hears so (the offer's TwiML, which now says it); cut if that is refused."""
        try:
            self.ctx.telephony.redirect(
                call_sid, self.ctx.urls(paths.OFFER, request=request_id, offer=offer_id, liaison=liaison_id)
            )
        except TelephonyError as exc:
            log.warning("request %s: could not tell liaison %s it was taken: %s", request_id, liaison_id, exc)
            self.call_ends.hang_up(request_id, call_sid)

    def offer_reply(self, request_id: str, offer_id: str, liaison_id: str, digits: str, call_sid: str) -> OfferAnswer:
        """The liaison pressed a key during the whisper: 1 accepts, 2 declines."""
        if digits == "1":
            liaison = self.ctx.roster.liaison(liaison_id)
            before = self.store.get(request_id)
            out = self.store.apply(
                request_id,
                "liaison_connected",
                guard=("offer_id", offer_id),
                fields={
                    "handler_kind": "liaison",
                    "handler_id": liaison_id,
                    "handler_name": liaison.name if liaison else "",
                    "handler_call": call_sid,
                    "connected_at": clock.now(),
                    **OFFER_CLEARED,
                    # A vendor dial under way (the hedge) is no longer the request's: hung up below, or
                    # by its own webhook when it answers (its token is gone).
                    "vendor_token": None,
                    "vendor_call": None,
                },
                data={"liaison": liaison_id},
                deadline=None,
            )
            if out.applied:
                self.ctx.liaisons.mark_on_call(liaison_id, request_id)
                offer_settled(self.ctx, liaison_id, "accepted", out.record)
                # The others of the round hear it was taken and are free at once (not a missed offer).
                stop_round(self.ctx, _with_round(out.record, offer_id), keep=liaison_id)
                if before is not None and before.vendor_call:
                    self.ctx.jobs.submit("hang_up", request_id, before.vendor_call)
                log.info("request %s: liaison %s accepted", request_id, liaison_id)
                return OfferAnswer(OfferReply.ACCEPTED, out.record)
            again = already_connected(self.ctx, request_id, call_sid)
            if again is not None:
                return OfferAnswer(OfferReply.ACCEPTED, again)  # the same accept delivered again: join again
            return OfferAnswer(OfferReply.GONE, None)  # whoever moved the request on has freed the liaison
        if digits == "2":
            self.end_offer(request_id, offer_id, liaison_id, "declined", phone_live=True)
            return OfferAnswer(OfferReply.DECLINED, None)
        current = self.offer_is_current(request_id, offer_id)
        return OfferAnswer(OfferReply.ASK_AGAIN if current else OfferReply.GONE, current)

    def end_offer(
        self,
        request_id: str,
        offer_id: str,
        liaison_id: str,
        outcome: str,
        keep_place: bool = False,
        phone_live: bool = False,
    ) -> RequestRecord | None:
        """The offer did not end in an accept: free the liaison, try the next one. The record
        (queued again), or None when the offer had already ended. In a round of several
        liaisons (PARALLEL_OFFERS) only the last one's end moves the request on.

        `phone_live`: the liaison is still on the offer call (they pressed 2 and hear
        "Declined"); they are freed when that call reports its end (offer_call_ended), or
        by the sweeper once an offer's longest life has passed, so no new offer rings them
        mid-call.
        """
        left = offer_rounds.drop(self.ctx.redis, request_id, offer_id, liaison_id)
        if left < 0:
            return None  # this offer had already ended
        if left > 0:
            self._free(liaison_id, request_id, keep_place, phone_live)
            log.info("request %s: liaison %s %s (%d still ringing)", request_id, liaison_id, outcome, left)
            offer_settled(self.ctx, liaison_id, outcome, self.store.get(request_id))
            return None
        rec = self.offer_is_current(request_id, offer_id)
        if rec is not None and rec.vendor_token:  # the vendor is being dialled already (the hedge)
            self._free(liaison_id, request_id, keep_place, phone_live)
            offer_settled(self.ctx, liaison_id, outcome, rec)
            return self.vendor.hedge_carries_on(rec, f"liaison {outcome}")
        out = self.store.apply(
            request_id,
            "offer_ended",
            guard=("offer_id", offer_id),
            fields=OFFER_CLEARED,
            data={"liaison": liaison_id, "outcome": outcome},
            deadline=clock.now() + self.ctx.settings.queued_stuck_after,
        )
        if not out.applied:
            return None
        self._free(liaison_id, request_id, keep_place, phone_live)
        log.info("request %s: liaison %s %s", request_id, liaison_id, outcome)
        self.ctx.jobs.submit("route", request_id)  # the officer's next offer is queued before the liaison's text
        offer_settled(self.ctx, liaison_id, outcome, out.record)
        return out.record

    def _free(self, liaison_id: str, request_id: str, keep_place: bool, phone_live: bool) -> None:
        if phone_live:
            self.ctx.liaisons.hold(liaison_id, request_id)
        else:
            self.ctx.liaisons.release(liaison_id, request_id, keep_place=keep_place, only_if=(RINGING,))

    def time_out(self, rec: RequestRecord) -> RequestRecord | None:
        """The sweeper: an offer round outlived its longest life (its callbacks lost): stop
        its phones, and the next round or the vendor."""
        stop_round(self.ctx, rec, inline=True, keep_place=False)
        return self.end_offer(rec.id, rec.offer_id, rec.offer_liaison, "timeout")

    def offer_call_ended(self, request_id: str, offer_id: str, liaison_id: str, call_sid: str, status: str) -> None:
        """Status callback for a liaison's leg: no answer/busy/failed, or hung up."""
        if status in NOT_ANSWERED:
            self.end_offer(request_id, offer_id, liaison_id, status)
        elif status != "completed":
            self._learn_offer_call(request_id, offer_id, liaison_id, call_sid)
            return
        else:
            rec = self.store.get(request_id)
            if rec and rec.handler_call == call_sid:
                self.call_ends.interpreter_left(rec, call_sid)
            else:
                self.end_offer(request_id, offer_id, liaison_id, "no-accept")
        # The phone is free now: a liaison still held for this request (they declined) is
        # released, unless a newer offer of the same request rings them (sergeant's "offer again").
        rec = self.store.get(request_id)
        if not (rec and rec.state == State.OFFERING and rec.offer_liaison == liaison_id and rec.offer_id != offer_id):
            withdrawn = offer_rounds.was_withdrawn(self.ctx.redis, request_id, offer_id, liaison_id)
            self.ctx.liaisons.release(liaison_id, request_id, keep_place=withdrawn, only_if=(RINGING,))

    def _learn_offer_call(self, request_id: str, offer_id: str, liaison_id: str, call_sid: str) -> None:
        """A progress callback of the current offer's call: remember its sid if the worker
        that placed it never could (it died, or the create timed out after Twilio placed
        it), so an abandon or a move to the vendor can still stop that phone."""
        rec = self.offer_is_current(request_id, offer_id)
        if (
            rec is None
            or not call_sid
            or offer_rounds.members(self.ctx.redis, request_id, offer_id).get(liaison_id) != ""
        ):
            return
        self.store.link_call(call_sid, request_id, "offer", liaison_id)
        offer_rounds.set_call(self.ctx.redis, request_id, offer_id, liaison_id, call_sid)
        if rec.offer_liaison == liaison_id and not rec.offer_call and self.offer_is_current(request_id, offer_id):
            self.store.set_fields(request_id, {"offer_call": call_sid})


def _with_round(rec: RequestRecord | None, offer_id: str) -> RequestRecord:
    """`rec` as it was offered: an accept clears the round's token from the record."""
    assert rec is not None
    return replace(rec, offer_id=offer_id)
