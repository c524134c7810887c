"""Offers: a queued request rung to the next liaisons who speak its language.

Liaison first (DESIGN.md, Routing): an on-duty, idle liaison whose languages include the
request's, longest idle first, claimed atomically (two workers never offer one liaison two
calls). The offer rings their phone with a whisper that asks for a key, so a voicemail never
counts as an answer. Their answer and the offer's end are offer_outcomes.py's: declined,
unanswered or timed out queues the request here again for the next liaison; after the liaison
window, or with nobody left, the vendor bridge (vendor_bridge.py).

The offer is written through a guarded transition (requests.py) that only a queued request
passes, so two routings of one request never both ring.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from dispatch import clock, offer_rounds
from dispatch import urls as paths
from dispatch.availability import unavailable_for_calls
from dispatch.context import Service
from dispatch.legs import dial_error, new_token
from dispatch.liaisons import RINGING
from dispatch.offer_outcomes import OfferOutcomes
from dispatch.records import RequestRecord
from dispatch.roster import Liaison
from dispatch.settings import DispatchSettings, offer_bound
from dispatch.states import State
from dispatch.telephony import CallRequest, TelephonyError
from dispatch.vendor_bridge import VendorBridge

log = logging.getLogger("dispatch.offers")


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
    """Who is rung for a queued request, and ringing them; what they answer is OfferOutcomes'."""

    vendor: VendorBridge
    outcomes: OfferOutcomes  # a round that could not be dialled ends there, as any other end

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
        ttl = offer_rounds.key_ttl(self.ctx.settings.retention_seconds)
        offer_rounds.start(self.ctx.redis, request_id, offer_id, [liaison.id for liaison in claimed], ttl)
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
                self.outcomes.end_offer(request_id, offer_id, liaison.id, "dial-failed", keep_place=True)
            return
        self.store.link_call(sid, request_id, "offer", liaison.id)
        offer_rounds.set_call(self.ctx.redis, request_id, offer_id, liaison.id, sid)
        current = self.outcomes.offer_is_current(request_id, offer_id)
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
