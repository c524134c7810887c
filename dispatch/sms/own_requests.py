"""A supervisor's texts about requests already opened: STATUS, CANCEL and `ID R00012 4711`.

Each acts only on the sender's own requests (the record's caller is the texting phone): a request
number from someone else's request gets the same answer as one that does not exist.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from dispatch import events
from dispatch.context import Service
from dispatch.intake import Intake
from dispatch.phone import mask
from dispatch.records import RequestRecord
from dispatch.report_facts import Fact, ReportFacts, Saved
from dispatch.roster import Supervisor
from dispatch.sergeant import SergeantActions
from dispatch.sms import replies, report_replies
from dispatch.sms.pending import PendingTexts
from dispatch.states import State

log = logging.getLogger("dispatch.sms")


@dataclass(eq=False)
class OwnRequests(Service):
    intake: Intake
    sergeant: SergeantActions
    pending: PendingTexts
    report: ReportFacts

    def open_for(self, number: str) -> list[RequestRecord]:
        """The sender's open requests, newest first."""
        store = self.store
        mine = [rec for rec in store.get_many(store.open_ids()) if rec.caller == number and not rec.finished]
        return sorted(mine, key=lambda rec: rec.created_at, reverse=True)

    def _find(self, number: str, request_id: str | None) -> RequestRecord | None:
        """The sender's request `request_id`, or without one their newest open request."""
        if request_id:
            rec = self.store.get(request_id)
            return rec if rec is not None and rec.caller == number else None
        mine = self.open_for(number)
        return mine[0] if mine else None

    def status(self, number: str, request_id: str | None) -> str:
        rec = self._find(number, request_id)
        if rec is None:
            return replies.NO_OPEN
        place = self.intake.position(rec) if rec.state == State.QUEUED else None
        return replies.status(rec, place)

    def cancel(self, number: str, request_id: str | None) -> str:
        rec = self._find(number, request_id)
        if rec is None:
            return replies.NO_OPEN
        self.pending.forget(number)
        if not rec.waiting:
            return replies.cannot_cancel(rec)
        if self.sergeant.cancel(rec.id, "cancelled by text") is None:
            fresh = self.store.get(rec.id) or rec
            return replies.cannot_cancel(fresh)
        ringing = rec.callback_call
        if rec.state == State.NEW and ringing:
            self.ctx.jobs.submit("hang_up", rec.id, ringing)  # a webhook never waits on the phone network
        events.audit(self.ctx.redis, rec.unit or mask(number), "cancel", rec.id, "done by text")
        log.info("request %s cancelled by text from %s", rec.id, mask(number))
        return replies.cancelled(rec)

    def interpreter_id(self, supervisor: Supervisor, number: str, request_id: str, value: str) -> str:
        """`ID R00012 4711`: the interpreter's ID on one of the sender's own requests."""
        if not value:
            return report_replies.BAD_ID
        if self._find(number, request_id) is None:
            return report_replies.not_yours(request_id)
        saved = self.report.record(request_id, Fact.INTERPRETER_ID, value, supervisor.id)
        if saved.saved == Saved.GONE:
            return report_replies.not_yours(request_id)
        return report_replies.id_recorded(
            request_id, saved.value, replaced=bool(saved.old) and saved.old != saved.value
        )
