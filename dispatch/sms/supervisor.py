"""A supervisor's texts: HELP, CODES, commands on their own requests (own_requests.py), and the
request itself: a language (with URGENT, a callback number, the interpreter wanted, an incident
number) becomes a NEW request whose call-back (callback.py) joins its conference.

A language the service is not sure of is confirmed first ("Reply YES"); what the texts asked for
so far is kept between them (pending.py), never the text itself. A repeat of an open request is
answered with it, not doubled.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import phonenumbers

from dispatch.context import Service
from dispatch.intake import Intake
from dispatch.phone import mask
from dispatch.records import RequestRecord
from dispatch.roster import Caller, Supervisor
from dispatch.settings import callback_bound
from dispatch.sms import replies, report_replies
from dispatch.sms.ask import Ask
from dispatch.sms.duty import CODES_SHOWN
from dispatch.sms.own_requests import OwnRequests
from dispatch.sms.parse import Parsed, read_language
from dispatch.sms.pending import PendingTexts
from dispatch.states import State

log = logging.getLogger("dispatch.sms")

# The kinds of number a texted callback number may not be (phonenumbers' classification).
_NEVER_CALLED = (
    phonenumbers.PhoneNumberType.PREMIUM_RATE,
    phonenumbers.PhoneNumberType.SHARED_COST,
    phonenumbers.PhoneNumberType.UAN,
    phonenumbers.PhoneNumberType.PAGER,
)


@dataclass(eq=False)
class SupervisorTexts(Service):
    intake: Intake
    own: OwnRequests
    pending: PendingTexts

    def answer(self, supervisor: Supervisor, number: str, p: Parsed) -> str:
        """The reply to a supervisor's text (`number` is their phone, E.164)."""
        command = p.command
        if command == "HELP":
            return replies.HELP
        if command == "CODES":
            return replies.codes(self.ctx.catalog.top(CODES_SHOWN))
        if command == "STATUS":
            return self.own.status(number, p.args[0] if p.args else None)
        if command == "CANCEL":
            return self.own.cancel(number, p.args[0] if p.args else None)
        if command == "ID":
            return self.own.interpreter_id(supervisor, number, *p.args)
        pending = self.pending.take(number) if command in ("YES", "NO") else None
        if command == "YES":
            if pending is None or not pending.get("language"):
                return replies.NOTHING_TO_CONFIRM
            language = self.ctx.catalog.get(pending["language"])
            if language is None:
                return replies.NOTHING_TO_CONFIRM
            # YES confirms the number kept with the language: one in this text is not read.
            ask = replace(Ask.over(pending, p), language=language, callback=pending.get("callback", ""))
            return self._request(supervisor, number, ask)
        if command == "NO" and pending is not None:
            return replies.DECLINED
        # Anything else (ON/OFF from a supervisor, "no" with nothing pending) is read as a language.
        return self._language(supervisor, number, p)

    def _language(self, supervisor: Supervisor, number: str, p: Parsed) -> str:
        """A text naming a language (or not yet): request it, confirm it, or ask which one."""
        if p.callback_invalid or (p.callback and not self._may_call(p.callback)):
            return replies.BAD_CALLBACK
        if p.incident_invalid:
            return report_replies.BAD_INCIDENT
        ask = Ask.over(self.pending.peek(number), p)
        if p.unknown_language:
            return self._request(supervisor, number, ask)
        if not p.language_text:
            self.pending.remember(number, ask)
            return replies.NEED_LANGUAGE
        choice = read_language(self.ctx.catalog, p.language_text)
        log.info(
            "text from %s read as %s %s (%s)",
            mask(number),
            choice.kind,
            choice.language.id if choice.language else "-",
            choice.via or "-",
        )
        if choice.kind == "request" and choice.language is not None:
            return self._request(supervisor, number, replace(ask, language=choice.language))
        if choice.kind == "confirm" and choice.language is not None:
            self.pending.remember(number, replace(ask, language=choice.language))
            if choice.via == "detected":
                return replies.confirm_detected(choice.language)
            return replies.confirm_near_miss(choice.language)
        self.pending.remember(number, ask)
        if choice.kind == "choose":
            return replies.choose(choice.choices)
        return replies.not_recognised(choice.choices)

    def _request(self, supervisor: Supervisor, number: str, ask: Ask) -> str:
        """Open a NEW request and ask a worker to call back; a repeat of an open one is not doubled."""
        self.pending.forget(number)
        language_id = ask.language.id if ask.language else None
        for rec in self.own.open_for(number):
            if rec.waiting and rec.language == language_id and self._same_callback(rec, ask.callback):
                return replies.already(rec)
        caller = Caller(number, "supervisor", supervisor.precinct, supervisor.id)
        rec = self.intake.open_request(
            caller,
            ask.language,
            urgent=ask.urgent,
            channel="sms",
            callback_number=ask.callback,
            state=State.NEW,
            gender=ask.gender,
            incident=ask.incident,
        )
        # The sweeper fails it if the call back is never answered (Sweeper.review).
        self.store.set_deadline(rec.id, rec.created_at + callback_bound(self.ctx.settings) + 0.01)
        self.ctx.jobs.submit("call_back", rec.id)
        return replies.requested(rec, ask.callback)

    def _same_callback(self, rec: RequestRecord, callback: str) -> bool:
        """Whether `rec` calls back `callback` (once dialled, a record holds only its hash)."""
        if rec.callback_number == callback:
            return True
        return bool(callback) and rec.callback_key == self.ctx.pseudonyms.of(callback)

    def _may_call(self, e164: str) -> bool:
        """Only numbers in the service number's country, and never premium-rate ones: a
        texted callback number must not be a way to run up charges."""
        try:
            number = phonenumbers.parse(e164, None)
            home = phonenumbers.parse(self.ctx.roster.service_number, None).country_code
        except phonenumbers.NumberParseException:
            return False
        return number.country_code == home and phonenumbers.number_type(number) not in _NEVER_CALLED
