"""Intake: a request is opened, queued for routing, retried; and where it stands in line.

Every method is safe to call twice: Twilio may deliver a webhook again, and a job may run
twice. Each returns the record as it left it, so the webhook that called it answers from
that record without reading it again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from dispatch import clock
from dispatch.context import Service
from dispatch.languages import Language
from dispatch.phone import mask
from dispatch.pseudonyms import kept_number
from dispatch.records import RequestRecord
from dispatch.roster import Caller
from dispatch.states import State

log = logging.getLogger("dispatch.intake")

SAME_DELIVERY_WAIT = 2.0  # seconds a redelivered confirmation waits for the first one's request


@dataclass(eq=False)
class Intake(Service):
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
        gender: str = "",
        incident: str = "",
    ) -> RequestRecord:
        """Create a request; a queued one is routed at once by a worker.

        For a voice call this is idempotent per (CallSid, previous): Twilio may
        deliver the confirming webhook twice, and the officer must not be queued twice.
        """
        delivery = f"{officer_call}:{previous}"
        if officer_call and not self.ctx.deliveries.claim("open", delivery):
            opened = self.ctx.deliveries.outcome("open", delivery, wait=SAME_DELIVERY_WAIT)
            existing = self.store.get(opened) if opened else None
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
                "gender": gender or None,  # None: no field at all (most requests)
                "incident": incident or None,
            },
            state=state,
        )
        if officer_call:
            self.ctx.deliveries.settle("open", delivery, record.id)
        if officer_call:
            self.store.link_call(officer_call, record.id, "officer")
        log.info(
            "request %s opened: %s, %s, precinct %s, caller %s%s%s",
            record.id,
            channel,
            record.language_name,
            caller.precinct,
            mask(caller.number),
            " URGENT" if urgent else "",
            f", {gender} interpreter asked for" if gender else "",
        )
        if state == State.QUEUED:
            self.store.set_deadline(record.id, clock.now() + self.ctx.settings.queued_stuck_after)
            self.ctx.jobs.submit("route", record.id)
        return record

    def start(self, request_id: str, officer_call: str) -> RequestRecord | None:
        """A NEW request's caller has joined its conference (SMS call-back answered): queue it."""
        self.store.link_call(officer_call, request_id, "officer")
        now = clock.now()
        out = self.store.apply(
            request_id,
            "queue",
            fields={"officer_call": officer_call, "queued_at": now},
            deadline=now + self.ctx.settings.queued_stuck_after,
        )
        if out.applied:
            self.ctx.jobs.submit("route", request_id)
            return out.record
        return self.store.get(request_id)

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
            gender=rec.gender,  # another interpreter for the same interview
            incident=rec.incident,
        )

    def position(self, rec: RequestRecord) -> int:
        """Place in line among waiting requests for the same language (1 = next): one read of
        the language's line (requests.py), whatever the number of open requests."""
        ahead = self.store.place_in_line(rec)
        if ahead is None:  # waiting since before the line was kept (a deploy): count the slow way
            others = self.store.get_many(self.store.open_ids())
            ahead = sum(
                1
                for o in others
                if o.waiting and o.language == rec.language and o.id != rec.id and o.waiting_since < rec.waiting_since
            )
        return ahead + 1
