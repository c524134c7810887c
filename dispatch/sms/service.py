"""Texted requests: a supervisor's text becomes a request whose call-back joins its conference.

`SmsService.handle` answers one inbound text and returns the reply; the webhook only
wraps it in TwiML. It tells who is texting and hands the text on: a supervisor's to
supervisor.py (their commands on open requests to own_requests.py), a liaison's (duty) to
duty.py; the call-back is callback.py. The rules they keep:

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
from dataclasses import dataclass

from dispatch import rate_limit
from dispatch.booking_desk import BookingDesk
from dispatch.context import Service
from dispatch.phone import mask, to_e164
from dispatch.sms import replies
from dispatch.sms.duty import LiaisonTexts
from dispatch.sms.parse import MAX_BODY, parse
from dispatch.sms.supervisor import SupervisorTexts

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

    liaisons: LiaisonTexts
    supervisors: SupervisorTexts

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
        return self.supervisors.answer(supervisor, number, parsed)


def _normalise(sender: str) -> str:
    """Twilio sends E.164; anything else is normalised, or kept as-is (and matches nobody)."""
    raw = (sender or "").strip()[:40]
    if not raw:
        return ""
    try:
        return to_e164(raw)
    except ValueError:
        return raw
