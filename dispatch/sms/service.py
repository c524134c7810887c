"""Texted requests: a supervisor's text becomes a request whose call-back joins its conference.

`SmsService.handle` answers one inbound text and returns the reply; the webhook only
wraps it in TwiML. A liaison's texts (duty) are answered by duty.py, the call-back is
callback.py. The rules it keeps:

- The same MessageSid is handled once: the first reply is kept (dispatch.deliveries)
  and every redelivery gets it back, with nothing new queued.
- An unregistered number is refused politely and audited (counted per hour), without
  its text or number; rate limits count senders by a keyed hash (dispatch.pseudonyms), so
  it is never written down.
- Free text is never stored: a request record holds the language id; a pending
  confirmation holds the language id, the URGENT flag and the E.164 callback number.
- A texted callback number that is not in the roster (a scene's phone) is kept in full
  only until it is dialled: then the record holds it masked, with a keyed hash to spot a
  repeated request (dispatch.pseudonyms); replies show it masked.
- Phone numbers appear masked in every log line.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

import phonenumbers

from dispatch import events, rate_limit
from dispatch.booking_desk import BookingDesk
from dispatch.context import Service
from dispatch.intake import Intake
from dispatch.phone import mask, to_e164
from dispatch.records import RequestRecord
from dispatch.report_facts import Fact, ReportFacts, Saved
from dispatch.roster import Caller, Supervisor
from dispatch.sergeant import SergeantActions
from dispatch.settings import callback_bound
from dispatch.sms import replies, report_replies
from dispatch.sms.ask import Ask
from dispatch.sms.duty import CODES_SHOWN, LiaisonTexts
from dispatch.sms.parse import MAX_BODY, Parsed, parse, read_language
from dispatch.sms.pending import PendingTexts
from dispatch.states import State

log = logging.getLogger("dispatch.sms")

REPLY_TTL = 24 * 3600  # how long a MessageSid's reply is kept for redeliveries
_DUPLICATE_WAIT = 3.0  # seconds a concurrent redelivery waits for the first reply


@dataclass(frozen=True)
class Inbound:
    """One inbound text as Twilio posts it (only the fields the service uses)."""

    sender: str
    body: str
    message_sid: str = ""
    num_media: int = 0


@dataclass(eq=False)
class SmsService(Service):
    """Answers texts from supervisors (requests, commands) and liaisons (duty)."""

    intake: Intake
    sergeant: SergeantActions
    liaisons: LiaisonTexts = field(init=False)
    pending: PendingTexts = field(init=False)
    report: ReportFacts = field(init=False)

    def __post_init__(self) -> None:
        self.liaisons = LiaisonTexts(self.ctx)
        self.pending = PendingTexts(self.ctx.redis)
        self.report = ReportFacts(self.ctx)

    # ---------------------------------------------------------------- entry point
    def handle(self, msg: Inbound) -> str:
        """The reply to `msg`; a redelivered MessageSid gets the first reply, nothing redone."""
        msg = Inbound(msg.sender, (msg.body or "")[:MAX_BODY], msg.message_sid[:64], msg.num_media)
        sid, deliveries = msg.message_sid, self.ctx.deliveries
        if sid and not deliveries.claim("sms", sid, ttl=REPLY_TTL):
            log.info("text %s from %s delivered again; answering as before", sid[:12], mask(msg.sender))
            # None: the first delivery failed (Twilio's retry will redo it), or is still at work.
            return deliveries.outcome("sms", sid, wait=_DUPLICATE_WAIT) or replies.IN_PROGRESS
        try:
            reply = self._handle(msg)
        except Exception:
            if sid:
                deliveries.release("sms", sid)  # let a retry do the work
            raise
        if sid:
            deliveries.settle("sms", sid, reply, ttl=REPLY_TTL)
        return reply

    def _handle(self, msg: Inbound) -> str:
        number = _normalise(msg.sender)
        settings = self.ctx.settings
        if not rate_limit.allow(
            self.ctx.redis,
            "sms",
            self.ctx.pseudonyms.of(number),
            settings.caller_rate_limit,
            settings.caller_rate_window,
        ):
            log.warning(
                "text from %s refused: over %d texts in %ds",
                mask(number),
                settings.caller_rate_limit,
                settings.caller_rate_window,
            )
            return replies.TOO_MANY
        supervisor = self.ctx.roster.supervisor_by_cell(number) if number else None
        liaison = self.ctx.roster.liaison_by_phone(number) if number else None
        if supervisor is None and liaison is None:
            # One audit entry per hour with a count, whoever texts: strangers cannot flood the log.
            self.ctx.audit.refused("sms_request", "unregistered numbers", "", "refused: unregistered number")
            log.info("text from unregistered %s refused", mask(msg.sender))
            return replies.UNREGISTERED
        parsed = parse(msg.body)
        log.info(
            "text from %s (%s): %d chars, %d media, command %s",
            mask(number),
            supervisor.id if supervisor else liaison.id if liaison else "",
            len(parsed.text),
            msg.num_media,
            parsed.command or "-",
        )
        if parsed.empty:
            if msg.num_media > 0:
                return replies.PICTURE
            return replies.EMPTY if supervisor else replies.LIAISON_HELP
        drop_out = BookingDesk.cancel_text(parsed.text) is not None  # CANCEL <booking no.>, not a request
        if liaison is not None and (supervisor is None or parsed.command in ("ON", "OFF") or drop_out):
            return self.liaisons.answer(liaison, parsed)
        assert supervisor is not None
        return self._supervisor(supervisor, number, parsed)

    # ---------------------------------------------------------------- supervisors
    def _supervisor(self, supervisor: Supervisor, number: str, p: Parsed) -> str:
        command = p.command
        if command == "HELP":
            return replies.HELP
        if command == "CODES":
            return replies.codes(self.ctx.catalog.top(CODES_SHOWN))
        if command == "STATUS":
            return self._status(number, p.args[0] if p.args else None)
        if command == "CANCEL":
            return self._cancel(number, p.args[0] if p.args else None)
        if command == "ID":
            return self._interpreter_id(supervisor, number, *p.args)
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
        for rec in self._open_for(number):
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
        self.ctx.requests.set_deadline(rec.id, rec.created_at + callback_bound(self.ctx.settings) + 0.01)
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
        kind = phonenumbers.number_type(number)
        return number.country_code == home and kind not in (
            phonenumbers.PhoneNumberType.PREMIUM_RATE,
            phonenumbers.PhoneNumberType.SHARED_COST,
            phonenumbers.PhoneNumberType.UAN,
            phonenumbers.PhoneNumberType.PAGER,
        )

    def _open_for(self, number: str) -> list[RequestRecord]:
        """The sender's open requests, newest first."""
        store = self.ctx.requests
        mine = [rec for rec in store.get_many(store.open_ids()) if rec.caller == number and not rec.finished]
        return sorted(mine, key=lambda rec: rec.created_at, reverse=True)

    def _find(self, number: str, request_id: str | None) -> RequestRecord | None:
        if request_id:
            rec = self.ctx.requests.get(request_id)
            return rec if rec is not None and rec.caller == number else None
        mine = self._open_for(number)
        return mine[0] if mine else None

    def _status(self, number: str, request_id: str | None) -> str:
        rec = self._find(number, request_id)
        if rec is None:
            return replies.NO_OPEN
        place = self.intake.position(rec) if rec.state == State.QUEUED else None
        return replies.status(rec, place)

    def _cancel(self, number: str, request_id: str | None) -> str:
        rec = self._find(number, request_id)
        if rec is None:
            return replies.NO_OPEN
        self.pending.forget(number)
        if not rec.waiting:
            return replies.cannot_cancel(rec)
        if self.sergeant.cancel(rec.id, "cancelled by text") is None:
            fresh = self.ctx.requests.get(rec.id) or rec
            return replies.cannot_cancel(fresh)
        ringing = rec.callback_call
        if rec.state == State.NEW and ringing:
            self.ctx.jobs.submit("hang_up", rec.id, ringing)  # a webhook never waits on the phone network
        events.audit(self.ctx.redis, rec.unit or mask(number), "cancel", rec.id, "done by text")
        log.info("request %s cancelled by text from %s", rec.id, mask(number))
        return replies.cancelled(rec)

    def _interpreter_id(self, supervisor: Supervisor, number: str, request_id: str, value: str) -> str:
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


def _normalise(sender: str) -> str:
    """Twilio sends E.164; anything else is normalised, or kept as-is (and matches nobody)."""
    raw = (sender or "").strip()[:40]
    if not raw:
        return ""
    try:
        return to_e164(raw)
    except ValueError:
        return raw
