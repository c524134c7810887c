"""Routing: liaison first, the vendor bridge when no liaison takes the call in time.

Every method is safe to call twice and in any order: each one moves the request
through a guarded transition (see requests.py), and only the call that actually
moved it goes on to place calls or free liaisons. A late, duplicate or
out-of-order callback therefore finds the guard closed and changes nothing.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from enum import Enum
from typing import Callable

from config.phone import mask
from config.roster import Liaison
from config.settings import Settings
from dispatch import clock, events, keys
from dispatch import urls as paths
from dispatch.context import Context
from dispatch.languages import Language
from dispatch.liaisons import ON_CALL, RINGING
from dispatch.pseudonyms import kept_number
from dispatch.records import RequestRecord
from dispatch.rejoin import Rejoin
from dispatch.states import ON_THE_LINE, State
from dispatch.telephony import CallRequest, TelephonyError

log = logging.getLogger("dispatch.routing")

FAILED_STATUSES = {"no-answer", "busy", "failed", "canceled"}
_REQUEST_FIELDS_ON_OFFER_END = {"offer_id": None, "offer_liaison": None, "offer_call": None, "offer_at": None}


class OfferReply(str, Enum):
    ACCEPTED = "accepted"
    DECLINED = "declined"
    ASK_AGAIN = "ask_again"
    GONE = "gone"  # the request moved on (taken, abandoned, sent to the vendor)


@dataclass(frozen=True)
class Caller:
    """Who is asking: resolved from the calling number, a text, or a precinct PIN."""

    number: str
    kind: str  # "precinct" | "supervisor" | "pin"
    precinct: str
    unit: str = ""


def _token() -> str:
    return secrets.token_hex(6)


class Dispatcher:
    """The request lifecycle services; webhooks and jobs call these and nothing lower."""

    def __init__(self, ctx: Context, on_failed: Callable[[RequestRecord], None] | None = None):
        self.ctx = ctx
        self.s = ctx.settings
        self.store = ctx.requests
        self.board = ctx.liaisons
        self.on_failed = on_failed
        self.rejoin = Rejoin(ctx)

    # ---------------------------------------------------------------- opening
    def open_request(
        self,
        caller: Caller,
        language: Language | None,
        urgent: bool = False,
        channel: str = "voice",
        officer_call: str = "",
        callback_number: str = "",
        previous: str = "",
        state: State = State.QUEUED,
    ) -> RequestRecord:
        """Create a request; a queued one is routed at once by a worker.

        For a voice call this is idempotent per (CallSid, previous): Twilio may
        deliver the confirming webhook twice, and the officer must not be queued twice.
        """
        once = keys.once("open", f"{officer_call}:{previous}") if officer_call else None
        if once and not self.ctx.redis.set(once, "pending", nx=True, ex=self.s.retention_seconds):
            existing = self._opened_by(once)
            if existing:
                return existing
        record = self.store.create(
            {
                "channel": channel,
                "language": language.id if language else "",
                "language_name": language.name if language else "Unknown language",
                "urgent": urgent,
                # A PIN caller's phone is not the department's: the record keeps it masked, so
                # nothing may rely on calling it back from here (the live call's From is Twilio's).
                "caller": kept_number(self.ctx.roster, caller.number),
                "caller_kind": caller.kind,
                "precinct": caller.precinct,
                "unit": caller.unit,
                "officer_call": officer_call,
                "callback_number": callback_number,
                "previous": previous,
            },
            state=state,
        )
        if once:
            self.ctx.redis.set(once, record.id, ex=self.s.retention_seconds)
        if officer_call:
            self.store.link_call(officer_call, record.id, "officer")
        log.info(
            "request %s opened: %s, %s, precinct %s, caller %s%s",
            record.id,
            channel,
            record.language_name,
            caller.precinct,
            mask(caller.number),
            " URGENT" if urgent else "",
        )
        if state == State.QUEUED:
            self._queued(record.id)
        return record

    def _opened_by(self, once: str, wait: float = 2.0) -> RequestRecord | None:
        """The request a concurrent delivery of the same webhook is creating (or created)."""
        deadline = clock.now() + wait
        while clock.now() < deadline:
            value = self.ctx.redis.get(once)
            if value and value != b"pending":
                return self.store.get(value.decode())
            time.sleep(0.02)
        return None

    def start(self, request_id: str, officer_call: str) -> RequestRecord | None:
        """A NEW request's caller has joined its conference (SMS call-back answered)."""
        self.store.link_call(officer_call, request_id, "officer")
        out = self.store.apply(
            request_id,
            "queue",
            fields={"officer_call": officer_call, "queued_at": clock.now()},
            deadline=clock.now() + self.s.queued_stuck_after,
        )
        if out.applied:
            self.ctx.jobs.submit("route", request_id)
        return self.store.get(request_id)

    def _queued(self, request_id: str) -> None:
        self.store.set_deadline(request_id, clock.now() + self.s.queued_stuck_after)
        self.ctx.jobs.submit("route", request_id)

    # ---------------------------------------------------------------- routing
    def route(self, request_id: str) -> None:
        """Offer a queued request to the next liaison, or send it to the vendor."""
        rec = self.store.get(request_id)
        if rec is None or rec.state != State.QUEUED:
            return
        now = clock.now()
        if rec.urgent:
            return self.to_vendor(rec, "urgent")
        if not rec.language:
            return self.to_vendor(rec, "language unknown")
        if self._window_closed(rec, now):
            return self.to_vendor(rec, "liaison window closed")
        # Who is free first: in a surge nobody is, and then that one read is all it takes.
        free = self.board.available_now()
        candidates = self.candidates(rec.language, exclude=self.store.tried(request_id), among=free) if free else []
        liaison_id = self.board.claim([c.id for c in candidates], request_id)
        if liaison_id is None:
            return self.to_vendor(rec, "no liaison available")
        liaison = self.ctx.roster.liaison(liaison_id)
        offer_id = _token()
        deadline = min(now + self._offer_bound(), self._window_end(rec))
        out = self.store.apply(
            request_id,
            "offer",
            fields={
                "offer_id": offer_id,
                "offer_liaison": liaison_id,
                "offer_at": now,
                "offer_call": None,
            },
            data={"liaison": liaison_id, "name": liaison.name},
            deadline=deadline,
        )
        if not out.applied:
            self.board.release(liaison_id, request_id, keep_place=True, only_if=(RINGING,))
            return
        self.store.mark_tried(request_id, liaison_id)
        u = self.ctx.urls
        q = dict(r=request_id, o=offer_id, l=liaison_id)
        try:
            sid = self.ctx.telephony.place_call(
                CallRequest(
                    to=liaison.phone,
                    from_=self.ctx.roster.service_number,
                    url=u(paths.OFFER, **q),
                    status_callback=u(paths.OFFER_STATUS, **q),
                    timeout=self.s.liaison_ring_timeout,
                )
            )
        except TelephonyError as exc:
            log.warning("request %s: could not ring liaison %s: %s", request_id, liaison_id, exc)
            self._dial_error(request_id, liaison_id, exc)
            if not exc.maybe_placed:
                self.end_offer(request_id, offer_id, liaison_id, "dial-failed", keep_place=True)
            return
        self.store.link_call(sid, request_id, "offer", liaison_id)
        if self.offer_is_current(request_id, offer_id):
            self.store.set_fields(request_id, {"offer_call": sid})
        log.info("request %s: ringing liaison %s (%s)", request_id, liaison.name, rec.language_name)

    def candidates(
        self, language: str, exclude: set[str] | None = None, among: set[str] | None = None
    ) -> list[Liaison]:
        """On-duty liaisons who speak `language` today, not yet offered this request
        (and, if `among` is given, only those in it)."""
        roster = [
            l
            for l in self.ctx.roster.liaisons
            if (among is None or l.id in among) and not (exclude and l.id in exclude)
        ]
        statuses = {s.id: s for s in self.board.statuses([l.id for l in roster])} if roster else {}
        now = clock.utc_datetime()
        out = []
        for liaison in roster:
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

    # ---------------------------------------------------------------- liaison offers
    def offer_is_current(self, request_id: str, offer_id: str) -> RequestRecord | None:
        rec = self.store.get(request_id)
        return rec if rec and rec.state == State.OFFERING and rec.offer_id == offer_id else None

    def offer_reply(self, request_id: str, offer_id: str, liaison_id: str, digits: str, call_sid: str) -> OfferReply:
        """The liaison pressed a key during the whisper: 1 accepts, 2 declines."""
        if digits == "1":
            liaison = self.ctx.roster.liaison(liaison_id)
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
                    **_REQUEST_FIELDS_ON_OFFER_END,
                },
                data={"liaison": liaison_id},
                deadline=None,
            )
            if out.applied:
                self.board.mark_on_call(liaison_id, request_id)
                log.info("request %s: liaison %s accepted", request_id, liaison_id)
                return OfferReply.ACCEPTED
            if self._handled_by(request_id, call_sid):
                return OfferReply.ACCEPTED  # the same accept delivered again: join the room again
            return OfferReply.GONE  # whoever moved the request on has freed the liaison
        if digits == "2":
            self.end_offer(request_id, offer_id, liaison_id, "declined", phone_live=True)
            return OfferReply.DECLINED
        return OfferReply.ASK_AGAIN if self.offer_is_current(request_id, offer_id) else OfferReply.GONE

    def end_offer(
        self,
        request_id: str,
        offer_id: str,
        liaison_id: str,
        outcome: str,
        keep_place: bool = False,
        phone_live: bool = False,
    ) -> bool:
        """The offer did not end in an accept: free the liaison, try the next one.

        `phone_live`: the liaison is still on the offer call (they pressed 2 and hear
        "Declined"); they are freed when that call reports its end (offer_call_ended), or
        by the sweeper once an offer's longest life has passed, so no new offer rings them
        mid-call.
        """
        out = self.store.apply(
            request_id,
            "offer_ended",
            guard=("offer_id", offer_id),
            fields=_REQUEST_FIELDS_ON_OFFER_END,
            data={"liaison": liaison_id, "outcome": outcome},
            deadline=clock.now() + self.s.queued_stuck_after,
        )
        if out.applied:
            if phone_live:
                self.board.hold(liaison_id, request_id)
            else:
                self.board.release(liaison_id, request_id, keep_place=keep_place, only_if=(RINGING,))
            log.info("request %s: liaison %s %s", request_id, liaison_id, outcome)
            self.ctx.jobs.submit("route", request_id)
        return out.applied

    def offer_call_ended(self, request_id: str, offer_id: str, liaison_id: str, call_sid: str, status: str) -> None:
        """Status callback for a liaison's leg: no answer/busy/failed, or hung up."""
        if status in FAILED_STATUSES:
            self.end_offer(request_id, offer_id, liaison_id, status)
        elif status != "completed":
            self._learn_offer_call(request_id, offer_id, liaison_id, call_sid)
            return
        else:
            rec = self.store.get(request_id)
            if rec and rec.extra.get("handler_call") == call_sid:
                self.interpreter_left(rec, call_sid)
            else:
                self.end_offer(request_id, offer_id, liaison_id, "no-accept")
        # The phone is free now: a liaison still held for this request (they declined) is
        # released, unless a newer offer of the same request rings them (sergeant's "offer again").
        rec = self.store.get(request_id)
        if not (rec and rec.state == State.OFFERING and rec.offer_liaison == liaison_id and rec.offer_id != offer_id):
            self.board.release(liaison_id, request_id, only_if=(RINGING,))

    # ---------------------------------------------------------------- vendor
    def to_vendor(self, rec: RequestRecord, reason: str) -> None:
        """Dial the vendor bridge (main number first), cutting any ringing liaison."""
        token = _token()
        now = clock.now()
        # Only from the state `rec` shows: if another worker has offered it meanwhile, that
        # offer's liaison (ringing, unknown to `rec`) must not be left held with no request.
        guard = ("offer_id", rec.offer_id) if rec.state == State.OFFERING else ("state", rec.state.value)
        out = self.store.apply(
            rec.id,
            "vendor_dial",
            guard=guard,
            fields={
                "vendor_token": token,
                "vendor_attempt": "main",
                "vendor_at": now,
                "vendor_call": None,
                **_REQUEST_FIELDS_ON_OFFER_END,
            },
            data={"reason": reason},
            deadline=now + self._vendor_bound(),
        )
        if not out.applied:
            return
        if out.previous == State.OFFERING and rec.offer_liaison:
            if rec.offer_call:
                self.hang_up(rec.id, rec.offer_call)
            self.board.release(rec.offer_liaison, rec.id, only_if=(RINGING,))
        log.info("request %s: to the vendor (%s)", rec.id, reason)
        self._dial_vendor(out.record, token, self.ctx.roster.vendor.number)  # type: ignore[arg-type]

    def vendor_dtmf(self, language: str | None) -> str:
        """The DTMF sequence the vendor's IVR expects: account, PIN, language code."""
        vendor = self.ctx.roster.vendor
        code = vendor.unknown_language_code
        if language:
            code = vendor.language_codes.get(language) or self.ctx.catalog.get(language).vendor_code  # type: ignore[union-attr]
        return vendor.dtmf_for(code)

    def dial_vendor(self, request_id: str, token: str) -> None:
        """Place the vendor call a transition asked for (vendor_failed → the alternate).

        It runs as a job: these transitions happen in Twilio's status callbacks, and a
        phone-network call made inside a webhook held a web thread for its whole round
        trip (in a surge of failures the officers' own webhooks queued behind them).
        """
        rec = self.store.get(request_id)
        if (
            rec is None
            or rec.state != State.VENDOR_DIALING
            or rec.extra.get("vendor_token") != token
            or rec.vendor_call
        ):
            return
        vendor = self.ctx.roster.vendor
        number = vendor.alternate if rec.vendor_attempt == "alternate" and vendor.alternate else vendor.number
        self._dial_vendor(rec, token, number)

    def tell_caller(self, request_id: str, path: str) -> None:
        """Redirect the officer's call to `path` (failed / interpreter left): a job, as dial_vendor.

        Raises TelephonyError when the network refuses: the job is then tried again later
        (workers/jobqueue.py), and meanwhile the hold loop tells a waiting officer what
        happened (webhooks/voice_ivr.py hold). A call that has moved on to a newer request
        (the officer already pressed 1) is left where it is.
        """
        rec = self.store.get(request_id)
        if rec is None or not rec.officer_call:
            return
        if self.store.call_link(rec.officer_call).get("request", rec.id) != rec.id:
            return
        self.ctx.telephony.redirect(rec.officer_call, self.ctx.urls(path, r=rec.id))

    def caller_not_told(self, request_id: str) -> None:
        """Every try to redirect the officer's call was refused: from now on the hold loop
        asks a waiting officer to call again instead of promising the retry menu."""
        log.warning("request %s: gave up redirecting the caller", request_id)
        self.store.set_fields(request_id, {"caller_not_told": "1"})

    def _dial_vendor(self, rec: RequestRecord, token: str, number: str) -> None:
        u = self.ctx.urls
        q = dict(r=rec.id, v=token)
        try:
            sid = self.ctx.telephony.place_call(
                CallRequest(
                    to=number,
                    from_=self.ctx.roster.service_number,
                    url=u(paths.VENDOR, **q),
                    status_callback=u(paths.VENDOR_STATUS, **q),
                    timeout=self.s.vendor_ring_timeout,
                    send_digits=self.vendor_dtmf(rec.language),
                    # Only the final status: vendor_call_ended acts on nothing else, and the
                    # initiated/ringing/answered callbacks were 3 of every vendor call's webhooks.
                    status_events=("completed",),
                )
            )
        except TelephonyError as exc:
            log.warning("request %s: vendor dial to %s failed: %s", rec.id, mask(number), exc)
            self._dial_error(rec.id, "vendor", exc)
            if not exc.maybe_placed:
                self.vendor_failed(rec.id, token, "dial-failed")
            return
        self.store.link_call(sid, rec.id, "vendor", fields={"vendor_call": sid})

    def vendor_answered(self, request_id: str, token: str, call_sid: str) -> bool:
        """The vendor picked up and has received the DTMF: join it to the conference."""
        rec = self.store.get(request_id)
        if rec is None:
            return False
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
            },
            data={"attempt": rec.vendor_attempt},
            deadline=None,
        )
        if out.applied:
            log.info("request %s: vendor connected", request_id)
        return out.applied or self._handled_by(request_id, call_sid)  # a redelivery joins again

    def vendor_call_ended(self, request_id: str, token: str, call_sid: str, status: str) -> None:
        rec = self.store.get(request_id)
        if rec is None:
            return
        if status == "completed" and rec.extra.get("handler_call") == call_sid:
            self.interpreter_left(rec, call_sid)
        elif status in FAILED_STATUSES or status == "completed":
            self.vendor_failed(request_id, token, status if status != "completed" else "hung-up-before-joining")

    def vendor_failed(self, request_id: str, token: str, outcome: str) -> None:
        """Main number failed → the alternate; both failed → the request fails."""
        rec = self.store.get(request_id)
        if rec is None or rec.state != State.VENDOR_DIALING or rec.extra.get("vendor_token") != token:
            return
        vendor = self.ctx.roster.vendor
        if rec.vendor_attempt == "main" and vendor.alternate:
            new = _token()
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
                deadline=now + self._vendor_bound(),
            )
            if out.applied:
                log.info("request %s: vendor main number %s, trying the alternate", request_id, outcome)
                self.ctx.jobs.submit("dial_vendor", request_id, new)
            return
        out = self.store.apply(
            request_id,
            "fail",
            guard=("vendor_token", token),
            fields={"outcome": f"vendor {outcome}"},
            data={"outcome": outcome},
            deadline=None,
        )
        if out.applied:
            log.warning("request %s: FAILED, no interpreter reachable (%s)", request_id, outcome)
            self.ctx.jobs.submit("tell_caller", request_id, paths.FAILED)
            if self.on_failed:
                self.on_failed(out.record)  # type: ignore[arg-type]

    # ---------------------------------------------------------------- the officer's side
    def interpreter_left(self, rec: RequestRecord, call_sid: str) -> None:
        """The interpreter hung up: the request is complete; the officer may ask for another
        (or, if the officer's leg had dropped, nobody is left to tell)."""
        if rec.handler_kind == "liaison":
            self.board.release(rec.handler_id, rec.id, wrapup=self.s.wrapup_seconds, only_if=(ON_CALL,))
        out = self.store.apply(rec.id, "complete", data={"ended_by": "interpreter"}, deadline=None)
        if out.applied:
            log.info("request %s: interpreter left after %ss", rec.id, _secs(rec.connected_at))
            if out.previous == State.REJOINING:
                self.rejoin.interpreter_left(out.record)  # type: ignore[arg-type]
            else:
                self.ctx.jobs.submit("tell_caller", rec.id, paths.DROPPED)

    def officer_call_ended(self, call_sid: str) -> RequestRecord | None:
        """The officer's leg ended: abandon a waiting request (stop its ringing calls); with an
        interpreter connected, keep the interpreter for a rejoin (rejoin.py)."""
        link = self.store.call_link(call_sid)
        if not link or link.get("role") != "officer":
            return None
        rec = self.store.get(link["request"])
        if rec is None:
            return None
        if rec.waiting:
            out = self.store.apply(
                rec.id, "abandon", data={"after": _secs(rec.queued_at or rec.created_at)}, deadline=None
            )
            if out.applied:
                log.info("request %s: caller hung up while waiting (%s)", rec.id, rec.state.value)
                self._stop_pending_calls(rec)
        elif rec.state == State.CONNECTED:
            self.rejoin.officer_dropped(rec, call_sid)
        return self.store.get(rec.id)

    def retry(self, request_id: str, call_sid: str) -> RequestRecord | None:
        """The officer pressed 1 after a failure or a dropped interpreter: a fresh request."""
        rec = self.store.get(request_id)
        if rec is None or not rec.finished:
            return rec
        language = self.ctx.catalog.get(rec.language) if rec.language else None
        caller = Caller(rec.caller, rec.caller_kind, rec.precinct, rec.unit)
        return self.open_request(
            caller,
            language,
            urgent=rec.urgent,
            channel=rec.channel,
            officer_call=call_sid,
            callback_number=rec.callback_number,
            previous=rec.id,
        )

    def position(self, rec: RequestRecord) -> int:
        """Place in line among waiting requests for the same language (1 = next)."""
        others = self.store.get_many(self.store.open_ids())
        ahead = [
            o
            for o in others
            if o.waiting
            and o.language == rec.language
            and o.id != rec.id
            and (o.queued_at or o.created_at) < (rec.queued_at or rec.created_at)
        ]
        return len(ahead) + 1

    # ---------------------------------------------------------------- sergeant actions
    def cancel(self, request_id: str, reason: str) -> bool:
        rec = self.store.get(request_id)
        if rec is None:
            return False
        out = self.store.apply(request_id, "cancel", data={"reason": reason}, deadline=None)
        if out.applied:
            self._stop_pending_calls(rec)
            if rec.officer_call:
                self.ctx.jobs.submit("hang_up", rec.id, rec.officer_call)
        return out.applied

    def send_to_vendor_now(self, request_id: str) -> bool:
        rec = self.store.get(request_id)
        if rec is None or rec.state not in (State.QUEUED, State.OFFERING):
            return False
        self.to_vendor(rec, "sent by sergeant")
        return (self.store.get(request_id) or rec).state != rec.state

    def offer_again(self, request_id: str) -> bool:
        """Forget who was already offered it and try the liaisons again."""
        rec = self.store.get(request_id)
        if rec is None or rec.state != State.QUEUED:
            return False
        self.ctx.redis.delete(keys.tried(request_id))
        self.ctx.jobs.submit("route", request_id)
        return True

    # ---------------------------------------------------------------- the sweeper
    def review(self, request_id: str) -> None:
        """Look again at a request whose deadline passed: the safety net for lost
        jobs, killed workers and callbacks that never came."""
        rec = self.store.get(request_id)
        if rec is not None and rec.state == State.REJOINING:
            return self.rejoin.review(rec)
        if rec is None or not rec.waiting:
            self.store.set_deadline(request_id, None)
            return
        now = clock.now()
        if rec.state == State.NEW:
            if now - rec.created_at > self.s.callback_ring_timeout + self.s.grace_seconds:
                if (
                    self.store.apply(
                        rec.id, "fail", fields={"outcome": "call-back not answered"}, deadline=None
                    ).applied
                    and self.on_failed
                ):
                    self.on_failed(self.store.get(rec.id))  # type: ignore[arg-type]
            return
        if rec.state == State.QUEUED:
            self.store.set_deadline(rec.id, min(now + self.s.queued_stuck_after, self._window_end(rec) + 0.01))
            self.route(rec.id)  # its routing was lost (sweep() leaves those still waiting alone)
        elif rec.state == State.OFFERING:
            offer_over = rec.offer_at is not None and now >= rec.offer_at + self._offer_bound()
            if self._window_closed(rec, now):
                self.to_vendor(rec, "liaison window closed")
            elif offer_over:
                if rec.offer_call:
                    self.hang_up(rec.id, rec.offer_call)
                self.end_offer(rec.id, rec.offer_id, rec.offer_liaison, "timeout")
            else:
                self.store.set_deadline(rec.id, min(rec.offer_at + self._offer_bound(), self._window_end(rec)))  # type: ignore[operator]
        elif rec.state == State.VENDOR_DIALING:
            if rec.vendor_at is not None and now >= rec.vendor_at + self._vendor_bound():
                if rec.vendor_call:
                    self.hang_up(rec.id, rec.vendor_call)
                self.vendor_failed(rec.id, rec.extra.get("vendor_token", ""), "timeout")
            else:
                self.store.set_deadline(rec.id, (rec.vendor_at or now) + self._vendor_bound())

    def sweep(self) -> int:
        """Review every overdue request and free liaisons stuck by a crash."""
        now = clock.now()
        due = self.store.due(now)
        # A surge's backlog: requests still waiting for their routing are left to it, in
        # one write (reading each record and asking about each was a fifth of the workers'
        # time in a surge of 1,000).
        waiting = self.ctx.jobs.waiting_ids("route") & set(due) if due else set()
        self.store.postpone(waiting, now + self.s.queued_stuck_after)
        for request_id in due:
            if request_id in waiting:
                continue
            try:
                self.review(request_id)
            except TelephonyError as exc:
                log.warning("sweep: request %s: %s", request_id, exc)
        self.free_stuck_liaisons()
        return len(due)

    def free_stuck_liaisons(self) -> None:
        """A liaison held for a request that is not ringing them (a worker died
        between claim and offer) goes back to the pool after the grace period."""
        now = clock.now()
        for status in self.board.statuses([l.id for l in self.ctx.roster.liaisons]):
            if status.state not in (RINGING, ON_CALL) or (status.since or now) > now - self.s.grace_seconds:
                continue
            rec = self.store.get(status.request) if status.request else None
            if status.state == RINGING and rec and rec.state == State.OFFERING and rec.offer_liaison == status.id:
                continue
            if status.state == RINGING and rec and rec.state in ON_THE_LINE and rec.handler_id == status.id:
                self.board.mark_on_call(status.id, rec.id)  # died between accept and marking
                continue
            if status.state == ON_CALL and rec and rec.state in ON_THE_LINE and rec.handler_id == status.id:
                continue  # on a call, or waiting on the line for their officer to rejoin
            if (
                status.state == RINGING
                and status.request
                and (status.since or now) > now - self._offer_bound()
                and status.id in self.store.tried(status.request)
            ):
                continue  # offered and declined: still on our call until its status callback frees them
            self.board.release(
                status.id,
                status.request,
                wrapup=self.s.wrapup_seconds if status.state == ON_CALL else 0,
                keep_place=status.state == RINGING,
                only_if=(status.state,),
            )
            log.warning("liaison %s was stuck %s for %s; released", status.id, status.state, status.request)

    # ---------------------------------------------------------------- helpers
    def _stop_pending_calls(self, rec: RequestRecord) -> None:
        """Free the ringing liaison now; stop the ringing phones from a job.

        Called from webhooks (the officer hung up, a cancel by text or by a sergeant):
        a webhook never waits on the phone network, whose REST answer takes 100-300 ms
        and, with retries, seconds when it is failing — the web's few threads are for
        the calls coming in.
        """
        if rec.offer_call:
            self.ctx.jobs.submit("hang_up", rec.id, rec.offer_call)
        if rec.offer_liaison:
            self.board.release(rec.offer_liaison, rec.id, keep_place=True, only_if=(RINGING,))
        if rec.vendor_call:
            self.ctx.jobs.submit("hang_up", rec.id, rec.vendor_call)

    def hang_up(self, request_id: str, call_sid: str) -> None:
        """Stop a call (inline in a worker, or as the hang_up job); if the phone network
        refuses after its retries, log it and go on: a failed hang-up must not keep a
        request from moving on or a liaison from being freed (the call's own status
        callback is guarded by the offer or vendor token)."""
        try:
            self.ctx.telephony.hangup(call_sid)
        except TelephonyError as exc:
            log.warning("request %s: could not hang up a call: %s", request_id, exc)

    def _handled_by(self, request_id: str, call_sid: str) -> bool:
        """True when `call_sid` is already the request's connected interpreter."""
        rec = self.store.get(request_id)
        return (
            bool(call_sid)
            and rec is not None
            and rec.state == State.CONNECTED
            and rec.extra.get("handler_call") == call_sid
        )

    def _learn_offer_call(self, request_id: str, offer_id: str, liaison_id: str, call_sid: str) -> None:
        """A progress callback of the current offer's call: remember its sid if the worker
        that placed it never could (it died, or the create timed out after Twilio placed
        it), so an abandon or a move to the vendor can still stop that phone."""
        rec = self.offer_is_current(request_id, offer_id)
        if rec is None or rec.offer_call or not call_sid or rec.offer_liaison != liaison_id:
            return
        self.store.link_call(call_sid, request_id, "offer", liaison_id)
        if self.offer_is_current(request_id, offer_id):
            self.store.set_fields(request_id, {"offer_call": call_sid})

    def _dial_error(self, request_id: str, who: str, exc: TelephonyError) -> None:
        """Put a failed or uncertain dial on the events stream the dashboard reads."""
        events.publish(
            self.ctx.redis,
            "dial_error",
            {"to": who, "status": exc.status, "maybe_placed": exc.maybe_placed},
            request=request_id,
            maxlen=self.s.events_maxlen,
        )

    def _offer_bound(self) -> float:
        return offer_bound(self.s)

    def _vendor_bound(self) -> float:
        return vendor_bound(self.s)

    def _window_end(self, rec: RequestRecord) -> float:
        return (rec.queued_at or rec.created_at) + self.s.liaison_window

    def _window_closed(self, rec: RequestRecord, now: float) -> bool:
        return now >= self._window_end(rec)


def offer_bound(s: Settings) -> float:
    """An offer's longest life: the ring, the whisper asked twice, and the grace period."""
    return s.liaison_ring_timeout + 2 * s.whisper_timeout + s.grace_seconds


def vendor_bound(s: Settings) -> float:
    """A vendor dial's longest life."""
    return s.vendor_ring_timeout + s.grace_seconds


def _secs(since: float | None) -> str:
    return f"{clock.now() - since:.1f}" if since else "?"
