"""Offers: a queued request rung to the next liaison who speaks its language, and the offer's end.

Liaison first (DESIGN.md, Routing): an on-duty, idle liaison whose languages include the
request's, longest idle first, claimed atomically (two workers never offer one liaison two
calls). The offer rings their phone with a whisper that asks for a key, so a voicemail never
counts as an answer. Declined, unanswered or timed out: the next liaison; after the liaison
window, or with nobody left, the vendor bridge (vendor_bridge.py).

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
from dispatch.availability import unavailable_for_calls
from dispatch.call_ends import CallEnds
from dispatch.context import Service
from dispatch.legs import already_connected, dial_error, new_token
from dispatch.liaisons import RINGING
from dispatch.missed_offers import offer_settled
from dispatch.records import OFFER_CLEARED, RequestRecord
from dispatch.ringing import stop_round
from dispatch.roster import Liaison
from dispatch.settings import DispatchSettings, offer_bound
from dispatch.states import ON_THE_LINE, State
from dispatch.telephony import NOT_ANSWERED, CallRequest, TelephonyError
from dispatch.vendor_bridge import VendorBridge

log = logging.getLogger("dispatch.offers")


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


def window_end(s: DispatchSettings, rec: RequestRecord) -> float:
    """When the liaison window of `rec` closes: after that, only the vendor."""
    return rec.waiting_since + s.liaison_window


def hedge_at(s: DispatchSettings, rec: RequestRecord) -> float | None:
    """When the vendor is dialled while liaisons still ring (VENDOR_HEDGE_AFTER); None: not for `rec`
    (off, urgent, or already dialled once)."""
    if s.vendor_hedge_after <= 0 or rec.urgent or rec.vendor_attempt:
        return None
    return rec.waiting_since + s.vendor_hedge_after


def offer_deadline(s: DispatchSettings, rec: RequestRecord, offer_at: float) -> float:
    """When the sweeper looks at an offering request again: the round's end, the window's, the hedge."""
    hedge = hedge_at(s, rec)
    return min(offer_at + offer_bound(s), window_end(s, rec), hedge if hedge is not None else float("inf"))


@dataclass(eq=False)
class Offers(Service):
    vendor: VendorBridge
    call_ends: CallEnds

    def route(self, request_id: str) -> RequestRecord | None:
        """Offer a queued request to the next liaison, or send it to the vendor; the record as
        it left it (None: it was not queued, nothing done)."""
        rec = self.store.get(request_id)
        if rec is None or rec.state != State.QUEUED:
            return None
        now = clock.now()
        settings = self.ctx.settings
        if rec.urgent:
            return self.vendor.to_vendor(rec, "urgent")
        if not rec.language:
            return self.vendor.to_vendor(rec, "language unknown")
        if now >= window_end(settings, rec):
            return self.vendor.to_vendor(rec, "liaison window closed")
        # Who is free first: in a surge nobody is, and then that one read is all it takes.
        free = self.ctx.liaisons.available_now()
        candidates = self.candidates(rec.language, exclude=self.store.tried(request_id), among=free) if free else []
        candidates = [c for c in candidates if c.suits(rec.gender)]  # a female (male) interpreter asked for
        claimed = self._claim(request_id, [c.id for c in candidates], settings.parallel_offers)
        if not claimed:
            return self.vendor.to_vendor(rec, "no liaison available")
        offer_id = new_token()
        deadline = offer_deadline(settings, rec, now)
        first = claimed[0]
        out = self.store.apply(
            request_id,
            "offer",
            fields={
                "offer_id": offer_id,
                "offer_liaison": first.id,
                "offer_at": now,
                "offer_call": None,
                **({} if rec.dialled_at else {"dialled_at": now}),
            },
            data={"liaison": first.id, "name": first.name, "ringing": [liaison.id for liaison in claimed]},
            deadline=deadline,
        )
        if not out.applied or out.record is None:
            for liaison in claimed:
                self.ctx.liaisons.release(liaison.id, request_id, keep_place=True, only_if=(RINGING,))
            return None
        offer_rounds.start(self.ctx.redis, request_id, offer_id, [liaison.id for liaison in claimed])
        for liaison in claimed:
            self.store.mark_tried(request_id, liaison.id)
        for liaison in claimed:
            self._ring(rec, offer_id, liaison)
        hedge = hedge_at(settings, out.record)
        if hedge is not None and clock.now() >= hedge:
            return self.vendor.hedge(out.record) or out.record
        return out.record

    def _claim(self, request_id: str, candidates: list[str], n: int) -> list[Liaison]:
        """Up to `n` of `candidates`, longest idle first, each claimed atomically (PARALLEL_OFFERS)."""
        claimed: list[Liaison] = []
        left = list(candidates)
        while left and len(claimed) < n:
            liaison_id = self.ctx.liaisons.claim(left, request_id)
            liaison = self.ctx.roster.liaison(liaison_id) if liaison_id else None
            if liaison is None:
                break
            claimed.append(liaison)
            left.remove(liaison.id)
        return claimed

    def _ring(self, rec: RequestRecord, offer_id: str, liaison: Liaison) -> None:
        request_id = rec.id
        where = dict(request=request_id, offer=offer_id, liaison=liaison.id)
        urls = self.ctx.urls
        try:
            sid = self.ctx.telephony.place_call(
                CallRequest(
                    to=liaison.phone,
                    from_=self.ctx.roster.service_number,
                    url=urls(paths.OFFER, **where),
                    status_callback=urls(paths.OFFER_STATUS, **where),
                    timeout=self.ctx.settings.liaison_ring_timeout,
                )
            )
        except TelephonyError as exc:
            log.warning("request %s: could not ring liaison %s: %s", request_id, liaison.id, exc)
            dial_error(self.ctx, request_id, liaison.id, exc)
            if not exc.maybe_placed:
                self.end_offer(request_id, offer_id, liaison.id, "dial-failed", keep_place=True)
            return
        self.store.link_call(sid, request_id, "offer", liaison.id)
        offer_rounds.set_call(self.ctx.redis, request_id, offer_id, liaison.id, sid)
        current = self.offer_is_current(request_id, offer_id)
        if current is not None and current.offer_liaison == liaison.id:
            self.store.set_fields(request_id, {"offer_call": sid})
        log.info("request %s: ringing liaison %s (%s)", request_id, liaison.name, rec.language_name)

    def candidates(
        self, language: str, exclude: set[str] | None = None, among: set[str] | None = None
    ) -> list[Liaison]:
        """On-duty liaisons who speak `language` today, not yet offered this request
        (and, if `among` is given, only those in it)."""
        roster = [
            liaison
            for liaison in self.ctx.roster.liaisons
            if (among is None or liaison.id in among) and not (exclude and liaison.id in exclude)
        ]
        statuses = {s.id: s for s in self.ctx.liaisons.statuses([liaison.id for liaison in roster])} if roster else {}
        now = clock.utc_datetime()
        held = unavailable_for_calls(self.ctx, [liaison.id for liaison in roster], now.timestamp())
        out = []
        for liaison in roster:
            if liaison.id in held:  # paused after missed offers, or booked for an event
                continue
            status = statuses[liaison.id]
            speaks = status.languages_override if status.languages_override is not None else liaison.languages
            if language not in speaks:
                continue
            on = {"on": True, "off": False}.get(status.duty_override)
            if on is None:
                on = liaison.on_duty_at(now)
            if on:
                out.append(liaison)
        return out

    def offer_is_current(self, request_id: str, offer_id: str) -> RequestRecord | None:
        """The request, while offer `offer_id` is still the one ringing for it."""
        rec = self.store.get(request_id)
        return rec if rec and rec.state == State.OFFERING and rec.offer_id == offer_id else None

    def offer_answered(self, request_id: str, offer_id: str, liaison_id: str) -> RequestRecord | None:
        """A liaison picked up: the request while their offer is current (they hear the whisper;
        if another takes the request now, their call is redirected rather than cut)."""
        rec = self.offer_is_current(request_id, offer_id)
        if rec is not None:
            offer_rounds.answered(self.ctx.redis, request_id, offer_id, liaison_id)
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
