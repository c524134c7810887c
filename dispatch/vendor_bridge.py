"""The vendor bridge: dialled with the account, PIN and language code sent as DTMF, the
alternate number when the main one fails, and the request failed when both have.

Every step is a guarded transition named by the dial's token (`vendor_token`): a status
callback of an earlier dial changes nothing.

The hedge (VENDOR_HEDGE_AFTER): the vendor dialled while liaisons still ring, the request
still `offering`. The first interpreter into the room stays: the vendor's call reaching it
(its DTMF sent) withdraws the liaisons' offers; a liaison's accept first hangs the vendor's
call up before its DTMF is through (no interpreter minutes), offers.py. When every liaison
has said no, or the window closes, the dial already under way simply carries on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from dispatch import clock
from dispatch import urls as paths
from dispatch.call_ends import CallEnds
from dispatch.context import Service
from dispatch.counters import VENDOR_DIAL_FAILURES
from dispatch.legs import already_connected, dial_error, hang_up, new_token
from dispatch.phone import mask
from dispatch.records import OFFER_CLEARED, RequestRecord
from dispatch.ringing import stop_round
from dispatch.settings import vendor_bound
from dispatch.sms.notices import tell_texter_it_failed
from dispatch.states import State
from dispatch.telephony import NOT_ANSWERED, CallRequest, TelephonyError

log = logging.getLogger("dispatch.vendor")


@dataclass(eq=False)
class VendorBridge(Service):
    call_ends: CallEnds

    def to_vendor(self, rec: RequestRecord, reason: str) -> RequestRecord | None:
        """Dial the vendor bridge (main number first), cutting any ringing liaison. The record
        (vendor_dialing), or None when it had moved on from the state `rec` shows."""
        if rec.state == State.OFFERING and rec.vendor_token:
            return self.hedge_carries_on(rec, reason, inline=True)
        token = new_token()
        now = clock.now()
        # Only from the state `rec` shows: if another worker has offered it meanwhile, that
        # offer's liaison (ringing, unknown to `rec`) must not be left held with no request.
        guard = ("offer_id", rec.offer_id) if rec.state == State.OFFERING else ("state", rec.state.value)
        out = self.store.apply(
            rec.id,
            "vendor_dial",
            guard=guard,
            fields={
                **self._dial_fields(rec, token, "main", now),
                **OFFER_CLEARED,
                **({} if rec.dialled_at else {"dialled_at": now}),
            },
            data={"reason": reason},
            deadline=now + vendor_bound(self.ctx.settings),
        )
        if out.record is None:
            return None
        if out.previous == State.OFFERING:
            stop_round(self.ctx, rec, inline=True, keep_place=False)
        log.info("request %s: to the vendor (%s)", rec.id, reason)
        self._dial(out.record, token, self.ctx.roster.vendor.number)
        return out.record

    def hedge(self, rec: RequestRecord) -> RequestRecord | None:
        """Dial the vendor while the liaisons of `rec`'s offer round still ring (once a request)."""
        if rec.state != State.OFFERING or rec.vendor_attempt or rec.urgent:
            return None
        # route() and the sweeper may both hedge from records read before either did: the guard
        # below checks only the offer, so a once-marker keeps it to one vendor dial.
        if not self.ctx.deliveries.first("hedge", rec.id):
            return None
        token, now = new_token(), clock.now()
        out = self.store.apply(
            rec.id,
            "vendor_hedge",
            guard=("offer_id", rec.offer_id),
            fields=self._dial_fields(rec, token, "hedge", now),
            data={"after": round(now - rec.waiting_since, 1)},
        )
        if out.record is None:
            self.ctx.deliveries.release("hedge", rec.id)  # the offer had moved on: a later round may hedge
            return None
        log.info("request %s: vendor dialled while liaisons ring", rec.id)
        self._dial(out.record, token, self.ctx.roster.vendor.number)
        return out.record

    def hedge_carries_on(self, rec: RequestRecord, reason: str, inline: bool = False) -> RequestRecord | None:
        """No liaison took `rec` (all said no, or the window closed) while the vendor was already
        being dialled: that dial goes on; the phones left in the round are stopped."""
        out = self.store.apply(
            rec.id,
            "vendor_dial",
            guard=("offer_id", rec.offer_id),
            fields=OFFER_CLEARED,
            data={"reason": reason, "hedged": True},
            deadline=(rec.vendor_at or clock.now()) + vendor_bound(self.ctx.settings),
        )
        if out.record is not None:
            stop_round(self.ctx, rec, inline=inline, keep_place=False)
        return out.record

    def dtmf(self, language: str | None, gender: str = "") -> str:
        """The DTMF sequence the vendor's IVR expects: account, PIN, language code, and the
        interpreter preference where its bridge takes one (otherwise nothing for it)."""
        vendor = self.ctx.roster.vendor
        code = vendor.unknown_language_code
        found = self.ctx.catalog.get(language) if language else None
        if language and found is not None:
            code = vendor.language_codes.get(language) or found.vendor_code
        return vendor.dtmf_for(code, vendor.gender_code(gender) or "")

    def dial_vendor(self, request_id: str, token: str) -> None:
        """Place the vendor call a transition asked for (vendor_failed → the alternate).

        It runs as a job: these transitions happen in Twilio's status callbacks, and a webhook
        never waits on the phone network.
        """
        rec = self.store.get(request_id)
        if rec is None or rec.state != State.VENDOR_DIALING or rec.vendor_token != token or rec.vendor_call:
            return
        vendor = self.ctx.roster.vendor
        number = vendor.alternate if rec.vendor_attempt == "alternate" and vendor.alternate else vendor.number
        self._dial(rec, token, number)

    def _dial_fields(self, rec: RequestRecord, token: str, attempt: str, now: float) -> dict[str, object]:
        """A vendor dial's fields on the record (main number or hedge); a preference the vendor's
        bridge has no option for is noted, so the officer hears it in the hold loop."""
        fields: dict[str, object] = {
            "vendor_token": token,
            "vendor_attempt": attempt,
            "vendor_at": now,
            "vendor_call": None,
        }
        if self.ctx.roster.vendor.gender_code(rec.gender) is None:
            fields["gender_unsent"] = True
        return fields

    def _dial(self, rec: RequestRecord, token: str, number: str) -> None:
        urls = self.ctx.urls
        where = dict(request=rec.id, dial=token)
        try:
            sid = self.ctx.telephony.place_call(
                CallRequest(
                    to=number,
                    from_=self.ctx.roster.service_number,
                    url=urls(paths.VENDOR, **where),
                    status_callback=urls(paths.VENDOR_STATUS, **where),
                    timeout=self.ctx.settings.vendor_ring_timeout,
                    send_digits=self.dtmf(rec.language, rec.gender),
                    # Only the final status: vendor_call_ended acts on nothing else.
                    status_events=("completed",),
                )
            )
        except TelephonyError as exc:
            log.warning("request %s: vendor dial to %s failed: %s", rec.id, mask(number), exc)
            dial_error(self.ctx, rec.id, "vendor", exc)
            if not exc.maybe_placed:
                self.vendor_failed(rec.id, token, "dial-failed")
            return
        self.store.link_call(sid, rec.id, "vendor", fields={"vendor_call": sid})
        current = self.store.get(rec.id)
        if current is None or current.vendor_token != token:  # a liaison took it while this dial was placed (the hedge)
            hang_up(self.ctx, rec.id, sid)

    def vendor_answered(self, request_id: str, token: str, call_sid: str) -> RequestRecord | None:
        """The vendor picked up and has received the DTMF: the record to join its room with
        (connected), or None when this dial is no longer the request's."""
        rec = self.store.get(request_id)
        if rec is None:
            return None
        out = self.store.apply(
            request_id,
            "vendor_connected",
            guard=("vendor_token", token),
            fields={
                "handler_kind": "vendor",
                "handler_id": "vendor",
                "handler_name": self.ctx.roster.vendor.name,
                "handler_call": call_sid,
                "connected_at": clock.now(),
                **(OFFER_CLEARED if rec.state == State.OFFERING else {}),
            },
            data={"attempt": rec.vendor_attempt},
            deadline=None,
        )
        if out.record is not None:
            if out.previous == State.OFFERING:
                stop_round(self.ctx, rec)  # a hedge came first: the liaisons' offers are withdrawn
            log.info("request %s: vendor connected", request_id)
            return out.record
        return already_connected(self.ctx, request_id, call_sid)  # a redelivery joins again

    def vendor_call_ended(self, request_id: str, token: str, call_sid: str, status: str) -> None:
        rec = self.store.get(request_id)
        if rec is None:
            return
        if status == "completed" and rec.handler_call == call_sid:
            self.call_ends.interpreter_left(rec, call_sid)
        elif status in NOT_ANSWERED or status == "completed":
            self.vendor_failed(request_id, token, status if status != "completed" else "hung-up-before-joining")

    def vendor_failed(self, request_id: str, token: str, outcome: str) -> RequestRecord | None:
        """Main number failed → the alternate; both failed → the request fails. The record as
        it left it (None: this dial was no longer the request's)."""
        rec = self.store.get(request_id)
        if rec is not None and rec.state == State.OFFERING and rec.vendor_token == token:
            out = self.store.apply(
                request_id,
                "hedge_failed",
                guard=("vendor_token", token),
                fields={"vendor_token": None, "vendor_call": None, "vendor_attempt": "hedge-failed"},
                data={"outcome": outcome},
            )
            return out.record  # the liaisons ring on; the window's end dials the vendor afresh
        if rec is None or rec.state != State.VENDOR_DIALING or rec.vendor_token != token:
            return None
        if rec.vendor_attempt in ("main", "hedge") and self.ctx.roster.vendor.alternate:
            new = new_token()
            now = clock.now()
            out = self.store.apply(
                request_id,
                "vendor_retry",
                guard=("vendor_token", token),
                fields={
                    "vendor_token": new,
                    "vendor_attempt": "alternate",
                    "vendor_at": now,
                    "vendor_call": None,
                },
                data={"outcome": outcome},
                deadline=now + vendor_bound(self.ctx.settings),
            )
            if out.record is not None:
                self.ctx.counters.add(VENDOR_DIAL_FAILURES, outcome)
                log.info("request %s: vendor main number %s, trying the alternate", request_id, outcome)
                self.ctx.jobs.submit("dial_vendor", request_id, new)
            return out.record
        out = self.store.apply(
            request_id,
            "fail",
            guard=("vendor_token", token),
            fields={"outcome": f"vendor {outcome}"},
            data={"outcome": outcome},
            deadline=None,
        )
        if out.record is not None:
            self.ctx.counters.add(VENDOR_DIAL_FAILURES, outcome)
            log.warning("request %s: FAILED, no interpreter reachable (%s)", request_id, outcome)
            self.ctx.jobs.submit("tell_caller", request_id, paths.FAILED)
            tell_texter_it_failed(self.ctx, out.record)
        return out.record
